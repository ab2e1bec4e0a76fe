/* The multiplier sweep of `approxmap sweep`: every multiplier of a library on the whole network and
 * on one layer at a time (the others exact), with exact prefix activations reused. */
#ifndef SRC_APPROX_SWEEP_H
#define SRC_APPROX_SWEEP_H

#include <stdint.h>

#include "amap.h"
#include "amul.h"
#include "approx_eval.h"
#include "cifar.h"
#include "energy_model.h"
#include "qnn_int8.h"

/* Results of evaluating every multiplier of a library on the whole network and on one layer at a
 * time (the others exact), with optional compensated whole-network accuracy. */
typedef struct approx_sweep {
    int n_mults, n_layers;
    int32_t n_images, exact_correct;
    int32_t *whole;        /* n_mults: correct answers with the multiplier on every layer */
    int32_t *whole_comp;   /* n_mults, or NULL without compensation */
    int32_t *layer;        /* n_mults x n_layers: correct answers with the multiplier on layer l only */
    double *energy;        /* n_mults: relative energy of the uniform map */
    double *energy_lib;    /* n_mults: the same with the library's relative energies (em given), else NULL */
    double *saved;         /* n_mults x n_layers: energy saved by the multiplier on layer l, relative to
                            * the all-exact network (fraction, 0..1) */
    double *share;         /* n_layers: layer's share of the exact network's energy */
} approx_sweep;

/* Run the sweep on `set` with the evaluator's set-up (net, library, layers, energy model). Exact
 * prefix activations are reused (one exact pass per chunk of images, then each one-layer
 * configuration resumes at its layer). `only`: NULL for every multiplier, else n_mults flags selecting
 * library multipliers (unselected rows stay zero and are flagged -1 in `whole`). compensate: also the
 * compensated whole-network runs (the set-up must have compensation), scored by the evaluator (slot 0).
 * With an energy model, `energy` follows it and `energy_lib` holds the library's figures. Returns
 * ST_OK or an energy error (reported). Caller frees with approx_sweep_deinit(). */
int approx_sweep_run(approx_eval *ev, const cifar_set *set, const uint8_t *only, int compensate, int threads,
                     approx_sweep *out);
void approx_sweep_deinit(approx_sweep *s);

#endif
