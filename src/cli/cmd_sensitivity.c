/* approxmap sensitivity: per (layer, filter[, kernel]) and allowed multiplier of a CNN problem, the error
 * each multiplier injects into the output channel (estimated from the calibration activations, after
 * the problem's compensation) and the energy it saves, as CSV or YAML, with a per-filter heatmap for one
 * multiplier; --check measures single-layer and single-filter maps and prints the Spearman rank
 * correlations between estimate and measurement. Figures come from sens.h; this file parses and prints. */
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "afile.h"
#include "approx.h"
#include "cmd.h"
#include "cmd_util.h"
#include "datadir.h"
#include "msg.h"
#include "prob.h"
#include "prob_cnn.h"
#include "prob_cnn_ctx.h"
#include "report.h"
#include "sens.h"
#include "status.h"

static void usage(FILE *fp)
{
    fprintf(fp,
            "usage: approxmap sensitivity PROBLEM.yaml [-o FILE] [--format csv|yaml] [--kernels]\n"
            "                             [--heatmap PREFIX] [--mult NAME] [--check N]\n"
            "                             [--check-mult NAME] [--filter-mult NAME] [--threads T]\n\n"
            "Estimate, for every layer, filter (and with --kernels every kernel) of a CNN problem and every\n"
            "allowed multiplier, the error it injects into the output channel and the energy it saves.\n"
            "The error is the variance of M(a, w) - a w over the activation distribution the exact network\n"
            "shows on the calibration images at that input channel, summed over the kernel's taps as if\n"
            "independent (plus the squared mean when the problem has no compensation), scaled by the\n"
            "channel's requantization factor: noise_lsb is its square root in units of the output's\n"
            "quantization step. mean_error is the expected error (accumulator units) that bias compensation\n"
            "removes; energy_saved is a fraction of the exact network's multiplier energy. A layer's row\n"
            "(filter 'all') gives the RMS over its filters and the whole layer's saving.\n\n"
            "  -o, --output FILE  write the table there (atomically); default stdout (not with --check)\n"
            "  -f, --format FMT   csv (default) or yaml\n"
            "      --kernels      also one row per kernel (layer, filter, input channel)\n"
            "      --heatmap P    write P.dat, P.gp and (through gnuplot) P.png: noise_lsb of every filter\n"
            "                     for --mult, layer on x, output channel on y (default with -o: FILE's\n"
            "                     name without extension + _heatmap)\n"
            "      --mult NAME    the heatmap's multiplier (default: the median allowed by energy)\n"
            "      --check N      measure on the first N search images and print rank correlations:\n"
            "                     each layer alone under --check-mult (loss, top-1 flips, logit MSD), each\n"
            "                     filter alone under --filter-mult (flips, logit MSD)\n"
            "      --check-mult NAME  default: --mult\n"
            "      --filter-mult NAME default: the cheapest allowed multiplier\n"
            "  -j, --threads T    threads (default: all cores); results do not depend on it\n"
            "  -h, --help         this help\n");
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* Index j into x->allowed of the multiplier named `name` (reported when absent). */
static int allowed_index(const cnn_ctx *x, const char *name, const char *opt)
{
    for (int j = 0; j < x->n_allowed; j++)
        if (!strcmp(x->cnn.lib.mults[x->allowed[j]].name, name)) return j;
    fprintf(stderr, "approxmap sensitivity: %s '%s' is not an allowed multiplier of the problem\n", opt, name);
    return -1;
}

static void row(FILE *fp, int yaml, const char *layer, const char *filter, const char *kernel, const char *mult,
                double mean, double noise_lsb, double saved)
{
    if (yaml)
        fprintf(fp, "  - {layer: \"%s\", filter: %s, kernel: %s, multiplier: %s, mean_error: %.6g, noise_lsb: %.6g, "
                    "energy_saved: %.6g}\n",
                layer, filter, kernel, mult, mean, noise_lsb, saved);
    else
        fprintf(fp, "%s,%s,%s,%s,%.6g,%.6g,%.6g\n", layer, filter, kernel, mult, mean, noise_lsb, saved);
}

static double filter_mean(const sens_table *t, int l, int32_t co, int j)
{
    double m = 0;
    for (int32_t ci = 0; ci < t->cin[l]; ci++) m += t->kmean[(t->koff[l] + (size_t)co * t->cin[l] + ci) * t->n_mults + j];
    return m;
}

static int write_table(FILE *fp, int yaml, int kernels, const cnn_ctx *x, const sens_table *t, const char *problem)
{
    if (yaml)
        fprintf(fp, "# approxmap sensitivity of %s (src/approx/sens.h): noise_lsb = RMS error injected into the output\n"
                    "# channel, in output quantization steps; mean_error in accumulator units; energy_saved: fraction\n"
                    "# of the exact network's multiplier energy\nproblem: \"%s\"\ncompensated: %s\nrows:\n",
                problem, problem, t->compensated ? "true" : "false");
    else
        fprintf(fp, "layer,filter,kernel,multiplier,mean_error,noise_lsb,energy_saved\n");
    char fbuf[32], kbuf[32];
    for (int l = 0; l < x->cnn.n_layers; l++) {
        const amap_layer *L = &x->cnn.layers[l];
        for (int j = 0; j < t->n_mults; j++) {
            double mean = 0;
            for (int32_t co = 0; co < L->cout; co++) mean += filter_mean(t, l, co, j);
            row(fp, yaml, L->name, "all", "all", x->cnn.lib.mults[t->mults[j]].name, mean / L->cout,
                sqrt(sens_layer_noise(t, l, j)), sens_layer_saved(t, l, j));
        }
        for (int32_t co = 0; co < L->cout; co++) {
            snprintf(fbuf, sizeof fbuf, "%d", (int)co);
            for (int j = 0; j < t->n_mults; j++)
                row(fp, yaml, L->name, fbuf, "all", x->cnn.lib.mults[t->mults[j]].name, filter_mean(t, l, co, j),
                    sqrt(sens_filter_noise(t, l, co, j)), sens_filter_saved(t, l, j));
            if (!kernels) continue;
            for (int32_t ci = 0; ci < L->cin; ci++) {
                snprintf(kbuf, sizeof kbuf, "%d", (int)ci);
                const size_t k = (size_t)co * L->cin + ci;
                for (int j = 0; j < t->n_mults; j++)
                    row(fp, yaml, L->name, fbuf, kbuf, x->cnn.lib.mults[t->mults[j]].name,
                        t->kmean[(t->koff[l] + k) * t->n_mults + j], sqrt(sens_kernel_noise(t, l, k, j)),
                        sens_kernel_saved(t, l, j));
            }
        }
    }
    return ferror(fp) ? ST_EIO : ST_OK;
}

/* PREFIX.dat / PREFIX.gp, then gnuplot for PREFIX.png. Returns ST_OK (also without gnuplot: noted). */
static int write_heatmap(const char *prefix, const cnn_ctx *x, const sens_table *t, int j)
{
    int32_t max_cout = 0;
    for (int l = 0; l < x->cnn.n_layers; l++)
        if (x->cnn.layers[l].cout > max_cout) max_cout = x->cnn.layers[l].cout;
    char *dat = xasprintf("%s.dat", prefix), *gp = xasprintf("%s.gp", prefix);
    const char *mname = x->cnn.lib.mults[t->mults[j]].name;
    int rc = ST_EIO;
    afile *f = afile_open(dat);
    if (f) {
        FILE *fp = afile_stream(f);
        fprintf(fp, "# layer output_channel noise_lsb log10(noise_lsb) under %s (approxmap sensitivity)\n", mname);
        for (int l = 0; l < x->cnn.n_layers; l++)
            for (int32_t co = 0; co < x->cnn.layers[l].cout; co++) {
                const double v = sqrt(sens_filter_noise(t, l, co, j));
                fprintf(fp, "%d %d %.6g %.6g\n", l, (int)co, v, v > 0 ? log10(v) : -6.0);
            }
        rc = afile_commit(f);
    }
    if (rc) goto out;
    /* the script runs in the prefix's directory: name the files by their base names */
    const char *base = strrchr(prefix, '/');
    base = base ? base + 1 : prefix;
    char *text = xasprintf(
        "# approxmap sensitivity: estimated noise of every filter under %s (data: %s.dat)\nreset\n"
        "if (strstrt(GPVAL_TERMINALS, 'pngcairo') > 0) { set terminal pngcairo noenhanced size 960,640 } "
        "else { set terminal png noenhanced size 960,640 }\n"
        "set output '%s.png'\nset title 'estimated error of each filter under %s: log10 RMS in output steps%s'\n"
        "set xlabel 'layer'\nset ylabel 'output channel'\nset cblabel 'log10(noise_lsb)'\n"
        "set xrange [-0.5:%d.5]\nset yrange [-0.5:%d.5]\nset palette rgb 33,13,10\n"
        "plot '%s.dat' using 1:2:(0.5):(0.5):4 with boxxyerror fc palette fs solid notitle\n",
        mname, base, base, mname, t->compensated ? ", after bias compensation" : "", x->cnn.n_layers - 1,
        (int)max_cout - 1, base);
    rc = afile_write_all(gp, text, strlen(text));
    free(text);
    if (rc) goto out;
    char *dir = base == prefix ? xstrdup(".") : xasprintf("%.*s", (int)(base - prefix - 1), prefix);
    char *gpname = xasprintf("%s.gp", base);
    int g = report_gnuplot(*dir ? dir : "/", gpname);
    if (g == 127)
        fprintf(stderr, "approxmap sensitivity: gnuplot not found: wrote %s and %s (plot with gnuplot)\n", dat, gp);
    else if (g)
        msg_warn("gnuplot failed on '%s' (exit %d); see '%s/gnuplot.log'", gp, g, dir);
    else {
        char *log = xasprintf("%s/gnuplot.log", *dir ? dir : "");
        unlink(log);
        free(log);
        fprintf(stderr, "approxmap sensitivity: heatmap %s.png (%s)\n", prefix, mname);
    }
    free(gpname);
    free(dir);
out:
    free(dat);
    free(gp);
    return rc;
}

static void print_spearman(const char *what, const double *est, const double *meas, size_t n)
{
    printf("  Spearman(estimate, %s) = %+.3f  (n = %zu)\n", what, sens_spearman(est, meas, n), n);
}

static int run_check(cnn_ctx *x, const approx_comp *comp, const sens_table *t, int32_t n_img, int jl, int jf,
                     int threads)
{
    cifar_set sub = x->search_set;
    if (n_img < sub.n) sub.n = n_img;
    const int nl = x->cnn.n_layers;
    printf("check: %d images of the search subset, %s\n", (int)sub.n,
           comp ? "maps compensated as the problem's" : "no compensation");
    double t0 = now();
    sens_measured ml, mf;
    int rc = sens_measure(x->cnn.net, x->cnn.layers, &x->cnn.lib, comp, &sub, AMAP_LAYER, x->allowed[jl], threads, &ml);
    if (rc) return rc;
    double t1 = now();
    printf("\nlayers, one at a time under %s (%.1f s); exact int8 %d/%d correct\n", x->cnn.lib.mults[x->allowed[jl]].name,
           t1 - t0, (int)ml.exact_correct, (int)ml.n_images);
    printf("  %-3s %-24s %12s %9s %7s %9s\n", "L", "layer", "noise_lsb", "loss_pp", "flips", "logit_msd");
    double *est = xmalloc((size_t)(nl > 0 ? nl : 1) * sizeof *est), *loss = xmalloc((size_t)(nl > 0 ? nl : 1) * sizeof *loss);
    double *fl = xmalloc((size_t)(nl > 0 ? nl : 1) * sizeof *fl);
    for (int l = 0; l < nl; l++) {
        est[l] = sens_layer_noise(t, l, jl);
        loss[l] = approx_loss_pp(ml.exact_correct, ml.correct[l], ml.n_images);
        fl[l] = ml.flips[l];
        printf("  %-3d %-24s %12.4g %9.2f %7d %9.4f\n", l, x->cnn.layers[l].name, sqrt(est[l]), loss[l], (int)ml.flips[l],
               ml.msd[l]);
    }
    print_spearman("loss", est, loss, (size_t)nl);
    print_spearman("top-1 flips", est, fl, (size_t)nl);
    print_spearman("logit MSD", est, ml.msd, (size_t)nl);
    free(est);
    free(loss);
    free(fl);

    t0 = now();
    rc = sens_measure(x->cnn.net, x->cnn.layers, &x->cnn.lib, comp, &sub, AMAP_FILTER, x->allowed[jf], threads, &mf);
    if (rc) {
        sens_measured_deinit(&ml);
        return rc;
    }
    t1 = now();
    const size_t nf = (size_t)mf.n_units;
    est = xmalloc(nf * sizeof *est);
    fl = xmalloc(nf * sizeof *fl);
    for (int l = 0, u = 0; l < nl; l++)
        for (int32_t co = 0; co < x->cnn.layers[l].cout; co++, u++) {
            est[u] = sens_filter_noise(t, l, co, jf);
            fl[u] = mf.flips[u];
        }
    printf("\nfilters, one at a time under %s (%.1f s, %zu filters)\n", x->cnn.lib.mults[x->allowed[jf]].name, t1 - t0, nf);
    printf("  all filters pooled:\n");
    print_spearman("top-1 flips", est, fl, nf);
    print_spearman("logit MSD", est, mf.msd, nf);
    printf("  within each layer (the ranked encoding's order):\n  %-3s %-24s %6s %12s %12s\n", "L", "layer", "n",
           "rho(flips)", "rho(MSD)");
    double sum_f = 0, sum_m = 0, wsum = 0;
    for (int l = 0, u = 0; l < nl; l++) {
        const size_t n = (size_t)x->cnn.layers[l].cout;
        const double rf = sens_spearman(est + u, fl + u, n), rm = sens_spearman(est + u, mf.msd + u, n);
        printf("  %-3d %-24s %6zu %+12.3f %+12.3f\n", l, x->cnn.layers[l].name, n, rf, rm);
        if (isfinite(rf) && isfinite(rm)) {
            sum_f += rf * (double)n;
            sum_m += rm * (double)n;
            wsum += (double)n;
        }
        u += (int)n;
    }
    if (wsum > 0)
        printf("  filter-weighted mean within layers: rho(flips) %+.3f, rho(MSD) %+.3f\n", sum_f / wsum, sum_m / wsum);
    free(est);
    free(fl);
    sens_measured_deinit(&ml);
    sens_measured_deinit(&mf);
    return ST_OK;
}

int cmd_sensitivity(int argc, char **argv)
{
    static const struct option opts[] = {
        {"output", required_argument, NULL, 'o'}, {"format", required_argument, NULL, 'f'},
        {"kernels", no_argument, NULL, 'k'},      {"heatmap", required_argument, NULL, 'H'},
        {"mult", required_argument, NULL, 'm'},   {"check", required_argument, NULL, 'c'},
        {"check-mult", required_argument, NULL, 'C'}, {"filter-mult", required_argument, NULL, 'F'},
        {"threads", required_argument, NULL, 'j'}, {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0}};
    const char *out = NULL, *heat = NULL, *mult = NULL, *cmult = NULL, *fmult = NULL;
    int yaml = 0, kernels = 0, c;
    int32_t check = 0, threads = 0;
    optind = 1;
    while ((c = getopt_long(argc, argv, "o:f:j:h", opts, NULL)) != -1) {
        switch (c) {
        case 'o': out = optarg; break;
        case 'f':
            if (!strcmp(optarg, "yaml")) yaml = 1;
            else if (!strcmp(optarg, "csv")) yaml = 0;
            else {
                fprintf(stderr, "approxmap sensitivity: unknown format '%s' (csv or yaml)\n", optarg);
                return CMD_EXIT_USAGE;
            }
            break;
        case 'k': kernels = 1; break;
        case 'H': heat = optarg; break;
        case 'm': mult = optarg; break;
        case 'C': cmult = optarg; break;
        case 'F': fmult = optarg; break;
        case 'c':
            if (cmd_parse_count("sensitivity", "--check", optarg, &check)) return CMD_EXIT_USAGE;
            if (check < 1) {
                fprintf(stderr, "approxmap sensitivity: --check needs at least one image\n");
                return CMD_EXIT_USAGE;
            }
            break;
        case 'j':
            if (cmd_parse_count("sensitivity", "--threads", optarg, &threads)) return CMD_EXIT_USAGE;
            break;
        case 'h': usage(stdout); return CMD_EXIT_OK;
        default: usage(stderr); return CMD_EXIT_USAGE;
        }
    }
    if (optind != argc - 1) {
        usage(stderr);
        return CMD_EXIT_USAGE;
    }
    const char *problem = argv[optind];
    const double t_start = now();
    prob_spec spec;
    if (prob_load(&spec, problem)) return CMD_EXIT_FAIL;
    if (spec.type != &prob_type_cnn) {
        msg_error(ST_EFORMAT, "%s: a '%s' problem; sensitivity needs a CNN problem (type: cnn)", problem, spec.type->name);
        prob_spec_deinit(&spec);
        return CMD_EXIT_FAIL;
    }
    cnn_ctx *x = NULL;
    sens_table t = {0};
    approx_comp own = {0};
    double **fs = NULL;
    int rc = cnn_ctx_open(&spec, 1, 0, threads, &x), exit_code = CMD_EXIT_FAIL;
    if (rc) goto out;
    int jm = mult ? allowed_index(x, mult, "--mult") : -1;
    if (!mult) { /* the median allowed multiplier by energy, the exact one left out */
        int n = 0, *na = xmalloc((size_t)x->n_allowed * sizeof *na);
        for (int j = 0; j < x->n_allowed; j++)
            if (!x->cnn.lib.mults[x->allowed[j]].is_exact) na[n++] = j;
        jm = n ? na[n / 2] : 0;
        free(na);
    }
    const int jc = cmult ? allowed_index(x, cmult, "--check-mult") : jm;
    const int jf = fmult ? allowed_index(x, fmult, "--filter-mult") : 0;
    if (jm < 0 || jc < 0 || jf < 0) {
        exit_code = CMD_EXIT_USAGE;
        goto out;
    }
    const approx_comp *dist = &x->cnn.comp;
    if (!x->cnn.has_comp) { /* no compensation in the problem: measure the distributions here */
        cifar_set cal = {0};
        const cnn_spec *cs = spec.data;
        if ((rc = cifar_load_range(cs->calibration, &cal))) goto out;
        rc = approx_comp_init(&own, x->cnn.net, x->cnn.layers, &x->cnn.lib, &cal, 1, threads);
        cifar_set_deinit(&cal);
        if (rc) goto out;
        dist = &own;
    }
    const double t_ctx = now();
    fs = sens_fscale_from_net(x->cnn.net);
    sens_input in = {.layers = x->cnn.layers, .n_layers = x->cnn.n_layers, .lib = &x->cnn.lib, .mults = x->allowed,
                     .n_mults = x->n_allowed, .act_p = (const double *const *)dist->act_p,
                     .per_channel = dist->per_channel, .fscale = (const double *const *)fs,
                     .compensated = x->compensate >= 0, .e_layer = x->cnn.has_em ? x->cnn.em.e_layer : NULL,
                     .e_exact = x->cnn.has_em ? x->cnn.em.e_exact : NULL};
    if ((rc = sens_compute(&t, &in, threads))) goto out;
    const double t_sens = now();
    fprintf(stderr, "approxmap sensitivity: %d layers, %zu filters, %zu kernels, %d multipliers; problem set-up %.1f s, "
                    "estimate %.2f s\n", x->cnn.n_layers, t.foff[x->cnn.n_layers], t.koff[x->cnn.n_layers], t.n_mults,
            t_ctx - t_start, t_sens - t_ctx);
    if (out) {
        afile *f = afile_open(out);
        if (!f) goto out;
        if (write_table(afile_stream(f), yaml, kernels, x, &t, problem)) {
            afile_abort(f);
            msg_error(ST_EIO, "%s: write failed", out);
            goto out;
        }
        if (afile_commit(f)) goto out;
    } else if (!check) {
        if (write_table(stdout, yaml, kernels, x, &t, problem)) goto out;
    }
    char *hp = NULL;
    if (heat) hp = xstrdup(heat);
    else if (out) {
        const char *dot = strrchr(out, '.'), *slash = strrchr(out, '/');
        size_t len = dot && (!slash || dot > slash) ? (size_t)(dot - out) : strlen(out);
        hp = xasprintf("%.*s_heatmap", (int)len, out);
    }
    if (hp) {
        rc = write_heatmap(hp, x, &t, jm);
        free(hp);
        if (rc) goto out;
    }
    if (check) {
        fflush(stdout);
        if (run_check(x, x->cnn.has_comp ? &x->cnn.comp : NULL, &t, check, jc, jf, threads)) goto out;
    }
    exit_code = CMD_EXIT_OK;
out:
    sens_fscale_free(fs, x ? x->cnn.n_layers : 0);
    sens_deinit(&t);
    approx_comp_deinit(&own);
    cnn_ctx_free(x);
    prob_spec_deinit(&spec);
    return exit_code;
}
