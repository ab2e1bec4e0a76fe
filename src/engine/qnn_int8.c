/* int8 graph executor (see qnn_int8.h). Reference path: every product goes through the dispatch of
 * qnn_kern.h (which builds activation planes per image from the int8 tensors); this file applies
 * bias/requantization/clamp and runs the cheap non-multiplying ops. Workspaces are allocated once. */
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
    int32_t *acc;            /* largest (max_n, ho, wo, cout) of any layer */
    size_t acc_elems;
    void *scratch;           /* kernel scratch (qnn_conv_scratch_size): sized for exact layers at
                              * allocation, grown when a map needs more planes or tables */
    size_t scratch_size;
};

/* Kernel scratch for layer shape s (batch set) under kind/n_tabs: the workspace's, grown if needed. */
static void *ws_scratch(qnn_int8_ws *ws, const qnn_conv_shape *s, qnn_mul_kind kind, int n_tabs, size_t *size)
{
    size_t need = qnn_conv_scratch_size(s, kind, n_tabs, ws->threads);
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

void qnn_int8_net_finish(qnn_int8_net *net)
{
    int n = 0;
    for (int i = 0; i < net->n_ops; i++) n += net->ops[i].op == QNN_OP_CONV;
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
        qnn_int8_layer *l = &net->layers[op->layer];
        l->name = op->name;
        l->op = op->dense ? "dense" : "conv";
        l->op_index = i;
        l->shape = *s;
        l->shape.n = 0;
        l->macs = qnn_conv_macs(s);
        l->weights = op->w;
    }
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
    size_t acc = 1;
    for (int i = 0; i < net->n_ops; i++) {
        const qnn_conv_shape *s = &net->ops[i].shape;
        if (net->ops[i].op != QNN_OP_CONV) continue;
        size_t a = (size_t)s->ho * s->wo * s->cout * max_images;
        if (a > acc) acc = a;
    }
    ws->acc = xaligned_alloc(acc * sizeof *ws->acc);
    ws->acc_elems = acc;
    qnn_int8_ws_set_threads(ws, 0);
    return ws;
}

void qnn_int8_ws_free(qnn_int8_ws *ws)
{
    if (!ws) return;
    for (int t = 0; t < ws->net->n_tensors; t++) free(ws->t[t]);
    free(ws->t);
    free(ws->acc);
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

/* in (n, h, w, cin) int8 -> acc (n, ho, wo, cout) -> out (n, ho, wo, cout) int8 */
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
        scr = ws_scratch(ws, &s, QNN_MUL_EXACT, 1, &ssz);
        qnn_conv_acc_i8_team(&s, in, NULL, 1, NULL, op->w16, &dst, ws->threads, scr, ssz);
    } else if (mul->kind == QNN_MUL_SEPARABLE) {
        ASSERT(mul->n_planes >= 1 && mul->n_planes <= QNN_MUL_MAX_PLANES && mul->act_tf && mul->w_tf);
        ASSERT(mul->n_planes == 1 || mul->plane_of);
        scr = ws_scratch(ws, &s, QNN_MUL_SEPARABLE, mul->n_planes, &ssz);
        qnn_conv_acc_i8_team(&s, in, mul->act_tf, mul->n_planes, mul->plane_of, mul->w_tf, &dst, ws->threads, scr,
                             ssz);
    } else {
        ASSERT(mul->kind == QNN_MUL_LUT && mul->n_luts >= 1 && mul->luts);
        ASSERT(mul->n_luts == 1 || mul->lut_of);
        scr = ws_scratch(ws, &s, QNN_MUL_LUT, mul->n_luts, &ssz);
        qnn_conv_acc_lut_team(&s, in, op->w, mul->luts, mul->n_luts, mul->lut_of, &dst, ws->threads, scr, ssz);
    }
}

static void run_add(const qnn_int8_op *op, qnn_int8_ws *ws, size_t elems)
{
    const int8_t *a = ws->t[op->in[0]], *b = ws->t[op->in[1]];
    int8_t *out = ws->t[op->out];
    const int32_t ls = op->add_left_shift;
    /* Each input is int8, so its rescaled value (TFLite: requant(v << left_shift)) takes one of 256
     * values: tabulate them. The sum then goes through the vectorized requantizer, 8 elements as 8
     * "channels" sharing one multiplier; both steps are the scalar formula's, so bit-identical. */
    int32_t ta[256], tb[256];
    for (int v = -128; v < 128; v++) {
        ta[(uint8_t)v] = qnn_quant_requant(v * (1 << ls), op->add_mult[0], op->add_shift[0]);
        tb[(uint8_t)v] = qnn_quant_requant(v * (1 << ls), op->add_mult[1], op->add_shift[1]);
    }
    size_t vec = elems <= ws->acc_elems ? elems / 8 * 8 : 0;
    if (vec) {
        int32_t *acc = ws->acc;
        for (size_t i = 0; i < vec; i++) acc[i] = ta[(uint8_t)a[i]] + tb[(uint8_t)b[i]];
        int32_t m8[8], s8[8];
        for (int j = 0; j < 8; j++) {
            m8[j] = op->add_mult[2];
            s8[j] = op->add_shift[2];
        }
        qnn_kern_requant(acc, vec / 8, 8, NULL, m8, s8, op->act_min, op->act_max, out);
    }
    for (size_t i = vec; i < elems; i++)
        out[i] = clamp8(qnn_quant_requant(ta[(uint8_t)a[i]] + tb[(uint8_t)b[i]], op->add_mult[2], op->add_shift[2]),
                        op->act_min, op->act_max);
}

static void run_pool(const qnn_int8_op *op, qnn_int8_ws *ws)
{
    const qnn_conv_shape *s = &op->shape;
    const int32_t c = s->cin;
    const int8_t *in = ws->t[op->in[0]];
    int8_t *out = ws->t[op->out];
    for (int32_t img = 0; img < ws->n; img++)
        for (int32_t oy = 0; oy < s->ho; oy++)
            for (int32_t ox = 0; ox < s->wo; ox++) {
                int8_t *o = out + (((size_t)img * s->ho + oy) * s->wo + ox) * c;
                for (int32_t ch = 0; ch < c; ch++) {
                    int32_t acc = op->op == QNN_OP_MAXPOOL ? -128 : 0, cnt = 0;
                    for (int32_t ky = 0; ky < s->kh; ky++) {
                        int32_t iy = oy * s->stride_h - s->pad_t + ky;
                        if (iy < 0 || iy >= s->h) continue;
                        for (int32_t kx = 0; kx < s->kw; kx++) {
                            int32_t ix = ox * s->stride_w - s->pad_l + kx;
                            if (ix < 0 || ix >= s->w) continue;
                            int32_t v = in[(((size_t)img * s->h + iy) * s->w + ix) * c + ch];
                            cnt++;
                            if (op->op == QNN_OP_MAXPOOL)
                                acc = v > acc ? v : acc;
                            else
                                acc += v;
                        }
                    }
                    if (op->op == QNN_OP_AVGPOOL) {
                        int32_t d = op->count_include_pad ? s->kh * s->kw : cnt;
                        if (d < 1) d = 1;
                        /* TFLite: round half away from zero */
                        acc = acc > 0 ? (acc + d / 2) / d : (acc - d / 2) / d;
                    }
                    o[ch] = clamp8(acc, op->act_min, op->act_max);
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
