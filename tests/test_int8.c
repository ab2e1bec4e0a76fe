/* int8 executor on the reference ResNet-8 (skipped when the model or CIFAR-10 is absent):
 *  - whole-network int8 logits with EXACT multipliers equal the run with an explicit SEPARABLE identity
 *    transform (two planes) and with a LUT exact table (two tables), on 256 test images;
 *  - a non-identity separable multiplier (activation rounded at bit 2) equals its LUT;
 *  - results do not depend on thread count or chunk size;
 *  - resuming from saved live tensors (the activation-cache contract) reproduces the logits;
 *  - exact int8 accuracy on test images 0..999 (regression anchor). */
#include "tu.h"

#include "cifar.h"
#include "qnn_int8.h"
#include "qnn_quant.h"
#include "status.h"

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
    return (int16_t)(((a >> 2) + ((a >> 1) & 1)) * 4); /* R_2 of design.md, f(0) = 0 */
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
    tcase_add_test(tc, threads_and_chunks);
    tcase_add_test(tc, resume_from_live_tensors);
    tcase_add_test(tc, accuracy_first_1000);
    suite_add_tcase(s, tc);
    return tu_run(s);
}
