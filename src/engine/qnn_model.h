/* The float graph of a CNN as imported from ONNX, and its float reference inference.
 *
 * Tensors are per-image NHWC maps (h, w, c); a 2-D ONNX tensor [N, K] is the map (1, 1, K). Tensor ids
 * are dense 0..n_tensors-1; every node writes exactly one new tensor, and nodes are stored in a valid
 * execution order (each node reads only the model input or outputs of earlier nodes).
 *
 * Operators after import (see onnx_import.h for the ONNX ones they come from):
 *   CONV     convolution, weights (cout, kh, kw, cin), bias (cout). A dense layer (Gemm, MatMul) is a
 *            CONV marked `dense`: a 1x1 kernel on a 1x1 map, or, after a Flatten of an HxW map, an HxW
 *            kernel over the whole map (so the NCHW flatten order of ONNX is honoured on NHWC data).
 *            BatchNormalization is already folded into the weights and bias.
 *   ADD      element-wise sum of two tensors of the same shape.
 *   MAXPOOL  max over the window (taps outside the map are ignored, like ONNX's -inf padding).
 *   AVGPOOL  mean over the window; padded taps count only with count_include_pad (ONNX's default: not).
 *            GlobalAveragePool is an AVGPOOL whose window is the whole map.
 *   CLAMP    a Relu/Clip that could not be fused into its producer.
 * Relu and Clip are normally fused into the producing CONV or ADD as an output clamp [lo, hi].
 *
 * Float inference accumulates in float32 in a fixed order (bias first, then taps in (ky, kx, ci)
 * order), so results are deterministic and independent of the thread count. */
#ifndef SRC_QNN_MODEL_H
#define SRC_QNN_MODEL_H

#include <stddef.h>
#include <stdint.h>

#include "qnn_conv.h"

typedef struct qnn_tensor {
    char *name;       /* ONNX tensor name (owned) */
    int32_t h, w, c;  /* per-image NHWC shape */
} qnn_tensor;

typedef struct qnn_node {
    qnn_op op;
    char *name;          /* ONNX node name, or its output's name when the node has none (owned) */
    const char *onnx_op; /* the ONNX operator it came from ("Conv", "Gemm", ...): static string */
    int dense;           /* CONV imported from Gemm / MatMul */
    int n_in, in[2];     /* input tensor ids */
    int out;             /* output tensor id */
    /* CONV and pools: geometry (n is unused and 0; pools have cin = cout = c). */
    qnn_conv_shape shape;
    float *weight;       /* CONV: (cout, kh, kw, cin), owned */
    float *bias;         /* CONV: (cout), owned */
    float *weight_t;     /* CONV: (kh, kw, cin, cout), derived by qnn_model_finish(), owned */
    int count_include_pad; /* AVGPOOL */
    int has_clamp;       /* output clamp present (fused Relu/Clip, or a CLAMP node) */
    float lo, hi;        /* the clamp; -INFINITY / INFINITY for an open side */
} qnn_node;

typedef struct qnn_model {
    char *path;          /* where it was read from (owned, for messages) */
    int n_tensors, n_nodes;
    int cap_tensors, cap_nodes;
    qnn_tensor *tensors; /* owned */
    qnn_node *nodes;     /* owned */
    int input, output;   /* tensor ids of the image input and the logits */
} qnn_model;

/* An empty model; caller frees with qnn_model_free(). */
qnn_model *qnn_model_alloc(const char *path);
void qnn_model_free(qnn_model *m);

/* Builder interface (used by the importer). add_tensor copies `name` and returns the new id;
 * add_node returns a zeroed node (clamp open) whose fields the caller fills. The pointer is valid
 * until the next add_node. */
int qnn_model_add_tensor(qnn_model *m, const char *name, int32_t h, int32_t w, int32_t c);
qnn_node *qnn_model_add_node(qnn_model *m, qnn_op op, const char *name, const char *onnx_op);

/* Derive the transposed weights; call once when the graph is complete. */
void qnn_model_finish(qnn_model *m);

/* Approximable layers (CONV nodes) in graph order: count, and the node index of layer i. */
int qnn_model_n_layers(const qnn_model *m);
int qnn_model_layer_node(const qnn_model *m, int layer);

/* MACs per image of a CONV node (padding taps included), 0 for other nodes. */
uint64_t qnn_model_node_macs(const qnn_node *nd);

/* Human-readable operator name: "conv", "dense", "add", "maxpool", "avgpool", "clamp". */
const char *qnn_model_op_name(const qnn_node *nd);

/* Number of logits per image (elements of the output tensor). */
int32_t qnn_model_n_out(const qnn_model *m);

/* Float inference of n images. pixels: (n, c, h, w) uint8, CHW as in CIFAR-10 records, fed as raw
 * values 0..255 (the reference model's preprocessing); logits: (n, n_out) float, NHWC order (for a
 * 1x1 output that is the class order). absmax: optional (n_tensors) array; each entry is raised to
 * the largest |value| seen in that tensor (calibration). threads <= 0: OpenMP default.
 * Works in chunks of 64 images with per-thread buffers; the result does not depend on threads. */
void qnn_model_predict(const qnn_model *m, const uint8_t *pixels, int32_t n, int threads, float *logits,
                       double *absmax);

/* Single-threaded step-level access (calibration statistics): a workspace of float buffers for up
 * to max_images images, a forward pass over n of them, and read access to any tensor afterwards
 * ((n, h, w, c) floats). Free with qnn_model_ws_free(). */
typedef struct qnn_model_ws qnn_model_ws;
qnn_model_ws *qnn_model_ws_alloc(const qnn_model *m, int32_t max_images);
void qnn_model_ws_free(qnn_model_ws *ws);
void qnn_model_ws_run(const qnn_model *m, qnn_model_ws *ws, const uint8_t *pixels, int32_t n);
const float *qnn_model_ws_tensor(const qnn_model_ws *ws, int t);

/* Tests only: 1 makes the float convolutions run the plain reference loop nest instead of the
 * register-blocked one (whose results must be bit-identical); process-wide, not thread-safe. */
void qnn_model_set_ref_conv(int on);

/* Index of the largest of k values (first one on ties). */
int qnn_argmax_f32(const float *v, int k);

#endif
