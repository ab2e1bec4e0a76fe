/* Float graph and float reference inference (see qnn_model.h). The executor keeps one float buffer
 * per tensor for a chunk of images; nodes run in stored order. Accumulation order is fixed, so the
 * logits are identical whatever the chunking or thread count. */
#include "qnn_model.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "msg.h"
#include "util.h"

#ifdef _OPENMP
#include <omp.h>
#endif

enum { CHUNK = 64 };

qnn_model *qnn_model_alloc(const char *path)
{
    qnn_model *m = xcalloc(1, sizeof *m);
    m->path = xstrdup(path ? path : "");
    m->input = m->output = -1;
    return m;
}

void qnn_model_free(qnn_model *m)
{
    if (!m) return;
    for (int i = 0; i < m->n_tensors; i++) free(m->tensors[i].name);
    for (int i = 0; i < m->n_nodes; i++) {
        free(m->nodes[i].name);
        free(m->nodes[i].weight);
        free(m->nodes[i].bias);
        free(m->nodes[i].weight_t);
    }
    free(m->tensors);
    free(m->nodes);
    free(m->path);
    free(m);
}

int qnn_model_add_tensor(qnn_model *m, const char *name, int32_t h, int32_t w, int32_t c)
{
    if (m->n_tensors == m->cap_tensors) {
        m->cap_tensors = m->cap_tensors ? 2 * m->cap_tensors : 16;
        m->tensors = xrealloc(m->tensors, (size_t)m->cap_tensors * sizeof *m->tensors);
    }
    qnn_tensor *t = &m->tensors[m->n_tensors];
    t->name = xstrdup(name);
    t->h = h;
    t->w = w;
    t->c = c;
    return m->n_tensors++;
}

qnn_node *qnn_model_add_node(qnn_model *m, qnn_op op, const char *name, const char *onnx_op)
{
    if (m->n_nodes == m->cap_nodes) {
        m->cap_nodes = m->cap_nodes ? 2 * m->cap_nodes : 16;
        m->nodes = xrealloc(m->nodes, (size_t)m->cap_nodes * sizeof *m->nodes);
    }
    qnn_node *nd = &m->nodes[m->n_nodes++];
    memset(nd, 0, sizeof *nd);
    nd->op = op;
    nd->name = xstrdup(name);
    nd->onnx_op = onnx_op;
    nd->lo = -INFINITY;
    nd->hi = INFINITY;
    nd->out = -1;
    return nd;
}

void qnn_model_finish(qnn_model *m)
{
    for (int i = 0; i < m->n_nodes; i++) {
        qnn_node *nd = &m->nodes[i];
        if (nd->op != QNN_OP_CONV) continue;
        const qnn_conv_shape *s = &nd->shape;
        size_t taps = (size_t)s->kh * s->kw * s->cin;
        free(nd->weight_t);
        nd->weight_t = xmalloc(taps * s->cout * sizeof(float));
        for (int32_t co = 0; co < s->cout; co++)
            for (size_t t = 0; t < taps; t++) nd->weight_t[t * s->cout + co] = nd->weight[co * taps + t];
    }
}

int qnn_model_n_layers(const qnn_model *m)
{
    int n = 0;
    for (int i = 0; i < m->n_nodes; i++) n += m->nodes[i].op == QNN_OP_CONV;
    return n;
}

int qnn_model_layer_node(const qnn_model *m, int layer)
{
    for (int i = 0; i < m->n_nodes; i++)
        if (m->nodes[i].op == QNN_OP_CONV && layer-- == 0) return i;
    ASSERT(!"layer index out of range");
    return -1;
}

uint64_t qnn_model_node_macs(const qnn_node *nd)
{
    return nd->op == QNN_OP_CONV ? qnn_conv_macs(&nd->shape) : 0;
}

const char *qnn_model_op_name(const qnn_node *nd)
{
    switch (nd->op) {
    case QNN_OP_CONV: return nd->dense ? "dense" : "conv";
    case QNN_OP_ADD: return "add";
    case QNN_OP_MAXPOOL: return "maxpool";
    case QNN_OP_AVGPOOL: return "avgpool";
    case QNN_OP_CLAMP: return "clamp";
    }
    return "?";
}

int32_t qnn_model_n_out(const qnn_model *m)
{
    const qnn_tensor *t = &m->tensors[m->output];
    return t->h * t->w * t->c;
}

int qnn_argmax_f32(const float *v, int k)
{
    int best = 0;
    for (int i = 1; i < k; i++)
        if (v[i] > v[best]) best = i;
    return best;
}

static size_t tensor_size(const qnn_tensor *t)
{
    return (size_t)t->h * t->w * t->c;
}

static float clampf(float x, float lo, float hi)
{
    return x < lo ? lo : x > hi ? hi : x;
}

/* One output pixel of conv_f32, every channel: bias, then per valid tap (ky, kx) and input channel in
 * that order o[co] += a * w[co] (the reference order), then the clamp. */
static void conv_f32_pixel(const qnn_node *nd, int32_t img, int32_t oy, int32_t ox, const float *in, float *out)
{
    const qnn_conv_shape *s = &nd->shape;
    float *o = out + (((size_t)img * s->ho + oy) * s->wo + ox) * s->cout;
    memcpy(o, nd->bias, (size_t)s->cout * sizeof *o);
    for (int32_t ky = 0; ky < s->kh; ky++) {
        int32_t iy = oy * s->stride_h - s->pad_t + ky;
        if (iy < 0 || iy >= s->h) continue;
        for (int32_t kx = 0; kx < s->kw; kx++) {
            int32_t ix = ox * s->stride_w - s->pad_l + kx;
            if (ix < 0 || ix >= s->w) continue;
            const float *a = in + (((size_t)img * s->h + iy) * s->w + ix) * s->cin;
            const float *wt = nd->weight_t + ((size_t)ky * s->kw + kx) * s->cin * s->cout;
            for (int32_t ci = 0; ci < s->cin; ci++) {
                float av = a[ci];
                const float *wr = wt + (size_t)ci * s->cout;
                int32_t co = 0;
                /* fixed-width blocks so the compiler vectorizes at -O2 (same order per co) */
                for (; co + 16 <= s->cout; co += 16)
                    for (int k = 0; k < 16; k++) o[co + k] += av * wr[co + k];
                for (; co < s->cout; co++) o[co] += av * wr[co];
            }
        }
    }
    if (nd->has_clamp)
        for (int32_t co = 0; co < s->cout; co++) o[co] = clampf(o[co], nd->lo, nd->hi);
}

/* The register-blocked conv_f32: F32_PX consecutive output pixels of a row x 16 output channels held in
 * registers over all taps and input channels. Every output element sees the same operations in the
 * same order as conv_f32_pixel (bias, then one product added per valid tap and input channel, each
 * rounded: a multiply then an add, never fused; a tap outside the input adds nothing), so the results
 * are bit-identical; only the loop nest differs. Compiled twice: for AVX2 (8 floats per vector; not
 * FMA, which would round once) and for the base target. */
enum { F32_PX = 4, F32_CO = 16 };
typedef float f32x8 __attribute__((vector_size(32)));

static inline __attribute__((always_inline)) void conv_f32_block_body(const qnn_node *nd, int32_t img, int32_t oy,
                                                                      int32_t ox0, int32_t co0, const float *in,
                                                                      float *out)
{
    const qnn_conv_shape *s = &nd->shape;
    const int32_t cin = s->cin, cout = s->cout;
    f32x8 acc[F32_PX][2];
    for (int p = 0; p < F32_PX; p++) {
        memcpy(&acc[p][0], nd->bias + co0, sizeof acc[p][0]);
        memcpy(&acc[p][1], nd->bias + co0 + 8, sizeof acc[p][1]);
    }
    for (int32_t ky = 0; ky < s->kh; ky++) {
        int32_t iy = oy * s->stride_h - s->pad_t + ky;
        if (iy < 0 || iy >= s->h) continue;
        for (int32_t kx = 0; kx < s->kw; kx++) {
            const float *a[F32_PX];
            int valid = 0;
            for (int p = 0; p < F32_PX; p++) {
                int32_t ix = (ox0 + p) * s->stride_w - s->pad_l + kx;
                int ok = ix >= 0 && ix < s->w;
                valid |= ok << p;
                a[p] = in + (((size_t)img * s->h + iy) * s->w + (ok ? ix : 0)) * cin;
            }
            if (!valid) continue;
            const float *wt = nd->weight_t + ((size_t)ky * s->kw + kx) * cin * cout + co0;
            if (valid == (1 << F32_PX) - 1) {
                for (int32_t ci = 0; ci < cin; ci++) {
                    f32x8 w0, w1;
                    memcpy(&w0, wt + (size_t)ci * cout, sizeof w0);
                    memcpy(&w1, wt + (size_t)ci * cout + 8, sizeof w1);
#pragma GCC unroll 4
                    for (int p = 0; p < F32_PX; p++) {
                        f32x8 av = {a[p][ci], a[p][ci], a[p][ci], a[p][ci], a[p][ci], a[p][ci], a[p][ci], a[p][ci]};
                        f32x8 m0 = av * w0, m1 = av * w1;
                        acc[p][0] = acc[p][0] + m0;
                        acc[p][1] = acc[p][1] + m1;
                    }
                }
            } else {
                for (int32_t ci = 0; ci < cin; ci++) {
                    f32x8 w0, w1;
                    memcpy(&w0, wt + (size_t)ci * cout, sizeof w0);
                    memcpy(&w1, wt + (size_t)ci * cout + 8, sizeof w1);
#pragma GCC unroll 4
                    for (int p = 0; p < F32_PX; p++) {
                        if (!(valid >> p & 1)) continue;
                        f32x8 av = {a[p][ci], a[p][ci], a[p][ci], a[p][ci], a[p][ci], a[p][ci], a[p][ci], a[p][ci]};
                        f32x8 m0 = av * w0, m1 = av * w1;
                        acc[p][0] = acc[p][0] + m0;
                        acc[p][1] = acc[p][1] + m1;
                    }
                }
            }
        }
    }
    for (int p = 0; p < F32_PX; p++) {
        float *o = out + (((size_t)img * s->ho + oy) * s->wo + ox0 + p) * cout + co0;
        memcpy(o, &acc[p][0], sizeof acc[p][0]);
        memcpy(o + 8, &acc[p][1], sizeof acc[p][1]);
        if (nd->has_clamp)
            for (int k = 0; k < F32_CO; k++) o[k] = clampf(o[k], nd->lo, nd->hi);
    }
}

static void conv_f32_block(const qnn_node *nd, int32_t img, int32_t oy, int32_t ox0, int32_t co0, const float *in,
                           float *out)
{
    conv_f32_block_body(nd, img, oy, ox0, co0, in, out);
}

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define F32_HAVE_AVX2 1
__attribute__((target("avx2"))) static void conv_f32_block_avx2(const qnn_node *nd, int32_t img, int32_t oy,
                                                                int32_t ox0, int32_t co0, const float *in, float *out)
{
    conv_f32_block_body(nd, img, oy, ox0, co0, in, out);
}
#endif

static int g_ref_conv; /* qnn_model_set_ref_conv: tests only */

void qnn_model_set_ref_conv(int on)
{
    g_ref_conv = on;
}

static void conv_f32_ref(const qnn_node *nd, int32_t n, const float *in, float *out);

/* in (n, h, w, cin), weight_t (kh, kw, cin, cout), out (n, ho, wo, cout) */
static void conv_f32(const qnn_node *nd, int32_t n, const float *in, float *out)
{
    const qnn_conv_shape *s = &nd->shape;
    if (g_ref_conv) {
        conv_f32_ref(nd, n, in, out);
        return;
    }
    void (*block)(const qnn_node *, int32_t, int32_t, int32_t, int32_t, const float *, float *) = conv_f32_block;
#ifdef F32_HAVE_AVX2
    if (__builtin_cpu_supports("avx2")) block = conv_f32_block_avx2;
#endif
    const int blocked = s->cout % F32_CO == 0;
    for (int32_t img = 0; img < n; img++)
        for (int32_t oy = 0; oy < s->ho; oy++) {
            int32_t ox = 0;
            if (blocked)
                for (; ox + F32_PX <= s->wo; ox += F32_PX)
                    for (int32_t co0 = 0; co0 < s->cout; co0 += F32_CO) block(nd, img, oy, ox, co0, in, out);
            for (; ox < s->wo; ox++) conv_f32_pixel(nd, img, oy, ox, in, out);
        }
}

/* the reference: conv_f32_pixel, the loop nest as it was before the blocked one, at every output pixel
 * (conv_f32 must equal it bit for bit) */
static void conv_f32_ref(const qnn_node *nd, int32_t n, const float *in, float *out)
{
    const qnn_conv_shape *s = &nd->shape;
    for (int32_t img = 0; img < n; img++)
        for (int32_t oy = 0; oy < s->ho; oy++)
            for (int32_t ox = 0; ox < s->wo; ox++) conv_f32_pixel(nd, img, oy, ox, in, out);
}

static void pool_f32(const qnn_node *nd, int32_t n, const float *in, float *out)
{
    const qnn_conv_shape *s = &nd->shape;
    const int32_t c = s->cin;
    for (int32_t img = 0; img < n; img++)
        for (int32_t oy = 0; oy < s->ho; oy++)
            for (int32_t ox = 0; ox < s->wo; ox++) {
                float *o = out + (((size_t)img * s->ho + oy) * s->wo + ox) * c;
                int32_t cnt = 0;
                for (int32_t ch = 0; ch < c; ch++) o[ch] = nd->op == QNN_OP_MAXPOOL ? -INFINITY : 0.0f;
                for (int32_t ky = 0; ky < s->kh; ky++) {
                    int32_t iy = oy * s->stride_h - s->pad_t + ky;
                    if (iy < 0 || iy >= s->h) continue;
                    for (int32_t kx = 0; kx < s->kw; kx++) {
                        int32_t ix = ox * s->stride_w - s->pad_l + kx;
                        if (ix < 0 || ix >= s->w) continue;
                        const float *a = in + (((size_t)img * s->h + iy) * s->w + ix) * c;
                        cnt++;
                        if (nd->op == QNN_OP_MAXPOOL)
                            for (int32_t ch = 0; ch < c; ch++) o[ch] = a[ch] > o[ch] ? a[ch] : o[ch];
                        else
                            for (int32_t ch = 0; ch < c; ch++) o[ch] += a[ch];
                    }
                }
                if (nd->op == QNN_OP_AVGPOOL) {
                    float div = (float)(nd->count_include_pad ? s->kh * s->kw : (cnt ? cnt : 1));
                    for (int32_t ch = 0; ch < c; ch++) o[ch] /= div;
                }
                if (nd->has_clamp)
                    for (int32_t ch = 0; ch < c; ch++) o[ch] = clampf(o[ch], nd->lo, nd->hi);
            }
}

static void run_chunk(const qnn_model *m, float **buf, const uint8_t *pixels, int32_t n, float *logits,
                      double *absmax)
{
    const qnn_tensor *ti = &m->tensors[m->input];
    const size_t hw = (size_t)ti->h * ti->w, isz = tensor_size(ti);
    for (int32_t img = 0; img < n; img++)
        for (int32_t ch = 0; ch < ti->c; ch++)
            for (size_t p = 0; p < hw; p++)
                buf[m->input][img * isz + p * ti->c + ch] = (float)pixels[img * isz + ch * hw + p];
    for (int i = 0; i < m->n_nodes; i++) {
        const qnn_node *nd = &m->nodes[i];
        float *out = buf[nd->out];
        size_t osz = tensor_size(&m->tensors[nd->out]) * (size_t)n;
        switch (nd->op) {
        case QNN_OP_CONV: conv_f32(nd, n, buf[nd->in[0]], out); break;
        case QNN_OP_MAXPOOL:
        case QNN_OP_AVGPOOL: pool_f32(nd, n, buf[nd->in[0]], out); break;
        case QNN_OP_ADD: {
            const float *a = buf[nd->in[0]], *b = buf[nd->in[1]];
            for (size_t k = 0; k < osz; k++) out[k] = clampf(a[k] + b[k], nd->lo, nd->hi);
            break;
        }
        case QNN_OP_CLAMP: {
            const float *a = buf[nd->in[0]];
            for (size_t k = 0; k < osz; k++) out[k] = clampf(a[k], nd->lo, nd->hi);
            break;
        }
        }
    }
    if (absmax)
        for (int t = 0; t < m->n_tensors; t++) {
            size_t sz = tensor_size(&m->tensors[t]) * (size_t)n;
            double mx = absmax[t];
            for (size_t k = 0; k < sz; k++) {
                double v = fabs((double)buf[t][k]);
                if (v > mx) mx = v;
            }
            absmax[t] = mx;
        }
    if (logits) memcpy(logits, buf[m->output], (size_t)n * qnn_model_n_out(m) * sizeof(float));
}

struct qnn_model_ws {
    int n_tensors;
    int32_t max_n;
    float **buf;
};

qnn_model_ws *qnn_model_ws_alloc(const qnn_model *m, int32_t max_images)
{
    ASSERT(max_images > 0);
    qnn_model_ws *ws = xcalloc(1, sizeof *ws);
    ws->n_tensors = m->n_tensors;
    ws->max_n = max_images;
    ws->buf = xmalloc((size_t)m->n_tensors * sizeof *ws->buf);
    for (int t = 0; t < m->n_tensors; t++) ws->buf[t] = xmalloc(tensor_size(&m->tensors[t]) * max_images * sizeof(float));
    return ws;
}

void qnn_model_ws_free(qnn_model_ws *ws)
{
    if (!ws) return;
    for (int t = 0; t < ws->n_tensors; t++) free(ws->buf[t]);
    free(ws->buf);
    free(ws);
}

void qnn_model_ws_run(const qnn_model *m, qnn_model_ws *ws, const uint8_t *pixels, int32_t n)
{
    ASSERT(n >= 0 && n <= ws->max_n && ws->n_tensors == m->n_tensors);
    run_chunk(m, ws->buf, pixels, n, NULL, NULL);
}

const float *qnn_model_ws_tensor(const qnn_model_ws *ws, int t)
{
    ASSERT(t >= 0 && t < ws->n_tensors);
    return ws->buf[t];
}

void qnn_model_predict(const qnn_model *m, const uint8_t *pixels, int32_t n, int threads, float *logits,
                       double *absmax)
{
    const int32_t n_chunks = (n + CHUNK - 1) / CHUNK;
    const size_t in_sz = tensor_size(&m->tensors[m->input]);
    const int32_t n_out = qnn_model_n_out(m);
    const int nt = util_threads(threads, n_chunks);
    /* per-thread maxima, merged at the end (max is order-independent) */
    double *tmax = absmax ? xcalloc((size_t)nt * m->n_tensors, sizeof *tmax) : NULL;
#pragma omp parallel num_threads(nt)
    {
        int tid = 0;
#ifdef _OPENMP
        tid = omp_get_thread_num();
#endif
        float **buf = xmalloc((size_t)m->n_tensors * sizeof *buf);
        for (int t = 0; t < m->n_tensors; t++) buf[t] = xmalloc(tensor_size(&m->tensors[t]) * CHUNK * sizeof(float));
#pragma omp for schedule(dynamic, 1)
        for (int32_t c = 0; c < n_chunks; c++) {
            int32_t first = c * CHUNK, cnt = n - first < CHUNK ? n - first : CHUNK;
            run_chunk(m, buf, pixels + (size_t)first * in_sz, cnt, logits ? logits + (size_t)first * n_out : NULL,
                      tmax ? tmax + (size_t)tid * m->n_tensors : NULL);
        }
        for (int t = 0; t < m->n_tensors; t++) free(buf[t]);
        free(buf);
    }
    if (absmax) {
        for (int k = 0; k < nt; k++)
            for (int t = 0; t < m->n_tensors; t++)
                if (tmax[(size_t)k * m->n_tensors + t] > absmax[t]) absmax[t] = tmax[(size_t)k * m->n_tensors + t];
        free(tmax);
    }
}
