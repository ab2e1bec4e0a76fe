/* Report of a CNN search run (see report.h). */
#include "report.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "afile.h"
#include "msg.h"
#include "status.h"

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

/* Write the buffer to dir/name and empty it. */
static int sb_flush(sbuf *b, const char *dir, const char *name)
{
    int rc = write_text(dir, name, b->s);
    free(b->s);
    *b = (sbuf){0};
    return rc;
}

static double pct(long k, long n)
{
    return n > 0 ? 100.0 * (double)k / (double)n : 0.0;
}

/* Kernels of layer l of `map` that use multiplier i. */
static size_t count_mult(const amap *map, const amap_layer *L, int l, int i)
{
    const uint16_t *row = amap_layer_mults(map, l);
    size_t nk = (size_t)L->cout * L->cin, cnt = 0;
    for (size_t k = 0; k < nk; k++) cnt += row[k] == i;
    return cnt;
}

/* --- gathering ----------------------------------------------------------------------------------- */

int report_run_has_holdout(const export_run *r)
{
    return r->pb.holdout_spec != NULL;
}

int report_init(report *rp, export_run *r, int holdout, void (*progress)(size_t done, size_t todo, void *ctx),
                void *progress_ctx)
{
    const export_front *f = &r->front;
    *rp = (report){ .run = r, .holdout = holdout && report_run_has_holdout(r), .knee = -1 };
    rp->ho = xcalloc(f->n_rows + 1, sizeof *rp->ho);
    export_eval_init(&rp->knee_eval, r->pb.n_layers);
    if (rp->holdout && f->n_rows > 0 && export_holdout_all(r, rp->ho, &rp->measured, progress, progress_ctx))
        return ST_EINVAL;
    char *gpath = xasprintf("%s/generations.csv", r->dir);
    int rc = rundir_gens_read(gpath, &rp->gens, &rp->n_gens);
    free(gpath);
    if (rc) return rc;
    rp->knee = export_pick_knee(f);
    if (rp->knee >= 0 && export_eval_row(r, rp->knee, 0, 0, &rp->knee_eval)) return ST_EINVAL;
    return ST_OK;
}

void report_deinit(report *rp)
{
    free(rp->gens);
    free(rp->ho);
    export_eval_deinit(&rp->knee_eval);
}

/* --- plots --------------------------------------------------------------------------------------- */

static const char gp_terminals[] =
    "reset\n"
    "if (strstrt(GPVAL_TERMINALS, 'pngcairo') > 0) { set terminal pngcairo noenhanced size 960,640 } else { set terminal png noenhanced size 960,640 }\n";

/* The start of a gnuplot script drawing `base`.png; `what` becomes its first comment line(s). */
static void gp_begin(sbuf *gp, const char *what, const char *base)
{
    sb_printf(gp, "# approxmap report: %s\n%sset output '%s.png'\n", what, gp_terminals, base);
}

/* front: energy against loss of every front row. */
static void plot_front(const report *rp, sbuf *dat, sbuf *gp)
{
    const export_front *f = &rp->run->front;
    const export_holdout *ho = rp->ho;
    sb_printf(dat, "# row id energy search_loss_pp holdout_loss_pp ci_lo_pp ci_hi_pp feasible (exact 95 %% CI)\n");
    for (size_t i = 0; i < f->n_rows; i++) {
        if (rp->holdout)
            sb_printf(dat, "%zu %" PRIu64 " %.10g %.10g %.10g %.10g %.10g %d\n", i, f->id[i], f->f1[i], f->f2[i],
                      ho[i].loss, ho[i].ci_lo, ho[i].ci_hi, f->violation[i] <= 0);
        else
            sb_printf(dat, "%zu %" PRIu64 " %.10g %.10g NaN NaN NaN %d\n", i, f->id[i], f->f1[i], f->f2[i],
                      f->violation[i] <= 0);
    }
    gp_begin(gp, "energy against accuracy loss of the front (data: front.dat)", "front");
    sb_printf(gp, "set datafile missing 'NaN'\nset grid\nset key top right\n"
                   "set offsets graph 0.02, graph 0.02, graph 0.08, graph 0.02\n"
                   "set title 'front: energy against loss vs exact int8'\n"
                   "set xlabel 'energy relative to the all-exact map'\nset ylabel 'accuracy loss (pp)'\n");
    sb_printf(gp, "plot 'front.dat' using 3:4 with linespoints pt 7 title 'search subset'");
    if (rp->holdout) sb_printf(gp, ", \\\n     'front.dat' using 3:5:6:7 with yerrorbars pt 5 title 'holdout, 95 %% CI'");
    sb_printf(gp, ", \\\n     %.10g with lines dt 2 title 'max loss (search)'\n", rp->run->pb.max_loss_pp);
}

/* hv: hypervolume and lowest feasible energy per generation. */
static void plot_hv(const report *rp, sbuf *dat, sbuf *gp)
{
    sb_printf(dat, "# generation evaluations cache_hits hypervolume best_energy_feasible seconds\n");
    for (size_t i = 0; i < rp->n_gens; i++) {
        const report_gen *g = &rp->gens[i];
        sb_printf(dat, "%ld %ld %ld %.10g %.10g %.3f\n", g->generation, g->evaluations, g->cache_hits, g->hv,
                  isfinite(g->best_f1) ? g->best_f1 : NAN, g->seconds);
    }
    gp_begin(gp, "hypervolume per generation (data: hv.dat)", "hv");
    sb_printf(gp, "set datafile missing 'NaN'\nset grid\nset key bottom right\n"
                   "set title 'hypervolume of the feasible first front'\nset xlabel 'generation'\n"
                   "set ylabel 'hypervolume'\nset y2label 'lowest feasible energy'\nset y2tics\nset ytics nomirror\n"
                   "plot 'hv.dat' using 1:4 with linespoints pt 7 title 'hypervolume', \\\n"
                   "     'hv.dat' using 1:5 axes x1y2 with steps title 'lowest feasible energy'\n");
}

/* knee_layers: share of each layer's kernels (= of its MACs) per multiplier of the knee. */
static void plot_knee_layers(const report *rp, sbuf *dat, sbuf *gp)
{
    const export_problem *x = &rp->run->pb;
    int n_used = 0;
    if (rp->knee >= 0) {
        const amap *map = &rp->knee_eval.map;
        int *used = xcalloc((size_t)x->lib->n, sizeof *used);
        for (size_t k = 0; k < map->offset[map->n_layers]; k++) used[map->mult[k]] = 1;
        sb_printf(dat, "layer");
        for (int i = 0; i < x->lib->n; i++)
            if (used[i]) sb_printf(dat, " %s", x->lib->mults[i].name), n_used++;
        sb_printf(dat, "\n");
        for (int l = 0; l < x->n_layers; l++) {
            size_t nk = (size_t)x->layers[l].cout * x->layers[l].cin;
            sb_printf(dat, "\"%s\"", x->layers[l].name);
            for (int i = 0; i < x->lib->n; i++)
                if (used[i]) sb_printf(dat, " %.4f", 100.0 * (double)count_mult(map, &x->layers[l], l, i) / (double)nk);
            sb_printf(dat, "\n");
        }
        free(used);
    } else {
        sb_printf(dat, "# no feasible map: no knee\n");
    }
    gp_begin(gp, "multiplier use per layer of the knee map, % of each layer's MACs\n# (data: knee_layers.dat)",
             "knee_layers");
    sb_printf(gp, "set style data histograms\nset style histogram rowstacked\n"
                   "set style fill solid 0.8 border -1\nset boxwidth 0.75\nset key outside right\n"
                   "set yrange [0:100]\nset ylabel '%% of the layer''s MACs'\nset xtics rotate by -35\n"
                   "set title 'knee map (front row %ld): multiplier per layer'\n", rp->knee);
    sb_printf(gp, "plot for [i=2:%d] 'knee_layers.dat' using i:xtic(1) title columnheader(i)\n", n_used + 1);
}

/* knee_filters (filter and kernel maps): a heatmap of each filter's mean relative energy per
 * multiplication (layer on x, output channel on y; one filled box per filter). */
static void plot_knee_filters(const report *rp, sbuf *dat, sbuf *gp)
{
    const export_problem *x = &rp->run->pb;
    const amap *map = &rp->knee_eval.map;
    int32_t max_cout = 0;
    for (int l = 0; l < x->n_layers; l++)
        if (x->layers[l].cout > max_cout) max_cout = x->layers[l].cout;
    sb_printf(dat, "# layer output_channel mean_relative_energy_per_multiplication (knee map, front row %ld)\n",
              rp->knee);
    for (int32_t co = 0; co < max_cout; co++) {
        for (int l = 0; l < x->n_layers; l++) {
            const amap_layer *L = &x->layers[l];
            const uint16_t *row = amap_layer_mults(map, l);
            if (co >= L->cout) continue;
            double sum = 0;
            for (int32_t ci = 0; ci < L->cin; ci++) {
                int i = row[(size_t)co * L->cin + ci];
                sum += x->em ? x->em->e_layer[(size_t)l * x->lib->n + i] / x->em->e_exact[l]
                                           : x->lib->mults[i].energy.rel;
            }
            sb_printf(dat, "%d %d %.6f\n", l, (int)co, sum / L->cin);
        }
    }
    gp_begin(gp, "knee map, mean relative energy per multiplication of every filter\n# (data: knee_filters.dat)",
             "knee_filters");
    sb_printf(gp, "set title 'knee map (front row %ld): relative energy per multiplication of each filter'\n"
                   "set xlabel 'layer'\nset ylabel 'output channel'\nset cblabel 'relative energy'\n"
                   "set xrange [-0.5:%d.5]\nset yrange [-0.5:%d.5]\nset cbrange [0:*]\nset palette rgb 33,13,10\n",
              rp->knee, x->n_layers - 1, (int)max_cout - 1);
    sb_printf(gp, "set xtics (");
    for (int l = 0; l < x->n_layers; l++) sb_printf(gp, "%s'%d' %d", l ? ", " : "", l, l);
    sb_printf(gp, ")\nplot 'knee_filters.dat' using 1:2:(0.5):(0.5):3 with boxxyerror fc palette fs solid notitle\n");
}

/* Fill base.dat and base.gp with `plot` (the script also draws base.svg) and write both. */
static int write_plot(const report *rp, const char *base, void (*plot)(const report *, sbuf *, sbuf *))
{
    sbuf dat = {0}, gp = {0};
    plot(rp, &dat, &gp);
    sb_printf(&gp, "set terminal svg noenhanced size 960,640\nset output '%s.svg'\nreplot\n", base);
    char *dname = xasprintf("%s.dat", base), *gname = xasprintf("%s.gp", base);
    int rc = sb_flush(&dat, rp->run->dir, dname);
    if (!rc) rc = sb_flush(&gp, rp->run->dir, gname);
    free(gp.s);
    free(dname);
    free(gname);
    return rc;
}

int report_gnuplot(const char *dir, const char *script)
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

int report_plots(report *rp)
{
    const char *dir = rp->run->dir;
    int rc = write_plot(rp, "front", plot_front);
    if (!rc && rp->n_gens) rc = write_plot(rp, "hv", plot_hv);
    if (!rc) rc = write_plot(rp, "knee_layers", plot_knee_layers);
    rp->heat = rp->knee >= 0 && rp->run->pb.granularity != AMAP_LAYER;
    if (!rc && rp->heat) rc = write_plot(rp, "knee_filters", plot_knee_filters);
    if (rc) return rc;

    const char *scripts[] = {"front.gp", "hv.gp", "knee_layers.gp", "knee_filters.gp"};
    rp->plotted = 1;
    for (int i = 0; i < 4; i++) {
        if ((i == 1 && !rp->n_gens) || (i == 2 && rp->knee < 0) || (i == 3 && !rp->heat)) continue;
        int g = report_gnuplot(dir, scripts[i]);
        if (g == 127) {
            rp->gnuplot_missing = 1, rp->plotted = 0;
            break;
        }
        if (g != 0) {
            rp->plotted = 0;
            msg_warn("gnuplot failed on '%s/%s' (exit %d); see '%s/gnuplot.log'", dir, scripts[i], g, dir);
        }
    }
    if (rp->plotted) {
        char *log = xasprintf("%s/gnuplot.log", dir);
        unlink(log);
        free(log);
    }
    snprintf(rp->gp_list, sizeof rp->gp_list, "front.gp%s%s%s", rp->n_gens ? " hv.gp" : "",
             rp->knee >= 0 ? " knee_layers.gp" : "", rp->heat ? " knee_filters.gp" : "");
    return ST_OK;
}

/* --- report.md ----------------------------------------------------------------------------------- */

/* ## Problem and ## Exact int8 baseline. */
static void md_problem(sbuf *md, const report *rp)
{
    const export_run *r = rp->run;
    const export_problem *x = &r->pb;
    const cnn_spec *cs = r->cs;
    const int32_t sn = x->search_n;
    int32_t hn = 0, hexact = 0;
    if (rp->holdout && r->front.n_rows) hn = rp->ho[0].n, hexact = rp->ho[0].exact;
    sb_printf(md, "# approxmap report: %s\n\n", r->dir);
    sb_printf(md, "## Problem\n\n| | |\n|---|---|\n");
    sb_printf(md, "| problem file | `%s` (copy of the search's) |\n| model | `%s` |\n| calibration | `%s` |\n",
              r->problem_path, cs->model, cs->calibration);
    sb_printf(md, "| search subset | `%s` (%d images) |\n", cs->search, (int)sn);
    if (x->holdout_spec)
        sb_printf(md, "| holdout | `%s`%s |\n", x->holdout_spec, rp->holdout ? "" : " (not measured: --no-holdout)");
    sb_printf(md, "| library | `%s` (%s) |\n| allowed multipliers | %d:", cs->library, x->lib->path, x->n_allowed);
    for (int i = 0; i < x->n_allowed; i++)
        sb_printf(md, "%s %s (%.2f)", i ? "," : "", x->lib->mults[x->allowed[i]].name,
                  x->lib->mults[x->allowed[i]].energy.rel);
    sb_printf(md, " |\n| energy model | %s |\n", x->em ? x->em->path
                                                                   : "the library's relative energies (exact = 1)");
    sb_printf(md, "| granularity | %s (%zu genes) |\n| constraint | search loss <= %g pp |\n",
              amap_granularity_name(x->granularity), x->genome_len, x->max_loss_pp);
    sb_printf(md, "| error compensation | %s%s |\n",
              x->compensate < 0 ? "none"
              : approx_comp_mode_tunes(x->compensate) ? "bias+weights: each filter's stored weights tuned to its multipliers (calibration "
                                     "images' patch covariance), then bias as below"
              : x->compensate   ? "bias: each map's expected multiplier error per output channel (calibration "
                                  "images, per input channel) folded into the biases"
                                : "bias-tensor: as bias, one activation distribution per layer input",
              approx_comp_mode_seq(x->compensate) ? "; +seq: the deltas measured layer after layer on the approximate "
                                                   "network (calibration images), with each layer's mean input shift" : "");
    sb_printf(md, "| GA | population %ld, generations %ld, seed %" PRIu64 " (from problem.yaml; the checkpoint holds "
                  "the settings in force) |\n\n",
              r->spec.ga.population, r->spec.ga.generations, r->spec.ga.seed);

    sb_printf(md, "## Exact int8 baseline\n\n- search subset: %.2f %% (%d/%d)\n", pct(x->exact_correct, sn),
              (int)x->exact_correct, (int)sn);
    if (hn) sb_printf(md, "- holdout: %.2f %% (%d/%d)\n", pct(hexact, hn), (int)hexact, (int)hn);
    sb_printf(md, "\nLoss is in percentage points against the exact int8 model on the same images. Energy is "
                  "E(map) / E(all exact), E = sum over kernels of MACs x energy per multiplication (energy model "
                  "above), every tap the hardware computes counted, padding included.\n\n");
}

/* ## Front and ## Energy at a holdout-loss budget. */
static void md_front(sbuf *md, const report *rp)
{
    const export_front *f = &rp->run->front;
    const export_holdout *ho = rp->ho;
    const int holdout = rp->holdout;
    sb_printf(md, "## Front (%zu maps)\n\n", f->n_rows);
    if (holdout)
        sb_printf(md, "Holdout: %zu maps measured now, %zu reused from `holdout.csv`. The 95 %% confidence interval "
                      "and the McNemar p are exact, from the images where the map and the exact model disagree "
                      "(Clopper-Pearson interval of the share the map gets wrong, conditional on their number; "
                      "two-sided binomial test of that share against 1/2).\n\n",
                  rp->measured, f->n_rows - rp->measured);
    sb_printf(md, "| row | id | energy | search loss (pp) |%s feasible |\n|---:|---:|---:|---:|%s---|\n",
              holdout ? " holdout loss (pp) | 95 % CI (pp) | McNemar p |" : "", holdout ? "---:|---|---:|" : "");
    for (size_t i = 0; i < f->n_rows; i++) {
        sb_printf(md, "| %zu%s | %" PRIu64 " | %.4f | %.2f |", i, (long)i == rp->knee ? " (knee)" : "", f->id[i],
                  f->f1[i], f->f2[i]);
        if (holdout) sb_printf(md, " %.2f | [%.2f, %.2f] | %.3g |", ho[i].loss, ho[i].ci_lo, ho[i].ci_hi, ho[i].p);
        sb_printf(md, " %s |\n", f->violation[i] <= 0 ? "yes" : "no");
    }
    if (!holdout) return;
    sb_printf(md, "\n## Energy at a holdout-loss budget\n\n"
                  "| holdout loss <= | lowest energy | row | search loss (pp) | holdout loss (pp) | 95 %% CI (pp) | "
                  "McNemar p |\n|---:|---:|---:|---:|---:|---|---:|\n");
    const double budgets[] = {1, 4};
    for (int b = 0; b < 2; b++) {
        long best = -1;
        for (size_t i = 0; i < f->n_rows; i++)
            if (ho[i].loss <= budgets[b] && (best < 0 || f->f1[i] < f->f1[best])) best = (long)i;
        if (best < 0)
            sb_printf(md, "| %g pp | none on the front | | | | | |\n", budgets[b]);
        else
            sb_printf(md, "| %g pp | %.4f (%.1f %% saved) | %ld | %.2f | %.2f | [%.2f, %.2f] | %.3g |\n", budgets[b],
                      f->f1[best], 100.0 * (1 - f->f1[best]), best, f->f2[best], ho[best].loss, ho[best].ci_lo,
                      ho[best].ci_hi, ho[best].p);
    }
    sb_printf(md, "\nRows of the front only (every point the search kept); the budget applies to the "
                  "holdout loss point estimate.\n");
}

/* ## Search progress. */
static void md_progress(sbuf *md, const report *rp)
{
    sb_printf(md, "\n## Search progress\n\n");
    if (!rp->n_gens) {
        sb_printf(md, "No `generations.csv` in the run directory.\n");
        return;
    }
    const report_gen *last = &rp->gens[rp->n_gens - 1];
    sb_printf(md, "%ld generations, %ld evaluations, %ld archive cache hits (%.1f %% of the offspring were "
                  "maps already evaluated), %.1f s of search (%.2f evaluations/s).\n\n",
              last->generation, last->evaluations, last->cache_hits,
              pct(last->cache_hits, last->evaluations + last->cache_hits), last->seconds,
              last->seconds > 0 ? (double)last->evaluations / last->seconds : 0.0);
    sb_printf(md, "| generation | evaluations | cache hits | hypervolume | lowest feasible energy | seconds |\n"
                  "|---:|---:|---:|---:|---:|---:|\n");
    size_t step = rp->n_gens > 20 ? (rp->n_gens + 19) / 20 : 1;
    for (size_t i = 0; i < rp->n_gens; i++) {
        if (i % step && i + 1 != rp->n_gens) continue;
        const report_gen *g = &rp->gens[i];
        sb_printf(md, "| %ld | %ld | %ld | %.6f | ", g->generation, g->evaluations, g->cache_hits, g->hv);
        if (isfinite(g->best_f1))
            sb_printf(md, "%.4f", g->best_f1);
        else
            sb_printf(md, "none feasible");
        sb_printf(md, " | %.1f |\n", g->seconds);
    }
    sb_printf(md, "\nHypervolume of the feasible first front against the reference point (energy 1.1, loss "
                  "max_loss_pp + 1). The activation-cache statistics are printed by `search`/`resume` at the "
                  "end of each session; they are not stored in the run directory.\n");
}

/* ## Knee map. */
static void md_knee(sbuf *md, const report *rp)
{
    const export_front *f = &rp->run->front;
    const export_problem *x = &rp->run->pb;
    const export_eval *e = &rp->knee_eval;
    const long knee = rp->knee;
    sb_printf(md, "\n## Knee map\n\n");
    if (knee < 0) {
        sb_printf(md, "No feasible map on the front.\n");
        return;
    }
    sb_printf(md, "Row %ld (archive id %" PRIu64 "): energy %.4f, search loss %.2f pp", knee, f->id[knee], f->f1[knee],
              f->f2[knee]);
    if (rp->holdout)
        sb_printf(md, ", holdout loss %.2f pp [%.2f, %.2f] (McNemar p %.3g)", rp->ho[knee].loss, rp->ho[knee].ci_lo,
                  rp->ho[knee].ci_hi, rp->ho[knee].p);
    sb_printf(md, ". The knee is the feasible point farthest from the line between the lowest-energy and "
                  "the lowest-loss points (objectives normalized). Export it with "
                  "`approxmap export %s --knee -o knee.yaml`.\n\n",
              rp->run->dir);
    sb_printf(md, "| layer | MAC share | energy (layer) | multipliers (%% of the layer's kernels) |\n"
                  "|---|---:|---:|---|\n");
    const amap *map = &rp->knee_eval.map;
    for (int l = 0; l < x->n_layers; l++) {
        size_t nk = (size_t)x->layers[l].cout * x->layers[l].cin;
        sb_printf(md, "| `%s` | %.2f %% | %.4f |", x->layers[l].name, 100.0 * e->layer_share[l], e->layer_rel[l]);
        int first = 1;
        for (int i = 0; i < x->lib->n; i++) {
            size_t cnt = count_mult(map, &x->layers[l], l, i);
            if (!cnt) continue;
            sb_printf(md, "%s %s %.1f %%", first ? "" : ",", x->lib->mults[i].name, 100.0 * (double)cnt / (double)nk);
            first = 0;
        }
        sb_printf(md, " |\n");
    }
}

/* ## Plots. */
static void md_plots(sbuf *md, const report *rp)
{
    sb_printf(md, "\n## Plots\n\n");
    if (!rp->plotted) {
        sb_printf(md, "The plots were not drawn (%s). The data (`*.dat`) and the gnuplot scripts are in the run "
                      "directory; draw PNG and SVG with\n\n    cd %s && gnuplot %s\n",
                  rp->gnuplot_missing ? "gnuplot was not found" : "gnuplot failed: see gnuplot.log", rp->run->dir,
                  rp->gp_list);
        return;
    }
    sb_printf(md, "![front](front.png)\n\nFront: energy against loss (SVG: [front.svg](front.svg)).\n\n");
    if (rp->n_gens) sb_printf(md, "![hypervolume](hv.png)\n\nHypervolume per generation (SVG: [hv.svg](hv.svg)).\n\n");
    if (rp->knee >= 0)
        sb_printf(md, "![knee layers](knee_layers.png)\n\nMultiplier use per layer of the knee map (SVG: "
                      "[knee_layers.svg](knee_layers.svg)).\n");
    if (rp->heat)
        sb_printf(md, "\n![knee filters](knee_filters.png)\n\nMean relative energy per multiplication of every "
                      "filter of the knee map, layer by output channel (SVG: [knee_filters.svg](knee_filters.svg)).\n");
}

int report_markdown(report *rp)
{
    sbuf md = {0};
    md_problem(&md, rp);
    md_front(&md, rp);
    md_progress(&md, rp);
    md_knee(&md, rp);
    md_plots(&md, rp);
    return sb_flush(&md, rp->run->dir, "report.md");
}
