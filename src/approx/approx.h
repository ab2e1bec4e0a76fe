/* Approximate evaluation glue shared by `approxmap eval` and `approxmap sweep` (issue 3 items 7-8,
 * issue 6 item 5): the layer list of an int8 net as maps see it, uniform maps, accuracy / loss /
 * energy of a map on a CIFAR-10 set, per-layer energy models from gate-level characterization, the
 * sweep of every multiplier over the whole network and over one layer at a time, and error
 * compensation by bias correction.
 *
 * Invariants: the layer list borrows names and weights from the net, in the net's layer order
 * (the same mapping the search problem uses, problems/prob_cnn.c); all accuracies are integer counts
 * of the bit-exact int8 engine, so results never depend on the thread count or chunking; loss is in
 * percentage points against the exact int8 model on the same images (positive = worse).
 *
 * Error compensation (`--compensate bias`): on the calibration images, the exact int8 network gives
 * each approximable layer's input distribution as its taps see it: a histogram over (uint8_t)a of the
 * input tensor where every element counts once per tap that reads it, plus the padding taps as zeros
 * (per input channel, or one per tensor). amap_bias_compensation() turns it into a per-output-channel
 * int32 bias delta for a map; the compensated network is a view of the net (its own op array, every
 * other array shared) whose layer biases point at bias + delta (saturated to int32). The engine
 * needs no hook for it. Distributions come from the exact network, also for the layers after an
 * approximate one (a first-order correction). */
#ifndef SRC_APPROX_H
#define SRC_APPROX_H

#include <stddef.h>
#include <stdint.h>

#include "amap.h"
#include "amul.h"
#include "cifar.h"
#include "energy.h"
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

/* --- per-layer energy models ------------------------------------------------------------------- */

/* Energy per multiplication of every library multiplier in every layer, in one unit (fJ from
 * `approxmap characterize --layers`). Multipliers of the library that the file does not list are NAN. */
typedef struct energy_model {
    char *path;       /* the file it was read from */
    char *unit;       /* "fJ" */
    char *cell_library; /* provenance.cell_library or NULL */
    int n_layers, n_mults;
    double *e_layer;  /* n_layers x n_mults, e_layer[l * n_mults + i] (energy_eval's e_layer) */
    double *e_exact;  /* n_layers: the library's exact multiplier (energy_eval's e_exact) */
    int n_found;      /* library multipliers with a figure */
} energy_model;

/* Read a per-layer energy file (results/gate/layers_*.yaml; schema written by cmd_characterize.c):
 *   provenance: {free-form strings}
 *   layers:      - {name: L, macs: N, pairs: N}        # in the order of every fj list
 *   multipliers: - {name: M, fj: [one number per layer], network_relative: x, uniform_relative: x}
 * Layers match the model's by name (any order; every model layer must appear once, and `macs`, when
 * given, must equal the model's); multipliers match the library by name, and entries the library does
 * not hold are skipped (a file may describe a larger family). The library's exact multiplier must be
 * present with positive figures. Errors "path:line:col: what" (ST_EIO, ST_EPARSE, ST_EFORMAT); `out`
 * untouched on failure. Caller frees with energy_model_deinit(). */
int energy_model_load(const char *path, const amul_lib *lib, const amap_layer *layers, int n_layers,
                      energy_model *out);
void energy_model_deinit(energy_model *em);

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

/* --- error compensation ------------------------------------------------------------------------- */

typedef struct approx_comp {
    const qnn_int8_net *net;  /* borrowed */
    const amap_layer *layers; /* borrowed */
    const amul_lib *lib;      /* borrowed */
    int n_layers, per_channel;
    int owns_act;             /* 0: act_p borrowed from another state (approx_comp_share) */
    int32_t n_images;         /* calibration images measured */
    double **act_p;           /* per layer: 256 (per tensor) or cin x 256 probabilities */
    int32_t **delta;          /* per layer: cout bias deltas of the last applied map */
    int32_t **bias;           /* per layer: cout, the net's bias + delta, saturated */
    qnn_int8_net *view;       /* the net with its layer biases replaced by `bias` (own op array) */
} approx_comp;

/* Compensation modes by name, as problem files and --compensate spell them: "bias" 1 (per input
 * channel), "bias-tensor" 0 (per layer input), "none" -1; -2 for anything else. */
int approx_comp_mode_parse(const char *s);

/* Measure the activation distributions on `calib` (training images) with the exact network, per input
 * channel (per_channel 1) or per tensor (0). All borrowed arguments must outlive `c`. Returns ST_OK,
 * or ST_EINVAL (no images, reported). Caller frees with approx_comp_deinit(). */
int approx_comp_init(approx_comp *c, const qnn_int8_net *net, const amap_layer *layers, const amul_lib *lib,
                     const cifar_set *calib, int per_channel, int threads);
void approx_comp_deinit(approx_comp *c);

/* Compute the bias deltas for map `m` and return the compensated network (c->view, valid until the
 * next call or deinit; run it with the same hooks as the plain net). */
const qnn_int8_net *approx_comp_apply(approx_comp *c, const amap *m);

/* A second compensation state for another thread: its own deltas, biases and view, the activation
 * distributions of `src` shared (src must outlive dst; deinit dst first). */
void approx_comp_share(approx_comp *dst, const approx_comp *src);

/* Copy the deltas of the last approx_comp_apply() into m's bias_delta (for writing the map). */
void approx_comp_store(const approx_comp *c, amap *m);

/* The net with each layer's bias plus the map's bias_delta (saturated to int32): a view that shares
 * every array of `net` but its op array and the biases. NULL when the map has no deltas. Free with
 * approx_bias_view_free(). */
qnn_int8_net *approx_bias_view(const qnn_int8_net *net, const amap *m);
void approx_bias_view_free(qnn_int8_net *view);

/* Input-tap histogram of layer l over images already in a workspace: adds, per input channel (or
 * into channel 0 when per_tensor), the count of taps reading each (uint8_t) value, padding taps as
 * value 0. counts: cin x 256 (or 256) uint64. Exposed for tests. */
void approx_tap_hist(const qnn_int8_layer *L, const int8_t *in, int32_t n_images, int per_channel,
                     uint64_t *counts);

/* --- sweep -------------------------------------------------------------------------------------- */

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

/* Run the sweep on `set`. Exact prefix activations are reused (one exact pass per chunk of images,
 * then each one-layer configuration resumes at its layer). `only`: NULL for every multiplier, else
 * n_mults flags selecting library multipliers (unselected rows stay zero and are flagged -1 in
 * `whole`). comp: NULL, or the compensation state (whole-network compensated runs). em: NULL or a
 * per-layer energy model. Returns ST_OK or an energy error (reported). Caller frees with
 * approx_sweep_deinit(). */
int approx_sweep_run(const qnn_int8_net *net, const amap_layer *layers, const amul_lib *lib, const energy_model *em,
                     const cifar_set *set, const uint8_t *only, approx_comp *comp, int threads, approx_sweep *out);
void approx_sweep_deinit(approx_sweep *s);

#endif
