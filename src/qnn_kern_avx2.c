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

void kern_sep_tile_avx2(const kern_sep *k, const int16_t *x, int32_t cb, int32_t q0, int32_t *out)
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
    /* even lanes hold positions 0, 2, .., 14 and odd lanes 1, 3, .., 15: interleave */
#pragma GCC unroll 8
    for (int j = 0; j < KERN_COB; j++) {
        __m256i lo = _mm256_unpacklo_epi32(acc[j][0], acc[j][1]);
        __m256i hi = _mm256_unpackhi_epi32(acc[j][0], acc[j][1]);
        _mm256_storeu_si256((__m256i *)(void *)(out + j * KERN_TQ), _mm256_permute2x128_si256(lo, hi, 0x20));
        _mm256_storeu_si256((__m256i *)(void *)(out + j * KERN_TQ + 8), _mm256_permute2x128_si256(lo, hi, 0x31));
    }
}

void kern_lut_tile_avx2(const kern_lut *k, const uint8_t *x, int32_t cb, int32_t q0, int32_t *out)
{
    __m256i acc[KERN_COB][2];
#pragma GCC unroll 8
    for (int j = 0; j < KERN_COB; j++) acc[j][0] = acc[j][1] = _mm256_setzero_si256();
    const int32_t cin = k->s->cin, taps = k->n_taps;
    const size_t cl = k->g.chan_len;
    const int16_t *cols = k->cols;
    for (int32_t ci = 0; ci < cin; ci++) {
        const uint8_t *xc = x + (size_t)ci * cl + q0;
        const uint32_t *cp = k->colp + ((size_t)cb * cin + ci) * taps * KERN_COB;
        for (int32_t tap = 0; tap < taps; tap++, cp += KERN_COB) {
            const uint8_t *xp = xc + k->tap_off[tap];
            __m256i i0 = _mm256_cvtepu8_epi32(_mm_loadl_epi64((const __m128i *)(const void *)xp));
            __m256i i1 = _mm256_cvtepu8_epi32(_mm_loadl_epi64((const __m128i *)(const void *)(xp + 8)));
#pragma GCC unroll 8
            for (int j = 0; j < KERN_COB; j++) {
                const int *col = (const int *)(const void *)(cols + cp[j]);
                __m256i g0 = _mm256_i32gather_epi32(col, i0, 2);
                __m256i g1 = _mm256_i32gather_epi32(col, i1, 2);
                g0 = _mm256_srai_epi32(_mm256_slli_epi32(g0, 16), 16);
                g1 = _mm256_srai_epi32(_mm256_slli_epi32(g1, 16), 16);
                acc[j][0] = _mm256_add_epi32(acc[j][0], g0);
                acc[j][1] = _mm256_add_epi32(acc[j][1], g1);
            }
        }
    }
#pragma GCC unroll 8
    for (int j = 0; j < KERN_COB; j++) {
        _mm256_storeu_si256((__m256i *)(void *)(out + j * KERN_TQ), acc[j][0]);
        _mm256_storeu_si256((__m256i *)(void *)(out + j * KERN_TQ + 8), acc[j][1]);
    }
}

#else

void kern_sep_tile_avx2(const kern_sep *k, const int16_t *x, int32_t cb, int32_t q0, int32_t *out)
{
    msg_abort(__FILE__, __LINE__, "no AVX2 kernels on this architecture");
}

void kern_lut_tile_avx2(const kern_lut *k, const uint8_t *x, int32_t cb, int32_t q0, int32_t *out)
{
    msg_abort(__FILE__, __LINE__, "no AVX2 kernels on this architecture");
}

#endif
