/* Kernel dispatch: the executor calls qnn_conv_acc / qnn_conv_acc_lut; they pick the fastest kernel
 * the CPU supports at run time (AVX2 when __builtin_cpu_supports says so, else a portable C kernel)
 * and are bit-identical to the references in qnn_conv.h (tests/test_kern.c proves it on random shapes).
 *
 * Design (both paths): lanes are output PIXELS, weights are broadcast. Per image the input is copied
 * into channel-planar, zero-padded "phase images" (stride s splits the padded input into s*s
 * polyphase components so that every tap is a contiguous load); rows are laid end to end, so a
 * vector spans consecutive flat positions q = oy * cx + ox, a few of which (ox >= wo) are computed
 * and discarded. Because each kernel (co, ci) only picks the base pointer of its plane or table,
 * per-kernel multiplier choice costs nothing in the inner loop.
 *  - separable: vpmaddwd on int16 pairs of horizontally adjacent taps (x[q + dx], x[q + dx + 1]), one
 *    vector for even and one for odd q; a 3x3 kernel is 6 madds (75 % of the slots do work).
 *    From int8 input (qnn_conv_acc_i8, the executor's entry) the phase images are built per image
 *    inside the parallel loop. When every activation transform is a rounding ((a + c) >> m << m:
 *    ROUP's R_m, the identity) only the input itself is stored and each kernel rounds the vector it
 *    loads ((x + c) & -(1 << m), two operations), so a kernel-level map keeps the exact kernel's
 *    memory footprint and its shared activation loads; other transforms get one stored plane each.
 *  - table: lanes are OUTPUT CHANNELS instead. Per kernel tap the weight is fixed, so a tap needs
 *    one column col_w[a] = lut[a][w], and only over the activations the call's input holds: its range
 *    lo..hi (one min/max pass per call; 0 included, the padding value) sets the rows' length (128
 *    entries for ReLU outputs 0..127, 256 at most). The used columns are transposed once per call;
 *    for a block of 8, 16 or 32 output channels, one input channel and one tap, the block's columns
 *    are interleaved into a row row[a - lo][0..cb-1] (int32, packed by 8x8 transposes) once per group
 *    of images (about 1 MB of accumulators), so that one 32-byte load + add accumulates 8
 *    channels' products for the activation at a position. The AVX2 kernel keeps a tile of positions
 *    x channels (8 accumulators) in registers over all rows of a pass (up to 160 KB of rows, all
 *    taps of one or more input channels); the bias, requantization and clamp happen when a group's
 *    sums are stored, so no int32 tensor goes beyond the group's buffer.
 *    (vpgatherdd, the obvious alternative, runs at ~0.5 lookups per cycle: several times slower.)
 * Work is split with OpenMP over images (or over pixel tiles when the batch is smaller than the
 * thread count); every output is computed by the same sequence of integer operations regardless of
 * the split, so results do not depend on the thread count. Team size: one rule (qnn_kern_team): the
 * caller's explicit count, OpenMP's default when none, and always 1 inside any enclosing OpenMP region
 * (active or not), so a caller's `threads = 1` is one thread and nested regions never oversubscribe.
 *
 * Scratch (packed weights, transposed tables, padded input copies, per-thread accumulators) comes
 * from the caller: qnn_conv_scratch_size says how much a call needs (as CMSIS-NN's
 * *_get_buffer_size), and the _team entries take it (the executor keeps it in its workspace); the
 * other entries allocate that much per call for convenience. Calls are cheapest with whole
 * batches (n images per call): per call the LUT path transposes every table in use (65536 entries
 * each) and the separable path packs the weights. Inside an enclosing OpenMP parallel region (the
 * executor's threads over image chunks) the kernels run single-threaded. */
#ifndef SRC_QNN_KERN_H
#define SRC_QNN_KERN_H

#include "qnn_conv.h"
#include "qnn_mul.h"

/* Same contract as qnn_conv_acc_ref(). planes: n_planes entries (1..255); plane_of (cout, cin) with
 * values < n_planes, or NULL for plane 0 everywhere. */
void qnn_conv_acc(const qnn_conv_shape *s, const int16_t *const *planes, int n_planes,
                  const uint8_t *plane_of, const int16_t *w, int32_t *acc);

/* The same from the int8 input in (n, h, w, cin): plane p is act_tf[p * 256 + (uint8_t)a] (n_planes
 * tables), or the input itself when act_tf is NULL (then n_planes must be 1). Planes are built per
 * image inside the call (the executor's path: no whole-batch int16 copy); a transform of the form
 * ((a + c) >> m) << m, the identity and ROUP's rounding among them, is applied in vector registers. */
void qnn_conv_acc_i8(const qnn_conv_shape *s, const int8_t *in, const int16_t *act_tf, int n_planes,
                     const uint8_t *plane_of, const int16_t *w, int32_t *acc);

/* Threads a kernel call runs on: 1 inside any OpenMP parallel region (even a one-thread, inactive
 * one: the enclosing code already chose its threads), else `requested` when > 0, else OpenMP's
 * default (omp_get_max_threads). Without OpenMP: 1. */
int qnn_kern_team(int requested);

/* Thread accounting for tests: the team size of every parallel loop of the kernels and the executor
 * is recorded (qnn_kern_note_team, called by a member of the team); qnn_kern_max_team returns the
 * largest seen since the last reset (reset = 1 also clears it). */
void qnn_kern_note_team(void);
int qnn_kern_max_team(int reset);

/* Where a call's results go: int32 accumulators, or, fused into the kernels' store, the int8 output
 * of bias + requantization + clamp (bit-identical to qnn_quant_requant_out of qnn_requant.h on the
 * accumulator; no int32 tensor is written). */
typedef struct qnn_conv_dst {
    int32_t *acc;          /* (n, ho, wo, cout) int32, or NULL for the int8 output: */
    int8_t *out;           /* (n, ho, wo, cout) int8 */
    const int32_t *bias;   /* cout entries or NULL (0) */
    const int32_t *mult;   /* cout Q31 multipliers */
    const int32_t *shift;  /* cout shifts, -31..30 (TFLite convention) */
    int32_t lo, hi;        /* output clamp within -128..127 */
} qnn_conv_dst;

/* Bytes of scratch one call needs: shape s (with its batch n), kind SEPARABLE/EXACT with n_tabs
 * planes or LUT with n_tabs tables, on qnn_kern_team(threads) threads. */
size_t qnn_conv_scratch_size(const qnn_conv_shape *s, qnn_mul_kind kind, int n_tabs, int threads);

/* qnn_conv_acc_i8 / qnn_conv_acc_lut on qnn_kern_team(threads) threads (the entries without _team
 * use qnn_kern_team(0)), into dst (accumulators or fused int8 output), with the caller's scratch: scratch_size bytes, at least
 * qnn_conv_scratch_size(s, kind, n_planes or n_luts, threads), or NULL to allocate per call. */
void qnn_conv_acc_i8_team(const qnn_conv_shape *s, const int8_t *in, const int16_t *act_tf, int n_planes,
                          const uint8_t *plane_of, const int16_t *w, const qnn_conv_dst *dst, int threads,
                          void *scratch, size_t scratch_size);
void qnn_conv_acc_lut_team(const qnn_conv_shape *s, const int8_t *in, const int8_t *w,
                           const int16_t *const *luts, int n_luts, const uint16_t *lut_of, const qnn_conv_dst *dst,
                           int threads, void *scratch, size_t scratch_size);

/* ---- The exact u8 path: vpmaddubsw (u8 x s8 -> int16 pair sums), then vpmaddwd by ones -> int32 ----
 * Lanes are output pixels (8 per vector, each vector 8 consecutive pixels of one output row, so no
 * computed position is discarded when wo >= 8; a row whose width is not a multiple of 8 ends with a
 * vector overlapping its predecessor), and the 4 bytes of a 32-bit lane are 4 consecutive INPUT
 * CHANNELS of one tap ("quads"), so no lane holds a zero tap (only the last quad of a layer whose cin
 * is not a multiple of 4, such as the first layer's 3 channels, holds zero weights). The input is
 * copied per image into quad-planar phase images (uint32 per pixel and quad, zero padded as in
 * qnn_kern_impl.h); weights are packed once, when the layer is set up (qnn_conv_u8_alloc).
 *
 * Exactness proof (qnn_conv_u8_proof, checked per layer at set-up; the layer falls back to the
 * int16 path when it fails). vpmaddubsw computes sat16(u1 w1 + u2 w2) for unsigned bytes u and
 * signed bytes w: it equals the exact sum exactly when the sum lies in -32768..32767. The kernel's
 * unsigned operand is u = a + off for an int8 activation a in a_lo..a_hi: off = 0 when a_lo >= 0
 * (ReLU outputs and the network input: a in 0..127 is the same byte as u), else off = 128 (u =
 * a ^ 0x80, in 0..255), with the exact correction -off * sum(w) per output channel added to the
 * accumulator's start (padding taps hold u = off, i.e. a = 0). With u in u_lo..u_hi (u_lo >= 0) the
 * extremes of u1 w1 + u2 w2 are at the corners: max = sum(w > 0 ? u_hi w : u_lo w), min =
 * sum(w > 0 ? u_lo w : u_hi w); the proof checks both bounds for every pair the kernel forms
 * (channels 4q, 4q + 1 and 4q + 2, 4q + 3 of one output channel and tap). Consequences: a in 0..127
 * is always safe (|sum| <= 2 * 127 * 128 = 32512), for any int8 weights; a signed input needs
 * |w1| + |w2| <= 128 over each pair (255 * 128 = 32640), which trained 3x3 layers rarely meet.
 * The int32 sums are exact for kh*kw*cin <= 65535 (|sum u w| <= 65535 * 255 * 128 < 2^31), and the
 * int32 additions wrap, so the final sum is exact even where a partial sum with the correction
 * would not fit. At run time the input is also checked against a_lo..a_hi (one min/max pass):
 * qnn_conv_u8_team refuses (returns 0, nothing written) an input the proof does not cover. */
typedef struct qnn_conv_u8 qnn_conv_u8;

/* 1 when the u8 path is exact for shape s (n ignored), weights w (cout, kh, kw, cin) and every input
 * activation in a_lo..a_hi (-128 <= a_lo <= a_hi <= 127), else 0 (see the proof above). */
int qnn_conv_u8_proof(const qnn_conv_shape *s, const int8_t *w, int32_t a_lo, int32_t a_hi);

/* The layer's packed weights and geometry (n of s ignored), or NULL when qnn_conv_u8_proof refuses.
 * Caller frees with qnn_conv_u8_free (NULL is a no-op). */
qnn_conv_u8 *qnn_conv_u8_alloc(const qnn_conv_shape *s, const int8_t *w, int32_t a_lo, int32_t a_hi);
void qnn_conv_u8_free(qnn_conv_u8 *k);

/* Bytes of scratch one call on n images needs on qnn_kern_team(threads) threads. */
size_t qnn_conv_u8_scratch_size(const qnn_conv_u8 *k, int32_t n, int threads);

/* The layer on n images: in (n, h, w, cin) int8 -> dst (accumulators or fused int8 output, as
 * qnn_conv_acc_i8_team), bit-identical to the exact reference, on qnn_kern_team(threads) threads,
 * with the caller's scratch (scratch_size >= qnn_conv_u8_scratch_size) or NULL (allocated per
 * call). Returns 1, or 0 without writing anything when an input value lies outside the proof's
 * a_lo..a_hi (the caller then runs the int16 path). AVX2 when available, portable otherwise. */
int qnn_conv_u8_team(const qnn_conv_u8 *k, int32_t n, const int8_t *in, const qnn_conv_dst *dst, int threads,
                     void *scratch, size_t scratch_size);

/* A separable multiplier (qnn_conv_acc_i8_team's act_tf, n_planes, plane_of, w_tf) on the u8 kernels
 * of its layer k, when every used activation transform is a rounding ((a + c) >> m) << m (ROUP's, the
 * identity): each kernel rounds its activation bytes on the fly ((x + c) & mask per byte, exact for x
 * in 0..127 and c < 2^m <= 128, so padding stays 0), and the transformed weights (-128..128) are packed
 * per call; a weight 128, beyond the signed byte, runs as 127 plus the kernel's rounded activation
 * added once more after the main loop. The proof is checked per call on the clamped weights for the
 * rounded range (max f over k's a_lo..a_hi, at most 128 for a rounding of 0..127: |pair| <= 128 *
 * (127 + 128) = 32640). Returns 1, or 0 with nothing written when it does not apply (k's input may be
 * negative, a used transform is not a rounding, the proof fails, or an input is outside k's range):
 * the caller then runs qnn_conv_acc_i8_team. Scratch: qnn_conv_u8_sep_scratch_size bytes or NULL.
 * When the roundings differ inside the 4-channel register blocks of at least a quarter of the
 * (block, quad) pairs (a random kernel-level map: nearly all), the 4-channel tiles would round each
 * activation once per kernel AND tap (2 operations per vpdpbusd); layers of stride 1 or 2 with kw = 3,
 * wo >= 8 and cout a multiple of 8 then run channel-lane tiles instead (lanes = 8 output channels,
 * each input word broadcast and rounded once per input row and reused by the 3 taps that read it;
 * qnn_kern_impl.h, kern_u8_co8_tile_avx2). Same sums, same results. */
size_t qnn_conv_u8_sep_scratch_size(const qnn_conv_u8 *k, int32_t n, int threads);
int qnn_conv_u8_sep_team(const qnn_conv_u8 *k, int32_t n, const int8_t *in, const int16_t *act_tf, int n_planes,
                         const uint8_t *plane_of, const int16_t *w_tf, const qnn_conv_dst *dst, int threads,
                         void *scratch, size_t scratch_size);

/* Test hook: while on (1), every dispatch picks the portable kernels even on an AVX2 CPU, so that
 * tests reach them through the _team entries. Process-wide; not for concurrent use. */
void qnn_kern_set_portable(int on);

/* Test and benchmark hook: while off (0), the u8 tiles use vpmaddubsw + vpmaddwd even on a CPU with
 * AVX-VNNI (default on). Process-wide; not for concurrent use. */
void qnn_kern_set_vnni(int on);

/* Test and benchmark hook: while off (0), separable maps whose roundings differ inside register blocks
 * run on the 4-channel u8 tiles instead of the channel-lane tiles (default on). Process-wide. */
void qnn_kern_set_co8(int on);
/* Calls that ran the channel-lane tiles since the last reset (reset = 1 also clears the count). */
long qnn_kern_co8_calls(int reset);

/* Same contract as qnn_conv_acc_lut_ref(). luts: n_luts tables; lut_of (cout, cin) with values
 * < n_luts, or NULL for table 0 everywhere. */
void qnn_conv_acc_lut(const qnn_conv_shape *s, const int8_t *in, const int8_t *w,
                      const int16_t *const *luts, int n_luts, const uint16_t *lut_of, int32_t *acc);

/* Bias, requantization and clamp of int32 accumulators to int8, bit-identical to
 *   out = clamp(qnn_quant_requant(sat32(x + bias[c]), mult[c], shift[c]), lo, hi)
 * (qnn_requant.h: TFLite's MultiplyByQuantizedMultiplier; sat32 saturates the 64-bit sum to int32).
 * x: (n_pix, c) int32; bias: c entries or NULL (0); mult, shift: c entries (shift in -31..30);
 * out: (n_pix, c) int8; lo <= hi within -128..127. AVX2 when the CPU has it (8 channels per vector),
 * portable otherwise. No allocation. */
void qnn_kern_requant(const int32_t *x, size_t n_pix, int32_t c, const int32_t *bias, const int32_t *mult,
                      const int32_t *shift, int32_t lo, int32_t hi, int8_t *out);
void qnn_kern_requant_generic(const int32_t *x, size_t n_pix, int32_t c, const int32_t *bias, const int32_t *mult,
                              const int32_t *shift, int32_t lo, int32_t hi, int8_t *out);
void qnn_kern_requant_avx2(const int32_t *x, size_t n_pix, int32_t c, const int32_t *bias, const int32_t *mult,
                           const int32_t *shift, int32_t lo, int32_t hi, int8_t *out);

/* TFLite int8 residual add, element-wise over n values:
 *   out = clamp(requant(requant(a << ls, m0, s0) + requant(b << ls, m1, s1), m2, s2), lo, hi)
 * (qnn_quant_requant; the inner sum wraps as int32). AVX2 (8 values per vector) when the CPU has it. */
typedef struct qnn_kern_add_params {
    int left_shift;          /* 0..23 */
    int32_t mult[3], shift[3]; /* inputs a, b, output */
    int32_t lo, hi;
} qnn_kern_add_params;
void qnn_kern_add(const int8_t *a, const int8_t *b, size_t n, const qnn_kern_add_params *p, int8_t *out);
void qnn_kern_add_generic(const int8_t *a, const int8_t *b, size_t n, const qnn_kern_add_params *p, int8_t *out);
void qnn_kern_add_avx2(const int8_t *a, const int8_t *b, size_t n, const qnn_kern_add_params *p, int8_t *out);

/* The same add as one table of every int8 pair: lut[(uint8_t)a * 256 + (uint8_t)b] (65536 bytes, the
 * caller's), built with qnn_kern_add; the executor builds one per add op once (qnn_int8_net_finish), so
 * that an element costs one lookup instead of three requantizations. */
void qnn_kern_add_table(const qnn_kern_add_params *p, int8_t *lut);
void qnn_kern_add_lut(const int8_t *a, const int8_t *b, size_t n, const int8_t *lut, int8_t *out);

/* Test hook: while on (1), qnn_conv_acc_lut runs the scalar table reference (qnn_conv_acc_lut_ref),
 * so that whole networks can be checked against it. Process-wide; not for concurrent use. */
void qnn_kern_set_reference(int on);

/* 1 when this CPU runs the AVX2 kernels (and the binary contains them), else 0. */
int qnn_kern_have_avx2(void);

/* 1 when this CPU also has AVX-VNNI (vpdpbusd on 256-bit vectors, VEX encoded), else 0. */
int qnn_kern_have_vnni(void);

/* The individual variants behind the dispatch, for tests and benchmarks that must force a path.
 * Same arguments and results as above. The _avx2 variants ASSERT qnn_kern_have_avx2(). */
void qnn_conv_acc_generic(const qnn_conv_shape *s, const int16_t *const *planes, int n_planes,
                          const uint8_t *plane_of, const int16_t *w, int32_t *acc);
void qnn_conv_acc_avx2(const qnn_conv_shape *s, const int16_t *const *planes, int n_planes,
                       const uint8_t *plane_of, const int16_t *w, int32_t *acc);
void qnn_conv_acc_i8_generic(const qnn_conv_shape *s, const int8_t *in, const int16_t *act_tf, int n_planes,
                             const uint8_t *plane_of, const int16_t *w, int32_t *acc);
void qnn_conv_acc_i8_avx2(const qnn_conv_shape *s, const int8_t *in, const int16_t *act_tf, int n_planes,
                          const uint8_t *plane_of, const int16_t *w, int32_t *acc);
void qnn_conv_acc_lut_generic(const qnn_conv_shape *s, const int8_t *in, const int8_t *w,
                              const int16_t *const *luts, int n_luts, const uint16_t *lut_of,
                              int32_t *acc);
void qnn_conv_acc_lut_avx2(const qnn_conv_shape *s, const int8_t *in, const int8_t *w,
                           const int16_t *const *luts, int n_luts, const uint16_t *lut_of, int32_t *acc);

#endif
