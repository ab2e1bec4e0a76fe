/* Tests of the sensitivity module (src/approx/sens.h).
 *
 * Without data: a one-tap kernel whose figures follow by hand (roup_k0_m1 on activations {1, 2}); a
 * small layer (2 input channels from a measured tap histogram, 3 filters, 2x2 taps) against a
 * brute-force enumeration of activations and taps for every roup8 multiplier, compensated and not;
 * energy saved by hand; the rank order with ties broken by index; the ranked expansion of the
 * hand-built case documented in problems/README.md (filters and kernels, uneven shares); Spearman.
 * With ResNet-8 and CIFAR-10 (skipped otherwise): the first two layers' figures against brute force
 * on the calibration distributions, the filter means against the bias compensation's deltas, and the
 * single-unit measurements (layer and filter units, compensated) against independent whole-set runs,
 * layer units at 1 and 2 threads. */
#include <math.h>

#include "approx.h"
#include "qnn_quant.h"
#include "sens.h"
#include "status.h"
#include "tu.h"
#include "tu_resnet8.h"

/* ResNet-8, its layers, test records 0..39, calibration set and library (tu_resnet8.h) */
static tu_resnet8 g;

static int *all_mults(const amul_lib *lib)
{
    int *m = xmalloc((size_t)lib->n * sizeof *m);
    for (int i = 0; i < lib->n; i++) m[i] = i;
    return m;
}

START_TEST(one_tap_by_hand)
{
    amul_lib lib;
    ck_assert_int_eq(approx_lib_load(NULL, &lib), ST_OK);
    const int j = amul_lib_find(&lib, "roup_k0_m1");
    ck_assert_int_ge(j, 0);
    /* activations 1 and 2 with probability 1/2: R_1(1) = 2, R_1(2) = 2; w = 5 (R_0(w) = w):
     * errors 2*5 - 5 = 5 and 2*5 - 10 = 0: mean 2.5, variance 6.25 */
    static const int8_t w[1] = {5};
    const amap_layer L = {.name = "one", .cin = 1, .cout = 1, .kh = 1, .kw = 1, .macs = 10, .w = w};
    double p[256] = {0};
    p[1] = p[2] = 0.5;
    const double *act[1] = {p};
    const double f0[1] = {0.5};
    const double *fs[1] = {f0};
    sens_input in = {.layers = &L, .n_layers = 1, .lib = &lib, .mults = &j, .n_mults = 1, .act_p = act,
                     .per_channel = 1, .fscale = fs, .compensated = 1};
    sens_table t;
    ck_assert_int_eq(sens_compute(&t, &in, 1), ST_OK);
    ck_assert_double_eq(t.kmean[0], 2.5);
    ck_assert_double_eq(t.kvar[0], 6.25);
    ck_assert_double_eq(sens_kernel_noise(&t, 0, 0, 0), 6.25 * 0.25);
    ck_assert_double_eq(sens_filter_noise(&t, 0, 0, 0), 6.25 * 0.25);
    ck_assert_double_eq(sens_layer_noise(&t, 0, 0), 6.25 * 0.25);
    /* one kernel of 10 MACs, the whole network: saved = 1 - 1.04 (roup_k0_m1 costs more than exact) */
    ck_assert_double_eq_tol(sens_kernel_saved(&t, 0, 0), 1.0 - lib.mults[j].energy.rel, 1e-15);
    sens_deinit(&t);
    in.compensated = 0; /* the mean stays: 6.25 + 2.5^2 */
    ck_assert_int_eq(sens_compute(&t, &in, 1), ST_OK);
    ck_assert_double_eq(sens_filter_noise(&t, 0, 0, 0), 12.5 * 0.25);
    sens_deinit(&t);
    amul_lib_deinit(&lib);
}
END_TEST

/* Brute force: per tap, enumerate the 256 activations with their probabilities, two-pass mean and
 * variance of the error, summed over the kernel's taps (and over the filter's kernels). */
static void brute_kernel(const amul *mu, const double *p, const amap_layer *L, int32_t co, int32_t ci, double *mean,
                         double *var)
{
    const size_t taps = (size_t)L->kh * L->kw;
    *mean = *var = 0;
    for (size_t t = 0; t < taps; t++) {
        const int8_t w = L->w[((size_t)co * taps + t) * L->cin + ci];
        double m = 0, v = 0;
        for (int a = 0; a < 256; a++) m += p[a] * (double)(amul_mul(mu, (int8_t)a, w) - (int8_t)a * w);
        for (int a = 0; a < 256; a++) {
            const double d = (double)(amul_mul(mu, (int8_t)a, w) - (int8_t)a * w) - m;
            v += p[a] * d * d;
        }
        *mean += m;
        *var += v;
    }
}

static double rel_diff(double a, double b)
{
    const double s = fabs(a) > fabs(b) ? fabs(a) : fabs(b);
    return s > 0 ? fabs(a - b) / s : 0.0;
}

/* Compare a table with brute force on layer l (kernels co < max_co). Returns the worst relative error. */
static double check_layer(const sens_table *t, const amap_layer *L, int l, const amul_lib *lib, const double *act_p,
                          int per_channel, const double *fscale, int32_t max_co)
{
    double worst = 0;
    for (int j = 0; j < t->n_mults; j++) {
        const amul *mu = &lib->mults[t->mults[j]];
        for (int32_t co = 0; co < L->cout && co < max_co; co++) {
            double fm = 0, fv = 0;
            for (int32_t ci = 0; ci < L->cin; ci++) {
                double m, v;
                brute_kernel(mu, act_p + (per_channel ? (size_t)ci * 256 : 0), L, co, ci, &m, &v);
                const size_t k = (size_t)co * L->cin + ci, i = (t->koff[l] + k) * t->n_mults + j;
                double d1 = fabs(t->kmean[i] - m) / (fabs(m) + 1), d2 = rel_diff(t->kvar[i], v);
                if (d1 > worst) worst = d1;
                if (d2 > worst) worst = d2;
                const double want = (v + (t->compensated ? 0 : m * m)) * fscale[co] * fscale[co];
                const double dk = rel_diff(sens_kernel_noise(t, l, k, j), want);
                if (dk > worst) worst = dk;
                fm += m;
                fv += v;
            }
            const double want = (fv + (t->compensated ? 0 : fm * fm)) * fscale[co] * fscale[co];
            const double df = rel_diff(sens_filter_noise(t, l, co, j), want);
            if (df > worst) worst = df;
        }
    }
    return worst;
}

START_TEST(small_layer_brute_force)
{
    amul_lib lib;
    ck_assert_int_eq(approx_lib_load(NULL, &lib), ST_OK);
    /* a 3x3 two-channel input (values spread over the int8 range), 2x2 taps, stride 1, padding 1:
     * the activation distributions come from the module approx.h measures them with */
    qnn_int8_layer Q = {.h = 3, .w = 3, .cin = 2, .cout = 3, .kh = 2, .kw = 2, .stride_h = 1, .stride_w = 1,
                        .pad_t = 1, .pad_l = 1, .pad_b = 0, .pad_r = 0, .ho = 3, .wo = 3};
    static const int8_t x[18] = {-128, 7, 3, 90, 12, -5, 127, 64, 0, 33, -77, 100, 2, 2, 45, -1, 19, 120};
    uint64_t cnt[2 * 256] = {0};
    approx_tap_hist(&Q, x, 1, 1, cnt);
    double p[2 * 256];
    for (int c = 0; c < 2; c++) {
        uint64_t s = 0;
        for (int a = 0; a < 256; a++) s += cnt[c * 256 + a];
        ck_assert_uint_eq(s, 3 * 3 * 2 * 2); /* every tap of every output position */
        for (int a = 0; a < 256; a++) p[c * 256 + a] = (double)cnt[c * 256 + a] / (double)s;
    }
    static const int8_t w[3 * 2 * 2 * 2] = {17, -3, 101, 0, -127, 55, 8, -64, 1, 2, -1, 99, 127, -128 + 1, 33, 12,
                                             -45, 70, 6, -19, 88, -7, 15, 40};
    const amap_layer L = {.name = "small", .cin = 2, .cout = 3, .kh = 2, .kw = 2, .macs = 3 * 3 * 2 * 2 * 2 * 3, .w = w};
    const double f0[3] = {0.01, 0.02, 0.005}, f1[3] = {1, 1, 1};
    int *mults = all_mults(&lib);
    for (int pc = 0; pc <= 1; pc++)
        for (int comp = 0; comp <= 1; comp++) {
            /* per tensor: one distribution, the two channels' histograms pooled */
            double pt[256];
            for (int a = 0; a < 256; a++) pt[a] = (p[a] + p[256 + a]) / 2;
            const double *act[1] = {pc ? p : pt};
            const double *fs[1] = {comp ? f0 : f1};
            sens_input in = {.layers = &L, .n_layers = 1, .lib = &lib, .mults = mults, .n_mults = lib.n,
                             .act_p = act, .per_channel = pc, .fscale = fs, .compensated = comp};
            sens_table t;
            ck_assert_int_eq(sens_compute(&t, &in, 2), ST_OK);
            const double worst = check_layer(&t, &L, 0, &lib, act[0], pc, fs[0], L.cout);
            ck_assert_msg(worst < 1e-12, "per_channel %d compensated %d: worst relative difference %g", pc, comp,
                          worst);
            /* the exact multiplier injects nothing; an aggressive one does */
            const int ex = amul_lib_exact(&lib), agg = amul_lib_find(&lib, "roup_k2_m6");
            ck_assert_double_eq(sens_filter_noise(&t, 0, 1, ex), 0);
            ck_assert_double_gt(sens_filter_noise(&t, 0, 1, agg), 0);
            /* energy saved: one kernel = 36 MACs of 216 in the network, filter x2, layer x6 */
            ck_assert_double_eq_tol(sens_kernel_saved(&t, 0, agg), (1 - lib.mults[agg].energy.rel) / 6, 1e-15);
            ck_assert_double_eq_tol(sens_layer_saved(&t, 0, agg), 1 - lib.mults[agg].energy.rel, 1e-15);
            sens_deinit(&t);
        }
    free(mults);
    amul_lib_deinit(&lib);
}
END_TEST

START_TEST(rank_order_ties_by_index)
{
    /* two layers; filter noises set by hand in the table (one multiplier, fscale 1, compensated) */
    static const amap_layer L[2] = {{.name = "a", .cin = 1, .cout = 4, .kh = 1, .kw = 1, .macs = 4},
                                    {.name = "b", .cin = 2, .cout = 2, .kh = 1, .kw = 1, .macs = 4}};
    sens_table t = {.n_layers = 2, .n_mults = 1, .compensated = 1};
    size_t koff[3] = {0, 4, 8}, foff[3] = {0, 4, 6};
    int32_t cin[2] = {1, 2};
    double kvar[8] = {3, 1, 3, 0, /* layer b: kernels (0,0) (0,1) (1,0) (1,1) */ 2, 0, 1, 1};
    double kmean[8] = {0}, fscale[6] = {1, 1, 1, 1, 1, 1};
    t.koff = koff, t.foff = foff, t.cin = cin, t.kvar = kvar, t.kmean = kmean, t.fscale = fscale;
    uint32_t of[6], ok[8];
    sens_rank_order(&t, L, AMAP_FILTER, of);
    /* layer a: noises 3 1 3 0 -> 3, 1, 0, 2 (0 before 2: tie by index); layer b: 2, 2 -> 0, 1 */
    static const uint32_t want_f[6] = {3, 1, 0, 2, 0, 1};
    for (int i = 0; i < 6; i++) ck_assert_uint_eq(of[i], want_f[i]);
    sens_rank_order(&t, L, AMAP_KERNEL, ok);
    static const uint32_t want_k[8] = {3, 1, 0, 2, 1, 2, 3, 0};
    for (int i = 0; i < 8; i++) ck_assert_uint_eq(ok[i], want_k[i]);
    ck_assert_uint_eq(sens_rank_offset(L, 1, AMAP_FILTER), 4);
    ck_assert_uint_eq(sens_rank_offset(L, 2, AMAP_KERNEL), 8);
}
END_TEST

/* The example of problems/README.md ("Ranked encoding"). */
START_TEST(rank_expand_documented_example)
{
    static const amap_layer L[2] = {{.name = "a", .cin = 1, .cout = 4, .kh = 1, .kw = 1, .macs = 4},
                                    {.name = "b", .cin = 3, .cout = 2, .kh = 1, .kw = 1, .macs = 6}};
    amap m;
    amap_init(&m, L, 2, 9);
    /* filters, 2 shares: order a = 2 0 3 1, b = 1 0; genome (5 7 | 1 2) */
    static const uint32_t of[6] = {2, 0, 3, 1, 1, 0};
    static const int gf[4] = {5, 7, 1, 2};
    sens_rank_expand(&m, L, 2, AMAP_FILTER, 2, of, gf);
    static const uint16_t want_f[10] = {5, 7, 5, 7, /* b: filter 0 -> 2, filter 1 -> 1 */ 2, 2, 2, 1, 1, 1};
    for (int i = 0; i < 10; i++) ck_assert_uint_eq(m.mult[i], want_f[i]);
    /* kernels, 4 shares: a has 4 kernels (one per share), b has 6: ranks [0,1) [1,3) [3,4) [4,6);
     * order a = 0 1 2 3, b = 5 4 3 2 1 0; genome (0 1 2 3 | 4 5 6 7) */
    static const uint32_t ok[10] = {0, 1, 2, 3, 5, 4, 3, 2, 1, 0};
    static const int gk[8] = {0, 1, 2, 3, 4, 5, 6, 7};
    sens_rank_expand(&m, L, 2, AMAP_KERNEL, 4, ok, gk);
    /* b: kernel 5 -> 4; kernels 4, 3 -> 5; kernel 2 -> 6; kernels 1, 0 -> 7 */
    static const uint16_t want_k[10] = {0, 1, 2, 3, 7, 7, 6, 5, 5, 4};
    for (int i = 0; i < 10; i++) ck_assert_uint_eq(m.mult[i], want_k[i]);
    /* more shares than items: some shares are empty (a: 4 filters, 6 shares: shares 0 and 3) */
    static const int g6[12] = {9, 1, 2, 9, 3, 4, 0, 0, 0, 0, 0, 0};
    sens_rank_expand(&m, L, 2, AMAP_FILTER, 6, of, g6);
    /* a: ranks r in [floor(s*4/6), floor((s+1)*4/6)): s0 [0,0) s1 [0,1) s2 [1,2) s3 [2,2) s4 [2,3) s5 [3,4) */
    static const uint16_t want6[4] = {2, 4, 1, 3};
    for (int i = 0; i < 4; i++) ck_assert_uint_eq(m.mult[i], want6[i]);
    amap_deinit(&m);
}
END_TEST

START_TEST(spearman_by_hand)
{
    const double x[4] = {1, 2, 3, 4}, y[4] = {10, 20, 40, 30};
    ck_assert_double_eq_tol(sens_spearman(x, y, 4), 0.8, 1e-12); /* 1 - 6 * 2 / (4 * 15) */
    const double z[4] = {5, 5, 1, 9}; /* ties: ranks 2.5 2.5 1 4 */
    const double rz[4] = {2.5, 2.5, 1, 4};
    ck_assert_double_eq_tol(sens_spearman(x, z, 4), sens_spearman(x, rz, 4), 1e-12);
    ck_assert(isnan(sens_spearman(x, y, 1)));
}
END_TEST

/* --- with data ------------------------------------------------------------------------------------ */

START_TEST(resnet8_brute_force_and_bias)
{
    approx_comp comp;
    ck_assert_int_eq(approx_comp_init(&comp, g.net, g.layers, &g.lib, &g.cal, 1, 2), ST_OK);
    double **fs = sens_fscale_from_net(g.net);
    int *mults = all_mults(&g.lib);
    sens_input in = {.layers = g.layers, .n_layers = g.net->n_layers, .lib = &g.lib, .mults = mults,
                     .n_mults = g.lib.n, .act_p = (const double *const *)comp.act_p, .per_channel = 1,
                     .fscale = (const double *const *)fs, .compensated = 1};
    sens_table t;
    ck_assert_int_eq(sens_compute(&t, &in, 2), ST_OK);
    for (int l = 0; l < 2; l++) {
        const double worst = check_layer(&t, &g.layers[l], l, &g.lib, comp.act_p[l], 1, fs[l], 4);
        ck_assert_msg(worst < 1e-9, "layer %d: worst relative difference %g", l, worst);
    }
    /* bias compensation cancels each filter's mean: delta = -round(sum of kernel means) */
    const int j = amul_lib_find(&g.lib, "roup_k1_m3");
    amap m;
    ck_assert_int_eq(approx_map_uniform(&m, g.layers, g.net->n_layers, &g.lib, "roup_k1_m3"), ST_OK);
    approx_comp_fill(&comp, &m);
    for (int l = 0; l < g.net->n_layers; l++)
        for (int32_t co = 0; co < g.layers[l].cout; co++) {
            double mean = 0;
            for (int32_t ci = 0; ci < g.layers[l].cin; ci++)
                mean += t.kmean[(t.koff[l] + (size_t)co * g.layers[l].cin + ci) * t.n_mults + j];
            ck_assert_double_le(fabs(mean + amap_bias_delta(&m, l)[co]), 0.5 + 1e-6);
        }
    /* thread count does not change a figure */
    sens_table t1;
    ck_assert_int_eq(sens_compute(&t1, &in, 1), ST_OK);
    ck_assert_mem_eq(t.kvar, t1.kvar, t.koff[t.n_layers] * t.n_mults * sizeof *t.kvar);
    ck_assert_mem_eq(t.kmean, t1.kmean, t.koff[t.n_layers] * t.n_mults * sizeof *t.kmean);
    sens_deinit(&t1);
    amap_deinit(&m);
    sens_deinit(&t);
    free(mults);
    sens_fscale_free(fs, g.net->n_layers);
    approx_comp_deinit(&comp);
}
END_TEST

/* Independent whole-set run of the single-unit map (layer l, or filter co of layer l when co >= 0). */
static void independent(approx_comp *comp, int l, int32_t co, int mult, int32_t *correct, int32_t *flips,
                        double *msd)
{
    const int ex = amul_lib_exact(&g.lib), nl = g.net->n_layers;
    amap m;
    amap_init(&m, g.layers, nl, (uint16_t)ex);
    uint16_t *row = amap_layer_mults(&m, l);
    for (int32_t c = 0; c < g.layers[l].cout; c++)
        if (co < 0 || c == co)
            for (int32_t ci = 0; ci < g.layers[l].cin; ci++) row[(size_t)c * g.layers[l].cin + ci] = (uint16_t)mult;
    if (comp) approx_comp_fill(comp, &m);
    amap_mul b;
    amap_mul_init(&b, g.layers, nl, &g.lib);
    amap_mul_build(&b, &m);
    const qnn_int8_net *run = g.net;
    const int32_t n = g.set.n, k = qnn_int8_n_out(g.net);
    qnn_int8_ws *ws = qnn_int8_ws_alloc(g.net, n);
    qnn_int8_set_input(g.net, ws, g.set.pixels, n);
    qnn_int8_forward(g.net, ws, 0, NULL);
    int8_t *ex_logits = xmalloc((size_t)n * k);
    memcpy(ex_logits, qnn_int8_ws_tensor(ws, g.net->output), (size_t)n * k);
    qnn_int8_ws *ws2 = qnn_int8_ws_alloc(run, n);
    qnn_int8_set_input(run, ws2, g.set.pixels, n);
    qnn_int8_forward(run, ws2, 0, b.layer);
    const int8_t *lg = qnn_int8_ws_tensor(ws2, g.net->output);
    *correct = *flips = 0;
    int64_t sq = 0;
    for (int32_t i = 0; i < n; i++) {
        int pa = 0, pb = 0;
        for (int c = 1; c < k; c++) {
            if (lg[i * k + c] > lg[i * k + pa]) pa = c;
            if (ex_logits[i * k + c] > ex_logits[i * k + pb]) pb = c;
        }
        *correct += pa == g.set.labels[i];
        *flips += pa != pb;
        for (int c = 0; c < k; c++) sq += (lg[i * k + c] - ex_logits[i * k + c]) * (lg[i * k + c] - ex_logits[i * k + c]);
    }
    *msd = (double)sq / ((double)n * k);
    free(ex_logits);
    qnn_int8_ws_free(ws);
    qnn_int8_ws_free(ws2);
    amap_mul_deinit(&b);
    amap_deinit(&m);
}

START_TEST(measure_equals_independent_runs)
{
    approx_comp comp;
    ck_assert_int_eq(approx_comp_init(&comp, g.net, g.layers, &g.lib, &g.cal, 1, 2), ST_OK);
    const int agg = amul_lib_find(&g.lib, "roup_k2_m6"), mid = amul_lib_find(&g.lib, "roup_k1_m3");
    sens_measured ml, mf, mf1;
    ck_assert_int_eq(sens_measure(g.net, g.layers, &g.lib, NULL, &g.set, AMAP_LAYER, mid, 2, &ml), ST_OK);
    ck_assert_int_eq(ml.n_units, g.net->n_layers);
    for (int l = 0; l < g.net->n_layers; l++) {
        int32_t c, f;
        double d;
        independent(NULL, l, -1, mid, &c, &f, &d);
        ck_assert_int_eq(ml.correct[l], c);
        ck_assert_int_eq(ml.flips[l], f);
        ck_assert_double_eq(ml.msd[l], d);
    }
    ck_assert_int_eq(sens_measure(g.net, g.layers, &g.lib, &comp, &g.set, AMAP_FILTER, agg, 2, &mf), ST_OK);
    ck_assert_int_eq(sens_measure(g.net, g.layers, &g.lib, NULL, &g.set, AMAP_LAYER, mid, 1, &mf1), ST_OK);
    ck_assert_mem_eq(ml.correct, mf1.correct, (size_t)ml.n_units * sizeof *ml.correct);
    ck_assert_mem_eq(ml.msd, mf1.msd, (size_t)ml.n_units * sizeof *ml.msd);
    /* a sample of filters across the network, out of the measurement's order */
    int u0 = 0;
    for (int l = 0; l < g.net->n_layers; l++) {
        for (int32_t co = 0; co < g.layers[l].cout; co += 15) {
            int32_t c, f;
            double d;
            independent(&comp, l, co, agg, &c, &f, &d);
            ck_assert_int_eq(mf.correct[u0 + co], c);
            ck_assert_int_eq(mf.flips[u0 + co], f);
            ck_assert_double_eq(mf.msd[u0 + co], d);
        }
        u0 += g.layers[l].cout;
    }
    ck_assert_int_eq(u0, mf.n_units);
    sens_measured_deinit(&ml);
    sens_measured_deinit(&mf);
    sens_measured_deinit(&mf1);
    approx_comp_deinit(&comp);
}
END_TEST

static Suite *suite(int with_data)
{
    Suite *s = suite_create("sens");
    TCase *t = tcase_create("sens");
    tcase_set_timeout(t, 300);
    tcase_add_test(t, one_tap_by_hand);
    tcase_add_test(t, small_layer_brute_force);
    tcase_add_test(t, rank_order_ties_by_index);
    tcase_add_test(t, rank_expand_documented_example);
    tcase_add_test(t, spearman_by_hand);
    if (with_data) {
        tcase_add_test(t, resnet8_brute_force_and_bias);
        tcase_add_test(t, measure_equals_independent_runs);
    }
    suite_add_tcase(s, t);
    return s;
}

int main(void)
{
    return tu_resnet8_main(&g, 40, suite);
}
