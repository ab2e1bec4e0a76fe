/* Error compensation by bias correction (`--compensate bias`, `compensate: bias`): on the calibration
 * images, the exact int8 network gives each approximable layer's input distribution as its taps see
 * it: a histogram over (uint8_t)a of the input tensor where every element counts once per tap that
 * reads it, plus the padding taps as zeros (per input channel, or one per tensor).
 * amap_bias_compensation() turns it into a per-output-channel int32 bias delta for a map; the
 * compensated network is a view of the net (its own op array, every other array shared) whose layer
 * biases point at bias + delta (saturated to int32). Distributions come from the exact network, also
 * for the layers after an approximate one (a first-order correction). */
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

#endif
