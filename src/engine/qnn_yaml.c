/* Quantized-model YAML writer (see qnn_yaml.h). Plain fprintf in block style with flow sequences for
 * numbers; strings are double-quoted with YAML escapes. Scales are printed with 17 significant digits
 * so that a reader recomputing anything from them gets the same doubles. */
#include "qnn_yaml.h"

#include <stdio.h>

#include "afile.h"
#include "msg.h"
#include "status.h"
#include "util.h"

static const char FORMAT_DOC[] =
    "# approxmap quantized model (format approxmap-int8-model, version 1)\n"
    "#\n"
    "# Everything needed to execute this network bit-exactly with integer arithmetic.\n"
    "# Tensors: per-image NHWC int8 maps; shape is [H, W, C]; real value = scale * q (zero point 0).\n"
    "# Input: a CIFAR-style image, CHW uint8 pixels 0..255; q[y][x][c] = input.quantize[pixel[c][y][x]].\n"
    "# Ops run in the listed order; each reads `inputs` (tensor ids) and writes tensor `output`.\n"
    "# round(x) rounds half away from zero. requant(x, m, s) is TFLite's MultiplyByQuantizedMultiplier:\n"
    "#   if s > 0: x = saturate_int32(x * 2^s)\n"
    "#   y = SaturatingRoundingDoublingHighMul(x, m)   = round-to-nearest of x*m / 2^31\n"
    "#       (int64 p = x*m; p += p >= 0 ? 2^30 : 1 - 2^30; y = p / 2^31 truncated toward zero)\n"
    "#   if s < 0: y = RoundingDivideByPOT(y, -s)        = (y >> e) + ((y & mask) > (mask >> 1) + (y < 0))\n"
    "#       with e = -s, mask = 2^e - 1, >> arithmetic\n"
    "# conv / dense: weights[co] lists (KH, KW, Cin) in that order; output (ho, wo, co) is\n"
    "#   acc = sum over ky, kx, ci of a(oy*SH - pad_top + ky, ox*SW - pad_left + kx, ci) * w[co][ky][kx][ci]\n"
    "#   (taps outside the input read 0), int32;\n"
    "#   out = clamp(requant(acc + bias[co], multiplier[co], shift[co]), clamp[0], clamp[1])\n"
    "#   Multiplier and shift encode input_scale * weight_scale[co] / output_scale; bias is\n"
    "#   round(float_bias / (input_scale * weight_scale[co])). A dense layer is a conv whose kernel covers\n"
    "#   its whole input map (1x1 after a global pool).\n"
    "# add (TFLite int8 Add): a' = requant(a * 2^left_shift, input_multiplier[0], input_shift[0]),\n"
    "#   b' likewise with index 1, out = clamp(requant(a' + b', output_multiplier, output_shift)).\n"
    "# maxpool: max over the window's taps inside the input; avgpool: s = sum of those taps,\n"
    "#   d = count_include_pad ? KH*KW : number of taps inside, out = s > 0 ? (s + d/2) / d : (s - d/2) / d\n"
    "#   (C integer division), then clamp. Pools keep their input's scale.\n"
    "# clamp: out = clamp(in, clamp[0], clamp[1]).\n"
    "# The logits are the int8 output tensor; the predicted class is the index of its first maximum.\n";

static void put_i32s(FILE *fp, const int32_t *v, int32_t n)
{
    fputc('[', fp);
    for (int32_t i = 0; i < n; i++) fprintf(fp, "%s%d", i ? ", " : "", (int)v[i]);
    fputc(']', fp);
}

static void put_geom(FILE *fp, const qnn_conv_shape *s)
{
    fprintf(fp, "    kernel: [%d, %d]\n    stride: [%d, %d]\n    pads: [%d, %d, %d, %d]  # top, left, bottom, right\n",
            (int)s->kh, (int)s->kw, (int)s->stride_h, (int)s->stride_w, (int)s->pad_t, (int)s->pad_l, (int)s->pad_b,
            (int)s->pad_r);
}

static void write_net(FILE *fp, const qnn_int8_net *net, const char *source, const char *calib)
{
    fputs(FORMAT_DOC, fp);
    fputs("format: approxmap-int8-model\nversion: 1\nsource: ", fp);
    util_put_yaml_str(fp, source ? source : "");
    fputs("\ncalibration: ", fp);
    util_put_yaml_str(fp, calib ? calib : "");
    fprintf(fp, "\nscheme: symmetric int8, per-output-channel weights, per-tensor activations, zero point 0\n");
    fprintf(fp, "input:\n  tensor: %d\n  image: [%d, %d, %d]  # C, H, W of the uint8 image\n  quantize: [", net->input,
            (int)net->in_c, (int)net->in_h, (int)net->in_w);
    for (int p = 0; p < 256; p++) fprintf(fp, "%s%d", p ? ", " : "", net->in_lut[p]);
    fprintf(fp, "]\noutput: %d\nlayers: %d\ntensors:\n", net->output, net->n_layers);
    for (int t = 0; t < net->n_tensors; t++) {
        const qnn_int8_tensor *x = &net->tensors[t];
        fprintf(fp, "  - {id: %d, name: ", t);
        util_put_yaml_str(fp, x->name);
        fprintf(fp, ", shape: [%d, %d, %d], scale: %.17g}\n", (int)x->h, (int)x->w, (int)x->c, x->scale);
    }
    fputs("ops:\n", fp);
    for (int i = 0; i < net->n_ops; i++) {
        const qnn_int8_op *op = &net->ops[i];
        const char *kind = op->op == QNN_OP_CONV ? (op->dense ? "dense" : "conv")
                           : op->op == QNN_OP_ADD ? "add"
                           : op->op == QNN_OP_MAXPOOL ? "maxpool"
                           : op->op == QNN_OP_AVGPOOL ? "avgpool"
                                                      : "clamp";
        fputs("  - name: ", fp);
        util_put_yaml_str(fp, op->name);
        fprintf(fp, "\n    op: %s\n    onnx_op: %s\n", kind, op->onnx_op);
        fprintf(fp, "    inputs: [%d%s", op->in[0], op->n_in > 1 ? ", " : "]\n");
        if (op->n_in > 1) fprintf(fp, "%d]\n", op->in[1]);
        fprintf(fp, "    output: %d\n", op->out);
        if (op->op == QNN_OP_CONV) {
            const qnn_conv_shape *s = &op->shape;
            fprintf(fp, "    layer: %d\n", op->layer);
            put_geom(fp, s);
            fprintf(fp, "    clamp: [%d, %d]\n    weight_scale: [", (int)op->act_min, (int)op->act_max);
            for (int32_t co = 0; co < s->cout; co++) fprintf(fp, "%s%.17g", co ? ", " : "", op->w_scale[co]);
            fputs("]\n    bias: ", fp);
            put_i32s(fp, op->bias, s->cout);
            fputs("\n    multiplier: ", fp);
            put_i32s(fp, op->mult, s->cout);
            fputs("\n    shift: ", fp);
            put_i32s(fp, op->shift, s->cout);
            fputs("\n    weights:  # per output channel, (KH, KW, Cin) order\n", fp);
            const size_t taps = (size_t)s->kh * s->kw * s->cin;
            for (int32_t co = 0; co < s->cout; co++) {
                fputs("      - [", fp);
                for (size_t t = 0; t < taps; t++) fprintf(fp, "%s%d", t ? ", " : "", op->w[co * taps + t]);
                fputs("]\n", fp);
            }
        } else if (op->op == QNN_OP_ADD) {
            fprintf(fp,
                    "    left_shift: %d\n    input_multiplier: [%d, %d]\n    input_shift: [%d, %d]\n"
                    "    output_multiplier: %d\n    output_shift: %d\n    clamp: [%d, %d]\n",
                    op->add_left_shift, (int)op->add_mult[0], (int)op->add_mult[1], (int)op->add_shift[0],
                    (int)op->add_shift[1], (int)op->add_mult[2], (int)op->add_shift[2], (int)op->act_min,
                    (int)op->act_max);
        } else if (op->op == QNN_OP_MAXPOOL || op->op == QNN_OP_AVGPOOL) {
            put_geom(fp, &op->shape);
            if (op->op == QNN_OP_AVGPOOL) fprintf(fp, "    count_include_pad: %d\n", op->count_include_pad);
            fprintf(fp, "    clamp: [%d, %d]\n", (int)op->act_min, (int)op->act_max);
        } else {
            fprintf(fp, "    clamp: [%d, %d]\n", (int)op->act_min, (int)op->act_max);
        }
    }
}

int qnn_yaml_write(const char *path, const qnn_int8_net *net, const char *source, const char *calib)
{
    afile *f = afile_open(path);
    if (!f) return ST_EIO;
    write_net(afile_stream(f), net, source, calib);
    return afile_commit(f);
}
