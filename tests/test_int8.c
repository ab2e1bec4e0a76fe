/* int8 executor on the reference ResNet-8 (skipped when the model or CIFAR-10 is absent):
 *  - whole-network int8 logits with EXACT multipliers (the u8 kernels on every layer) equal the int16
 *    exact path, and the run with an explicit SEPARABLE identity
 *    transform (two planes) and with a LUT exact table (two tables), on 256 test images;
 *  - a non-identity separable multiplier (activation rounded at bit 2) equals its LUT;
 *  - random maps at layer, filter and kernel granularity over the 21 ROUP multipliers and two
 *    non-separable table multipliers: the engine's fast paths (separable kernels with on-the-fly
 *    rounding, table kernels) give the same logits as the scalar table reference on 200 images;
 *  - results do not depend on thread count or chunk size;
 *  - resuming from saved live tensors (the activation-cache contract) reproduces the logits;
 *  - exact int8 accuracy on test images 0..999 (regression anchor). */
#include "tu.h"

#include "amap.h"
#include "amul.h"
#include "approx.h"
#include "cifar.h"
#include "qnn_int8.h"
#include "qnn_kern.h"
#include "qnn_quant.h"
#include "status.h"

#ifdef _OPENMP
#include <omp.h>
#endif

enum { N_IMG = 256 };

static qnn_int8_net *net;
static cifar_set test;

static void setup(void)
{
    ck_assert_int_eq(qnn_quant_load("models/resnet8_mlperf_float.onnx", "cifar10/cifar-10-batches-bin/data_batch_1.bin:0:500",
                                    NULL, NULL, &net),
                     ST_OK);
    ck_assert_int_eq(cifar_load_range("cifar10/cifar-10-batches-bin/test_batch.bin:0:1000", &test), ST_OK);
}

static void teardown(void)
{
    qnn_int8_net_free(net);
    cifar_set_deinit(&test);
}

static int8_t *run(const qnn_layer_mul *muls, int threads, int chunk)
{
    int8_t *lg = xmalloc((size_t)N_IMG * 10);
    qnn_int8_predict(net, test.pixels, N_IMG, muls, threads, chunk, lg, NULL);
    return lg;
}

static int16_t round_bit2(int a)
{
    return (int16_t)(((a >> 2) + ((a >> 1) & 1)) * 4); /* R_2 of docs/design.md, f(0) = 0 */
}

START_TEST(exact_separable_lut_agree)
{
    const int L = net->n_layers;
    ck_assert_int_eq(L, 10);
    int8_t *ref = run(NULL, 0, 0);
    qnn_layer_mul *muls = xcalloc((size_t)L, sizeof *muls);
    /* explicit EXACT */
    int8_t *lg = run(muls, 0, 0);
    ck_assert_mem_eq(lg, ref, (size_t)N_IMG * 10);
    free(lg);
    /* every layer runs the u8 kernels (the first on pixels 0..127, the others after ReLU), and the
     * int16 path they replace gives the same logits */
    struct qnn_conv_u8 *u8s[16];
    for (int i = 0, l = 0; i < net->n_ops; i++)
        if (net->ops[i].op == QNN_OP_CONV) {
            ck_assert_ptr_nonnull(net->ops[i].u8);
            u8s[l++] = net->ops[i].u8;
            net->ops[i].u8 = NULL;
        }
    lg = run(muls, 0, 0);
    ck_assert_mem_eq(lg, ref, (size_t)N_IMG * 10);
    free(lg);
    for (int i = 0, l = 0; i < net->n_ops; i++)
        if (net->ops[i].op == QNN_OP_CONV) net->ops[i].u8 = u8s[l++];
    /* SEPARABLE identity with two identical planes, kernels alternating between them */
    int16_t act[2 * 256], act_r[2 * 256];
    for (int p = 0; p < 2; p++)
        for (int u = 0; u < 256; u++) {
            act[p * 256 + u] = (int8_t)u;
            act_r[p * 256 + u] = round_bit2((int8_t)u);
        }
    uint8_t **plane_of = xcalloc((size_t)L, sizeof *plane_of);
    int16_t **wtf = xcalloc((size_t)L, sizeof *wtf);
    uint16_t **lut_of = xcalloc((size_t)L, sizeof *lut_of);
    for (int l = 0; l < L; l++) {
        const qnn_int8_layer *ly = &net->layers[l];
        size_t nk = (size_t)ly->cout * ly->cin, nw = nk * ly->kh * ly->kw;
        plane_of[l] = xmalloc(nk);
        lut_of[l] = xmalloc(nk * sizeof **lut_of);
        for (size_t k = 0; k < nk; k++) {
            plane_of[l][k] = (uint8_t)(k % 2);
            lut_of[l][k] = (uint16_t)((k / 3) % 2);
        }
        wtf[l] = xmalloc(nw * sizeof **wtf);
        for (size_t k = 0; k < nw; k++) wtf[l][k] = ly->weights[k];
        muls[l].kind = QNN_MUL_SEPARABLE;
        muls[l].n_planes = 2;
        muls[l].act_tf = act;
        muls[l].plane_of = plane_of[l];
        muls[l].w_tf = wtf[l];
    }
    lg = run(muls, 0, 0);
    ck_assert_mem_eq(lg, ref, (size_t)N_IMG * 10);
    free(lg);
    /* LUT: exact tables */
    int16_t *lut = xmalloc(65536 * sizeof *lut), *lut_r = xmalloc(65536 * sizeof *lut_r);
    for (int a = 0; a < 256; a++)
        for (int w = 0; w < 256; w++) {
            lut[a * 256 + w] = (int16_t)((int8_t)a * (int8_t)w);
            lut_r[a * 256 + w] = (int16_t)(round_bit2((int8_t)a) * (int8_t)w);
        }
    const int16_t *luts[2] = {lut, lut}, *luts_r[2] = {lut_r, lut_r};
    for (int l = 0; l < L; l++) {
        memset(&muls[l], 0, sizeof muls[l]);
        muls[l].kind = QNN_MUL_LUT;
        muls[l].n_luts = 2;
        muls[l].luts = luts;
        muls[l].lut_of = lut_of[l];
    }
    lg = run(muls, 0, 0);
    ck_assert_mem_eq(lg, ref, (size_t)N_IMG * 10);
    free(lg);
    /* an approximate multiplier: separable and LUT forms agree, and differ from exact */
    for (int l = 0; l < L; l++) {
        muls[l].luts = luts_r;
    }
    int8_t *lut_lg = run(muls, 0, 0);
    for (int l = 0; l < L; l++) {
        memset(&muls[l], 0, sizeof muls[l]);
        muls[l].kind = QNN_MUL_SEPARABLE;
        muls[l].n_planes = 2;
        muls[l].act_tf = act_r;
        muls[l].plane_of = plane_of[l];
        muls[l].w_tf = wtf[l];
    }
    int8_t *sep_lg = run(muls, 0, 0);
    ck_assert_mem_eq(sep_lg, lut_lg, (size_t)N_IMG * 10);
    ck_assert_int_ne(memcmp(sep_lg, ref, (size_t)N_IMG * 10), 0);
    free(sep_lg);
    free(lut_lg);
    for (int l = 0; l < L; l++) {
        free(plane_of[l]);
        free(wtf[l]);
        free(lut_of[l]);
    }
    free(plane_of);
    free(wtf);
    free(lut_of);
    free(lut);
    free(lut_r);
    free(muls);
    free(ref);
}
END_TEST

/* two non-separable multipliers: the exact product plus an operand-dependent error */
static int32_t mul_noisy(int8_t a, int8_t w)
{
    return a * w + (int32_t)((((uint8_t)a * 131u) ^ ((uint8_t)w * 197u)) % 33u) - 16;
}

static int32_t mul_trunc_product(int8_t a, int8_t w)
{
    return (a * w) / 16 * 16; /* the product truncated toward zero at bit 4 */
}

START_TEST(random_maps_fast_equal_reference)
{
    enum { N = 200, N_ROUP = 21 };
    amul_lib lib;
    memset(&lib, 0, sizeof lib);
    lib.n = N_ROUP + 2;
    lib.mults = xcalloc((size_t)lib.n, sizeof *lib.mults);
    for (int i = 0; i < N_ROUP; i++) {
        char name[32];
        snprintf(name, sizeof name, "roup_k%d_m%d", i / 7, i % 7);
        ck_assert_int_eq(amul_init_roup(&lib.mults[i], name, i / 7, i % 7), ST_OK);
    }
    ck_assert_int_eq(amul_init_fn(&lib.mults[N_ROUP], "noisy", mul_noisy), ST_OK);
    ck_assert_int_eq(amul_init_fn(&lib.mults[N_ROUP + 1], "trunc4", mul_trunc_product), ST_OK);
    const int L = net->n_layers;
    amap_layer *layers = xcalloc((size_t)L, sizeof *layers);
    approx_layers_from_net(net, layers);
    amap m;
    amap_init(&m, layers, L, 0);
    amap_mul mul;
    amap_mul_init(&mul, layers, L, &lib);
    /* the reference: every layer through per-kernel tables, the scalar table kernel */
    const int16_t **all = xcalloc((size_t)lib.n, sizeof *all);
    for (int i = 0; i < lib.n; i++) all[i] = lib.mults[i].lut;
    qnn_layer_mul *ref_muls = xcalloc((size_t)L, sizeof *ref_muls);
    int8_t *exact = xmalloc((size_t)N * 10), *fast = xmalloc((size_t)N * 10), *ref = xmalloc((size_t)N * 10);
    qnn_int8_predict(net, test.pixels, N, NULL, 0, 0, exact, NULL);
    uint32_t st = 2024;
    int kinds[3] = {0, 0, 0}, differ = 0;
    for (int g = AMAP_LAYER; g <= AMAP_KERNEL; g++) {
        size_t n_genes = amap_genome_len(layers, L, (amap_granularity)g);
        int *genome = xmalloc(n_genes * sizeof *genome);
        size_t i = 0;
        for (int l = 0; l < L; l++) {
            size_t per = g == AMAP_LAYER ? 1 : g == AMAP_FILTER ? (size_t)layers[l].cout
                                                                : (size_t)layers[l].cout * layers[l].cin;
            for (size_t j = 0; j < per; j++, i++) {
                st = st * 1664525u + 1013904223u;
                uint32_t r = st >> 8;
                /* layer level: layers 2 and 5 get a table multiplier; filter and kernel level: in
                 * layers 1, 4 and 7 one gene in 4 is a table (those layers take the table path);
                 * every other gene is a random ROUP multiplier (separable path) */
                int tab = g == AMAP_LAYER ? (l == 2 || l == 5) : (l % 3 == 1 && r % 4 == 0);
                genome[i] = tab ? N_ROUP + (int)(r / 4 % 2) : (int)(r / 16 % N_ROUP);
            }
        }
        ck_assert_uint_eq(i, n_genes);
        amap_expand(&m, layers, (amap_granularity)g, genome);
        free(genome);
        amap_mul_build(&mul, &m);
        for (int l = 0; l < L; l++) kinds[mul.layer[l].kind]++;
        qnn_int8_predict(net, test.pixels, N, mul.layer, 0, 0, fast, NULL);
        for (int l = 0; l < L; l++)
            ref_muls[l] = (qnn_layer_mul){.kind = QNN_MUL_LUT, .n_luts = lib.n, .luts = all,
                                          .lut_of = amap_layer_mults(&m, l)};
        qnn_kern_set_reference(1);
        qnn_int8_predict(net, test.pixels, N, ref_muls, 0, 0, ref, NULL);
        qnn_kern_set_reference(0);
        for (int k = 0; k < N * 10; k++)
            if (fast[k] != ref[k])
                ck_abort_msg("%s map: image %d logit %d: fast %d, scalar table reference %d",
                             amap_granularity_name((amap_granularity)g), k / 10, k % 10, fast[k], ref[k]);
        differ += memcmp(fast, exact, (size_t)N * 10) != 0;
    }
    ck_assert_int_ge(kinds[QNN_MUL_SEPARABLE], 3 * 6); /* each map: separable and table layers */
    ck_assert_int_ge(kinds[QNN_MUL_LUT], 3 * 2);
    ck_assert_int_eq(differ, 3); /* every map changes the logits: the comparison is not vacuous */
    free(exact), free(fast), free(ref), free(ref_muls), free(all);
    amap_mul_deinit(&mul);
    amap_deinit(&m);
    free(layers);
    amul_lib_deinit(&lib);
}
END_TEST

START_TEST(threads_and_chunks)
{
    int8_t *a = run(NULL, 1, 64), *b = run(NULL, 2, 7), *c = run(NULL, 2, 100);
    ck_assert_mem_eq(a, b, (size_t)N_IMG * 10);
    ck_assert_mem_eq(a, c, (size_t)N_IMG * 10);
    free(a);
    free(b);
    free(c);
}
END_TEST

START_TEST(resume_from_live_tensors)
{
    const int n = 16, L = net->n_layers;
    qnn_int8_ws *ws = qnn_int8_ws_alloc(net, n);
    qnn_int8_set_input(net, ws, test.pixels, n);
    qnn_int8_forward(net, ws, 0, NULL);
    const size_t nout = (size_t)n * qnn_int8_n_out(net);
    int8_t *want = xmalloc(nout);
    memcpy(want, qnn_int8_ws_tensor(ws, net->output), nout);
    int *ids = xmalloc((size_t)net->n_tensors * sizeof *ids);
    for (int l = 0; l < L; l++) {
        const int op = net->layers[l].op_index;
        qnn_int8_set_input(net, ws, test.pixels, n);
        qnn_int8_forward(net, ws, 0, NULL);
        int k = qnn_int8_live_before(net, op, ids);
        ck_assert_int_ge(k, 1);
        int8_t *saved[64];
        ck_assert_int_le(k, 64);
        for (int i = 0; i < k; i++) {
            size_t sz = qnn_int8_tensor_bytes(net, ids[i]) * n;
            saved[i] = xmalloc(sz);
            memcpy(saved[i], qnn_int8_ws_tensor(ws, ids[i]), sz);
        }
        for (int t = 0; t < net->n_tensors; t++) memset(qnn_int8_ws_tensor(ws, t), 0x55, qnn_int8_tensor_bytes(net, t) * n);
        for (int i = 0; i < k; i++) {
            memcpy(qnn_int8_ws_tensor(ws, ids[i]), saved[i], qnn_int8_tensor_bytes(net, ids[i]) * n);
            free(saved[i]);
        }
        qnn_int8_ws_set_n(ws, n);
        qnn_int8_forward(net, ws, op, NULL);
        ck_assert_mem_eq(qnn_int8_ws_tensor(ws, net->output), want, nout);
    }
    /* the residual stage needs both branches: before conv2d_4 the stage input is live too */
    ck_assert_int_eq(qnn_int8_live_before(net, net->layers[4].op_index, ids), 2);
    free(ids);
    free(want);
    qnn_int8_ws_free(ws);
}
END_TEST

START_TEST(layer_list)
{
    static const uint64_t macs[10] = {442368, 2359296, 2359296, 1179648, 2359296, 131072, 1179648, 2359296, 131072, 640};
    uint64_t total = 0;
    for (int l = 0; l < net->n_layers; l++) {
        ck_assert_uint_eq(net->layers[l].macs, macs[l]);
        ck_assert_ptr_nonnull(net->layers[l].weights);
        total += net->layers[l].macs;
    }
    ck_assert_uint_eq(total, 12501632);
    ck_assert_str_eq(net->layers[9].op, "dense");
    ck_assert_int_eq(net->layers[3].pad_b, 1);
    ck_assert_int_eq(net->layers[3].pad_t, 0);
    /* symmetric per-channel weights use -127..127 and reach +-127 in every non-zero channel */
    for (int l = 0; l < net->n_layers; l++) {
        const qnn_int8_layer *ly = &net->layers[l];
        size_t taps = (size_t)ly->kh * ly->kw * ly->cin;
        for (int32_t co = 0; co < ly->cout; co++) {
            int mx = 0;
            for (size_t t = 0; t < taps; t++) {
                int v = ly->weights[co * taps + t];
                ck_assert_int_ge(v, -127);
                mx = abs(v) > mx ? abs(v) : mx;
            }
            ck_assert_int_eq(mx, 127);
        }
    }
}
END_TEST

START_TEST(one_thread_means_one)
{
    /* predict with threads = 1 runs every loop, its own and the kernels', on one thread, whatever
     * OpenMP's default (the old executor opened an inactive num_threads(1) region and the kernels
     * inside it ran on the default team); threads = 2 uses two, also with a single chunk */
#ifdef _OPENMP
    omp_set_num_threads(4);
    int8_t *ref = run(NULL, 0, 0);
    qnn_kern_max_team(1);
    int8_t *lg = run(NULL, 1, 0);
    ck_assert_int_eq(qnn_kern_max_team(1), 1);
    ck_assert_mem_eq(lg, ref, (size_t)N_IMG * 10);
    free(lg);
    lg = run(NULL, 2, N_IMG);
    ck_assert_int_eq(qnn_kern_max_team(1), 2);
    ck_assert_mem_eq(lg, ref, (size_t)N_IMG * 10);
    free(lg);
    lg = run(NULL, 2, 32);
    ck_assert_int_eq(qnn_kern_max_team(1), 2);
    ck_assert_mem_eq(lg, ref, (size_t)N_IMG * 10);
    free(lg);
    free(ref);
    omp_set_num_threads(2);
#endif
}
END_TEST

START_TEST(accuracy_first_1000)
{
    uint8_t *pred = xmalloc((size_t)test.n);
    qnn_int8_predict(net, test.pixels, test.n, NULL, 0, 0, NULL, pred);
    int ok = 0;
    for (int32_t i = 0; i < test.n; i++) ok += pred[i] == test.labels[i];
    printf("int8 accuracy on test 0..999: %d / 1000\n", ok);
    ck_assert_int_eq(ok, 876); /* 87.60 %, as the official int8 TFLite model on the same images */
    free(pred);
}
END_TEST

int main(void)
{
    char *p = datadir_resolve("models/resnet8_mlperf_float.onnx");
    char *q = datadir_resolve("cifar10/cifar-10-batches-bin/test_batch.bin");
    char *r = datadir_resolve("cifar10/cifar-10-batches-bin/data_batch_1.bin");
    int have = access(p, R_OK) == 0 && access(q, R_OK) == 0 && access(r, R_OK) == 0;
    free(p);
    free(q);
    free(r);
    if (!have) {
        printf("SKIP: reference model or CIFAR-10 absent (set APPROXMAP_DATA or run ./quickstart.sh)\n");
        return 77;
    }
    /* The fixture quantizes once in this process and libgomp's thread pool does not survive fork():
     * run the tests in-process (Check's CK_FORK=no). */
    setenv("CK_FORK", "no", 1);
    Suite *s = suite_create("int8");
    TCase *tc = tcase_create("resnet8");
        tcase_add_unchecked_fixture(tc, setup, teardown);
    tcase_add_test(tc, layer_list);
    tcase_add_test(tc, exact_separable_lut_agree);
    tcase_add_test(tc, random_maps_fast_equal_reference);
    tcase_add_test(tc, threads_and_chunks);
    tcase_add_test(tc, resume_from_live_tensors);
    tcase_add_test(tc, one_thread_means_one);
    tcase_add_test(tc, accuracy_first_1000);
    suite_add_tcase(s, tc);
    return tu_run(s);
}
