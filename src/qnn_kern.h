/* Kernel dispatch: the executor calls these; they pick the fastest kernel the CPU supports and are
 * bit-identical to the references in qnn_conv.h (tests/test_kern.c proves it). */
#ifndef SRC_QNN_KERN_H
#define SRC_QNN_KERN_H

#include "qnn_conv.h"

/* Same contract as qnn_conv_acc_ref(). n_planes = number of entries in planes. */
void qnn_conv_acc(const qnn_conv_shape *s, const int16_t *const *planes, int n_planes,
                  const uint8_t *plane_of, const int16_t *w, int32_t *acc);

/* Same contract as qnn_conv_acc_lut_ref(). */
void qnn_conv_acc_lut(const qnn_conv_shape *s, const int8_t *in, const int8_t *w,
                      const int16_t *const *luts, int n_luts, const uint16_t *lut_of, int32_t *acc);

#endif
