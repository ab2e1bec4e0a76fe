/* Kernel dispatch (see qnn_kern.h). Until the optimized kernels land, the references serve. */
#include "qnn_kern.h"

void qnn_conv_acc(const qnn_conv_shape *s, const int16_t *const *planes, int n_planes,
                  const uint8_t *plane_of, const int16_t *w, int32_t *acc)
{
    (void)n_planes;
    qnn_conv_acc_ref(s, planes, plane_of, w, acc);
}

void qnn_conv_acc_lut(const qnn_conv_shape *s, const int8_t *in, const int8_t *w,
                      const int16_t *const *luts, int n_luts, const uint16_t *lut_of, int32_t *acc)
{
    (void)n_luts;
    qnn_conv_acc_lut_ref(s, in, w, luts, lut_of, acc);
}
