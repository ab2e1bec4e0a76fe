/* The int8 graph and its executor (reference path).
 *
 * Tensors are NHWC int8 per image with one scale each (zero point 0). Ops run in stored order; each
 * writes one tensor. Every CONV (conv or dense) is an *approximable layer*: its integer products go
 * through the kernel contract of qnn_conv.h via the dispatch of qnn_kern.h, under the multiplier the
 * caller chooses per layer (qnn_mul.h), then bias + requantization + clamp (qnn_requant.h):
 *   EXACT      the u8 kernels (vpmaddubsw) where their proof holds for the layer (qnn_conv_u8_team),
 *              else one int16 plane = the input widened, weights widened to int16 (qnn_conv_acc_i8);
 *   SEPARABLE  when every transform is a rounding (ROUP) the u8 kernels, rounding per kernel on the fly
 *              (qnn_conv_u8_sep_team), else planes p = act_tf[p][input]; weights = w_tf (qnn_conv_acc_i8);
 *   LUT        raw int8 input and weights through the tables (qnn_conv_acc_lut).
 *
 * Execution state lives in a workspace (qnn_int8_ws): one buffer per tensor for up to max_images
 * images plus kernel scratch (qnn_conv_scratch_size; sized for exact layers up front, grown once
 * when a map needs more planes or tables). Convolutions write int8 directly (requantization fused in
 * the kernels' store), residual adds and pools run vectorized (qnn_kern_add). Two levels of API:
 *  - step API: set the input (or restore saved tensors), then run op by op or from an op onward.
 *    An activation cache keyed by a map prefix can save the live tensors before approximable layer L
 *    (qnn_int8_live_before()) and later resume with qnn_int8_forward(from = layers[L].op).
 *  - qnn_int8_predict(): whole image sets in chunks, OpenMP over chunks with one workspace per thread.
 * Integer arithmetic only, so results are independent of chunking and thread count. */
#ifndef SRC_QNN_INT8_H
#define SRC_QNN_INT8_H

#include <stddef.h>
#include <stdint.h>

#include "qnn_conv.h"
#include "qnn_mul.h"

typedef struct qnn_int8_tensor {
    char *name;       /* owned */
    int32_t h, w, c;  /* per-image NHWC shape */
    double scale;     /* real value = scale * q */
} qnn_int8_tensor;

typedef struct qnn_int8_op {
    qnn_op op;             /* QNN_OP_CONV (conv or dense), ADD, MAXPOOL, AVGPOOL, CLAMP */
    char *name;            /* owned */
    const char *onnx_op;   /* static string */
    int dense;
    int n_in, in[2], out;  /* tensor ids */
    int layer;             /* CONV: approximable layer index (graph order); -1 otherwise */
    qnn_conv_shape shape;  /* CONV and pools (n = 0) */
    /* CONV (arrays owned, per output channel unless stated) */
    int8_t *w;             /* (cout, kh, kw, cin), -127..127 */
    int16_t *w16;          /* the same widened (EXACT path without u8) */
    struct qnn_conv_u8 *u8; /* the exact u8 kernel's packed layer (qnn_kern.h), or NULL when its proof
                            * refuses the layer's input range and weights (owned; qnn_int8_net_finish) */
    double *w_scale;       /* s_w */
    int32_t *bias;         /* int32 bias in units of s_in * s_w */
    int32_t *mult;         /* requant multiplier (Q31) */
    int32_t *shift;        /* requant shift (TFLite convention: > 0 left, < 0 right) */
    /* ADD: TFLite parameters, index 0/1 = inputs, 2 = output */
    int add_left_shift;
    int32_t add_mult[3], add_shift[3];
    int8_t *add_lut;       /* owned: the whole add per int8 pair (qnn_kern_add_table; qnn_int8_net_finish) */
    /* AVGPOOL */
    int count_include_pad;
    /* output clamp (all ops) */
    int32_t act_min, act_max;
} qnn_int8_op;

/* One approximable layer, as the search and the energy model see it: its op's convolution shape
 * (n = 0), readable whole (`shape`, what the kernels take) or field by field (L->cin). */
typedef struct qnn_int8_layer {
    const char *name;      /* borrowed from the op */
    const char *op;        /* "conv" or "dense" */
    int op_index;          /* index into ops */
    union {
        qnn_conv_shape shape;
        struct {
            QNN_CONV_SHAPE_FIELDS
        };
    };
    uint64_t macs;         /* per image, padding taps included: ho*wo*kh*kw*cin*cout */
    const int8_t *weights; /* (cout, kh, kw, cin), borrowed from the op */
} qnn_int8_layer;

typedef struct qnn_int8_net {
    int n_tensors, n_ops, n_layers;
    qnn_int8_tensor *tensors; /* owned */
    qnn_int8_op *ops;         /* owned */
    qnn_int8_layer *layers;   /* owned */
    int input, output;        /* tensor ids */
    uint8_t in_lut[256];      /* pixel value -> int8 input (0..127) */
    int32_t in_c, in_h, in_w; /* input image, read as CHW uint8 */
} qnn_int8_net;

typedef struct qnn_int8_ws qnn_int8_ws;

void qnn_int8_net_free(qnn_int8_net *net);

/* Derive `layers`, the widened weights and the exact u8 kernels from the ops (the quantizer calls
 * this once; call it again after changing weights or clamps). Each layer's input range is its
 * producer's clamp (act_min..act_max), or in_lut's range for the network input. */
void qnn_int8_net_finish(qnn_int8_net *net);

/* Number of output values (logits) per image. */
int32_t qnn_int8_n_out(const qnn_int8_net *net);

/* Workspace for up to max_images images at a time (every tensor, kernel scratch). Free with qnn_int8_ws_free(). */
qnn_int8_ws *qnn_int8_ws_alloc(const qnn_int8_net *net, int32_t max_images);
void qnn_int8_ws_free(qnn_int8_ws *ws);

/* The buffer of tensor t: (max_images, h, w, c) int8; the first `n` images are meaningful. */
int8_t *qnn_int8_ws_tensor(qnn_int8_ws *ws, int t);

/* Bytes of tensor t per image. */
size_t qnn_int8_tensor_bytes(const qnn_int8_net *net, int t);

/* Quantize n <= max_images images (pixels (n, c, h, w) uint8 CHW) into the input tensor and set the
 * workspace's image count to n. */
void qnn_int8_set_input(const qnn_int8_net *net, qnn_int8_ws *ws, const uint8_t *pixels, int32_t n);

/* Team size of the kernels run by this workspace's steps (threads <= 0: OpenMP's default). Inside an
 * enclosing OpenMP region the kernels always run on the calling thread alone (qnn_kern_team). */
void qnn_int8_ws_set_threads(qnn_int8_ws *ws, int threads);

/* Set the image count without touching data (after restoring tensors saved from an earlier run). */
void qnn_int8_ws_set_n(qnn_int8_ws *ws, int32_t n);

/* Run op `op` on the workspace's images. muls: n_layers entries (indexed by layer) or NULL (all
 * exact); an op that is not a layer ignores it. */
void qnn_int8_step(const qnn_int8_net *net, qnn_int8_ws *ws, int op, const qnn_layer_mul *muls);

/* Run ops from..n_ops-1. */
void qnn_int8_forward(const qnn_int8_net *net, qnn_int8_ws *ws, int from, const qnn_layer_mul *muls);

/* Tensors that ops >= `op` read but that are written before `op` (the state to save to resume at
 * `op`): writes their ids to `ids` (room for n_tensors) and returns their count. */
int qnn_int8_live_before(const qnn_int8_net *net, int op, int *ids);

/* Whole-set inference: n images (CHW uint8) in chunks of `chunk` (<= 0: 64) on `threads` threads in
 * all (<= 0: OpenMP default; 1 inside an enclosing OpenMP region): OpenMP over chunks, or, with
 * fewer chunks than threads, chunk after chunk on multi-threaded kernels. logits: (n, n_out) int8 or NULL; pred: (n) argmax of the int8
 * logits (first maximum on ties) or NULL. */
void qnn_int8_predict(const qnn_int8_net *net, const uint8_t *pixels, int32_t n, const qnn_layer_mul *muls,
                      int threads, int32_t chunk, int8_t *logits, uint8_t *pred);

#endif
