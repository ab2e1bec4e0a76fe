/* The CNN approximation problem (`type: cnn`): which library multiplier each layer, filter or kernel of
 * a quantized network uses. Objectives (both minimised): multiplier energy relative to the all-exact
 * map (energy.h), and accuracy loss in percentage points against the exact int8 model on the search
 * subset. Constraint: loss <= max_loss_pp (violation = loss - max_loss_pp when positive).
 *
 * Genes are ordinal indices into the allowed multipliers sorted by relative energy, ascending (ties by
 * library order): 0 is the cheapest, the last the most expensive (usually exact), so a +-1 creep means
 * "a little more or less approximate". Granularity `layer` has one gene per approximable layer,
 * `filter` one per output channel, `kernel` one per (output, input channel) pair (amap.h).
 *
 * This file is the binding between genomes and maps; scoring belongs to the shared map evaluator
 * (src/approx/approx_eval.h) on the shared CNN set-up (approx_cnn.h). Evaluation is a pure function of
 * the genome: the map is built, the evaluator runs the search subset in chunks on the calling thread's
 * slot, through an activation cache (prob_cnn_cache.c, the evaluator's runner) that reuses the live
 * tensors after unchanged leading layers. Individuals run in parallel (OpenMP, one slot per thread),
 * so results do not depend on the thread count or on what the cache holds.
 *
 * With `compensate: bias` (or bias-tensor) each map is evaluated with error compensation: every
 * output channel's expected multiplier error under that map, from the exact network's activation
 * distributions on the calibration images, becomes a bias delta of the map (approx_comp.h: amap
 * bias_delta, the deltas' one owner), which the layer hooks add to the bias and export writes. A
 * layer's deltas depend on its own multipliers only, so the activation cache's prefix keys stay valid.
 *
 * Keys of its own (problems/README.md): model, data {calibration, search, holdout}, library,
 * multipliers, granularity, seed_from, seed_greedy, max_loss_pp, cache_mb, chunk, compensate, encoding,
 * shares.
 *
 * With `encoding: ranked` (and `shares: S`, filter or kernel granularity) a genome has S genes per layer,
 * each the multiplier of one share of the layer's filters or kernels ordered by estimated sensitivity
 * (src/approx/sens.h; the order is computed once from the calibration distributions). */
#include <errno.h>
#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "amap.h"
#include "afile.h"
#include "amul.h"
#include "cifar.h"
#include "datadir.h"
#include "energy.h"
#include "greedy.h"
#include "msg.h"
#include "prob.h"
#include "prob_cnn.h"
#include "prob_cnn_ctx.h"
#include "qnn_int8.h"
#include "qnn_quant.h"
#include "rundir.h"
#include "sens.h"
#include "status.h"
#include "util.h"

static int cnn_spec_init(prob_spec *spec)
{
    cnn_spec *c = xcalloc(1, sizeof *c);
    c->granularity = AMAP_LAYER;
    c->max_loss_pp = 4.0;
    c->cache_mb = 1024;
    c->chunk = 50;
    c->compensate = -1;
    c->shares = 4;
    spec->data = c;
    return ST_OK;
}

static void cnn_spec_free(prob_spec *spec)
{
    cnn_spec *c = spec->data;
    if (!c) return;
    free(c->model);
    free(c->calibration);
    free(c->search);
    free(c->holdout);
    free(c->library);
    for (int i = 0; i < c->n_allowed; i++) free(c->allowed[i]);
    free(c->allowed);
    free(c->allowed_line);
    free(c->allowed_col);
    for (int i = 0; i < c->n_seed_from; i++) free(c->seed_from[i]);
    free(c->seed_from);
    free(c->seed_from_maps);
    free(c->energy);
    free(c);
    spec->data = NULL;
}

static int set_str(const prob_yaml *y, yaml_node_t *v, const char *key, char **dst)
{
    const char *s;
    int rc = prob_yaml_str(y, v, key, &s);
    if (rc) return rc;
    if (!*s) return prob_yaml_error(y, v, "'%s' must not be empty", key);
    free(*dst);
    *dst = xstrdup(s);
    return ST_OK;
}

static int parse_data(const prob_yaml *y, yaml_node_t *v, cnn_spec *c)
{
    int rc = prob_yaml_mapping(y, v, "data");
    if (rc) return rc;
    for (yaml_node_pair_t *p = v->data.mapping.pairs.start; p < v->data.mapping.pairs.top; p++) {
        yaml_node_t *k = yaml_document_get_node(y->doc, p->key);
        yaml_node_t *val = yaml_document_get_node(y->doc, p->value);
        const char *key;
        if ((rc = prob_yaml_str(y, k, "data key", &key))) return rc;
        char **dst = !strcmp(key, "calibration") ? &c->calibration
                   : !strcmp(key, "search")      ? &c->search
                   : !strcmp(key, "holdout")     ? &c->holdout
                                                 : NULL;
        if (!dst)
            return prob_yaml_error(y, k, "unknown key 'data.%s' (expected calibration, search, holdout)", key);
        if ((rc = set_str(y, val, key, dst))) return rc;
        const char *why;
        int bad = cifar_range_check(*dst, &why);
        if (bad == CIFAR_RANGE_NO_FILE)
            return prob_yaml_error(y, val, "'%s' must be FILE[:FIRST[:COUNT]] or a list of them joined by ','", key);
        if (bad) return prob_yaml_error(y, val, "bad range '%s' in 'data.%s': %s", *dst, key, why);
    }
    return ST_OK;
}

static int parse_allowed(const prob_yaml *y, yaml_node_t *v, cnn_spec *c)
{
    if (v->type != YAML_SEQUENCE_NODE)
        return prob_yaml_error(y, v, "'multipliers' must be a list of multiplier names");
    int n = (int)(v->data.sequence.items.top - v->data.sequence.items.start);
    if (n < 1) return prob_yaml_error(y, v, "'multipliers' must name at least one multiplier");
    c->allowed = xcalloc((size_t)n, sizeof *c->allowed);
    c->allowed_line = xcalloc((size_t)n, sizeof *c->allowed_line);
    c->allowed_col = xcalloc((size_t)n, sizeof *c->allowed_col);
    for (int i = 0; i < n; i++) {
        yaml_node_t *it = yaml_document_get_node(y->doc, v->data.sequence.items.start[i]);
        const char *s;
        int rc = prob_yaml_str(y, it, "multipliers item", &s);
        if (rc) return rc;
        for (int j = 0; j < i; j++)
            if (!strcmp(c->allowed[j], s)) return prob_yaml_error(y, it, "multiplier '%s' is listed twice", s);
        c->allowed[i] = xstrdup(s);
        c->allowed_line[i] = (int)it->start_mark.line + 1;
        c->allowed_col[i] = (int)it->start_mark.column + 1;
        c->n_allowed = i + 1;
    }
    return ST_OK;
}

/* A seed_from list item given as {run: DIR, maps: K}: K maps of DIR's front, spread evenly along it.
 * *dir is set only when the whole item is valid. */
static int parse_seed_item(const prob_yaml *y, yaml_node_t *v, char **dir, long *maps)
{
    int rc = ST_OK;
    char *run = NULL;
    for (yaml_node_pair_t *p = v->data.mapping.pairs.start; p < v->data.mapping.pairs.top && !rc; p++) {
        yaml_node_t *k = yaml_document_get_node(y->doc, p->key);
        yaml_node_t *val = yaml_document_get_node(y->doc, p->value);
        const char *key;
        if ((rc = prob_yaml_str(y, k, "seed_from key", &key))) break;
        if (!strcmp(key, "run"))
            rc = set_str(y, val, "seed_from run", &run);
        else if (!strcmp(key, "maps"))
            rc = prob_yaml_int(y, val, "seed_from maps", 1, 1L << 20, maps);
        else
            rc = prob_yaml_error(y, k, "unknown key '%s' in a seed_from item (expected run, maps)", key);
    }
    if (!rc && !run) rc = prob_yaml_error(y, v, "a seed_from item needs 'run: DIRECTORY'");
    if (!rc && !*maps) rc = prob_yaml_error(y, v, "a seed_from item needs 'maps: COUNT' (or give the path alone)");
    if (rc) {
        free(run);
        return rc;
    }
    *dir = run;
    return ST_OK;
}

static int cnn_parse_key(const prob_yaml *y, const char *key, yaml_node_t *key_node, yaml_node_t *v,
                         prob_spec *spec)
{
    cnn_spec *c = spec->data;
    int rc;
    if (!strcmp(key, "model")) {
        rc = set_str(y, v, key, &c->model);
    } else if (!strcmp(key, "library")) {
        rc = set_str(y, v, key, &c->library);
        c->library_line = (int)v->start_mark.line + 1;
        c->library_col = (int)v->start_mark.column + 1;
    } else if (!strcmp(key, "data")) {
        rc = parse_data(y, v, c);
    } else if (!strcmp(key, "multipliers")) {
        rc = parse_allowed(y, v, c);
    } else if (!strcmp(key, "granularity")) {
        const char *s;
        if ((rc = prob_yaml_str(y, v, key, &s))) return rc;
        int g = amap_granularity_parse(s);
        if (g < 0) return prob_yaml_error(y, v, "unknown granularity '%s' (expected layer, filter or kernel)", s);
        c->granularity = (amap_granularity)g;
    } else if (!strcmp(key, "energy")) {
        rc = set_str(y, v, key, &c->energy);
    } else if (!strcmp(key, "seed_from")) {
        for (int i = 0; i < c->n_seed_from; i++) free(c->seed_from[i]);
        free(c->seed_from);
        free(c->seed_from_maps);
        c->seed_from = NULL;
        c->seed_from_maps = NULL;
        c->n_seed_from = 0;
        rc = ST_OK;
        c->seed_from_list = v->type == YAML_SEQUENCE_NODE;
        if (c->seed_from_list) {
            int n = (int)(v->data.sequence.items.top - v->data.sequence.items.start);
            if (n < 1) return prob_yaml_error(y, v, "'seed_from' must name at least one run directory");
            c->seed_from = xcalloc((size_t)n, sizeof *c->seed_from);
            c->seed_from_maps = xcalloc((size_t)n, sizeof *c->seed_from_maps);
            for (int i = 0; i < n && !rc; i++) {
                yaml_node_t *it = yaml_document_get_node(y->doc, v->data.sequence.items.start[i]);
                if (it->type == YAML_MAPPING_NODE)
                    rc = parse_seed_item(y, it, &c->seed_from[i], &c->seed_from_maps[i]);
                else
                    rc = set_str(y, it, "seed_from item", &c->seed_from[i]);
                if (!rc) c->n_seed_from = i + 1;
            }
        } else {
            c->seed_from = xcalloc(1, sizeof *c->seed_from);
            c->seed_from_maps = xcalloc(1, sizeof *c->seed_from_maps);
            rc = set_str(y, v, key, &c->seed_from[0]);
            if (!rc) c->n_seed_from = 1;
        }
    } else if (!strcmp(key, "seed_greedy")) {
        rc = prob_yaml_int(y, v, key, 0, 1L << 20, &c->seed_greedy);
        c->seed_greedy_line = (int)v->start_mark.line + 1;
        c->seed_greedy_col = (int)v->start_mark.column + 1;
    } else if (!strcmp(key, "max_loss_pp")) {
        rc = prob_yaml_real(y, v, key, 0, 100, &c->max_loss_pp);
    } else if (!strcmp(key, "cache_mb")) {
        rc = prob_yaml_int(y, v, key, 0, 1L << 20, &c->cache_mb);
    } else if (!strcmp(key, "chunk")) {
        rc = prob_yaml_int(y, v, key, 1, 4096, &c->chunk);
    } else if (!strcmp(key, "early_reject")) {
        const char *s;
        if ((rc = prob_yaml_str(y, v, key, &s))) return rc;
        if (!strcmp(s, "true") || !strcmp(s, "yes")) c->early_reject = 1;
        else if (!strcmp(s, "false") || !strcmp(s, "no")) c->early_reject = 0;
        else return prob_yaml_error(y, v, "early_reject wants true or false, not '%s'", s);
    } else if (!strcmp(key, "compensate")) {
        const char *s;
        if ((rc = prob_yaml_str(y, v, key, &s))) return rc;
        c->compensate = approx_comp_mode_parse(s);
        if (c->compensate == -2)
            return prob_yaml_error(y, v, "unknown compensation '%s' (expected none, bias, bias-tensor, bias+weights, bias+seq or bias+weights+seq)", s);
    } else if (!strcmp(key, "encoding")) {
        const char *s;
        if ((rc = prob_yaml_str(y, v, key, &s))) return rc;
        if (strcmp(s, "direct") && strcmp(s, "ranked"))
            return prob_yaml_error(y, v, "unknown encoding '%s' (expected direct or ranked)", s);
        c->ranked = !strcmp(s, "ranked");
    } else if (!strcmp(key, "shares")) {
        rc = prob_yaml_int(y, v, key, 1, 256, &c->shares);
    } else {
        (void)key_node;
        return 0;
    }
    return rc ? rc : 1;
}

static int cnn_validate(const prob_yaml *y, yaml_node_t *root, prob_spec *spec)
{
    cnn_spec *c = spec->data;
    const char *missing = !c->model ? "model" : !c->library ? "library" : !c->search ? "data.search"
                        : !c->calibration ? "data.calibration" : NULL;
    if (missing) return prob_yaml_error(y, root, "missing key '%s'", missing);
    if (c->ranked && c->granularity == AMAP_LAYER)
        return prob_yaml_error(y, root, "encoding 'ranked' needs granularity filter or kernel");
    if (c->seed_greedy > spec->ga.population)
        return msg_error(ST_EPARSE, "%s:%d:%d: seed_greedy %ld exceeds the population (%ld)", y->path,
                         c->seed_greedy_line, c->seed_greedy_col, c->seed_greedy, (long)spec->ga.population);
    return ST_OK;
}

/* ---------------------------------------------------------------------------------------------- */

/* Hash of the whole file at `path` (0 when unreadable or not a regular file: the import reports that). */
static uint64_t file_hash(const char *path)
{
    FILE *fp = fopen(path, "rb");
    if (!fp) return 0;
    struct stat st;
    if (fstat(fileno(fp), &st) != 0 || !S_ISREG(st.st_mode)) { /* /dev/zero would never end */
        fclose(fp);
        return 0;
    }
    uint64_t h = UTIL_FNV1A_INIT;
    unsigned char buf[1 << 15];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, fp)) > 0) h = util_fnv1a(h, buf, n);
    fclose(fp);
    return h;
}

/* Sort allowed multipliers by relative energy (ascending; library order breaks ties). */
static const amul_lib *g_sort_lib; /* only during the single-threaded qsort in create() */
static int by_energy(const void *pa, const void *pb)
{
    int a = *(const int *)pa, b = *(const int *)pb;
    double ea = g_sort_lib->mults[a].energy.rel, eb = g_sort_lib->mults[b].energy.rel;
    if (ea < eb) return -1;
    if (ea > eb) return 1;
    return (a > b) - (a < b);
}

/* The allowed multipliers of a spec as library indices sorted by energy (the gene order). `where`
 * names the problem file for positional errors. */
static int sort_allowed(const cnn_spec *c, const amul_lib *lib, const char *where, int **out, int *n_out)
{
    int n = c->n_allowed ? c->n_allowed : lib->n;
    int *allowed = xcalloc((size_t)n, sizeof *allowed);
    for (int i = 0; i < n; i++) {
        int idx = i;
        if (c->n_allowed) {
            idx = amul_lib_find(lib, c->allowed[i]);
            if (idx < 0) {
                free(allowed);
                return msg_error(ST_EFORMAT, "%s:%d:%d: multiplier '%s' is not in library '%s'", where,
                                 c->allowed_line[i], c->allowed_col[i], c->allowed[i], lib->path);
            }
        }
        if (!isfinite(lib->mults[idx].energy.rel)) {
            free(allowed);
            return msg_error(ST_EFORMAT, "%s: multiplier '%s' has no relative energy; it cannot be searched",
                             lib->path, lib->mults[idx].name);
        }
        allowed[i] = idx;
    }
    g_sort_lib = lib;
    qsort(allowed, (size_t)n, sizeof *allowed, by_energy);
    g_sort_lib = NULL;
    *out = allowed;
    *n_out = n;
    return ST_OK;
}

void cnn_genome_to_map(cnn_ctx *x, int slot, const double *genes, amap *m)
{
    int *genome = x->genome[slot];
    for (size_t i = 0; i < x->genome_len; i++) {
        long g = lround(genes[i]);
        ASSERT(g >= 0 && g < x->n_allowed);
        genome[i] = x->allowed[g];
    }
    if (x->shares)
        sens_rank_expand(m, x->cnn.layers, x->cnn.n_layers, x->granularity, x->shares, x->rank_order, genome);
    else
        amap_expand(m, x->cnn.layers, x->granularity, genome);
    approx_eval_compensate(x->ev, m); /* with compensation: the map's own bias deltas */
}

/* Objectives of one genome on evaluation slot `slot`: its map is scored on the search subset, through
 * the activation cache when there is one. */
static int eval_one(cnn_ctx *x, int slot, const double *genes, double *f, double *cv)
{
    amap *m = &x->maps[slot];
    cnn_genome_to_map(x, slot, genes, m);
    approx_eval_result res;
    int rc = approx_eval_map(x->ev, slot, m, &x->search, 1, 0, NULL, NULL, &res);
    if (rc) return rc;
    f[0] = res.energy->rel;
    f[1] = res.loss_pp; /* rejected early: a lower bound, above the limit */
    *cv = res.loss_pp > x->max_loss_pp ? res.loss_pp - x->max_loss_pp : 0;
#pragma omp atomic
    x->n_scored++;
#pragma omp atomic
    x->images_total += (uint64_t)res.n;
#pragma omp atomic
    x->images_run += (uint64_t)res.images_run;
    if (res.rejected) {
#pragma omp atomic
        x->n_rejected++;
    }
    return ST_OK;
}

static int cnn_evaluate(prob *p, size_t n, const double *xs, double *f, double *cv, int threads,
                        const volatile sig_atomic_t *stop)
{
    cnn_ctx *x = p->ctx;
    int nt = util_threads(threads, x->n_slots);
    int rc = ST_OK;
#pragma omp parallel for schedule(dynamic, 1) num_threads(nt)
    for (size_t i = 0; i < n; i++) {
        if (*stop || rc) continue;
        int r = eval_one(x, omp_get_thread_num(), xs + i * p->n_genes, f + i * p->n_obj, cv + i);
        if (r) {
#pragma omp atomic write
            rc = r;
        }
    }
    if (rc) return rc;
    return *stop ? ST_EINTR : ST_OK;
}

static void cnn_stats(prob *p, char *buf, size_t len)
{
    cnn_ctx *x = p->ctx;
    int k;
    if (!x->cache) {
        k = snprintf(buf, len, "act-cache off");
    } else {
        cnn_cache_stats st;
        cnn_cache_get_stats(x->cache, &st);
        k = snprintf(buf, len, "act-cache %.0f%% hits, %.0f%% MACs skipped, %d entries %.0f MB, %llu evicted",
                     st.lookups ? 100.0 * (double)st.hits / (double)st.lookups : 0.0,
                     st.macs_total > 0 ? 100.0 * st.macs_skipped / st.macs_total : 0.0, st.entries,
                     (double)st.bytes / (1 << 20), (unsigned long long)st.evictions);
    }
    if (x->search.early_reject && k > 0 && (size_t)k < len)
        snprintf(buf + k, len - (size_t)k, "; early rejection: %llu of %llu maps, %.0f%% of images skipped",
                 (unsigned long long)x->n_rejected, (unsigned long long)x->n_scored,
                 x->images_total ? 100.0 * (double)(x->images_total - x->images_run) / (double)x->images_total : 0.0);
}

static void cnn_destroy(prob *p)
{
    cnn_ctx *x = p->ctx;
    if (!x) return;
    cnn_ctx_free(x);
}

void cnn_ctx_free(cnn_ctx *x)
{
    if (!x) return;
    for (int i = 0; x->maps && i < x->n_slots; i++) {
        amap_deinit(&x->maps[i]);
        free(x->genome[i]);
    }
    free(x->maps);
    free(x->genome);
    cnn_cache_free(x->cache);
    approx_eval_data_deinit(&x->search);
    approx_eval_close(x->ev);
    approx_cnn_close(&x->cnn);
    free(x->allowed);
    free(x->rank_order);
    cifar_set_deinit(&x->search_set);
    free(x->path);
    free(x->holdout_spec);
    for (int i = 0; i < x->n_seed_from; i++) free(x->seed_from[i]);
    free(x->seed_from);
    free(x->seed_from_maps);
    free(x->calibration);
    free(x);
}

int cnn_sens_table(cnn_ctx *x, sens_table *t)
{
    const approx_cnn *cn = &x->cnn;
    approx_comp own = {0};
    const approx_comp *comp = &cn->comp;
    int rc;
    if (!cn->has_comp) {
        cifar_set cal = {0};
        if ((rc = cifar_load_range(x->calibration, &cal))) return rc;
        rc = approx_comp_init(&own, cn->net, cn->layers, &cn->lib, &cal, 1, 0);
        cifar_set_deinit(&cal);
        if (rc) return rc;
        comp = &own;
    }
    double **fs = sens_fscale_from_net(cn->net);
    sens_input in = {.layers = cn->layers, .n_layers = cn->n_layers, .lib = &cn->lib, .mults = x->allowed,
                     .n_mults = x->n_allowed, .act_p = (const double *const *)comp->act_p,
                     .per_channel = comp->per_channel, .fscale = (const double *const *)fs,
                     .compensated = x->compensate >= 0,
                     .e_layer = cn->has_em ? cn->em.e_layer : NULL, .e_exact = cn->has_em ? cn->em.e_exact : NULL};
    rc = sens_compute(t, &in, 0);
    sens_fscale_free(fs, cn->n_layers);
    approx_comp_deinit(&own);
    return rc;
}

/* Ranked encoding: each layer's filters or kernels by ascending estimated sensitivity under the allowed
 * multipliers (sens.h; the order depends on the noise figures only). */
static int rank_order_init(cnn_ctx *x)
{
    const approx_cnn *cn = &x->cnn;
    sens_table t;
    int rc = cnn_sens_table(x, &t);
    if (!rc) {
        x->rank_order = xmalloc((sens_rank_offset(cn->layers, cn->n_layers, x->granularity) + 1) * sizeof *x->rank_order);
        sens_rank_order(&t, cn->layers, x->granularity, x->rank_order);
        sens_deinit(&t);
    }
    return rc;
}

int cnn_ctx_open(const prob_spec *spec, int n_slots, size_t cache_bytes, int threads, cnn_ctx **out)
{
    const cnn_spec *c = spec->data;
    cnn_ctx *x = xcalloc(1, sizeof *x);
    x->path = xstrdup(spec->path);
    x->granularity = c->granularity;
    x->max_loss_pp = c->max_loss_pp;
    x->chunk = c->chunk;
    x->holdout_spec = c->holdout ? xstrdup(c->holdout) : NULL;
    x->n_seed_from = c->n_seed_from;
    x->seed_from = xcalloc((size_t)c->n_seed_from + 1, sizeof *x->seed_from);
    for (int i = 0; i < c->n_seed_from; i++) x->seed_from[i] = xstrdup(c->seed_from[i]);
    x->seed_from_maps = xcalloc((size_t)c->n_seed_from + 1, sizeof *x->seed_from_maps);
    for (int i = 0; i < c->n_seed_from; i++) x->seed_from_maps[i] = c->seed_from_maps[i];
    x->seed_greedy = (int)c->seed_greedy;
    x->calibration = xstrdup(c->calibration);
    x->compensate = c->compensate;
    int rc;
    approx_cnn_opts o = approx_cnn_opts_default();
    o.model = c->model;
    o.calib = c->calibration;
    o.library = c->library;
    o.compensate = c->compensate;
    o.where = spec->path;
    /* a per-layer energy model (approxmap characterize --layers): as given, else in the source tree */
    char *ep = !c->energy ? NULL
             : access(c->energy, R_OK) == 0 ? xstrdup(c->energy) : xasprintf("%s/%s", APPROXMAP_SRCDIR, c->energy);
    o.energy = ep;
    rc = approx_cnn_open(&x->cnn, &o);
    free(ep);
    if (rc) goto fail;
    const approx_cnn *cn = &x->cnn;
    if ((rc = sort_allowed(c, &cn->lib, spec->path, &x->allowed, &x->n_allowed))) goto fail;
    for (int i = 0; cn->has_em && i < x->n_allowed; i++)
        for (int l = 0; l < cn->n_layers; l++)
            if (!isfinite(cn->em.e_layer[(size_t)l * cn->lib.n + x->allowed[i]])) {
                rc = msg_error(ST_EFORMAT, "%s: energy model '%s' has no figure for multiplier '%s' in layer '%s'",
                               spec->path, c->energy, cn->lib.mults[x->allowed[i]].name, cn->layers[l].name);
                goto fail;
            }
    if ((rc = cifar_load_range(c->search, &x->search_set))) goto fail;
    if (x->search_set.n < 1) {
        rc = msg_error(ST_EFORMAT, "%s: the search subset '%s' holds no images", spec->path, c->search);
        goto fail;
    }
    x->genome_len = amap_genome_len(cn->layers, cn->n_layers, x->granularity);
    if (c->ranked) {
        x->shares = (int)c->shares;
        x->genome_len = (size_t)cn->n_layers * (size_t)x->shares;
        if ((rc = rank_order_init(x))) goto fail;
    }

    x->n_slots = n_slots > 0 ? n_slots : 1;
    x->ev = approx_eval_open(cn, x->n_slots, (int32_t)x->chunk);
    x->maps = xcalloc((size_t)x->n_slots, sizeof *x->maps);
    x->genome = xcalloc((size_t)x->n_slots, sizeof *x->genome);
    for (int i = 0; i < x->n_slots; i++) {
        amap_init(&x->maps[i], cn->layers, cn->n_layers, 0);
        x->genome[i] = xcalloc(x->genome_len ? x->genome_len : 1, sizeof **x->genome);
    }
    /* the exact baseline on the search subset; then the cache serves the search's serial runs */
    approx_eval_data_init(x->ev, &x->search, &x->search_set, 0, threads, NULL, NULL);
    x->search.early_reject = c->early_reject;
    x->search.max_loss_pp = c->max_loss_pp;
    if (cache_bytes > 0) {
        x->cache = cnn_cache_alloc(cn->net, x->search_set.n, (int32_t)x->chunk, cache_bytes);
        x->search.run = cnn_cache_run;
        x->search.run_ctx = x->cache;
    }

    /* what identifies the search: model bytes, data, library content, allowed set, granularity,
     * constraint (the calibration determines the int8 model and so is part of it too) */
    char *model_path = datadir_resolve(c->model);
    uint64_t h = util_fnv1a(UTIL_FNV1A_INIT, &(uint64_t){file_hash(model_path)}, 8);
    free(model_path);
    h = util_fnv1a(h, c->calibration, strlen(c->calibration) + 1);
    h = util_fnv1a(h, c->search, strlen(c->search) + 1);
    h = util_fnv1a(h, &x->granularity, sizeof x->granularity);
    h = util_fnv1a(h, &x->max_loss_pp, sizeof x->max_loss_pp);
    for (int i = 0; i < x->n_allowed; i++) {
        const amul *m = &cn->lib.mults[x->allowed[i]];
        h = util_fnv1a(h, m->name, strlen(m->name) + 1);
        h = util_fnv1a(h, m->lut, AMUL_LUT_SIZE * sizeof *m->lut);
        h = util_fnv1a(h, &m->energy.rel, sizeof m->energy.rel);
    }
    if (cn->has_em) h = util_fnv1a(h, cn->em.e_layer, (size_t)cn->n_layers * cn->lib.n * sizeof *cn->em.e_layer);
    if (x->compensate >= 0) h = util_fnv1a(h, &x->compensate, sizeof x->compensate); /* none keeps older hashes */
    if (c->early_reject) { /* the bounds it records depend on where it stops: on the chunk size */
        h = util_fnv1a(h, "early_reject", 13);
        h = util_fnv1a(h, &x->chunk, sizeof x->chunk);
    }
    if (x->shares)
        h = util_fnv1a(h, x->rank_order, sens_rank_offset(cn->layers, cn->n_layers, x->granularity) * sizeof *x->rank_order);
    if (x->shares) h = util_fnv1a(h, &x->shares, sizeof x->shares);
    /* what changes the initial population (a single seed_from path keeps older hashes) */
    if (c->seed_from_list) {
        h = util_fnv1a(h, "seed_from", 10);
        for (int i = 0; i < c->n_seed_from; i++) {
            h = util_fnv1a(h, c->seed_from[i], strlen(c->seed_from[i]) + 1);
            if (c->seed_from_maps[i]) { /* {run, maps} items only: plain paths keep older hashes */
                h = util_fnv1a(h, "maps", 5);
                h = util_fnv1a(h, &c->seed_from_maps[i], sizeof c->seed_from_maps[i]);
            }
        }
    }
    if (c->seed_greedy) {
        h = util_fnv1a(h, "seed_greedy", 12);
        h = util_fnv1a(h, &c->seed_greedy, sizeof c->seed_greedy);
    }
    x->definition_hash = h;
    *out = x;
    return ST_OK;
fail:
    cnn_ctx_free(x);
    return rc;
}

static int cnn_create(const prob_spec *spec, prob **out)
{
    const cnn_spec *c = spec->data;
    cnn_ctx *x;
    int rc = cnn_ctx_open(spec, util_threads(0, INT32_MAX), (size_t)c->cache_mb << 20, 0, &x);
    if (rc) return rc;
    prob *p = prob_alloc("cnn", x->genome_len, 2, 1);
    for (size_t i = 0; i < p->n_genes; i++) {
        p->genes[i].kind = NSGA_INT;
        p->genes[i].lo = 0;
        p->genes[i].hi = x->n_allowed - 1;
    }
    /* gene blocks for the GA's block operators: one per layer (its filters' or kernels' genes in genome
     * order; a single gene at layer granularity; its shares with the ranked encoding, a run of the layer's
     * sensitivity order) */
    p->n_blocks = (size_t)x->cnn.n_layers;
    p->blocks = xmalloc((p->n_blocks + 1) * sizeof *p->blocks);
    p->blocks[0] = 0;
    for (int l = 0; l < x->cnn.n_layers; l++)
        p->blocks[l + 1] = p->blocks[l] + (x->shares ? (size_t)x->shares : amap_genome_len(&x->cnn.layers[l], 1, x->granularity));
    ASSERT(p->blocks[p->n_blocks] == p->n_genes);
    /* hypervolume reference: energy 1.1 (all exact = 1), loss just past the constraint */
    p->ref[0] = 1.1;
    p->ref[1] = c->max_loss_pp + 1;
    p->ctx = x;
    p->evaluate = cnn_evaluate;
    p->destroy = cnn_destroy;
    p->stats = cnn_stats;
    p->seed_genomes = cnn_seed_genomes;
    p->hash = prob_hash(p, &x->definition_hash, sizeof x->definition_hash);
    *out = p;
    return ST_OK;
}

const prob_type prob_type_cnn = {"cnn", cnn_spec_init, cnn_parse_key, cnn_validate, cnn_create, cnn_spec_free};

/* ---------------------------------------------------------------------------------------------- */
/* Seeding from a coarser run: its front's genomes, expanded exactly into this granularity. */

/* The genes of every row of a front.csv (rundir's reader). Returns rows (caller frees). */
static int read_front_genes(const char *path, size_t n_genes, double **rows, size_t *n_rows)
{
    rundir_front f;
    int rc = rundir_front_read(path, 2, n_genes, &f);
    if (rc) return rc;
    *rows = f.genes;
    *n_rows = f.n_rows;
    f.genes = NULL;
    rundir_front_deinit(&f);
    return ST_OK;
}

static int seed_from_run(prob *p, const char *dir, long want, size_t max, double *genes, size_t *n_out)
{
    cnn_ctx *x = p->ctx;
    char *ppath = xasprintf("%s/problem.yaml", dir);
    char *fpath = xasprintf("%s/front.csv", dir);
    prob_spec cs;
    amul_lib clib = {0};
    int *callowed = NULL, n_callowed = 0;
    double *rows = NULL;
    size_t n_rows = 0;
    int rc = prob_load(&cs, ppath);
    if (rc) goto out_nospec;
    if (cs.type != &prob_type_cnn) {
        rc = msg_error(ST_EFORMAT, "%s: seed_from run '%s' is not a cnn search", x->path, dir);
        goto out;
    }
    const cnn_spec *c = cs.data;
    if (x->shares && c->granularity != AMAP_LAYER) {
        rc = msg_error(ST_EFORMAT, "%s: a ranked search can be seeded from a layer-level run only ('%s' is %s)",
                       x->path, dir, amap_granularity_name(c->granularity));
        goto out;
    }
    if (c->granularity > x->granularity) {
        rc = msg_error(ST_EFORMAT, "%s: cannot seed a %s search from the %s run '%s' (it is finer)", x->path,
                       amap_granularity_name(x->granularity), amap_granularity_name(c->granularity), dir);
        goto out;
    }
    char *lib_path = amul_lib_resolve(c->library);
    rc = amul_lib_load(&clib, lib_path);
    free(lib_path);
    if (rc) goto out;
    if ((rc = sort_allowed(c, &clib, ppath, &callowed, &n_callowed))) goto out;
    const amap_layer *layers = x->cnn.layers;
    const int n_layers = x->cnn.n_layers;
    size_t clen = amap_genome_len(layers, n_layers, c->granularity);
    if ((rc = read_front_genes(fpath, clen, &rows, &n_rows))) goto out;
    /* coarse gene -> position in this problem's allowed list, by multiplier name */
    int *pos = xmalloc((size_t)n_callowed * sizeof *pos);
    for (int i = 0; i < n_callowed; i++) {
        pos[i] = -1;
        for (int j = 0; j < x->n_allowed; j++)
            if (!strcmp(clib.mults[callowed[i]].name, x->cnn.lib.mults[x->allowed[j]].name)) pos[i] = j;
    }
    amap *sm = &x->maps[0];
    int *cg = xmalloc((clen ? clen : 1) * sizeof *cg);
    /* want > 0 (fewer than the front's rows): rows round(i (n_rows - 1) / (want - 1)), i = 0..want-1, spread
     * evenly along the front's order (by energy) with both ends kept; want 1 takes the middle row */
    size_t take = want > 0 && (size_t)want < n_rows ? (size_t)want : n_rows;
    size_t n = 0;
    for (size_t i = 0; i < take && n < max && !rc; i++) {
        size_t r = take == n_rows ? i
                 : take == 1      ? (n_rows - 1) / 2
                                  : (size_t)((i * (n_rows - 1) + (take - 1) / 2) / (take - 1));
        for (size_t g = 0; g < clen; g++) {
            long v = lround(rows[r * clen + g]);
            if (v < 0 || v >= n_callowed) {
                rc = msg_error(ST_EFORMAT, "%s: gene %zu of row %zu is out of range", fpath, g + 1, r + 1);
                break;
            }
            if (pos[v] < 0) {
                rc = msg_error(ST_EFORMAT, "%s: seed multiplier '%s' is not allowed in this search", fpath,
                               clib.mults[callowed[v]].name);
                break;
            }
            cg[g] = (int)pos[v];
        }
        if (rc) break;
        /* expand in gene space: positions are valid indices for amap_expand, and the map's entries are
         * then positions in this problem's allowed list */
        amap_expand(sm, layers, c->granularity, cg);
        double *dst = genes + n * p->n_genes;
        size_t gi = 0;
        for (int l = 0; l < n_layers; l++) {
            const uint16_t *m = amap_layer_mults(sm, l);
            int32_t cout = layers[l].cout, cin = layers[l].cin;
            if (x->granularity == AMAP_LAYER)
                dst[gi++] = m[0];
            else if (x->shares) /* ranked: every share of the layer gets the layer's multiplier */
                for (int s = 0; s < x->shares; s++) dst[gi++] = m[0];
            else if (x->granularity == AMAP_FILTER)
                for (int32_t co = 0; co < cout; co++) dst[gi++] = m[(size_t)co * cin];
            else
                for (size_t q = 0; q < (size_t)cout * cin; q++) dst[gi++] = m[q];
        }
        ASSERT(gi == p->n_genes);
        n++;
    }
    free(cg);
    free(pos);
    *n_out = rc ? 0 : n;
out:
    prob_spec_deinit(&cs);
out_nospec:
    free(rows);
    free(callowed);
    amul_lib_deinit(&clib);
    free(ppath);
    free(fpath);
    return rc;
}

/* Initial genomes: the estimate-only greedy path's maps (seed_greedy, greedy.h), the fronts of the
 * seed_from runs in the order given, then every uniform map (each allowed multiplier everywhere, the
 * exact one included), so that the first population already spans the whole energy range with
 * known-good points; random individuals fill the rest (the driver's job). */
int cnn_seed_genomes(prob *p, size_t max, double *genes, size_t *n_out)
{
    cnn_ctx *x = p->ctx;
    size_t n = 0;
    if (x->seed_greedy > 0) {
        int rc = greedy_seed_genomes(x, p->n_genes, x->seed_greedy, max, genes, &n);
        if (rc) return rc;
    }
    for (int i = 0; i < x->n_seed_from && n < max; i++) {
        size_t k = 0;
        int rc = seed_from_run(p, x->seed_from[i], x->seed_from_maps[i], max - n, genes + n * p->n_genes, &k);
        if (rc) return rc;
        n += k;
    }
    for (int a = x->n_allowed - 1; a >= 0 && n < max; a--, n++)
        for (size_t g = 0; g < p->n_genes; g++) genes[n * p->n_genes + g] = a;
    *n_out = n;
    return ST_OK;
}
