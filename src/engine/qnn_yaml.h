/* Writer of the quantized model as a documented, human-readable YAML file that another tool can
 * execute bit-exactly. The format ("approxmap-int8-model", version 1) is described in full in the
 * comment block written at the top of every file (see qnn_yaml.c, FORMAT_DOC); in short:
 *
 *   tensors: id, name, shape [H, W, C] (per image, NHWC), scale (real = scale * q, zero point 0)
 *   input:   tensor id, pixel -> int8 table (256 entries; the image is CHW uint8 0..255)
 *   ops, in execution order, each with inputs (tensor ids), output, clamp [lo, hi] and:
 *     conv/dense: layer index, kernel [KH, KW], stride [SH, SW], pads [top, left, bottom, right],
 *                 per output channel: weight_scale, bias (int32), multiplier (int32), shift (int);
 *                 weights: one row per output channel in (KH, KW, Cin) order, int8 -127..127
 *                 out = clamp(requant(sum(a * w) + bias, multiplier, shift)), padding taps read 0
 *     add:        left_shift, input_multiplier/input_shift (two), output_multiplier/output_shift
 *     maxpool/avgpool: kernel, stride, pads, count_include_pad (avgpool rounds half away from zero)
 *     clamp:      clamp only
 * requant(x, m, s) is TFLite's MultiplyByQuantizedMultiplier (see qnn_requant.h). */
#ifndef SRC_QNN_YAML_H
#define SRC_QNN_YAML_H

#include "qnn_int8.h"

/* Write `net` to `path` atomically (afile.h). `source` (model path) and `calib` (calibration records)
 * are recorded for provenance; either may be NULL. Returns ST_OK or ST_EIO (reported). */
int qnn_yaml_write(const char *path, const qnn_int8_net *net, const char *source, const char *calib);

#endif
