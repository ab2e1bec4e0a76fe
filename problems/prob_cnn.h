/* The CNN approximation problem (`type: cnn`, prob_cnn.c: spec, genome <-> map binding, seeding from
 * a coarser run's front) and its activation cache (prob_cnn_cache.c). Shared with export and report
 * (problems/export.c, problems/report.c), which rebuild a problem from a run directory to re-evaluate
 * its maps. */
#ifndef PROBLEMS_PROB_CNN_H
#define PROBLEMS_PROB_CNN_H

#include <stddef.h>
#include <stdint.h>

#include "amap.h"
#include "amul.h"
#include "approx.h"
#include "approx_eval.h"
#include "cifar.h"
#include "energy.h"
#include "prob.h"
#include "qnn_int8.h"

extern const prob_type prob_type_cnn;

/* Settings read from the problem file (spec->data of a `type: cnn` spec). */
typedef struct cnn_spec {
    char *model, *calibration, *search, *holdout, *library, *energy;
    char **seed_from;          /* n_seed_from run directories (`seed_from:` one path or a list) */
    int n_seed_from;
    long *seed_from_maps;      /* per run: maps taken, spread evenly along its front (0 = the whole front) */
    int seed_from_list;        /* given as a YAML list (then part of the problem hash) */
    long seed_greedy;          /* K maps of the estimate-only greedy path in the initial population */
    int seed_greedy_line, seed_greedy_col;
    int library_line, library_col;
    int n_allowed;             /* 0: every multiplier of the library */
    char **allowed;
    int *allowed_line, *allowed_col;
    amap_granularity granularity;
    double max_loss_pp;
    long cache_mb, chunk;
    int compensate;            /* -1 none (default), 1 bias (per input channel), 0 bias-tensor */
    int early_reject;          /* stop scoring maps that can no longer be feasible (approx_eval_reject) */
    int ranked;                /* encoding: 0 direct (default), 1 ranked */
    long shares;               /* ranked: genes per layer (default 4) */
} cnn_spec;

/* The problem's binding (prob_cnn_ctx.h, private to problems/): genome <-> map over the shared CNN
 * set-up and map evaluator (approx_cnn.h, approx_eval.h), plus the activation cache. */
typedef struct cnn_ctx cnn_ctx;
typedef struct cnn_cache cnn_cache;

/* Build the binding a spec describes: the set-up (quantize, library, layers, energy model,
 * compensation), the search subset and its exact baseline (measured with `threads`, 0: all cores),
 * n_slots evaluation slots and, when cache_bytes > 0, an activation cache of that budget. Errors are
 * reported and name the problem file. Caller frees with cnn_ctx_free(). */
int cnn_ctx_open(const prob_spec *spec, int n_slots, size_t cache_bytes, int threads, cnn_ctx **out);
void cnn_ctx_free(cnn_ctx *x);

/* genes (doubles holding gene values) -> map `m` (sized for the problem's layers): library indices
 * by granularity, and with compensation the map's bias deltas. Uses slot `slot`'s scratch. */
void cnn_genome_to_map(cnn_ctx *x, int slot, const double *genes, amap *m);

/* seed_genomes hook: the greedy path's maps (seed_greedy), the fronts of the seed_from runs expanded
 * into this problem's genomes, then the uniform maps. */
int cnn_seed_genomes(prob *p, size_t max, double *genes, size_t *n);

/* --- activation cache ---------------------------------------------------------------------------
 * Keyed by the map's prefix (the multipliers of layers 0..b-1), an entry holds the tensors that are
 * live before layer b for every image of the search subset, so a map that shares that prefix starts
 * at layer b. Bounded by a byte budget, least recently used out; thread-safe; exact (a hit gives the
 * same tensors a recomputation would), so results never depend on what it holds. */
typedef struct cnn_cache_stats {
    uint64_t lookups, hits, inserts, evictions;
    double macs_total, macs_skipped; /* per-image MACs of approximable layers, summed over lookups */
    size_t bytes, budget;
    int entries;
} cnn_cache_stats;

/* A cache for `net` on a data set of n_images images run in chunks of `chunk`. */
cnn_cache *cnn_cache_alloc(const qnn_int8_net *net, int32_t n_images, int32_t chunk, size_t budget_bytes);
void cnn_cache_free(cnn_cache *c);
/* The evaluator's runner (approx_eval_runner; ctx = the cache): correct answers of `set` (the one the
 * cache was made for) under `muls`, the hooks of map `m`, on workspace `ws`. */
int32_t cnn_cache_run(void *cache, const amap *m, const qnn_layer_mul *muls, qnn_int8_ws *ws, const cifar_set *set,
                      uint8_t *pred, const approx_eval_reject *rj, int32_t *done);
void cnn_cache_get_stats(cnn_cache *c, cnn_cache_stats *out);

#endif
