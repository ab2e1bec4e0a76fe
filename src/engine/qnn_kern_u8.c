/* The exact u8 convolution path (vpmaddubsw): the proof, the packing done once per layer, the
 * per-image input copies into quad-planar phase images, threading, the scalar store and the portable
 * tile. The AVX2 tile is in qnn_kern_avx2.c. See qnn_kern.h for the design and the proof. */
#include "qnn_kern.h"

#include <stdlib.h>
#include <string.h>

#include "msg.h"
#include "qnn_kern_impl.h"
#include "qnn_requant.h"
#include "util.h"

/* The kernel's unsigned operand range for int8 inputs a_lo..a_hi: *off = 0 (u = a) or 128 (u = a + 128). */
static void u8_operand(int32_t a_lo, int32_t a_hi, int32_t *off, int32_t *u_lo, int32_t *u_hi)
{
    *off = a_lo >= 0 ? 0 : 128;
    *u_lo = a_lo + *off;
    *u_hi = a_hi + *off;
}

int qnn_conv_u8_proof(const qnn_conv_shape *s, const int8_t *w, int32_t a_lo, int32_t a_hi)
{
    ASSERT(a_lo >= -128 && a_lo <= a_hi && a_hi <= 127);
    if ((int64_t)s->kh * s->kw * s->cin > 65535) return 0;
    int32_t off, u_lo, u_hi;
    u8_operand(a_lo, a_hi, &off, &u_lo, &u_hi);
    const int32_t taps = s->kh * s->kw, cin = s->cin;
    for (int32_t co = 0; co < s->cout; co++)
        for (int32_t t = 0; t < taps; t++) {
            const int8_t *wp = w + ((size_t)co * taps + t) * cin;
            /* the pairs the kernel forms: channels (2i, 2i + 1); a missing channel has weight 0 */
            for (int32_t c = 0; c < cin; c += 2) {
                int32_t w1 = wp[c], w2 = c + 1 < cin ? wp[c + 1] : 0;
                int32_t mx = (w1 > 0 ? u_hi : u_lo) * w1 + (w2 > 0 ? u_hi : u_lo) * w2;
                int32_t mn = (w1 > 0 ? u_lo : u_hi) * w1 + (w2 > 0 ? u_lo : u_hi) * w2;
                if (mx > 32767 || mn < -32768) return 0;
            }
        }
    return 1;
}

void qnn_conv_u8_free(qnn_conv_u8 *k)
{
    if (!k) return;
    free(k->mem);
    free(k);
}

qnn_conv_u8 *qnn_conv_u8_alloc(const qnn_conv_shape *s, const int8_t *w, int32_t a_lo, int32_t a_hi)
{
    if (!qnn_conv_u8_proof(s, w, a_lo, a_hi)) return NULL;
    ASSERT(s->ho >= 1 && s->wo >= 1);
    qnn_conv_u8 *k = xcalloc(1, sizeof *k);
    k->s = *s;
    k->s.n = 0;
    k->a_lo = a_lo;
    k->a_hi = a_hi;
    int32_t u_lo, u_hi;
    u8_operand(a_lo, a_hi, &k->off, &u_lo, &u_hi);
    kern_geom *g = &k->g;
    g->sh = s->stride_h;
    g->sw = s->stride_w;
    g->nph = g->sh * g->sw;
    g->dy_max = (s->kh - 1) / g->sh;
    g->dx_max = (s->kw - 1) / g->sw;
    g->cx = s->wo + g->dx_max;
    ASSERT((size_t)(s->ho + g->dy_max) * g->cx + KERN_U8V < (size_t)1 << 28);
    const int32_t taps = s->kh * s->kw, cin = s->cin;
    k->ncq = (cin + 3) / 4;
    k->n_taps = taps;
    k->n_cob = (s->cout + KERN_COB - 1) / KERN_COB;
    /* output vectors: 8 consecutive pixels of a row; the last of a row overlaps its predecessor when
     * wo is not a multiple of 8 (its lanes are recomputed, identical); rows narrower than 8 store wo */
    const int32_t per_row = (s->wo + KERN_U8V - 1) / KERN_U8V;
    k->n_vec = s->ho * per_row;
    size_t n_vec = (size_t)k->n_vec, n_pix = (size_t)s->h * s->w, n_w = (size_t)k->n_cob * k->ncq * taps * KERN_COB;
    size_t bytes = (size_t)s->cout * sizeof(int64_t) + n_vec * (2 * sizeof(int32_t) + 1) + n_pix * sizeof(int32_t) +
                   (size_t)taps * sizeof(int32_t) + n_w * sizeof(int32_t) + (size_t)k->n_cob * KERN_COB * sizeof(int32_t) +
                   64;
    char *m = k->mem = xcalloc(1, bytes);
    /* int64, then int32 arrays (aligned), bytes last */
    k->acc_max = (int64_t *)(void *)m, m += (size_t)s->cout * sizeof(int64_t);
    k->wpk = (int32_t *)(void *)m, m += n_w * sizeof(int32_t);
    k->corr = (int32_t *)(void *)m, m += (size_t)k->n_cob * KERN_COB * sizeof(int32_t);
    k->vq = (int32_t *)(void *)m, m += n_vec * sizeof(int32_t);
    k->vpix = (int32_t *)(void *)m, m += n_vec * sizeof(int32_t);
    g->inoff = (int32_t *)(void *)m, m += n_pix * sizeof(int32_t);
    k->tap_off = (int32_t *)(void *)m, m += (size_t)taps * sizeof(int32_t);
    k->vlen = (uint8_t *)m;
    int32_t v = 0, max_q = 0;
    for (int32_t oy = 0; oy < s->ho; oy++)
        for (int32_t i = 0; i < per_row; i++, v++) {
            int32_t ox = i * KERN_U8V;
            if (ox + KERN_U8V > s->wo && s->wo >= KERN_U8V) ox = s->wo - KERN_U8V;
            k->vq[v] = oy * g->cx + ox;
            k->vpix[v] = oy * s->wo + ox;
            k->vlen[v] = (uint8_t)(s->wo < KERN_U8V ? s->wo : KERN_U8V);
            if (k->vq[v] > max_q) max_q = k->vq[v];
        }
    /* a phase image holds every position a vector reads (lanes past wo included) and every pixel */
    size_t read_end = (size_t)max_q + KERN_U8V + (size_t)g->dy_max * g->cx + g->dx_max;
    size_t pix_end = (size_t)(s->ho + g->dy_max) * g->cx;
    g->phase_len = kern_round_up(read_end > pix_end ? read_end : pix_end, KERN_U8V);
    g->chan_len = (size_t)g->nph * g->phase_len;
    ASSERT(g->chan_len * k->ncq < (size_t)1 << 31);
    k->xlen = (size_t)k->ncq * g->chan_len;
    for (int32_t ky = 0; ky < s->kh; ky++)
        for (int32_t kx = 0; kx < s->kw; kx++)
            k->tap_off[ky * s->kw + kx] = (int32_t)((size_t)((ky % g->sh) * g->sw + kx % g->sw) * g->phase_len +
                                                    (size_t)(ky / g->sh) * g->cx + (size_t)(kx / g->sw));
    for (int32_t iy = 0; iy < s->h; iy++)
        for (int32_t ix = 0; ix < s->w; ix++) {
            int32_t yp = iy + s->pad_t, xp = ix + s->pad_l, yy = yp / g->sh, xx = xp / g->sw;
            int32_t *o = &g->inoff[iy * s->w + ix];
            if (yy >= s->ho + g->dy_max || xx >= g->cx || yp % g->sh >= s->kh || xp % g->sw >= s->kw)
                *o = -1;
            else
                *o = (int32_t)((size_t)((yp % g->sh) * g->sw + xp % g->sw) * g->phase_len + (size_t)yy * g->cx + xx);
        }
    for (int32_t co = 0; co < s->cout; co++) {
        int32_t cb = co / KERN_COB, j = co % KERN_COB;
        int64_t sum = 0, sum_abs = 0;
        for (int32_t t = 0; t < taps; t++)
            for (int32_t q = 0; q < k->ncq; q++) {
                uint32_t packed = 0;
                for (int32_t b = 0; b < 4; b++) {
                    int32_t ci = 4 * q + b;
                    int8_t wv = ci < cin ? w[((size_t)co * taps + t) * cin + ci] : 0;
                    sum += wv;
                    sum_abs += wv < 0 ? -wv : wv;
                    packed |= (uint32_t)(uint8_t)wv << (8 * b);
                }
                k->wpk[(((size_t)cb * k->ncq + q) * taps + t) * KERN_COB + j] = (int32_t)packed;
            }
        k->corr[co] = (int32_t)(-(int64_t)k->off * sum);
        k->acc_max[co] = sum_abs * (-a_lo > a_hi ? -a_lo : a_hi);
    }
    return k;
}

size_t qnn_conv_u8_scratch_size(const qnn_conv_u8 *k, int32_t n, int threads)
{
    if (n <= 0) return 0;
    int nt = qnn_kern_team(threads);
    size_t bufs = n >= nt ? (size_t)nt : 1;
    return kern_ar_bytes(bufs * k->xlen * sizeof(uint32_t));
}

/* Copy image src (h, w, cin) int8 into its quad-planar phase images, as u = a + off. */
static void u8_prep(const qnn_conv_u8 *k, const int8_t *src, uint32_t *x)
{
    const qnn_conv_shape *s = &k->s;
    const int32_t cin = s->cin, q4 = cin / 4;
    const size_t cl = k->g.chan_len;
    const uint32_t flip = k->off ? 0x80808080u : 0;
    for (int32_t p = 0; p < s->h * s->w; p++) {
        int32_t off = k->g.inoff[p];
        if (off < 0) continue;
        const int8_t *a = src + (size_t)p * cin;
        uint32_t *d = x + off;
        for (int32_t q = 0; q < q4; q++) {
            uint32_t v;
            memcpy(&v, a + 4 * q, 4);
            d[(size_t)q * cl] = v ^ flip;
        }
        if (q4 < k->ncq) { /* the last, partial quad: missing channels have weight 0 */
            uint32_t v = flip;
            for (int32_t c = 4 * q4; c < cin; c++)
                v = (v & ~(0xffu << (8 * (c - 4 * q4)))) | ((uint32_t)(uint8_t)a[c] ^ (flip & 0xffu)) << (8 * (c - 4 * q4));
            d[(size_t)q4 * cl] = v;
        }
    }
}

void kern_u8_scatter(const qnn_conv_u8 *k, const int32_t sums[2][KERN_COB][KERN_U8V], const qnn_conv_dst *dst,
                     int32_t cb, int32_t v0, int32_t v1, int32_t img)
{
    const qnn_conv_shape *s = &k->s;
    const int32_t co0 = cb * KERN_COB, nco = s->cout - co0 < KERN_COB ? s->cout - co0 : KERN_COB;
    const size_t base = (size_t)img * s->ho * s->wo * s->cout + (size_t)co0;
    for (int h = 0; h < 2; h++) {
        int32_t v = h ? v1 : v0;
        if (h && v1 == v0) break;
        for (int32_t l = 0; l < k->vlen[v]; l++) {
            size_t d = base + (size_t)(k->vpix[v] + l) * s->cout;
            for (int32_t j = 0; j < nco; j++) {
                int32_t c = co0 + j;
                if (dst->acc)
                    dst->acc[d + j] = sums[h][j][l];
                else
                    dst->out[d + j] = qnn_quant_requant_out(sums[h][j][l], dst->bias ? dst->bias[c] : 0, dst->mult[c],
                                                            dst->shift[c], dst->lo, dst->hi);
            }
        }
    }
}

static void u8_tile_generic(const qnn_conv_u8 *k, const kern_u8_sep *sp, const uint32_t *x, const qnn_conv_dst *dst,
                            int32_t cb, int32_t v0, int32_t v1, int32_t img, int rq_fast)
{
    (void)rq_fast; /* the scalar store is the general formula */
    int32_t sums[2][KERN_COB][KERN_U8V];
    const int32_t taps = k->n_taps;
    for (int h = 0; h < 2; h++) {
        const int32_t q0 = k->vq[h ? v1 : v0];
        for (int32_t j = 0; j < KERN_COB; j++) {
            /* int64: the sum with the correction is exact whatever the order */
            int64_t acc[KERN_U8V];
            for (int32_t l = 0; l < KERN_U8V; l++) acc[l] = sp ? 0 : k->corr[cb * KERN_COB + j];
            for (int32_t q = 0; q < k->ncq; q++) {
                const uint32_t *xb = x + (size_t)q * k->g.chan_len + q0;
                const int32_t *wp = (sp ? sp->wpk : k->wpk) + ((size_t)cb * k->ncq + q) * taps * KERN_COB + j;
                const uint32_t *rp = sp ? sp->rnd + (((size_t)cb * k->ncq + q) * KERN_COB + j) * 2 : NULL;
                for (int32_t t = 0; t < taps; t++) {
                    uint32_t wv = (uint32_t)wp[(size_t)t * KERN_COB];
                    const uint32_t *xp = xb + k->tap_off[t];
                    for (int32_t l = 0; l < KERN_U8V; l++)
                        for (int b = 0; b < 4; b++) {
                            uint32_t u = (xp[l] >> (8 * b)) & 0xffu;
                            if (rp) u = (u + ((rp[0] >> (8 * b)) & 0xffu)) & (rp[1] >> (8 * b)) & 0xffu;
                            acc[l] += (int32_t)u * (int8_t)(uint8_t)(wv >> (8 * b));
                        }
                }
            }
            for (int32_t f = sp ? sp->fix_start[cb] : 0; sp && f < sp->fix_start[cb + 1]; f++) {
                const kern_u8_fix *fx = &sp->fix[f];
                if (fx->j != j) continue;
                const uint32_t *rf = sp->rnd + (((size_t)cb * k->ncq + fx->q) * KERN_COB + j) * 2;
                for (int32_t l = 0; l < KERN_U8V; l++) {
                    uint32_t u = (x[q0 + fx->off + l] >> (8 * fx->b)) & 0xffu;
                    acc[l] += (u + ((rf[0] >> (8 * fx->b)) & 0xffu)) & (rf[1] >> (8 * fx->b)) & 0xffu;
                }
            }
            for (int32_t l = 0; l < KERN_U8V; l++) sums[h][j][l] = (int32_t)acc[l];
        }
    }
    kern_u8_scatter(k, (const int32_t(*)[KERN_COB][KERN_U8V])sums, dst, cb, v0, v1, img);
}

static void minmax_s8_generic(const int8_t *x, size_t n, int32_t *mn, int32_t *mx)
{
    int8_t lo = x[0], hi = x[0];
    for (size_t i = 1; i < n; i++) {
        lo = x[i] < lo ? x[i] : lo;
        hi = x[i] > hi ? x[i] : hi;
    }
    *mn = lo;
    *mx = hi;
}

/* 1 when dst's requantization needs no saturation for this layer (see kern_u8_tile_fn) */
static int u8_rq_fast(const qnn_conv_u8 *k, const qnn_conv_dst *dst, const int64_t *acc_max)
{
    if (dst->acc) return 0;
    for (int32_t c = 0; c < k->s.cout; c++) {
        int64_t b = dst->bias ? dst->bias[c] : 0;
        if (dst->shift[c] > 0 || dst->mult[c] == INT32_MIN || (b < 0 ? -b : b) + acc_max[c] > INT32_MAX) return 0;
    }
    return 1;
}

/* One image with the channel-lane tiles (sp->w8 set): block by block (its weights stay in L1), row by
 * row, 8 pixels at a time (the last 8 of a row overlap their predecessors when wo % 8 != 0). */
static void u8_image_co8(const qnn_conv_u8 *k, const kern_u8_sep *sp, const uint32_t *x, const qnn_conv_dst *dst,
                         kern_u8_co8_fn co8, int32_t img, int rq_fast)
{
    const qnn_conv_shape *s = &k->s;
    for (int32_t b8 = 0; b8 < s->cout / 8; b8++)
        for (int32_t oy = 0; oy < s->ho; oy++)
            for (int32_t ox = 0; ox < s->wo; ox += 8)
                co8(k, sp, x, dst, b8, oy, ox + 8 <= s->wo ? ox : s->wo - 8, img, rq_fast);
}

static void u8_run(const qnn_conv_u8 *k, const kern_u8_sep *sp, int32_t n, const int8_t *in, const qnn_conv_dst *dst,
                   kern_u8_tile_fn tile, kern_u8_co8_fn co8, int nt, kern_arena *ar)
{
    const int rq_fast = u8_rq_fast(k, dst, sp ? sp->acc_max : k->acc_max);
    const qnn_conv_shape *s = &k->s;
    const size_t in_img = (size_t)s->h * s->w * s->cin;
    const int32_t ntile = (k->n_vec + 1) / 2, ncb = k->n_cob;
    const uint8_t fill = k->off ? 0x80 : 0; /* the padding operand: a = 0 */
    if (n >= nt) {
        size_t len = (size_t)nt * k->xlen * sizeof(uint32_t);
        uint32_t *bufs = memset(kern_ar_get(ar, len), fill, len);
#pragma omp parallel for schedule(dynamic, 1) num_threads(nt) if (nt > 1)
        for (int32_t img = 0; img < n; img++) {
            if (img == 0) qnn_kern_note_team();
            uint32_t *x = bufs + (size_t)kern_thread_num() * k->xlen;
            u8_prep(k, in + (size_t)img * in_img, x);
            if (co8) {
                u8_image_co8(k, sp, x, dst, co8, img, rq_fast);
                continue;
            }
            for (int32_t t = 0; t < ntile; t++) {
                int32_t v0 = 2 * t, v1 = v0 + 1 < k->n_vec ? v0 + 1 : v0;
                for (int32_t cb = 0; cb < ncb; cb++) tile(k, sp, x, dst, cb, v0, v1, img, rq_fast);
            }
        }
    } else {
        size_t len = k->xlen * sizeof(uint32_t);
        uint32_t *x = memset(kern_ar_get(ar, len), fill, len);
        for (int32_t img = 0; img < n; img++) {
            u8_prep(k, in + (size_t)img * in_img, x);
#pragma omp parallel for schedule(static) num_threads(nt) if (nt > 1)
            for (int32_t i = 0; i < ntile * ncb; i++) {
                int32_t t = i / ncb, cb = i % ncb, v0 = 2 * t, v1 = v0 + 1 < k->n_vec ? v0 + 1 : v0;
                if (i == 0) qnn_kern_note_team();
                tile(k, sp, x, dst, cb, v0, v1, img, rq_fast);
            }
        }
    }
}

/* 1 when every input value lies in the proof's range (one min/max pass) */
static int u8_input_ok(const qnn_conv_u8 *k, int32_t n, const int8_t *in, int avx2)
{
    int32_t mn, mx;
    size_t in_len = (size_t)n * k->s.h * k->s.w * k->s.cin;
    if (in_len == 0) return 1;
    if (avx2)
        kern_minmax_s8_avx2(in, in_len, &mn, &mx);
    else
        minmax_s8_generic(in, in_len, &mn, &mx);
    return mn >= k->a_lo && mx <= k->a_hi;
}

int qnn_conv_u8_team(const qnn_conv_u8 *k, int32_t n, const int8_t *in, const qnn_conv_dst *dst, int threads,
                     void *scratch, size_t scratch_size)
{
    if (n <= 0) return 1;
    ASSERT(dst->acc || (dst->out && dst->mult && dst->shift && dst->lo <= dst->hi && dst->lo >= -128 && dst->hi <= 127));
    const int avx2 = kern_use_avx2();
    if (!u8_input_ok(k, n, in, avx2)) return 0; /* outside what the proof covers */
    const int nt = qnn_kern_team(threads);
    size_t need = qnn_conv_u8_scratch_size(k, n, threads);
    void *own;
    kern_arena ar = kern_arena_open(scratch, scratch_size, need, &own);
    u8_run(k, NULL, n, in, dst, avx2 ? (kern_use_vnni() ? kern_u8_tile_vnni : kern_u8_tile_avx2) : u8_tile_generic,
           NULL, nt, &ar);
    free(own);
    return 1;
}

/* ---- separable multipliers whose activation transforms are roundings ---- */

static size_t u8_sep_bytes(const qnn_conv_u8 *k)
{
    size_t blks = (size_t)k->n_cob * k->ncq, n_w = blks * k->n_taps * KERN_COB;
    return kern_ar_bytes(n_w * sizeof(int32_t)) + kern_ar_bytes(blks * KERN_COB * 2 * sizeof(uint32_t)) +
           kern_ar_bytes(blks) + kern_ar_bytes(((size_t)k->n_cob + 1) * sizeof(int32_t)) +
           kern_ar_bytes(4 * n_w * sizeof(kern_u8_fix)) + kern_ar_bytes((size_t)k->s.cout * sizeof(int64_t));
}

/* 1 when the channel-lane tiles can run layer k: stride 1 or 2, kw = 3, wo >= 8, whole blocks of 8
 * channels */
static int u8_co8_shape(const qnn_conv_u8 *k)
{
    return (k->g.nph == 1 || (k->g.sh == 2 && k->g.sw == 2)) && k->s.kw == 3 && k->s.wo >= 8 && k->s.cout % 8 == 0;
}

size_t qnn_conv_u8_sep_scratch_size(const qnn_conv_u8 *k, int32_t n, int threads)
{
    if (n <= 0) return 0;
    size_t co8 = 0;
    if (u8_co8_shape(k)) {
        size_t nb = (size_t)k->s.cout / 8;
        co8 = 2 * kern_ar_bytes(nb * k->ncq * k->n_taps * 8 * sizeof(int32_t)) + kern_ar_bytes(nb * k->ncq * k->s.kh) +
              kern_ar_bytes(nb * k->ncq * 16 * sizeof(uint32_t));
    }
    return u8_sep_bytes(k) + co8 + qnn_conv_u8_scratch_size(k, n, threads);
}

/* Pack the call's weights, roundings and fixes; 0 when the multiplier is not one the u8 kernels run
 * exactly (a used transform is not a rounding, a rounded activation outside 0..255, a pair the
 * proof refuses, a weight outside -128..128). */
static int u8_sep_plan(const qnn_conv_u8 *k, const int16_t *act_tf, int n_planes, const uint8_t *plane_of,
                       const int16_t *w_tf, kern_arena *ar, kern_u8_sep *sp)
{
    const qnn_conv_shape *s = &k->s;
    const int32_t cin = s->cin, taps = k->n_taps, ncq = k->ncq;
    if (k->off != 0 || n_planes < 1 || n_planes > 255) return 0;
    int8_t m[255];
    int16_t c[255];
    uint8_t used[255] = {0};
    for (size_t i = 0; i < (size_t)s->cout * cin; i++) used[plane_of ? plane_of[i] : 0] = 1;
    int32_t u_lo = 255, u_hi = 0;
    for (int p = 0; p < n_planes; p++) {
        if (!used[p]) continue;
        if (!kern_tf_rounding(act_tf + (size_t)p * 256, &m[p], &c[p])) return 0;
        for (int32_t a = k->a_lo; a <= k->a_hi; a++) {
            int32_t u = act_tf[(size_t)p * 256 + (uint8_t)a];
            u_lo = u < u_lo ? u : u_lo;
            u_hi = u > u_hi ? u : u_hi;
        }
    }
    if (u_lo < 0 || u_hi > 255 || u_lo > u_hi) return 0;
    size_t blks = (size_t)k->n_cob * ncq, n_w = blks * taps * KERN_COB;
    sp->wpk = kern_ar_zero(ar, n_w * sizeof *sp->wpk);
    sp->rnd = kern_ar_zero(ar, blks * KERN_COB * 2 * sizeof *sp->rnd);
    sp->rmode = kern_ar_zero(ar, blks);
    sp->fix_start = kern_ar_get(ar, ((size_t)k->n_cob + 1) * sizeof *sp->fix_start);
    sp->fix = kern_ar_get(ar, 4 * n_w * sizeof *sp->fix); /* up to one fix per weight byte */
    sp->acc_max = kern_ar_zero(ar, (size_t)s->cout * sizeof *sp->acc_max);
    sp->w8 = NULL;
    sp->rnd8 = NULL;
    int32_t n_fix = 0;
    for (int32_t cb = 0; cb < k->n_cob; cb++) {
        sp->fix_start[cb] = n_fix;
        for (int32_t q = 0; q < ncq; q++) {
            const size_t bq = (size_t)cb * ncq + q;
            int any = 0, mixed = 0;
            for (int32_t j = 0; j < KERN_COB; j++) {
                int32_t co = cb * KERN_COB + j;
                uint32_t rc = 0, rm = 0;
                for (int32_t b = 0; b < 4; b++) {
                    int32_t ci = 4 * q + b;
                    int p = co < s->cout && ci < cin && plane_of ? plane_of[(size_t)co * cin + ci] : 0;
                    int8_t mm = co < s->cout && ci < cin ? m[p] : 0;
                    int16_t cc = co < s->cout && ci < cin ? c[p] : 0;
                    rc |= (uint32_t)(uint8_t)cc << (8 * b);
                    rm |= (uint32_t)(uint8_t)(0xffu << mm) << (8 * b);
                    if (mm) any = 1;
                }
                sp->rnd[(bq * KERN_COB + j) * 2] = rc;
                sp->rnd[(bq * KERN_COB + j) * 2 + 1] = rm;
                if (sp->rnd[(bq * KERN_COB + j) * 2] != sp->rnd[bq * KERN_COB * 2] ||
                    sp->rnd[(bq * KERN_COB + j) * 2 + 1] != sp->rnd[bq * KERN_COB * 2 + 1])
                    mixed = 1;
                if (co >= s->cout) continue;
                for (int32_t t = 0; t < taps; t++) {
                    uint32_t packed = 0;
                    int32_t wq[4] = {0, 0, 0, 0};
                    for (int32_t b = 0; b < 4; b++) {
                        int32_t ci = 4 * q + b;
                        if (ci >= cin) continue;
                        int32_t wv = w_tf[((size_t)co * taps + t) * cin + ci];
                        if (wv < -128 || wv > 128) return 0;
                        /* the store's bound (u8_rq_fast) on the operands as run: rounded, up to 128 each */
                        sp->acc_max[co] += (int64_t)(wv < 0 ? -wv : wv) * u_hi;
                        if (wv == 128) { /* 127 here, and the rounded activation once more */
                            wv = 127;
                            sp->fix[n_fix++] = (kern_u8_fix){.off = (int32_t)((size_t)q * k->g.chan_len) + k->tap_off[t],
                                                             .q = (int16_t)q, .j = (uint8_t)j, .b = (uint8_t)b};
                        }
                        wq[b] = wv;
                        packed |= (uint32_t)(uint8_t)(int8_t)wv << (8 * b);
                    }
                    /* the proof for the rounded range on the pairs of the clamped weights */
                    for (int b = 0; b < 4; b += 2) {
                        int32_t mx = (wq[b] > 0 ? u_hi : u_lo) * wq[b] + (wq[b + 1] > 0 ? u_hi : u_lo) * wq[b + 1];
                        int32_t mn = (wq[b] > 0 ? u_lo : u_hi) * wq[b] + (wq[b + 1] > 0 ? u_lo : u_hi) * wq[b + 1];
                        if (mx > 32767 || mn < -32768) return 0;
                    }
                    sp->wpk[((bq * taps) + t) * KERN_COB + j] = (int32_t)packed;
                }
            }
            sp->rmode[bq] = (uint8_t)(mixed ? 2 : any ? 1 : 0);
        }
    }
    sp->fix_start[k->n_cob] = n_fix;
    return 1;
}

/* Choose the channel-lane tiles when the shape allows them and at least a quarter of the blocks
 * mix roundings (where the 4-channel tiles round every activation once per kernel and tap); pack
 * their weights and roundings. */
static void u8_co8_plan(const qnn_conv_u8 *k, kern_arena *ar, kern_u8_sep *sp)
{
    const int32_t ncq = k->ncq, taps = k->n_taps, nb = k->s.cout / 8;
    if (!u8_co8_shape(k)) return;
    size_t mixed = 0, blks = (size_t)k->n_cob * ncq;
    for (size_t i = 0; i < blks; i++) mixed += sp->rmode[i] == 2;
    if (4 * mixed < blks) return;
    sp->w8 = kern_ar_get(ar, (size_t)nb * ncq * taps * 8 * sizeof *sp->w8);
    sp->w8fix = kern_ar_zero(ar, (size_t)nb * ncq * taps * 8 * sizeof *sp->w8fix);
    sp->fixrow8 = kern_ar_zero(ar, (size_t)nb * ncq * k->s.kh);
    sp->rnd8 = kern_ar_get(ar, (size_t)nb * ncq * 16 * sizeof *sp->rnd8);
    for (int32_t b8 = 0; b8 < nb; b8++)
        for (int32_t q = 0; q < ncq; q++)
            for (int32_t l = 0; l < 8; l++) {
                const int32_t cb = 2 * b8 + l / KERN_COB, j = l % KERN_COB;
                const size_t bq = (size_t)cb * ncq + q;
                for (int32_t t = 0; t < taps; t++)
                    sp->w8[(((size_t)b8 * ncq + q) * taps + t) * 8 + l] = sp->wpk[(bq * taps + t) * KERN_COB + j];
                sp->rnd8[(((size_t)b8 * ncq + q) * 2) * 8 + l] = sp->rnd[(bq * KERN_COB + j) * 2];
                sp->rnd8[(((size_t)b8 * ncq + q) * 2 + 1) * 8 + l] = sp->rnd[(bq * KERN_COB + j) * 2 + 1];
            }
    for (int32_t cb = 0; cb < 2 * nb; cb++)
        for (int32_t f = sp->fix_start[cb]; f < sp->fix_start[cb + 1]; f++) {
            const kern_u8_fix *fx = &sp->fix[f];
            int32_t t = 0, to = fx->off - (int32_t)((size_t)fx->q * k->g.chan_len);
            while (k->tap_off[t] != to) t++; /* tap offsets are distinct */
            const int32_t b8 = cb / 2, l = (cb % 2) * KERN_COB + fx->j;
            sp->w8fix[(((size_t)b8 * ncq + fx->q) * taps + t) * 8 + l] |= (int32_t)(1u << (8 * fx->b));
            sp->fixrow8[((size_t)b8 * ncq + fx->q) * k->s.kh + t / 3] |= (uint8_t)(1u << (t % 3));
        }
}

int qnn_conv_u8_sep_team(const qnn_conv_u8 *k, int32_t n, const int8_t *in, const int16_t *act_tf, int n_planes,
                         const uint8_t *plane_of, const int16_t *w_tf, const qnn_conv_dst *dst, int threads,
                         void *scratch, size_t scratch_size)
{
    if (n <= 0) return 1;
    ASSERT(dst->acc || (dst->out && dst->mult && dst->shift && dst->lo <= dst->hi && dst->lo >= -128 && dst->hi <= 127));
    ASSERT(n_planes == 1 || plane_of);
    const int avx2 = kern_use_avx2();
    if (k->off != 0 || !u8_input_ok(k, n, in, avx2)) return 0;
    const int nt = qnn_kern_team(threads);
    size_t need = qnn_conv_u8_sep_scratch_size(k, n, threads);
    void *own;
    kern_arena ar = kern_arena_open(scratch, scratch_size, need, &own);
    kern_u8_sep sp = {0};
    int ok = u8_sep_plan(k, act_tf, n_planes, plane_of, w_tf, &ar, &sp);
    if (ok && avx2 && n >= nt && kern_use_co8()) u8_co8_plan(k, &ar, &sp);
    if (sp.w8) kern_note_co8();
    if (ok) {
        const int vnni = avx2 && kern_use_vnni();
        u8_run(k, &sp, n, in, dst, avx2 ? (vnni ? kern_u8_sep_tile_vnni : kern_u8_sep_tile_avx2) : u8_tile_generic,
               sp.w8 ? (vnni ? kern_u8_co8_tile_vnni : kern_u8_co8_tile_avx2) : NULL, nt, &ar);
    }
    free(own);
    return ok;
}
