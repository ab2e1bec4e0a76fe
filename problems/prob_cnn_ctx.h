/* The CNN problem's binding, private to problems/ (prob_cnn.c, prob_cnn_cache.c, export.c): what a
 * genome means (allowed multipliers, granularity) over the shared set-up and map evaluator. */
#ifndef PROBLEMS_PROB_CNN_CTX_H
#define PROBLEMS_PROB_CNN_CTX_H

#include "approx_cnn.h"
#include "approx_eval.h"
#include "prob_cnn.h"
#include "sens.h"

struct cnn_ctx {
    char *path;                /* the problem file */
    approx_cnn cnn;            /* net, library, layers, energy model, compensation */
    approx_eval *ev;           /* n_slots evaluation slots */
    int n_slots;
    int n_allowed;
    int *allowed;              /* gene value -> library index, by ascending relative energy */
    amap_granularity granularity;
    size_t genome_len;
    double max_loss_pp;
    long chunk;
    int compensate;            /* as cnn_spec.compensate */
    cifar_set search_set;
    approx_eval_data search;   /* the search subset with its exact baseline (and the cache as runner) */
    char *holdout_spec;        /* NULL: none */
    char **seed_from;          /* n_seed_from run directories whose fronts seed the population */
    int n_seed_from;
    long *seed_from_maps;      /* per run: maps taken from its front (0 = all) */
    int seed_greedy;           /* maps of the estimate-only greedy path in the initial population */
    char *calibration;         /* the calibration data spec (the sensitivity's distributions) */
    uint64_t definition_hash;
    amap *maps;                /* n_slots: each slot's current map */
    int **genome;              /* n_slots scratch: library indices, genome_len */
    cnn_cache *cache;          /* NULL: off */
    uint64_t n_scored, n_rejected, images_total, images_run; /* early-rejection counters */
    int shares;                /* ranked encoding (sens.h): genes per layer; 0 = direct encoding */
    uint32_t *rank_order;      /* ranked: each layer's filters or kernels by ascending sensitivity */
};

/* The sensitivity table of the problem's allowed multipliers (in gene order: mults[j] = allowed[j]),
 * from the calibration distributions (the compensation's, else measured here), compensated as the
 * problem is, energies from its per-layer model when it has one. Caller frees with sens_deinit(). */
int cnn_sens_table(cnn_ctx *x, sens_table *t);

#endif
