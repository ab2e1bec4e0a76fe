/* Internal to the optimized kernels (qnn_kern.c, qnn_kern_*.c): the per-call plan shared by the
 * portable and the AVX2 tile functions. See qnn_kern.h for the design.
 *
 * Geometry. The padded input (pad_t/pad_l/pad_b/pad_r zeros around h x w) is split into sh * sw
 * phase images, phase (py, px) holding padded pixel (sh * y + py, sw * x + px) at flat position
 * y * cx + x. Output pixel (oy, ox) has flat position q = oy * cx + ox (valid when ox < wo), and tap
 * (ky, kx) reads phase (ky % sh, kx % sw) at q + (ky / sh) * cx + kx / sw. Flat positions are
 * processed in tiles of KERN_TQ; nq (a multiple of KERN_TQ) covers ho * cx. Every read of a tile
 * stays inside phase_len, and positions that no real input pixel maps to hold 0 (the buffer is
 * zeroed once and only real pixels are rewritten per image), which is the padding value.
 *
 * Separable tiles are KERN_COB output channels (block cb) x KERN_TQ flat positions. */
#ifndef SRC_QNN_KERN_IMPL_H
#define SRC_QNN_KERN_IMPL_H

#include <stddef.h>
#include <stdint.h>

#include "qnn_conv.h"
#include "qnn_kern.h"

#if defined(__SSE2__)
#include <emmintrin.h>

/* r[p] holds 8 int16 (channels c0 .. c0 + 7) of pixel p; afterwards r[c] holds channel c0 + c of
 * pixels 0 .. 7. */
static inline void kern_transpose8_epi16(__m128i r[8])
{
    __m128i t0 = _mm_unpacklo_epi16(r[0], r[1]), t1 = _mm_unpackhi_epi16(r[0], r[1]);
    __m128i t2 = _mm_unpacklo_epi16(r[2], r[3]), t3 = _mm_unpackhi_epi16(r[2], r[3]);
    __m128i t4 = _mm_unpacklo_epi16(r[4], r[5]), t5 = _mm_unpackhi_epi16(r[4], r[5]);
    __m128i t6 = _mm_unpacklo_epi16(r[6], r[7]), t7 = _mm_unpackhi_epi16(r[6], r[7]);
    __m128i u0 = _mm_unpacklo_epi32(t0, t2), u1 = _mm_unpackhi_epi32(t0, t2);
    __m128i u2 = _mm_unpacklo_epi32(t1, t3), u3 = _mm_unpackhi_epi32(t1, t3);
    __m128i u4 = _mm_unpacklo_epi32(t4, t6), u5 = _mm_unpackhi_epi32(t4, t6);
    __m128i u6 = _mm_unpacklo_epi32(t5, t7), u7 = _mm_unpackhi_epi32(t5, t7);
    r[0] = _mm_unpacklo_epi64(u0, u4), r[1] = _mm_unpackhi_epi64(u0, u4);
    r[2] = _mm_unpacklo_epi64(u1, u5), r[3] = _mm_unpackhi_epi64(u1, u5);
    r[4] = _mm_unpacklo_epi64(u2, u6), r[5] = _mm_unpackhi_epi64(u2, u6);
    r[6] = _mm_unpacklo_epi64(u3, u7), r[7] = _mm_unpackhi_epi64(u3, u7);
}
#endif

enum {
    KERN_COB = 4, /* output channels per tile (register block) */
    KERN_TQ = 16  /* flat positions per tile: two 8-lane vectors */
};

/* A bump allocator over the caller's scratch (qnn_conv_scratch_size bytes): plans and runs take all
 * their buffers from it, 64-byte aligned; nothing is freed (the scratch is reused by the next call). */
typedef struct kern_arena {
    char *base;
    size_t size, used;
} kern_arena;

/* Arena helpers (qnn_kern.c): kern_ar_bytes(b) is what one kern_ar_get(a, b) takes from the arena,
 * alignment slack included (scratch sizes are sums of these); kern_ar_zero also zeroes. */
size_t kern_round_up(size_t x, size_t m);
size_t kern_ar_bytes(size_t bytes);
/* The arena of one kernel call: over the caller's scratch (which must then hold at least `need`
 * bytes, what the call's _scratch_size query returned), or, with scratch NULL, over a new allocation of
 * `need` bytes, returned in *own for the caller to free after the run (else *own = NULL). */
kern_arena kern_arena_open(void *scratch, size_t scratch_size, size_t need, void **own);
void *kern_ar_get(kern_arena *a, size_t bytes);
void *kern_ar_zero(kern_arena *a, size_t bytes);
/* 1 when the dispatch picks the AVX2 kernels (the CPU has AVX2 and qnn_kern_set_portable is off) */
int kern_use_avx2(void);
/* omp_get_thread_num(), or 0 without OpenMP */
int kern_thread_num(void);

typedef struct kern_geom {
    int32_t sh, sw, nph;   /* strides and number of phases */
    int32_t cx;            /* phase-image row length */
    int32_t dy_max, dx_max;
    int32_t nq;            /* flat positions computed (multiple of KERN_TQ) */
    size_t phase_len;      /* elements per phase image */
    size_t chan_len;       /* nph * phase_len: elements per input channel */
    int32_t *outpix;       /* [nq]: oy * wo + ox, or -1 for a discarded position */
    int32_t *inoff;        /* [h * w]: offset of input pixel (iy, ix) in its channel buffer, or -1 */
} kern_geom;

/* Separable plan. */
typedef struct kern_sep {
    const qnn_conv_shape *s;
    const qnn_conv_dst *dst;  /* results */
    kern_arena *ar;        /* where the plan's and the run's buffers come from */
    kern_geom g;
    int32_t n_items;       /* tap pairs per kernel */
    int32_t *item_off;     /* [n_items]: offset in int16 elements inside one channel's buffer */
    int32_t n_cob;         /* ceil(cout / KERN_COB) */
    int32_t *wpk;          /* [n_cob][cin][n_items][KERN_COB]: (uint16)w_first | w_second << 16 */
    size_t *boff;          /* [n_cob][cin][KERN_COB]: offset of the kernel's channel buffer */
    uint8_t *shared;       /* [n_cob][cin]: 1 when the block's KERN_COB kernels read one plane */
    int n_planes;
    uint8_t *used;         /* [n_planes]: plane read by at least one kernel */
    /* Rounding on the fly (kern_sep_fly): when every activation transform is ((a + c) >> m) << m, only
     * the identity plane is stored and each kernel rounds what it loads: (x + c) & -(1 << m), exact
     * for int16 x in -128..127 and 0 <= c < 2^m (so padding, 0, stays 0). */
    int fly;
    uint32_t *rnd;         /* [n_cob][cin][KERN_COB][2]: c | c << 16, mask | mask << 16 (int16 pairs) */
    uint8_t *rmode;        /* [n_cob][cin]: 0 no kernel rounds, 1 all round alike (rnd of j = 0), 2 mixed */
    size_t xlen;           /* int16 elements of one image's input copy: n_planes * cin * chan_len */
} kern_sep;

/* A separable tile function computes channel block cb at flat positions q0 .. q0 + KERN_TQ - 1 of
 * image img and stores the valid ones into k->dst (accumulators, or requantized int8). */
typedef void (*kern_sep_tile_fn)(const kern_sep *k, const int16_t *x, int32_t cb, int32_t q0, int32_t img);

/* Store tile[co * span + L] (sums of flat positions q0 + L, channel block cb, image img) into k->dst,
 * scalar (requantized when dst is int8). */
void kern_tile_scatter(const kern_sep *k, const int32_t *tile, int32_t span, int32_t cb, int32_t q0, int32_t img);

/* Table plan. Lanes are output channels here. The call's input range lo..hi (measured, widened to
 * include 0, the padding value) fixes the rows' length rp (hi - lo + 1 rounded up to 8); the input
 * copies hold the index a - lo per byte (padding: -lo). For a channel block (cb_ch = 8 * C channels,
 * C vectors), one input channel ci and one tap, the block's columns are packed into a row
 * row[a - lo][j] = lut_t(j)[a][w(j)] (int32), so that C 32-byte loads at one index add the products of
 * all cb_ch channels for activation a. Positions are processed image group by image group (grp images,
 * their accumulators ac[(img * nq + q) * cb_ch + j], a buffer that stays in the cache), the rows of a
 * pass (pr consecutive (input channel, tap) rows, tap fastest) packed once per group and pass: each
 * row serves grp * nq lookups. The AVX2 group keeps a tile of positions x C vectors in registers over
 * the pr rows of a pass (memory accumulators are touched once per pass); the portable one uses C = 1. */
enum {
    KERN_LCO = 8,               /* channels per vector */
    KERN_LAC_BYTES = 1024 << 10, /* accumulator bytes per group, about */
    KERN_LROW_BYTES = 160 << 10 /* packed row bytes per pass, about (at least one row's) */
};

typedef struct kern_lut {
    const qnn_conv_shape *s;
    const qnn_conv_dst *dst;
    kern_arena *ar;
    kern_geom g;
    int32_t n_taps;        /* kh * kw */
    int32_t *tap_off;      /* [n_taps]: offset in bytes inside one channel's buffer */
    int32_t *roff;         /* [cin][n_taps]: ci * chan_len + tap_off[t], the row's offset in an image copy */
    int32_t cb_ch;         /* channels per block: KERN_LCO * C */
    int32_t n_cb;          /* ceil(cout / cb_ch) */
    int32_t lo;            /* activation of index 0 */
    int32_t rp;            /* row length: entries per column (multiple of 8, <= 256) */
    int32_t pr;            /* rows (input channel, tap) per pass */
    int32_t n_tiles;       /* AVX2 tiles (KERN_LCO / C consecutive flat positions) holding an output */
    int32_t *tile_q;       /* [n_tiles]: their first flat positions (tiles of discarded positions only,
                            * past a row's end, are skipped) */
    uint8_t *rq_fast;      /* [n_cb * C]: 1 when the 8 channels' requantization needs no saturation
                            * (as qnn_conv_u8_team's rq_fast; set by kern_lut_run for int8 output) */
    int16_t *cols;         /* [n_luts][256 w][rp], then rp zeros: cols[(t * 256 + w) * rp + a - lo] */
    uint32_t *colp;        /* [cout][cin][n_taps]: element offset of the kernel tap's column in cols */
    uint32_t zero_col;     /* element offset of the zero column */
    int32_t grp;           /* images per group */
    int avx2;              /* the AVX2 group function runs (its requantizer may too) */
    size_t xlen;           /* bytes of one image's input copy: cin * chan_len */
} kern_lut;

/* A group function accumulates channel block cb over ng images (input copies x + img * xlen) into
 * ac[(img * nq + q) * cb_ch + j] (overwritten), using rows (pr * rp * cb_ch int32, 32-byte
 * aligned) as scratch. */
typedef void (*kern_lut_group_fn)(const kern_lut *k, const uint8_t *x, int32_t ng, int32_t cb, int32_t *rows,
                                  int32_t *ac);

/* The u8 path (qnn_kern_u8.c; see qnn_kern.h). Geometry as kern_geom, in uint32 elements (one per
 * pixel and quad of 4 input channels), and output vectors of KERN_U8V pixels instead of flat tiles:
 * vector v computes flat positions vq[v] .. vq[v] + 7, i.e. output pixels vpix[v] .. vpix[v] + 7 of
 * one row, of which the first vlen[v] are stored (8 unless wo < 8). A tile is two vectors (the last
 * one alone repeats itself) x KERN_COB output channels. */
enum { KERN_U8V = 8 };

struct qnn_conv_u8 {
    qnn_conv_shape s;      /* n = 0 */
    int32_t a_lo, a_hi;    /* the int8 input range the proof covers */
    int32_t off;           /* 0 or 128: the kernel's operand is u = a + off */
    int32_t ncq, n_taps, n_cob;
    kern_geom g;           /* sh, sw, nph, cx, dy_max, dx_max, phase_len, chan_len; inoff; nq, outpix unused */
    int32_t n_vec;
    int32_t *vq, *vpix;    /* [n_vec] */
    uint8_t *vlen;         /* [n_vec] */
    int32_t *tap_off;      /* [n_taps]: element offset inside one quad's buffer */
    int32_t *wpk;          /* [n_cob][ncq][n_taps][KERN_COB]: 4 int8 weights (channels 4q .. 4q + 3) */
    int32_t *corr;         /* [n_cob * KERN_COB]: -off * sum of the channel's weights (0 past cout) */
    int64_t *acc_max;      /* [cout]: bound on |sum of a w| of the channel (sum |w| * max |a|) */
    size_t xlen;           /* uint32 elements of one image's input copy: ncq * chan_len */
    void *mem;             /* the one allocation behind the arrays */
};

/* 1 when transform t (256 entries indexed (uint8_t)a) is a rounding t(a) = ((a + c) >> m) << m for every
 * a (m in 0..7, 0 <= c < 2^m; the identity is m = 0), with m and c set; else 0. */
int kern_tf_rounding(const int16_t *t, int8_t *m, int16_t *c);

/* A separable multiplier on the u8 kernels (qnn_conv_u8_sep_team), packed per call into the scratch:
 * weights clamped to -128..127 (a weight 128 runs as 127, and the kernel's rounded activation is added
 * once more: the fix list), and per output channel and quad the 4 kernels' roundings as bytes. */
typedef struct kern_u8_fix {
    int32_t off;           /* element offset of the quad's tap: q * chan_len + tap_off[t] */
    int16_t q;             /* the quad (its rounding) */
    uint8_t j, b;          /* channel in the block, byte (channel in the quad) */
} kern_u8_fix;

typedef struct kern_u8_sep {
    int32_t *wpk;          /* as qnn_conv_u8's */
    uint32_t *rnd;         /* [n_cob][ncq][KERN_COB][2]: the 4 bytes' c, the 4 bytes' mask -(1 << m) */
    uint8_t *rmode;        /* [n_cob][ncq]: 0 no rounding, 1 the block's 4 channels round alike, 2 mixed */
    int32_t *fix_start;    /* [n_cob + 1]: block cb's fixes are fix[fix_start[cb] .. fix_start[cb + 1] - 1] */
    kern_u8_fix *fix;      /* up to 4 per packed weight word (one per byte) */
    int64_t *acc_max;      /* [cout]: the bound of qnn_conv_u8's acc_max for the rounded operands the call runs */
    /* The channel-lane layout (NULL unless the plan chose it; see kern_u8_co8_tile_avx2): per block b8 of
     * 8 output channels, w8[((b8 * ncq + q) * n_taps + t) * 8 + l] = wpk's word of channel 8 b8 + l, and
     * rnd8[((b8 * ncq + q) * 2 + i) * 8 + l] = rnd's c (i = 0) and mask (i = 1) of that channel. */
    int32_t *w8;
    uint32_t *rnd8;
    /* w8fix: as w8, with 1 in the byte of each weight 128 (run as 127 in w8) and 0 elsewhere;
     * fixrow8[(b8 * ncq + q) * kh + ky]: bit kx set when tap (ky, kx) holds such a byte in any channel */
    int32_t *w8fix;
    uint8_t *fixrow8;
} kern_u8_sep;

/* A u8 tile function: channel block cb, vectors v0 and v1, image img; x is the image's input copy.
 * rq_fast: the call's requantization needs no saturation (every channel: shift <= 0, multiplier not
 * INT32_MIN, |bias| + the layer's accumulator bound <= INT32_MAX; see qnn_conv_u8_team). */
typedef void (*kern_u8_tile_fn)(const qnn_conv_u8 *k, const kern_u8_sep *sp, const uint32_t *x,
                                const qnn_conv_dst *dst, int32_t cb, int32_t v0, int32_t v1, int32_t img, int rq_fast);
/* the exact tile (sp NULL) and the separable one (sp: the call's weights, roundings and fixes) */
void kern_u8_tile_avx2(const qnn_conv_u8 *k, const kern_u8_sep *sp, const uint32_t *x, const qnn_conv_dst *dst,
                       int32_t cb, int32_t v0, int32_t v1, int32_t img, int rq_fast);
void kern_u8_sep_tile_avx2(const qnn_conv_u8 *k, const kern_u8_sep *sp, const uint32_t *x, const qnn_conv_dst *dst,
                           int32_t cb, int32_t v0, int32_t v1, int32_t img, int rq_fast);
/* the same two with AVX-VNNI vpdpbusd for the multiply-accumulate (only after qnn_kern_have_vnni) */
void kern_u8_tile_vnni(const qnn_conv_u8 *k, const kern_u8_sep *sp, const uint32_t *x, const qnn_conv_dst *dst,
                       int32_t cb, int32_t v0, int32_t v1, int32_t img, int rq_fast);
void kern_u8_sep_tile_vnni(const qnn_conv_u8 *k, const kern_u8_sep *sp, const uint32_t *x, const qnn_conv_dst *dst,
                           int32_t cb, int32_t v0, int32_t v1, int32_t img, int rq_fast);
/* The channel-lane tile for kernels whose roundings differ within a block (rmode 2): lanes are 8
 * OUTPUT CHANNELS (block b8) and the tile is 8 consecutive output pixels of row oy from ox0, one
 * accumulator each. Per quad, input row and input pixel, the activation word is broadcast and rounded
 * once with the 8 channels' own per-byte roundings (rnd8), then multiplied with the row's kw = 3 tap
 * weights into the (up to) 3 output pixels that read it: 2 rounding operations per 3 products,
 * instead of 2 per product. Stride 1, kw = 3, wo >= 8, cout a multiple of 8 (the plan checks). The
 * fixes of weights 128 and the store go through an int32 tile; the result equals the other tiles'. */
typedef void (*kern_u8_co8_fn)(const qnn_conv_u8 *k, const kern_u8_sep *sp, const uint32_t *x, const qnn_conv_dst *dst,
                               int32_t b8, int32_t oy, int32_t ox0, int32_t img, int rq_fast);
void kern_u8_co8_tile_avx2(const qnn_conv_u8 *k, const kern_u8_sep *sp, const uint32_t *x, const qnn_conv_dst *dst,
                           int32_t b8, int32_t oy, int32_t ox0, int32_t img, int rq_fast);
void kern_u8_co8_tile_vnni(const qnn_conv_u8 *k, const kern_u8_sep *sp, const uint32_t *x, const qnn_conv_dst *dst,
                           int32_t b8, int32_t oy, int32_t ox0, int32_t img, int rq_fast);
/* 1 when the u8 tiles use AVX-VNNI: the CPU has it and qnn_kern_set_vnni has not turned it off */
int kern_use_vnni(void);
/* 0 after qnn_kern_set_co8(0); kern_note_co8 counts a call that ran the channel-lane tiles */
int kern_use_co8(void);
void kern_note_co8(void);
/* Store sums[h][j][l] (vector h of the tile: v0, v1; channel co0 + j; lane l) into dst, scalar. */
void kern_u8_scatter(const qnn_conv_u8 *k, const int32_t sums[2][KERN_COB][KERN_U8V], const qnn_conv_dst *dst,
                     int32_t cb, int32_t v0, int32_t v1, int32_t img);
/* min and max of n int8 values (n >= 1), AVX2 */
void kern_minmax_s8_avx2(const int8_t *x, size_t n, int32_t *mn, int32_t *mx);

/* Build / run the plans (qnn_kern.c), all buffers from the arena. The run functions own scatter and run their loops on nt
 * threads (nt = 1: the calling thread only, no parallel region). */
void kern_sep_plan(kern_sep *k, const qnn_conv_shape *s, int n_planes, const uint8_t *plane_of,
                   const int16_t *w, kern_arena *ar);
void kern_sep_run(const kern_sep *k, const int16_t *const *planes, kern_sep_tile_fn tile, int nt);
/* The same from the int8 input and one 256-entry activation transform per plane (NULL: one plane,
 * the identity), applied per image while copying into the phase images, or, when every transform is
 * a rounding, by the tile functions on the fly (kern_sep_fly). */
void kern_sep_run_i8(kern_sep *k, const int8_t *in, const int16_t *act_tf, const uint8_t *plane_of,
                     kern_sep_tile_fn tile, int nt);
/* Switch a plan to rounding on the fly: m[p], c[p] describe transform p (m >= 0 for every used
 * plane); afterwards the plan reads one plane, the identity of the int8 input. */
void kern_sep_fly(kern_sep *k, const uint8_t *plane_of, const int8_t *m, const int16_t *c);
/* C: vectors per channel block (1, 2 or 4); lo..hi: the call's input range (lo <= 0 <= hi). */
void kern_lut_plan(kern_lut *k, const qnn_conv_shape *s, const int8_t *w, const int16_t *const *luts,
                   int n_luts, const uint16_t *lut_of, int C, int32_t lo, int32_t hi, kern_arena *ar);
void kern_lut_run(const kern_lut *k, const int8_t *in, kern_lut_group_fn group, int nt);

/* Scalar requantization of channels c0 .. c1 - 1 (see qnn_kern_requant). */
void kern_requant_tail(const int32_t *x, int32_t c0, int32_t c1, int32_t c, size_t n_pix, const int32_t *bias,
                       const int32_t *mult, const int32_t *shift, int32_t lo, int32_t hi, int8_t *out);

/* AVX2 tile functions (qnn_kern_avx2.c). */
void kern_sep_tile_avx2(const kern_sep *k, const int16_t *x, int32_t cb, int32_t q0, int32_t img);
/* Requantize n_pix rows of 8 int32 (row stride xs) with the per-lane constants of dst's channels
 * c0 .. c0 + 7 into int8 rows (stride os). */
void kern_requant_rows8_avx2(const int32_t *x, size_t xs, size_t n_pix, const qnn_conv_dst *dst, int32_t c0,
                             int8_t *out, size_t os);
/* The same when no step saturates: every |x| + |bias| <= INT32_MAX, every shift <= 0, no multiplier
 * INT32_MIN (the caller's proof). */
void kern_requant_rows8_nosat_avx2(const int32_t *x, size_t xs, size_t n_pix, const qnn_conv_dst *dst, int32_t c0,
                                   int8_t *out, size_t os);
/* The table path's input copy of one image (src: its (h, w, cin) int8) into x, as lut_prep in
 * qnn_kern.c: runs of 8 pixels of one phase row x 8 channels by byte transposes. */
void kern_lut_prep_avx2(const kern_lut *k, const int8_t *src, uint8_t *x);
void kern_lut_group_avx2(const kern_lut *k, const uint8_t *x, int32_t ng, int32_t cb, int32_t *rows, int32_t *ac);

#endif
