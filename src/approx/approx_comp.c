/* Error compensation (approx_comp.h). Invariant: the compensated view shares every array of the net
 * except its op array and the layer biases; histogram counts are integers summed across threads, so
 * the thread count never changes a delta. */
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

/* A view of `net` with its own op array and, per layer, its own copy of the bias (bias[l], cout entries,
 * owned by the caller); every other array is the net's. */
static qnn_int8_net *view_alloc(const qnn_int8_net *net, int32_t **bias)
{
    qnn_int8_net *v = xmalloc(sizeof *v);
    *v = *net;
    v->ops = xmalloc((size_t)net->n_ops * sizeof *v->ops);
    memcpy(v->ops, net->ops, (size_t)net->n_ops * sizeof *v->ops);
    for (int l = 0; l < net->n_layers; l++) {
        const qnn_int8_layer *L = &net->layers[l];
        bias[l] = xcalloc((size_t)L->cout, sizeof **bias);
        if (net->ops[L->op_index].bias) memcpy(bias[l], net->ops[L->op_index].bias, (size_t)L->cout * sizeof **bias);
        v->ops[L->op_index].bias = bias[l];
    }
    return v;
}

/* Per-state storage: zero deltas, biases equal to the net's, the view running them. */
static void comp_alloc_state(approx_comp *c)
{
    const int nl = c->n_layers;
    c->delta = xcalloc((size_t)nl + 1, sizeof *c->delta);
    c->bias = xcalloc((size_t)nl + 1, sizeof *c->bias);
    for (int l = 0; l < nl; l++) c->delta[l] = xcalloc((size_t)c->net->layers[l].cout, sizeof **c->delta);
    c->view = view_alloc(c->net, c->bias);
}

static int32_t sat_add32(int32_t b, int32_t d)
{
    int64_t x = (int64_t)b + d;
    return (int32_t)(x > INT32_MAX ? INT32_MAX : x < INT32_MIN ? INT32_MIN : x);
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

    c->owns_act = 1;
    c->act_p = xcalloc((size_t)nl + 1, sizeof *c->act_p);
    comp_alloc_state(c);
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
    for (int l = 0; l < c->n_layers; l++) {
        if (c->act_p && c->owns_act) free(c->act_p[l]);
        if (c->delta) free(c->delta[l]);
        if (c->bias) free(c->bias[l]);
    }
    if (c->owns_act) free(c->act_p);
    free(c->delta);
    free(c->bias);
    if (c->view) free(c->view->ops); /* everything else of the view belongs to the net */
    free(c->view);
    memset(c, 0, sizeof *c);
}

const qnn_int8_net *approx_comp_apply(approx_comp *c, const amap *m)
{
    ASSERT(m->n_layers == c->n_layers);
    for (int l = 0; l < c->n_layers; l++) {
        const qnn_int8_layer *L = &c->net->layers[l];
        amap_bias_compensation(m, l, &c->layers[l], c->lib, c->act_p[l], c->per_channel, c->delta[l]);
        const int32_t *b0 = c->net->ops[L->op_index].bias;
        for (int32_t co = 0; co < L->cout; co++) c->bias[l][co] = sat_add32(b0 ? b0[co] : 0, c->delta[l][co]);
    }
    return c->view;
}

void approx_comp_share(approx_comp *dst, const approx_comp *src)
{
    *dst = *src;
    dst->owns_act = 0;
    comp_alloc_state(dst);
}

void approx_comp_store(const approx_comp *c, amap *m)
{
    ASSERT(m->n_layers == c->n_layers);
    for (int l = 0; l < c->n_layers; l++)
        memcpy(amap_bias_delta_w(m, l), c->delta[l], (size_t)c->net->layers[l].cout * sizeof **c->delta);
}

qnn_int8_net *approx_bias_view(const qnn_int8_net *net, const amap *m)
{
    ASSERT(m->n_layers == net->n_layers);
    if (!m->bias_delta) return NULL;
    int32_t **bias = xcalloc((size_t)net->n_layers + 1, sizeof *bias);
    qnn_int8_net *v = view_alloc(net, bias); /* the view's op array holds the bias pointers from here on */
    for (int l = 0; l < net->n_layers; l++) {
        const int32_t *d = amap_bias_delta(m, l);
        for (int32_t co = 0; co < net->layers[l].cout; co++) bias[l][co] = sat_add32(bias[l][co], d[co]);
    }
    free(bias);
    return v;
}

void approx_bias_view_free(qnn_int8_net *view)
{
    if (!view) return;
    for (int l = 0; l < view->n_layers; l++) free((void *)view->ops[view->layers[l].op_index].bias);
    free(view->ops);
    free(view);
}
