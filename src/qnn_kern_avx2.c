/* AVX2 tile functions of the optimized convolutions (see qnn_kern.h, qnn_kern_impl.h). Compiled for
 * AVX2 with a target pragma so that the rest of the binary runs on any x86-64; qnn_kern.c only calls
 * these after __builtin_cpu_supports("avx2").
 *
 * Separable tile: KERN_COB output channels x 16 flat positions, as one vector of even and one of odd
 * positions. A vpmaddwd lane of the even vector at position q holds (x[q + off], x[q + off + 1]),
 * the two horizontally adjacent taps of a pair item, times the packed weight pair; its products are
 * at most 2 * 128 * 128 = 2^15, so the madd never saturates, and the int32 sums are exact.
 * Table tile: KERN_COB channels x 16 consecutive positions; activations are zero-extended to 32-bit
 * indices and each kernel tap gathers from its transposed 256-entry column (int16 read as the low
 * half of a 32-bit gather, then sign-extended). */
#if defined(__x86_64__) || defined(__i386__)
#pragma GCC target("avx2")
#include <immintrin.h>
#endif

#include "qnn_kern_impl.h"

#include "msg.h"

#if defined(__x86_64__) || defined(__i386__)

void kern_sep_tile_avx2(const kern_sep *k, const int16_t *x, int32_t cb, int32_t q0, int32_t *acc_img)
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
        if (k->shared[blk]) {
            const int16_t *xb = x + bo[0] + q0;
            for (int32_t i = 0; i < n; i++, wp += KERN_COB) {
                const int16_t *xp = xb + item_off[i];
                __m256i e = _mm256_loadu_si256((const __m256i *)(const void *)xp);
                __m256i o = _mm256_loadu_si256((const __m256i *)(const void *)(xp + 1));
#pragma GCC unroll 8
                for (int j = 0; j < KERN_COB; j++) {
                    __m256i wv = _mm256_set1_epi32(wp[j]);
                    acc[j][0] = _mm256_add_epi32(acc[j][0], _mm256_madd_epi16(e, wv));
                    acc[j][1] = _mm256_add_epi32(acc[j][1], _mm256_madd_epi16(o, wv));
                }
            }
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
    if (cout - co0 >= KERN_COB) {
        _Static_assert(KERN_COB == 4 && KERN_TQ == 16, "the AVX2 store transposes 4 channels x 16 positions");
        /* 4 x 8 transposes: r[i] holds the 4 channels of position 2i (low half) and 2i + 8 (high half)
         * for the even vector, 2i + 1 and 2i + 9 for the odd one */
        int32_t *base = acc_img + co0;
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
    kern_tile_scatter(&k->g, k->s, out, KERN_TQ, cb, q0, acc_img);
}

/* Pack 8 columns (int16, 256 entries each) into pc[a][j] (int32): 8 x 8 transposes of int16, then
 * sign extension. */
static void lut_pack8(const int16_t *const col[8], int32_t *pc)
{
    for (int a0 = 0; a0 < 256; a0 += 8) {
        __m128i r[8];
        for (int j = 0; j < 8; j++) r[j] = _mm_loadu_si128((const __m128i *)(const void *)(col[j] + a0));
        __m128i t0 = _mm_unpacklo_epi16(r[0], r[1]), t1 = _mm_unpackhi_epi16(r[0], r[1]);
        __m128i t2 = _mm_unpacklo_epi16(r[2], r[3]), t3 = _mm_unpackhi_epi16(r[2], r[3]);
        __m128i t4 = _mm_unpacklo_epi16(r[4], r[5]), t5 = _mm_unpackhi_epi16(r[4], r[5]);
        __m128i t6 = _mm_unpacklo_epi16(r[6], r[7]), t7 = _mm_unpackhi_epi16(r[6], r[7]);
        __m128i u0 = _mm_unpacklo_epi32(t0, t2), u1 = _mm_unpackhi_epi32(t0, t2);
        __m128i u2 = _mm_unpacklo_epi32(t1, t3), u3 = _mm_unpackhi_epi32(t1, t3);
        __m128i u4 = _mm_unpacklo_epi32(t4, t6), u5 = _mm_unpackhi_epi32(t4, t6);
        __m128i u6 = _mm_unpacklo_epi32(t5, t7), u7 = _mm_unpackhi_epi32(t5, t7);
        __m128i v[8] = {_mm_unpacklo_epi64(u0, u4), _mm_unpackhi_epi64(u0, u4), _mm_unpacklo_epi64(u1, u5),
                        _mm_unpackhi_epi64(u1, u5), _mm_unpacklo_epi64(u2, u6), _mm_unpackhi_epi64(u2, u6),
                        _mm_unpacklo_epi64(u3, u7), _mm_unpackhi_epi64(u3, u7)};
        for (int i = 0; i < 8; i++)
            _mm256_store_si256((__m256i *)(void *)(pc + (size_t)(a0 + i) * 8), _mm256_cvtepi16_epi32(v[i]));
    }
}

void kern_lut_group_avx2(const kern_lut *k, const uint8_t *x, int32_t ng, int32_t cog, int32_t *pc,
                         int32_t *ac)
{
    _Static_assert(KERN_LCO == 8 && KERN_LTB == 3, "the AVX2 table kernel packs 8 channels, 3 taps");
    const qnn_conv_shape *s = k->s;
    const int32_t cin = s->cin, taps = k->n_taps, nq = k->g.nq;
    const size_t cl = k->g.chan_len;
    for (size_t i = 0; i < (size_t)ng * nq * 8; i += 8)
        _mm256_storeu_si256((__m256i *)(void *)(ac + i), _mm256_setzero_si256());
    for (int32_t ci = 0; ci < cin; ci++)
        for (int32_t t0 = 0; t0 < taps; t0 += 3) {
            int32_t nb = taps - t0 < 3 ? taps - t0 : 3;
            for (int32_t b = 0; b < nb; b++) {
                const int16_t *col[8];
                for (int32_t j = 0; j < 8; j++) {
                    int32_t co = cog * 8 + j;
                    col[j] = k->cols + (co < s->cout ? k->colp[((size_t)co * cin + ci) * taps + t0 + b] : k->zero_col);
                }
                lut_pack8(col, pc + (size_t)b * 256 * 8);
            }
            const int32_t *p0 = pc, *p1 = pc + 256 * 8, *p2 = pc + 512 * 8;
            for (int32_t im = 0; im < ng; im++) {
                const uint8_t *xb = x + (size_t)im * k->xlen + (size_t)ci * cl;
                int32_t *ap = ac + (size_t)im * nq * 8;
                const uint8_t *x0 = xb + k->tap_off[t0];
                if (nb == 3) {
                    const uint8_t *x1 = xb + k->tap_off[t0 + 1], *x2 = xb + k->tap_off[t0 + 2];
                    for (int32_t q = 0; q < nq; q++) {
                        __m256i *o = (__m256i *)(void *)(ap + (size_t)q * 8);
                        __m256i e0 = _mm256_load_si256((const __m256i *)(const void *)(p0 + (size_t)x0[q] * 8));
                        __m256i e1 = _mm256_load_si256((const __m256i *)(const void *)(p1 + (size_t)x1[q] * 8));
                        __m256i e2 = _mm256_load_si256((const __m256i *)(const void *)(p2 + (size_t)x2[q] * 8));
                        __m256i v = _mm256_add_epi32(_mm256_loadu_si256(o), _mm256_add_epi32(e0, e1));
                        _mm256_storeu_si256(o, _mm256_add_epi32(v, e2));
                    }
                } else {
                    for (int32_t b = 0; b < nb; b++) {
                        const uint8_t *xp = xb + k->tap_off[t0 + b];
                        const int32_t *pb = pc + (size_t)b * 256 * 8;
                        for (int32_t q = 0; q < nq; q++) {
                            __m256i *o = (__m256i *)(void *)(ap + (size_t)q * 8);
                            __m256i e = _mm256_load_si256((const __m256i *)(const void *)(pb + (size_t)xp[q] * 8));
                            _mm256_storeu_si256(o, _mm256_add_epi32(_mm256_loadu_si256(o), e));
                        }
                    }
                }
            }
        }
}

#else

void kern_sep_tile_avx2(const kern_sep *k, const int16_t *x, int32_t cb, int32_t q0, int32_t *acc_img)
{
    msg_abort(__FILE__, __LINE__, "no AVX2 kernels on this architecture");
}

void kern_lut_group_avx2(const kern_lut *k, const uint8_t *x, int32_t ng, int32_t cog, int32_t *pc,
                         int32_t *ac)
{
    msg_abort(__FILE__, __LINE__, "no AVX2 kernels on this architecture");
}

#endif
