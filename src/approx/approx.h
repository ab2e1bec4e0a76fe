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

#endif
