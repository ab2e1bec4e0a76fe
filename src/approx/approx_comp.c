/* Error compensation (approx_comp.h). Invariant: histogram counts are integers summed across threads,
 * so the thread count never changes a delta; the state is read-only after approx_comp_init. */
#include "approx_comp.h"

#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_linalg.h>
#include <math.h>

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

static const char *const mode_names[APPROX_COMP_MODES] = {"bias-tensor", "bias", "bias+weights", "bias+seq",
                                                           "bias+weights+seq"};

int approx_comp_mode_parse(const char *s)
{
    for (int i = 0; i < APPROX_COMP_MODES; i++)
        if (!strcmp(s, mode_names[i])) return i;
    return !strcmp(s, "none") ? -1 : -2;
}

const char *approx_comp_mode_name(int mode)
{
    return mode >= 0 && mode < APPROX_COMP_MODES ? mode_names[mode] : "none";
}

int approx_comp_mode_tunes(int mode)
{
    return mode == 2 || mode == 4;
}

int approx_comp_mode_seq(int mode)
{
    return mode == 3 || mode == 4;
}

/* --- weight tuning (mode "bias+weights") ----------------------------------------------------------
 * For each filter, the stored weights w' are chosen so that the multipliers' weight transform g(w')
 * reproduces w as a whole, not tap by tap: with C the covariance of the layer's input patches x, the
 * output error after bias compensation is (g(w') - w)^T C (g(w') - w). Taps are rounded one at a time
 * onto the values g can take, each rounding error spread over the taps not yet rounded through the
 * Cholesky factor of (C + damping)^-1 (optimal brain surgeon / GPTQ order), and the result kept only if
 * its error is below plain rounding's (w' = w). C comes from integer patch sums on the first
 * TUNE_IMAGES calibration images at up to 8 x 8 output positions each, so threads never change it. */
enum { TUNE_IMAGES = 128 };

static void patch_sums(const qnn_int8_layer *L, const int8_t *in, int32_t n_images, int64_t *acc)
{
    const size_t D = (size_t)L->kh * L->kw * L->cin;
    int64_t *S = acc, *mu = acc + D * D, *cnt = mu + D;
    int32_t *x = xmalloc(D * sizeof *x);
    size_t *nz = xmalloc(D * sizeof *nz);
    const int32_t sy = (L->ho + 7) / 8, sx = (L->wo + 7) / 8;
    for (int32_t img = 0; img < n_images; img++)
        for (int32_t oy = 0; oy < L->ho; oy += sy)
            for (int32_t ox = 0; ox < L->wo; ox += sx) {
                size_t k = 0;
                for (int32_t ky = 0; ky < L->kh; ky++)
                    for (int32_t kx = 0; kx < L->kw; kx++) {
                        const int32_t iy = oy * L->stride_h - L->pad_t + ky, ix = ox * L->stride_w - L->pad_l + kx;
                        const int in_map = iy >= 0 && iy < L->h && ix >= 0 && ix < L->w;
                        const int8_t *px = in + (((size_t)img * L->h + (in_map ? iy : 0)) * L->w + (in_map ? ix : 0)) * L->cin;
                        for (int32_t ci = 0; ci < L->cin; ci++, k++) x[k] = in_map ? px[ci] : 0;
                    }
                size_t n_nz = 0;
                for (size_t i = 0; i < D; i++)
                    if (x[i]) nz[n_nz++] = i;
                for (size_t a = 0; a < n_nz; a++) {
                    const size_t i = nz[a];
                    mu[i] += x[i];
                    for (size_t b = 0; b < n_nz; b++) S[i * D + nz[b]] += (int64_t)x[i] * x[nz[b]];
                }
                (*cnt)++;
            }
    free(nz);
    free(x);
}

static void tune_init(approx_comp *c, const int64_t *ctot, const size_t *cov_off)
{
    const int nl = c->n_layers;
    c->cov = xcalloc((size_t)nl + 1, sizeof *c->cov);
    c->hl = xcalloc((size_t)nl + 1, sizeof *c->hl);
    for (int l = 0; l < nl; l++) {
        const amap_layer *L = &c->layers[l];
        const size_t D = (size_t)L->kh * L->kw * L->cin;
        const int64_t *S = ctot + cov_off[l], *mu = S + D * D;
        const double n = mu[D] > 0 ? (double)mu[D] : 1.0;
        double *C = c->cov[l] = xmalloc(D * D * sizeof *C), tr = 0;
        for (size_t i = 0; i < D; i++)
            for (size_t j = 0; j < D; j++) C[i * D + j] = (double)S[i * D + j] / n - ((double)mu[i] / n) * ((double)mu[j] / n);
        for (size_t i = 0; i < D; i++) tr += C[i * D + i];
        const double damp = 0.01 * tr / (double)D + 1e-6;
        gsl_matrix *H = gsl_matrix_alloc(D, D);
        for (size_t i = 0; i < D; i++)
            for (size_t j = 0; j < D; j++) gsl_matrix_set(H, i, j, C[i * D + j] + (i == j ? damp : 0.0));
        gsl_error_handler_t *old = gsl_set_error_handler_off();
        int bad = gsl_linalg_cholesky_decomp1(H) || gsl_linalg_cholesky_invert(H) || gsl_linalg_cholesky_decomp1(H);
        gsl_set_error_handler(old);
        double *F = c->hl[l] = xcalloc(D * D, sizeof *F);
        for (size_t i = 0; i < D; i++)
            for (size_t j = 0; j <= i; j++) F[i * D + j] = bad ? (i == j) : gsl_matrix_get(H, i, j);
        gsl_matrix_free(H);
    }
    const int nm = c->lib->n;
    c->gval = xcalloc((size_t)nm + 1, sizeof *c->gval);
    c->gsto = xcalloc((size_t)nm + 1, sizeof *c->gsto);
    c->ng = xcalloc((size_t)nm + 1, sizeof *c->ng);
    for (int i = 0; i < nm; i++) {
        const amul *mu = &c->lib->mults[i];
        if (!mu->separable) continue;
        c->gval[i] = xmalloc(256 * sizeof **c->gval);
        c->gsto[i] = xmalloc(256 * sizeof **c->gsto);
        int n = 0;
        for (int v = -256; v <= 256; v++) { /* ascending g values; stored weight: the one nearest the value */
            int best = 1000;
            for (int w = -128; w < 128; w++)
                if (mu->g[(uint8_t)w] == v && abs(w - v) < abs(best - v)) best = w;
            if (best == 1000) continue;
            c->gval[i][n] = (int16_t)v;
            c->gsto[i][n++] = (int16_t)best;
        }
        c->ng[i] = n;
    }
}

/* The value of multiplier i's g nearest to v (ties: the lower value); its stored weight in *sto. */
static int g_nearest(const approx_comp *c, int i, double v, int8_t *sto)
{
    const int16_t *g = c->gval[i];
    int lo = 0, hi = c->ng[i] - 1;
    while (lo < hi) { /* first value >= v */
        const int mid = (lo + hi) / 2;
        if (g[mid] < v) lo = mid + 1;
        else hi = mid;
    }
    if (lo > 0 && g[lo] >= v && v - g[lo - 1] <= g[lo] - v) lo--; /* else g[lo] is nearest (or v is above all) */
    *sto = (int8_t)c->gsto[i][lo];
    return g[lo];
}

static double quad_form(const double *C, const double *e, size_t D)
{
    double q = 0;
    for (size_t i = 0; i < D; i++) {
        if (e[i] == 0) continue;
        double r = 0;
        for (size_t j = 0; j < D; j++) r += C[i * D + j] * e[j];
        q += e[i] * r;
    }
    return q;
}

/* Stored weights of filter co of layer l under the multipliers `row` (the layer's (cout, cin) block) into
 * out (D entries); x: 4 D doubles of scratch. */
static void tune_filter(const approx_comp *c, int l, int32_t co, const uint16_t *row, int8_t *out, double *x)
{
    const amap_layer *L = &c->layers[l];
    const size_t D = (size_t)L->kh * L->kw * L->cin;
    const int8_t *w = L->w + (size_t)co * D;
    memcpy(out, w, D);
    int any = 0;
    for (int32_t ci = 0; ci < L->cin; ci++) {
        const int mi = row[(size_t)co * L->cin + ci];
        if (!c->ng[mi]) return; /* a multiplier without a weight transform: the filter keeps w */
        any |= !c->lib->mults[mi].is_exact;
    }
    if (!any) return;
    double *e_joint = x + D, *e_plain = x + 2 * D;
    const double *F = c->hl[l];
    for (size_t j = 0; j < D; j++) x[j] = w[j];
    for (size_t j = 0; j < D; j++) {
        const int mi = row[(size_t)co * L->cin + j % (size_t)L->cin];
        int8_t sto;
        const int q = g_nearest(c, mi, x[j], &sto);
        const double err = (x[j] - q) / F[j * D + j];
        for (size_t k = j + 1; k < D; k++) x[k] -= err * F[k * D + j];
        out[j] = sto;
        e_joint[j] = q - w[j];
        e_plain[j] = c->lib->mults[mi].g[(uint8_t)w[j]] - w[j];
    }
    if (quad_form(c->cov[l], e_plain, D) <= quad_form(c->cov[l], e_joint, D)) memcpy(out, w, D);
}

/* Probabilities per channel from n_ch histograms of 256 counts (zeros for an empty one). */
static void hist_probs(const uint64_t *cnt, int32_t n_ch, double *p)
{
    for (int32_t ch = 0; ch < n_ch; ch++) {
        const uint64_t *h = cnt + (size_t)ch * 256;
        uint64_t n = 0;
        for (int a = 0; a < 256; a++) n += h[a];
        for (int a = 0; a < 256; a++) p[(size_t)ch * 256 + a] = n ? (double)h[a] / (double)n : 0.0;
    }
}

/* Mean of (int8_t)a per channel from n_ch histograms of 256 counts (0 for an empty one). */
static void hist_means(const uint64_t *cnt, int32_t n_ch, double *mean)
{
    for (int32_t ch = 0; ch < n_ch; ch++) {
        const uint64_t *h = cnt + (size_t)ch * 256;
        uint64_t n = 0;
        int64_t s = 0;
        for (int a = 0; a < 256; a++) {
            n += h[a];
            s += (int64_t)h[a] * (int8_t)a;
        }
        mean[ch] = n ? (double)s / (double)n : 0.0;
    }
}

/* --- sequential bias correction (modes "+seq") -----------------------------------------------------
 * The first n_seq calibration images run through the approximate network, op after op on one thread.
 * Before each layer's op, the tap histogram of its input as the approximate network gives it (the
 * layers before it already corrected) yields its deltas: the expected multiplier error on that
 * distribution, plus w times each input channel's mean shift against the exact network's (seq_mean,
 * the same images); then the layer runs with them. Histograms are integer counts, so the deltas do
 * not depend on anything but the map and the images. */
enum { SEQ_IMAGES = 128 };

static void seq_fill(const approx_comp *c, amap *m)
{
    const qnn_int8_net *net = c->net;
    qnn_int8_ws *ws = qnn_int8_ws_alloc(net, c->n_seq);
    qnn_int8_ws_set_threads(ws, 1);
    amap_mul b;
    amap_mul_init(&b, c->layers, c->n_layers, c->lib);
    amap_mul_build(&b, m);
    int32_t max_cin = 1;
    for (int l = 0; l < c->n_layers; l++)
        if (net->layers[l].cin > max_cin) max_cin = net->layers[l].cin;
    uint64_t *cnt = xmalloc((size_t)max_cin * 256 * sizeof *cnt);
    double *p = xmalloc((size_t)max_cin * 256 * sizeof *p), *shift = xmalloc((size_t)max_cin * sizeof *shift);
    qnn_int8_set_input(net, ws, c->seq_pixels, c->n_seq);
    for (int op = 0; op < net->n_ops; op++) {
        const qnn_int8_op *o = &net->ops[op];
        if (o->op == QNN_OP_CONV) {
            const int l = o->layer;
            const qnn_int8_layer *L = &net->layers[l];
            memset(cnt, 0, (size_t)L->cin * 256 * sizeof *cnt);
            approx_tap_hist(L, qnn_int8_ws_tensor(ws, o->in[0]), c->n_seq, 1, cnt);
            hist_probs(cnt, L->cin, p);
            hist_means(cnt, L->cin, shift);
            for (int32_t ci = 0; ci < L->cin; ci++) shift[ci] -= c->seq_mean[l][ci];
            amap_bias_compensation(m, l, &c->layers[l], c->lib, p, 1, shift, amap_bias_delta_w(m, l));
            amap_mul_build(&b, m);
        }
        qnn_int8_step(net, ws, op, b.layer);
    }
    free(shift);
    free(p);
    free(cnt);
    amap_mul_deinit(&b);
    qnn_int8_ws_free(ws);
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
    c->mode = per_channel;
    c->tune = approx_comp_mode_tunes(per_channel);
    c->seq = approx_comp_mode_seq(per_channel);
    c->per_channel = per_channel ? 1 : 0;
    c->n_images = calib->n;
    c->n_seq = c->seq ? (calib->n < SEQ_IMAGES ? calib->n : SEQ_IMAGES) : 0;
    const int nl = net->n_layers;
    size_t *hist_off = xmalloc(((size_t)nl + 1) * sizeof *hist_off);
    hist_off[0] = 0;
    for (int l = 0; l < nl; l++) {
        const qnn_int8_layer *L = &net->layers[l];
        ASSERT(qnn_int8_tensor_bytes(net, net->ops[L->op_index].in[0]) == (size_t)L->h * L->w * L->cin);
        hist_off[l + 1] = hist_off[l] + (per_channel ? (size_t)L->cin : 1) * 256;
    }
    const size_t n_hist = hist_off[nl];
    uint64_t *total = xcalloc(2 * n_hist + 1, sizeof *total), *total_seq = total + n_hist;
    /* weight tuning: integer patch sums (sum x x^T, sum x, count) per layer, so threads cannot change them */
    size_t *cov_off = xmalloc(((size_t)nl + 1) * sizeof *cov_off);
    cov_off[0] = 0;
    for (int l = 0; l < nl; l++) {
        const qnn_int8_layer *L = &net->layers[l];
        const size_t D = c->tune ? (size_t)L->kh * L->kw * L->cin : 0;
        cov_off[l + 1] = cov_off[l] + D * D + D + 1;
    }
    int64_t *ctot = xcalloc(cov_off[nl] + 1, sizeof *ctot);

    const int32_t chunk = 32, n_chunks = (calib->n + chunk - 1) / chunk;
    const size_t in_sz = (size_t)net->in_c * net->in_h * net->in_w;
    const int nt = util_threads(threads, n_chunks);
#pragma omp parallel num_threads(nt)
    {
        qnn_int8_ws *ws = qnn_int8_ws_alloc(net, chunk);
        uint64_t *cnt = xcalloc(2 * n_hist + 1, sizeof *cnt), *cnt_seq = cnt + n_hist;
        int64_t *ccnt = c->tune ? xcalloc(cov_off[nl] + 1, sizeof *ccnt) : NULL;
#pragma omp for schedule(dynamic, 1)
        for (int32_t ch = 0; ch < n_chunks; ch++) {
            const int32_t first = ch * chunk, n = calib->n - first < chunk ? calib->n - first : chunk;
            qnn_int8_set_input(net, ws, calib->pixels + (size_t)first * in_sz, n);
            for (int op = 0; op < net->n_ops; op++) {
                const qnn_int8_op *o = &net->ops[op];
                if (o->op == QNN_OP_CONV) {
                    approx_tap_hist(&net->layers[o->layer], qnn_int8_ws_tensor(ws, o->in[0]), n, per_channel,
                                    cnt + hist_off[o->layer]);
                    if (first < c->n_seq) /* chunk divides SEQ_IMAGES: the images sequential passes run */
                        approx_tap_hist(&net->layers[o->layer], qnn_int8_ws_tensor(ws, o->in[0]),
                                        n < c->n_seq - first ? n : c->n_seq - first, 1, cnt_seq + hist_off[o->layer]);
                    if (ccnt && first < TUNE_IMAGES)
                        patch_sums(&net->layers[o->layer], qnn_int8_ws_tensor(ws, o->in[0]),
                                   n < TUNE_IMAGES - first ? n : TUNE_IMAGES - first, ccnt + cov_off[o->layer]);
                }
                qnn_int8_step(net, ws, op, NULL);
            }
        }
#pragma omp critical(approx_comp_hist)
        {
            for (size_t k = 0; k < 2 * n_hist; k++) total[k] += cnt[k];
            if (ccnt)
                for (size_t k = 0; k < cov_off[nl]; k++) ctot[k] += ccnt[k];
        }
        free(cnt);
        free(ccnt);
        qnn_int8_ws_free(ws);
    }

    c->act_p = xcalloc((size_t)nl + 1, sizeof *c->act_p);
    for (int l = 0; l < nl; l++) {
        const size_t nh = hist_off[l + 1] - hist_off[l];
        c->act_p[l] = xmalloc(nh * sizeof **c->act_p);
        hist_probs(total + hist_off[l], (int32_t)(nh / 256), c->act_p[l]);
    }
    if (c->seq) {
        c->seq_pixels = xmalloc((size_t)c->n_seq * in_sz);
        memcpy(c->seq_pixels, calib->pixels, (size_t)c->n_seq * in_sz);
        c->seq_mean = xcalloc((size_t)nl + 1, sizeof *c->seq_mean);
        for (int l = 0; l < nl; l++) {
            c->seq_mean[l] = xmalloc(((size_t)net->layers[l].cin + 1) * sizeof **c->seq_mean);
            hist_means(total_seq + hist_off[l], net->layers[l].cin, c->seq_mean[l]);
        }
    }
    free(total);
    free(hist_off);
    if (c->tune) tune_init(c, ctot, cov_off);
    free(ctot);
    free(cov_off);
    return ST_OK;
}

void approx_comp_deinit(approx_comp *c)
{
    if (!c) return;
    for (int l = 0; c->act_p && l < c->n_layers; l++) free(c->act_p[l]);
    free(c->act_p);
    for (int l = 0; c->seq_mean && l < c->n_layers; l++) free(c->seq_mean[l]);
    free(c->seq_mean);
    free(c->seq_pixels);
    for (int l = 0; c->cov && l < c->n_layers; l++) {
        free(c->cov[l]);
        free(c->hl[l]);
    }
    for (int i = 0; c->gval && i < c->lib->n; i++) {
        free(c->gval[i]);
        free(c->gsto[i]);
    }
    free(c->cov);
    free(c->hl);
    free(c->gval);
    free(c->gsto);
    free(c->ng);
    memset(c, 0, sizeof *c);
}

void approx_comp_fill(const approx_comp *c, amap *m)
{
    ASSERT(m->n_layers == c->n_layers);
    if (c->tune)
        for (int l = 0; l < c->n_layers; l++) {
            int8_t *wt = amap_wt_w(m, l, c->layers);
            const amap_layer *L = &c->layers[l];
            const size_t D = (size_t)L->kh * L->kw * L->cin;
            if (!amap_layer_separable(c->lib, amap_layer_mults(m, l), (size_t)L->cout * L->cin)) {
                memcpy(wt, L->w, (size_t)L->cout * D); /* the engine's table path runs the layer's own weights */
                continue;
            }
            double *x = xmalloc(4 * D * sizeof *x);
            for (int32_t co = 0; co < L->cout; co++) tune_filter(c, l, co, amap_layer_mults(m, l), wt + co * D, x);
            free(x);
        }
    if (c->seq) {
        seq_fill(c, m);
        return;
    }
    for (int l = 0; l < c->n_layers; l++)
        amap_bias_compensation(m, l, &c->layers[l], c->lib, c->act_p[l], c->per_channel, NULL,
                               amap_bias_delta_w(m, l));
}
