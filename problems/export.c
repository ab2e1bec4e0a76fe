/* Reading CNN search runs back: front.csv, selection, re-measurement, holdout cache and map writers
 * (export.h). The figures are recomputed from the run's problem.yaml, so they are the int8 engine's
 * and not the search's own: a map's search loss recomputed here must equal front.csv's f2 (warned
 * otherwise), and the holdout is measured here for the first time. */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "afile.h"
#include "amap.h"
#include "cifar.h"
#include "energy.h"
#include "export.h"
#include "prob_cnn_ctx.h"
#include "msg.h"
#include "qnn_int8.h"
#include "rundir.h"
#include "status.h"
#include "util.h"

/* ---------------------------------------------------------------------------------------------- */
/* front.csv */

void export_front_deinit(export_front *f)
{
    free(f->id);
    free(f->f1);
    free(f->f2);
    free(f->violation);
    free(f->genes);
    memset(f, 0, sizeof *f);
}

int export_front_read(const char *path, size_t n_genes, export_front *out)
{
    rundir_front rf;
    int rc = rundir_front_read(path, 2, n_genes, &rf);
    if (rc) return rc;
    *out = (export_front){.n_rows = rf.n_rows, .n_genes = rf.n_genes, .has_violation = rf.has_violation, .id = rf.id,
                          .f1 = rf.f[0], .f2 = rf.f[1], .violation = rf.violation, .genes = rf.genes, .hash = rf.hash};
    return ST_OK;
}

long export_pick_max_loss(const export_front *f, double max_loss_pp)
{
    long best = -1;
    for (size_t r = 0; r < f->n_rows; r++) {
        if (f->violation[r] > 0 || !(f->f2[r] <= max_loss_pp)) continue;
        if (best < 0 || f->f1[r] < f->f1[best] || (f->f1[r] == f->f1[best] && f->f2[r] < f->f2[best])) best = (long)r;
    }
    return best;
}

long export_pick_id(const export_front *f, uint64_t id)
{
    for (size_t r = 0; r < f->n_rows; r++)
        if (f->id[r] == id) return (long)r;
    return -1;
}

long export_pick_knee(const export_front *f)
{
    long a = -1, b = -1; /* lowest energy, lowest loss (feasible) */
    double lo1 = INFINITY, hi1 = -INFINITY, lo2 = INFINITY, hi2 = -INFINITY;
    for (size_t r = 0; r < f->n_rows; r++) {
        if (f->violation[r] > 0) continue;
        double x = f->f1[r], y = f->f2[r];
        if (a < 0 || x < f->f1[a] || (x == f->f1[a] && y < f->f2[a])) a = (long)r;
        if (b < 0 || y < f->f2[b] || (y == f->f2[b] && x < f->f1[b])) b = (long)r;
        lo1 = fmin(lo1, x), hi1 = fmax(hi1, x), lo2 = fmin(lo2, y), hi2 = fmax(hi2, y);
    }
    if (a < 0 || a == b) return a;
    double s1 = hi1 > lo1 ? hi1 - lo1 : 1, s2 = hi2 > lo2 ? hi2 - lo2 : 1;
    double ax = (f->f1[a] - lo1) / s1, ay = (f->f2[a] - lo2) / s2;
    double bx = (f->f1[b] - lo1) / s1, by = (f->f2[b] - lo2) / s2;
    double dx = bx - ax, dy = by - ay, norm = sqrt(dx * dx + dy * dy);
    /* A has the lowest energy (top left), B the lowest loss (bottom right): the ideal point (0, 0) lies
     * on the side where the cross product (B - A) x (P - A) is negative, so d > 0 there */
    long knee = a;
    double best = 0;
    for (size_t r = 0; r < f->n_rows; r++) {
        if (f->violation[r] > 0) continue;
        double px = (f->f1[r] - lo1) / s1 - ax, py = (f->f2[r] - lo2) / s2 - ay;
        double d = (dy * px - dx * py) / norm;
        if (d > best || (d == best && d > 0 && f->f1[r] < f->f1[knee])) {
            best = d;
            knee = (long)r;
        }
    }
    return knee;
}

uint64_t export_row_key(const export_front *f, size_t r)
{
    uint64_t h = UTIL_FNV1A_INIT;
    for (size_t g = 0; g < f->n_genes; g++) {
        long v = lround(f->genes[r * f->n_genes + g]);
        h = util_fnv1a(h, &v, sizeof v);
    }
    return h;
}

/* ---------------------------------------------------------------------------------------------- */
/* run directory */

void export_run_free(export_run *r)
{
    if (!r) return;
    approx_eval_data_deinit(&r->holdout);
    cifar_set_deinit(&r->holdout_set);
    cnn_ctx_free(r->ctx);
    if (r->spec.type) prob_spec_deinit(&r->spec);
    export_front_deinit(&r->front);
    free(r->dir);
    free(r->problem_path);
    free(r->front_path);
    free(r);
}

int export_run_open(const char *dir, int threads, export_run **out)
{
    struct stat st;
    if (stat(dir, &st) != 0)
        return msg_error(ST_EIO, "%s: not a run directory (%s)", dir, strerror(errno));
    if (!S_ISDIR(st.st_mode)) return msg_error(ST_EIO, "%s: not a run directory (not a directory)", dir);
    export_run *r = xcalloc(1, sizeof *r);
    r->dir = xstrdup(dir);
    r->threads = threads;
    r->problem_path = xasprintf("%s/problem.yaml", dir);
    r->front_path = xasprintf("%s/front.csv", dir);
    int rc;
    if (access(r->front_path, F_OK) != 0) {
        rc = msg_error(ST_EIO, "%s: not a run directory (no front.csv)", dir);
        goto fail;
    }
    if (access(r->problem_path, F_OK) != 0) {
        rc = msg_error(ST_EIO, "%s: not a run directory (no problem.yaml)", dir);
        goto fail;
    }
    prob_spec spec;
    if ((rc = prob_load(&spec, r->problem_path))) goto fail;
    r->spec = spec;
    if (r->spec.type != &prob_type_cnn) {
        rc = msg_error(ST_EFORMAT, "%s: a '%s' run; export and report read CNN approximation runs (type: cnn)", dir,
                       r->spec.type->name);
        goto fail;
    }
    r->cs = r->spec.data;
    /* one slot, no activation cache: every map here is evaluated once */
    if ((rc = cnn_ctx_open(&r->spec, 1, 0, threads, &r->ctx))) goto fail;
    const cnn_ctx *x = r->ctx;
    r->pb = (export_problem){.lib = &x->cnn.lib, .n_layers = x->cnn.n_layers, .layers = x->cnn.layers,
                             .em = approx_cnn_em(&x->cnn), .granularity = x->granularity,
                             .genome_len = x->genome_len, .max_loss_pp = x->max_loss_pp,
                             .compensate = x->compensate, .holdout_spec = x->holdout_spec,
                             .n_allowed = x->n_allowed, .allowed = x->allowed, .search_n = x->search_set.n,
                             .exact_correct = x->search.exact_correct, .definition_hash = x->definition_hash};
    if ((rc = export_front_read(r->front_path, x->genome_len, &r->front))) goto fail;
    *out = r;
    return ST_OK;
fail:
    export_run_free(r);
    return rc;
}

int export_run_holdout(export_run *r)
{
    if (r->holdout_loaded) return ST_OK;
    const char *spec = r->pb.holdout_spec;
    if (!spec)
        return msg_error(ST_EFORMAT, "%s: the problem has no holdout (data.holdout); use --no-holdout", r->problem_path);
    int rc = cifar_load_range(spec, &r->holdout_set);
    if (rc) return rc;
    if (r->holdout_set.n < 1) return msg_error(ST_EFORMAT, "%s: the holdout '%s' holds no images", r->problem_path, spec);
    approx_eval_data_init(r->ctx->ev, &r->holdout, &r->holdout_set, 1, r->threads, NULL, NULL);
    r->holdout_loaded = 1;
    return ST_OK;
}

/* ---------------------------------------------------------------------------------------------- */
/* evaluation */

void export_eval_init(export_eval *e, int n_layers)
{
    memset(e, 0, sizeof *e);
    e->n_layers = n_layers;
    e->layer_rel = xcalloc((size_t)n_layers + 1, sizeof *e->layer_rel);
    e->layer_share = xcalloc((size_t)n_layers + 1, sizeof *e->layer_share);
}

void export_eval_deinit(export_eval *e)
{
    amap_deinit(&e->map);
    free(e->layer_rel);
    free(e->layer_share);
    memset(e, 0, sizeof *e);
}

int export_eval_row(export_run *r, long row, int search, int holdout, export_eval *out)
{
    cnn_ctx *x = r->ctx;
    const export_problem *pb = &r->pb;
    const export_front *f = &r->front;
    ASSERT(row >= 0 && (size_t)row < f->n_rows && out->n_layers == pb->n_layers);
    const double *genes = f->genes + (size_t)row * f->n_genes;
    for (size_t g = 0; g < f->n_genes; g++) {
        double v = genes[g];
        if (!(v >= 0 && v <= pb->n_allowed - 1 && v == floor(v)))
            return msg_error(ST_EFORMAT, "%s:%ld: gene x%zu = %g is not a multiplier index 0..%d", r->front_path, row + 2,
                             g + 1, v, pb->n_allowed - 1);
    }
    int rc;
    if (holdout && (rc = export_run_holdout(r))) return rc;
    if (!out->map.mult) amap_init(&out->map, pb->layers, pb->n_layers, 0);
    cnn_genome_to_map(x, 0, genes, &out->map);
    approx_eval_result res;
    if ((rc = approx_eval_map(x->ev, 0, &out->map, NULL, r->threads, 0, NULL, NULL, &res))) return rc;
    out->row = row;
    out->id = f->id[row];
    out->f1 = f->f1[row];
    out->f2 = f->f2[row];
    out->energy_rel = res.energy->rel;
    for (int l = 0; l < pb->n_layers; l++) {
        out->layer_rel[l] = res.energy->layer_rel[l];
        out->layer_share[l] = res.energy->layer_exact[l] / res.energy->exact;
    }
    if (fabs(out->energy_rel - out->f1) > 1e-9)
        msg_warn("%s:%ld: energy %.6f recomputed as %.6f (has the library changed since the search?)", r->front_path,
                 row + 2, out->f1, out->energy_rel);
    out->has_holdout = 0;
    if (search) {
        /* the search's own scoring path, so that an unchanged run reproduces f2 bit for bit */
        if ((rc = approx_eval_map(x->ev, 0, &out->map, &x->search, r->threads, 0, NULL, NULL, &res))) return rc;
        out->search_n = res.n;
        out->search_exact = res.exact_correct;
        out->search_correct = res.correct;
        out->search_loss = res.loss_pp;
        if (fabs(out->search_loss - out->f2) > 1e-9)
            msg_warn("%s:%ld: search loss %.4f pp recomputed as %.4f pp (have the data or model changed?)",
                     r->front_path, row + 2, out->f2, out->search_loss);
    }
    if (holdout) {
        if ((rc = approx_eval_map(x->ev, 0, &out->map, &r->holdout, r->threads, 0, NULL, NULL, &res))) return rc;
        out->has_holdout = 1;
        out->holdout_n = res.n;
        out->holdout_exact = res.exact_correct;
        out->holdout_correct = res.correct;
        out->holdout_loss = res.loss_pp;
        out->holdout_lost = res.lost;
        out->holdout_gained = res.gained;
        out->ci_lo = res.ci_lo;
        out->ci_hi = res.ci_hi;
        out->p_mcnemar = res.p_mcnemar;
    }
    return ST_OK;
}

/* ---------------------------------------------------------------------------------------------- */
/* holdout cache: RUN/holdout.csv (format and checksum: rundir_holdout_read). The cache is used only
 * when the problem hash (model bytes, calibration and search records, allowed multipliers' tables and
 * energies), the holdout records and the exact int8 hits on the search subset (which change when the
 * quantizer does) all match; front= records the front it was written for. Rows are keyed by the map's
 * genes, so after a resume the points still on the front are reused and rows of maps that left the
 * front are dropped. */

int export_holdout_all(export_run *r, export_holdout *out, size_t *measured,
                       void (*progress)(size_t done, size_t todo, void *ctx), void *progress_ctx)
{
    const export_front *f = &r->front;
    if (!r->pb.holdout_spec)
        return msg_error(ST_EFORMAT, "%s: the problem has no holdout (data.holdout); use --no-holdout", r->problem_path);
    char *path = xasprintf("%s/holdout.csv", r->dir);
    rundir_holdout_tag tag = {r->pb.definition_hash, (int)r->pb.exact_correct, f->hash, r->pb.holdout_spec};
    rundir_holdout *old;
    size_t n_old;
    rundir_holdout_read(path, &tag, &old, &n_old);
    size_t todo = 0, done = 0;
    uint8_t *have = xcalloc(f->n_rows + 1, 1);
    for (size_t i = 0; i < f->n_rows; i++) {
        uint64_t key = export_row_key(f, i);
        for (size_t j = 0; j < n_old && !have[i]; j++)
            if (old[j].key == key) {
                out[i] = (export_holdout){.key = old[j].key, .n = old[j].n, .exact = old[j].exact,
                                          .correct = old[j].correct, .lost = old[j].lost, .gained = old[j].gained,
                                          .loss = old[j].loss, .ci_lo = old[j].ci_lo, .ci_hi = old[j].ci_hi,
                                          .p = old[j].p};
                have[i] = 1;
            }
        todo += !have[i];
    }
    free(old);
    int rc = ST_OK;
    export_eval e;
    export_eval_init(&e, r->pb.n_layers);
    for (size_t i = 0; i < f->n_rows && !rc; i++) {
        if (have[i]) continue;
        if ((rc = export_eval_row(r, (long)i, 0, 1, &e))) break;
        out[i] = (export_holdout){.key = export_row_key(f, i), .n = e.holdout_n, .exact = e.holdout_exact,
                                  .correct = e.holdout_correct, .lost = e.holdout_lost, .gained = e.holdout_gained,
                                  .loss = e.holdout_loss, .ci_lo = e.ci_lo, .ci_hi = e.ci_hi, .p = e.p_mcnemar};
        if (progress) progress(++done, todo, progress_ctx);
    }
    export_eval_deinit(&e);
    free(have);
    if (!rc && (todo > 0 || access(path, F_OK) != 0)) {
        rundir_holdout *rows = xcalloc(f->n_rows + 1, sizeof *rows);
        for (size_t i = 0; i < f->n_rows; i++)
            rows[i] = (rundir_holdout){.key = out[i].key, .id = f->id[i], .n = out[i].n, .exact = out[i].exact,
                                       .correct = out[i].correct, .loss = out[i].loss, .ci_lo = out[i].ci_lo,
                                       .ci_hi = out[i].ci_hi, .lost = out[i].lost, .gained = out[i].gained,
                                       .p = out[i].p};
        rc = rundir_holdout_write(path, &tag, rows, f->n_rows);
        free(rows);
    }
    free(path);
    *measured = done;
    return rc;
}

/* ---------------------------------------------------------------------------------------------- */
/* writers */

static double pct(int32_t k, int32_t n)
{
    return n > 0 ? 100.0 * k / n : 0.0;
}

/* The figures as lines, each starting with `pfx` (e.g. "# " or " * "). */
static void write_figures(FILE *fp, const char *pfx, export_run *r, const export_eval *e, const export_meta *m)
{
    const export_problem *x = &r->pb;
    const cnn_spec *c = r->cs;
    fprintf(fp, "%sapproxmap export of run '%s': front.csv row %ld (archive id %" PRIu64 "), chosen by %s\n", pfx,
            r->dir, e->row, e->id, m && m->how ? m->how : "index");
    fprintf(fp, "%smodel %s, calibration %s, library %s, %s granularity, max_loss_pp %g\n", pfx, c->model,
            c->calibration, c->library, amap_granularity_name(x->granularity), x->max_loss_pp);
    if (x->compensate >= 0)
        fprintf(fp, "%serror compensation: %s%s (each layer's bias_delta: expected multiplier error per output channel on "
                    "the calibration images, folded into the int32 bias)\n",
                pfx, approx_comp_mode_tunes(x->compensate) ? "bias+weights, per input channel; each filter's weights tuned to "
                                                            "its multipliers (layer 'weights')"
                     : x->compensate ? "bias, per input channel" : "bias-tensor, per layer input",
                approx_comp_mode_seq(x->compensate) ? "; +seq: measured layer after layer on the approximate network, "
                                                     "with each layer's mean input shift" : "");
    if (x->em)
        fprintf(fp, "%senergy: %.6f of the all-exact map (MACs x energy per multiplication of per-layer model '%s', "
                    "padding taps included)\n", pfx, e->energy_rel, x->em->path);
    else
        fprintf(fp, "%senergy: %.6f of the all-exact map (MACs x relative energy per multiplication, padding taps "
                    "included)\n", pfx, e->energy_rel);
    if (e->search_n)
        fprintf(fp, "%ssearch subset %s (%d images): exact int8 %.2f %% (%d/%d), this map %.2f %% (%d/%d), loss %.2f pp\n",
                pfx, c->search, (int)e->search_n, pct(e->search_exact, e->search_n), (int)e->search_exact,
                (int)e->search_n, pct(e->search_correct, e->search_n), (int)e->search_correct, (int)e->search_n,
                e->search_loss);
    if (e->has_holdout) {
        fprintf(fp, "%sholdout %s (%d images): exact int8 %.2f %% (%d/%d), this map %.2f %% (%d/%d), loss %.2f pp\n", pfx,
                x->holdout_spec, (int)e->holdout_n, pct(e->holdout_exact, e->holdout_n), (int)e->holdout_exact,
                (int)e->holdout_n, pct(e->holdout_correct, e->holdout_n), (int)e->holdout_correct, (int)e->holdout_n,
                e->holdout_loss);
        fprintf(fp, "%s  95 %% CI of the holdout loss [%.2f, %.2f] pp, McNemar p = %.3g (exact, paired: %d images the "
                    "exact model gets right and this map wrong, %d the reverse)\n",
                pfx, e->ci_lo, e->ci_hi, e->p_mcnemar, (int)e->holdout_lost, (int)e->holdout_gained);
    }
    fprintf(fp, "%sper layer (energy relative to the layer all exact; share of the network's MACs):\n", pfx);
    for (int l = 0; l < x->n_layers; l++)
        fprintf(fp, "%s  %-24s %.4f  %5.2f %%\n", pfx, x->layers[l].name, e->layer_rel[l], 100.0 * e->layer_share[l]);
}

/* The reproduce line for `approxmap eval` on a record range. */
static void write_eval_hint(FILE *fp, const char *pfx, export_run *r, const char *range, const export_meta *m)
{
    char *file = NULL;
    int32_t first = 0, count = -1;
    if (cifar_range_is_list(range)) { /* eval takes a record list whole, in --data */
        fprintf(fp, "%s  approxmap eval --model %s --calib %s --library %s --map %s --data %s", pfx, r->cs->model,
                r->cs->calibration, r->cs->library, m && m->map_path ? m->map_path : "MAP.yaml", range);
        if (r->pb.em) fprintf(fp, " --energy %s", r->pb.em->path);
        fprintf(fp, "\n");
        return;
    }
    if (cifar_range_parse(range, &file, &first, &count)) return;
    fprintf(fp, "%s  approxmap eval --model %s --calib %s --library %s --map %s --data %s --first %d", pfx,
            r->cs->model, r->cs->calibration, r->cs->library, m && m->map_path ? m->map_path : "MAP.yaml", file,
            (int)first);
    if (count >= 0) fprintf(fp, " --count %d", (int)count);
    if (r->pb.em) fprintf(fp, " --energy %s", r->pb.em->path);
    fprintf(fp, "\n");
    free(file);
}

int export_write_yaml(FILE *fp, export_run *r, const export_eval *e, const export_meta *m)
{
    const export_problem *x = &r->pb;
    write_figures(fp, "# ", r, e, m);
    fprintf(fp, "# reproduce with:\n");
    write_eval_hint(fp, "# ", r, r->cs->search, m);
    if (x->holdout_spec) write_eval_hint(fp, "# ", r, x->holdout_spec, m);
    amap_write_stream(&e->map, fp, x->lib, x->layers);
    return ferror(fp) ? msg_error(ST_EIO, "cannot write the exported map: %s", strerror(errno)) : ST_OK;
}

/* 1 when every kernel of layer l uses the same multiplier (written to *mult). */
static int layer_uniform(const amap *map, const amap_layer *L, int l, uint16_t *mult)
{
    const uint16_t *row = amap_layer_mults(map, l);
    size_t nk = (size_t)L->cout * L->cin;
    for (size_t i = 1; i < nk; i++)
        if (row[i] != row[0]) return 0;
    *mult = row[0];
    return 1;
}

/* Layer l's tuned weights when the map has them and they differ from the layer's own, else NULL. */
static const int8_t *tuned_weights(const amap *map, const amap_layer *L, int l)
{
    const int8_t *wt = amap_wt(map, l);
    return wt && (!L->w || memcmp(wt, L->w, map->woffset[l + 1] - map->woffset[l])) ? wt : NULL;
}

int export_write_json(FILE *fp, export_run *r, const export_eval *e, const export_meta *m, int indent)
{
    const export_problem *x = &r->pb;
    const amap *map = &e->map;
    const char *in = "                                ";
    int ind = indent < 24 ? indent : 24;
    fprintf(fp, "%.*s{\n%.*s  \"run\": ", ind, in, ind, in);
    util_put_json_str(fp, r->dir);
    fprintf(fp, ",\n%.*s  \"row\": %ld, \"id\": %" PRIu64 ", \"chosen_by\": ", ind, in, e->row, e->id);
    util_put_json_str(fp, m && m->how ? m->how : "index");
    fprintf(fp, ",\n%.*s  \"model\": ", ind, in);
    util_put_json_str(fp, r->cs->model);
    fprintf(fp, ", \"calibration\": ");
    util_put_json_str(fp, r->cs->calibration);
    fprintf(fp, ", \"library\": ");
    util_put_json_str(fp, r->cs->library);
    fprintf(fp, ", \"granularity\": \"%s\", \"max_loss_pp\": %.17g,\n", amap_granularity_name(x->granularity),
            x->max_loss_pp);
    fprintf(fp, "%.*s  \"energy_rel\": %.17g, \"energy_model\": ", ind, in, e->energy_rel);
    if (x->em)
        util_put_json_str(fp, x->em->path);
    else
        fputs("null", fp);
    fputs(",\n", fp);
    if (e->search_n) {
        fprintf(fp, "%.*s  \"search\": {\"data\": ", ind, in);
        util_put_json_str(fp, r->cs->search);
        fprintf(fp, ", \"images\": %d, \"exact_correct\": %d, \"correct\": %d, \"accuracy_exact\": %.4f, "
                    "\"accuracy\": %.4f, \"loss_pp\": %.17g},\n",
                (int)e->search_n, (int)e->search_exact, (int)e->search_correct, pct(e->search_exact, e->search_n),
                pct(e->search_correct, e->search_n), e->search_loss);
    }
    if (e->has_holdout) {
        fprintf(fp, "%.*s  \"holdout\": {\"data\": ", ind, in);
        util_put_json_str(fp, x->holdout_spec);
        fprintf(fp, ", \"images\": %d, \"exact_correct\": %d, \"correct\": %d, \"accuracy_exact\": %.4f, "
                    "\"accuracy\": %.4f, \"loss_pp\": %.17g, \"ci95_pp\": [%.17g, %.17g], "
                    "\"ci_method\": \"exact: Clopper-Pearson on the discordant images\", \"lost\": %d, "
                    "\"gained\": %d, \"p_mcnemar\": %.17g},\n",
                (int)e->holdout_n, (int)e->holdout_exact, (int)e->holdout_correct, pct(e->holdout_exact, e->holdout_n),
                pct(e->holdout_correct, e->holdout_n), e->holdout_loss, e->ci_lo, e->ci_hi, (int)e->holdout_lost,
                (int)e->holdout_gained, e->p_mcnemar);
    }
    fprintf(fp, "%.*s  \"layers\": [\n", ind, in);
    for (int l = 0; l < x->n_layers; l++) {
        const amap_layer *L = &x->layers[l];
        fprintf(fp, "%.*s    {\"name\": ", ind, in);
        util_put_json_str(fp, L->name);
        fprintf(fp, ", \"cout\": %d, \"cin\": %d, \"macs\": %" PRIu64 ", \"mac_share\": %.17g, \"energy_rel\": %.17g, ",
                (int)L->cout, (int)L->cin, L->macs, e->layer_share[l], e->layer_rel[l]);
        const int32_t *bd = amap_bias_delta(map, l);
        if (bd) {
            fprintf(fp, "\"bias_delta\": [");
            for (int32_t co = 0; co < L->cout; co++) fprintf(fp, "%s%ld", co ? ", " : "", (long)bd[co]);
            fprintf(fp, "], ");
        }
        const int8_t *wt = tuned_weights(map, L, l);
        if (wt) {
            fprintf(fp, "\"weights\": \"");
            for (size_t i = 0; i < map->woffset[l + 1] - map->woffset[l]; i++) fprintf(fp, "%02x", (unsigned)(uint8_t)wt[i]);
            fprintf(fp, "\", ");
        }
        uint16_t u;
        if (layer_uniform(map, L, l, &u)) {
            fprintf(fp, "\"multiplier\": ");
            util_put_json_str(fp, x->lib->mults[u].name);
        } else {
            fprintf(fp, "\"kernels\": [");
            const uint16_t *row = amap_layer_mults(map, l);
            for (int32_t co = 0; co < L->cout; co++) {
                fprintf(fp, "%s[", co ? ", " : "");
                for (int32_t ci = 0; ci < L->cin; ci++) {
                    if (ci) fputs(", ", fp);
                    util_put_json_str(fp, x->lib->mults[row[(size_t)co * L->cin + ci]].name);
                }
                fputc(']', fp);
            }
            fputc(']', fp);
        }
        fprintf(fp, "}%s\n", l + 1 < x->n_layers ? "," : "");
    }
    fprintf(fp, "%.*s  ]\n%.*s}", ind, in, ind, in);
    return ferror(fp) ? msg_error(ST_EIO, "cannot write the exported map: %s", strerror(errno)) : ST_OK;
}

void export_write_c_types(FILE *fp, export_run *r)
{
    (void)r;
    fprintf(fp,
            "#include <stddef.h>\n#include <stdint.h>\n\n"
            "#ifndef APPROXMAP_EXPORT_TYPES\n"
            "#define APPROXMAP_EXPORT_TYPES\n"
            "/* A multiplier of the library. ROUP(k, m): the k least-significant radix-4 Booth partial products of\n"
            " * the weight are dropped and the activation is rounded at bit m; product R_m(a) * R_2k(w) with\n"
            " * R_0(x) = x, R_t(x) = ((x >> t) + ((x >> (t-1)) & 1)) << t. k = m = -1 for other families. */\n"
            "typedef struct approxmap_multiplier {\n"
            "    const char *name;\n"
            "    const char *family;  /* \"exact\", \"roup\", \"table\" or \"c_function\" */\n"
            "    int8_t k, m;\n"
            "    double energy_rel;   /* energy per multiplication relative to the exact multiplier */\n"
            "} approxmap_multiplier;\n\n"
            "/* One approximable layer: mult[co * cin + ci] is the index (into the map's multipliers table) of\n"
            " * the multiplier that kernel (output channel co, input channel ci) uses for all its KH x KW taps. */\n"
            "typedef struct approxmap_layer {\n"
            "    const char *name;\n"
            "    uint16_t cout, cin, kh, kw;\n"
            "    uint64_t macs;       /* multiply-accumulates per image, padding taps included */\n"
            "    const uint8_t *mult; /* cout x cin, row-major */\n"
            "    const int32_t *bias_delta; /* cout deltas to add to the layer's int32 bias (error\n"
            "                                * compensation chosen with the map), or NULL */\n"
            "    const int8_t *weights;     /* (cout, kh, kw, cin) int8 weights to store instead of the\n"
            "                                * layer's own (weight tuning chosen with the map), or NULL */\n"
            "} approxmap_layer;\n"
            "#endif\n");
}

int export_write_c_map(FILE *fp, export_run *r, const export_eval *e, const export_meta *m, const char *prefix)
{
    const export_problem *x = &r->pb;
    const amap *map = &e->map;
    if (x->lib->n > 256)
        return msg_error(ST_EFORMAT, "%s: %d multipliers do not fit the C header's uint8_t indices", x->lib->path, x->lib->n);
    fprintf(fp, "\n/*\n");
    write_figures(fp, " * ", r, e, m);
    fprintf(fp, " */\n");
    char *up = xstrdup(prefix);
    for (char *p = up; *p; p++) *p = (char)toupper((unsigned char)*p);
    fprintf(fp, "#define %s_N_LAYERS %d\n#define %s_N_MULTIPLIERS %d\n", up, x->n_layers, up, x->lib->n);
    fprintf(fp, "#define %s_ENERGY_REL %.17g\n", up, e->energy_rel);
    free(up);
    fprintf(fp, "static const approxmap_multiplier %s_multipliers[%d] = {\n", prefix, x->lib->n);
    for (int i = 0; i < x->lib->n; i++) {
        const amul *mu = &x->lib->mults[i];
        fprintf(fp, "    {");
        util_put_c_str(fp, mu->name);
        fprintf(fp, ", \"%s\", %d, %d, %.17g},\n", amul_family_name(mu->family), mu->family == AMUL_ROUP ? mu->k : -1,
                mu->family == AMUL_ROUP ? mu->m : -1, mu->energy.rel);
    }
    fprintf(fp, "};\n");
    for (int l = 0; l < x->n_layers; l++) {
        const amap_layer *L = &x->layers[l];
        const uint16_t *row = amap_layer_mults(map, l);
        fprintf(fp, "/* layer %d '%s': %d x %d kernels of %d x %d, energy %.4f of the layer all exact */\n", l, L->name,
                (int)L->cout, (int)L->cin, (int)L->kh, (int)L->kw, e->layer_rel[l]);
        fprintf(fp, "static const uint8_t %s_l%d[%d][%d] = {\n", prefix, l, (int)L->cout, (int)L->cin);
        for (int32_t co = 0; co < L->cout; co++) {
            fprintf(fp, "    {");
            for (int32_t ci = 0; ci < L->cin; ci++) fprintf(fp, "%s%u", ci ? ", " : "", row[(size_t)co * L->cin + ci]);
            fprintf(fp, "},\n");
        }
        fprintf(fp, "};\n");
        const int32_t *bd = amap_bias_delta(map, l);
        if (bd) {
            fprintf(fp, "static const int32_t %s_b%d[%d] = {", prefix, l, (int)L->cout);
            for (int32_t co = 0; co < L->cout; co++) fprintf(fp, "%s%ld", co ? ", " : "", (long)bd[co]);
            fprintf(fp, "};\n");
        }
        const int8_t *wt = tuned_weights(map, L, l);
        if (wt) {
            const size_t nw = map->woffset[l + 1] - map->woffset[l];
            fprintf(fp, "static const int8_t %s_w%d[%zu] = {", prefix, l, nw);
            for (size_t i = 0; i < nw; i++) fprintf(fp, "%s%s%d", i ? "," : "", i % 32 ? "" : "\n    ", (int)wt[i]);
            fprintf(fp, "\n};\n");
        }
    }
    fprintf(fp, "static const approxmap_layer %s_layers[%d] = {\n", prefix, x->n_layers);
    for (int l = 0; l < x->n_layers; l++) {
        const amap_layer *L = &x->layers[l];
        fprintf(fp, "    {");
        util_put_c_str(fp, L->name);
        fprintf(fp, ", %d, %d, %d, %d, %" PRIu64 "u, &%s_l%d[0][0], ", (int)L->cout, (int)L->cin, (int)L->kh,
                (int)L->kw, L->macs, prefix, l);
        if (amap_bias_delta(map, l))
            fprintf(fp, "%s_b%d, ", prefix, l);
        else
            fprintf(fp, "NULL, ");
        if (tuned_weights(map, L, l))
            fprintf(fp, "%s_w%d},\n", prefix, l);
        else
            fprintf(fp, "NULL},\n");
    }
    fprintf(fp, "};\n");
    return ferror(fp) ? msg_error(ST_EIO, "cannot write the exported map: %s", strerror(errno)) : ST_OK;
}
