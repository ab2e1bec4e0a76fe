/* Optimized int8 convolutions (qnn_kern.h) against the scalar references (qnn_conv_ref.c), bit for bit:
 * random shapes (stride 1, 2 and 3, asymmetric padding, 1x1, Cin = 3, Cout not a multiple of the
 * register block, odd sizes, batches), random data including the extremes -128 and 128, random
 * per-kernel plane choice over up to 7 planes, random per-kernel tables with lut[0][w] != 0. Each
 * variant (portable, AVX2 when the CPU has it, and the dispatch) is checked separately, at 1 and 2
 * threads and on both threading schemes (batch >= threads: split over images; batch 1: over tiles).
 * The int8-input API (qnn_conv_acc_i8) is checked the same way under roundings (applied by the
 * kernels on the fly, per kernel or alike in a register block), truncations, and random tables. */
#include "tu.h"

#include <stdint.h>
#ifdef _OPENMP
#include <omp.h>
#endif

#include "qnn_kern.h"
#include "qnn_quant.h"

/* splitmix64: a local, explicit generator so the test's data never depends on other modules */
static uint64_t sm_next(uint64_t *st)
{
    uint64_t z = (*st += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static int32_t sm_range(uint64_t *st, int32_t lo, int32_t hi) /* inclusive */
{
    return lo + (int32_t)(sm_next(st) % (uint64_t)(hi - lo + 1));
}

/* a value in -128..128 with the extremes over-represented */
static int16_t sm_val(uint64_t *st)
{
    uint32_t r = (uint32_t)(sm_next(st) % 8);
    if (r == 0) return -128;
    if (r == 1) return 128;
    return (int16_t)sm_range(st, -128, 128);
}

static void set_threads(int nt)
{
#ifdef _OPENMP
    omp_set_num_threads(nt);
#else
    (void)nt;
#endif
}

static qnn_conv_shape random_shape(uint64_t *st)
{
    qnn_conv_shape s;
    for (;;) {
        memset(&s, 0, sizeof s);
        s.n = sm_range(st, 1, 3);
        s.h = sm_range(st, 1, 13);
        s.w = sm_range(st, 1, 19);
        int32_t r = sm_range(st, 0, 5);
        s.cin = r == 0 ? 3 : r == 1 ? 1 : sm_range(st, 1, 21);
        s.cout = sm_range(st, 1, 19);
        int32_t kk = sm_range(st, 0, 9);
        s.kh = kk < 5 ? 3 : kk < 7 ? 1 : sm_range(st, 1, 5);
        s.kw = kk < 5 ? 3 : kk < 7 ? 1 : sm_range(st, 1, 5);
        s.stride_h = sm_range(st, 1, 2);
        s.stride_w = sm_range(st, 0, 5) == 0 ? sm_range(st, 1, 3) : s.stride_h;
        s.pad_t = sm_range(st, 0, 2);
        s.pad_l = sm_range(st, 0, 2);
        s.pad_b = sm_range(st, 0, 2);
        s.pad_r = sm_range(st, 0, 2);
        if (qnn_conv_shape_finish(&s) == 0) return s;
    }
}

typedef struct sep_case {
    qnn_conv_shape s;
    int n_planes;
    int16_t *pl[8];
    uint8_t *plane_of;
    int16_t *w;
} sep_case;

static void sep_case_fill(sep_case *c, uint64_t *st, int n_planes, int extremes_only)
{
    const qnn_conv_shape *s = &c->s;
    size_t in_len = (size_t)s->n * s->h * s->w * s->cin, w_len = (size_t)s->cout * s->kh * s->kw * s->cin;
    c->n_planes = n_planes;
    for (int p = 0; p < n_planes; p++) {
        c->pl[p] = xmalloc(in_len * sizeof(int16_t));
        for (size_t i = 0; i < in_len; i++)
            c->pl[p][i] = extremes_only ? (sm_next(st) & 1 ? 128 : -128) : sm_val(st);
    }
    c->w = xmalloc(w_len * sizeof(int16_t));
    for (size_t i = 0; i < w_len; i++) c->w[i] = extremes_only ? (sm_next(st) & 1 ? 128 : -128) : sm_val(st);
    c->plane_of = NULL;
    if (n_planes > 1) {
        c->plane_of = xmalloc((size_t)s->cout * s->cin);
        for (size_t i = 0; i < (size_t)s->cout * s->cin; i++) c->plane_of[i] = (uint8_t)sm_range(st, 0, n_planes - 1);
    }
}

static void sep_case_free(sep_case *c)
{
    for (int p = 0; p < c->n_planes; p++) free(c->pl[p]);
    free(c->plane_of);
    free(c->w);
}

typedef void (*sep_fn)(const qnn_conv_shape *, const int16_t *const *, int, const uint8_t *, const int16_t *,
                       int32_t *);

/* Runs every variant at 1 and 2 threads against the reference; returns the number checked. */
static int sep_check(const sep_case *c, const char *what)
{
    const qnn_conv_shape *s = &c->s;
    size_t out_len = (size_t)s->n * s->ho * s->wo * s->cout;
    int32_t *ref = xmalloc(out_len * sizeof *ref), *got = xmalloc(out_len * sizeof *got);
    const int16_t *const *planes = (const int16_t *const *)c->pl;
    qnn_conv_acc_ref(s, planes, c->plane_of, c->w, ref);
    sep_fn fns[3] = {qnn_conv_acc_generic, qnn_conv_acc, qnn_conv_acc_avx2};
    const char *names[3] = {"generic", "dispatch", "avx2"};
    int nf = qnn_kern_have_avx2() ? 3 : 2, checked = 0;
    for (int f = 0; f < nf; f++)
        for (int nt = 1; nt <= 2; nt++) {
            set_threads(nt);
            memset(got, 0x5a, out_len * sizeof *got);
            fns[f](s, planes, c->n_planes, c->plane_of, c->w, got);
            for (size_t i = 0; i < out_len; i++)
                if (got[i] != ref[i])
                    ck_abort_msg("%s %s threads %d: n%d h%d w%d cin%d cout%d k%dx%d s%dx%d pad %d,%d,%d,%d "
                                 "planes %d: acc[%zu] = %d, reference %d",
                                 what, names[f], nt, s->n, s->h, s->w, s->cin, s->cout, s->kh, s->kw,
                                 s->stride_h, s->stride_w, s->pad_t, s->pad_l, s->pad_b, s->pad_r,
                                 c->n_planes, i, got[i], ref[i]);
            checked++;
        }
    set_threads(2);
    free(ref);
    free(got);
    return checked;
}

START_TEST(sep_random_shapes_match_reference)
{
    uint64_t st = 12345;
    int checked = 0;
    for (int iter = 0; iter < 300; iter++) {
        sep_case c;
        c.s = random_shape(&st);
        int np = iter % 3 == 0 ? 1 : sm_range(&st, 2, 7);
        sep_case_fill(&c, &st, np, 0);
        checked += sep_check(&c, "random");
        sep_case_free(&c);
    }
    ck_assert_int_eq(checked, 300 * 2 * (qnn_kern_have_avx2() ? 3 : 2));
}
END_TEST

START_TEST(sep_extreme_values_match_reference)
{
    /* all operands +-128: the largest products and sums a layer can produce (|acc| up to 2^14 * taps) */
    uint64_t st = 777;
    qnn_conv_shape shapes[] = {
        {.n = 2, .h = 9, .w = 9, .cin = 64, .cout = 9, .kh = 3, .kw = 3, .stride_h = 1, .stride_w = 1,
         .pad_t = 1, .pad_l = 1, .pad_b = 1, .pad_r = 1},
        {.n = 1, .h = 8, .w = 8, .cin = 32, .cout = 5, .kh = 3, .kw = 3, .stride_h = 2, .stride_w = 2,
         .pad_t = 0, .pad_l = 0, .pad_b = 1, .pad_r = 1},
    };
    for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++) {
        sep_case c;
        c.s = shapes[i];
        ck_assert_int_eq(qnn_conv_shape_finish(&c.s), 0);
        sep_case_fill(&c, &st, 2, 1);
        sep_check(&c, "extremes");
        /* every plane +128 and every weight +128: each output is exactly 128 * 128 * taps inside */
        for (int p = 0; p < c.n_planes; p++)
            for (size_t j = 0; j < (size_t)c.s.n * c.s.h * c.s.w * c.s.cin; j++) c.pl[p][j] = 128;
        for (size_t j = 0; j < (size_t)c.s.cout * c.s.kh * c.s.kw * c.s.cin; j++) c.w[j] = 128;
        int32_t *got = xmalloc((size_t)c.s.n * c.s.ho * c.s.wo * c.s.cout * sizeof *got);
        qnn_conv_acc(&c.s, (const int16_t *const *)c.pl, c.n_planes, c.plane_of, c.w, got);
        /* output (1, 1) of the first image, channel 0: all 9 taps are inside the input */
        ck_assert_int_eq(got[(size_t)(1 * c.s.wo + 1) * c.s.cout], 128 * 128 * 9 * c.s.cin);
        free(got);
        sep_case_free(&c);
    }
}
END_TEST

START_TEST(sep_resnet8_shapes_match_reference)
{
    /* the layer shapes of ResNet-8 (stride-2 3x3 convs padded [0, 0, 1, 1]), 7 planes chosen per kernel */
    uint64_t st = 4242;
    const qnn_conv_shape shapes[] = {
        {2, 32, 32, 3, 16, 3, 3, 1, 1, 1, 1, 1, 1, 0, 0},  {2, 32, 32, 16, 16, 3, 3, 1, 1, 1, 1, 1, 1, 0, 0},
        {2, 32, 32, 16, 32, 3, 3, 2, 2, 0, 0, 1, 1, 0, 0}, {2, 32, 32, 16, 32, 1, 1, 2, 2, 0, 0, 0, 0, 0, 0},
        {2, 16, 16, 32, 32, 3, 3, 1, 1, 1, 1, 1, 1, 0, 0}, {2, 16, 16, 32, 64, 3, 3, 2, 2, 0, 0, 1, 1, 0, 0},
        {2, 16, 16, 32, 64, 1, 1, 2, 2, 0, 0, 0, 0, 0, 0}, {2, 8, 8, 64, 64, 3, 3, 1, 1, 1, 1, 1, 1, 0, 0},
        {2, 1, 1, 64, 10, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0},
    };
    for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++) {
        sep_case c;
        c.s = shapes[i];
        ck_assert_int_eq(qnn_conv_shape_finish(&c.s), 0);
        sep_case_fill(&c, &st, i % 2 ? 7 : 1, 0);
        sep_check(&c, "resnet8");
        sep_case_free(&c);
    }
}
END_TEST

/* ---- the int8-input separable API (qnn_conv_acc_i8): planes built inside the call ---- */

typedef void (*sep_i8_fn)(const qnn_conv_shape *, const int8_t *, const int16_t *, int, const uint8_t *,
                          const int16_t *, int32_t *);

enum { TF_ROUND, TF_TRUNC, TF_TABLE };

/* Transform kinds: TF_ROUND is ROUP's rounding R_m ((a + 2^(m-1)) >> m << m, applied by the kernels
 * on the fly), TF_TRUNC drops m bits (c = 0, also on the fly), TF_TABLE is a random table with
 * f(0) = 0 (copied through its table). */
static void tf_fill(int16_t *tf, int kind, int m, uint64_t *st)
{
    for (int v = -128; v < 128; v++) {
        int32_t r;
        if (kind == TF_ROUND)
            r = m == 0 ? v : ((v + (1 << (m - 1))) >> m) * (1 << m);
        else if (kind == TF_TRUNC)
            r = (v >> m) * (1 << m);
        else
            r = v == 0 ? 0 : sm_range(st, -128, 128);
        tf[(uint8_t)v] = (int16_t)r;
    }
}

/* One case: n_planes transforms of the given kinds (mixed: one table among roundings), plane choice
 * per kernel (block = 0) or per block of 4 output channels (block = 1, so the kernels of a register
 * block round alike). Checks every variant at 1 and 2 threads against the reference on planes
 * tf[p][in]. */
static int sep_i8_check(const qnn_conv_shape *s, uint64_t *st, int n_planes, int kind, int block)
{
    size_t in_len = (size_t)s->n * s->h * s->w * s->cin, w_len = (size_t)s->cout * s->kh * s->kw * s->cin;
    size_t out_len = (size_t)s->n * s->ho * s->wo * s->cout;
    int8_t *in = xmalloc(in_len);
    int16_t *w = xmalloc(w_len * sizeof *w), *tf = xmalloc((size_t)n_planes * 256 * sizeof *tf);
    int16_t *pl[8];
    for (size_t i = 0; i < in_len; i++) in[i] = (int8_t)(sm_range(st, 0, 7) == 0 ? -128 : sm_range(st, -128, 127));
    for (size_t i = 0; i < w_len; i++) w[i] = sm_val(st);
    for (int p = 0; p < n_planes; p++) {
        int k = kind == TF_TABLE ? (p == n_planes - 1 ? TF_TABLE : TF_ROUND) : kind;
        tf_fill(tf + p * 256, k, sm_range(st, 0, 7), st);
        pl[p] = xmalloc(in_len * sizeof(int16_t));
        for (size_t i = 0; i < in_len; i++) pl[p][i] = tf[p * 256 + (uint8_t)in[i]];
    }
    uint8_t *plane_of = xmalloc((size_t)s->cout * s->cin);
    for (int32_t co = 0; co < s->cout; co++)
        for (int32_t ci = 0; ci < s->cin; ci++)
            plane_of[(size_t)co * s->cin + ci] =
                (uint8_t)(block ? (co / 4 + ci) % n_planes : sm_range(st, 0, n_planes - 1));
    int32_t *ref = xmalloc(out_len * sizeof *ref), *got = xmalloc(out_len * sizeof *got);
    qnn_conv_acc_ref(s, (const int16_t *const *)pl, plane_of, w, ref);
    sep_i8_fn fns[3] = {qnn_conv_acc_i8_generic, qnn_conv_acc_i8, qnn_conv_acc_i8_avx2};
    const char *names[3] = {"generic", "dispatch", "avx2"};
    int nf = qnn_kern_have_avx2() ? 3 : 2, checked = 0;
    for (int f = 0; f < nf; f++)
        for (int nt = 1; nt <= 2; nt++) {
            set_threads(nt);
            memset(got, 0x5a, out_len * sizeof *got);
            fns[f](s, in, tf, n_planes, plane_of, w, got);
            for (size_t i = 0; i < out_len; i++)
                if (got[i] != ref[i])
                    ck_abort_msg("i8 %s threads %d kind %d block %d: n%d h%d w%d cin%d cout%d k%dx%d s%dx%d "
                                 "planes %d: acc[%zu] = %d, reference %d",
                                 names[f], nt, kind, block, s->n, s->h, s->w, s->cin, s->cout, s->kh, s->kw,
                                 s->stride_h, s->stride_w, n_planes, i, got[i], ref[i]);
            checked++;
        }
    /* the identity (act_tf NULL) equals the reference on the input itself */
    for (size_t i = 0; i < in_len; i++) pl[0][i] = in[i];
    qnn_conv_acc_ref(s, (const int16_t *const *)pl, NULL, w, ref);
    for (int f = 0; f < nf; f++) {
        memset(got, 0x5a, out_len * sizeof *got);
        fns[f](s, in, NULL, 1, NULL, w, got);
        ck_assert_msg(memcmp(got, ref, out_len * sizeof *got) == 0, "i8 %s identity differs", names[f]);
        checked++;
    }
    set_threads(2);
    for (int p = 0; p < n_planes; p++) free(pl[p]);
    free(in), free(w), free(tf), free(plane_of), free(ref), free(got);
    return checked;
}

START_TEST(sep_i8_random_shapes_match_reference)
{
    uint64_t st = 31337;
    int checked = 0, per = 2 * (qnn_kern_have_avx2() ? 3 : 2) + (qnn_kern_have_avx2() ? 3 : 2);
    for (int iter = 0; iter < 240; iter++) {
        qnn_conv_shape s = random_shape(&st);
        int kind = iter % 3, block = (iter / 3) % 2;
        int np = iter % 5 == 0 ? 1 : sm_range(&st, 2, 8);
        checked += sep_i8_check(&s, &st, np, kind, block);
    }
    ck_assert_int_eq(checked, 240 * per);
}
END_TEST

START_TEST(sep_i8_resnet8_shapes_match_reference)
{
    /* ResNet-8's shapes under a kernel-level ROUP map (7 roundings), a block-level one and a mix with
     * a table */
    uint64_t st = 99;
    const qnn_conv_shape shapes[] = {
        {2, 32, 32, 3, 16, 3, 3, 1, 1, 1, 1, 1, 1, 0, 0},  {2, 32, 32, 16, 32, 3, 3, 2, 2, 0, 0, 1, 1, 0, 0},
        {2, 16, 16, 32, 64, 1, 1, 2, 2, 0, 0, 0, 0, 0, 0}, {2, 8, 8, 64, 64, 3, 3, 1, 1, 1, 1, 1, 1, 0, 0},
        {2, 1, 1, 64, 10, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0},
    };
    for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++) {
        qnn_conv_shape s = shapes[i];
        ck_assert_int_eq(qnn_conv_shape_finish(&s), 0);
        sep_i8_check(&s, &st, 7, TF_ROUND, 0);
        sep_i8_check(&s, &st, 7, TF_ROUND, 1);
        sep_i8_check(&s, &st, 4, TF_TABLE, 0);
    }
}
END_TEST

typedef void (*lut_fn)(const qnn_conv_shape *, const int8_t *, const int8_t *, const int16_t *const *, int,
                       const uint16_t *, int32_t *);

static void lut_check(const qnn_conv_shape *s, uint64_t *st, int n_luts, int extreme_tables)
{
    size_t in_len = (size_t)s->n * s->h * s->w * s->cin, w_len = (size_t)s->cout * s->kh * s->kw * s->cin;
    size_t out_len = (size_t)s->n * s->ho * s->wo * s->cout;
    int8_t *in = xmalloc(in_len), *w = xmalloc(w_len);
    for (size_t i = 0; i < in_len; i++) in[i] = (int8_t)sm_range(st, -128, 127);
    for (size_t i = 0; i < w_len; i++) w[i] = (int8_t)sm_range(st, -128, 127);
    int16_t *luts[8];
    for (int t = 0; t < n_luts; t++) {
        luts[t] = xmalloc(65536 * sizeof(int16_t));
        for (int i = 0; i < 65536; i++)
            luts[t][i] = extreme_tables ? (int16_t)(i & 1 ? -32768 : 32767) : (int16_t)sm_range(st, -32768, 32767);
        ck_assert_int_ne(luts[t][0 * 256 + 1], 0); /* padding taps must go through lut[0][w] */
    }
    uint16_t *lut_of = NULL;
    if (n_luts > 1) {
        lut_of = xmalloc((size_t)s->cout * s->cin * sizeof *lut_of);
        for (size_t i = 0; i < (size_t)s->cout * s->cin; i++) lut_of[i] = (uint16_t)sm_range(st, 0, n_luts - 1);
    }
    int32_t *ref = xmalloc(out_len * sizeof *ref), *got = xmalloc(out_len * sizeof *got);
    qnn_conv_acc_lut_ref(s, in, w, (const int16_t *const *)luts, lut_of, ref);
    lut_fn fns[3] = {qnn_conv_acc_lut_generic, qnn_conv_acc_lut, qnn_conv_acc_lut_avx2};
    const char *names[3] = {"generic", "dispatch", "avx2"};
    int nf = qnn_kern_have_avx2() ? 3 : 2;
    for (int f = 0; f < nf; f++)
        for (int nt = 1; nt <= 2; nt++) {
            set_threads(nt);
            memset(got, 0x5a, out_len * sizeof *got);
            fns[f](s, in, w, (const int16_t *const *)luts, n_luts, lut_of, got);
            for (size_t i = 0; i < out_len; i++)
                if (got[i] != ref[i])
                    ck_abort_msg("lut %s threads %d: n%d h%d w%d cin%d cout%d k%dx%d s%dx%d pad %d,%d,%d,%d "
                                 "tables %d: acc[%zu] = %d, reference %d",
                                 names[f], nt, s->n, s->h, s->w, s->cin, s->cout, s->kh, s->kw, s->stride_h,
                                 s->stride_w, s->pad_t, s->pad_l, s->pad_b, s->pad_r, n_luts, i, got[i], ref[i]);
        }
    set_threads(2);
    for (int t = 0; t < n_luts; t++) free(luts[t]);
    free(lut_of);
    free(in);
    free(w);
    free(ref);
    free(got);
}

START_TEST(lut_random_shapes_match_reference)
{
    uint64_t st = 999;
    for (int iter = 0; iter < 150; iter++) {
        qnn_conv_shape s = random_shape(&st);
        lut_check(&s, &st, iter % 3 == 0 ? 1 : sm_range(&st, 2, 7), 0);
    }
}
END_TEST

START_TEST(lut_extreme_tables_and_resnet8_shapes_match_reference)
{
    uint64_t st = 31337;
    qnn_conv_shape s1 = {.n = 2, .h = 7, .w = 11, .cin = 64, .cout = 6, .kh = 3, .kw = 3, .stride_h = 1,
                         .stride_w = 1, .pad_t = 1, .pad_l = 1, .pad_b = 1, .pad_r = 1};
    ck_assert_int_eq(qnn_conv_shape_finish(&s1), 0);
    lut_check(&s1, &st, 3, 1);
    const qnn_conv_shape shapes[] = {
        {2, 32, 32, 3, 16, 3, 3, 1, 1, 1, 1, 1, 1, 0, 0},  {1, 32, 32, 16, 32, 3, 3, 2, 2, 0, 0, 1, 1, 0, 0},
        {2, 16, 16, 32, 64, 1, 1, 2, 2, 0, 0, 0, 0, 0, 0}, {2, 8, 8, 64, 64, 3, 3, 1, 1, 1, 1, 1, 1, 0, 0},
        {3, 1, 1, 64, 10, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0},
    };
    for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++) {
        qnn_conv_shape s = shapes[i];
        ck_assert_int_eq(qnn_conv_shape_finish(&s), 0);
        lut_check(&s, &st, 7, 0);
    }
}
END_TEST

START_TEST(lut_exact_table_equals_separable_path)
{
    /* the exact table through the LUT path equals the exact product through the separable path */
    uint64_t st = 5;
    qnn_conv_shape s = {.n = 2, .h = 10, .w = 10, .cin = 5, .cout = 7, .kh = 3, .kw = 3, .stride_h = 2,
                        .stride_w = 2, .pad_t = 0, .pad_l = 0, .pad_b = 1, .pad_r = 1};
    ck_assert_int_eq(qnn_conv_shape_finish(&s), 0);
    size_t in_len = (size_t)s.n * s.h * s.w * s.cin, w_len = (size_t)s.cout * 9 * s.cin;
    size_t out_len = (size_t)s.n * s.ho * s.wo * s.cout;
    int8_t *in = xmalloc(in_len), *w = xmalloc(w_len);
    int16_t *in16 = xmalloc(in_len * 2), *w16 = xmalloc(w_len * 2), *lut = xmalloc(65536 * 2);
    for (size_t i = 0; i < in_len; i++) in16[i] = in[i] = (int8_t)sm_range(&st, -128, 127);
    for (size_t i = 0; i < w_len; i++) w16[i] = w[i] = (int8_t)sm_range(&st, -128, 127);
    for (int a = 0; a < 256; a++)
        for (int b = 0; b < 256; b++) lut[a * 256 + b] = (int16_t)((int8_t)a * (int8_t)b);
    int32_t *x = xmalloc(out_len * 4), *y = xmalloc(out_len * 4);
    const int16_t *luts[1] = {lut}, *planes[1] = {in16};
    qnn_conv_acc_lut(&s, in, w, luts, 1, NULL, x);
    qnn_conv_acc(&s, planes, 1, NULL, w16, y);
    ck_assert_mem_eq(x, y, out_len * 4);
    free(in), free(w), free(in16), free(w16), free(lut), free(x), free(y);
}
END_TEST

START_TEST(requant_matches_scalar)
{
    /* every shift, random multipliers (including 0 and INT32_MIN), accumulators at and near the
     * int32 extremes, biases that overflow the sum, ReLU and full clamps, c not a multiple of 8 */
    uint64_t st = 8080;
    const int32_t cs[] = {8, 13, 64, 3};
    for (size_t ic = 0; ic < sizeof cs / sizeof cs[0]; ic++) {
        int32_t c = cs[ic];
        size_t n_pix = 257;
        int32_t *x = xmalloc(n_pix * c * sizeof *x), *bias = xmalloc(c * sizeof *bias);
        int32_t *mult = xmalloc(c * sizeof *mult), *shift = xmalloc(c * sizeof *shift);
        int8_t *ref = xmalloc(n_pix * c), *got = xmalloc(n_pix * c);
        for (int32_t j = 0; j < c; j++) {
            int32_t r = sm_range(&st, 0, 9);
            mult[j] = r == 0 ? 0 : r == 1 ? INT32_MIN : r == 2 ? INT32_MAX : (int32_t)(sm_next(&st) >> 33) | (1 << 30);
            shift[j] = j < 62 ? j - 31 : sm_range(&st, -31, 30);
            bias[j] = sm_range(&st, 0, 3) == 0 ? (sm_next(&st) & 1 ? INT32_MAX - 5 : INT32_MIN + 5)
                                               : sm_range(&st, -100000, 100000);
        }
        for (size_t i = 0; i < n_pix * c; i++) {
            int32_t r = sm_range(&st, 0, 9);
            x[i] = r == 0 ? INT32_MIN : r == 1 ? INT32_MAX : r == 2 ? (int32_t)sm_next(&st) : sm_range(&st, -300000, 300000);
        }
        const int32_t clamps[2][2] = {{-128, 127}, {0, 127}};
        for (int k = 0; k < 2; k++) {
            for (int withbias = 0; withbias < 2; withbias++) {
                const int32_t *b = withbias ? bias : NULL;
                for (size_t p = 0; p < n_pix; p++)
                    for (int32_t j = 0; j < c; j++) {
                        int64_t v = (int64_t)x[p * c + j] + (b ? b[j] : 0);
                        v = v > INT32_MAX ? INT32_MAX : v < INT32_MIN ? INT32_MIN : v;
                        int32_t q = qnn_quant_requant((int32_t)v, mult[j], shift[j]);
                        ref[p * c + j] = (int8_t)(q < clamps[k][0] ? clamps[k][0] : q > clamps[k][1] ? clamps[k][1] : q);
                    }
                memset(got, 0x55, n_pix * c);
                qnn_kern_requant_generic(x, n_pix, c, b, mult, shift, clamps[k][0], clamps[k][1], got);
                ck_assert_mem_eq(got, ref, n_pix * c);
                if (qnn_kern_have_avx2()) {
                    memset(got, 0x55, n_pix * c);
                    qnn_kern_requant_avx2(x, n_pix, c, b, mult, shift, clamps[k][0], clamps[k][1], got);
                    for (size_t i = 0; i < n_pix * c; i++)
                        if (got[i] != ref[i])
                            ck_abort_msg("avx2 requant c %d [%zu]: x %d bias %d mult %d shift %d: %d, reference %d", c, i,
                                         x[i], b ? b[i % c] : 0, mult[i % c], shift[i % c], got[i], ref[i]);
                }
                memset(got, 0x55, n_pix * c);
                qnn_kern_requant(x, n_pix, c, b, mult, shift, clamps[k][0], clamps[k][1], got);
                ck_assert_mem_eq(got, ref, n_pix * c);
            }
        }
        /* a hand-checked value: 1000 * 2^30 / 2^31 = 500, shift -2 -> 125 */
        int32_t one_x = 1000, one_m = 1 << 30, one_s = -2;
        int8_t one_o;
        qnn_kern_requant(&one_x, 1, 1, NULL, &one_m, &one_s, -128, 127, &one_o);
        ck_assert_int_eq(one_o, 125);
        free(x), free(bias), free(mult), free(shift), free(ref), free(got);
    }
}
END_TEST

START_TEST(team_rule_one_thread_means_one)
{
#ifdef _OPENMP
    /* the rule: explicit counts outside regions, OpenMP's default for 0, 1 inside any region */
    set_threads(3);
    ck_assert_int_eq(qnn_kern_team(0), 3);
    ck_assert_int_eq(qnn_kern_team(2), 2);
    int inside[2] = {-1, -1};
#pragma omp parallel num_threads(1)
    {
        inside[0] = qnn_kern_team(0);
        inside[1] = qnn_kern_team(4);
    }
    ck_assert_int_eq(inside[0], 1);
    ck_assert_int_eq(inside[1], 1);
    /* a kernel called inside a one-thread (inactive) region runs on that thread alone: the old rule
     * (omp_in_parallel) saw no enclosing region there and opened a team of the default size */
    uint64_t st = 99;
    qnn_conv_shape s = {.n = 4, .h = 8, .w = 8, .cin = 8, .cout = 8, .kh = 3, .kw = 3, .stride_h = 1, .stride_w = 1,
                        .pad_t = 1, .pad_l = 1, .pad_b = 1, .pad_r = 1};
    ck_assert_int_eq(qnn_conv_shape_finish(&s), 0);
    size_t in_len = (size_t)s.n * s.h * s.w * s.cin, w_len = (size_t)s.cout * 9 * s.cin;
    int8_t *in = xmalloc(in_len), *w8 = xmalloc(w_len);
    int16_t *w = xmalloc(w_len * sizeof *w);
    for (size_t i = 0; i < in_len; i++) in[i] = (int8_t)sm_range(&st, -128, 127);
    for (size_t i = 0; i < w_len; i++) w[i] = w8[i] = (int8_t)sm_range(&st, -127, 127);
    int32_t *acc = xmalloc((size_t)s.n * s.ho * s.wo * s.cout * sizeof *acc);
    int16_t *lut = xmalloc(65536 * sizeof *lut);
    for (int a = 0; a < 256; a++)
        for (int b = 0; b < 256; b++) lut[a * 256 + b] = (int16_t)((int8_t)a * (int8_t)b);
    const int16_t *luts[1] = {lut};
    set_threads(2);
    qnn_kern_max_team(1);
    qnn_conv_acc_i8(&s, in, NULL, 1, NULL, w, acc);
    ck_assert_int_eq(qnn_kern_max_team(1), 2); /* the probe sees a real team */
#pragma omp parallel num_threads(1)
    {
        qnn_conv_acc_i8(&s, in, NULL, 1, NULL, w, acc);
        qnn_conv_acc_lut(&s, in, w8, luts, 1, NULL, acc);
    }
    ck_assert_int_eq(qnn_kern_max_team(1), 1);
    /* an explicit count outside regions is obeyed, also below the default */
    qnn_conv_acc_i8_team(&s, in, NULL, 1, NULL, w, &(qnn_conv_dst){.acc = acc}, 1, NULL, 0);
    qnn_conv_acc_lut_team(&s, in, w8, luts, 1, NULL, &(qnn_conv_dst){.acc = acc}, 1, NULL, 0);
    ck_assert_int_eq(qnn_kern_max_team(1), 1);
    /* nested inside a two-thread region: never a nested team */
#pragma omp parallel num_threads(2)
    qnn_conv_acc_i8_team(&s, in, NULL, 1, NULL, w, &(qnn_conv_dst){.acc = acc}, 2, NULL, 0);
    ck_assert_int_eq(qnn_kern_max_team(1), 1);
    free(in), free(w8), free(w), free(acc), free(lut);
#endif
}
END_TEST

/* Random requantization constants for cout channels, extremes over-represented: multipliers 0,
 * INT32_MIN, INT32_MAX, 2^30 and random Q31 values; every shift -31..30 across channels; biases that
 * overflow the int32 sum. */
static void rq_fill(uint64_t *st, int32_t cout, int32_t *bias, int32_t *mult, int32_t *shift)
{
    for (int32_t j = 0; j < cout; j++) {
        int32_t r = sm_range(st, 0, 9);
        mult[j] = r == 0 ? 0 : r == 1 ? INT32_MIN : r == 2 ? INT32_MAX : r == 3 ? 1 << 30
                                                                                : (int32_t)(sm_next(st) >> 33) | (1 << 30);
        int32_t q = sm_range(st, 0, 3);
        shift[j] = q == 0 ? sm_range(st, -31, 30) : q == 1 ? sm_range(st, -12, -5) : sm_range(st, 0, 2) - (j % 62 == 0 ? 31 : 8);
        bias[j] = sm_range(st, 0, 5) == 0 ? (sm_next(st) & 1 ? INT32_MAX - 3 : INT32_MIN + 3) : sm_range(st, -40000, 40000);
    }
}

/* Fused int8 output of one call against the reference accumulators requantized by the scalar
 * qnn_quant_requant_out. */
static void fused_expect(const qnn_conv_shape *s, const int32_t *ref_acc, const qnn_conv_dst *d, const int8_t *got,
                         const char *what)
{
    size_t out_len = (size_t)s->n * s->ho * s->wo * s->cout;
    for (size_t i = 0; i < out_len; i++) {
        size_t c = i % (size_t)s->cout;
        int8_t want = qnn_quant_requant_out(ref_acc[i], d->bias ? d->bias[c] : 0, d->mult[c], d->shift[c], d->lo, d->hi);
        if (got[i] != want)
            ck_abort_msg("%s: n%d h%d w%d cin%d cout%d k%dx%d s%dx%d: out[%zu] = %d, reference %d (acc %d bias %d "
                         "mult %d shift %d clamp %d..%d)",
                         what, s->n, s->h, s->w, s->cin, s->cout, s->kh, s->kw, s->stride_h, s->stride_w, i, got[i],
                         want, ref_acc[i], d->bias ? d->bias[c] : 0, d->mult[c], d->shift[c], d->lo, d->hi);
    }
}

START_TEST(fused_requant_matches_reference)
{
    /* bias + requantization + clamp in the kernels' store (separable AVX2 and portable, rounding on
     * the fly, stored planes, tables): equal to the int32 reference requantized by the scalar formula,
     * under extreme multipliers/shifts, saturating biases and three clamps, with the caller's scratch
     * of the queried size */
    uint64_t st = 4242;
    const int32_t clamps[3][2] = {{-128, 127}, {0, 127}, {-5, 7}};
    int checked = 0;
    for (int iter = 0; iter < 120; iter++) {
        qnn_conv_shape s = random_shape(&st);
        if (iter % 4 == 0) s.cout = 4 * sm_range(&st, 1, 4);
        if (iter % 4 == 1) s.cout = 8 * sm_range(&st, 1, 2);
        if (qnn_conv_shape_finish(&s)) continue;
        size_t in_len = (size_t)s.n * s.h * s.w * s.cin, w_len = (size_t)s.cout * s.kh * s.kw * s.cin;
        size_t out_len = (size_t)s.n * s.ho * s.wo * s.cout;
        int8_t *in = xmalloc(in_len), *w8 = xmalloc(w_len), *got = xmalloc(out_len);
        int16_t *w = xmalloc(w_len * sizeof *w), *in16 = xmalloc(in_len * sizeof *in16);
        int32_t *ref = xmalloc(out_len * sizeof *ref), *bias = xmalloc((size_t)s.cout * 4);
        int32_t *mult = xmalloc((size_t)s.cout * 4), *shift = xmalloc((size_t)s.cout * 4);
        for (size_t i = 0; i < in_len; i++) in16[i] = in[i] = (int8_t)sm_range(&st, -128, 127);
        for (size_t i = 0; i < w_len; i++) w[i] = w8[i] = (int8_t)sm_range(&st, -127, 127);
        rq_fill(&st, s.cout, bias, mult, shift);
        const int16_t *pl[1] = {in16};
        qnn_conv_acc_ref(&s, pl, NULL, w, ref);
        /* a rounding transform (R_2) for the on-the-fly path */
        int16_t tf[256];
        for (int a = -128; a < 128; a++) tf[(uint8_t)a] = (int16_t)(((a + 2) >> 2) * 4);
        int16_t *in_r = xmalloc(in_len * sizeof *in_r);
        for (size_t i = 0; i < in_len; i++) in_r[i] = tf[(uint8_t)in[i]];
        int32_t *ref_r = xmalloc(out_len * sizeof *ref_r);
        const int16_t *pr[1] = {in_r};
        qnn_conv_acc_ref(&s, pr, NULL, w, ref_r);
        int16_t *lut = xmalloc(65536 * sizeof *lut);
        for (int a = 0; a < 256; a++)
            for (int b = 0; b < 256; b++) lut[a * 256 + b] = (int16_t)((int8_t)a * (int8_t)b);
        const int16_t *luts[1] = {lut};
        const int32_t *c = clamps[iter % 3];
        qnn_conv_dst d = {.out = got, .bias = iter % 5 == 0 ? NULL : bias, .mult = mult, .shift = shift, .lo = c[0], .hi = c[1]};
        for (int portable = 0; portable < 2; portable++) {
            qnn_kern_set_portable(portable);
            for (int nt = 1; nt <= 2; nt++) {
                size_t sz = qnn_conv_scratch_size(&s, QNN_MUL_EXACT, 1, nt);
                void *scr = xaligned_alloc(sz);
                memset(got, 0x5a, out_len);
                qnn_conv_acc_i8_team(&s, in, NULL, 1, NULL, w, &d, nt, scr, sz);
                fused_expect(&s, ref, &d, got, portable ? "fused exact portable" : "fused exact");
                memset(got, 0x5a, out_len);
                qnn_conv_acc_i8_team(&s, in, tf, 1, NULL, w, &d, nt, NULL, 0);
                fused_expect(&s, ref_r, &d, got, portable ? "fused rounding portable" : "fused rounding");
                free(scr);
                sz = qnn_conv_scratch_size(&s, QNN_MUL_LUT, 1, nt);
                scr = xaligned_alloc(sz);
                memset(got, 0x5a, out_len);
                qnn_conv_acc_lut_team(&s, in, w8, luts, 1, NULL, &d, nt, scr, sz);
                fused_expect(&s, ref, &d, got, portable ? "fused table portable" : "fused table");
                free(scr);
                checked++;
            }
        }
        qnn_kern_set_portable(0);
        free(in), free(w8), free(got), free(w), free(in16), free(ref), free(bias), free(mult), free(shift);
        free(in_r), free(ref_r), free(lut);
    }
    ck_assert_int_ge(checked, 400);
    set_threads(2);
}
END_TEST

/* The table path sizes its rows by the call's input range (lo..hi with 0, the padding value): inputs
 * confined to a range (ReLU outputs 0..127, a narrow positive or negative band, one value, the full
 * signed range with its extremes), tables random or extreme, per-kernel choice among up to 7 tables;
 * accumulators from every variant and the fused int8 output through the _team entry (portable and
 * AVX2, 1 and 2 threads, the caller's scratch and none), all against the scalar reference. */
static int lut_range_check(const qnn_conv_shape *s, uint64_t *st, int range, int n_luts, int extreme_tables)
{
    size_t in_len = (size_t)s->n * s->h * s->w * s->cin, w_len = (size_t)s->cout * s->kh * s->kw * s->cin;
    size_t out_len = (size_t)s->n * s->ho * s->wo * s->cout;
    int32_t lo, hi;
    switch (range) {
    case 0: lo = 0, hi = 127; break;                                      /* ReLU output */
    case 1: lo = sm_range(st, 0, 9), hi = lo + sm_range(st, 0, 20); break; /* narrow, positive */
    case 2: hi = -sm_range(st, 1, 9), lo = hi - sm_range(st, 0, 30); break; /* negative only */
    case 3: lo = hi = sm_range(st, -128, 127); break;                     /* one value */
    case 4: lo = sm_range(st, -128, -1), hi = sm_range(st, 0, 127); break;
    default: lo = -128, hi = 127; break;                                  /* signed, extremes below */
    }
    int8_t *in = xmalloc(in_len), *w = xmalloc(w_len), *got8 = xmalloc(out_len);
    for (size_t i = 0; i < in_len; i++) {
        int32_t r = sm_range(st, 0, 7);
        in[i] = (int8_t)(r == 0 ? lo : r == 1 ? hi : sm_range(st, lo, hi));
    }
    for (size_t i = 0; i < w_len; i++) w[i] = (int8_t)(sm_range(st, 0, 7) == 0 ? -128 : sm_range(st, -128, 127));
    int16_t *luts[7];
    for (int t = 0; t < n_luts; t++) {
        luts[t] = xmalloc(65536 * sizeof(int16_t));
        for (int i = 0; i < 65536; i++)
            luts[t][i] = extreme_tables ? (int16_t)((i + t) % 3 == 0 ? -32768 : 32767) : (int16_t)sm_range(st, -32768, 32767);
    }
    uint16_t *lut_of = NULL;
    if (n_luts > 1) {
        lut_of = xmalloc((size_t)s->cout * s->cin * sizeof *lut_of);
        for (size_t i = 0; i < (size_t)s->cout * s->cin; i++) lut_of[i] = (uint16_t)sm_range(st, 0, n_luts - 1);
    }
    int32_t *ref = xmalloc(out_len * sizeof *ref), *got = xmalloc(out_len * sizeof *got);
    int32_t *bias = xmalloc((size_t)s->cout * 4), *mult = xmalloc((size_t)s->cout * 4), *shift = xmalloc((size_t)s->cout * 4);
    rq_fill(st, s->cout, bias, mult, shift);
    qnn_conv_dst d = {.out = got8, .bias = bias, .mult = mult, .shift = shift, .lo = -128, .hi = 127};
    qnn_conv_acc_lut_ref(s, in, w, (const int16_t *const *)luts, lut_of, ref);
    lut_fn fns[3] = {qnn_conv_acc_lut_generic, qnn_conv_acc_lut, qnn_conv_acc_lut_avx2};
    const char *names[3] = {"generic", "dispatch", "avx2"};
    int nf = qnn_kern_have_avx2() ? 3 : 2, checked = 0;
    for (int nt = 1; nt <= 2; nt++) {
        set_threads(nt);
        for (int f = 0; f < nf; f++) {
            memset(got, 0x5a, out_len * sizeof *got);
            fns[f](s, in, w, (const int16_t *const *)luts, n_luts, lut_of, got);
            for (size_t i = 0; i < out_len; i++)
                if (got[i] != ref[i])
                    ck_abort_msg("lut range %d..%d %s threads %d: n%d h%d w%d cin%d cout%d k%dx%d s%dx%d tables %d: "
                                 "acc[%zu] = %d, reference %d",
                                 lo, hi, names[f], nt, s->n, s->h, s->w, s->cin, s->cout, s->kh, s->kw, s->stride_h,
                                 s->stride_w, n_luts, i, got[i], ref[i]);
            checked++;
        }
        for (int portable = 0; portable < 2; portable++) {
            qnn_kern_set_portable(portable);
            size_t sz = qnn_conv_scratch_size(s, QNN_MUL_LUT, n_luts, nt);
            void *scr = nt == 1 ? xaligned_alloc(sz) : NULL;
            memset(got8, 0x5a, out_len);
            qnn_conv_acc_lut_team(s, in, w, (const int16_t *const *)luts, n_luts, lut_of, &d, nt, scr, scr ? sz : 0);
            fused_expect(s, ref, &d, got8, portable ? "fused table, input range, portable" : "fused table, input range");
            free(scr);
            checked++;
        }
        qnn_kern_set_portable(0);
    }
    set_threads(2);
    for (int t = 0; t < n_luts; t++) free(luts[t]);
    free(lut_of), free(in), free(w), free(got8), free(ref), free(got), free(bias), free(mult), free(shift);
    return checked;
}

START_TEST(lut_input_ranges_match_reference)
{
    uint64_t st = 4242;
    int checked = 0;
    for (int iter = 0; iter < 120; iter++) {
        qnn_conv_shape s = random_shape(&st);
        checked += lut_range_check(&s, &st, iter % 6, iter % 4 == 0 ? 1 : sm_range(&st, 2, 7), iter % 9 == 4);
    }
    ck_assert_int_eq(checked, 120 * 2 * ((qnn_kern_have_avx2() ? 3 : 2) + 2));
    /* ResNet-8's shapes on ReLU outputs (0..127) under 7 tables (register blocks of 8, 16 and 32
     * channels: cout 10, 16, 32, 64), the first layer on its signed input too, and extreme tables */
    const qnn_conv_shape shapes[] = {
        {2, 32, 32, 3, 16, 3, 3, 1, 1, 1, 1, 1, 1, 0, 0},  {2, 32, 32, 16, 16, 3, 3, 1, 1, 1, 1, 1, 1, 0, 0},
        {2, 32, 32, 16, 32, 3, 3, 2, 2, 0, 0, 1, 1, 0, 0}, {2, 16, 16, 32, 64, 1, 1, 2, 2, 0, 0, 0, 0, 0, 0},
        {2, 8, 8, 64, 64, 3, 3, 1, 1, 1, 1, 1, 1, 0, 0},   {3, 1, 1, 64, 10, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0},
    };
    for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++) {
        qnn_conv_shape s = shapes[i];
        ck_assert_int_eq(qnn_conv_shape_finish(&s), 0);
        lut_range_check(&s, &st, 0, 7, 0);
        lut_range_check(&s, &st, 0, 2, 1);
        if (i == 0) lut_range_check(&s, &st, 5, 7, 0);
    }
}
END_TEST

START_TEST(add_matches_scalar)
{
    /* the residual add over every int8 pair (a, b), under random and extreme multipliers/shifts and
     * three clamps, n not a multiple of 8: AVX2, portable and the pair table equal the scalar TFLite
     * formula */
    uint64_t st = 777;
    const size_t n = 65536 + 5;
    int8_t *a = xmalloc(n), *b = xmalloc(n), *got = xmalloc(n), *ref = xmalloc(n);
    for (size_t i = 0; i < n; i++) {
        a[i] = (int8_t)(i & 255);
        b[i] = (int8_t)((i >> 8) & 255);
    }
    const int32_t clamps[3][2] = {{-128, 127}, {0, 127}, {-3, 9}};
    for (int iter = 0; iter < 12; iter++) {
        qnn_kern_add_params p = {.left_shift = iter % 4 == 3 ? sm_range(&st, 0, 23) : 20};
        for (int k = 0; k < 3; k++) {
            int32_t r = sm_range(&st, 0, 5);
            p.mult[k] = r == 0 ? INT32_MAX : r == 1 ? 1 << 30 : (int32_t)(sm_next(&st) >> 33) | (1 << 30);
            p.shift[k] = k < 2 ? sm_range(&st, -31, 0) : sm_range(&st, -31, 2);
        }
        p.lo = clamps[iter % 3][0];
        p.hi = clamps[iter % 3][1];
        for (size_t i = 0; i < n; i++) {
            int32_t x = qnn_quant_requant(a[i] * (1 << p.left_shift), p.mult[0], p.shift[0]) +
                        qnn_quant_requant(b[i] * (1 << p.left_shift), p.mult[1], p.shift[1]);
            int32_t q = qnn_quant_requant(x, p.mult[2], p.shift[2]);
            ref[i] = (int8_t)(q < p.lo ? p.lo : q > p.hi ? p.hi : q);
        }
        memset(got, 0x55, n);
        qnn_kern_add_generic(a, b, n, &p, got);
        ck_assert_mem_eq(got, ref, n);
        if (qnn_kern_have_avx2()) {
            memset(got, 0x55, n);
            qnn_kern_add_avx2(a, b, n, &p, got);
            ck_assert_mem_eq(got, ref, n);
        }
        memset(got, 0x55, n);
        qnn_kern_add(a, b, n, &p, got);
        ck_assert_mem_eq(got, ref, n);
        /* the executor's form: one table of every pair, built once */
        int8_t *lut = xmalloc(65536);
        qnn_kern_add_table(&p, lut);
        memset(got, 0x55, n);
        qnn_kern_add_lut(a, b, n, lut, got);
        ck_assert_mem_eq(got, ref, n);
        free(lut);
    }
    free(a), free(b), free(got), free(ref);
}
END_TEST

/* ---- the exact u8 path (qnn_conv_u8_*, vpmaddubsw) ---- */

/* One u8 case: input values a_lo..a_hi (extremes over-represented), weights -wmax..wmax (extremes
 * over-represented, -128 too when wmax is 128); every variant, 1 and 2 threads, accumulators and fused
 * int8 output, against the reference. Returns the number of runs checked, or 0 when the proof refused. */
static int u8_check(const qnn_conv_shape *s, uint64_t *st, int32_t a_lo, int32_t a_hi, int32_t wmax)
{
    size_t in_len = (size_t)s->n * s->h * s->w * s->cin, w_len = (size_t)s->cout * s->kh * s->kw * s->cin;
    size_t out_len = (size_t)s->n * s->ho * s->wo * s->cout;
    int8_t *in = xmalloc(in_len ? in_len : 1), *w8 = xmalloc(w_len), *got8 = xmalloc(out_len);
    int16_t *in16 = xmalloc((in_len ? in_len : 1) * sizeof *in16), *w16 = xmalloc(w_len * sizeof *w16);
    int32_t *ref = xmalloc(out_len * sizeof *ref), *got = xmalloc(out_len * sizeof *got);
    int32_t *bias = xmalloc((size_t)s->cout * 4), *mult = xmalloc((size_t)s->cout * 4), *shift = xmalloc((size_t)s->cout * 4);
    for (size_t i = 0; i < in_len; i++) {
        int32_t r = sm_range(st, 0, 5);
        in16[i] = in[i] = (int8_t)(r == 0 ? a_lo : r == 1 ? a_hi : sm_range(st, a_lo, a_hi));
    }
    for (size_t i = 0; i < w_len; i++) {
        int32_t r = sm_range(st, 0, 5);
        int32_t v = r == 0 ? -wmax : r == 1 ? (wmax > 127 ? 127 : wmax) : sm_range(st, -wmax, wmax > 127 ? 127 : wmax);
        w16[i] = w8[i] = (int8_t)v;
    }
    rq_fill(st, s->cout, bias, mult, shift);
    /* constants whose requantization cannot saturate (right shifts, multipliers not INT32_MIN,
     * moderate biases): the AVX2 store's short form */
    int32_t *tbias = xmalloc((size_t)s->cout * 4), *tmult = xmalloc((size_t)s->cout * 4), *tshift = xmalloc((size_t)s->cout * 4);
    for (int32_t j = 0; j < s->cout; j++) {
        int32_t r = sm_range(st, 0, 5);
        tmult[j] = r == 0 ? INT32_MAX : r == 1 ? 0 : r == 2 ? INT32_MIN + 1 : (int32_t)(sm_next(st) >> 33) | (1 << 30);
        tshift[j] = sm_range(st, 0, 3) == 0 ? sm_range(st, -31, 0) : sm_range(st, -12, -5);
        tbias[j] = sm_range(st, -40000, 40000);
    }
    const int16_t *pl[1] = {in16};
    qnn_conv_acc_ref(s, pl, NULL, w16, ref);
    qnn_conv_u8 *k = qnn_conv_u8_alloc(s, w8, a_lo, a_hi);
    int checked = 0;
    if (k) {
        qnn_conv_dst d = {.out = got8, .bias = bias, .mult = mult, .shift = shift, .lo = -128, .hi = 127};
        for (int portable = 0; portable < 2; portable++) {
            qnn_kern_set_portable(portable);
            for (int nt = 1; nt <= 2; nt++) {
                size_t sz = qnn_conv_u8_scratch_size(k, s->n, nt);
                void *scr = sz ? xaligned_alloc(sz) : NULL;
                memset(got, 0x5a, out_len * sizeof *got);
                ck_assert_int_eq(qnn_conv_u8_team(k, s->n, in, &(qnn_conv_dst){.acc = got}, nt, scr, sz), 1);
                for (size_t i = 0; i < out_len; i++)
                    if (got[i] != ref[i])
                        ck_abort_msg("u8 %s threads %d inputs %d..%d weights +-%d: n%d h%d w%d cin%d cout%d k%dx%d "
                                     "s%dx%d pad %d,%d,%d,%d: acc[%zu] = %d, reference %d",
                                     portable ? "portable" : "dispatch", nt, a_lo, a_hi, wmax, s->n, s->h, s->w, s->cin,
                                     s->cout, s->kh, s->kw, s->stride_h, s->stride_w, s->pad_t, s->pad_l, s->pad_b,
                                     s->pad_r, i, got[i], ref[i]);
                memset(got8, 0x5a, out_len);
                ck_assert_int_eq(qnn_conv_u8_team(k, s->n, in, &d, nt, NULL, 0), 1);
                fused_expect(s, ref, &d, got8, portable ? "u8 fused portable" : "u8 fused");
                const qnn_conv_dst dt = {.out = got8, .bias = nt == 1 ? tbias : NULL, .mult = tmult, .shift = tshift,
                                         .lo = nt == 1 ? 0 : -128, .hi = 127};
                memset(got8, 0x5a, out_len);
                ck_assert_int_eq(qnn_conv_u8_team(k, s->n, in, &dt, nt, NULL, 0), 1);
                fused_expect(s, ref, &dt, got8, portable ? "u8 fused, no saturation, portable" : "u8 fused, no saturation");
                free(scr);
                checked++;
            }
        }
        qnn_kern_set_portable(0);
        set_threads(2);
    }
    qnn_conv_u8_free(k);
    free(in), free(w8), free(got8), free(in16), free(w16), free(ref), free(got), free(bias), free(mult), free(shift);
    free(tbias), free(tmult), free(tshift);
    return checked;
}

static void u8_matches_reference_once(void)
{
    /* ReLU-range inputs 0..127 with any int8 weights (-128..127): always proven, exact on random
     * shapes (stride 1, 2, 3, 1x1, Cin 1..21 and 3 as the first layer, rows narrower than a vector
     * and not multiples of it, batches below the thread count), and on ResNet-8's shapes */
    uint64_t st = 8080;
    int checked = 0;
    for (int iter = 0; iter < 200; iter++) {
        qnn_conv_shape s = random_shape(&st);
        int c = u8_check(&s, &st, 0, 127, 128);
        ck_assert_int_gt(c, 0);
        checked += c;
    }
    const int32_t r8[][8] = {/* h, cin, cout, k, stride, pad, n */
                             {32, 3, 16, 3, 1, 1, 2}, {32, 16, 16, 3, 1, 1, 1}, {32, 16, 32, 3, 2, 1, 2},
                             {16, 32, 32, 3, 1, 1, 3}, {32, 16, 32, 1, 2, 0, 2}, {8, 64, 64, 3, 1, 1, 2},
                             {1, 64, 10, 1, 1, 0, 3}};
    for (size_t i = 0; i < sizeof r8 / sizeof r8[0]; i++) {
        qnn_conv_shape s = {.n = r8[i][6], .h = r8[i][0], .w = r8[i][0], .cin = r8[i][1], .cout = r8[i][2],
                            .kh = r8[i][3], .kw = r8[i][3], .stride_h = r8[i][4], .stride_w = r8[i][4],
                            .pad_t = r8[i][5], .pad_l = r8[i][5], .pad_b = r8[i][5], .pad_r = r8[i][5]};
        ck_assert_int_eq(qnn_conv_shape_finish(&s), 0);
        checked += u8_check(&s, &st, 0, 127, 128);
    }
    ck_assert_int_eq(checked, (200 + 7) * 4);
}

/* with the CPU's AVX-VNNI tiles (vpdpbusd) and with vpmaddubsw + vpmaddwd: both must equal the
 * reference (on a CPU without AVX-VNNI the second pass repeats the first) */
START_TEST(u8_matches_reference)
{
    for (int vnni = 1; vnni >= 0; vnni--) {
        qnn_kern_set_vnni(vnni);
        u8_matches_reference_once();
    }
    qnn_kern_set_vnni(1);
    if (!qnn_kern_have_vnni()) printf("note: u8_matches_reference: no AVX-VNNI on this CPU, its tiles not run\n");
}
END_TEST

static void u8_signed_inputs_and_saturation_boundary_once(void)
{
    /* signed inputs (-128..127, the kernel's operand u = a + 128 in 0..255 with the correction
     * -128 * sum(w)) under weights |w| <= 64, so that |w1| + |w2| <= 128 and |u1 w1 + u2 w2| <= 255 * 128
     * = 32640: proven and exact, including all-extreme data (u = 0 and 255, w = -64 and 64); a one-sided
     * range 5..127 (offset 0) and a negative-only one -128..-3 (offset 128) too */
    uint64_t st = 9191;
    int checked = 0;
    for (int iter = 0; iter < 80; iter++) {
        qnn_conv_shape s = random_shape(&st);
        int c = iter % 3 == 0 ? u8_check(&s, &st, -128, 127, 64)
                : iter % 3 == 1 ? u8_check(&s, &st, 5, 127, 128) : u8_check(&s, &st, -128, -3, 64);
        ck_assert_int_gt(c, 0);
        checked += c;
    }
    ck_assert_int_eq(checked, 80 * 4);
    /* every pair at the boundary: all inputs 127 (u = 255), all weights 64 (pair 32640) or -64 */
    qnn_conv_shape s = {.n = 2, .h = 9, .w = 11, .cin = 8, .cout = 5, .kh = 3, .kw = 3, .stride_h = 1, .stride_w = 1,
                        .pad_t = 1, .pad_l = 1, .pad_b = 1, .pad_r = 1};
    ck_assert_int_eq(qnn_conv_shape_finish(&s), 0);
    size_t in_len = (size_t)s.n * s.h * s.w * s.cin, w_len = (size_t)s.cout * 9 * s.cin;
    size_t out_len = (size_t)s.n * s.ho * s.wo * s.cout;
    int8_t *in = xmalloc(in_len), *w8 = xmalloc(w_len);
    int16_t *in16 = xmalloc(in_len * 2), *w16 = xmalloc(w_len * 2);
    int32_t *ref = xmalloc(out_len * 4), *got = xmalloc(out_len * 4);
    for (int sign = -1; sign <= 1; sign += 2)
        for (int a = -128; a <= 127; a += 255) {
            for (size_t i = 0; i < in_len; i++) in16[i] = in[i] = (int8_t)a;
            for (size_t i = 0; i < w_len; i++) w16[i] = w8[i] = (int8_t)(sign * 64);
            const int16_t *pl[1] = {in16};
            qnn_conv_acc_ref(&s, pl, NULL, w16, ref);
            qnn_conv_u8 *k = qnn_conv_u8_alloc(&s, w8, -128, 127);
            ck_assert_ptr_nonnull(k);
            for (int portable = 0; portable < 2; portable++) {
                qnn_kern_set_portable(portable);
                memset(got, 0x5a, out_len * 4);
                ck_assert_int_eq(qnn_conv_u8_team(k, s.n, in, &(qnn_conv_dst){.acc = got}, 1, NULL, 0), 1);
                ck_assert_mem_eq(got, ref, out_len * 4);
            }
            qnn_kern_set_portable(0);
            qnn_conv_u8_free(k);
        }
    /* the interior value of an all-64 layer on all-127 input: 9 taps x 8 channels x 127 x 64 */
    ck_assert_int_eq(ref[(size_t)(1 * s.wo + 1) * s.cout], 9 * 8 * 127 * 64);
    free(in), free(w8), free(in16), free(w16), free(ref), free(got);
}

/* with the CPU's AVX-VNNI tiles (vpdpbusd) and with vpmaddubsw + vpmaddwd: both must equal the
 * reference (on a CPU without AVX-VNNI the second pass repeats the first) */
START_TEST(u8_signed_inputs_and_saturation_boundary)
{
    for (int vnni = 1; vnni >= 0; vnni--) {
        qnn_kern_set_vnni(vnni);
        u8_signed_inputs_and_saturation_boundary_once();
    }
    qnn_kern_set_vnni(1);
    if (!qnn_kern_have_vnni()) printf("note: u8_signed_inputs_and_saturation_boundary: no AVX-VNNI on this CPU, its tiles not run\n");
}
END_TEST

START_TEST(u8_proof_refuses_unsafe_layers)
{
    /* the proof decides exactly at the int16 bound, on the pairs the kernel forms (channels 2i, 2i + 1) */
    qnn_conv_shape s = {.n = 1, .h = 1, .w = 1, .cin = 4, .cout = 1, .kh = 1, .kw = 1, .stride_h = 1, .stride_w = 1};
    ck_assert_int_eq(qnn_conv_shape_finish(&s), 0);
    /* ReLU inputs 0..127: safe for any weights, the worst pair 127 * (-128 - 128) = -32512 */
    const int8_t w_min[4] = {-128, -128, -128, -128}, w_max[4] = {127, 127, 127, 127};
    ck_assert_int_eq(qnn_conv_u8_proof(&s, w_min, 0, 127), 1);
    ck_assert_int_eq(qnn_conv_u8_proof(&s, w_max, 0, 127), 1);
    /* signed inputs: u in 0..255; pair 64 + 64 -> 255 * 128 = 32640 safe, 64 + 65 -> 32895 not */
    const int8_t w_ok[4] = {64, 64, -64, -64}, w_hi[4] = {64, 65, 0, 0}, w_lo[4] = {0, 0, -65, -64};
    ck_assert_int_eq(qnn_conv_u8_proof(&s, w_ok, -128, 127), 1);
    ck_assert_int_eq(qnn_conv_u8_proof(&s, w_hi, -128, 127), 0);
    ck_assert_int_eq(qnn_conv_u8_proof(&s, w_lo, -128, 127), 0);
    ck_assert_ptr_null(qnn_conv_u8_alloc(&s, w_hi, -128, 127));
    /* the pairing: 127 next to 0 is safe with u up to 255 (32385), 127 next to 127 is not */
    const int8_t w_split[4] = {127, 0, 127, 0}, w_pair[4] = {127, 127, 0, 0};
    ck_assert_int_eq(qnn_conv_u8_proof(&s, w_split, -128, 127), 1);
    ck_assert_int_eq(qnn_conv_u8_proof(&s, w_pair, -128, 127), 0);
    /* a narrower signed range: u in 0..200 (a in -128..72): 200 * 163 = 32600 safe, 200 * 164 not */
    const int8_t w_163[4] = {100, 63, 0, 0}, w_164[4] = {100, 64, 0, 0};
    ck_assert_int_eq(qnn_conv_u8_proof(&s, w_163, -128, 72), 1);
    ck_assert_int_eq(qnn_conv_u8_proof(&s, w_164, -128, 72), 0);
    /* too many taps for exact int32 sums */
    qnn_conv_shape big = s;
    big.cin = 65536;
    int8_t *wz = xcalloc(65536, 1);
    ck_assert_int_eq(qnn_conv_u8_proof(&big, wz, 0, 127), 0);
    free(wz);
    /* at run time an input outside the proven range is refused and nothing is written */
    qnn_conv_u8 *k = qnn_conv_u8_alloc(&s, w_max, 0, 127);
    ck_assert_ptr_nonnull(k);
    const int8_t in_bad[4] = {1, 2, -1, 3}, in_ok[4] = {1, 2, 0, 3};
    for (int portable = 0; portable < 2; portable++) {
        qnn_kern_set_portable(portable);
        int32_t acc = 0x5a5a5a5a;
        ck_assert_int_eq(qnn_conv_u8_team(k, 1, in_bad, &(qnn_conv_dst){.acc = &acc}, 1, NULL, 0), 0);
        ck_assert_int_eq(acc, 0x5a5a5a5a);
        ck_assert_int_eq(qnn_conv_u8_team(k, 1, in_ok, &(qnn_conv_dst){.acc = &acc}, 1, NULL, 0), 1);
        ck_assert_int_eq(acc, 127 * 6);
    }
    qnn_kern_set_portable(0);
    qnn_conv_u8_free(k);
    qnn_conv_u8_free(NULL);
}
END_TEST

/* ROUP's rounding of x at bit t (t = 0: x), as amul_roup_round */
static int32_t roup_round(int32_t x, int t)
{
    return t == 0 ? x : ((x >> t) + ((x >> (t - 1)) & 1)) * (1 << t);
}

/* One separable case on the u8 kernels: inputs 0..127 (extremes over-represented), n_planes rounding
 * transforms (ROUP's c = 2^(m-1) when roup, else any 0 <= c < 2^m), per-kernel planes (alike over the
 * output channels when alike, so that a register block rounds once), weights rounded per kernel at
 * bit 0, 2 or 4 (127 becomes 128). Every variant, 1 and 2 threads, accumulators and fused output,
 * against the reference on the transformed planes. Returns the number of weights 128 in the case. */
static int u8_sep_check(const qnn_conv_shape *s, uint64_t *st, int n_planes, int roup, int alike)
{
    size_t in_len = (size_t)s->n * s->h * s->w * s->cin, w_len = (size_t)s->cout * s->kh * s->kw * s->cin;
    size_t out_len = (size_t)s->n * s->ho * s->wo * s->cout, nk = (size_t)s->cout * s->cin, taps = (size_t)s->kh * s->kw;
    int8_t *in = xmalloc(in_len ? in_len : 1), *w8 = xmalloc(w_len), *got8 = xmalloc(out_len);
    int16_t *wtf = xmalloc(w_len * sizeof *wtf), act[8 * 256], *pl[8];
    uint8_t *plane_of = xmalloc(nk);
    int32_t *ref = xmalloc(out_len * sizeof *ref), *got = xmalloc(out_len * sizeof *got);
    int32_t *bias = xmalloc((size_t)s->cout * 4), *mult = xmalloc((size_t)s->cout * 4), *shift = xmalloc((size_t)s->cout * 4);
    for (size_t i = 0; i < in_len; i++) {
        int32_t r = sm_range(st, 0, 5);
        in[i] = (int8_t)(r == 0 ? 0 : r == 1 ? 127 : sm_range(st, 0, 127));
    }
    for (size_t i = 0; i < w_len; i++) {
        int32_t r = sm_range(st, 0, 5);
        w8[i] = (int8_t)(r == 0 ? -127 : r == 1 ? 127 : sm_range(st, -127, 127));
    }
    for (int p = 0; p < n_planes; p++) {
        int m = p == 0 ? 0 : sm_range(st, 1, 6), c = m == 0 ? 0 : roup ? 1 << (m - 1) : sm_range(st, 0, (1 << m) - 1);
        for (int a = -128; a < 128; a++) act[p * 256 + (uint8_t)a] = (int16_t)(((a + c) >> m) * (1 << m));
        pl[p] = xmalloc((in_len ? in_len : 1) * sizeof(int16_t));
        for (size_t i = 0; i < in_len; i++) pl[p][i] = act[p * 256 + (uint8_t)in[i]];
    }
    for (int32_t co = 0; co < s->cout; co++)
        for (int32_t ci = 0; ci < s->cin; ci++)
            plane_of[(size_t)co * s->cin + ci] = (uint8_t)(alike ? ci % n_planes : sm_range(st, 0, n_planes - 1));
    int n128 = 0;
    for (size_t co = 0; co < (size_t)s->cout; co++)
        for (size_t ci = 0; ci < (size_t)s->cin; ci++) {
            int t = 2 * sm_range(st, 0, 2);
            for (size_t tp = 0; tp < taps; tp++) {
                size_t i = (co * taps + tp) * s->cin + ci;
                wtf[i] = (int16_t)roup_round(w8[i], t);
                n128 += wtf[i] == 128;
            }
        }
    rq_fill(st, s->cout, bias, mult, shift);
    qnn_conv_acc_ref(s, (const int16_t *const *)pl, plane_of, wtf, ref);
    qnn_conv_u8 *k = qnn_conv_u8_alloc(s, w8, 0, 127);
    ck_assert_ptr_nonnull(k);
    qnn_conv_dst d = {.out = got8, .bias = bias, .mult = mult, .shift = shift, .lo = -128, .hi = 127};
    for (int portable = 0; portable < 2; portable++) {
        qnn_kern_set_portable(portable);
        for (int nt = 1; nt <= 2; nt++) {
            size_t sz = qnn_conv_u8_sep_scratch_size(k, s->n, nt);
            void *scr = sz ? xaligned_alloc(sz) : NULL;
            memset(got, 0x5a, out_len * sizeof *got);
            ck_assert_int_eq(qnn_conv_u8_sep_team(k, s->n, in, act, n_planes, plane_of, wtf, &(qnn_conv_dst){.acc = got},
                                                  nt, scr, sz),
                             1);
            for (size_t i = 0; i < out_len; i++)
                if (got[i] != ref[i])
                    ck_abort_msg("u8 separable %s threads %d planes %d %s%s: n%d h%d w%d cin%d cout%d k%dx%d s%dx%d "
                                 "pad %d,%d,%d,%d: acc[%zu] = %d, reference %d",
                                 portable ? "portable" : "dispatch", nt, n_planes, roup ? "roup" : "any c",
                                 alike ? " alike" : "", s->n, s->h, s->w, s->cin, s->cout, s->kh, s->kw, s->stride_h,
                                 s->stride_w, s->pad_t, s->pad_l, s->pad_b, s->pad_r, i, got[i], ref[i]);
            memset(got8, 0x5a, out_len);
            ck_assert_int_eq(qnn_conv_u8_sep_team(k, s->n, in, act, n_planes, plane_of, wtf, &d, nt, NULL, 0), 1);
            fused_expect(s, ref, &d, got8, portable ? "u8 separable fused portable" : "u8 separable fused");
            free(scr);
        }
    }
    qnn_kern_set_portable(0);
    set_threads(2);
    qnn_conv_u8_free(k);
    for (int p = 0; p < n_planes; p++) free(pl[p]);
    free(in), free(w8), free(got8), free(wtf), free(plane_of), free(ref), free(got), free(bias), free(mult), free(shift);
    return n128;
}

static void u8_separable_roundings_match_reference_once(void)
{
    /* ROUP maps on the u8 kernels: per-kernel activation roundings (1..7 planes, mixed in a register
     * block or alike), weights rounded per kernel, weights 128 through the fix list, on random shapes
     * (the first layer's Cin = 3 among them) and ResNet-8's */
    uint64_t st = 5150;
    int n128 = 0;
    for (int iter = 0; iter < 120; iter++) {
        qnn_conv_shape s = random_shape(&st);
        n128 += u8_sep_check(&s, &st, iter % 4 == 0 ? 1 : sm_range(&st, 2, 7), iter % 3 != 0, iter % 5 == 0);
    }
    qnn_conv_shape r8 = {.n = 2, .h = 16, .w = 16, .cin = 32, .cout = 32, .kh = 3, .kw = 3, .stride_h = 1, .stride_w = 1,
                         .pad_t = 1, .pad_l = 1, .pad_b = 1, .pad_r = 1};
    ck_assert_int_eq(qnn_conv_shape_finish(&r8), 0);
    n128 += u8_sep_check(&r8, &st, 7, 1, 0);
    ck_assert_int_gt(n128, 100); /* the fix list was exercised */
}

/* Shapes the channel-lane tiles take (stride 1 or 2, kw = 3, wo >= 8, cout a multiple of 8), with 7
 * roundings mixed in every block: wo not a multiple of 8 (the overlapping last tile), a partial quad
 * (cin 6), kh 1 and 5, stride 2, and ResNet-8's two 32x32 shapes. Returns the weights 128 seen. */
static int u8_co8_shapes_once(uint64_t *st)
{
    static const int32_t sh[][8] = {
        /* h, w, cin, cout, kh, stride, pad (all sides), n */
        {13, 13, 6, 16, 3, 1, 1, 3}, {17, 17, 16, 24, 3, 2, 1, 2}, {8, 10, 5, 8, 1, 1, 0, 2},
        {9, 12, 8, 8, 5, 1, 2, 2},   {32, 32, 16, 16, 3, 1, 1, 2}, {32, 32, 16, 32, 3, 2, 1, 2},
        {16, 19, 9, 16, 3, 2, 0, 3},
    };
    int n128 = 0;
    for (size_t i = 0; i < sizeof sh / sizeof sh[0]; i++) {
        qnn_conv_shape s = {.n = sh[i][7], .h = sh[i][0], .w = sh[i][1], .cin = sh[i][2], .cout = sh[i][3],
                            .kh = sh[i][4], .kw = 3, .stride_h = sh[i][5], .stride_w = sh[i][5], .pad_t = sh[i][6],
                            .pad_l = sh[i][6], .pad_b = sh[i][6], .pad_r = sh[i][6]};
        ck_assert_int_eq(qnn_conv_shape_finish(&s), 0);
        n128 += u8_sep_check(&s, st, 7, 1, 0);
    }
    return n128;
}

/* with the CPU's AVX-VNNI tiles (vpdpbusd) and with vpmaddubsw + vpmaddwd, with the channel-lane
 * tiles and without them: all must equal the reference (on a CPU without AVX-VNNI the VNNI passes
 * repeat the others) */
START_TEST(u8_separable_roundings_match_reference)
{
    for (int co8 = 1; co8 >= 0; co8--)
        for (int vnni = 1; vnni >= 0; vnni--) {
            qnn_kern_set_vnni(vnni);
            qnn_kern_set_co8(co8);
            qnn_kern_co8_calls(1);
            /* the random shapes (which seldom qualify for the channel-lane tiles) once per VNNI setting */
            if (co8 == vnni) u8_separable_roundings_match_reference_once();
            if (co8) {
                uint64_t st = 7300 + (uint64_t)vnni;
                ck_assert_int_gt(u8_co8_shapes_once(&st), 20);
                /* 7 shapes x 2 thread counts x 2 outputs, on an AVX2 CPU */
                if (qnn_kern_have_avx2()) ck_assert_int_ge(qnn_kern_co8_calls(0), 28);
            } else {
                uint64_t st = 7300 + (uint64_t)vnni;
                u8_co8_shapes_once(&st);
                ck_assert_int_eq(qnn_kern_co8_calls(0), 0);
            }
        }
    qnn_kern_set_vnni(1);
    qnn_kern_set_co8(1);
    if (!qnn_kern_have_vnni()) printf("note: u8_separable_roundings_match_reference: no AVX-VNNI on this CPU, its tiles not run\n");
}
END_TEST

/* The no-saturation store is chosen from a bound on the accumulators. Under a ROUP map both operands
 * can be 128 (127 rounded up), above what the layer's own weights and input range give: a bias just
 * inside the exact operands' bound must still saturate like the reference (mixed roundings: the
 * channel-lane tiles; alike: the 4-channel tiles; and the portable tile). */
START_TEST(u8_separable_store_bound_uses_rounded_operands)
{
    qnn_conv_shape s = {.n = 2, .h = 8, .w = 8, .cin = 8, .cout = 8, .kh = 3, .kw = 3, .stride_h = 1, .stride_w = 1,
                        .pad_t = 1, .pad_l = 1, .pad_b = 1, .pad_r = 1};
    ck_assert_int_eq(qnn_conv_shape_finish(&s), 0);
    const size_t in_len = (size_t)s.n * s.h * s.w * s.cin, w_len = (size_t)s.cout * 9 * s.cin;
    const size_t out_len = (size_t)s.n * s.ho * s.wo * s.cout;
    int8_t *in = xmalloc(in_len), *w8 = xmalloc(w_len), *got8 = xmalloc(out_len);
    int16_t *wtf = xmalloc(w_len * sizeof *wtf), act[2 * 256], *pl[2];
    int32_t *ref = xmalloc(out_len * sizeof *ref), bias[8], mult[8], shift[8];
    uint8_t plane_of[64];
    memset(in, 127, in_len);
    memset(w8, 127, w_len);
    for (size_t i = 0; i < w_len; i++) wtf[i] = (int16_t)roup_round(127, 2); /* 128 */
    for (int p = 0; p < 2; p++) {
        int m = p + 1; /* R_1(127) = R_2(127) = 128 */
        for (int a = -128; a < 128; a++) act[p * 256 + (uint8_t)a] = (int16_t)roup_round(a, m);
        pl[p] = xmalloc(in_len * sizeof(int16_t));
        for (size_t i = 0; i < in_len; i++) pl[p][i] = act[p * 256 + (uint8_t)in[i]];
    }
    /* the exact operands' bound: 72 taps x 127 x 127; the bias leaves exactly that much room */
    const int32_t exact_bound = 72 * 127 * 127;
    for (int c = 0; c < 8; c++) {
        bias[c] = INT32_MAX - exact_bound;
        mult[c] = 1 << 30;
        shift[c] = -24;
    }
    qnn_conv_u8 *k = qnn_conv_u8_alloc(&s, w8, 0, 127);
    ck_assert_ptr_nonnull(k);
    for (int alike = 0; alike < 2; alike++) {
        for (int i = 0; i < 64; i++) plane_of[i] = (uint8_t)(alike ? 0 : (i * 5 / 3) % 2);
        qnn_conv_acc_ref(&s, (const int16_t *const *)pl, plane_of, wtf, ref);
        ck_assert_int_eq(ref[(size_t)(1 * s.wo + 1) * s.cout], 72 * 128 * 128); /* an interior pixel */
        qnn_conv_dst d = {.out = got8, .bias = bias, .mult = mult, .shift = shift, .lo = -128, .hi = 127};
        for (int portable = 0; portable < 2; portable++)
            for (int nt = 1; nt <= 2; nt++) {
                qnn_kern_set_portable(portable);
                memset(got8, 0x5a, out_len);
                ck_assert_int_eq(qnn_conv_u8_sep_team(k, s.n, in, act, 2, plane_of, wtf, &d, nt, NULL, 0), 1);
                fused_expect(&s, ref, &d, got8, alike ? "rounded operands, alike" : "rounded operands, mixed");
            }
    }
    qnn_kern_set_portable(0);
    qnn_conv_u8_free(k);
    for (int p = 0; p < 2; p++) free(pl[p]);
    free(in), free(w8), free(got8), free(wtf), free(ref);
}
END_TEST

START_TEST(u8_separable_refuses_what_it_cannot_run)
{
    qnn_conv_shape s = {.n = 1, .h = 3, .w = 3, .cin = 4, .cout = 2, .kh = 3, .kw = 3, .stride_h = 1, .stride_w = 1,
                        .pad_t = 1, .pad_l = 1, .pad_b = 1, .pad_r = 1};
    ck_assert_int_eq(qnn_conv_shape_finish(&s), 0);
    int8_t w8[72], in[36];
    int16_t wtf[72], act[256];
    for (int i = 0; i < 72; i++) wtf[i] = w8[i] = (int8_t)(i % 7 - 3);
    for (int i = 0; i < 36; i++) in[i] = (int8_t)(i % 5);
    int32_t acc[18];
    qnn_conv_dst d = {.acc = acc};
    qnn_conv_u8 *k = qnn_conv_u8_alloc(&s, w8, 0, 127), *ks = qnn_conv_u8_alloc(&s, w8, -128, 127);
    ck_assert_ptr_nonnull(k);
    ck_assert_ptr_nonnull(ks);
    for (int portable = 0; portable < 2; portable++) {
        qnn_kern_set_portable(portable);
        /* truncation toward zero is not a rounding of every int8 value */
        for (int a = -128; a < 128; a++) act[(uint8_t)a] = (int16_t)(a / 4 * 4);
        memset(acc, 0x5a, sizeof acc);
        ck_assert_int_eq(qnn_conv_u8_sep_team(k, 1, in, act, 1, NULL, wtf, &d, 1, NULL, 0), 0);
        ck_assert_int_eq(acc[0], 0x5a5a5a5a);
        /* a rounding works, but not on a layer whose input may be negative, nor on an input outside
         * the proven range, nor with a weight beyond 128 */
        for (int a = -128; a < 128; a++) act[(uint8_t)a] = (int16_t)(((a + 2) >> 2) * 4);
        ck_assert_int_eq(qnn_conv_u8_sep_team(k, 1, in, act, 1, NULL, wtf, &d, 1, NULL, 0), 1);
        ck_assert_int_eq(qnn_conv_u8_sep_team(ks, 1, in, act, 1, NULL, wtf, &d, 1, NULL, 0), 0);
        in[5] = -1;
        ck_assert_int_eq(qnn_conv_u8_sep_team(k, 1, in, act, 1, NULL, wtf, &d, 1, NULL, 0), 0);
        in[5] = 0;
        wtf[3] = 129;
        ck_assert_int_eq(qnn_conv_u8_sep_team(k, 1, in, act, 1, NULL, wtf, &d, 1, NULL, 0), 0);
        wtf[3] = w8[3];
    }
    qnn_kern_set_portable(0);
    qnn_conv_u8_free(k);
    qnn_conv_u8_free(ks);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("kern");
    TCase *tc = tcase_create("kern");
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, sep_random_shapes_match_reference);
    tcase_add_test(tc, sep_extreme_values_match_reference);
    tcase_add_test(tc, sep_resnet8_shapes_match_reference);
    tcase_add_test(tc, sep_i8_random_shapes_match_reference);
    tcase_add_test(tc, sep_i8_resnet8_shapes_match_reference);
    tcase_add_test(tc, lut_random_shapes_match_reference);
    tcase_add_test(tc, lut_extreme_tables_and_resnet8_shapes_match_reference);
    tcase_add_test(tc, lut_exact_table_equals_separable_path);
    tcase_add_test(tc, lut_input_ranges_match_reference);
    tcase_add_test(tc, requant_matches_scalar);
    tcase_add_test(tc, team_rule_one_thread_means_one);
    tcase_add_test(tc, fused_requant_matches_reference);
    tcase_add_test(tc, add_matches_scalar);
    tcase_add_test(tc, u8_matches_reference);
    tcase_add_test(tc, u8_signed_inputs_and_saturation_boundary);
    tcase_add_test(tc, u8_proof_refuses_unsafe_layers);
    tcase_add_test(tc, u8_separable_roundings_match_reference);
    tcase_add_test(tc, u8_separable_store_bound_uses_rounded_operands);
    tcase_add_test(tc, u8_separable_refuses_what_it_cannot_run);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    printf("avx2 kernels %s\n", qnn_kern_have_avx2() ? "available: both variants checked" : "absent: portable only");
    return tu_run(suite());
}
