/* Kernel benchmark (`make bench`, never `make check`): GMAC/s of the optimized convolutions on the
 * layer shapes of ResNet-8 (9 convolutions + dense, 12,501,632 MACs per image), side by side in one
 * run for three multiplier settings, at 1 thread and at all threads:
 *   exact  - the u8 kernels the exact network runs (qnn_conv_u8_team: vpmaddubsw on the layer's weights
 *            packed once, post-ReLU inputs 0..127, the per-call input range check included);
 *   sep7   - a random KERNEL-level separable ROUP map on the u8 kernels the network runs for it
 *            (qnn_conv_u8_sep_team): 7 activation roundings (m = 0..6) applied on the fly, plane
 *            chosen per (co, ci), the call's weights packed per call as the executor does;
 *   lut7   - a random kernel-level map over 7 random non-separable 256x256 tables (the table path).
 * The approximate settings are printed as time ratios to exact. It also measures the machine's
 * in-register int8 multiply-accumulate peak (independent vpmaddwd + vpaddd chains, 16 MACs each, and
 * vpmaddubsw + vpmaddwd + vpaddd, 32 MACs each), so the kernels can be given as a fraction of peak.
 * Those figures are kernel time (activation transforms included, as the executor calls the kernels;
 * no requantization). The whole network (requantization, adds, pools included) side by side with
 * XNNPACK and PyTorch is tests/bench_cmp.py's (driving tests/bench_net). The last lines are "key value"
 * pairs that tests/bench.sh reads. Usage: bench_kern [batch] [seconds per figure]; BENCH_CPU_TIME=1 measures
 * process CPU time instead of wall time (for a machine shared with other jobs). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#ifdef _OPENMP
#include <omp.h>
#endif

#include "amul.h"
#include "msg.h"
#include "qnn_int8.h"
#include "qnn_kern.h"

/* Wall time, or with BENCH_CPU_TIME=1 in the environment the process CPU time (on a machine shared
 * with other jobs: throughput per busy core, all threads summed). */
static double now(void)
{
    struct timespec ts;
    clock_gettime(getenv("BENCH_CPU_TIME") ? CLOCK_PROCESS_CPUTIME_ID : CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static uint64_t sm_next(uint64_t *st)
{
    uint64_t z = (*st += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static void set_threads(int nt)
{
#ifdef _OPENMP
    omp_set_num_threads(nt);
#else
    (void)nt;
#endif
}

static int all_threads(void)
{
#ifdef _OPENMP
    return omp_get_num_procs();
#else
    return 1;
#endif
}

enum { NPL = 7, NLAYER = 10 };

typedef struct layer {
    const char *name;
    qnn_conv_shape s;
    int8_t *in8;
    int16_t *w16;
    int8_t *w8;
    uint8_t *plane_of;
    uint16_t *lut_of;
    int32_t *acc;
    qnn_conv_u8 *u8; /* the packed exact weights (inputs 0..127) */
    void *scratch;    /* for the u8 calls at all threads (the largest scratch either needs) */
    size_t scratch_size;
} layer;

/* ResNet-8 (MLPerf Tiny): stride-2 3x3 convolutions are padded [top 0, left 0, bottom 1, right 1] */
static const struct {
    const char *name;
    int32_t h, w, cin, cout, k, stride, pt, pl, pb, pr;
} NET[NLAYER] = {
    {"conv1 3x3 3->16", 32, 32, 3, 16, 3, 1, 1, 1, 1, 1},
    {"s1a 3x3 16->16", 32, 32, 16, 16, 3, 1, 1, 1, 1, 1},
    {"s1b 3x3 16->16", 32, 32, 16, 16, 3, 1, 1, 1, 1, 1},
    {"s2a 3x3/2 16->32", 32, 32, 16, 32, 3, 2, 0, 0, 1, 1},
    {"s2b 3x3 32->32", 16, 16, 32, 32, 3, 1, 1, 1, 1, 1},
    {"s2sc 1x1/2 16->32", 32, 32, 16, 32, 1, 2, 0, 0, 0, 0},
    {"s3a 3x3/2 32->64", 16, 16, 32, 64, 3, 2, 0, 0, 1, 1},
    {"s3b 3x3 64->64", 8, 8, 64, 64, 3, 1, 1, 1, 1, 1},
    {"s3sc 1x1/2 32->64", 16, 16, 32, 64, 1, 2, 0, 0, 0, 0},
    {"dense 64->10", 1, 1, 64, 10, 1, 1, 0, 0, 0, 0},
};

static void layer_init(layer *L, int i, int32_t n, uint64_t *st)
{
    memset(L, 0, sizeof *L);
    L->name = NET[i].name;
    qnn_conv_shape *s = &L->s;
    *s = (qnn_conv_shape){.n = n, .h = NET[i].h, .w = NET[i].w, .cin = NET[i].cin, .cout = NET[i].cout,
                          .kh = NET[i].k, .kw = NET[i].k, .stride_h = NET[i].stride, .stride_w = NET[i].stride,
                          .pad_t = NET[i].pt, .pad_l = NET[i].pl, .pad_b = NET[i].pb, .pad_r = NET[i].pr};
    ASSERT(qnn_conv_shape_finish(s) == 0);
    size_t in_len = (size_t)n * s->h * s->w * s->cin, w_len = (size_t)s->cout * s->kh * s->kw * s->cin;
    L->in8 = xmalloc(in_len);
    for (size_t j = 0; j < in_len; j++) L->in8[j] = (int8_t)(sm_next(st) % 128); /* post-ReLU */
    L->w16 = xmalloc(w_len * sizeof(int16_t));
    L->w8 = xmalloc(w_len);
    for (size_t j = 0; j < w_len; j++) L->w16[j] = L->w8[j] = (int8_t)(sm_next(st) % 255 - 127);
    L->plane_of = xmalloc((size_t)s->cout * s->cin);
    L->lut_of = xmalloc((size_t)s->cout * s->cin * sizeof(uint16_t));
    for (size_t j = 0; j < (size_t)s->cout * s->cin; j++) {
        L->plane_of[j] = (uint8_t)(sm_next(st) % NPL);
        L->lut_of[j] = (uint16_t)(sm_next(st) % NPL);
    }
    L->acc = xmalloc((size_t)n * s->ho * s->wo * s->cout * sizeof(int32_t));
    L->u8 = qnn_conv_u8_alloc(s, L->w8, 0, 127);
    ASSERT(L->u8); /* any int8 weights on inputs 0..127 */
    size_t a = qnn_conv_u8_sep_scratch_size(L->u8, n, 0), b = qnn_conv_u8_scratch_size(L->u8, n, 0);
    size_t a1 = qnn_conv_u8_sep_scratch_size(L->u8, n, 1), b1 = qnn_conv_u8_scratch_size(L->u8, n, 1);
    L->scratch_size = a > b ? a : b;
    L->scratch_size = a1 > L->scratch_size ? a1 : L->scratch_size;
    L->scratch_size = b1 > L->scratch_size ? b1 : L->scratch_size;
    L->scratch = xaligned_alloc(L->scratch_size);
}

static void layer_free(layer *L)
{
    free(L->in8), free(L->w16), free(L->w8), free(L->plane_of), free(L->lut_of), free(L->acc);
    qnn_conv_u8_free(L->u8);
    free(L->scratch);
}

enum mode { M_EXACT, M_SEP7, M_LUT7, NMODE };

/* ROUP's activation roundings R_m, m = 0 .. NPL - 1 (the sep7 planes) */
static int16_t roup_tf[NPL * 256];

static int g_threads; /* the u8 calls' thread count (the table calls use the OpenMP default, set alike) */

static void layer_run(layer *L, int mode, const int16_t *const *luts)
{
    qnn_conv_dst dst = {.acc = L->acc};
    if (mode == M_EXACT) {
        if (!qnn_conv_u8_team(L->u8, L->s.n, L->in8, &dst, g_threads, L->scratch, L->scratch_size))
            msg_abort(__FILE__, __LINE__, "the u8 kernels refused %s", L->name);
    } else if (mode == M_SEP7) {
        if (!qnn_conv_u8_sep_team(L->u8, L->s.n, L->in8, roup_tf, NPL, L->plane_of, L->w16, &dst, g_threads,
                                  L->scratch, L->scratch_size))
            msg_abort(__FILE__, __LINE__, "the u8 kernels refused the ROUP map of %s", L->name);
    } else
        qnn_conv_acc_lut(&L->s, L->in8, L->w8, luts, NPL, L->lut_of, L->acc);
}

/* Best time of a few repetitions, each at least `secs`/3 long. */
static double layer_time(layer *L, int mode, const int16_t *const *luts, double secs)
{
    double best = 1e30;
    for (int rep = 0; rep < 3; rep++) {
        int iters = 0;
        double t0 = now(), t;
        do {
            layer_run(L, mode, luts);
            iters++;
            t = now() - t0;
        } while (t < secs / 3);
        if (t / iters < best) best = t / iters;
    }
    return best;
}

/* ---- in-register MAC peak ---- */

#if defined(__x86_64__)
/* 12 independent vpmaddwd + vpaddd chains (16 MACs per pair); returns MACs done. */
__attribute__((target("avx2"))) static void peak_madd(long iters)
{
    __asm__ volatile(
        "vpxor %%ymm0, %%ymm0, %%ymm0\n\t"
        "vpcmpeqd %%ymm14, %%ymm14, %%ymm14\n\t"
        "vpcmpeqd %%ymm15, %%ymm15, %%ymm15\n\t"
        "vmovdqa %%ymm0, %%ymm1\n\tvmovdqa %%ymm0, %%ymm2\n\tvmovdqa %%ymm0, %%ymm3\n\t"
        "vmovdqa %%ymm0, %%ymm4\n\tvmovdqa %%ymm0, %%ymm5\n\t"
        "1:\n\t"
        "vpmaddwd %%ymm14, %%ymm15, %%ymm6\n\tvpaddd %%ymm6, %%ymm0, %%ymm0\n\t"
        "vpmaddwd %%ymm14, %%ymm15, %%ymm7\n\tvpaddd %%ymm7, %%ymm1, %%ymm1\n\t"
        "vpmaddwd %%ymm14, %%ymm15, %%ymm8\n\tvpaddd %%ymm8, %%ymm2, %%ymm2\n\t"
        "vpmaddwd %%ymm14, %%ymm15, %%ymm9\n\tvpaddd %%ymm9, %%ymm3, %%ymm3\n\t"
        "vpmaddwd %%ymm14, %%ymm15, %%ymm10\n\tvpaddd %%ymm10, %%ymm4, %%ymm4\n\t"
        "vpmaddwd %%ymm14, %%ymm15, %%ymm11\n\tvpaddd %%ymm11, %%ymm5, %%ymm5\n\t"
        "vpmaddwd %%ymm14, %%ymm15, %%ymm6\n\tvpaddd %%ymm6, %%ymm0, %%ymm0\n\t"
        "vpmaddwd %%ymm14, %%ymm15, %%ymm7\n\tvpaddd %%ymm7, %%ymm1, %%ymm1\n\t"
        "vpmaddwd %%ymm14, %%ymm15, %%ymm8\n\tvpaddd %%ymm8, %%ymm2, %%ymm2\n\t"
        "vpmaddwd %%ymm14, %%ymm15, %%ymm9\n\tvpaddd %%ymm9, %%ymm3, %%ymm3\n\t"
        "vpmaddwd %%ymm14, %%ymm15, %%ymm10\n\tvpaddd %%ymm10, %%ymm4, %%ymm4\n\t"
        "vpmaddwd %%ymm14, %%ymm15, %%ymm11\n\tvpaddd %%ymm11, %%ymm5, %%ymm5\n\t"
        "dec %0\n\tjnz 1b\n\t"
        "vzeroupper"
        : "+r"(iters)
        :
        : "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7", "xmm8", "xmm9", "xmm10", "xmm11",
          "xmm14", "xmm15", "cc");

}

/* 6 independent vpmaddubsw + vpmaddwd + vpaddd chains (32 int8 MACs per triple). */
__attribute__((target("avx2"))) static void peak_maddubs(long iters)
{
    __asm__ volatile(
        "vpxor %%ymm0, %%ymm0, %%ymm0\n\t"
        "vpcmpeqd %%ymm13, %%ymm13, %%ymm13\n\t"
        "vpabsb %%ymm13, %%ymm14\n\t"
        "vpcmpeqd %%ymm15, %%ymm15, %%ymm15\n\t"
        "vpsrlw $15, %%ymm15, %%ymm15\n\t"
        "vmovdqa %%ymm0, %%ymm1\n\tvmovdqa %%ymm0, %%ymm2\n\tvmovdqa %%ymm0, %%ymm3\n\t"
        "vmovdqa %%ymm0, %%ymm4\n\tvmovdqa %%ymm0, %%ymm5\n\t"
        "1:\n\t"
        "vpmaddubsw %%ymm13, %%ymm14, %%ymm6\n\tvpmaddwd %%ymm6, %%ymm15, %%ymm6\n\tvpaddd %%ymm6, %%ymm0, %%ymm0\n\t"
        "vpmaddubsw %%ymm13, %%ymm14, %%ymm7\n\tvpmaddwd %%ymm7, %%ymm15, %%ymm7\n\tvpaddd %%ymm7, %%ymm1, %%ymm1\n\t"
        "vpmaddubsw %%ymm13, %%ymm14, %%ymm8\n\tvpmaddwd %%ymm8, %%ymm15, %%ymm8\n\tvpaddd %%ymm8, %%ymm2, %%ymm2\n\t"
        "vpmaddubsw %%ymm13, %%ymm14, %%ymm9\n\tvpmaddwd %%ymm9, %%ymm15, %%ymm9\n\tvpaddd %%ymm9, %%ymm3, %%ymm3\n\t"
        "vpmaddubsw %%ymm13, %%ymm14, %%ymm10\n\tvpmaddwd %%ymm10, %%ymm15, %%ymm10\n\tvpaddd %%ymm10, %%ymm4, %%ymm4\n\t"
        "vpmaddubsw %%ymm13, %%ymm14, %%ymm11\n\tvpmaddwd %%ymm11, %%ymm15, %%ymm11\n\tvpaddd %%ymm11, %%ymm5, %%ymm5\n\t"
        "dec %0\n\tjnz 1b\n\t"
        "vzeroupper"
        : "+r"(iters)
        :
        : "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7", "xmm8", "xmm9", "xmm10", "xmm11",
          "xmm13", "xmm14", "xmm15", "cc");

}

/* 12 independent AVX-VNNI vpdpbusd chains (32 int8 MACs each; 12 cover its latency at 2 per cycle).
 * Inline assembly like the kernels' (qnn_kern_avx2.c); only run after qnn_kern_have_vnni(). */
__attribute__((target("avx2"))) static void peak_dpbusd(long iters)
{
    __asm__ volatile(
        "vpxor %%ymm0, %%ymm0, %%ymm0\n\t"
        "vpcmpeqd %%ymm13, %%ymm13, %%ymm13\n\t"
        "vpabsb %%ymm13, %%ymm14\n\t"
        "vmovdqa %%ymm0, %%ymm1\n\tvmovdqa %%ymm0, %%ymm2\n\tvmovdqa %%ymm0, %%ymm3\n\t"
        "vmovdqa %%ymm0, %%ymm4\n\tvmovdqa %%ymm0, %%ymm5\n\tvmovdqa %%ymm0, %%ymm6\n\t"
        "vmovdqa %%ymm0, %%ymm7\n\tvmovdqa %%ymm0, %%ymm8\n\tvmovdqa %%ymm0, %%ymm9\n\t"
        "vmovdqa %%ymm0, %%ymm10\n\tvmovdqa %%ymm0, %%ymm11\n\t"
        "1:\n\t"
        "%{vex%} vpdpbusd %%ymm13, %%ymm14, %%ymm0\n\t%{vex%} vpdpbusd %%ymm13, %%ymm14, %%ymm1\n\t"
        "%{vex%} vpdpbusd %%ymm13, %%ymm14, %%ymm2\n\t%{vex%} vpdpbusd %%ymm13, %%ymm14, %%ymm3\n\t"
        "%{vex%} vpdpbusd %%ymm13, %%ymm14, %%ymm4\n\t%{vex%} vpdpbusd %%ymm13, %%ymm14, %%ymm5\n\t"
        "%{vex%} vpdpbusd %%ymm13, %%ymm14, %%ymm6\n\t%{vex%} vpdpbusd %%ymm13, %%ymm14, %%ymm7\n\t"
        "%{vex%} vpdpbusd %%ymm13, %%ymm14, %%ymm8\n\t%{vex%} vpdpbusd %%ymm13, %%ymm14, %%ymm9\n\t"
        "%{vex%} vpdpbusd %%ymm13, %%ymm14, %%ymm10\n\t%{vex%} vpdpbusd %%ymm13, %%ymm14, %%ymm11\n\t"
        "dec %0\n\tjnz 1b\n\t"
        "vzeroupper"
        : "+r"(iters)
        :
        : "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7", "xmm8", "xmm9", "xmm10", "xmm11",
          "xmm13", "xmm14", "cc");
}

/* A chain of dependent 1-cycle register adds: iterations per second = core clock (about). Register
 * operands: recent cores fold add-immediate chains in the renamer, which would read as a higher clock. */
static void clock_chain(long iters)
{
    long x = 0, one = 1;
    __asm__ volatile(
        "1:\n\t"
        "add %2, %1\n\tadd %2, %1\n\tadd %2, %1\n\tadd %2, %1\n\t"
        "add %2, %1\n\tadd %2, %1\n\tadd %2, %1\n\tadd %2, %1\n\t"
        "dec %0\n\tjnz 1b"
        : "+r"(iters), "+r"(x)
        : "r"(one)
        : "cc");
}

/* Process CPU time: the register-only loops below are timed in CPU time whatever BENCH_CPU_TIME says,
 * so that other jobs on the machine do not lower the peak (which would flatter the fractions of it). */
static double cpu_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* MACs per second of nt cores, each running `fn` for `iters` loop iterations of `macs_per_iter`:
 * MACs per CPU-second (all threads summed) times nt. */
static double peak_rate(int nt, void (*fn)(long), long iters, double macs_per_iter)
{
    double best = 0;
    for (int rep = 0; rep < 3; rep++) {
        double t0 = cpu_now();
#pragma omp parallel num_threads(nt)
        fn(iters);
        double t = cpu_now() - t0;
        double r = (double)nt * nt * iters * macs_per_iter / t;
        if (r > best) best = r;
    }
    return best;
}

static double clock_hz(void)
{
    long iters = 50000000;
    double best = 1e30;
    for (int rep = 0; rep < 3; rep++) {
        double t0 = cpu_now();
        clock_chain(iters);
        double t = cpu_now() - t0;
        if (t < best) best = t;
    }
    return 8.0 * iters / best;
}
#endif

int main(int argc, char **argv)
{
    int32_t batch = argc > 1 ? atoi(argv[1]) : 64;
    double secs = argc > 2 ? atof(argv[2]) : 0.3;
    if (batch < 1 || secs <= 0) {
        fprintf(stderr, "usage: bench_kern [batch >= 1] [seconds per figure]\n");
        return 2;
    }
    int ncores = all_threads();
    uint64_t st = 2026;
    printf("# approxmap kernel benchmark: ResNet-8 layer shapes, batch %d, avx2 %s, %d cores, %s\n", batch,
           qnn_kern_have_avx2() ? "yes" : "no", ncores,
           getenv("BENCH_CPU_TIME") ? "process CPU time (BENCH_CPU_TIME)" : "wall time");

    int16_t *luts[NPL];
    for (int t = 0; t < NPL; t++) {
        luts[t] = xmalloc(65536 * sizeof(int16_t));
        for (int a = 0; a < 256; a++)
            for (int b = 0; b < 256; b++) /* exact product plus a random error: not separable */
                luts[t][a * 256 + b] = (int16_t)((int8_t)a * (int8_t)b + (int)(sm_next(&st) % 65) - 32);
    }
    for (int p = 0; p < NPL; p++)
        for (int a = 0; a < 256; a++) roup_tf[p * 256 + a] = (int16_t)amul_roup_round((int8_t)a, p);
    layer L[NLAYER];
    uint64_t macs_img = 0;
    for (int i = 0; i < NLAYER; i++) {
        layer_init(&L[i], i, batch, &st);
        macs_img += qnn_conv_macs(&L[i].s);
    }
    printf("# MACs per image %llu (padding taps included)\n", (unsigned long long)macs_img);

    int threads[2] = {1, ncores};
    double net[2][NMODE];
    for (int ti = 0; ti < 2; ti++) {
        int nt = threads[ti];
        set_threads(nt);
        g_threads = nt;
        printf("\n## %d thread%s: GMAC/s per layer (time ratio to exact)\n", nt, nt > 1 ? "s" : "");
        printf("%-20s %10s %9s %18s %18s\n", "layer", "MACs/img", "exact", "sep7 (ratio)", "lut7 (ratio)");
        double tot[NMODE] = {0};
        for (int i = 0; i < NLAYER; i++) {
            double t[NMODE];
            for (int m = 0; m < NMODE; m++) {
                t[m] = layer_time(&L[i], m, (const int16_t *const *)luts, secs);
                tot[m] += t[m];
            }
            double gm = (double)qnn_conv_macs(&L[i].s) * batch / 1e9;
            printf("%-20s %10llu %9.2f %9.2f (%5.2fx) %9.2f (%5.2fx)\n", L[i].name,
                   (unsigned long long)qnn_conv_macs(&L[i].s), gm / t[M_EXACT], gm / t[M_SEP7], t[M_SEP7] / t[M_EXACT],
                   gm / t[M_LUT7], t[M_LUT7] / t[M_EXACT]);
        }
        double gm = (double)macs_img * batch / 1e9;
        printf("%-20s %10llu %9.2f %9.2f (%5.2fx) %9.2f (%5.2fx)\n", "network (kernels)",
               (unsigned long long)macs_img, gm / tot[M_EXACT], gm / tot[M_SEP7], tot[M_SEP7] / tot[M_EXACT],
               gm / tot[M_LUT7], tot[M_LUT7] / tot[M_EXACT]);
        printf("%-20s %10s %9.0f %9.0f %8s %9.0f\n", "images/s (kernels)", "", batch / tot[M_EXACT],
               batch / tot[M_SEP7], "", batch / tot[M_LUT7]);
        for (int m = 0; m < NMODE; m++) net[ti][m] = tot[m];
    }

    double peak16 = 0, peak32 = 0, peak32_1 = 0, peakv = 0, peakv_1 = 0, hz = 0;
#if defined(__x86_64__)
    if (qnn_kern_have_avx2()) {
        hz = clock_hz();
        long it = (long)(hz * 0.2 / 12); /* about 0.2 s at 2 madd per cycle */
        peak16 = peak_rate(ncores, peak_madd, it, 12 * 16.0);
        peak32 = peak_rate(ncores, peak_maddubs, it, 6 * 32.0);
        double p16_1 = peak_rate(1, peak_madd, it, 12 * 16.0);
        peak32_1 = peak_rate(1, peak_maddubs, it, 6 * 32.0);
        printf("\n## in-register int8 MAC peak (%d cores, clock about %.2f GHz from a dependent add chain)\n",
               ncores, hz / 1e9);
        printf("vpmaddwd+vpaddd:            %7.1f GMAC/s (%.1f MAC/cycle/core; 1 core %.1f GMAC/s)\n",
               peak16 / 1e9, peak16 / hz / ncores, p16_1 / 1e9);
        printf("vpmaddubsw+vpmaddwd+vpaddd: %7.1f GMAC/s (%.1f MAC/cycle/core; 1 core %.1f GMAC/s)\n",
               peak32 / 1e9, peak32 / hz / ncores, peak32_1 / 1e9);
        if (qnn_kern_have_vnni()) {
            peakv = peak_rate(ncores, peak_dpbusd, it, 12 * 32.0);
            peakv_1 = peak_rate(1, peak_dpbusd, it, 12 * 32.0);
            printf("vpdpbusd (AVX-VNNI):        %7.1f GMAC/s (%.1f MAC/cycle/core; 1 core %.1f GMAC/s)\n",
                   peakv / 1e9, peakv / hz / ncores, peakv_1 / 1e9);
        }
    }
#endif
    double ex_all = (double)macs_img * batch / net[1][M_EXACT];
    printf("\n## summary (all %d cores, kernels only)\n", ncores);
    printf("exact: %.0f images/s, %.2f GMAC/s", batch / net[1][M_EXACT], ex_all / 1e9);
    if (peak16 > 0)
        printf(", %.1f %% of the vpmaddwd peak, %.1f %% of the vpmaddubsw peak", 100 * ex_all / peak16,
               100 * ex_all / peak32);
    if (peakv > 0) printf(", %.1f %% of the vpdpbusd peak (the u8 tiles use it)", 100 * ex_all / peakv);
    printf("\nsep7 (kernel-level 7-plane map): %.0f images/s, %.2fx the exact time\n",
           batch / net[1][M_SEP7], net[1][M_SEP7] / net[1][M_EXACT]);
    printf("lut7 (kernel-level 7-table map): %.0f images/s, %.2fx the exact time\n",
           batch / net[1][M_LUT7], net[1][M_LUT7] / net[1][M_EXACT]);
    printf("exact 1 thread: %.0f images/s; scaling to %d cores %.2fx\n", batch / net[0][M_EXACT], ncores,
           net[0][M_EXACT] / net[1][M_EXACT]);
    /* machine-readable lines for tests/bench.sh */
    printf("kern_exact_images_per_s %.1f\n", batch / net[1][M_EXACT]);
    printf("kern_exact_images_per_s_1t %.1f\n", batch / net[0][M_EXACT]);
    printf("kern_sep7_ratio %.3f\n", net[1][M_SEP7] / net[1][M_EXACT]);
    printf("kern_lut7_images_per_s %.1f\n", batch / net[1][M_LUT7]);
    printf("peak_madd_gmacs %.1f\n", peak16 / 1e9);
    printf("peak_maddubs_gmacs %.1f\n", peak32 / 1e9);
    printf("peak_maddubs_gmacs_1core %.1f\n", peak32_1 / 1e9);
    printf("peak_dpbusd_gmacs_1core %.1f\n", peakv_1 / 1e9);

    for (int i = 0; i < NLAYER; i++) layer_free(&L[i]);
    for (int t = 0; t < NPL; t++) free(luts[t]);
    return 0;
}
