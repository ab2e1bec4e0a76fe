/* Error compensation by bias correction (`--compensate bias`, `compensate: bias`): on the calibration
 * images, the exact int8 network gives each approximable layer's input distribution as its taps see
 * it: a histogram over (uint8_t)a of the input tensor where every element counts once per tap that
 * reads it, plus the padding taps as zeros (per input channel, or one per tensor).
 * amap_bias_compensation() turns it into a per-output-channel int32 bias delta for a map, stored in
 * the map (amap bias_delta); the hooks built from the map carry bias + delta (amap_mul_build), so the
 * net itself is never changed. Distributions come from the exact network, also for the layers after
 * an approximate one (a first-order correction), except in the sequential modes ("+seq"): there each
 * layer's delta is measured on the approximate network's own activations, layer after layer, on the
 * first SEQ_IMAGES calibration images, and also cancels the shift of the layer's mean input that the
 * approximate layers before it cause (so an exact layer after approximate ones gets a delta too). */
#ifndef SRC_APPROX_COMP_H
#define SRC_APPROX_COMP_H

#include <stdint.h>

#include "amap.h"
#include "amul.h"
#include "cifar.h"
#include "qnn_int8.h"

typedef struct approx_comp {
    const qnn_int8_net *net;  /* borrowed */
    const amap_layer *layers; /* borrowed */
    const amul_lib *lib;      /* borrowed */
    int n_layers, per_channel;
    int mode;                 /* as approx_comp_mode_parse() */
    int32_t n_images;         /* calibration images measured */
    double **act_p;           /* per layer: 256 (per tensor) or cin x 256 probabilities */
    /* weight tuning (mode "bias+weights"): per layer, D = kh * kw * cin taps */
    int tune;
    double **cov;             /* D x D covariance of the layer's input patches (sampled, see .c) */
    double **hl;              /* D x D: lower Cholesky factor of (cov + damping)^-1 */
    int16_t **gval, **gsto;   /* per library multiplier: sorted distinct g values and a stored weight for each */
    int *ng;                  /* their counts (0: not separable, not tuned) */
    /* sequential bias correction (modes "+seq") */
    int seq;
    uint8_t *seq_pixels;      /* owned: a copy of the first n_seq calibration images (CHW uint8) */
    int32_t n_seq;
    double **seq_mean;        /* per layer, cin: the exact network's mean input per channel as the taps see it */
} approx_comp;

/* Compensation modes by name, as problem files and --compensate spell them: "bias" 1 (per input
 * channel), "bias-tensor" 0 (per layer input), "bias+weights" 2 (per input channel, and the weights
 * tuned to the map's multipliers), "bias+seq" 3 and "bias+weights+seq" 4 (as 1 and 2, the deltas
 * measured sequentially on the approximate network), "none" -1; -2 for anything else. */
enum { APPROX_COMP_MODES = 5 };
int approx_comp_mode_parse(const char *s);
/* The name of mode 0..APPROX_COMP_MODES-1 (as parsed), or "none". */
const char *approx_comp_mode_name(int mode);
/* Whether mode tunes weights / corrects sequentially. */
int approx_comp_mode_tunes(int mode);
int approx_comp_mode_seq(int mode);

/* Measure the activation distributions on `calib` (training images) with the exact network, for
 * compensation mode `per_channel` (approx_comp_mode_parse; 0: per tensor, else per input channel).
 * All borrowed arguments (not `calib`) must outlive `c`. Returns ST_OK,
 * or ST_EINVAL (no images, reported). Caller frees with approx_comp_deinit(). */
int approx_comp_init(approx_comp *c, const qnn_int8_net *net, const amap_layer *layers, const amul_lib *lib,
                     const cifar_set *calib, int per_channel, int threads);
void approx_comp_deinit(approx_comp *c);

/* Write the bias deltas that compensate map `m` into its bias_delta (every layer; exact layers get
 * zeros). `c` is only read, so threads may share it. The map is then the deltas' one owner:
 * amap_mul_build() folds them into the hooks' biases, amap_write() writes them. */
void approx_comp_fill(const approx_comp *c, amap *m);

/* Input-tap histogram of layer l over images already in a workspace: adds, per input channel (or
 * into channel 0 when per_tensor), the count of taps reading each (uint8_t) value, padding taps as
 * value 0. counts: cin x 256 (or 256) uint64. Exposed for tests. */
void approx_tap_hist(const qnn_int8_layer *L, const int8_t *in, int32_t n_images, int per_channel,
                     uint64_t *counts);

#endif
