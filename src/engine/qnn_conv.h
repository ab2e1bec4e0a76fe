/* The convolution contract every int8 kernel (exact or approximate, reference or optimized) obeys.
 *
 * Tensors are NHWC. A convolution is described by qnn_conv_shape; a dense layer is a 1x1 convolution
 * on a 1x1 map. Kernels produce int32 accumulators; bias, requantization and clamping come after
 * (the optimized kernels of qnn_kern.h can apply them in their store: qnn_conv_dst).
 *
 * Multipliers enter in two ways:
 *  - separable: M(a, w) = f(a) * g(w). The caller transforms weights once (g, int16 in -128..128) and
 *    activations once per distinct f in the layer ("planes", int16 in -128..128). Each kernel
 *    (co, ci) reads the plane plane_of[co * cin + ci]. The exact multiplier is the case f = g = id with
 *    one plane.
 *  - table (LUT): M(a, w) = lut[(uint8_t)a][(uint8_t)w], int16, one table per kernel via lut_of.
 * Padding: taps that fall outside the input read activation 0 and still go through the multiplier
 * (the hardware computes them; the energy model counts them): f(0) * g(w), or lut[0][w].
 *
 * Overflow: |f(a) g(w)| <= 128 * 128 = 2^14 and |lut| <= 2^15, so int32 accumulation is exact for
 * KH*KW*Cin <= 65535 taps (asserted by the kernels). */
#ifndef SRC_QNN_CONV_H
#define SRC_QNN_CONV_H

#include <stddef.h>
#include <stdint.h>

/* Operators of both graphs (qnn_model.h float, qnn_int8.h int8); CONV is the one this contract
 * computes, the others run in the executor. */
typedef enum qnn_op { QNN_OP_CONV = 0, QNN_OP_ADD, QNN_OP_MAXPOOL, QNN_OP_AVGPOOL, QNN_OP_CLAMP } qnn_op;

/* The geometry of one convolution (its field list is a macro so that a layer description can hold
 * the shape itself and still read as flat fields: see qnn_int8_layer). */
#define QNN_CONV_SHAPE_FIELDS                                                              \
    int32_t n;                /* images in the batch */                                    \
    int32_t h, w, cin;        /* input map */                                              \
    int32_t cout, kh, kw;     /* weights (cout, kh, kw, cin) */                            \
    int32_t stride_h, stride_w;                                                            \
    int32_t pad_t, pad_l, pad_b, pad_r;                                                    \
    int32_t ho, wo;           /* output map: (h + pad_t + pad_b - kh) / stride_h + 1, likewise wo */

typedef struct qnn_conv_shape {
    QNN_CONV_SHAPE_FIELDS
} qnn_conv_shape;

/* Fill ho/wo from the other fields; returns 0, or -1 when the shape is impossible. */
int qnn_conv_shape_finish(qnn_conv_shape *s);

/* Number of multiply-accumulates per image, padding taps included: ho * wo * kh * kw * cin * cout. */
uint64_t qnn_conv_macs(const qnn_conv_shape *s);

/* Separable/exact reference.
 * planes[p]: (n, h, w, cin) int16; plane_of: (cout, cin) or NULL (all plane 0); w: (cout, kh, kw, cin)
 * int16; acc: (n, ho, wo, cout) int32, overwritten. */
void qnn_conv_acc_ref(const qnn_conv_shape *s, const int16_t *const *planes, const uint8_t *plane_of,
                      const int16_t *w, int32_t *acc);

/* Table reference. in: (n, h, w, cin) int8; w: (cout, kh, kw, cin) int8; luts[t]: 65536 int16 indexed
 * [(uint8_t)a * 256 + (uint8_t)w]; lut_of: (cout, cin) table index; acc as above. */
void qnn_conv_acc_lut_ref(const qnn_conv_shape *s, const int8_t *in, const int8_t *w,
                          const int16_t *const *luts, const uint16_t *lut_of, int32_t *acc);

#endif
