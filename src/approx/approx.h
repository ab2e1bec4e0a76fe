/* Approximate evaluation glue shared by `approxmap eval`, `approxmap sweep`, the search problem and
 * export: the layer list of an int8 net as maps see it, libraries, uniform maps, accuracy / loss /
 * energy of a map on a CIFAR-10 set. The shared set-up (approx_cnn.h), the map evaluator
 * (approx_eval.h), per-layer energy models (energy_model.h), error compensation (approx_comp.h) and
 * the sweep (approx_sweep.h) live in files of their own; this header includes them.
 *
 * Invariants: the layer list borrows names and weights from the net, in the net's layer order
 * (the same mapping the search problem uses, problems/prob_cnn.c); all accuracies are integer counts
 * of the bit-exact int8 engine, so results never depend on the thread count or chunking; loss is in
 * percentage points against the exact int8 model on the same images (positive = worse). */
#ifndef SRC_APPROX_H
#define SRC_APPROX_H

#include <stddef.h>
#include <stdint.h>

#include "amap.h"
#include "amul.h"
#include "approx_cnn.h"
#include "approx_comp.h"
#include "approx_eval.h"
#include "approx_sweep.h"
#include "cifar.h"
#include "energy.h"
#include "energy_model.h"
#include "qnn_int8.h"

/* --- layers, libraries, maps ------------------------------------------------------------------- */

/* Fill layers[0 .. net->n_layers-1] from the net's approximable layers (names and weights borrowed,
 * so `net` must outlive them). */
void approx_layers_from_net(const qnn_int8_net *net, amap_layer *layers);

/* Load a multiplier library: `arg` as amul_lib_resolve() understands it (a path, or a name such as
 * "roup8"), or the default library (amul_lib_default_path) when NULL. Errors reported; `lib`
 * untouched on failure. Caller frees with amul_lib_deinit(). */
int approx_lib_load(const char *arg, amul_lib *lib);

/* Size `m` for `layers` and put multiplier `name` of `lib` on every kernel. Returns ST_OK, or
 * ST_EINVAL ("unknown multiplier 'x' in library 'path'", reported; `m` untouched). Caller frees with
 * amap_deinit(). */
int approx_map_uniform(amap *m, const amap_layer *layers, int n_layers, const amul_lib *lib, const char *name);

/* Energy of map `m` (energy_eval) with the library's relative energies (em NULL) or the per-layer
 * model. Errors (reported): a multiplier used by the map without a figure in the library or model. */
int approx_energy(const amap *m, const amap_layer *layers, const amul_lib *lib, const energy_model *em,
                  energy_report *out);

/* --- accuracy -------------------------------------------------------------------------------------- */

/* Correct top-1 answers of `net` under `muls` (NULL: exact) on `set`; pred: set->n entries or NULL. */
int32_t approx_correct(const qnn_int8_net *net, const cifar_set *set, const qnn_layer_mul *muls, int threads,
                       uint8_t *pred);

/* Loss in percentage points of `correct` against `exact_correct` on n images. */
static inline double approx_loss_pp(int32_t exact_correct, int32_t correct, int32_t n)
{
    return n > 0 ? 100.0 * (double)(exact_correct - correct) / (double)n : 0.0;
}

/* Exact paired comparison of a map with the exact int8 model on the same n images. lost (b) = images
 * the exact model gets right and the map wrong, gained (c) = the reverse, so the loss is
 * 100 (b - c) / n pp. Conditional on the m = b + c discordant images, b ~ Binomial(m, q) and the two
 * models are equally accurate exactly when q = 1/2:
 *  - p: two-sided exact McNemar test, min(1, 2 P(X <= min(b, c))) with X ~ Binomial(m, 1/2) (GSL's
 *    binomial CDF); 1 when m = 0;
 *  - ci_lo, ci_hi: exact 95 % interval of the loss, the Clopper-Pearson interval [q_lo, q_hi] of q
 *    (GSL's inverse beta CDF: q_lo = B^-1(0.025; b, m - b + 1), 0 when b = 0; q_hi =
 *    B^-1(0.975; b + 1, m - b), 1 when b = m) mapped through loss = 100 (m / n) (2 q - 1); the point 0
 *    when m = 0. The interval is conditional on m (it does not count the uncertainty of m itself).
 * Requires 0 <= b, 0 <= c, b + c <= n, n >= 1. */
typedef struct approx_paired {
    int32_t lost, gained, n;
    double loss_pp;
    double ci_lo, ci_hi;  /* pp */
    double p;             /* McNemar, two-sided */
} approx_paired;

void approx_paired_exact(int32_t lost, int32_t gained, int32_t n, approx_paired *out);

#endif
