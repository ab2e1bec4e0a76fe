/* Optimized int8 convolutions: dispatch, per-call plans (geometry, packed weights, transposed tables),
 * per-image input copies, threading, the scatter of tiles into NHWC accumulators, and the portable
 * tile functions. The AVX2 tile functions live in qnn_kern_avx2.c. See qnn_kern.h for the design and
 * qnn_kern_impl.h for the geometry; every variant is bit-identical to the references (qnn_conv_ref.c):
 * integer sums are exact (no overflow: see qnn_conv.h), so the order of accumulation does not matter. */
#include "qnn_kern.h"

#include <stdlib.h>
#include <string.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif
#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#endif
#ifdef _OPENMP
#include <omp.h>
#endif

#include "msg.h"
#include "qnn_kern_impl.h"
#include "qnn_requant.h"
#include "util.h"

size_t kern_round_up(size_t x, size_t m)
{
    return (x + m - 1) / m * m;
}

int qnn_kern_team(int requested)
{
#ifdef _OPENMP
    /* omp_get_level counts inactive regions too: a num_threads(1) region is still the caller's choice */
    if (omp_get_level() > 0) return 1;
#endif
    return util_threads(requested, INT32_MAX); /* the project's thread-count rule */
}

static int g_max_team; /* qnn_kern_max_team */

void qnn_kern_note_team(void)
{
#ifdef _OPENMP
    int n = omp_get_num_threads(), cur = __atomic_load_n(&g_max_team, __ATOMIC_RELAXED);
    while (n > cur && !__atomic_compare_exchange_n(&g_max_team, &cur, n, 0, __ATOMIC_RELAXED, __ATOMIC_RELAXED)) {
    }
#else
    if (g_max_team < 1) g_max_team = 1;
#endif
}

int qnn_kern_max_team(int reset)
{
    return reset ? __atomic_exchange_n(&g_max_team, 0, __ATOMIC_RELAXED) : __atomic_load_n(&g_max_team, __ATOMIC_RELAXED);
}

int kern_thread_num(void)
{
#ifdef _OPENMP
    return omp_get_thread_num();
#else
    return 0;
#endif
}

/* ---- scratch ----
 * Every buffer of a call (plan and run) comes from one arena, the caller's scratch: sizes are fixed by
 * the shape, the plane/table count and the team size, so qnn_conv_scratch_size computes them ahead
 * with the same formulas (ar_bytes counts one allocation, alignment slack included). */

enum { KERN_ALIGN = 64 };

size_t kern_ar_bytes(size_t bytes)
{
    return kern_round_up(bytes, KERN_ALIGN) + KERN_ALIGN;
}

kern_arena kern_arena_open(void *scratch, size_t scratch_size, size_t need, void **own)
{
    *own = NULL;
    if (!scratch || scratch_size < need) {
        ASSERT(!scratch); /* a caller's scratch must have the queried size */
        scratch = *own = xaligned_alloc(need);
        scratch_size = need;
    }
    return (kern_arena){.base = scratch, .size = scratch_size, .used = 0};
}

void *kern_ar_get(kern_arena *a, size_t bytes)
{
    uintptr_t at = kern_round_up((uintptr_t)(a->base + a->used), KERN_ALIGN);
    size_t end = (size_t)(at - (uintptr_t)a->base) + bytes;
    ASSERT(end <= a->size); /* qnn_conv_scratch_size undercounted */
    a->used = end;
    return (void *)at;
}

void *kern_ar_zero(kern_arena *a, size_t bytes)
{
    return memset(kern_ar_get(a, bytes), 0, bytes);
}

/* ---- geometry ---- */

static int32_t geom_in_offset(const kern_geom *g, const qnn_conv_shape *s, int32_t iy, int32_t ix);

/* The scalar part of the geometry (no buffers). */
static void geom_dims(kern_geom *g, const qnn_conv_shape *s)
{
    ASSERT(s->ho >= 1 && s->wo >= 1);
    ASSERT((int64_t)s->kh * s->kw * s->cin <= 65535);
    g->sh = s->stride_h;
    g->sw = s->stride_w;
    g->nph = g->sh * g->sw;
    g->dy_max = (s->kh - 1) / g->sh;
    g->dx_max = (s->kw - 1) / g->sw;
    g->cx = s->wo + g->dx_max;
    size_t flat = (size_t)s->ho * (size_t)g->cx;
    ASSERT(flat < (size_t)1 << 30);
    g->nq = (int32_t)kern_round_up(flat, KERN_TQ);
    /* farthest read: a 16-element load at q0 + 1 + offset, q0 <= nq - KERN_TQ, one past for pairs */
    size_t off_max = (size_t)g->dy_max * g->cx + g->dx_max;
    g->phase_len = kern_round_up((size_t)g->nq + off_max + 2, 16);
    g->chan_len = (size_t)g->nph * g->phase_len;
    ASSERT(g->chan_len < (size_t)1 << 31); /* offsets inside a channel buffer are int32 */
}

static size_t geom_bytes(const kern_geom *g, const qnn_conv_shape *s)
{
    return kern_ar_bytes((size_t)s->h * s->w * sizeof(int32_t)) + kern_ar_bytes((size_t)g->nq * sizeof(int32_t));
}

static void geom_init(kern_geom *g, const qnn_conv_shape *s, kern_arena *ar)
{
    geom_dims(g, s);
    g->inoff = kern_ar_get(ar, (size_t)s->h * s->w * sizeof *g->inoff);
    g->outpix = kern_ar_get(ar, (size_t)g->nq * sizeof *g->outpix);
    for (int32_t q = 0; q < g->nq; q++) {
        int32_t oy = q / g->cx, ox = q % g->cx;
        g->outpix[q] = (oy < s->ho && ox < s->wo) ? oy * s->wo + ox : -1;
    }
    for (int32_t iy = 0; iy < s->h; iy++)
        for (int32_t ix = 0; ix < s->w; ix++) g->inoff[iy * s->w + ix] = geom_in_offset(g, s, iy, ix);
}

/* Flat offset of padded input pixel (iy + pad_t, ix + pad_l) in its phase image, or -1 when no
 * output reads it (beyond the last row or column read, or in a phase no tap falls in: a 1x1
 * stride-2 convolution reads one phase of four). */
static int32_t geom_in_offset(const kern_geom *g, const qnn_conv_shape *s, int32_t iy, int32_t ix)
{
    int32_t yp = iy + s->pad_t, xp = ix + s->pad_l;
    int32_t yy = yp / g->sh, xx = xp / g->sw;
    if (yy >= s->ho + g->dy_max || xx >= g->cx || yp % g->sh >= s->kh || xp % g->sw >= s->kw) return -1;
    int32_t phase = (yp % g->sh) * g->sw + xp % g->sw;
    return (int32_t)((size_t)phase * g->phase_len + (size_t)yy * g->cx + (size_t)xx);
}

/* Write the sums of flat positions q0 .. q0 + span - 1 (tile[co * span + L]) into the NHWC
 * accumulators of image img. */
void kern_tile_scatter(const kern_sep *k, const int32_t *tile, int32_t span, int32_t cb, int32_t q0, int32_t img)
{
    const qnn_conv_shape *s = k->s;
    const qnn_conv_dst *dst = k->dst;
    int32_t co0 = cb * KERN_COB;
    int32_t nco = s->cout - co0 < KERN_COB ? s->cout - co0 : KERN_COB;
    size_t base = (size_t)img * s->ho * s->wo * s->cout + (size_t)co0;
    for (int32_t l = 0; l < span; l++) {
        int32_t pix = k->g.outpix[q0 + l];
        if (pix < 0) continue;
        size_t d = base + (size_t)pix * s->cout;
        if (dst->acc)
            for (int32_t co = 0; co < nco; co++) dst->acc[d + co] = tile[(size_t)co * span + l];
        else
            for (int32_t co = 0; co < nco; co++) {
                int32_t c = co0 + co;
                dst->out[d + co] = qnn_quant_requant_out(tile[(size_t)co * span + l], dst->bias ? dst->bias[c] : 0,
                                                         dst->mult[c], dst->shift[c], dst->lo, dst->hi);
            }
    }
}

/* ---- separable plan ---- */

static size_t sep_plan_bytes(const qnn_conv_shape *s, int n_planes, const kern_geom *g)
{
    size_t taps = (size_t)s->kh * s->kw, blks = (size_t)((s->cout + KERN_COB - 1) / KERN_COB) * s->cin;
    return geom_bytes(g, s) + 3 * kern_ar_bytes(taps * sizeof(int32_t)) + kern_ar_bytes((size_t)n_planes) +
           kern_ar_bytes(blks * taps * KERN_COB * sizeof(int32_t)) + kern_ar_bytes(blks * KERN_COB * sizeof(size_t)) +
           kern_ar_bytes(blks) + kern_ar_bytes(blks * KERN_COB * 2 * sizeof(uint32_t)) + kern_ar_bytes(blks); /* ... rnd, rmode */
}

void kern_sep_plan(kern_sep *k, const qnn_conv_shape *s, int n_planes, const uint8_t *plane_of,
                   const int16_t *w, kern_arena *ar)
{
    ASSERT(n_planes >= 1 && n_planes <= 255);
    memset(k, 0, sizeof *k);
    k->s = s;
    k->ar = ar;
    geom_init(&k->g, s, ar);
    const kern_geom *g = &k->g;

    /* tap pairs: horizontally adjacent taps of one phase, (kx, kx + sw) -> (dx, dx + 1) */
    int32_t max_items = s->kh * s->kw;
    int32_t *t1 = kern_ar_get(ar, (size_t)max_items * sizeof *t1), *t2 = kern_ar_get(ar, (size_t)max_items * sizeof *t2);
    k->item_off = kern_ar_get(ar, (size_t)max_items * sizeof *k->item_off);
    int32_t n = 0;
    for (int32_t py = 0; py < g->sh; py++)
        for (int32_t px = 0; px < g->sw; px++)
            for (int32_t ky = py; ky < s->kh; ky += g->sh)
                for (int32_t kx = px; kx < s->kw; kx += 2 * g->sw) {
                    t1[n] = ky * s->kw + kx;
                    t2[n] = kx + g->sw < s->kw ? ky * s->kw + kx + g->sw : -1;
                    k->item_off[n] = (int32_t)((size_t)(py * g->sw + px) * g->phase_len +
                                               (size_t)(ky / g->sh) * g->cx + (size_t)(kx / g->sw));
                    n++;
                }
    k->n_items = n;

    int32_t cin = s->cin, taps = s->kh * s->kw;
    k->n_cob = (s->cout + KERN_COB - 1) / KERN_COB;
    k->n_planes = n_planes;
    k->used = kern_ar_zero(ar, (size_t)n_planes);
    k->wpk = kern_ar_zero(ar, (size_t)k->n_cob * cin * n * KERN_COB * sizeof *k->wpk);
    k->boff = kern_ar_zero(ar, (size_t)k->n_cob * cin * KERN_COB * sizeof *k->boff);
    k->shared = kern_ar_zero(ar, (size_t)k->n_cob * cin);
    for (int32_t cb = 0; cb < k->n_cob; cb++)
        for (int32_t ci = 0; ci < cin; ci++) {
            size_t blk = (size_t)cb * cin + ci;
            int first_plane = plane_of ? plane_of[(size_t)cb * KERN_COB * cin + ci] : 0;
            int same = 1;
            for (int32_t j = 0; j < KERN_COB; j++) {
                int32_t co = cb * KERN_COB + j;
                int p = first_plane;
                if (co < s->cout) {
                    p = plane_of ? plane_of[(size_t)co * cin + ci] : 0;
                    ASSERT(p < n_planes);
                    k->used[p] = 1;
                    for (int32_t i = 0; i < n; i++) {
                        uint16_t a = (uint16_t)w[(size_t)co * taps * cin + (size_t)t1[i] * cin + ci];
                        uint16_t b = t2[i] < 0 ? 0 : (uint16_t)w[(size_t)co * taps * cin + (size_t)t2[i] * cin + ci];
                        k->wpk[(blk * n + i) * KERN_COB + j] = (int32_t)((uint32_t)a | (uint32_t)b << 16);
                    }
                }
                if (p != first_plane) same = 0;
                k->boff[blk * KERN_COB + j] = ((size_t)p * cin + ci) * g->chan_len;
            }
            k->shared[blk] = (uint8_t)same;
        }
    k->xlen = (size_t)n_planes * cin * g->chan_len;
}

void kern_sep_fly(kern_sep *k, const uint8_t *plane_of, const int8_t *m, const int16_t *c)
{
    const qnn_conv_shape *s = k->s;
    const int32_t cin = s->cin;
    k->fly = 1;
    k->rnd = kern_ar_zero(k->ar, (size_t)k->n_cob * cin * KERN_COB * 2 * sizeof *k->rnd);
    k->rmode = kern_ar_zero(k->ar, (size_t)k->n_cob * cin);
    for (int32_t cb = 0; cb < k->n_cob; cb++)
        for (int32_t ci = 0; ci < cin; ci++) {
            size_t blk = (size_t)cb * cin + ci;
            int first = -1, mixed = 0, any = 0;
            for (int32_t j = 0; j < KERN_COB; j++) {
                int32_t co = cb * KERN_COB + j;
                int p = co < s->cout && plane_of ? plane_of[(size_t)co * cin + ci] : 0;
                if (co >= s->cout) p = first < 0 ? p : first; /* padding lanes: anything alike */
                ASSERT(m[p] >= 0 && m[p] <= 7 && c[p] >= 0 && c[p] < (1 << m[p]));
                uint32_t cc = (uint16_t)c[p], mk = (uint16_t)(-(1 << m[p]));
                k->rnd[(blk * KERN_COB + j) * 2] = cc | cc << 16;
                k->rnd[(blk * KERN_COB + j) * 2 + 1] = mk | mk << 16;
                if (m[p] > 0) any = 1;
                if (first < 0) first = p;
                else if (m[p] != m[first] || c[p] != c[first]) mixed = 1;
                k->boff[blk * KERN_COB + j] = (size_t)ci * k->g.chan_len;
            }
            k->rmode[blk] = (uint8_t)(mixed ? 2 : any ? 1 : 0);
            k->shared[blk] = 1;
        }
    memset(k->used, 0, (size_t)k->n_planes);
    k->used[0] = 1;
    k->xlen = (size_t)cin * k->g.chan_len;
}


/* Where a separable call's activations come from: int16 planes built by the caller, or the int8
 * input and one 256-entry transform per plane, applied while copying (no plane is ever stored whole).
 * A transform of the form f(a) = ((a + c) >> m) << m (identity: c = m = 0; ROUP rounding) is applied
 * with three vector operations; any other goes through its table. */
typedef struct sep_src {
    const int16_t *const *planes; /* or NULL: */
    const int8_t *in;             /* (n, h, w, cin) int8 */
    const int16_t *tf;            /* n_planes x 256 int16 indexed (uint8_t)a, or NULL: identity */
    int8_t *m;                    /* [n_planes]: shift m, or -1: use the table */
    int16_t *c;                   /* [n_planes]: rounding offset c */
} sep_src;

static int16_t src_tf(const sep_src *src, int p, int8_t a)
{
    return src->tf ? src->tf[p * 256 + (uint8_t)a] : a;
}

/* Classify transform p: sets m[p], c[p] when f(a) = ((a + c) >> m) << m on all 256 values. */
int kern_tf_rounding(const int16_t *t, int8_t *m_out, int16_t *c_out)
{
    /* all values multiples of 2^m: m from their common trailing zeros (0 for the identity) */
    unsigned or = 0;
    for (int a = 0; a < 256; a++) or |= (unsigned)(uint16_t)t[a];
    int m = 0;
    while (m < 7 && or && !(or & (1u << m))) m++;
    int c = 0;
    if (m > 0) /* the value steps up by 2^m where a + c is a multiple of 2^m */
        for (int a = -127; a < 128; a++)
            if (t[(uint8_t)a] != t[(uint8_t)(a - 1)]) {
                c = ((-a) % (1 << m) + (1 << m)) % (1 << m);
                break;
            }
    for (int a = -128; a < 128; a++)
        if (t[(uint8_t)a] != (int16_t)(((a + c) >> m) * (1 << m))) return 0;
    *m_out = (int8_t)m;
    *c_out = (int16_t)c;
    return 1;
}

static void sep_src_classify(sep_src *src, int p)
{
    src->m[p] = -1;
    src->c[p] = 0;
    if (!src->tf) {
        src->m[p] = 0;
        return;
    }
    int8_t m;
    int16_t c;
    if (kern_tf_rounding(src->tf + p * 256, &m, &c)) {
        src->m[p] = m;
        src->c[p] = c;
    }
}

/* Copy one input row (iy) of one plane (source image src8 or src16), pixels ix0 .. w - 1, into the
 * phase images, scalar. */
static void sep_prep_row_scalar(const kern_sep *k, const sep_src *sc, int p, const int16_t *src16,
                                const int8_t *src8, int16_t *dst, int32_t iy, int32_t ix0)
{
    const qnn_conv_shape *s = k->s;
    const size_t cl = k->g.chan_len;
    for (int32_t ix = ix0; ix < s->w; ix++) {
        int32_t off = k->g.inoff[iy * s->w + ix];
        if (off < 0) continue;
        size_t at = ((size_t)iy * s->w + ix) * s->cin;
        int16_t *d = dst + off;
        if (src16)
            for (int32_t ci = 0; ci < s->cin; ci++) d[(size_t)ci * cl] = src16[at + ci];
        else
            for (int32_t ci = 0; ci < s->cin; ci++) d[(size_t)ci * cl] = src_tf(sc, p, src8[at + ci]);
    }
}

#if defined(__SSE2__)
/* 8 consecutive channels of one pixel as int16, transformed for plane p. */
static inline __m128i sep_load8(const sep_src *sc, int p, const int16_t *src16, const int8_t *src8, size_t at)
{
    if (src16) return _mm_loadu_si128((const __m128i *)(const void *)(src16 + at));
    int m = sc->m[p];
    if (m < 0) {
        _Alignas(16) int16_t t[8];
        for (int i = 0; i < 8; i++) t[i] = src_tf(sc, p, src8[at + (size_t)i]);
        return _mm_load_si128((const __m128i *)(const void *)t);
    }
    __m128i v = _mm_loadl_epi64((const __m128i *)(const void *)(src8 + at));
    v = _mm_srai_epi16(_mm_unpacklo_epi8(v, v), 8); /* sign-extend to int16 */
    if (m > 0) {
        v = _mm_add_epi16(v, _mm_set1_epi16(sc->c[p]));
        v = _mm_slli_epi16(_mm_srai_epi16(v, m), m);
    }
    return v;
}
#endif

/* Copy image img of every used plane into its phase images (channel-planar). With SSE2, blocks of
 * 8 pixels x 8 channels are transposed in registers and stored as rows (stride 1) or as even/odd
 * halves (stride 2); the rest goes through the scalar copy. */
static void sep_prep(const kern_sep *k, const sep_src *sc, int32_t img, int16_t *x)
{
    const qnn_conv_shape *s = k->s;
    const kern_geom *g = &k->g;
    const size_t in_img = (size_t)s->h * s->w * s->cin, cl = g->chan_len;
    for (int p = 0; p < k->n_planes; p++) {
        if (!k->used[p]) continue;
        const int16_t *src16 = sc->planes ? sc->planes[p] + (size_t)img * in_img : NULL;
        const int8_t *src8 = sc->planes ? NULL : sc->in + (size_t)img * in_img;
        int16_t *dst = x + (size_t)p * s->cin * cl;
        for (int32_t iy = 0; iy < s->h; iy++) {
            int32_t yp = iy + s->pad_t;
            if (yp / g->sh >= s->ho + g->dy_max || yp % g->sh >= s->kh) continue;
            int32_t ix = 0;
#if defined(__SSE2__)
            const int32_t c8 = s->cin / 8 * 8;
            if (c8 > 0 && g->sw <= 2) {
                size_t row = (size_t)(yp % g->sh) * g->sw * g->phase_len + (size_t)(yp / g->sh) * g->cx;
                for (; ix + 8 <= s->w && (ix + 7 + s->pad_l) / g->sw < g->cx; ix += 8) {
                    int32_t xp = ix + s->pad_l;
                    for (int32_t c0 = 0; c0 < c8; c0 += 8) {
                        __m128i r[8];
                        size_t at = ((size_t)iy * s->w + ix) * s->cin + c0;
                        for (int i = 0; i < 8; i++) r[i] = sep_load8(sc, p, src16, src8, at + (size_t)i * s->cin);
                        kern_transpose8_epi16(r);
                        for (int c = 0; c < 8; c++) {
                            int16_t *d = dst + (size_t)(c0 + c) * cl + row;
                            if (g->sw == 1) {
                                _mm_storeu_si128((__m128i *)(void *)(d + xp), r[c]);
                            } else {
                                /* lanes 0, 2, 4, 6 and 1, 3, 5, 7: sign-extend, then pack (exact) */
                                __m128i ev = _mm_packs_epi32(_mm_srai_epi32(_mm_slli_epi32(r[c], 16), 16), r[c]);
                                __m128i od = _mm_packs_epi32(_mm_srai_epi32(r[c], 16), r[c]);
                                int32_t pe = xp % 2, po = (xp + 1) % 2;
                                if (pe < s->kw)
                                    _mm_storel_epi64((__m128i *)(void *)(d + (size_t)pe * g->phase_len + xp / 2), ev);
                                if (po < s->kw)
                                    _mm_storel_epi64((__m128i *)(void *)(d + (size_t)po * g->phase_len + (xp + 1) / 2), od);
                            }
                        }
                    }
                    for (int32_t i = 0; i < 8 && c8 < s->cin; i++) { /* channels beyond the last multiple of 8 */
                        int32_t off = g->inoff[iy * s->w + ix + i];
                        if (off < 0) continue;
                        size_t at = ((size_t)iy * s->w + ix + i) * s->cin;
                        for (int32_t ci = c8; ci < s->cin; ci++)
                            dst[(size_t)ci * cl + (size_t)off] = src16 ? src16[at + ci] : src_tf(sc, p, src8[at + ci]);
                    }
                }
            }
#endif
            sep_prep_row_scalar(k, sc, p, src16, src8, dst, iy, ix);
        }
    }
}

static void kern_sep_run_src(const kern_sep *k, const sep_src *sc, kern_sep_tile_fn tile, int nt)
{
    const qnn_conv_shape *s = k->s;
    const int32_t ntile = k->g.nq / KERN_TQ, ncb = k->n_cob;
    if (s->n >= nt) {
        int16_t *bufs = kern_ar_zero(k->ar, (size_t)nt * k->xlen * sizeof *bufs);
#pragma omp parallel for schedule(dynamic, 1) num_threads(nt) if (nt > 1)
        for (int32_t img = 0; img < s->n; img++) {
            if (img == 0) qnn_kern_note_team();
            int16_t *x = bufs + (size_t)kern_thread_num() * k->xlen;
            sep_prep(k, sc, img, x);
            for (int32_t t = 0; t < ntile; t++)
                for (int32_t cb = 0; cb < ncb; cb++) tile(k, x, cb, t * KERN_TQ, img);
        }
    } else {
        int16_t *x = kern_ar_zero(k->ar, k->xlen * sizeof *x);
        for (int32_t img = 0; img < s->n; img++) {
            sep_prep(k, sc, img, x);
#pragma omp parallel for schedule(static) num_threads(nt) if (nt > 1)
            for (int32_t i = 0; i < ntile * ncb; i++) {
                int32_t t = i / ncb, cb = i % ncb;
                if (i == 0) qnn_kern_note_team();
                tile(k, x, cb, t * KERN_TQ, img);
            }
        }
    }
}

void kern_sep_run(const kern_sep *k, const int16_t *const *planes, kern_sep_tile_fn tile, int nt)
{
    sep_src sc = {.planes = planes};
    kern_sep_run_src(k, &sc, tile, nt);
}

void kern_sep_run_i8(kern_sep *k, const int8_t *in, const int16_t *act_tf, const uint8_t *plane_of,
                     kern_sep_tile_fn tile, int nt)
{
    ASSERT(act_tf || k->n_planes == 1);
    int8_t m[255];
    int16_t c[255];
    sep_src sc = {.in = in, .tf = act_tf, .m = m, .c = c};
    int fly = act_tf != NULL;
    for (int p = 0; p < k->n_planes; p++) {
        sep_src_classify(&sc, p);
        if (k->used[p] && m[p] < 0) fly = 0;
    }
    if (fly) {
        /* every transform is a rounding: one stored plane (the input), rounded by the kernels */
        kern_sep_fly(k, plane_of, m, c);
        sc.tf = NULL;
        m[0] = 0;
    }
    kern_sep_run_src(k, &sc, tile, nt);
}

static void sep_tile_generic(const kern_sep *k, const int16_t *x, int32_t cb, int32_t q0, int32_t img)
{
    int32_t sum[KERN_COB][KERN_TQ];
    memset(sum, 0, sizeof sum);
    const int32_t cin = k->s->cin, n = k->n_items;
    for (int32_t ci = 0; ci < cin; ci++) {
        size_t blk = (size_t)cb * cin + ci;
        const int32_t *wp = k->wpk + blk * n * KERN_COB;
        const size_t *bo = k->boff + blk * KERN_COB;
        for (int32_t i = 0; i < n; i++)
            for (int32_t j = 0; j < KERN_COB; j++) {
                uint32_t pw = (uint32_t)wp[i * KERN_COB + j];
                int32_t w0 = (int16_t)(uint16_t)(pw & 0xffffu), w1 = (int16_t)(uint16_t)(pw >> 16);
                const int16_t *xp = x + bo[j] + k->item_off[i] + q0;
                if (k->fly && k->rmode[blk]) {
                    int16_t rc = (int16_t)(k->rnd[(blk * KERN_COB + j) * 2] & 0xffffu);
                    int16_t rm = (int16_t)(k->rnd[(blk * KERN_COB + j) * 2 + 1] & 0xffffu);
                    for (int32_t l = 0; l < KERN_TQ; l++)
                        sum[j][l] += ((xp[l] + rc) & rm) * w0 + ((xp[l + 1] + rc) & rm) * w1;
                } else {
                    for (int32_t l = 0; l < KERN_TQ; l++) sum[j][l] += xp[l] * w0 + xp[l + 1] * w1;
                }
            }
    }
    kern_tile_scatter(k, &sum[0][0], KERN_TQ, cb, q0, img);
}

/* ---- table plan ---- */

/* Vectors per channel block: the AVX2 group keeps C vectors of 8 channels per position in registers
 * (4 once cout passes 16); the portable one uses 1. */
static int lut_vecs(const qnn_conv_shape *s, int avx2)
{
    return !avx2 ? 1 : s->cout > 16 ? 4 : s->cout > 8 ? 2 : 1;
}

static size_t lut_plan_bytes(const qnn_conv_shape *s, int n_luts, const kern_geom *g)
{
    size_t taps = (size_t)s->kh * s->kw;
    return geom_bytes(g, s) + kern_ar_bytes(taps * sizeof(int32_t)) + kern_ar_bytes((size_t)s->cin * taps * sizeof(int32_t)) +
           kern_ar_bytes((size_t)g->nq * sizeof(int32_t)) + kern_ar_bytes((size_t)s->cout + 32) +
           kern_ar_bytes((size_t)s->cout * s->cin * taps * sizeof(uint32_t)) + kern_ar_bytes((size_t)n_luts * 256) +
           kern_ar_bytes(((size_t)n_luts * 65536 + 256) * sizeof(int16_t));
}

/* Rows per pass (over input channel and tap, tap fastest): as many as keep the pass's rows
 * (pr * rp * cb_ch int32) within KERN_LROW_BYTES, at least one. */
static int32_t lut_pr(const qnn_conv_shape *s, int32_t cb_ch, int32_t rp)
{
    size_t per_row = (size_t)rp * (size_t)cb_ch * sizeof(int32_t), all = (size_t)s->cin * s->kh * s->kw;
    size_t pr = KERN_LROW_BYTES / per_row;
    return pr < 1 ? 1 : pr > all ? (int32_t)all : (int32_t)pr;
}

void kern_lut_plan(kern_lut *k, const qnn_conv_shape *s, const int8_t *w, const int16_t *const *luts,
                   int n_luts, const uint16_t *lut_of, int C, int32_t lo, int32_t hi, kern_arena *ar)
{
    ASSERT(n_luts >= 1 && n_luts <= 65535);
    ASSERT(C == 1 || C == 2 || C == 4);
    ASSERT(-128 <= lo && lo <= 0 && 0 <= hi && hi <= 127);
    memset(k, 0, sizeof *k);
    k->s = s;
    k->ar = ar;
    geom_init(&k->g, s, ar);
    const kern_geom *g = &k->g;
    int32_t cin = s->cin, taps = s->kh * s->kw;
    k->n_taps = taps;
    k->tap_off = kern_ar_get(ar, (size_t)taps * sizeof *k->tap_off);
    for (int32_t ky = 0; ky < s->kh; ky++)
        for (int32_t kx = 0; kx < s->kw; kx++)
            k->tap_off[ky * s->kw + kx] =
                (int32_t)((size_t)((ky % g->sh) * g->sw + kx % g->sw) * g->phase_len +
                          (size_t)(ky / g->sh) * g->cx + (size_t)(kx / g->sw));
    k->roff = kern_ar_get(ar, (size_t)cin * taps * sizeof *k->roff);
    for (int32_t ci = 0; ci < cin; ci++)
        for (int32_t t = 0; t < taps; t++) k->roff[ci * taps + t] = (int32_t)((size_t)ci * g->chan_len) + k->tap_off[t];
    k->lo = lo;
    k->rp = (int32_t)kern_round_up((size_t)(hi - lo + 1), 8);
    k->cb_ch = KERN_LCO * C;
    k->n_cb = (s->cout + k->cb_ch - 1) / k->cb_ch;
    k->pr = lut_pr(s, k->cb_ch, k->rp);
    /* the AVX2 tiles (KERN_LCO / C positions) that hold at least one output */
    const int32_t tp = KERN_LCO / C;
    k->tile_q = kern_ar_get(ar, (size_t)g->nq * sizeof *k->tile_q);
    k->n_tiles = 0;
    for (int32_t q0 = 0; q0 < g->nq; q0 += tp) {
        int any = 0;
        for (int32_t q = q0; q < q0 + tp; q++) any |= g->outpix[q] >= 0;
        if (any) k->tile_q[k->n_tiles++] = q0;
    }
    k->rq_fast = kern_ar_zero(ar, (size_t)s->cout + 32);
    const int32_t rp = k->rp;
    k->colp = kern_ar_get(ar, (size_t)s->cout * cin * taps * sizeof *k->colp);
    uint8_t *used = kern_ar_zero(ar, (size_t)n_luts * 256); /* (table, weight) columns in use */
    for (int32_t co = 0; co < s->cout; co++)
        for (int32_t ci = 0; ci < cin; ci++) {
            int t = lut_of ? lut_of[(size_t)co * cin + ci] : 0;
            ASSERT(t < n_luts);
            for (int32_t tap = 0; tap < taps; tap++) {
                uint8_t wv = (uint8_t)w[((size_t)co * taps + tap) * cin + ci];
                used[(size_t)t * 256 + wv] = 1;
                k->colp[((size_t)co * cin + ci) * taps + tap] = (uint32_t)(((size_t)t * 256 + wv) * (size_t)rp);
            }
        }
    /* the columns in use, over the call's range: cols[(t * 256 + w) * rp + a - lo] = lut[a * 256 + w]
     * (entries past hi: 0, never read); then rp zeros, the column of the missing channels of the last
     * block */
    k->cols = kern_ar_get(ar, ((size_t)n_luts * 65536 + 256) * sizeof *k->cols);
    for (int t = 0; t < n_luts; t++)
        for (int wv = 0; wv < 256; wv++) {
            if (!used[(size_t)t * 256 + wv]) continue;
            const int16_t *lut = luts[t];
            int16_t *c = k->cols + ((size_t)t * 256 + wv) * rp;
            for (int32_t i = 0; i < rp; i++) c[i] = lo + i <= hi ? lut[(uint8_t)(int8_t)(lo + i) * 256 + wv] : 0;
        }
    k->zero_col = (uint32_t)((size_t)n_luts * 256 * rp);
    memset(k->cols + k->zero_col, 0, (size_t)rp * sizeof *k->cols);
    k->xlen = (size_t)cin * g->chan_len;
}

/* Copy image img into its phase images as row indices a - lo (positions no pixel maps to keep the
 * index of 0, -lo, written once per call). */
static void lut_prep(const kern_lut *k, const int8_t *in, int32_t img, uint8_t *x)
{
    const qnn_conv_shape *s = k->s;
    const size_t in_img = (size_t)s->h * s->w * s->cin, cl = k->g.chan_len;
    const int8_t *src = in + (size_t)img * in_img;
    if (k->avx2) {
        kern_lut_prep_avx2(k, src, x);
        return;
    }
    const int32_t lo = k->lo;
    for (int32_t iy = 0; iy < s->h; iy++)
        for (int32_t ix = 0; ix < s->w; ix++) {
            int32_t off = k->g.inoff[iy * s->w + ix];
            if (off < 0) continue;
            const int8_t *a = src + ((size_t)iy * s->w + ix) * s->cin;
            uint8_t *d = x + off;
            for (int32_t ci = 0; ci < s->cin; ci++) d[(size_t)ci * cl] = (uint8_t)(a[ci] - lo);
        }
}

/* Batches are processed in chunks whose input copies take at most this many bytes. */
enum { KERN_LCHUNK_BYTES = 8 << 20 };

/* Run-time sizes of the table path for C vectors per block: images per group and per chunk, the bytes
 * of the chunk's input copies and of the per-thread accumulators and rows (the rows for the longest
 * possible row, 256 entries). */
static void lut_run_dims(const qnn_conv_shape *s, const kern_geom *g, int C, int nt, int32_t *grp_out,
                         size_t *chunk_out, size_t *x_bytes, size_t *scr_bytes)
{
    const size_t xlen = (size_t)s->cin * g->chan_len, cb_ch = (size_t)KERN_LCO * C;
    /* about KERN_LAC_BYTES of accumulators, and enough groups to keep every thread busy when the batch
     * allows it */
    size_t per_img = (size_t)g->nq * cb_ch * sizeof(int32_t);
    int32_t grp = (int32_t)(KERN_LAC_BYTES / per_img), per_thread = nt == 1 ? s->n : (s->n + 2 * nt - 1) / (2 * nt);
    if (grp < 1) grp = 1;
    if (grp > per_thread) grp = per_thread < 1 ? 1 : per_thread;
    size_t chunk = KERN_LCHUNK_BYTES / xlen / (size_t)grp * (size_t)grp;
    if (chunk < (size_t)grp) chunk = (size_t)grp;
    if (chunk > (size_t)s->n) chunk = (size_t)s->n;
    /* a pass's rows: pr * rp * cb_ch <= max(KERN_LROW_BYTES, one row's), rp <= 256 */
    size_t per_row = (size_t)256 * cb_ch, rows = KERN_LROW_BYTES / sizeof(int32_t);
    rows = rows > per_row ? rows : per_row;
    rows = rows < (size_t)s->cin * s->kh * s->kw * per_row ? rows : (size_t)s->cin * s->kh * s->kw * per_row;
    *grp_out = grp;
    *chunk_out = chunk;
    *x_bytes = chunk * xlen;
    *scr_bytes = (size_t)nt * kern_round_up(((size_t)grp * g->nq * cb_ch + rows) * sizeof(int32_t), KERN_ALIGN);
}

/* Store the sums of image group item (ac[(img * nq + q) * cb_ch + j], channel block cb) into dst. */
static void lut_store(const kern_lut *k, const int32_t *ac, int32_t img0, int32_t ng, int32_t cb)
{
    const qnn_conv_shape *s = k->s;
    const qnn_conv_dst *dst = k->dst;
    const int32_t nq = k->g.nq, cx = k->g.cx, CB = k->cb_ch;
    for (int32_t c = 0; c < CB; c += KERN_LCO) {
        int32_t co0 = cb * CB + c, nco = s->cout - co0 < KERN_LCO ? s->cout - co0 : KERN_LCO;
        if (nco <= 0) break;
        for (int32_t im = 0; im < ng; im++)
            for (int32_t oy = 0; oy < s->ho; oy++) {
                /* output row oy: flat positions oy * cx .. oy * cx + wo - 1, pixels oy * wo .. */
                const int32_t *v = ac + ((size_t)im * nq + (size_t)oy * cx) * CB + c;
                size_t d = ((size_t)(img0 + im) * s->ho * s->wo + (size_t)oy * s->wo) * s->cout + (size_t)co0;
                if (dst->acc) {
                    for (int32_t ox = 0; ox < s->wo; ox++)
                        memcpy(dst->acc + d + (size_t)ox * s->cout, v + (size_t)ox * CB, (size_t)nco * sizeof *v);
                } else if (nco == KERN_LCO && k->avx2) {
                    (k->rq_fast[co0 / KERN_LCO] ? kern_requant_rows8_nosat_avx2 : kern_requant_rows8_avx2)(
                        v, (size_t)CB, (size_t)s->wo, dst, co0, dst->out + d, (size_t)s->cout);
                } else {
                    for (int32_t ox = 0; ox < s->wo; ox++)
                        for (int32_t j = 0; j < nco; j++)
                            dst->out[d + (size_t)ox * s->cout + j] = qnn_quant_requant_out(
                                v[(size_t)ox * CB + j], dst->bias ? dst->bias[co0 + j] : 0, dst->mult[co0 + j],
                                dst->shift[co0 + j], dst->lo, dst->hi);
                }
            }
    }
}

void kern_lut_run(const kern_lut *k, const int8_t *in, kern_lut_group_fn group, int nt)
{
    const qnn_conv_shape *s = k->s;
    const int32_t nq = k->g.nq, ncb = k->n_cb;
    int32_t grp;
    size_t chunk, x_bytes, scr_bytes;
    lut_run_dims(s, &k->g, k->cb_ch / KERN_LCO, nt, &grp, &chunk, &x_bytes, &scr_bytes);
    uint8_t *x = memset(kern_ar_get(k->ar, x_bytes), (uint8_t)(-k->lo), x_bytes);
    const size_t per_thread = scr_bytes / (size_t)nt / sizeof(int32_t), acc_len = (size_t)grp * nq * k->cb_ch;
    int32_t *scratch = kern_ar_get(k->ar, scr_bytes);
    /* requantization without saturation per 8 channels: every sum is at most kh * kw * cin * 32768 in
     * magnitude (|lut| <= 2^15), so with |bias| it fits in int32; no shift > 0, no multiplier INT32_MIN */
    const qnn_conv_dst *dst = k->dst;
    if (!dst->acc) {
        const int64_t acc_max = (int64_t)k->n_taps * s->cin * 32768;
        for (int32_t co0 = 0; co0 < s->cout; co0 += KERN_LCO) {
            int ok = 1;
            for (int32_t co = co0; co < co0 + KERN_LCO && co < s->cout; co++) {
                int64_t b = dst->bias ? dst->bias[co] : 0;
                ok &= (b < 0 ? -b : b) + acc_max <= INT32_MAX && dst->shift[co] <= 0 && dst->mult[co] != INT32_MIN;
            }
            k->rq_fast[co0 / KERN_LCO] = (uint8_t)ok;
        }
    }
    for (int32_t i0 = 0; i0 < s->n; i0 += (int32_t)chunk) {
        int32_t nimg = s->n - i0 < (int32_t)chunk ? s->n - i0 : (int32_t)chunk;
#pragma omp parallel for schedule(static) num_threads(nt) if (nt > 1)
        for (int32_t i = 0; i < nimg; i++) lut_prep(k, in, i0 + i, x + (size_t)i * k->xlen);
        int32_t ngrp = (nimg + grp - 1) / grp;
#pragma omp parallel for schedule(dynamic, 1) num_threads(nt) if (nt > 1)
        for (int32_t item = 0; item < ngrp * ncb; item++) {
            int32_t gi = item / ncb, cb = item % ncb;
            if (item == 0) qnn_kern_note_team();
            int32_t img0 = gi * grp, ng = nimg - img0 < grp ? nimg - img0 : grp;
            int32_t *ac = scratch + (size_t)kern_thread_num() * per_thread, *rows = ac + acc_len;
            group(k, x + (size_t)img0 * k->xlen, ng, cb, rows, ac);
            lut_store(k, ac, i0 + img0, ng, cb);
        }
    }
}

/* Portable group function: per pass of pr rows, pack the block's rows, then add row entries into the
 * memory accumulators position by position. */
static void lut_group_generic(const kern_lut *k, const uint8_t *x, int32_t ng, int32_t cb, int32_t *rows,
                              int32_t *ac)
{
    const qnn_conv_shape *s = k->s;
    const int32_t cin = s->cin, taps = k->n_taps, nq = k->g.nq, CB = k->cb_ch, rp = k->rp;
    memset(ac, 0, (size_t)ng * nq * CB * sizeof *ac);
    for (int32_t r0 = 0; r0 < cin * taps; r0 += k->pr) {
        int32_t nr = cin * taps - r0 < k->pr ? cin * taps - r0 : k->pr;
        for (int32_t r = 0; r < nr; r++) {
            int32_t ci = (r0 + r) / taps, t = (r0 + r) % taps;
            for (int32_t j = 0; j < CB; j++) {
                int32_t co = cb * CB + j;
                const int16_t *col = k->cols + (co < s->cout ? k->colp[((size_t)co * cin + ci) * taps + t] : k->zero_col);
                for (int32_t a = 0; a < rp; a++) rows[((size_t)r * rp + a) * CB + j] = col[a];
            }
        }
        for (int32_t im = 0; im < ng; im++) {
            const uint8_t *xb = x + (size_t)im * k->xlen;
            int32_t *ap = ac + (size_t)im * nq * CB;
            for (int32_t r = 0; r < nr; r++) {
                const uint8_t *xp = xb + k->roff[r0 + r];
                const int32_t *rw = rows + (size_t)r * rp * CB;
                for (int32_t q = 0; q < nq; q++) {
                    const int32_t *e = rw + (size_t)xp[q] * CB;
                    int32_t *o = ap + (size_t)q * CB;
                    for (int32_t j = 0; j < CB; j++) o[j] += e[j];
                }
            }
        }
    }
}

/* ---- requantization ---- */

void kern_requant_tail(const int32_t *x, int32_t c0, int32_t c1, int32_t c, size_t n_pix, const int32_t *bias,
                       const int32_t *mult, const int32_t *shift, int32_t lo, int32_t hi, int8_t *out)
{
    for (size_t p = 0; p < n_pix; p++)
        for (int32_t j = c0; j < c1; j++)
            out[p * (size_t)c + (size_t)j] =
                qnn_quant_requant_out(x[p * (size_t)c + (size_t)j], bias ? bias[j] : 0, mult[j], shift[j], lo, hi);
}

void qnn_kern_requant_generic(const int32_t *x, size_t n_pix, int32_t c, const int32_t *bias, const int32_t *mult,
                              const int32_t *shift, int32_t lo, int32_t hi, int8_t *out)
{
    kern_requant_tail(x, 0, c, c, n_pix, bias, mult, shift, lo, hi, out);
}

void qnn_kern_requant(const int32_t *x, size_t n_pix, int32_t c, const int32_t *bias, const int32_t *mult,
                      const int32_t *shift, int32_t lo, int32_t hi, int8_t *out)
{
    if (qnn_kern_have_avx2())
        qnn_kern_requant_avx2(x, n_pix, c, bias, mult, shift, lo, hi, out);
    else
        qnn_kern_requant_generic(x, n_pix, c, bias, mult, shift, lo, hi, out);
}

static int g_portable; /* qnn_kern_set_portable: the portable kernels even with AVX2 */

/* ---- residual add ---- */

void qnn_kern_add_generic(const int8_t *a, const int8_t *b, size_t n, const qnn_kern_add_params *p, int8_t *out)
{
    ASSERT(p->left_shift >= 0 && p->left_shift <= 23);
    for (size_t i = 0; i < n; i++) {
        int32_t x = qnn_quant_requant(a[i] * (1 << p->left_shift), p->mult[0], p->shift[0]) +
                    qnn_quant_requant(b[i] * (1 << p->left_shift), p->mult[1], p->shift[1]);
        out[i] = qnn_quant_requant_out(x, 0, p->mult[2], p->shift[2], p->lo, p->hi);
    }
}

void qnn_kern_add(const int8_t *a, const int8_t *b, size_t n, const qnn_kern_add_params *p, int8_t *out)
{
    if (qnn_kern_have_avx2() && !g_portable)
        qnn_kern_add_avx2(a, b, n, p, out);
    else
        qnn_kern_add_generic(a, b, n, p, out);
}

void qnn_kern_add_table(const qnn_kern_add_params *p, int8_t *lut)
{
    int8_t *a = xmalloc(65536), *b = xmalloc(65536);
    for (int i = 0; i < 65536; i++) {
        a[i] = (int8_t)(uint8_t)(i >> 8);
        b[i] = (int8_t)(uint8_t)(i & 255);
    }
    qnn_kern_add(a, b, 65536, p, lut);
    free(a);
    free(b);
}

void qnn_kern_add_lut(const int8_t *a, const int8_t *b, size_t n, const int8_t *lut, int8_t *out)
{
    const uint8_t *ua = (const uint8_t *)a, *ub = (const uint8_t *)b;
    for (size_t i = 0; i < n; i++) out[i] = lut[(size_t)ua[i] << 8 | ub[i]];
}

/* ---- dispatch ---- */

int qnn_kern_have_avx2(void)
{
#if defined(__x86_64__) || defined(__i386__)
    return __builtin_cpu_supports("avx2") ? 1 : 0;
#else
    return 0;
#endif
}

int qnn_kern_have_vnni(void)
{
#if defined(__x86_64__) || defined(__i386__)
    /* CPUID leaf 7, sub-leaf 1, EAX bit 4: AVX-VNNI; its YMM state is the AVX2 kernels' (checked there) */
    unsigned a, b, c, d;
    return qnn_kern_have_avx2() && __get_cpuid_count(7, 1, &a, &b, &c, &d) && (a >> 4 & 1) ? 1 : 0;
#else
    return 0;
#endif
}

size_t qnn_conv_scratch_size(const qnn_conv_shape *s, qnn_mul_kind kind, int n_tabs, int threads)
{
    if (s->n == 0) return 0;
    const int nt = qnn_kern_team(threads);
    kern_geom g;
    geom_dims(&g, s);
    if (kind == QNN_MUL_LUT) {
        /* whichever kernels run (the portable hook may change between query and call) */
        size_t most = 0;
        for (int avx2 = 0; avx2 < 2; avx2++) {
            int32_t grp;
            size_t chunk, x_bytes, scr_bytes;
            lut_run_dims(s, &g, lut_vecs(s, avx2), nt, &grp, &chunk, &x_bytes, &scr_bytes);
            size_t b = kern_ar_bytes(x_bytes) + kern_ar_bytes(scr_bytes);
            most = b > most ? b : most;
        }
        return lut_plan_bytes(s, n_tabs, &g) + most;
    }
    return sep_plan_bytes(s, n_tabs, &g) + kern_ar_bytes((size_t)nt * n_tabs * s->cin * g.chan_len * sizeof(int16_t));
}


void qnn_kern_set_portable(int on)
{
    g_portable = on ? 1 : 0;
}

static int use_avx2(void)
{
    return !g_portable && qnn_kern_have_avx2();
}

int kern_use_avx2(void)
{
    return use_avx2();
}

static int g_no_vnni; /* qnn_kern_set_vnni(0) */

void qnn_kern_set_vnni(int on)
{
    g_no_vnni = on ? 0 : 1;
}

static int g_no_co8;   /* qnn_kern_set_co8(0) */
static long g_co8_calls;

void qnn_kern_set_co8(int on)
{
    g_no_co8 = on ? 0 : 1;
}

int kern_use_co8(void)
{
    return !g_no_co8;
}

void kern_note_co8(void)
{
    __atomic_fetch_add(&g_co8_calls, 1, __ATOMIC_RELAXED);
}

long qnn_kern_co8_calls(int reset)
{
    return reset ? __atomic_exchange_n(&g_co8_calls, 0, __ATOMIC_RELAXED) : __atomic_load_n(&g_co8_calls, __ATOMIC_RELAXED);
}

int kern_use_vnni(void)
{
    static int have = -1;
    if (have < 0) have = qnn_kern_have_vnni();
    return use_avx2() && have && !g_no_vnni;
}

/* One call's arguments, whichever entry it came through. */
typedef struct conv_args {
    const qnn_conv_shape *s;
    const int16_t *const *planes;
    const int8_t *in;
    const int16_t *act_tf;
    int n_tabs;
    const uint8_t *plane_of;
    const int16_t *w;
    const int8_t *w8;
    const int16_t *const *luts;
    const uint16_t *lut_of;
    const qnn_conv_dst *dst;
    int nt;
    kern_sep_tile_fn tile;
    kern_lut_group_fn group;
} conv_args;

static void conv_sep(const conv_args *a, kern_arena *ar)
{
    kern_sep k;
    kern_sep_plan(&k, a->s, a->n_tabs, a->plane_of, a->w, ar);
    k.dst = a->dst;
    if (a->planes)
        kern_sep_run(&k, a->planes, a->tile, a->nt);
    else
        kern_sep_run_i8(&k, a->in, a->act_tf, a->plane_of, a->tile, a->nt);
}

static void conv_lut(const conv_args *a, kern_arena *ar)
{
    kern_lut k;
    const int avx2 = a->group == kern_lut_group_avx2;
    /* the input's range (with 0, the padding value) sets the rows' length */
    const qnn_conv_shape *s = a->s;
    size_t len = (size_t)s->n * s->h * s->w * s->cin;
    int32_t mn = 0, mx = 0;
    if (len && avx2)
        kern_minmax_s8_avx2(a->in, len, &mn, &mx);
    else
        for (size_t i = 0; i < len; i++) mn = a->in[i] < mn ? a->in[i] : mn, mx = a->in[i] > mx ? a->in[i] : mx;
    kern_lut_plan(&k, s, a->w8, a->luts, a->n_tabs, a->lut_of, lut_vecs(s, avx2), mn < 0 ? mn : 0, mx > 0 ? mx : 0,
                  ar);
    k.dst = a->dst;
    k.avx2 = avx2;
    kern_lut_run(&k, a->in, a->group, a->nt);
}

/* Run a call with an arena over the caller's scratch, or over a buffer of the queried size when the
 * caller passes none (the convenience entries). */
static void conv_run(const conv_args *a, void *scratch, size_t size)
{
    if (a->s->n == 0) return;
    const int lut = a->group != NULL;
    ASSERT(a->dst->acc || (a->dst->out && a->dst->mult && a->dst->shift && a->dst->lo <= a->dst->hi &&
                           a->dst->lo >= -128 && a->dst->hi <= 127));
    size_t need = qnn_conv_scratch_size(a->s, lut ? QNN_MUL_LUT : QNN_MUL_SEPARABLE, a->n_tabs, a->nt);
    void *own;
    kern_arena ar = kern_arena_open(scratch, size, need, &own);
    if (lut)
        conv_lut(a, &ar);
    else
        conv_sep(a, &ar);
    free(own);
}

void qnn_conv_acc_generic(const qnn_conv_shape *s, const int16_t *const *planes, int n_planes,
                          const uint8_t *plane_of, const int16_t *w, int32_t *acc)
{
    conv_args a = {.s = s, .planes = planes, .n_tabs = n_planes, .plane_of = plane_of, .w = w,
                   .dst = &(qnn_conv_dst){.acc = acc}, .nt = qnn_kern_team(0), .tile = sep_tile_generic};
    conv_run(&a, NULL, 0);
}

void qnn_conv_acc_avx2(const qnn_conv_shape *s, const int16_t *const *planes, int n_planes,
                       const uint8_t *plane_of, const int16_t *w, int32_t *acc)
{
    ASSERT(qnn_kern_have_avx2());
    conv_args a = {.s = s, .planes = planes, .n_tabs = n_planes, .plane_of = plane_of, .w = w,
                   .dst = &(qnn_conv_dst){.acc = acc}, .nt = qnn_kern_team(0), .tile = kern_sep_tile_avx2};
    conv_run(&a, NULL, 0);
}

void qnn_conv_acc(const qnn_conv_shape *s, const int16_t *const *planes, int n_planes,
                  const uint8_t *plane_of, const int16_t *w, int32_t *acc)
{
    if (use_avx2())
        qnn_conv_acc_avx2(s, planes, n_planes, plane_of, w, acc);
    else
        qnn_conv_acc_generic(s, planes, n_planes, plane_of, w, acc);
}

static int g_reference; /* qnn_kern_set_reference */

void qnn_kern_set_reference(int on)
{
    g_reference = on ? 1 : 0;
}

static void lut_entry(const qnn_conv_shape *s, const int8_t *in, const int8_t *w, const int16_t *const *luts,
                      int n_luts, const uint16_t *lut_of, const qnn_conv_dst *dst, kern_lut_group_fn group,
                      int threads, void *scratch, size_t size)
{
    conv_args a = {.s = s, .in = in, .w8 = w, .luts = luts, .n_tabs = n_luts, .lut_of = lut_of, .dst = dst,
                   .nt = qnn_kern_team(threads), .group = group};
    conv_run(&a, scratch, size);
}

void qnn_conv_acc_lut_generic(const qnn_conv_shape *s, const int8_t *in, const int8_t *w,
                              const int16_t *const *luts, int n_luts, const uint16_t *lut_of,
                              int32_t *acc)
{
    lut_entry(s, in, w, luts, n_luts, lut_of, &(qnn_conv_dst){.acc = acc}, lut_group_generic, 0, NULL, 0);
}

void qnn_conv_acc_lut_avx2(const qnn_conv_shape *s, const int8_t *in, const int8_t *w,
                           const int16_t *const *luts, int n_luts, const uint16_t *lut_of, int32_t *acc)
{
    ASSERT(qnn_kern_have_avx2());
    lut_entry(s, in, w, luts, n_luts, lut_of, &(qnn_conv_dst){.acc = acc}, kern_lut_group_avx2, 0, NULL, 0);
}

void qnn_conv_acc_lut_team(const qnn_conv_shape *s, const int8_t *in, const int8_t *w,
                           const int16_t *const *luts, int n_luts, const uint16_t *lut_of, const qnn_conv_dst *dst,
                           int threads, void *scratch, size_t scratch_size)
{
    if (g_reference) {
        ASSERT(n_luts >= 1);
        if (!lut_of) ASSERT(n_luts == 1);
        int32_t *acc = dst->acc;
        size_t n_acc = (size_t)s->n * s->ho * s->wo * s->cout;
        if (!acc) acc = xmalloc(n_acc * sizeof *acc); /* test hook only: allocation is fine here */
        qnn_conv_acc_lut_ref(s, in, w, luts, lut_of, acc);
        if (!dst->acc) {
            for (size_t i = 0; i < n_acc; i++) {
                size_t c = i % (size_t)s->cout;
                dst->out[i] = qnn_quant_requant_out(acc[i], dst->bias ? dst->bias[c] : 0, dst->mult[c], dst->shift[c],
                                                    dst->lo, dst->hi);
            }
            free(acc);
        }
    } else
        lut_entry(s, in, w, luts, n_luts, lut_of, dst, use_avx2() ? kern_lut_group_avx2 : lut_group_generic, threads,
                  scratch, scratch_size);
}

void qnn_conv_acc_lut(const qnn_conv_shape *s, const int8_t *in, const int8_t *w,
                      const int16_t *const *luts, int n_luts, const uint16_t *lut_of, int32_t *acc)
{
    qnn_conv_acc_lut_team(s, in, w, luts, n_luts, lut_of, &(qnn_conv_dst){.acc = acc}, 0, NULL, 0);
}

static void i8_entry(const qnn_conv_shape *s, const int8_t *in, const int16_t *act_tf, int n_planes,
                     const uint8_t *plane_of, const int16_t *w, const qnn_conv_dst *dst, kern_sep_tile_fn tile,
                     int threads, void *scratch, size_t size)
{
    conv_args a = {.s = s, .in = in, .act_tf = act_tf, .n_tabs = n_planes, .plane_of = plane_of, .w = w, .dst = dst,
                   .nt = qnn_kern_team(threads), .tile = tile};
    conv_run(&a, scratch, size);
}

void qnn_conv_acc_i8_generic(const qnn_conv_shape *s, const int8_t *in, const int16_t *act_tf, int n_planes,
                             const uint8_t *plane_of, const int16_t *w, int32_t *acc)
{
    i8_entry(s, in, act_tf, n_planes, plane_of, w, &(qnn_conv_dst){.acc = acc}, sep_tile_generic, 0, NULL, 0);
}

void qnn_conv_acc_i8_avx2(const qnn_conv_shape *s, const int8_t *in, const int16_t *act_tf, int n_planes,
                          const uint8_t *plane_of, const int16_t *w, int32_t *acc)
{
    ASSERT(qnn_kern_have_avx2());
    i8_entry(s, in, act_tf, n_planes, plane_of, w, &(qnn_conv_dst){.acc = acc}, kern_sep_tile_avx2, 0, NULL, 0);
}

void qnn_conv_acc_i8_team(const qnn_conv_shape *s, const int8_t *in, const int16_t *act_tf, int n_planes,
                          const uint8_t *plane_of, const int16_t *w, const qnn_conv_dst *dst, int threads,
                          void *scratch, size_t scratch_size)
{
    i8_entry(s, in, act_tf, n_planes, plane_of, w, dst, use_avx2() ? kern_sep_tile_avx2 : sep_tile_generic, threads,
             scratch, scratch_size);
}

void qnn_conv_acc_i8(const qnn_conv_shape *s, const int8_t *in, const int16_t *act_tf, int n_planes,
                     const uint8_t *plane_of, const int16_t *w, int32_t *acc)
{
    qnn_conv_acc_i8_team(s, in, act_tf, n_planes, plane_of, w, &(qnn_conv_dst){.acc = acc}, 0, NULL, 0);
}
