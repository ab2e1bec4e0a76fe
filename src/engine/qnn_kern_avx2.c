/* AVX2 tile functions of the optimized convolutions (see qnn_kern.h, qnn_kern_impl.h). Compiled for
 * AVX2 with a target pragma so that the rest of the binary runs on any x86-64; qnn_kern.c only calls
 * these after __builtin_cpu_supports("avx2").
 *
 * Separable tile: KERN_COB output channels x 16 flat positions, as one vector of even and one of odd
 * positions. A vpmaddwd lane of the even vector at position q holds (x[q + off], x[q + off + 1]),
 * the two horizontally adjacent taps of a pair item, times the packed weight pair; its products are
 * at most 2 * 128 * 128 = 2^15, so the madd never saturates, and the int32 sums are exact.
 * Table group: per pass, the rows of a channel block (8, 16 or 32 channels) are packed, then tiles of
 * 8, 4 or 2 consecutive positions x 1, 2 or 4 vectors of 8 channels accumulate one 32-byte row entry
 * per position, row and vector, in registers over the pass (see qnn_kern_impl.h). */
#if defined(__x86_64__) || defined(__i386__)
#if defined(__clang__) /* clang ignores the GCC pragma: the same target as an attribute of every function */
#pragma clang attribute push(__attribute__((target("avx2"))), apply_to = function)
#else
#pragma GCC target("avx2")
#endif
#include <immintrin.h>
#endif

#include "qnn_kern_impl.h"

#include <stdint.h>
#include <string.h>

#include "msg.h"
#include "qnn_kern.h"

#if defined(__x86_64__) || defined(__i386__)

/* ---- requantization (TFLite MultiplyByQuantizedMultiplier, bit-exact, 8 lanes per vector) ---- */

/* SaturatingRoundingDoublingHighMul of the even lanes of a and b, result in the even 32-bit lanes,
 * except for a = b = INT32_MIN (the caller's blend). TFLite adds the nudge 2^30 (1 - 2^30 when the
 * product is negative) and divides by 2^31 truncating toward zero; for a negative product that is
 * ceil((ab + 1 - 2^30) / 2^31) = floor((ab + 2^30) / 2^31), the same floor as for a positive one, so
 * the whole is one 64-bit add and shift: (ab + 2^30) >> 31. The result fits in int32, so the low 32
 * bits of the logical shift equal those of the arithmetic one. */
static inline __m256i srdhm_even(__m256i a, __m256i b)
{
    __m256i ab = _mm256_mul_epi32(a, b);
    return _mm256_srli_epi64(_mm256_add_epi64(ab, _mm256_set1_epi64x(1LL << 30)), 31);
}

/* Per-lane constants of one requantization: bias, multiplier, shifts, rounding mask, clamp. */
typedef struct rq_consts {
    __m256i vb, vm, vm_odd, left, right, mask, half, m_min, vlo, vhi;
} rq_consts;

static inline rq_consts rq_make(__m256i vb, __m256i vm, __m256i vs, int32_t lo, int32_t hi)
{
    const __m256i zero = _mm256_setzero_si256(), one = _mm256_set1_epi32(1);
    rq_consts c;
    c.vb = vb;
    c.vm = vm;
    c.vm_odd = _mm256_srli_epi64(vm, 32);
    c.left = _mm256_max_epi32(vs, zero);
    c.right = _mm256_max_epi32(_mm256_sub_epi32(zero, vs), zero);
    c.mask = _mm256_sub_epi32(_mm256_sllv_epi32(one, c.right), one);
    c.half = _mm256_srai_epi32(c.mask, 1);
    c.m_min = _mm256_cmpeq_epi32(vm, _mm256_set1_epi32(INT32_MIN));
    c.vlo = _mm256_set1_epi32(lo);
    c.vhi = _mm256_set1_epi32(hi);
    return c;
}

/* clamp(requant(sat32(a + bias))) per lane: int32 results in lo..hi. */
static inline __m256i rq_apply(__m256i a, const rq_consts *c)
{
    const __m256i zero = _mm256_setzero_si256();
    const __m256i imin = _mm256_set1_epi32(INT32_MIN), imax = _mm256_set1_epi32(INT32_MAX);
    /* saturating a + bias */
    __m256i sum = _mm256_add_epi32(a, c->vb);
    __m256i ovf = _mm256_srai_epi32(_mm256_andnot_si256(_mm256_xor_si256(a, c->vb), _mm256_xor_si256(a, sum)), 31);
    __m256i sat = _mm256_xor_si256(imax, _mm256_srai_epi32(a, 31)); /* INT32_MAX or INT32_MIN */
    sum = _mm256_blendv_epi8(sum, sat, ovf);
    /* saturating left shift */
    __m256i sl = _mm256_sllv_epi32(sum, c->left);
    __m256i lost = _mm256_xor_si256(_mm256_srav_epi32(sl, c->left), sum);
    __m256i lsat = _mm256_xor_si256(imax, _mm256_srai_epi32(sum, 31));
    sl = _mm256_blendv_epi8(lsat, sl, _mm256_cmpeq_epi32(lost, zero));
    /* SaturatingRoundingDoublingHighMul */
    __m256i ev = srdhm_even(sl, c->vm);
    __m256i od = srdhm_even(_mm256_srli_epi64(sl, 32), c->vm_odd);
    __m256i hm = _mm256_blend_epi32(ev, _mm256_slli_epi64(od, 32), 0xaa);
    __m256i both_min = _mm256_and_si256(c->m_min, _mm256_cmpeq_epi32(sl, imin));
    hm = _mm256_blendv_epi8(hm, imax, both_min);
    /* RoundingDivideByPOT */
    __m256i rem = _mm256_and_si256(hm, c->mask);
    __m256i thr = _mm256_sub_epi32(c->half, _mm256_srai_epi32(hm, 31)); /* + 1 when negative */
    __m256i q = _mm256_sub_epi32(_mm256_srav_epi32(hm, c->right), _mm256_cmpgt_epi32(rem, thr));
    return _mm256_min_epi32(_mm256_max_epi32(q, c->vlo), c->vhi);
}

/* rq_apply for a call that needs no saturation: a + bias fits in int32 (the caller's bound), the
 * shift is <= 0 (c->left = 0) and the multiplier is not INT32_MIN. vb, vm: the lanes' biases and
 * multipliers, vm_odd = vm's odd lanes in the even ones (_mm256_srli_epi64(vm, 32); vm itself when it is
 * broadcast); right = -shift, mask = 2^right - 1, half = mask >> 1. */
static inline __m256i rq_apply_nosat(__m256i a, __m256i vb, __m256i vm, __m256i vm_odd, __m256i right, __m256i mask,
                                     __m256i half, __m256i vlo, __m256i vhi)
{
    __m256i sum = _mm256_add_epi32(a, vb);
    __m256i ev = srdhm_even(sum, vm);
    __m256i od = srdhm_even(_mm256_srli_epi64(sum, 32), vm_odd);
    __m256i hm = _mm256_blend_epi32(ev, _mm256_slli_epi64(od, 32), 0xaa);
    __m256i rem = _mm256_and_si256(hm, mask);
    __m256i thr = _mm256_sub_epi32(half, _mm256_srai_epi32(hm, 31));
    __m256i q = _mm256_sub_epi32(_mm256_srav_epi32(hm, right), _mm256_cmpgt_epi32(rem, thr));
    return _mm256_min_epi32(_mm256_max_epi32(q, vlo), vhi);
}

/* The requantization constants of dst's 8 channels c0 .. c0 + 7 */
static inline rq_consts rq_make_dst8(const qnn_conv_dst *dst, size_t c0)
{
    return rq_make(dst->bias ? _mm256_loadu_si256((const __m256i *)(const void *)(dst->bias + c0)) : _mm256_setzero_si256(),
                   _mm256_loadu_si256((const __m256i *)(const void *)(dst->mult + c0)),
                   _mm256_loadu_si256((const __m256i *)(const void *)(dst->shift + c0)), dst->lo, dst->hi);
}

/* rq_apply_nosat with c's per-lane constants (c from a call that needs no saturation: left = 0) */
static inline __m256i rq_apply_nosat_c(__m256i a, const rq_consts *c)
{
    return rq_apply_nosat(a, c->vb, c->vm, c->vm_odd, c->right, c->mask, c->half, c->vlo, c->vhi);
}

/* 8 int32 in -128..127 -> 8 int8 stored at out */
static inline void store8(__m256i q, int8_t *out)
{
    __m256i w16 = _mm256_packs_epi32(q, q);
    __m256i b8 = _mm256_packs_epi16(w16, w16);
    int32_t l0 = _mm_cvtsi128_si32(_mm256_castsi256_si128(b8)), h0 = _mm_cvtsi128_si32(_mm256_extracti128_si256(b8, 1));
    memcpy(out, &l0, 4);
    memcpy(out + 4, &h0, 4);
}

void kern_requant_rows8_avx2(const int32_t *x, size_t xs, size_t n_pix, const qnn_conv_dst *dst, int32_t c0,
                             int8_t *out, size_t os)
{
    rq_consts c = rq_make_dst8(dst, (size_t)c0);
    for (size_t p = 0; p < n_pix; p++)
        store8(rq_apply(_mm256_loadu_si256((const __m256i *)(const void *)(x + p * xs)), &c), out + p * os);
}

void kern_requant_rows8_nosat_avx2(const int32_t *x, size_t xs, size_t n_pix, const qnn_conv_dst *dst, int32_t c0,
                                   int8_t *out, size_t os)
{
    rq_consts c = rq_make_dst8(dst, (size_t)c0);
    for (size_t p = 0; p < n_pix; p++)
        store8(rq_apply_nosat_c(_mm256_loadu_si256((const __m256i *)(const void *)(x + p * xs)), &c), out + p * os);
}

/* The items of one input channel when the block's KERN_COB kernels read one activation vector:
 * two loads per item, rounded once when `round` (a constant at each call, so each call site compiles
 * to its own loop), shared by KERN_COB broadcast weights. */
static inline __attribute__((always_inline)) void sep_items_shared(const int16_t *xb, const int32_t *item_off,
                                                                   int32_t n, const int32_t *wp,
                                                                   __m256i acc[KERN_COB][2], int round,
                                                                   __m256i rc, __m256i rm)
{
    for (int32_t i = 0; i < n; i++, wp += KERN_COB) {
        const int16_t *xp = xb + item_off[i];
        __m256i e = _mm256_loadu_si256((const __m256i *)(const void *)xp);
        __m256i o = _mm256_loadu_si256((const __m256i *)(const void *)(xp + 1));
        if (round) {
            e = _mm256_and_si256(_mm256_add_epi16(e, rc), rm);
            o = _mm256_and_si256(_mm256_add_epi16(o, rc), rm);
        }
#pragma GCC unroll 8
        for (int j = 0; j < KERN_COB; j++) {
            __m256i wv = _mm256_set1_epi32(wp[j]);
            acc[j][0] = _mm256_add_epi32(acc[j][0], _mm256_madd_epi16(e, wv));
            acc[j][1] = _mm256_add_epi32(acc[j][1], _mm256_madd_epi16(o, wv));
        }
    }
}

void kern_sep_tile_avx2(const kern_sep *k, const int16_t *x, int32_t cb, int32_t q0, int32_t img)
{
    __m256i acc[KERN_COB][2];
#pragma GCC unroll 8
    for (int j = 0; j < KERN_COB; j++) acc[j][0] = acc[j][1] = _mm256_setzero_si256();
    const int32_t cin = k->s->cin, n = k->n_items;
    const int32_t *item_off = k->item_off;
    for (int32_t ci = 0; ci < cin; ci++) {
        size_t blk = (size_t)cb * cin + ci;
        const int32_t *wp = k->wpk + blk * n * KERN_COB;
        const size_t *bo = k->boff + blk * KERN_COB;
        const int rmode = k->fly ? k->rmode[blk] : 0;
        if (rmode == 2) {
            /* rounding on the fly, kernels of the block round differently: one load, KERN_COB roundings */
            const int16_t *xb = x + bo[0] + q0;
            const uint32_t *rp = k->rnd + blk * KERN_COB * 2;
            __m256i rc[KERN_COB], rm[KERN_COB];
#pragma GCC unroll 8
            for (int j = 0; j < KERN_COB; j++) {
                rc[j] = _mm256_set1_epi32((int32_t)rp[2 * j]);
                rm[j] = _mm256_set1_epi32((int32_t)rp[2 * j + 1]);
            }
            for (int32_t i = 0; i < n; i++, wp += KERN_COB) {
                const int16_t *xp = xb + item_off[i];
                __m256i e = _mm256_loadu_si256((const __m256i *)(const void *)xp);
                __m256i o = _mm256_loadu_si256((const __m256i *)(const void *)(xp + 1));
#pragma GCC unroll 8
                for (int j = 0; j < KERN_COB; j++) {
                    __m256i wv = _mm256_set1_epi32(wp[j]);
                    __m256i ej = _mm256_and_si256(_mm256_add_epi16(e, rc[j]), rm[j]);
                    __m256i oj = _mm256_and_si256(_mm256_add_epi16(o, rc[j]), rm[j]);
                    acc[j][0] = _mm256_add_epi32(acc[j][0], _mm256_madd_epi16(ej, wv));
                    acc[j][1] = _mm256_add_epi32(acc[j][1], _mm256_madd_epi16(oj, wv));
                }
            }
        } else if (rmode == 1) {
            /* rounding on the fly, one rounding for the whole block */
            sep_items_shared(x + bo[0] + q0, item_off, n, wp, acc, 1,
                             _mm256_set1_epi32((int32_t)k->rnd[blk * KERN_COB * 2]),
                             _mm256_set1_epi32((int32_t)k->rnd[blk * KERN_COB * 2 + 1]));
        } else if (k->shared[blk]) {
            sep_items_shared(x + bo[0] + q0, item_off, n, wp, acc, 0, _mm256_setzero_si256(), _mm256_setzero_si256());
        } else {
            const int16_t *xb[KERN_COB];
#pragma GCC unroll 8
            for (int j = 0; j < KERN_COB; j++) xb[j] = x + bo[j] + q0;
            for (int32_t i = 0; i < n; i++, wp += KERN_COB) {
                int32_t off = item_off[i];
#pragma GCC unroll 8
                for (int j = 0; j < KERN_COB; j++) {
                    const int16_t *xp = xb[j] + off;
                    __m256i wv = _mm256_set1_epi32(wp[j]);
                    __m256i e = _mm256_loadu_si256((const __m256i *)(const void *)xp);
                    __m256i o = _mm256_loadu_si256((const __m256i *)(const void *)(xp + 1));
                    acc[j][0] = _mm256_add_epi32(acc[j][0], _mm256_madd_epi16(e, wv));
                    acc[j][1] = _mm256_add_epi32(acc[j][1], _mm256_madd_epi16(o, wv));
                }
            }
        }
    }
    const int32_t cout = k->s->cout, co0 = cb * KERN_COB;
    const int32_t *outpix = k->g.outpix + q0;
    const qnn_conv_dst *dst = k->dst;
    const size_t img_base = (size_t)img * k->s->ho * k->s->wo * cout + (size_t)co0;
    if (cout - co0 >= KERN_COB && !dst->acc) {
        /* fused requantization: channel j's 16 sums (even/odd vectors) with its constants broadcast,
         * then packed to bytes and transposed so that each 32-bit lane holds the 4 channels of one
         * position: one 4-byte store per valid position, no int32 tensor */
        __m256i r[KERN_COB][2];
#pragma GCC unroll 4
        for (int j = 0; j < KERN_COB; j++) {
            int32_t c = co0 + j;
            rq_consts rc = rq_make(_mm256_set1_epi32(dst->bias ? dst->bias[c] : 0), _mm256_set1_epi32(dst->mult[c]),
                                   _mm256_set1_epi32(dst->shift[c]), dst->lo, dst->hi);
            r[j][0] = rq_apply(acc[j][0], &rc);
            r[j][1] = rq_apply(acc[j][1], &rc);
        }
        /* per 128-bit half: bytes [c0: l0..3, c1: l0..3, c2: l0..3, c3: l0..3] -> [l0: c0..3, l1: .., l3] */
        const __m256i tr = _mm256_setr_epi8(0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15, 0, 4, 8, 12, 1, 5, 9,
                                            13, 2, 6, 10, 14, 3, 7, 11, 15);
        int8_t *out = dst->out + img_base;
        for (int h = 0; h < 2; h++) {
            __m256i b = _mm256_packs_epi16(_mm256_packs_epi32(r[0][h], r[1][h]), _mm256_packs_epi32(r[2][h], r[3][h]));
            /* packs interleave: [c0 l0-3, c1 l0-3 | ...] then [c0 c1 | c2 c3] -> c0,c1,c2,c3 per half */
            b = _mm256_shuffle_epi8(b, tr);
            _Alignas(32) uint32_t w[8];
            _mm256_store_si256((__m256i *)(void *)w, b);
            for (int i = 0; i < 4; i++) {
                int32_t plo = outpix[2 * i + h], phi = outpix[2 * i + h + 8];
                if (plo >= 0) memcpy(out + (size_t)plo * cout, &w[i], 4);
                if (phi >= 0) memcpy(out + (size_t)phi * cout, &w[4 + i], 4);
            }
        }
        return;
    }
    if (cout - co0 >= KERN_COB) {
        _Static_assert(KERN_COB == 4 && KERN_TQ == 16, "the AVX2 store transposes 4 channels x 16 positions");
        /* 4 x 8 transposes: r[i] holds the 4 channels of position 2i (low half) and 2i + 8 (high half)
         * for the even vector, 2i + 1 and 2i + 9 for the odd one */
        int32_t *base = dst->acc + img_base;
        for (int h = 0; h < 2; h++) {
            __m256i a = _mm256_unpacklo_epi32(acc[0][h], acc[1][h]), b = _mm256_unpacklo_epi32(acc[2][h], acc[3][h]);
            __m256i c = _mm256_unpackhi_epi32(acc[0][h], acc[1][h]), d = _mm256_unpackhi_epi32(acc[2][h], acc[3][h]);
            __m256i r[4] = {_mm256_unpacklo_epi64(a, b), _mm256_unpackhi_epi64(a, b), _mm256_unpacklo_epi64(c, d),
                            _mm256_unpackhi_epi64(c, d)};
            for (int i = 0; i < 4; i++) {
                int32_t plo = outpix[2 * i + h], phi = outpix[2 * i + h + 8];
                if (plo >= 0)
                    _mm_storeu_si128((__m128i *)(void *)(base + (size_t)plo * cout), _mm256_castsi256_si128(r[i]));
                if (phi >= 0)
                    _mm_storeu_si128((__m128i *)(void *)(base + (size_t)phi * cout), _mm256_extracti128_si256(r[i], 1));
            }
        }
        return;
    }
    /* last, partial channel block: interleave even and odd lanes, then the scalar store */
    _Alignas(32) int32_t out[KERN_COB * KERN_TQ];
    for (int j = 0; j < KERN_COB; j++) {
        __m256i lo = _mm256_unpacklo_epi32(acc[j][0], acc[j][1]);
        __m256i hi = _mm256_unpackhi_epi32(acc[j][0], acc[j][1]);
        _mm256_store_si256((__m256i *)(void *)(out + j * KERN_TQ), _mm256_permute2x128_si256(lo, hi, 0x20));
        _mm256_store_si256((__m256i *)(void *)(out + j * KERN_TQ + 8), _mm256_permute2x128_si256(lo, hi, 0x31));
    }
    kern_tile_scatter(k, out, KERN_TQ, cb, q0, img);
}

/* The u8 tiles' store: requantized int8 (4 bytes per pixel, 8 consecutive pixels per vector) or,
 * for accumulators and a last partial channel block, the scalar store. */
static inline __attribute__((always_inline)) void u8_store(const qnn_conv_u8 *k, __m256i acc[KERN_COB][2],
                                                           const qnn_conv_dst *dst, int32_t cb, int32_t v0, int32_t v1,
                                                           int32_t img, int rq_fast)
{
    const qnn_conv_shape *s = &k->s;
    const int32_t cout = s->cout, co0 = cb * KERN_COB;
    if (cout - co0 >= KERN_COB && !dst->acc) {
        __m256i r[KERN_COB][2];
        if (rq_fast) {
            const __m256i vlo = _mm256_set1_epi32(dst->lo), vhi = _mm256_set1_epi32(dst->hi);
#pragma GCC unroll 4
            for (int j = 0; j < KERN_COB; j++) {
                int32_t c = co0 + j, right = -dst->shift[c], mask = (int32_t)((1u << right) - 1u);
                __m256i vb = _mm256_set1_epi32(dst->bias ? dst->bias[c] : 0), vm = _mm256_set1_epi32(dst->mult[c]);
                __m256i vr = _mm256_set1_epi32(right), vmask = _mm256_set1_epi32(mask), vhalf = _mm256_set1_epi32(mask >> 1);
                r[j][0] = rq_apply_nosat(acc[j][0], vb, vm, vm, vr, vmask, vhalf, vlo, vhi);
                r[j][1] = rq_apply_nosat(acc[j][1], vb, vm, vm, vr, vmask, vhalf, vlo, vhi);
            }
        } else
#pragma GCC unroll 4
            for (int j = 0; j < KERN_COB; j++) {
                int32_t c = co0 + j;
                rq_consts rc = rq_make(_mm256_set1_epi32(dst->bias ? dst->bias[c] : 0), _mm256_set1_epi32(dst->mult[c]),
                                       _mm256_set1_epi32(dst->shift[c]), dst->lo, dst->hi);
                r[j][0] = rq_apply(acc[j][0], &rc);
                r[j][1] = rq_apply(acc[j][1], &rc);
            }
        /* per 128-bit half: [c0 l0-3, c1 l0-3, c2 l0-3, c3 l0-3] -> [l0: c0-3, l1, l2, l3] (l4-7 above) */
        const __m256i tr = _mm256_setr_epi8(0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15, 0, 4, 8, 12, 1, 5, 9,
                                            13, 2, 6, 10, 14, 3, 7, 11, 15);
        const size_t base = (size_t)img * s->ho * s->wo * cout + (size_t)co0;
        for (int h = 0; h < 2; h++) {
            int32_t v = h ? v1 : v0;
            if (h && v1 == v0) break;
            __m256i b = _mm256_packs_epi16(_mm256_packs_epi32(r[0][h], r[1][h]), _mm256_packs_epi32(r[2][h], r[3][h]));
            b = _mm256_shuffle_epi8(b, tr);
            int8_t *out = dst->out + base + (size_t)k->vpix[v] * cout;
            if (k->vlen[v] == KERN_U8V) {
                /* 8 consecutive pixels, 4 bytes each at stride cout */
                __m128i lo = _mm256_castsi256_si128(b), hi = _mm256_extracti128_si256(b, 1);
                for (int l = 0; l < 4; l++) {
                    int32_t wl = _mm_extract_epi32(lo, 0), wh = _mm_extract_epi32(hi, 0);
                    memcpy(out + (size_t)l * cout, &wl, 4);
                    memcpy(out + (size_t)(l + 4) * cout, &wh, 4);
                    lo = _mm_srli_si128(lo, 4);
                    hi = _mm_srli_si128(hi, 4);
                }
            } else {
                _Alignas(32) uint32_t wd[8];
                _mm256_store_si256((__m256i *)(void *)wd, b);
                for (int l = 0; l < k->vlen[v]; l++) memcpy(out + (size_t)l * cout, &wd[l], 4);
            }
        }
        return;
    }
    /* accumulators, or the last partial channel block: the scalar store */
    _Alignas(32) int32_t sums[2][KERN_COB][KERN_U8V];
    for (int h = 0; h < 2; h++)
        for (int j = 0; j < KERN_COB; j++) _mm256_store_si256((__m256i *)(void *)sums[h][j], acc[j][h]);
    kern_u8_scatter(k, (const int32_t(*)[KERN_COB][KERN_U8V])sums, dst, cb, v0, v1, img);
}

/* acc + the sum of the 4 products (unsigned byte of u) x (signed byte of w) of each 32-bit lane.
 * vnni 0: vpmaddubsw (int16 pair sums, exact by the layer's proof) and vpmaddwd by ones; vnni 1: one
 * AVX-VNNI vpdpbusd, whose products and sums are exact int32 (no int16 step), so it equals the first
 * wherever the proof holds. vpdpbusd is emitted as inline assembly so that this file needs no AVX-VNNI
 * target (the tiles that use it are only called after qnn_kern_have_vnni). */
static inline __attribute__((always_inline)) __m256i u8_dot(__m256i acc, __m256i u, __m256i w, __m256i ones,
                                                            const int vnni)
{
    if (vnni) {
        __asm__("%{vex%} vpdpbusd %2, %1, %0" : "+x"(acc) : "x"(u), "x"(w));
        return acc;
    }
    return _mm256_add_epi32(acc, _mm256_madd_epi16(_mm256_maddubs_epi16(u, w), ones));
}

/* u8 tile (see qnn_kern.h): per quad and tap, two 8-pixel activation loads (4 input channels per
 * 32-bit lane) and KERN_COB broadcast 4-byte weights; u8_dot adds the int32 sums of the 4 products to
 * the accumulators, which start at the offset correction. The store requantizes and transposes as the
 * separable tile, 8 consecutive pixels per vector. */
static inline __attribute__((always_inline)) void u8_tile(const qnn_conv_u8 *k, const uint32_t *x,
                                                          const qnn_conv_dst *dst, int32_t cb, int32_t v0, int32_t v1,
                                                          int32_t img, int rq_fast, const int vnni)
{
    _Static_assert(KERN_COB == 4 && KERN_U8V == 8, "the u8 tile is 4 channels x 2 vectors of 8 pixels");
    const __m256i ones = _mm256_set1_epi16(1);
    __m256i acc[KERN_COB][2];
#pragma GCC unroll 4
    for (int j = 0; j < KERN_COB; j++) acc[j][0] = acc[j][1] = _mm256_set1_epi32(k->corr[cb * KERN_COB + j]);
    const int32_t taps = k->n_taps, ncq = k->ncq;
    const int32_t *tap_off = k->tap_off;
    const uint32_t *x0 = x + k->vq[v0], *x1 = x + k->vq[v1];
    const int32_t *wp = k->wpk + (size_t)cb * ncq * taps * KERN_COB;
    for (int32_t q = 0; q < ncq; q++) {
        const size_t qo = (size_t)q * k->g.chan_len;
        for (int32_t t = 0; t < taps; t++, wp += KERN_COB) {
            __m256i e = _mm256_loadu_si256((const __m256i *)(const void *)(x0 + qo + tap_off[t]));
            __m256i o = _mm256_loadu_si256((const __m256i *)(const void *)(x1 + qo + tap_off[t]));
#pragma GCC unroll 4
            for (int j = 0; j < KERN_COB; j++) {
                __m256i wv = _mm256_set1_epi32(wp[j]);
                acc[j][0] = u8_dot(acc[j][0], e, wv, ones, vnni);
                acc[j][1] = u8_dot(acc[j][1], o, wv, ones, vnni);
            }
        }
    }
    u8_store(k, acc, dst, cb, v0, v1, img, rq_fast);
}

void kern_u8_tile_avx2(const qnn_conv_u8 *k, const kern_u8_sep *sp, const uint32_t *x, const qnn_conv_dst *dst,
                       int32_t cb, int32_t v0, int32_t v1, int32_t img, int rq_fast)
{
    (void)sp;
    u8_tile(k, x, dst, cb, v0, v1, img, rq_fast, 0);
}

void kern_u8_tile_vnni(const qnn_conv_u8 *k, const kern_u8_sep *sp, const uint32_t *x, const qnn_conv_dst *dst,
                       int32_t cb, int32_t v0, int32_t v1, int32_t img, int rq_fast)
{
    (void)sp;
    u8_tile(k, x, dst, cb, v0, v1, img, rq_fast, 1);
}

/* The separable u8 tile: the exact tile's loop with the call's packed weights, each kernel's
 * activation bytes rounded on the fly ((x + c) & mask per byte: x <= 127 and c <= 127, so the byte sum
 * does not wrap), once per load when the block's 4 channels round alike; then the fixes of the
 * block's weights 128 (run as 127): their rounded activation byte added once more. */
static inline __attribute__((always_inline)) void u8_sep_tile(const qnn_conv_u8 *k, const kern_u8_sep *sp,
                                                              const uint32_t *x, const qnn_conv_dst *dst, int32_t cb,
                                                              int32_t v0, int32_t v1, int32_t img, int rq_fast,
                                                              const int vnni)
{
    const __m256i ones = _mm256_set1_epi16(1);
    __m256i acc[KERN_COB][2];
#pragma GCC unroll 4
    for (int j = 0; j < KERN_COB; j++) acc[j][0] = acc[j][1] = _mm256_setzero_si256();
    const int32_t taps = k->n_taps, ncq = k->ncq;
    const int32_t *tap_off = k->tap_off;
    const uint32_t *x0 = x + k->vq[v0], *x1 = x + k->vq[v1];
    const int32_t *wp = sp->wpk + (size_t)cb * ncq * taps * KERN_COB;
    for (int32_t q = 0; q < ncq; q++) {
        const size_t qo = (size_t)q * k->g.chan_len, bq = (size_t)cb * ncq + q;
        const uint32_t *rp = sp->rnd + bq * KERN_COB * 2;
        const int mode = sp->rmode[bq];
        if (mode == 2) {
            for (int32_t t = 0; t < taps; t++, wp += KERN_COB) {
                __m256i e = _mm256_loadu_si256((const __m256i *)(const void *)(x0 + qo + tap_off[t]));
                __m256i o = _mm256_loadu_si256((const __m256i *)(const void *)(x1 + qo + tap_off[t]));
#pragma GCC unroll 4
                for (int j = 0; j < KERN_COB; j++) {
                    __m256i wv = _mm256_set1_epi32(wp[j]);
                    __m256i rc = _mm256_set1_epi32((int32_t)rp[2 * j]), rm = _mm256_set1_epi32((int32_t)rp[2 * j + 1]);
                    __m256i ej = _mm256_and_si256(_mm256_add_epi8(e, rc), rm);
                    __m256i oj = _mm256_and_si256(_mm256_add_epi8(o, rc), rm);
                    acc[j][0] = u8_dot(acc[j][0], ej, wv, ones, vnni);
                    acc[j][1] = u8_dot(acc[j][1], oj, wv, ones, vnni);
                }
            }
        } else {
            const __m256i rc = _mm256_set1_epi32((int32_t)rp[0]), rm = _mm256_set1_epi32((int32_t)rp[1]);
            for (int32_t t = 0; t < taps; t++, wp += KERN_COB) {
                __m256i e = _mm256_loadu_si256((const __m256i *)(const void *)(x0 + qo + tap_off[t]));
                __m256i o = _mm256_loadu_si256((const __m256i *)(const void *)(x1 + qo + tap_off[t]));
                if (mode == 1) {
                    e = _mm256_and_si256(_mm256_add_epi8(e, rc), rm);
                    o = _mm256_and_si256(_mm256_add_epi8(o, rc), rm);
                }
#pragma GCC unroll 4
                for (int j = 0; j < KERN_COB; j++) {
                    __m256i wv = _mm256_set1_epi32(wp[j]);
                    acc[j][0] = u8_dot(acc[j][0], e, wv, ones, vnni);
                    acc[j][1] = u8_dot(acc[j][1], o, wv, ones, vnni);
                }
            }
        }
    }
    const __m256i byte = _mm256_set1_epi32(0xff);
    for (int32_t f = sp->fix_start[cb]; f < sp->fix_start[cb + 1]; f++) {
        const kern_u8_fix *fx = &sp->fix[f];
        const uint32_t *rp = sp->rnd + ((size_t)cb * ncq + fx->q) * KERN_COB * 2 + 2 * fx->j;
        const __m256i rc = _mm256_set1_epi32((int32_t)rp[0]), rm = _mm256_set1_epi32((int32_t)rp[1]);
        const __m128i sh = _mm_cvtsi32_si128(8 * fx->b);
        __m256i e = _mm256_loadu_si256((const __m256i *)(const void *)(x0 + fx->off));
        __m256i o = _mm256_loadu_si256((const __m256i *)(const void *)(x1 + fx->off));
        e = _mm256_and_si256(_mm256_srl_epi32(_mm256_and_si256(_mm256_add_epi8(e, rc), rm), sh), byte);
        o = _mm256_and_si256(_mm256_srl_epi32(_mm256_and_si256(_mm256_add_epi8(o, rc), rm), sh), byte);
        /* acc is indexed by a run-time j here: through memory */
        _Alignas(32) int32_t tmp[2][8];
        _mm256_store_si256((__m256i *)(void *)tmp[0], e);
        _mm256_store_si256((__m256i *)(void *)tmp[1], o);
        for (int j = 0; j < KERN_COB; j++)
            if (j == fx->j) {
                acc[j][0] = _mm256_add_epi32(acc[j][0], _mm256_load_si256((const __m256i *)(const void *)tmp[0]));
                acc[j][1] = _mm256_add_epi32(acc[j][1], _mm256_load_si256((const __m256i *)(const void *)tmp[1]));
            }
    }
    u8_store(k, acc, dst, cb, v0, v1, img, rq_fast);
}

/* An input word (4 channels) broadcast to the 8 channel lanes and rounded with each lane's own per-byte
 * roundings ((x + c) & mask per byte; no byte wraps, as in the 4-channel tiles) */
static inline __m256i co8_round(uint32_t w, __m256i rc, __m256i rm)
{
    return _mm256_and_si256(_mm256_add_epi8(_mm256_set1_epi32((int32_t)w), rc), rm);
}

/* One input row of the channel-lane tile: 10 input pixels, each broadcast and rounded once, times the
 * row's 3 tap weights into the output pixels that read it. */
static inline __attribute__((always_inline)) void co8_row(__m256i acc[8], const uint32_t *xr, __m256i rc, __m256i rm,
                                                          const int32_t *wq, const int vnni)
{
    const __m256i ones = _mm256_set1_epi16(1);
    const __m256i w0 = _mm256_loadu_si256((const __m256i *)(const void *)wq);
    const __m256i w1 = _mm256_loadu_si256((const __m256i *)(const void *)(wq + 8));
    const __m256i w2 = _mm256_loadu_si256((const __m256i *)(const void *)(wq + 16));
#pragma GCC unroll 10
    for (int i = 0; i < 10; i++) {
        __m256i r = co8_round(xr[i], rc, rm);
        if (i < 8) acc[i] = u8_dot(acc[i], r, w0, ones, vnni);
        if (i >= 1 && i <= 8) acc[i - 1] = u8_dot(acc[i - 1], r, w1, ones, vnni);
        if (i >= 2) acc[i - 2] = u8_dot(acc[i - 2], r, w2, ones, vnni);
    }
}

/* co8_row for stride 2: the row's even input pixels (phase column 0, base x0) feed taps kx = 0 and 2,
 * its odd ones (phase column 1, base x1) tap kx = 1; 17 roundings for 24 products. */
static inline __attribute__((always_inline)) void co8_row_s2(__m256i acc[8], const uint32_t *x0, const uint32_t *x1,
                                                             __m256i rc, __m256i rm, const int32_t *wq, const int vnni)
{
    const __m256i ones = _mm256_set1_epi16(1);
    const __m256i w0 = _mm256_loadu_si256((const __m256i *)(const void *)wq);
    const __m256i w1 = _mm256_loadu_si256((const __m256i *)(const void *)(wq + 8));
    const __m256i w2 = _mm256_loadu_si256((const __m256i *)(const void *)(wq + 16));
#pragma GCC unroll 9
    for (int i = 0; i < 9; i++) {
        __m256i r = co8_round(x0[i], rc, rm);
        if (i < 8) acc[i] = u8_dot(acc[i], r, w0, ones, vnni);
        if (i >= 1) acc[i - 1] = u8_dot(acc[i - 1], r, w2, ones, vnni);
    }
#pragma GCC unroll 8
    for (int i = 0; i < 8; i++) {
        __m256i r = co8_round(x1[i], rc, rm);
        acc[i] = u8_dot(acc[i], r, w1, ones, vnni);
    }
}

/* The fix of one tap: the 8 output pixels' input pixels (from xt), rounded, times the tap's fix
 * weights wf (1 in the byte of each weight 128, which runs as 127 in the tap's weights). */
static inline __attribute__((always_inline)) void co8_fix_tap(__m256i acc[8], const uint32_t *xt, __m256i rc,
                                                              __m256i rm, const int32_t *wf, const int vnni)
{
    const __m256i ones = _mm256_set1_epi16(1);
    const __m256i f = _mm256_loadu_si256((const __m256i *)(const void *)wf);
#pragma GCC unroll 8
    for (int i = 0; i < 8; i++) {
        __m256i r = co8_round(xt[i], rc, rm);
        acc[i] = u8_dot(acc[i], r, f, ones, vnni);
    }
}

static inline __attribute__((always_inline)) void u8_co8_tile(const qnn_conv_u8 *k, const kern_u8_sep *sp,
                                                              const uint32_t *x, const qnn_conv_dst *dst, int32_t b8,
                                                              int32_t oy, int32_t ox0, int32_t img, int rq_fast,
                                                              const int vnni)
{
    __m256i acc[8];
#pragma GCC unroll 8
    for (int p = 0; p < 8; p++) acc[p] = _mm256_setzero_si256();
    const int32_t ncq = k->ncq, taps = k->n_taps, kh = k->s.kh, cx = k->g.cx;
    const size_t w0 = (size_t)b8 * ncq * taps * 8;
    const int32_t *wq = sp->w8 + w0, *wf = sp->w8fix + w0;
    const uint8_t *fr = sp->fixrow8 + (size_t)b8 * ncq * kh;
    const uint32_t *rq = sp->rnd8 + (size_t)b8 * ncq * 16;
    const int32_t pos = oy * cx + ox0;
    for (int32_t q = 0; q < ncq; q++, rq += 16) {
        const __m256i rc = _mm256_loadu_si256((const __m256i *)(const void *)rq);
        const __m256i rm = _mm256_loadu_si256((const __m256i *)(const void *)(rq + 8));
        const uint32_t *xq = x + (size_t)q * k->g.chan_len + pos;
        if (k->g.sh == 1)
            for (int32_t ky = 0; ky < kh; ky++, wq += 3 * 8) co8_row(acc, xq + (size_t)ky * cx, rc, rm, wq, vnni);
        else {
            /* stride 2: input row ky lies in phase row ky % 2, ky / 2 rows down */
            const size_t pl = k->g.phase_len;
            for (int32_t ky = 0; ky < kh; ky++, wq += 3 * 8) {
                const uint32_t *x0 = xq + (size_t)(ky % 2) * 2 * pl + (size_t)(ky / 2) * cx;
                co8_row_s2(acc, x0, x0 + pl, rc, rm, wq, vnni);
            }
        }
        /* the taps of this quad with weights 128 */
        for (int32_t ky = 0; ky < kh; ky++, wf += 3 * 8, fr++)
            for (int32_t kx = 0; kx < 3; kx++)
                if (*fr & (1 << kx)) co8_fix_tap(acc, xq + k->tap_off[ky * 3 + kx], rc, rm, wf + kx * 8, vnni);
    }
    const qnn_conv_shape *s = &k->s;
    const size_t pix = (size_t)img * s->ho * s->wo + (size_t)oy * s->wo + ox0, co0 = (size_t)b8 * 8;
    if (dst->acc) {
#pragma GCC unroll 8
        for (int p = 0; p < 8; p++)
            _mm256_storeu_si256((__m256i *)(void *)(dst->acc + (pix + p) * s->cout + co0), acc[p]);
        return;
    }
    __m256i r[8];
    const rq_consts c = rq_make_dst8(dst, co0);
    if (rq_fast) {
#pragma GCC unroll 8
        for (int p = 0; p < 8; p++) r[p] = rq_apply_nosat_c(acc[p], &c);
    } else {
#pragma GCC unroll 8
        for (int p = 0; p < 8; p++) r[p] = rq_apply(acc[p], &c);
    }
    /* 4 pixels at a time: packs give [p0 c0-3, p1 c0-3, p2 c0-3, p3 c0-3 | the same for c4-7]; the
     * permutation puts each pixel's 8 bytes together */
    const __m256i perm = _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7);
    int8_t *out = dst->out + pix * s->cout + co0;
    for (int p = 0; p < 8; p += 4) {
        __m256i b = _mm256_packs_epi16(_mm256_packs_epi32(r[p], r[p + 1]), _mm256_packs_epi32(r[p + 2], r[p + 3]));
        b = _mm256_permutevar8x32_epi32(b, perm);
        __m128i lo = _mm256_castsi256_si128(b), hi = _mm256_extracti128_si256(b, 1);
        _mm_storel_epi64((__m128i *)(void *)(out + (size_t)p * s->cout), lo);
        _mm_storeh_pd((double *)(void *)(out + (size_t)(p + 1) * s->cout), _mm_castsi128_pd(lo));
        _mm_storel_epi64((__m128i *)(void *)(out + (size_t)(p + 2) * s->cout), hi);
        _mm_storeh_pd((double *)(void *)(out + (size_t)(p + 3) * s->cout), _mm_castsi128_pd(hi));
    }
}

void kern_u8_co8_tile_avx2(const qnn_conv_u8 *k, const kern_u8_sep *sp, const uint32_t *x, const qnn_conv_dst *dst,
                           int32_t b8, int32_t oy, int32_t ox0, int32_t img, int rq_fast)
{
    u8_co8_tile(k, sp, x, dst, b8, oy, ox0, img, rq_fast, 0);
}

void kern_u8_co8_tile_vnni(const qnn_conv_u8 *k, const kern_u8_sep *sp, const uint32_t *x, const qnn_conv_dst *dst,
                           int32_t b8, int32_t oy, int32_t ox0, int32_t img, int rq_fast)
{
    u8_co8_tile(k, sp, x, dst, b8, oy, ox0, img, rq_fast, 1);
}

void kern_u8_sep_tile_avx2(const qnn_conv_u8 *k, const kern_u8_sep *sp, const uint32_t *x, const qnn_conv_dst *dst,
                           int32_t cb, int32_t v0, int32_t v1, int32_t img, int rq_fast)
{
    u8_sep_tile(k, sp, x, dst, cb, v0, v1, img, rq_fast, 0);
}

void kern_u8_sep_tile_vnni(const qnn_conv_u8 *k, const kern_u8_sep *sp, const uint32_t *x, const qnn_conv_dst *dst,
                           int32_t cb, int32_t v0, int32_t v1, int32_t img, int rq_fast)
{
    u8_sep_tile(k, sp, x, dst, cb, v0, v1, img, rq_fast, 1);
}

void kern_minmax_s8_avx2(const int8_t *x, size_t n, int32_t *mn, int32_t *mx)
{
    __m256i lo = _mm256_set1_epi8(127), hi = _mm256_set1_epi8(-128);
    size_t i = 0;
    for (; i + 32 <= n; i += 32) {
        __m256i v = _mm256_loadu_si256((const __m256i *)(const void *)(x + i));
        lo = _mm256_min_epi8(lo, v);
        hi = _mm256_max_epi8(hi, v);
    }
    _Alignas(32) int8_t l[32], h[32];
    _mm256_store_si256((__m256i *)(void *)l, lo);
    _mm256_store_si256((__m256i *)(void *)h, hi);
    int32_t a = 127, b = -128;
    for (int j = 0; j < 32; j++) {
        a = l[j] < a ? l[j] : a;
        b = h[j] > b ? h[j] : b;
    }
    for (; i < n; i++) {
        a = x[i] < a ? x[i] : a;
        b = x[i] > b ? x[i] : b;
    }
    *mn = a;
    *mx = b;
}

void kern_lut_prep_avx2(const kern_lut *k, const int8_t *src, uint8_t *x)
{
    const qnn_conv_shape *s = k->s;
    const size_t cl = k->g.chan_len, cin = (size_t)s->cin, c8 = cin / 8 * 8;
    const int32_t sw = s->stride_w;
    const uint8_t bias = (uint8_t)(-k->lo); /* a - lo = a + (-lo) modulo 256 */
    const __m128i vb = _mm_set1_epi8((char)bias);
    for (int32_t iy = 0; iy < s->h; iy++)
        for (int32_t ix0 = 0; ix0 < sw && ix0 < s->w; ix0++) {
            /* the pixels ix0, ix0 + sw, ... of the row share a phase: consecutive offsets in it */
            int32_t ix = ix0;
            for (; ix + 7 * sw < s->w; ix += 8 * sw) {
                const int32_t *io = k->g.inoff + (size_t)iy * s->w;
                int32_t off = io[ix];
                if (off < 0 || io[ix + 7 * sw] != off + 7) break;
                const int8_t *a = src + ((size_t)iy * s->w + (size_t)ix) * cin;
                const size_t ps = (size_t)sw * cin;
                for (size_t c = 0; c < c8; c += 8) {
                    /* 8 pixels x 8 channels: an 8 x 8 byte transpose */
                    __m128i r[8];
                    for (int p = 0; p < 8; p++) r[p] = _mm_loadl_epi64((const __m128i *)(const void *)(a + p * ps + c));
                    __m128i t0 = _mm_unpacklo_epi8(r[0], r[1]), t1 = _mm_unpacklo_epi8(r[2], r[3]);
                    __m128i t2 = _mm_unpacklo_epi8(r[4], r[5]), t3 = _mm_unpacklo_epi8(r[6], r[7]);
                    __m128i u0 = _mm_unpacklo_epi16(t0, t1), u1 = _mm_unpackhi_epi16(t0, t1);
                    __m128i u2 = _mm_unpacklo_epi16(t2, t3), u3 = _mm_unpackhi_epi16(t2, t3);
                    __m128i v[4] = {_mm_unpacklo_epi32(u0, u2), _mm_unpackhi_epi32(u0, u2), _mm_unpacklo_epi32(u1, u3),
                                    _mm_unpackhi_epi32(u1, u3)};
                    for (int j = 0; j < 4; j++) {
                        __m128i b = _mm_add_epi8(v[j], vb);
                        _mm_storel_epi64((__m128i *)(void *)(x + (c + 2 * j) * cl + off), b);
                        _mm_storel_epi64((__m128i *)(void *)(x + (c + 2 * j + 1) * cl + off), _mm_unpackhi_epi64(b, b));
                    }
                }
                for (int p = 0; p < 8; p++)
                    for (size_t c = c8; c < cin; c++) x[c * cl + off + p] = (uint8_t)(a[p * ps + c] + bias);
            }
            for (; ix < s->w; ix += sw) {
                int32_t off = k->g.inoff[(size_t)iy * s->w + ix];
                if (off < 0) continue;
                const int8_t *a = src + ((size_t)iy * s->w + (size_t)ix) * cin;
                for (size_t c = 0; c < cin; c++) x[c * cl + off] = (uint8_t)(a[c] + bias);
            }
        }
}

/* Pack rows r0 .. r0 + nr - 1 of channel block cb (row r: input channel r / taps, tap r % taps) into
 * rows[((r - r0) * rp + a) * cb_ch + j]: per 8 channels, 8 x 8 transposes of their int16 columns,
 * then sign extension. */
static void lut_pack_rows(const kern_lut *k, int32_t cb, int32_t r0, int32_t nr, int32_t *rows)
{
    const qnn_conv_shape *s = k->s;
    const int32_t cin = s->cin, taps = k->n_taps, rp = k->rp, CB = k->cb_ch;
    for (int32_t r = 0; r < nr; r++) {
        int32_t ci = (r0 + r) / taps, t = (r0 + r) % taps;
        for (int32_t c = 0; c < CB; c += 8) {
            const int16_t *col[8];
            for (int32_t j = 0; j < 8; j++) {
                int32_t co = cb * CB + c + j;
                col[j] = k->cols + (co < s->cout ? k->colp[((size_t)co * cin + ci) * taps + t] : k->zero_col);
            }
            int32_t *dst = rows + (size_t)r * rp * CB + c;
            for (int32_t a0 = 0; a0 < rp; a0 += 8) {
                __m128i r8[8];
                for (int j = 0; j < 8; j++) r8[j] = _mm_loadu_si128((const __m128i *)(const void *)(col[j] + a0));
                kern_transpose8_epi16(r8);
                for (int i = 0; i < 8; i++)
                    _mm256_store_si256((__m256i *)(void *)(dst + (size_t)(a0 + i) * CB), _mm256_cvtepi16_epi32(r8[i]));
            }
        }
    }
}

/* One pass over the positions of one image: tiles of P consecutive flat positions (from tile_q) x C
 * vectors of 8 channels stay in registers over the pass's nr rows (row r: input bytes at xb + roff[r],
 * entries at rows + r * rp * cb_ch), then go back to the accumulators ap (read first unless `first`).
 * P * C = 8 accumulators; nq is a multiple of 16, so tiles never straddle its end. */
#define LUT_PASS(P, C)                                                                                          \
    static void lut_pass_##P##_##C(const uint8_t *xb, const int32_t *tile_q, int32_t n_tiles, int32_t *ap,     \
                                   const int32_t *rows, size_t rs, const int32_t *roff, int32_t nr, int first)  \
    {                                                                                                           \
        for (int32_t ti = 0; ti < n_tiles; ti++) {                                                              \
            const int32_t q0 = tile_q[ti];                                                                      \
            __m256i acc[P][C];                                                                                  \
            int32_t *o = ap + (size_t)q0 * 8 * C;                                                               \
            _Pragma("GCC unroll 8") for (int p = 0; p < P; p++) _Pragma("GCC unroll 8") for (int c = 0; c < C; c++) \
                acc[p][c] = first ? _mm256_setzero_si256()                                                      \
                                  : _mm256_load_si256((const __m256i *)(const void *)(o + (p * C + c) * 8));   \
            const uint8_t *xq = xb + q0;                                                                        \
            const int32_t *rw = rows;                                                                           \
            for (int32_t r = 0; r < nr; r++, rw += rs) {                                                        \
                uint64_t ix = 0; /* the tile's P index bytes, one load */                                        \
                memcpy(&ix, xq + roff[r], P);                                                                   \
                _Pragma("GCC unroll 8") for (int p = 0; p < P; p++)                                             \
                {                                                                                               \
                    const int32_t *e = rw + (size_t)((ix >> (8 * p)) & 0xff) * (8 * C);                         \
                    _Pragma("GCC unroll 8") for (int c = 0; c < C; c++) acc[p][c] = _mm256_add_epi32(           \
                        acc[p][c], _mm256_load_si256((const __m256i *)(const void *)(e + c * 8)));             \
                }                                                                                               \
            }                                                                                                   \
            _Pragma("GCC unroll 8") for (int p = 0; p < P; p++) _Pragma("GCC unroll 8") for (int c = 0; c < C; c++) \
                _mm256_store_si256((__m256i *)(void *)(o + (p * C + c) * 8), acc[p][c]);                        \
        }                                                                                                       \
    }
LUT_PASS(8, 1)
LUT_PASS(4, 2)
LUT_PASS(2, 4)
#undef LUT_PASS

void kern_lut_group_avx2(const kern_lut *k, const uint8_t *x, int32_t ng, int32_t cb, int32_t *rows, int32_t *ac)
{
    _Static_assert(KERN_LCO == 8 && KERN_TQ % 8 == 0, "the AVX2 table kernel: 8 channels per vector, 8 | nq");
    const qnn_conv_shape *s = k->s;
    const int32_t cin = s->cin, taps = k->n_taps, nq = k->g.nq, CB = k->cb_ch;
    const size_t rs = (size_t)k->rp * CB;
    for (int32_t r0 = 0; r0 < cin * taps; r0 += k->pr) {
        int32_t nr = cin * taps - r0 < k->pr ? cin * taps - r0 : k->pr;
        lut_pack_rows(k, cb, r0, nr, rows);
        const int32_t *roff = k->roff + r0;
        for (int32_t im = 0; im < ng; im++) {
            const uint8_t *xb = x + (size_t)im * k->xlen;
            int32_t *ap = ac + (size_t)im * nq * CB;
            if (CB == 8)
                lut_pass_8_1(xb, k->tile_q, k->n_tiles, ap, rows, rs, roff, nr, r0 == 0);
            else if (CB == 16)
                lut_pass_4_2(xb, k->tile_q, k->n_tiles, ap, rows, rs, roff, nr, r0 == 0);
            else
                lut_pass_2_4(xb, k->tile_q, k->n_tiles, ap, rows, rs, roff, nr, r0 == 0);
        }
    }
}

void qnn_kern_add_avx2(const int8_t *a, const int8_t *b, size_t n, const qnn_kern_add_params *p, int8_t *out)
{
    ASSERT(qnn_kern_have_avx2());
    const __m256i zero = _mm256_setzero_si256();
    rq_consts ca = rq_make(zero, _mm256_set1_epi32(p->mult[0]), _mm256_set1_epi32(p->shift[0]), INT32_MIN, INT32_MAX);
    rq_consts cb = rq_make(zero, _mm256_set1_epi32(p->mult[1]), _mm256_set1_epi32(p->shift[1]), INT32_MIN, INT32_MAX);
    rq_consts co = rq_make(zero, _mm256_set1_epi32(p->mult[2]), _mm256_set1_epi32(p->shift[2]), p->lo, p->hi);
    const __m128i ls = _mm_cvtsi32_si128(p->left_shift);
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        int64_t va, vb;
        memcpy(&va, a + i, 8);
        memcpy(&vb, b + i, 8);
        /* int8 -> int32, << left_shift (|v| << 20 < 2^31: exact), each rescaled, summed (int32 wrap,
         * as the scalar sum), rescaled to the output and clamped */
        __m256i xa = _mm256_sll_epi32(_mm256_cvtepi8_epi32(_mm_cvtsi64_si128(va)), ls);
        __m256i xb = _mm256_sll_epi32(_mm256_cvtepi8_epi32(_mm_cvtsi64_si128(vb)), ls);
        __m256i sum = _mm256_add_epi32(rq_apply(xa, &ca), rq_apply(xb, &cb));
        store8(rq_apply(sum, &co), out + i);
    }
    if (i < n) qnn_kern_add_generic(a + i, b + i, n - i, p, out + i);
}

void qnn_kern_requant_avx2(const int32_t *x, size_t n_pix, int32_t c, const int32_t *bias, const int32_t *mult,
                           const int32_t *shift, int32_t lo, int32_t hi, int8_t *out)
{
    ASSERT(qnn_kern_have_avx2());
    const int32_t c8 = c / 8 * 8;
    const qnn_conv_dst d = {.bias = bias, .mult = mult, .shift = shift, .lo = lo, .hi = hi};
    /* channel block outer: its constants stay in registers over all pixels */
    for (int32_t j = 0; j < c8; j += 8) kern_requant_rows8_avx2(x + j, (size_t)c, n_pix, &d, j, out + j, (size_t)c);
    if (c8 < c) kern_requant_tail(x, c8, c, c, n_pix, bias, mult, shift, lo, hi, out);
}

#else

void qnn_kern_requant_avx2(const int32_t *x, size_t n_pix, int32_t c, const int32_t *bias, const int32_t *mult,
                           const int32_t *shift, int32_t lo, int32_t hi, int8_t *out)
{
    msg_abort(__FILE__, __LINE__, "no AVX2 kernels on this architecture");
}

void kern_sep_tile_avx2(const kern_sep *k, const int16_t *x, int32_t cb, int32_t q0, int32_t img)
{
    msg_abort(__FILE__, __LINE__, "no AVX2 kernels on this architecture");
}

void kern_lut_group_avx2(const kern_lut *k, const uint8_t *x, int32_t ng, int32_t cb, int32_t *rows, int32_t *ac)
{
    msg_abort(__FILE__, __LINE__, "no AVX2 kernels on this architecture");
}

void kern_requant_rows8_avx2(const int32_t *x, size_t xs, size_t n_pix, const qnn_conv_dst *dst, int32_t c0,
                             int8_t *out, size_t os)
{
    msg_abort(__FILE__, __LINE__, "no AVX2 kernels on this architecture");
}

void kern_lut_prep_avx2(const kern_lut *k, const int8_t *src, uint8_t *x)
{
    msg_abort(__FILE__, __LINE__, "no AVX2 kernels on this architecture");
}

void kern_requant_rows8_nosat_avx2(const int32_t *x, size_t xs, size_t n_pix, const qnn_conv_dst *dst, int32_t c0,
                                   int8_t *out, size_t os)
{
    msg_abort(__FILE__, __LINE__, "no AVX2 kernels on this architecture");
}

void kern_u8_tile_avx2(const qnn_conv_u8 *k, const kern_u8_sep *sp, const uint32_t *x, const qnn_conv_dst *dst,
                       int32_t cb, int32_t v0, int32_t v1, int32_t img, int rq_fast)
{
    msg_abort(__FILE__, __LINE__, "no AVX2 kernels on this architecture");
}

void kern_u8_co8_tile_avx2(const qnn_conv_u8 *k, const kern_u8_sep *sp, const uint32_t *x, const qnn_conv_dst *dst,
                           int32_t b8, int32_t oy, int32_t ox0, int32_t img, int rq_fast)
{
    msg_abort(__FILE__, __LINE__, "no AVX2 kernels on this architecture");
}

void kern_u8_co8_tile_vnni(const qnn_conv_u8 *k, const kern_u8_sep *sp, const uint32_t *x, const qnn_conv_dst *dst,
                           int32_t b8, int32_t oy, int32_t ox0, int32_t img, int rq_fast)
{
    msg_abort(__FILE__, __LINE__, "no AVX-VNNI kernels on this architecture");
}

void kern_u8_sep_tile_avx2(const qnn_conv_u8 *k, const kern_u8_sep *sp, const uint32_t *x, const qnn_conv_dst *dst,
                           int32_t cb, int32_t v0, int32_t v1, int32_t img, int rq_fast)
{
    msg_abort(__FILE__, __LINE__, "no AVX2 kernels on this architecture");
}

void kern_u8_tile_vnni(const qnn_conv_u8 *k, const kern_u8_sep *sp, const uint32_t *x, const qnn_conv_dst *dst,
                       int32_t cb, int32_t v0, int32_t v1, int32_t img, int rq_fast)
{
    msg_abort(__FILE__, __LINE__, "no AVX-VNNI kernels on this architecture");
}

void kern_u8_sep_tile_vnni(const qnn_conv_u8 *k, const kern_u8_sep *sp, const uint32_t *x, const qnn_conv_dst *dst,
                           int32_t cb, int32_t v0, int32_t v1, int32_t img, int rq_fast)
{
    msg_abort(__FILE__, __LINE__, "no AVX-VNNI kernels on this architecture");
}

void kern_minmax_s8_avx2(const int8_t *x, size_t n, int32_t *mn, int32_t *mx)
{
    msg_abort(__FILE__, __LINE__, "no AVX2 kernels on this architecture");
}

void qnn_kern_add_avx2(const int8_t *a, const int8_t *b, size_t n, const qnn_kern_add_params *p, int8_t *out)
{
    msg_abort(__FILE__, __LINE__, "no AVX2 kernels on this architecture");
}

#endif

#if defined(__clang__) && (defined(__x86_64__) || defined(__i386__))
#pragma clang attribute pop
#endif
