/* Post-training quantization (see qnn_quant.h for the scheme). Calibration runs the float model on
 * the calibration images and records per-tensor ranges (max |x|, then optionally a percentile from a
 * histogram); everything after that is a pure function of the float weights and those ranges. */
#include "qnn_quant.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cifar.h"
#include "datadir.h"
#include "msg.h"
#include "onnx_import.h"
#include "status.h"
#include "util.h"

#ifdef _OPENMP
#include <omp.h>
#endif

void qnn_quant_multiplier(double real, int32_t *mult, int *shift)
{
    ASSERT(real >= 0 && real < 2147483648.0);
    if (real == 0) {
        *mult = 0;
        *shift = 0;
        return;
    }
    int e;
    double q = frexp(real, &e); /* real = q 2^e, q in [0.5, 1) */
    int64_t qf = llround(q * 2147483648.0);
    ASSERT(qf <= (1LL << 31));
    if (qf == (1LL << 31)) {
        qf /= 2;
        e++;
    }
    if (e < -31) {
        e = 0;
        qf = 0;
    }
    *mult = (int32_t)qf;
    *shift = e;
}

int32_t qnn_quant_round_clamp(double x, int32_t lo, int32_t hi)
{
    if (isnan(x)) return 0;
    double r = round(x);
    if (r < lo) return lo;
    if (r > hi) return hi;
    return (int32_t)r;
}

int qnn_quant_method_parse(const char *s, qnn_calib_method *m)
{
    if (!strcmp(s, "max"))
        *m = QNN_CALIB_MAX;
    else if (!strcmp(s, "percentile"))
        *m = QNN_CALIB_PERCENTILE;
    else
        return -1;
    return 0;
}

const char *qnn_quant_opts_describe(const qnn_quant_opts *o, char *buf)
{
    if (o->method == QNN_CALIB_MAX) return "max";
    snprintf(buf, 48, "percentile %g", o->percentile);
    return buf;
}

qnn_quant_opts qnn_quant_opts_default(void)
{
    qnn_quant_opts o = {QNN_CALIB_PERCENTILE, 99.99, 0};
    return o;
}

static void clamp_range(const qnn_node *nd, double s, int32_t *lo, int32_t *hi)
{
    *lo = -128;
    *hi = 127;
    if (!nd->has_clamp) return;
    if (isfinite(nd->lo)) *lo = qnn_quant_round_clamp(nd->lo / s, -128, 127);
    if (isfinite(nd->hi)) *hi = qnn_quant_round_clamp(nd->hi / s, -128, 127);
    if (*lo > *hi) *lo = *hi;
}

/* Percentile of |x| per tensor: a histogram of 4096 bins over [0, max] per tensor, filled chunk by
 * chunk (per-thread histograms, summed: integer counts, so the result does not depend on the thread
 * count); the range is the upper edge of the bin where the cumulative count reaches the percentile. */
enum { HBINS = 4096, HCHUNK = 50 };

static int calibrate_percentile(const qnn_model *m, const uint8_t *pixels, int32_t n, double pct, int threads,
                                double *range)
{
    const size_t hsize = (size_t)m->n_tensors * HBINS;
    const int32_t n_chunks = (n + HCHUNK - 1) / HCHUNK;
    const int nt = util_threads(threads, n_chunks);
    uint64_t *hist = xcalloc(hsize * nt, sizeof *hist);
    const size_t in_sz = (size_t)m->tensors[m->input].h * m->tensors[m->input].w * m->tensors[m->input].c;
#pragma omp parallel num_threads(nt)
    {
        int tid = 0;
#ifdef _OPENMP
        tid = omp_get_thread_num();
#endif
        qnn_model_ws *ws = qnn_model_ws_alloc(m, HCHUNK);
        uint64_t *hs = hist + (size_t)tid * hsize;
#pragma omp for schedule(dynamic, 1)
        for (int32_t ch = 0; ch < n_chunks; ch++) {
            int32_t first = ch * HCHUNK, cnt = n - first < HCHUNK ? n - first : HCHUNK;
            qnn_model_ws_run(m, ws, pixels + (size_t)first * in_sz, cnt);
            for (int t = 0; t < m->n_tensors; t++) {
                if (!(range[t] > 0)) continue;
                const qnn_tensor *x = &m->tensors[t];
                const size_t sz = (size_t)x->h * x->w * x->c * cnt;
                const float *v = qnn_model_ws_tensor(ws, t);
                uint64_t *h = hs + (size_t)t * HBINS;
                const double k = HBINS / range[t];
                for (size_t i = 0; i < sz; i++) {
                    int b = (int)(fabs((double)v[i]) * k);
                    h[b < HBINS ? b : HBINS - 1]++;
                }
            }
        }
        qnn_model_ws_free(ws);
    }
    for (int k = 1; k < nt; k++)
        for (size_t i = 0; i < hsize; i++) hist[i] += hist[(size_t)k * hsize + i];
    for (int t = 0; t < m->n_tensors; t++) {
        if (!(range[t] > 0)) continue;
        const uint64_t *h = hist + (size_t)t * HBINS;
        uint64_t total = 0, acc = 0;
        for (int b = 0; b < HBINS; b++) total += h[b];
        double want = pct / 100.0 * (double)total;
        int b = 0;
        for (; b < HBINS - 1; b++) {
            acc += h[b];
            if ((double)acc >= want) break;
        }
        range[t] = range[t] * (b + 1) / HBINS;
    }
    free(hist);
    return ST_OK;
}

static double scale_of(double absmax)
{
    return absmax > 0 && isfinite(absmax) ? absmax / 127.0 : 1.0;
}

int qnn_quant_calibrate(const qnn_model *m, const uint8_t *calib_pixels, int32_t n_calib, const qnn_quant_opts *o,
                        double *range)
{
    qnn_quant_opts def = qnn_quant_opts_default();
    if (!o) o = &def;
    if (n_calib < 1) return msg_error(ST_EINVAL, "calibration needs at least one image");
    for (int t = 0; t < m->n_tensors; t++) range[t] = 0;
    qnn_model_predict(m, calib_pixels, n_calib, o->threads, NULL, range);
    if (o->method == QNN_CALIB_MAX) return ST_OK;
    if (o->method != QNN_CALIB_PERCENTILE || !(o->percentile > 0 && o->percentile <= 100))
        return msg_error(ST_EINVAL, "invalid calibration options");
    return calibrate_percentile(m, calib_pixels, n_calib, o->percentile, o->threads, range);
}

int qnn_quant_build(const qnn_model *m, const uint8_t *calib_pixels, int32_t n_calib, const qnn_quant_opts *o,
                    qnn_int8_net **out)
{
    double *range = xcalloc((size_t)m->n_tensors, sizeof *range);
    int rc = qnn_quant_calibrate(m, calib_pixels, n_calib, o, range);
    if (rc == ST_OK) *out = qnn_quant_from_ranges(m, range);
    free(range);
    return rc;
}

qnn_int8_net *qnn_quant_from_ranges(const qnn_model *m, const double *absmax)
{
    qnn_int8_net *net = xcalloc(1, sizeof *net);
    net->n_tensors = m->n_tensors;
    net->tensors = xcalloc((size_t)m->n_tensors, sizeof *net->tensors);
    for (int t = 0; t < m->n_tensors; t++) {
        net->tensors[t].name = xstrdup(m->tensors[t].name);
        net->tensors[t].h = m->tensors[t].h;
        net->tensors[t].w = m->tensors[t].w;
        net->tensors[t].c = m->tensors[t].c;
    }
    net->input = m->input;
    net->output = m->output;
    const qnn_tensor *ti = &m->tensors[m->input];
    net->in_c = ti->c;
    net->in_h = ti->h;
    net->in_w = ti->w;
    /* raw pixels 0..255 onto 0..127 */
    double s_in = 255.0 / 127.0;
    net->tensors[m->input].scale = s_in;
    for (int p = 0; p < 256; p++) net->in_lut[p] = (uint8_t)qnn_quant_round_clamp(p / s_in, 0, 127);

    net->n_ops = m->n_nodes;
    net->ops = xcalloc((size_t)m->n_nodes, sizeof *net->ops);
    int layer = 0;
    for (int i = 0; i < m->n_nodes; i++) {
        const qnn_node *nd = &m->nodes[i];
        qnn_int8_op *op = &net->ops[i];
        op->op = nd->op;
        op->name = xstrdup(nd->name);
        op->onnx_op = nd->onnx_op;
        op->dense = nd->dense;
        op->n_in = nd->n_in;
        op->in[0] = nd->in[0];
        op->in[1] = nd->in[1];
        op->out = nd->out;
        op->shape = nd->shape;
        op->layer = -1;
        op->count_include_pad = nd->count_include_pad;
        double s_a = net->tensors[nd->in[0]].scale;
        double s_out = (nd->op == QNN_OP_CONV || nd->op == QNN_OP_ADD) ? scale_of(absmax[nd->out]) : s_a;
        net->tensors[nd->out].scale = s_out;
        clamp_range(nd, s_out, &op->act_min, &op->act_max);
        if (nd->op == QNN_OP_CONV) {
            const qnn_conv_shape *s = &nd->shape;
            size_t taps = (size_t)s->kh * s->kw * s->cin;
            op->layer = layer++;
            op->w = xmalloc(taps * s->cout);
            op->w_scale = xmalloc((size_t)s->cout * sizeof *op->w_scale);
            op->bias = xmalloc((size_t)s->cout * sizeof *op->bias);
            op->mult = xmalloc((size_t)s->cout * sizeof *op->mult);
            op->shift = xmalloc((size_t)s->cout * sizeof *op->shift);
            for (int32_t co = 0; co < s->cout; co++) {
                const float *wf = nd->weight + co * taps;
                double mx = 0;
                for (size_t t = 0; t < taps; t++) mx = fmax(mx, fabs((double)wf[t]));
                double sw = mx > 0 ? mx / 127.0 : 1.0;
                op->w_scale[co] = sw;
                for (size_t t = 0; t < taps; t++)
                    op->w[co * taps + t] = (int8_t)qnn_quant_round_clamp((double)wf[t] / sw, -127, 127);
                /* |bias| beyond 2^30 cannot be represented meaningfully; clamp keeps it defined */
                op->bias[co] = qnn_quant_round_clamp((double)nd->bias[co] / (s_a * sw), -(1 << 30), 1 << 30);
                int sh;
                qnn_quant_multiplier(s_a * sw / s_out, &op->mult[co], &sh);
                op->shift[co] = sh;
            }
        } else if (nd->op == QNN_OP_ADD) {
            double s_b = net->tensors[nd->in[1]].scale, twice_max = 2 * fmax(s_a, s_b);
            int sh;
            op->add_left_shift = 20;
            qnn_quant_multiplier(s_a / twice_max, &op->add_mult[0], &sh);
            op->add_shift[0] = sh;
            qnn_quant_multiplier(s_b / twice_max, &op->add_mult[1], &sh);
            op->add_shift[1] = sh;
            qnn_quant_multiplier(twice_max / ((double)(1 << op->add_left_shift) * s_out), &op->add_mult[2], &sh);
            op->add_shift[2] = sh;
        }
    }
    qnn_int8_net_finish(net);
    return net;
}

int qnn_quant_load(const char *model_path, const char *calib_spec, const qnn_quant_opts *o, qnn_model **model,
                   qnn_int8_net **net)
{
    char *path = datadir_resolve(model_path);
    qnn_model *m;
    int rc = onnx_import_file(path, &m);
    if (rc) {
        free(path);
        return rc;
    }
    const qnn_tensor *ti = &m->tensors[m->input];
    if (ti->c != 3 || ti->h != 32 || ti->w != 32) {
        rc = msg_error(ST_EFORMAT, "%s: input is %dx%dx%d (CxHxW); CIFAR-10 images are 3x32x32", path, (int)ti->c,
                       (int)ti->h, (int)ti->w);
        free(path);
        qnn_model_free(m);
        return rc;
    }
    if (qnn_model_n_out(m) < CIFAR_CLASSES) {
        rc = msg_error(ST_EFORMAT, "%s: the model has %d outputs, fewer than the 10 CIFAR-10 classes", path,
                       (int)qnn_model_n_out(m));
        free(path);
        qnn_model_free(m);
        return rc;
    }
    free(path);
    if (net) {
        cifar_set cal;
        if ((rc = cifar_load_range(calib_spec, &cal))) {
            qnn_model_free(m);
            return rc;
        }
        rc = qnn_quant_build(m, cal.pixels, cal.n, o, net);
        cifar_set_deinit(&cal);
        if (rc) {
            qnn_model_free(m);
            return rc;
        }
    }
    if (model)
        *model = m;
    else
        qnn_model_free(m);
    return ST_OK;
}
