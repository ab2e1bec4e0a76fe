/* int8 graph executor (see qnn_int8.h). Every product goes through the dispatch of qnn_kern.h (which
 * builds activation planes per image from the int8 tensors and requantizes in its store); this file
 * sequences the ops, picks each layer's multiplier path, and runs pools. Workspaces are allocated
 * once. */
#include "qnn_int8.h"

#include <stdlib.h>
#include <string.h>

#include "msg.h"
#include "qnn_kern.h"
#include "qnn_requant.h"
#include "util.h"

struct qnn_int8_ws {
    const qnn_int8_net *net; /* borrowed */
    int32_t max_n, n;
    int threads;             /* kernel team size (qnn_kern_team rule; 0: OpenMP default) */
    int8_t **t;              /* per tensor: (max_n, h, w, c) */
    int32_t *pool;           /* one int32 per channel of the widest pool */
    void *scratch;           /* kernel scratch (qnn_conv_scratch_size): sized for exact layers at
                              * allocation, grown when a map needs more planes or tables */
    size_t scratch_size;
};

/* Kernel scratch for layer shape s (batch set) under kind/n_tabs: the workspace's, grown if needed. */
static void *ws_scratch(qnn_int8_ws *ws, const qnn_conv_shape *s, qnn_mul_kind kind, int n_tabs, size_t *size)
{
    size_t need = qnn_conv_scratch_size(s, kind, n_tabs, ws->threads);
    if (kind != QNN_MUL_LUT) /* the u8 kernels (exact and rounding maps) run on the same scratch */
        for (int i = 0; i < ws->net->n_ops; i++) {
            const qnn_int8_op *op = &ws->net->ops[i];
            size_t u = op->op == QNN_OP_CONV && op->u8 ? qnn_conv_u8_sep_scratch_size(op->u8, s->n, ws->threads) : 0;
            need = u > need ? u : need;
        }
    if (need > ws->scratch_size) {
        free(ws->scratch);
        ws->scratch = xaligned_alloc(need);
        ws->scratch_size = need;
    }
    *size = ws->scratch_size;
    return ws->scratch;
}

void qnn_int8_net_free(qnn_int8_net *net)
{
    if (!net) return;
    for (int t = 0; t < net->n_tensors; t++) free(net->tensors[t].name);
    for (int i = 0; i < net->n_ops; i++) {
        qnn_int8_op *op = &net->ops[i];
        free(op->name);
        free(op->w);
        free(op->w16);
        qnn_conv_u8_free(op->u8);
        free(op->add_lut);
        free(op->w_scale);
        free(op->bias);
        free(op->mult);
        free(op->shift);
    }
    free(net->tensors);
    free(net->ops);
    free(net->layers);
    free(net);
}

static qnn_kern_add_params add_params(const qnn_int8_op *op);

/* The value range of every tensor (lo, hi: n_tensors entries each), from the ops in stored order:
 * the input is in_lut's range; a convolution or an add yields its clamp; a pool or a clamp yields its
 * input's range within its clamp (an average of values in lo..hi rounds into lo..hi, padding counts
 * as 0 when it is included; a max pool's empty window gives -128). */
static void tensor_ranges(const qnn_int8_net *net, int32_t *lo, int32_t *hi)
{
    for (int t = 0; t < net->n_tensors; t++) lo[t] = -128, hi[t] = 127;
    lo[net->input] = 127, hi[net->input] = -128;
    for (int p = 0; p < 256; p++) {
        int32_t v = (int8_t)net->in_lut[p];
        lo[net->input] = v < lo[net->input] ? v : lo[net->input];
        hi[net->input] = v > hi[net->input] ? v : hi[net->input];
    }
    for (int i = 0; i < net->n_ops; i++) {
        const qnn_int8_op *op = &net->ops[i];
        int32_t l = -128, h = 127;
        if (op->op == QNN_OP_MAXPOOL || op->op == QNN_OP_AVGPOOL || op->op == QNN_OP_CLAMP) {
            l = lo[op->in[0]], h = hi[op->in[0]];
            const qnn_conv_shape *s = &op->shape;
            int padded = op->op != QNN_OP_CLAMP && (s->pad_t || s->pad_l || s->pad_b || s->pad_r);
            if (padded && op->op == QNN_OP_MAXPOOL) l = -128;
            if (padded && op->op == QNN_OP_AVGPOOL) l = l > 0 ? 0 : l, h = h < 0 ? 0 : h;
        }
        lo[op->out] = l > op->act_min ? l : op->act_min;
        hi[op->out] = h < op->act_max ? h : op->act_max;
        if (lo[op->out] > hi[op->out]) /* l..h lies beyond one side of the clamp: one value */
            lo[op->out] = hi[op->out] = l > op->act_max ? op->act_max : op->act_min;
    }
}

void qnn_int8_net_finish(qnn_int8_net *net)
{
    int32_t *lo = xmalloc((size_t)net->n_tensors * 2 * sizeof *lo), *hi = lo + net->n_tensors;
    tensor_ranges(net, lo, hi);
    int n = 0;
    for (int i = 0; i < net->n_ops; i++) n += net->ops[i].op == QNN_OP_CONV;
    for (int i = 0; i < net->n_ops; i++) {
        qnn_int8_op *op = &net->ops[i];
        if (op->op != QNN_OP_ADD) continue;
        if (!op->add_lut) op->add_lut = xmalloc(65536);
        const qnn_kern_add_params p = add_params(op);
        qnn_kern_add_table(&p, op->add_lut);
    }
    free(net->layers);
    net->n_layers = n;
    net->layers = xcalloc((size_t)(n ? n : 1), sizeof *net->layers);
    for (int i = 0; i < net->n_ops; i++) {
        qnn_int8_op *op = &net->ops[i];
        if (op->op != QNN_OP_CONV) continue;
        ASSERT(op->layer >= 0 && op->layer < n);
        const qnn_conv_shape *s = &op->shape;
        size_t nw = (size_t)s->cout * s->kh * s->kw * s->cin;
        free(op->w16);
        op->w16 = xmalloc(nw * sizeof *op->w16);
        for (size_t k = 0; k < nw; k++) op->w16[k] = op->w[k];
        /* the exact u8 kernel, when its proof holds for this layer's input range (qnn_kern.h) */
        qnn_conv_u8_free(op->u8);
        op->u8 = qnn_conv_u8_alloc(s, op->w, lo[op->in[0]], hi[op->in[0]]);
        qnn_int8_layer *l = &net->layers[op->layer];
        l->name = op->name;
        l->op = op->dense ? "dense" : "conv";
        l->op_index = i;
        l->shape = *s;
        l->shape.n = 0;
        l->macs = qnn_conv_macs(s);
        l->weights = op->w;
    }
    free(lo);
}

int32_t qnn_int8_n_out(const qnn_int8_net *net)
{
    const qnn_int8_tensor *t = &net->tensors[net->output];
    return t->h * t->w * t->c;
}

size_t qnn_int8_tensor_bytes(const qnn_int8_net *net, int t)
{
    const qnn_int8_tensor *x = &net->tensors[t];
    return (size_t)x->h * x->w * x->c;
}

qnn_int8_ws *qnn_int8_ws_alloc(const qnn_int8_net *net, int32_t max_images)
{
    ASSERT(max_images > 0);
    qnn_int8_ws *ws = xcalloc(1, sizeof *ws);
    ws->net = net;
    ws->max_n = max_images;
    ws->t = xcalloc((size_t)net->n_tensors, sizeof *ws->t);
    for (int t = 0; t < net->n_tensors; t++) ws->t[t] = xaligned_alloc(qnn_int8_tensor_bytes(net, t) * max_images);
    int32_t pc = 1;
    for (int i = 0; i < net->n_ops; i++)
        if ((net->ops[i].op == QNN_OP_MAXPOOL || net->ops[i].op == QNN_OP_AVGPOOL) && net->ops[i].shape.cin > pc)
            pc = net->ops[i].shape.cin;
    ws->pool = xmalloc((size_t)pc * sizeof *ws->pool);
    qnn_int8_ws_set_threads(ws, 0);
    return ws;
}

void qnn_int8_ws_free(qnn_int8_ws *ws)
{
    if (!ws) return;
    for (int t = 0; t < ws->net->n_tensors; t++) free(ws->t[t]);
    free(ws->t);
    free(ws->pool);
    free(ws->scratch);
    free(ws);
}

int8_t *qnn_int8_ws_tensor(qnn_int8_ws *ws, int t)
{
    ASSERT(t >= 0 && t < ws->net->n_tensors);
    return ws->t[t];
}

void qnn_int8_ws_set_threads(qnn_int8_ws *ws, int threads)
{
    ws->threads = threads > 0 ? threads : 0;
    /* size the scratch for every layer's exact kernels now, so the exact engine never allocates later */
    for (int i = 0; i < ws->net->n_ops; i++) {
        if (ws->net->ops[i].op != QNN_OP_CONV) continue;
        qnn_conv_shape s = ws->net->ops[i].shape;
        s.n = ws->max_n;
        size_t size;
        (void)ws_scratch(ws, &s, QNN_MUL_EXACT, 1, &size);
    }
}

void qnn_int8_ws_set_n(qnn_int8_ws *ws, int32_t n)
{
    ASSERT(n >= 0 && n <= ws->max_n);
    ws->n = n;
}

void qnn_int8_set_input(const qnn_int8_net *net, qnn_int8_ws *ws, const uint8_t *pixels, int32_t n)
{
    ASSERT(ws->net == net && n >= 0 && n <= ws->max_n);
    const size_t hw = (size_t)net->in_h * net->in_w, sz = hw * net->in_c;
    int8_t *dst = ws->t[net->input];
    for (int32_t img = 0; img < n; img++)
        for (int32_t ch = 0; ch < net->in_c; ch++)
            for (size_t p = 0; p < hw; p++)
                dst[img * sz + p * net->in_c + ch] = (int8_t)net->in_lut[pixels[img * sz + ch * hw + p]];
    ws->n = n;
}

static int8_t clamp8(int32_t v, int32_t lo, int32_t hi)
{
    return (int8_t)(v < lo ? lo : v > hi ? hi : v);
}

/* in (n, h, w, cin) int8 -> out (n, ho, wo, cout) int8, requantized inside the kernels */
static void run_conv(const qnn_int8_op *op, qnn_int8_ws *ws, const qnn_layer_mul *mul)
{
    qnn_conv_shape s = op->shape;
    s.n = ws->n;
    const int8_t *in = ws->t[op->in[0]];
    /* bias + TFLite requantization + clamp fused into the kernels' store (bit-identical to
     * qnn_quant_requant_out): no int32 tensor */
    const qnn_conv_dst dst = {.out = ws->t[op->out], .bias = mul && mul->bias ? mul->bias : op->bias,
                              .mult = op->mult, .shift = op->shift, .lo = op->act_min, .hi = op->act_max};
    size_t ssz;
    void *scr;
    if (!mul || mul->kind == QNN_MUL_EXACT) {
        if (op->u8) {
            size_t need = qnn_conv_u8_scratch_size(op->u8, s.n, ws->threads);
            if (need > ws->scratch_size) (void)ws_scratch(ws, &s, QNN_MUL_EXACT, 1, &ssz); /* sized for both */
            ASSERT(need <= ws->scratch_size);
            if (qnn_conv_u8_team(op->u8, s.n, in, &dst, ws->threads, ws->scratch, ws->scratch_size)) return;
        }
        scr = ws_scratch(ws, &s, QNN_MUL_EXACT, 1, &ssz);
        qnn_conv_acc_i8_team(&s, in, NULL, 1, NULL, op->w16, &dst, ws->threads, scr, ssz);
    } else if (mul->kind == QNN_MUL_SEPARABLE) {
        ASSERT(mul->n_planes >= 1 && mul->n_planes <= QNN_MUL_MAX_PLANES && mul->act_tf && mul->w_tf);
        ASSERT(mul->n_planes == 1 || mul->plane_of);
        scr = ws_scratch(ws, &s, QNN_MUL_SEPARABLE, mul->n_planes, &ssz);
        if (op->u8 && qnn_conv_u8_sep_team(op->u8, s.n, in, mul->act_tf, mul->n_planes, mul->plane_of, mul->w_tf, &dst,
                                           ws->threads, scr, ssz))
            return;
        qnn_conv_acc_i8_team(&s, in, mul->act_tf, mul->n_planes, mul->plane_of, mul->w_tf, &dst, ws->threads, scr,
                             ssz);
    } else {
        ASSERT(mul->kind == QNN_MUL_LUT && mul->n_luts >= 1 && mul->luts);
        ASSERT(mul->n_luts == 1 || mul->lut_of);
        scr = ws_scratch(ws, &s, QNN_MUL_LUT, mul->n_luts, &ssz);
        qnn_conv_acc_lut_team(&s, in, op->w, mul->luts, mul->n_luts, mul->lut_of, &dst, ws->threads, scr, ssz);
    }
}

static qnn_kern_add_params add_params(const qnn_int8_op *op)
{
    const qnn_kern_add_params p = {.left_shift = op->add_left_shift,
                                   .mult = {op->add_mult[0], op->add_mult[1], op->add_mult[2]},
                                   .shift = {op->add_shift[0], op->add_shift[1], op->add_shift[2]},
                                   .lo = op->act_min,
                                   .hi = op->act_max};
    return p;
}

static void run_add(const qnn_int8_op *op, qnn_int8_ws *ws, size_t elems)
{
    if (op->add_lut) {
        qnn_kern_add_lut(ws->t[op->in[0]], ws->t[op->in[1]], elems, op->add_lut, ws->t[op->out]);
        return;
    }
    const qnn_kern_add_params p = add_params(op);
    qnn_kern_add(ws->t[op->in[0]], ws->t[op->in[1]], elems, &p, ws->t[op->out]);
}

/* Max and average pools, channels innermost (contiguous in NHWC): per output pixel the window's
 * rows are summed (or maxed) into one int32 per channel, then divided. */
static void run_pool(const qnn_int8_op *op, qnn_int8_ws *ws)
{
    const qnn_conv_shape *s = &op->shape;
    const int32_t c = s->cin;
    const int is_max = op->op == QNN_OP_MAXPOOL;
    const int8_t *in = ws->t[op->in[0]];
    int8_t *out = ws->t[op->out];
    int32_t *acc = ws->pool;
    for (int32_t img = 0; img < ws->n; img++)
        for (int32_t oy = 0; oy < s->ho; oy++)
            for (int32_t ox = 0; ox < s->wo; ox++) {
                for (int32_t ch = 0; ch < c; ch++) acc[ch] = is_max ? -128 : 0;
                int32_t cnt = 0;
                for (int32_t ky = 0; ky < s->kh; ky++) {
                    int32_t iy = oy * s->stride_h - s->pad_t + ky;
                    if (iy < 0 || iy >= s->h) continue;
                    for (int32_t kx = 0; kx < s->kw; kx++) {
                        int32_t ix = ox * s->stride_w - s->pad_l + kx;
                        if (ix < 0 || ix >= s->w) continue;
                        const int8_t *v = in + (((size_t)img * s->h + iy) * s->w + ix) * c;
                        cnt++;
                        if (is_max)
                            for (int32_t ch = 0; ch < c; ch++) acc[ch] = v[ch] > acc[ch] ? v[ch] : acc[ch];
                        else
                            for (int32_t ch = 0; ch < c; ch++) acc[ch] += v[ch];
                    }
                }
                int8_t *o = out + (((size_t)img * s->ho + oy) * s->wo + ox) * c;
                int32_t d = op->count_include_pad ? s->kh * s->kw : cnt;
                if (d < 1) d = 1;
                for (int32_t ch = 0; ch < c; ch++) {
                    int32_t v = acc[ch];
                    /* TFLite: round half away from zero */
                    if (!is_max) v = v > 0 ? (v + d / 2) / d : (v - d / 2) / d;
                    o[ch] = clamp8(v, op->act_min, op->act_max);
                }
            }
}

void qnn_int8_step(const qnn_int8_net *net, qnn_int8_ws *ws, int i, const qnn_layer_mul *muls)
{
    ASSERT(ws->net == net && i >= 0 && i < net->n_ops);
    const qnn_int8_op *op = &net->ops[i];
    size_t elems = qnn_int8_tensor_bytes(net, op->out) * ws->n;
    switch (op->op) {
    case QNN_OP_CONV: run_conv(op, ws, muls ? &muls[op->layer] : NULL); break;
    case QNN_OP_ADD: run_add(op, ws, elems); break;
    case QNN_OP_MAXPOOL:
    case QNN_OP_AVGPOOL: run_pool(op, ws); break;
    case QNN_OP_CLAMP: {
        const int8_t *a = ws->t[op->in[0]];
        int8_t *o = ws->t[op->out];
        for (size_t k = 0; k < elems; k++) o[k] = clamp8(a[k], op->act_min, op->act_max);
        break;
    }
    }
}

void qnn_int8_forward(const qnn_int8_net *net, qnn_int8_ws *ws, int from, const qnn_layer_mul *muls)
{
    for (int i = from; i < net->n_ops; i++) qnn_int8_step(net, ws, i, muls);
}

int qnn_int8_live_before(const qnn_int8_net *net, int op, int *ids)
{
    int n = 0;
    for (int t = 0; t < net->n_tensors; t++) {
        int written_before = t == net->input;
        for (int i = 0; i < op && i < net->n_ops; i++) written_before |= net->ops[i].out == t;
        if (!written_before) continue;
        int read_after = t == net->output;
        for (int i = op; i < net->n_ops && !read_after; i++)
            for (int k = 0; k < net->ops[i].n_in; k++) read_after |= net->ops[i].in[k] == t;
        if (read_after) ids[n++] = t;
    }
    return n;
}

static void predict_chunk(const qnn_int8_net *net, qnn_int8_ws *ws, const uint8_t *pixels, int32_t n,
                          const qnn_layer_mul *muls, int32_t chunk, int32_t c, int8_t *logits, uint8_t *pred)
{
    const size_t in_sz = (size_t)net->in_c * net->in_h * net->in_w;
    const int32_t n_out = qnn_int8_n_out(net);
    int32_t first = c * chunk, cnt = n - first < chunk ? n - first : chunk;
    qnn_int8_set_input(net, ws, pixels + (size_t)first * in_sz, cnt);
    qnn_int8_forward(net, ws, 0, muls);
    const int8_t *lo = ws->t[net->output];
    if (logits) memcpy(logits + (size_t)first * n_out, lo, (size_t)cnt * n_out);
    if (pred)
        for (int32_t k = 0; k < cnt; k++) {
            const int8_t *v = lo + (size_t)k * n_out;
            pred[first + k] = (uint8_t)util_argmax_s8(v, n_out);
        }
}

void qnn_int8_predict(const qnn_int8_net *net, const uint8_t *pixels, int32_t n, const qnn_layer_mul *muls,
                      int threads, int32_t chunk, int8_t *logits, uint8_t *pred)
{
    if (chunk <= 0) chunk = 64;
    const int32_t n_chunks = (n + chunk - 1) / chunk;
    /* The one place that sets the team size: nt threads in all (1 inside an enclosing region). With
     * several chunks per thread, the threads share the chunks and each runs its kernels alone; with
     * fewer chunks than threads, the chunks run one after another on kernels using all nt threads. */
    const int nt = qnn_kern_team(threads);
    if (nt == 1 || n_chunks < nt) {
        qnn_int8_ws *ws = qnn_int8_ws_alloc(net, chunk);
        qnn_int8_ws_set_threads(ws, nt);
        qnn_kern_note_team();
        for (int32_t c = 0; c < n_chunks; c++) predict_chunk(net, ws, pixels, n, muls, chunk, c, logits, pred);
        qnn_int8_ws_free(ws);
        return;
    }
#pragma omp parallel num_threads(nt)
    {
        qnn_int8_ws *ws = qnn_int8_ws_alloc(net, chunk);
        qnn_int8_ws_set_threads(ws, 1);
        qnn_kern_note_team();
#pragma omp for schedule(dynamic, 1)
        for (int32_t c = 0; c < n_chunks; c++) predict_chunk(net, ws, pixels, n, muls, chunk, c, logits, pred);
        qnn_int8_ws_free(ws);
    }
}
