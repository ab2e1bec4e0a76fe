/* The CNN approximation problem (`type: cnn`, prob_cnn.c, which also seeds a search from a coarser
 * run's front) and its activation cache (prob_cnn_cache.c). Shared with export and report, which
 * rebuild a problem from a run directory to re-evaluate its maps. */
#ifndef PROBLEMS_PROB_CNN_H
#define PROBLEMS_PROB_CNN_H

#include <stddef.h>
#include <stdint.h>

#include "amap.h"
#include "amul.h"
#include "approx.h"
#include "cifar.h"
#include "energy.h"
#include "prob.h"
#include "qnn_int8.h"

extern const prob_type prob_type_cnn;

/* Settings read from the problem file (spec->data of a `type: cnn` spec). */
typedef struct cnn_spec {
    char *model, *calibration, *search, *holdout, *library, *seed_from, *energy;
    int library_line, library_col;
    int n_allowed;             /* 0: every multiplier of the library */
    char **allowed;
    int *allowed_line, *allowed_col;
    amap_granularity granularity;
    double max_loss_pp;
    long cache_mb, chunk;
    int compensate;            /* -1 none (default), 1 bias (per input channel), 0 bias-tensor */
} cnn_spec;

typedef struct cnn_cache cnn_cache;

/* Per-thread evaluation state: allocated once, reused for every genome. */
typedef struct cnn_thread {
    amap map;
    amap_mul mul;
    energy_report energy;
    qnn_int8_ws *ws;
    int *genome;               /* library indices, genome_len */
    approx_comp comp;          /* compensation state (shares the context's distributions), if on */
    const qnn_int8_net *net;   /* what runs: the context's net, or comp.view (biases of the last map) */
} cnn_thread;

typedef struct cnn_ctx {
    char *path;                /* the problem file */
    qnn_int8_net *net;
    amul_lib lib;
    int n_allowed;
    int *allowed;              /* gene value -> library index, by ascending relative energy */
    int n_layers;
    amap_layer *layers;        /* borrow names and weights from net */
    amap_granularity granularity;
    size_t genome_len;
    double max_loss_pp;
    long chunk;
    cifar_set search_set, holdout_set;
    char *holdout_spec;        /* NULL: none */
    char *seed_from;           /* NULL: none */
    int32_t exact_correct;     /* exact int8 hits on the search subset */
    uint64_t definition_hash;
    int n_threads;
    cnn_thread *threads;       /* n_threads */
    cnn_cache *cache;          /* NULL: off */
    int has_energy_model;      /* energy: per-layer figures instead of the library's relative energies */
    energy_model em;
    int compensate;            /* as cnn_spec.compensate */
    approx_comp comp;          /* activation distributions on the calibration images, when compensating */
} cnn_ctx;

/* Build the context a spec describes (quantize, load data and library, exact baseline). */
int cnn_ctx_create(const prob_spec *spec, cnn_ctx **out);
void cnn_ctx_free(cnn_ctx *x);

/* genes (doubles holding gene values) -> t->genome (library indices) -> t->map; with compensation
 * also the map's bias deltas (t->map.bias_delta, and t->net's biases). */
void cnn_genome_to_map(const cnn_ctx *x, const double *genes, cnn_thread *t);

/* Correct predictions of the int8 engine under `muls` (NULL: exact) on `set`, in chunks on thread
 * context t; with use_cache, through the activation cache (search subset only). pred: set->n or NULL. */
int32_t cnn_correct(cnn_ctx *x, cnn_thread *t, const cifar_set *set, const qnn_layer_mul *muls,
                    int use_cache, uint8_t *pred);

/* seed_genomes hook: expand the front of the run in x->seed_from into this problem's genomes. */
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

cnn_cache *cnn_cache_alloc(const cnn_ctx *x, size_t budget_bytes);
void cnn_cache_free(cnn_cache *c);
int32_t cnn_cache_correct(cnn_ctx *x, cnn_thread *t, const cifar_set *set, const qnn_layer_mul *muls,
                          uint8_t *pred);
void cnn_cache_get_stats(cnn_cache *c, cnn_cache_stats *out);

#endif
