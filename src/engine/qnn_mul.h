/* How one approximable layer multiplies: the hook between multiplier libraries / approximation maps
 * (which build these) and the int8 executor (which obeys them). See qnn_conv.h for the arithmetic. */
#ifndef SRC_QNN_MUL_H
#define SRC_QNN_MUL_H

#include <stdint.h>

typedef enum qnn_mul_kind {
    QNN_MUL_EXACT = 0,     /* a * w: the exact int8 engine */
    QNN_MUL_SEPARABLE = 1, /* f_p(a) * g(w) with per-kernel activation transform p and transformed weights */
    QNN_MUL_LUT = 2        /* lut_t[(uint8_t)a][(uint8_t)w] with per-kernel table t */
} qnn_mul_kind;

enum { QNN_MUL_MAX_PLANES = 16 };

/* All pointers are borrowed; the builder keeps them alive while the executor runs. */
typedef struct qnn_layer_mul {
    qnn_mul_kind kind;
    /* SEPARABLE */
    int n_planes;               /* distinct activation transforms used in this layer, 1..QNN_MUL_MAX_PLANES */
    const int16_t *act_tf;      /* n_planes x 256: act_tf[p * 256 + (uint8_t)a] = f_p(a), in -128..128, f_p(0) = 0 */
    const uint8_t *plane_of;    /* (cout, cin): plane of each kernel */
    const int16_t *w_tf;        /* (cout, kh, kw, cin): g(w) per kernel, in -128..128 */
    /* LUT */
    int n_luts;
    const int16_t *const *luts; /* n_luts tables of 65536 int16: lut[(uint8_t)a * 256 + (uint8_t)w] */
    const uint16_t *lut_of;     /* (cout, cin): table of each kernel */
    /* Any kind: the int32 bias to add before requantization, cout entries, or NULL for the layer's
     * own. Error compensation passes bias + delta (saturated) here, so one net serves every map. */
    const int32_t *bias;
} qnn_layer_mul;

#endif
