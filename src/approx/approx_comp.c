/* Error compensation (approx_comp.h). Invariant: histogram counts are integers summed across threads,
 * so the thread count never changes a delta; the state is read-only after approx_comp_init. */
#include "approx_comp.h"

#include <stdlib.h>
#include <string.h>

#include "approx.h"
#include "msg.h"
#include "status.h"
#include "util.h"

/* Taps per input row (or column): cnt[i] = #{(o, k) : o * stride - pad + k == i}. Returns the sum. */
static int64_t tap_counts(int32_t n_in, int32_t n_out, int32_t k, int32_t stride, int32_t pad, int64_t *cnt)
{
    int64_t sum = 0;
    for (int32_t i = 0; i < n_in; i++) cnt[i] = 0;
    for (int32_t o = 0; o < n_out; o++)
        for (int32_t t = 0; t < k; t++) {
            int32_t i = o * stride - pad + t;
            if (i >= 0 && i < n_in) {
                cnt[i]++;
                sum++;
            }
        }
    return sum;
}

void approx_tap_hist(const qnn_int8_layer *L, const int8_t *in, int32_t n_images, int per_channel,
                     uint64_t *counts)
{
    int64_t *cy = xmalloc(((size_t)L->h + (size_t)L->w) * sizeof *cy), *cx = cy + L->h;
    const int64_t sy = tap_counts(L->h, L->ho, L->kh, L->stride_h, L->pad_t, cy);
    const int64_t sx = tap_counts(L->w, L->wo, L->kw, L->stride_w, L->pad_l, cx);
    const uint64_t pad = (uint64_t)((int64_t)L->ho * L->wo * L->kh * L->kw - sy * sx);
    const size_t cin = (size_t)L->cin;
    for (int32_t img = 0; img < n_images; img++) {
        const int8_t *x = in + (size_t)img * L->h * L->w * cin;
        for (int32_t iy = 0; iy < L->h; iy++)
            for (int32_t ix = 0; ix < L->w; ix++) {
                const uint64_t wgt = (uint64_t)(cy[iy] * cx[ix]);
                if (!wgt) continue;
                const int8_t *px = x + ((size_t)iy * L->w + ix) * cin;
                if (per_channel)
                    for (size_t c = 0; c < cin; c++) counts[c * 256 + (uint8_t)px[c]] += wgt;
                else
                    for (size_t c = 0; c < cin; c++) counts[(uint8_t)px[c]] += wgt;
            }
        if (per_channel)
            for (size_t c = 0; c < cin; c++) counts[c * 256] += pad;
        else
            counts[0] += pad * cin;
    }
    free(cy);
}

int approx_comp_mode_parse(const char *s)
{
    return !strcmp(s, "bias") ? 1 : !strcmp(s, "bias-tensor") ? 0 : !strcmp(s, "none") ? -1 : -2;
}

int approx_comp_init(approx_comp *c, const qnn_int8_net *net, const amap_layer *layers, const amul_lib *lib,
                     const cifar_set *calib, int per_channel, int threads)
{
    if (!calib || calib->n < 1) return msg_error(ST_EINVAL, "error compensation needs calibration images");
    memset(c, 0, sizeof *c);
    c->net = net;
    c->layers = layers;
    c->lib = lib;
    c->n_layers = net->n_layers;
    c->per_channel = per_channel ? 1 : 0;
    c->n_images = calib->n;
    const int nl = net->n_layers;
    size_t *hist_off = xmalloc(((size_t)nl + 1) * sizeof *hist_off);
    hist_off[0] = 0;
    for (int l = 0; l < nl; l++) {
        const qnn_int8_layer *L = &net->layers[l];
        ASSERT(qnn_int8_tensor_bytes(net, net->ops[L->op_index].in[0]) == (size_t)L->h * L->w * L->cin);
        hist_off[l + 1] = hist_off[l] + (per_channel ? (size_t)L->cin : 1) * 256;
    }
    const size_t n_hist = hist_off[nl];
    uint64_t *total = xcalloc(n_hist + 1, sizeof *total);

    const int32_t chunk = 32, n_chunks = (calib->n + chunk - 1) / chunk;
    const size_t in_sz = (size_t)net->in_c * net->in_h * net->in_w;
    const int nt = util_threads(threads, n_chunks);
#pragma omp parallel num_threads(nt)
    {
        qnn_int8_ws *ws = qnn_int8_ws_alloc(net, chunk);
        uint64_t *cnt = xcalloc(n_hist + 1, sizeof *cnt);
#pragma omp for schedule(dynamic, 1)
        for (int32_t ch = 0; ch < n_chunks; ch++) {
            const int32_t first = ch * chunk, n = calib->n - first < chunk ? calib->n - first : chunk;
            qnn_int8_set_input(net, ws, calib->pixels + (size_t)first * in_sz, n);
            for (int op = 0; op < net->n_ops; op++) {
                const qnn_int8_op *o = &net->ops[op];
                if (o->op == QNN_OP_CONV)
                    approx_tap_hist(&net->layers[o->layer], qnn_int8_ws_tensor(ws, o->in[0]), n, per_channel,
                                    cnt + hist_off[o->layer]);
                qnn_int8_step(net, ws, op, NULL);
            }
        }
#pragma omp critical(approx_comp_hist)
        for (size_t k = 0; k < n_hist; k++) total[k] += cnt[k];
        free(cnt);
        qnn_int8_ws_free(ws);
    }

    c->act_p = xcalloc((size_t)nl + 1, sizeof *c->act_p);
    for (int l = 0; l < nl; l++) {
        const size_t nh = hist_off[l + 1] - hist_off[l];
        c->act_p[l] = xmalloc(nh * sizeof **c->act_p);
        for (size_t r = 0; r < nh / 256; r++) {
            uint64_t sum = 0;
            for (int a = 0; a < 256; a++) sum += total[hist_off[l] + r * 256 + a];
            for (int a = 0; a < 256; a++)
                c->act_p[l][r * 256 + a] = sum ? (double)total[hist_off[l] + r * 256 + a] / (double)sum : 0.0;
        }
    }
    free(total);
    free(hist_off);
    return ST_OK;
}

void approx_comp_deinit(approx_comp *c)
{
    if (!c) return;
    for (int l = 0; c->act_p && l < c->n_layers; l++) free(c->act_p[l]);
    free(c->act_p);
    memset(c, 0, sizeof *c);
}

void approx_comp_fill(const approx_comp *c, amap *m)
{
    ASSERT(m->n_layers == c->n_layers);
    for (int l = 0; l < c->n_layers; l++)
        amap_bias_compensation(m, l, &c->layers[l], c->lib, c->act_p[l], c->per_channel, amap_bias_delta_w(m, l));
}
