/* approxmap report: RUN/report.md and plots for a CNN search run.
 *
 * Reads problem.yaml, front.csv and generations.csv; measures every front point on the holdout (cached
 * in RUN/holdout.csv, keyed by the map's genes, so a second report, or one after a resume, only
 * measures new points); writes the plot data (front.dat, hv.dat, knee_layers.dat, and for filter and
 * kernel maps knee_filters.dat) and gnuplot scripts (the same names, .gp), runs gnuplot in RUN for PNG
 * (pngcairo, else png) and SVG, and writes report.md. Without gnuplot the data and scripts stay and the report says how to plot them.
 * Every file is replaced atomically (afile.h). Figure definitions: problems/export.h. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "afile.h"
#include "cmd.h"
#include "datadir.h"
#include "export.h"
#include "msg.h"
#include "status.h"

static void usage(FILE *fp)
{
    fprintf(fp,
            "usage: approxmap report RUNDIR [--no-holdout] [--threads T] [--quiet]\n\n"
            "Write RUNDIR/report.md: the problem, the exact int8 accuracy (search subset, holdout), the\n"
            "front's table (energy, search loss, holdout loss with its 95 %% confidence interval from paired\n"
            "per-image differences, normal approximation), the lowest energy at <= 1 pp and <= 4 pp holdout\n"
            "loss, hypervolume per generation, archive cache hits, and the knee map's multiplier use per\n"
            "layer; plots through gnuplot as PNG and SVG (front, hv, knee_layers). Holdout figures are cached\n"
            "in RUNDIR/holdout.csv. Without gnuplot the .dat files and .gp scripts are written and the\n"
            "report says how to plot them.\n\n"
            "      --no-holdout   skip the holdout (search-subset figures only)\n"
            "  -j, --threads T    evaluation threads (default: all cores); results do not depend on it\n"
            "  -q, --quiet        no progress messages\n"
            "      --data-dir DIR resolve the run's data and model paths against DIR\n"
            "  -h, --help         this help\n\n"
            "Environment: APPROXMAP_GNUPLOT names the gnuplot program (default gnuplot).\n"
            "Exit status: 0 success (also without gnuplot), 1 failure, 2 usage error.\n");
}

/* --- generations.csv ----------------------------------------------------------------------------- */

typedef struct gen_row {
    long generation, evaluations, cache_hits;
    double hv, best_f1, seconds;
} gen_row;

/* Rows of generations.csv; *n = 0 when the file is absent. */
static int read_generations(const char *path, gen_row **rows, size_t *n)
{
    *rows = NULL;
    *n = 0;
    if (access(path, F_OK) != 0) return ST_OK;
    char *text;
    int rc = afile_read_all(path, &text, NULL);
    if (rc) return rc;
    size_t cap = 64, k = 0;
    gen_row *v = xmalloc(cap * sizeof *v);
    char *save = NULL, *line = strtok_r(text, "\n", &save);
    unsigned long lineno = 1;
    if (!line || strncmp(line, "generation,evaluations,cache_hits,hypervolume,best_f1,seconds", 61)) {
        free(v);
        free(text);
        return msg_error(ST_EPARSE, "%s:1:1: expected the header generation,evaluations,cache_hits,hypervolume,"
                                    "best_f1,seconds", path);
    }
    while ((line = strtok_r(NULL, "\n", &save))) {
        lineno++;
        gen_row g;
        if (sscanf(line, "%ld,%ld,%ld,%lg,%lg,%lg", &g.generation, &g.evaluations, &g.cache_hits, &g.hv, &g.best_f1,
                   &g.seconds) != 6) {
            free(v);
            free(text);
            return msg_error(ST_EPARSE, "%s:%lu:1: malformed row (6 numbers expected)", path, lineno);
        }
        if (k == cap) v = xrealloc(v, (cap *= 2) * sizeof *v);
        v[k++] = g;
    }
    free(text);
    *rows = v;
    *n = k;
    return ST_OK;
}

/* --- small output helpers ------------------------------------------------------------------------ */

/* Write `text` to dir/name atomically. */
static int write_text(const char *dir, const char *name, const char *text)
{
    char *path = xasprintf("%s/%s", dir, name);
    int rc = afile_write_all(path, text, strlen(text));
    free(path);
    return rc;
}

/* A growing string. */
typedef struct sbuf {
    char *s;
    size_t len, cap;
} sbuf;

static void sb_printf(sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void sb_printf(sbuf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    ASSERT(n >= 0);
    if (b->len + (size_t)n + 1 > b->cap) {
        b->cap = (b->len + (size_t)n + 1) * 2;
        b->s = xrealloc(b->s, b->cap);
    }
    va_start(ap, fmt);
    vsnprintf(b->s + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
}

static double pct(long k, long n)
{
    return n > 0 ? 100.0 * (double)k / (double)n : 0.0;
}

/* Run `gnuplot script` in dir; returns its exit status, 127 when it could not be started. Its output
 * goes to dir/gnuplot.log (removed when it succeeds). */
static int run_gnuplot(const char *dir, const char *script)
{
    const char *prog = getenv("APPROXMAP_GNUPLOT");
    if (!prog || !*prog) prog = "gnuplot";
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) return 127;
    if (pid == 0) {
        if (chdir(dir) != 0) _exit(126);
        int fd = open("gnuplot.log", O_WRONLY | O_CREAT | O_APPEND, 0644);
        if (fd >= 0) {
            dup2(fd, 1);
            dup2(fd, 2);
            close(fd);
        }
        execlp(prog, prog, script, (char *)NULL);
        _exit(127);
    }
    int st;
    while (waitpid(pid, &st, 0) < 0)
        if (errno != EINTR) return 127;
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128;
}

static const char gp_terminals[] =
    "reset\n"
    "if (strstrt(GPVAL_TERMINALS, 'pngcairo') > 0) { set terminal pngcairo noenhanced size 960,640 } else { set terminal png noenhanced size 960,640 }\n";

/* --- the command ------------------------------------------------------------------------------- */

static void progress(size_t done, size_t todo, void *ctx)
{
    if (*(int *)ctx) return;
    if (isatty(2))
        fprintf(stderr, "\rapproxmap report: holdout %zu/%zu maps%s", done, todo, done == todo ? "\n" : "");
    else if (done == todo)
        fprintf(stderr, "approxmap report: measured %zu maps on the holdout\n", todo);
}

int cmd_report(int argc, char **argv)
{
    enum { O_NOHOLD = 256, O_DATADIR };
    static const struct option opts[] = {{"no-holdout", no_argument, NULL, O_NOHOLD},
                                         {"threads", required_argument, NULL, 'j'},
                                         {"quiet", no_argument, NULL, 'q'},
                                         {"data-dir", required_argument, NULL, O_DATADIR},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    int holdout = 1, threads = 0, quiet = 0, c;
    char *end;
    optind = 1;
    while ((c = getopt_long(argc, argv, "j:qh", opts, NULL)) != -1) {
        switch (c) {
        case O_NOHOLD: holdout = 0; break;
        case 'j': {
            long t = strtol(optarg, &end, 10);
            if (!*optarg || *end || t < 0 || t > 4096) {
                fprintf(stderr, "approxmap report: --threads must be an integer in 0..4096, not '%s'\n", optarg);
                return CMD_EXIT_USAGE;
            }
            threads = (int)t;
            break;
        }
        case 'q': quiet = 1; break;
        case O_DATADIR: datadir_set(optarg); break;
        case 'h': usage(stdout); return CMD_EXIT_OK;
        default: usage(stderr); return CMD_EXIT_USAGE;
        }
    }
    if (optind + 1 != argc) {
        if (optind >= argc)
            fprintf(stderr, "approxmap report: missing RUNDIR\n");
        else
            fprintf(stderr, "approxmap report: unexpected argument '%s'\n", argv[optind + 1]);
        usage(stderr);
        return CMD_EXIT_USAGE;
    }
    const char *dir = argv[optind];
    export_run *r;
    if (export_run_open(dir, threads, &r)) return CMD_EXIT_FAIL;
    int rc = CMD_EXIT_FAIL;
    cnn_ctx *x = r->ctx;
    const cnn_spec *cs = r->cs;
    const export_front *f = &r->front;
    export_holdout *ho = xcalloc(f->n_rows + 1, sizeof *ho);
    gen_row *gens = NULL;
    size_t n_gens = 0, measured = 0;
    sbuf md = {0}, dat = {0}, gp = {0};
    export_eval e;
    export_eval_init(&e, x->n_layers);
    int *used = xcalloc((size_t)x->lib.n, sizeof *used);

    if (holdout && !x->holdout_spec) {
        if (!quiet) fprintf(stderr, "approxmap report: the problem has no holdout; search-subset figures only\n");
        holdout = 0;
    }
    if (holdout && f->n_rows > 0 && export_holdout_all(r, ho, &measured, progress, &quiet)) goto out;
    char *gpath = xasprintf("%s/generations.csv", dir);
    int st = read_generations(gpath, &gens, &n_gens);
    free(gpath);
    if (st) goto out;
    long knee = export_pick_knee(f);
    if (knee >= 0 && export_eval_row(r, knee, 0, 0, &e)) goto out;

    /* --- plot data and scripts --- */
    sb_printf(&dat, "# row id energy search_loss_pp holdout_loss_pp ci_lo_pp ci_hi_pp feasible\n");
    for (size_t i = 0; i < f->n_rows; i++) {
        if (holdout)
            sb_printf(&dat, "%zu %" PRIu64 " %.10g %.10g %.10g %.10g %.10g %d\n", i, f->id[i], f->f1[i], f->f2[i],
                      ho[i].loss, ho[i].ci_lo, ho[i].ci_hi, f->violation[i] <= 0);
        else
            sb_printf(&dat, "%zu %" PRIu64 " %.10g %.10g NaN NaN NaN %d\n", i, f->id[i], f->f1[i], f->f2[i],
                      f->violation[i] <= 0);
    }
    if (write_text(dir, "front.dat", dat.s)) goto out;
    dat.len = 0;
    sb_printf(&gp, "# approxmap report: energy against accuracy loss of the front (data: front.dat)\n%s", gp_terminals);
    sb_printf(&gp, "set output 'front.png'\nset datafile missing 'NaN'\nset grid\nset key top right\n"
                   "set offsets graph 0.02, graph 0.02, graph 0.08, graph 0.02\n"
                   "set title 'front: energy against loss vs exact int8'\n"
                   "set xlabel 'energy relative to the all-exact map'\nset ylabel 'accuracy loss (pp)'\n");
    sb_printf(&gp, "plot 'front.dat' using 3:4 with linespoints pt 7 title 'search subset'");
    if (holdout) sb_printf(&gp, ", \\\n     'front.dat' using 3:5:6:7 with yerrorbars pt 5 title 'holdout, 95 %% CI'");
    sb_printf(&gp, ", \\\n     %.10g with lines dt 2 title 'max loss (search)'\n", x->max_loss_pp);
    sb_printf(&gp, "set terminal svg noenhanced size 960,640\nset output 'front.svg'\nreplot\n");
    if (write_text(dir, "front.gp", gp.s)) goto out;
    gp.len = 0;

    sb_printf(&dat, "# generation evaluations cache_hits hypervolume best_energy_feasible seconds\n");
    for (size_t i = 0; i < n_gens; i++)
        sb_printf(&dat, "%ld %ld %ld %.10g %.10g %.3f\n", gens[i].generation, gens[i].evaluations, gens[i].cache_hits,
                  gens[i].hv, isfinite(gens[i].best_f1) ? gens[i].best_f1 : NAN, gens[i].seconds);
    if (n_gens && write_text(dir, "hv.dat", dat.s)) goto out;
    dat.len = 0;
    sb_printf(&gp, "# approxmap report: hypervolume per generation (data: hv.dat)\n%s", gp_terminals);
    sb_printf(&gp, "set output 'hv.png'\nset datafile missing 'NaN'\nset grid\nset key bottom right\n"
                   "set title 'hypervolume of the feasible first front'\nset xlabel 'generation'\n"
                   "set ylabel 'hypervolume'\nset y2label 'lowest feasible energy'\nset y2tics\nset ytics nomirror\n"
                   "plot 'hv.dat' using 1:4 with linespoints pt 7 title 'hypervolume', \\\n"
                   "     'hv.dat' using 1:5 axes x1y2 with steps title 'lowest feasible energy'\n"
                   "set terminal svg noenhanced size 960,640\nset output 'hv.svg'\nreplot\n");
    if (n_gens && write_text(dir, "hv.gp", gp.s)) goto out;
    gp.len = 0;

    /* knee: share of each layer's kernels (= of its MACs) per multiplier */
    int n_used = 0;
    if (knee >= 0) {
        const amap *map = &x->threads[0].map;
        for (size_t k = 0; k < map->offset[map->n_layers]; k++) used[map->mult[k]] = 1;
        sb_printf(&dat, "layer");
        for (int i = 0; i < x->lib.n; i++)
            if (used[i]) sb_printf(&dat, " %s", x->lib.mults[i].name), n_used++;
        sb_printf(&dat, "\n");
        for (int l = 0; l < x->n_layers; l++) {
            const uint16_t *row = amap_layer_mults(map, l);
            size_t nk = (size_t)x->layers[l].cout * x->layers[l].cin;
            sb_printf(&dat, "\"%s\"", x->layers[l].name);
            for (int i = 0; i < x->lib.n; i++) {
                if (!used[i]) continue;
                size_t cnt = 0;
                for (size_t k = 0; k < nk; k++) cnt += row[k] == i;
                sb_printf(&dat, " %.4f", 100.0 * (double)cnt / (double)nk);
            }
            sb_printf(&dat, "\n");
        }
    } else {
        sb_printf(&dat, "# no feasible map: no knee\n");
    }
    if (write_text(dir, "knee_layers.dat", dat.s)) goto out;
    sb_printf(&gp, "# approxmap report: multiplier use per layer of the knee map, %% of each layer's MACs\n"
                   "# (data: knee_layers.dat)\n%s", gp_terminals);
    sb_printf(&gp, "set output 'knee_layers.png'\nset style data histograms\nset style histogram rowstacked\n"
                   "set style fill solid 0.8 border -1\nset boxwidth 0.75\nset key outside right\n"
                   "set yrange [0:100]\nset ylabel '%% of the layer''s MACs'\nset xtics rotate by -35\n"
                   "set title 'knee map (front row %ld): multiplier per layer'\n", knee);
    sb_printf(&gp, "plot for [i=2:%d] 'knee_layers.dat' using i:xtic(1) title columnheader(i)\n", n_used + 1);
    sb_printf(&gp, "set terminal svg noenhanced size 960,640\nset output 'knee_layers.svg'\nreplot\n");
    if (write_text(dir, "knee_layers.gp", gp.s)) goto out;

    /* filter and kernel maps: a heatmap of each filter's mean relative energy per multiplication
     * (layer on x, output channel on y; one filled box per filter) */
    const int heat = knee >= 0 && x->granularity != AMAP_LAYER;
    if (heat) {
        const amap *map = &x->threads[0].map;
        int32_t max_cout = 0;
        for (int l = 0; l < x->n_layers; l++)
            if (x->layers[l].cout > max_cout) max_cout = x->layers[l].cout;
        dat.len = 0;
        sb_printf(&dat, "# layer output_channel mean_relative_energy_per_multiplication (knee map, front row %ld)\n", knee);
        for (int32_t co = 0; co < max_cout; co++) {
            for (int l = 0; l < x->n_layers; l++) {
                const amap_layer *L = &x->layers[l];
                const uint16_t *row = amap_layer_mults(map, l);
                if (co >= L->cout) continue;
                double sum = 0;
                for (int32_t ci = 0; ci < L->cin; ci++) {
                    int i = row[(size_t)co * L->cin + ci];
                    sum += x->has_energy_model ? x->em.e_layer[(size_t)l * x->lib.n + i] / x->em.e_exact[l]
                                               : x->lib.mults[i].energy.rel;
                }
                sb_printf(&dat, "%d %d %.6f\n", l, (int)co, sum / L->cin);
            }
        }
        if (write_text(dir, "knee_filters.dat", dat.s)) goto out;
        gp.len = 0;
        sb_printf(&gp, "# approxmap report: knee map, mean relative energy per multiplication of every filter\n"
                       "# (data: knee_filters.dat)\n%s", gp_terminals);
        sb_printf(&gp, "set output 'knee_filters.png'\n"
                       "set title 'knee map (front row %ld): relative energy per multiplication of each filter'\n"
                       "set xlabel 'layer'\nset ylabel 'output channel'\nset cblabel 'relative energy'\n"
                       "set xrange [-0.5:%d.5]\nset yrange [-0.5:%d.5]\nset cbrange [0:*]\nset palette rgb 33,13,10\n",
                  knee, x->n_layers - 1, (int)max_cout - 1);
        sb_printf(&gp, "set xtics (");
        for (int l = 0; l < x->n_layers; l++) sb_printf(&gp, "%s'%d' %d", l ? ", " : "", l, l);
        sb_printf(&gp, ")\nplot 'knee_filters.dat' using 1:2:(0.5):(0.5):3 with boxxyerror fc palette fs solid notitle\n"
                       "set terminal svg noenhanced size 960,640\nset output 'knee_filters.svg'\nreplot\n");
        if (write_text(dir, "knee_filters.gp", gp.s)) goto out;
    }

    const char *scripts[] = {"front.gp", "hv.gp", "knee_layers.gp", "knee_filters.gp"};
    int plotted = 1, missing = 0;
    for (int i = 0; i < 4; i++) {
        if ((i == 1 && !n_gens) || (i == 2 && knee < 0) || (i == 3 && !heat)) continue;
        int g = run_gnuplot(dir, scripts[i]);
        if (g == 127) {
            missing = 1, plotted = 0;
            break;
        }
        if (g != 0) {
            plotted = 0;
            msg_warn("gnuplot failed on '%s/%s' (exit %d); see '%s/gnuplot.log'", dir, scripts[i], g, dir);
        }
    }
    if (plotted) {
        char *log = xasprintf("%s/gnuplot.log", dir);
        unlink(log);
        free(log);
    }
    char gp_list[96];
    snprintf(gp_list, sizeof gp_list, "front.gp%s%s%s", n_gens ? " hv.gp" : "", knee >= 0 ? " knee_layers.gp" : "",
             heat ? " knee_filters.gp" : "");
    if (missing && !quiet)
        fprintf(stderr, "approxmap report: gnuplot not found: wrote the plot data (*.dat) and scripts (*.gp); "
                        "plot with: cd '%s' && gnuplot %s\n", dir, gp_list);

    /* --- report.md --- */
    const int32_t sn = x->search_set.n;
    int32_t hn = 0, hexact = 0;
    if (holdout && f->n_rows) hn = ho[0].n, hexact = ho[0].exact;
    sb_printf(&md, "# approxmap report: %s\n\n", dir);
    sb_printf(&md, "## Problem\n\n| | |\n|---|---|\n");
    sb_printf(&md, "| problem file | `%s` (copy of the search's) |\n| model | `%s` |\n| calibration | `%s` |\n",
              r->problem_path, cs->model, cs->calibration);
    sb_printf(&md, "| search subset | `%s` (%d images) |\n", cs->search, (int)sn);
    if (x->holdout_spec)
        sb_printf(&md, "| holdout | `%s`%s |\n", x->holdout_spec, holdout ? "" : " (not measured: --no-holdout)");
    sb_printf(&md, "| library | `%s` (%s) |\n| allowed multipliers | %d:", cs->library, x->lib.path, x->n_allowed);
    for (int i = 0; i < x->n_allowed; i++)
        sb_printf(&md, "%s %s (%.2f)", i ? "," : "", x->lib.mults[x->allowed[i]].name,
                  x->lib.mults[x->allowed[i]].energy.rel);
    sb_printf(&md, " |\n| energy model | %s |\n", x->has_energy_model ? x->em.path
                                                                    : "the library's relative energies (exact = 1)");
    sb_printf(&md, "| granularity | %s (%zu genes) |\n| constraint | search loss <= %g pp |\n",
              amap_granularity_name(x->granularity), x->genome_len, x->max_loss_pp);
    sb_printf(&md, "| error compensation | %s |\n",
              x->compensate < 0 ? "none"
              : x->compensate   ? "bias: each map's expected multiplier error per output channel (calibration "
                                  "images, per input channel) folded into the biases"
                                : "bias-tensor: as bias, one activation distribution per layer input");
    sb_printf(&md, "| GA | population %ld, generations %ld, seed %" PRIu64 " (from problem.yaml; the checkpoint holds "
                   "the settings in force) |\n\n",
              r->spec.ga.population, r->spec.ga.generations, r->spec.ga.seed);

    sb_printf(&md, "## Exact int8 baseline\n\n- search subset: %.2f %% (%d/%d)\n", pct(x->exact_correct, sn),
              (int)x->exact_correct, (int)sn);
    if (hn) sb_printf(&md, "- holdout: %.2f %% (%d/%d)\n", pct(hexact, hn), (int)hexact, (int)hn);
    sb_printf(&md, "\nLoss is in percentage points against the exact int8 model on the same images. Energy is "
                   "E(map) / E(all exact), E = sum over kernels of MACs x energy per multiplication (energy model "
                   "above), every tap the hardware computes counted, padding included.\n\n");

    sb_printf(&md, "## Front (%zu maps)\n\n", f->n_rows);
    if (holdout)
        sb_printf(&md, "Holdout: %zu maps measured now, %zu reused from `holdout.csv`. The 95 %% confidence interval "
                       "comes from the paired per-image differences (exact right - map right), normal "
                       "approximation.\n\n",
                  measured, f->n_rows - measured);
    sb_printf(&md, "| row | id | energy | search loss (pp) |%s feasible |\n|---:|---:|---:|---:|%s---|\n",
              holdout ? " holdout loss (pp) | 95 % CI (pp) |" : "", holdout ? "---:|---|" : "");
    for (size_t i = 0; i < f->n_rows; i++) {
        sb_printf(&md, "| %zu%s | %" PRIu64 " | %.4f | %.2f |", i, (long)i == knee ? " (knee)" : "", f->id[i], f->f1[i],
                  f->f2[i]);
        if (holdout) sb_printf(&md, " %.2f | [%.2f, %.2f] |", ho[i].loss, ho[i].ci_lo, ho[i].ci_hi);
        sb_printf(&md, " %s |\n", f->violation[i] <= 0 ? "yes" : "no");
    }
    if (holdout) {
        sb_printf(&md, "\n## Energy at a holdout-loss budget\n\n"
                       "| holdout loss <= | lowest energy | row | search loss (pp) | holdout loss (pp) | 95 %% CI (pp) |\n"
                       "|---:|---:|---:|---:|---:|---|\n");
        const double budgets[] = {1, 4};
        for (int b = 0; b < 2; b++) {
            long best = -1;
            for (size_t i = 0; i < f->n_rows; i++)
                if (ho[i].loss <= budgets[b] && (best < 0 || f->f1[i] < f->f1[best])) best = (long)i;
            if (best < 0)
                sb_printf(&md, "| %g pp | none on the front | | | | |\n", budgets[b]);
            else
                sb_printf(&md, "| %g pp | %.4f (%.1f %% saved) | %ld | %.2f | %.2f | [%.2f, %.2f] |\n", budgets[b],
                          f->f1[best], 100.0 * (1 - f->f1[best]), best, f->f2[best], ho[best].loss, ho[best].ci_lo,
                          ho[best].ci_hi);
        }
        sb_printf(&md, "\nRows of the front only (every point the search kept); the budget applies to the "
                       "holdout loss point estimate.\n");
    }

    sb_printf(&md, "\n## Search progress\n\n");
    if (!n_gens) {
        sb_printf(&md, "No `generations.csv` in the run directory.\n");
    } else {
        const gen_row *last = &gens[n_gens - 1];
        sb_printf(&md, "%ld generations, %ld evaluations, %ld archive cache hits (%.1f %% of the offspring were "
                       "maps already evaluated), %.1f s of search (%.2f evaluations/s).\n\n",
                  last->generation, last->evaluations, last->cache_hits,
                  pct(last->cache_hits, last->evaluations + last->cache_hits), last->seconds,
                  last->seconds > 0 ? (double)last->evaluations / last->seconds : 0.0);
        sb_printf(&md, "| generation | evaluations | cache hits | hypervolume | lowest feasible energy | seconds |\n"
                       "|---:|---:|---:|---:|---:|---:|\n");
        size_t step = n_gens > 20 ? (n_gens + 19) / 20 : 1;
        for (size_t i = 0; i < n_gens; i++) {
            if (i % step && i + 1 != n_gens) continue;
            const gen_row *g = &gens[i];
            sb_printf(&md, "| %ld | %ld | %ld | %.6f | ", g->generation, g->evaluations, g->cache_hits, g->hv);
            if (isfinite(g->best_f1))
                sb_printf(&md, "%.4f", g->best_f1);
            else
                sb_printf(&md, "none feasible");
            sb_printf(&md, " | %.1f |\n", g->seconds);
        }
        sb_printf(&md, "\nHypervolume of the feasible first front against the reference point (energy 1.1, loss "
                       "max_loss_pp + 1). The activation-cache statistics are printed by `search`/`resume` at the "
                       "end of each session; they are not stored in the run directory.\n");
    }

    sb_printf(&md, "\n## Knee map\n\n");
    if (knee < 0) {
        sb_printf(&md, "No feasible map on the front.\n");
    } else {
        sb_printf(&md, "Row %ld (archive id %" PRIu64 "): energy %.4f, search loss %.2f pp", knee, f->id[knee],
                  f->f1[knee], f->f2[knee]);
        if (holdout) sb_printf(&md, ", holdout loss %.2f pp [%.2f, %.2f]", ho[knee].loss, ho[knee].ci_lo, ho[knee].ci_hi);
        sb_printf(&md, ". The knee is the feasible point farthest from the line between the lowest-energy and "
                       "the lowest-loss points (objectives normalized). Export it with "
                       "`approxmap export %s --knee -o knee.yaml`.\n\n",
                  dir);
        sb_printf(&md, "| layer | MAC share | energy (layer) | multipliers (%% of the layer's kernels) |\n"
                       "|---|---:|---:|---|\n");
        const amap *map = &x->threads[0].map;
        for (int l = 0; l < x->n_layers; l++) {
            const uint16_t *row = amap_layer_mults(map, l);
            size_t nk = (size_t)x->layers[l].cout * x->layers[l].cin;
            sb_printf(&md, "| `%s` | %.2f %% | %.4f |", x->layers[l].name, 100.0 * e.layer_share[l], e.layer_rel[l]);
            int first = 1;
            for (int i = 0; i < x->lib.n; i++) {
                size_t cnt = 0;
                for (size_t k = 0; k < nk; k++) cnt += row[k] == i;
                if (!cnt) continue;
                sb_printf(&md, "%s %s %.1f %%", first ? "" : ",", x->lib.mults[i].name, 100.0 * (double)cnt / (double)nk);
                first = 0;
            }
            sb_printf(&md, " |\n");
        }
    }

    sb_printf(&md, "\n## Plots\n\n");
    if (plotted) {
        sb_printf(&md, "![front](front.png)\n\nFront: energy against loss (SVG: [front.svg](front.svg)).\n\n");
        if (n_gens)
            sb_printf(&md, "![hypervolume](hv.png)\n\nHypervolume per generation (SVG: [hv.svg](hv.svg)).\n\n");
        if (knee >= 0)
            sb_printf(&md, "![knee layers](knee_layers.png)\n\nMultiplier use per layer of the knee map (SVG: "
                           "[knee_layers.svg](knee_layers.svg)).\n");
        if (heat)
            sb_printf(&md, "\n![knee filters](knee_filters.png)\n\nMean relative energy per multiplication of every "
                           "filter of the knee map, layer by output channel (SVG: [knee_filters.svg](knee_filters.svg)).\n");
    } else {
        sb_printf(&md, "The plots were not drawn (%s). The data (`*.dat`) and the gnuplot scripts are in the run "
                       "directory; draw PNG and SVG with\n\n    cd %s && gnuplot %s\n",
                  missing ? "gnuplot was not found" : "gnuplot failed: see gnuplot.log", dir, gp_list);
    }
    if (write_text(dir, "report.md", md.s)) goto out;
    if (!quiet) fprintf(stderr, "approxmap report: wrote '%s/report.md'%s\n", dir, plotted ? " and plots" : "");
    rc = CMD_EXIT_OK;
out:
    free(md.s);
    free(dat.s);
    free(gp.s);
    free(used);
    free(gens);
    free(ho);
    export_eval_deinit(&e);
    export_run_free(r);
    return rc;
}
