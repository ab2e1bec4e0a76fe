/* Tests of the approximate-evaluation glue (src/approx/approx.h).
 *
 * Without data: per-layer energy models on a hand-made two-layer example (figures computed by hand,
 * name matching in any order, every malformed file rejected at its position, what the writer writes
 * read back with the same figures), and the tap histogram
 * of error compensation on a 2x2 image (each value counted once per tap, padding taps as zeros); the
 * early-rejection rule (approx_eval_hopeless) exhaustively on small subsets: every per-image outcome
 * sequence of up to 8 images, every baseline, chunk size and limit at and around every reachable loss.
 * With the ResNet-8 model and CIFAR-10 (skipped otherwise): a uniform exact map gives the exact
 * engine's logits and energy 1; a uniform map read from YAML equals the uniform map; the energy of
 * every uniform map equals the multiplier's relative energy; the sweep's counts equal independent
 * whole-set runs (whole network, each one-layer map, and the compensated network) and do not depend
 * on the thread count; compensation of the exact map changes nothing, and for roup_k1_m2 it wins
 * back most of the loss; weight tuning and sequential correction against brute-force computations. Images are kept few (test records 0..149, 50 calibration images). */
#include <math.h>

#include "afile.h"
#include "approx.h"
#include "approx_eval.h"
#include "qnn_quant.h"
#include "status.h"
#include "tu.h"
#include "tu_resnet8.h"

/* ResNet-8, its layers, test records 0..149, calibration set and library (tu_resnet8.h) */
static tu_resnet8 g;

static char *write_text(const char *text)
{
    return tu_tempfile(text, strlen(text));
}

/* --- energy models (no data) ------------------------------------------------------------------- */

/* Layer A: 1x1 conv 1 -> 1, 300 MACs; layer B: 1x1 conv 1 -> 1, 100 MACs. */
static const amap_layer two_layers[2] = {
    {.name = "A", .cin = 1, .cout = 1, .kh = 1, .kw = 1, .macs = 300},
    {.name = "B", .cin = 1, .cout = 1, .kh = 1, .kw = 1, .macs = 100},
};

/* File layers in the order B, A: exact costs 4 (B) and 2 (A); roup_k1_m2 costs 1 in both. */
static const char *good_model = "provenance: {cell_library: handmade}\n"
                                "layers:\n"
                                "  - {name: B, macs: 100, pairs: 10}\n"
                                "  - {name: A}\n"
                                "multipliers:\n"
                                "  - {name: roup_k0_m0, fj: [4, 2]}\n"
                                "  - {name: roup_k1_m2, fj: [1, 1], network_relative: 0.4}\n"
                                "  - {name: not_in_library, fj: [9, 9]}\n";

START_TEST(energy_model_two_layers)
{
    amul_lib lib;
    ck_assert_int_eq(approx_lib_load(NULL, &lib), ST_OK);
    char *path = write_text(good_model);
    energy_model em;
    ck_assert_int_eq(energy_model_load(path, &lib, two_layers, 2, &em), ST_OK);
    const int ex = amul_lib_find(&lib, "roup_k0_m0"), r = amul_lib_find(&lib, "roup_k1_m2");
    ck_assert_int_ge(ex, 0);
    ck_assert_int_ge(r, 0);
    ck_assert_int_eq(em.n_found, 2);
    ck_assert_str_eq(em.cell_library, "handmade");
    ck_assert_double_eq(em.e_exact[0], 2);
    ck_assert_double_eq(em.e_exact[1], 4);
    ck_assert_double_eq(em.e_layer[0 * lib.n + r], 1);
    ck_assert(isnan(em.e_layer[0 * lib.n + amul_lib_find(&lib, "roup_k2_m6")]));

    energy_report er;
    energy_report_init(&er, 2, lib.n);
    amap m;
    /* uniform roup_k1_m2: (300 * 1 + 100 * 1) / (300 * 2 + 100 * 4) = 0.4 */
    ck_assert_int_eq(approx_map_uniform(&m, two_layers, 2, &lib, "roup_k1_m2"), ST_OK);
    ck_assert_int_eq(approx_energy(&m, two_layers, &lib, &em, &er), ST_OK);
    ck_assert_double_eq_tol(er.rel, 0.4, 1e-12);
    ck_assert_double_eq_tol(er.layer_rel[0], 0.5, 1e-12);
    ck_assert_double_eq_tol(er.layer_rel[1], 0.25, 1e-12);
    /* the library's relative energy instead: 0.68 (docs/design.md, "Reference figures") */
    ck_assert_int_eq(approx_energy(&m, two_layers, &lib, NULL, &er), ST_OK);
    ck_assert_double_eq_tol(er.rel, lib.mults[r].energy.rel, 1e-12);
    /* A approximate, B exact: (300 * 1 + 100 * 4) / 1000 = 0.7 */
    amap_layer_mults(&m, 1)[0] = (uint16_t)ex;
    ck_assert_int_eq(approx_energy(&m, two_layers, &lib, &em, &er), ST_OK);
    ck_assert_double_eq_tol(er.rel, 0.7, 1e-12);
    /* a multiplier the model does not list is an error naming the file */
    amap_layer_mults(&m, 0)[0] = (uint16_t)amul_lib_find(&lib, "roup_k2_m6");
    tu_capture_buf cap = {0};
    msg_set_sink(tu_capture, &cap);
    ck_assert_int_eq(approx_energy(&m, two_layers, &lib, &em, &er), ST_EFORMAT);
    msg_set_sink(NULL, NULL);
    ck_assert_ptr_nonnull(strstr(cap.text, "no energy figure for multiplier 'roup_k2_m6' (layer 'A')"));
    amap_deinit(&m);
    energy_report_deinit(&er);
    energy_model_deinit(&em);
    unlink(path);
    free(path);
    amul_lib_deinit(&lib);
}
END_TEST

static const struct {
    const char *text, *msg;
} bad_models[] = {
    {"layers: [{name: A}, {name: B}]\nmultipliers: [{name: roup_k0_m0, fj: [1, 2]}]\nextra: 1\n",
     ":3:1: unknown key 'extra'"},
    {"layers: [{name: A}, {name: C}]\nmultipliers: [{name: roup_k0_m0, fj: [1, 2]}]\n", ":1:28: unknown layer 'C'"},
    {"layers: [{name: A}]\nmultipliers: [{name: roup_k0_m0, fj: [1]}]\n",
     ":1:9: layer 'B' of the model has no entry"},
    {"layers: [{name: A}, {name: A}]\nmultipliers: [{name: roup_k0_m0, fj: [1, 2]}]\n",
     ":1:28: duplicate layer 'A'"},
    {"layers: [{name: A, macs: 301}, {name: B}]\nmultipliers: [{name: roup_k0_m0, fj: [1, 2]}]\n",
     ":1:26: layer 'A' has 300 MACs per image in the model, not 301"},
    {"layers: [{name: A}, {name: B}]\nmultipliers: [{name: roup_k0_m0, fj: [1, 2, 3]}]\n",
     ":2:38: 'fj' of 'roup_k0_m0' has 3 figures for 2 layers"},
    {"layers: [{name: A}, {name: B}]\nmultipliers: [{name: roup_k0_m0, fj: [1, x]}]\n",
     ":2:42: 'fj' must be a number, not 'x'"},
    {"layers: [{name: A}, {name: B}]\nmultipliers: [{name: roup_k0_m0, fj: [1, -2]}]\n",
     ":2:42: energy -2 of 'roup_k0_m0' is negative"},
    {"layers: [{name: A}, {name: B}]\nmultipliers: [{name: roup_k1_m1, fj: [1, 2]}]\n",
     ":2:14: no figures for the library's exact multiplier 'roup_k0_m0'"},
    {"layers: [{name: A}, {name: B}]\nmultipliers: [{name: roup_k0_m0, fj: [0, 2]}]\n",
     ":2:14: the exact multiplier 'roup_k0_m0' has no positive energy in layer 'A'"},
    {"layers: [{name: A}, {name: B}]\nmultipliers: [{name: roup_k0_m0, fj: [1, 2]}, {name: roup_k0_m0, fj: [1, 2]}]\n",
     ":2:54: duplicate multiplier 'roup_k0_m0'"},
    {"layers: [{name: A}, {name: B}]\n", ":1:1: an energy model needs 'layers' and 'multipliers'"},
    {"layers: {name: A}\nmultipliers: []\n", ":1:9: 'layers' must be a list, not a mapping"},
    {"layers: [{name: A}, {name: B}]\nmultipliers: [{fj: [1, 2]}]\n",
     ":2:15: multiplier entry needs 'name' and 'fj'"},
    {"layers: [A: 1\n", ":2:1: "},
};
enum { N_BAD_MODELS = sizeof bad_models / sizeof bad_models[0] };

/* energy_model_write: the file it writes reads back through energy_model_load with the same figures. */
START_TEST(energy_model_write_reads_back)
{
    amul_lib lib;
    ck_assert_int_eq(approx_lib_load(NULL, &lib), ST_OK);
    const char *layer_names[] = {"A", "B"}, *mult_names[] = {"roup_k0_m0", "roup_k1_m2"};
    const uint64_t macs[] = {300, 100};
    const size_t pairs[] = {512, 24};
    const double net[] = {1, 0.4}, uni[] = {1, 0.55}, fj[] = {2, 4, 1.25, 0.5};
    const energy_model_file f = {
        .tool = "hand", .cell_library = "handmade", .corner = "tt, 1.80 V", .model = "m.onnx", .stream = "s",
        .uniform_stream = "u", .run = 512, .n_layers = 2, .layer_names = layer_names, .macs = macs, .pairs = pairs,
        .n_mults = 2, .mult_names = mult_names, .network_rel = net, .uniform_rel = uni, .fj = fj,
    };
    char *path = write_text("");
    ck_assert_int_eq(energy_model_write(path, &f), ST_OK);
    char *text;
    ck_assert_int_eq(afile_read_all(path, &text, NULL), ST_OK);
    ck_assert_ptr_nonnull(strstr(text, "\n  - {name: B, macs: 100, pairs: 24}\n"));
    ck_assert_ptr_nonnull(strstr(text, "\n  - {name: roup_k1_m2, network_relative: 0.4000, uniform_relative: 0.5500,\n"
                                       "     fj: [1.25, 0.50]}\n"));
    free(text);
    energy_model em;
    ck_assert_int_eq(energy_model_load(path, &lib, two_layers, 2, &em), ST_OK);
    const int r = amul_lib_find(&lib, "roup_k1_m2");
    ck_assert_int_eq(em.n_found, 2);
    ck_assert_str_eq(em.cell_library, "handmade");
    ck_assert_double_eq(em.e_exact[0], 2);
    ck_assert_double_eq(em.e_exact[1], 4);
    ck_assert_double_eq(em.e_layer[0 * lib.n + r], 1.25);
    ck_assert_double_eq(em.e_layer[1 * lib.n + r], 0.5);
    energy_model_deinit(&em);
    unlink(path);
    free(path);
    amul_lib_deinit(&lib);
}
END_TEST

START_TEST(energy_model_malformed)
{
    amul_lib lib;
    ck_assert_int_eq(approx_lib_load(NULL, &lib), ST_OK);
    char *path = write_text(bad_models[_i].text);
    energy_model em = {0};
    tu_capture_buf cap = {0};
    msg_set_sink(tu_capture, &cap);
    int rc = energy_model_load(path, &lib, two_layers, 2, &em);
    msg_set_sink(NULL, NULL);
    ck_assert_int_ne(rc, ST_OK);
    ck_assert_ptr_null(em.e_layer); /* untouched */
    ck_assert_int_eq(cap.count, 1);
    if (!strstr(cap.text, bad_models[_i].msg) || strncmp(cap.text, path, strlen(path)))
        ck_abort_msg("case %d: got '%s', wanted '%s%s...'", _i, cap.text, path, bad_models[_i].msg);
    unlink(path);
    free(path);
    amul_lib_deinit(&lib);
}
END_TEST

/* --- tap histogram (no data) ------------------------------------------------------------------- */

START_TEST(tap_histogram_by_hand)
{
    /* 2x2 input, 3x3 kernel, pad 1, stride 1 -> 2x2 output: every output window covers all four
     * inputs (16 taps), the other 20 of the 36 taps read padding */
    qnn_int8_layer L = {.h = 2, .w = 2, .cin = 1, .cout = 1, .kh = 3, .kw = 3, .stride_h = 1, .stride_w = 1,
                        .pad_t = 1, .pad_l = 1, .pad_b = 1, .pad_r = 1, .ho = 2, .wo = 2};
    const int8_t in[4] = {1, 2, 3, -1};
    uint64_t c[256] = {0};
    approx_tap_hist(&L, in, 1, 1, c);
    ck_assert_uint_eq(c[0], 20);
    ck_assert_uint_eq(c[1], 4);
    ck_assert_uint_eq(c[2], 4);
    ck_assert_uint_eq(c[3], 4);
    ck_assert_uint_eq(c[255], 4);
    uint64_t sum = 0;
    for (int a = 0; a < 256; a++) sum += c[a];
    ck_assert_uint_eq(sum, 36);

    /* 4x4 input, 3x3 stride 2, pads top/left 0, bottom/right 1 -> 2x2 output; two channels per pixel.
     * Rows read: output row 0 reads rows 0,1,2; row 1 reads rows 2,3 and padding: row taps
     * (1, 1, 2, 1) per input row, 1 padding; the same for columns. */
    qnn_int8_layer S = {.h = 4, .w = 4, .cin = 2, .cout = 1, .kh = 3, .kw = 3, .stride_h = 2, .stride_w = 2,
                        .pad_t = 0, .pad_l = 0, .pad_b = 1, .pad_r = 1, .ho = 2, .wo = 2};
    int8_t x[32];
    for (int p = 0; p < 16; p++) {
        x[2 * p] = (int8_t)(p + 1);     /* channel 0: 1..16, value of pixel (iy, ix) = 4 iy + ix + 1 */
        x[2 * p + 1] = (int8_t)(-p - 1); /* channel 1: -1..-16 */
    }
    uint64_t h2[512] = {0};
    approx_tap_hist(&S, x, 1, 1, h2);
    const int rt[4] = {1, 1, 2, 1};
    for (int iy = 0; iy < 4; iy++)
        for (int ix = 0; ix < 4; ix++) {
            ck_assert_uint_eq(h2[4 * iy + ix + 1], (uint64_t)(rt[iy] * rt[ix]));
            ck_assert_uint_eq(h2[256 + (uint8_t)(-(4 * iy + ix + 1))], (uint64_t)(rt[iy] * rt[ix]));
        }
    /* 36 taps, (1+1+2+1)^2 = 25 read data, 11 padding */
    ck_assert_uint_eq(h2[0], 11);
    ck_assert_uint_eq(h2[256], 11);
    /* per tensor: both channels in one histogram */
    uint64_t h1[256] = {0};
    approx_tap_hist(&S, x, 1, 0, h1);
    ck_assert_uint_eq(h1[0], 22);
    ck_assert_uint_eq(h1[11], 4); /* pixel (2, 2) */
    ck_assert_uint_eq(h1[(uint8_t)-11], 4);
}
END_TEST

/* --- with the model and data ------------------------------------------------------------------- */

static int32_t correct_of(const int8_t *logits, int32_t n)
{
    int32_t ok = 0;
    for (int32_t i = 0; i < n; i++) {
        int best = 0;
        for (int j = 1; j < 10; j++)
            if (logits[i * 10 + j] > logits[i * 10 + best]) best = j;
        ok += best == g.set.labels[i];
    }
    return ok;
}

START_TEST(uniform_exact_is_exact)
{
    const int nl = g.net->n_layers;
    amap m;
    ck_assert_int_eq(approx_map_uniform(&m, g.layers, nl, &g.lib, "roup_k0_m0"), ST_OK);
    amap_mul mul;
    amap_mul_init(&mul, g.layers, nl, &g.lib);
    amap_mul_build(&mul, &m);
    const size_t nb = (size_t)g.set.n * 10;
    int8_t *a = xmalloc(nb), *b = xmalloc(nb);
    qnn_int8_predict(g.net, g.set.pixels, g.set.n, NULL, 2, 0, a, NULL);
    qnn_int8_predict(g.net, g.set.pixels, g.set.n, mul.layer, 2, 0, b, NULL);
    ck_assert_mem_eq(a, b, nb);
    const int32_t ok = approx_correct(g.net, &g.set, mul.layer, 2, NULL);
    ck_assert_int_eq(ok, correct_of(a, g.set.n));
    ck_assert_double_eq(approx_loss_pp(ok, approx_correct(g.net, &g.set, NULL, 1, NULL), g.set.n), 0.0);
    energy_report er;
    energy_report_init(&er, nl, g.lib.n);
    ck_assert_int_eq(approx_energy(&m, g.layers, &g.lib, NULL, &er), ST_OK);
    ck_assert_double_eq(er.rel, 1.0);
    free(a);
    free(b);
    energy_report_deinit(&er);
    amap_mul_deinit(&mul);
    amap_deinit(&m);
}
END_TEST

START_TEST(uniform_map_from_yaml_and_energy)
{
    const int nl = g.net->n_layers;
    /* a file with a default, and a file listing every layer */
    char *p1 = write_text("library: roup8\ndefault: roup_k1_m2\n");
    char text[4096];
    int off = snprintf(text, sizeof text, "layers:\n");
    for (int l = 0; l < nl; l++) off += snprintf(text + off, sizeof text - off, "  %s: roup_k1_m2\n", g.layers[l].name);
    char *p2 = write_text(text);
    amap u, f1, f2;
    ck_assert_int_eq(approx_map_uniform(&u, g.layers, nl, &g.lib, "roup_k1_m2"), ST_OK);
    ck_assert_int_eq(amap_read(&f1, p1, &g.lib, g.layers, nl), ST_OK);
    ck_assert_int_eq(amap_read(&f2, p2, &g.lib, g.layers, nl), ST_OK);
    ck_assert_uint_eq(u.offset[nl], f1.offset[nl]);
    ck_assert_mem_eq(u.mult, f1.mult, u.offset[nl] * sizeof *u.mult);
    ck_assert_mem_eq(u.mult, f2.mult, u.offset[nl] * sizeof *u.mult);
    /* energy of every uniform map = the multiplier's relative energy */
    energy_report er;
    energy_report_init(&er, nl, g.lib.n);
    for (int i = 0; i < g.lib.n; i++) {
        amap m;
        ck_assert_int_eq(approx_map_uniform(&m, g.layers, nl, &g.lib, g.lib.mults[i].name), ST_OK);
        ck_assert_int_eq(approx_energy(&m, g.layers, &g.lib, NULL, &er), ST_OK);
        ck_assert_double_eq_tol(er.rel, g.lib.mults[i].energy.rel, 1e-12);
        amap_deinit(&m);
    }
    /* unknown names are reported */
    tu_capture_buf cap = {0};
    msg_set_sink(tu_capture, &cap);
    amap bad;
    ck_assert_int_eq(approx_map_uniform(&bad, g.layers, nl, &g.lib, "roup_k3_m0"), ST_EINVAL);
    msg_set_sink(NULL, NULL);
    ck_assert_ptr_nonnull(strstr(cap.text, "unknown multiplier 'roup_k3_m0' in library"));
    energy_report_deinit(&er);
    amap_deinit(&u);
    amap_deinit(&f1);
    amap_deinit(&f2);
    unlink(p1);
    unlink(p2);
    free(p1);
    free(p2);
}
END_TEST

START_TEST(sweep_equals_independent_runs)
{
    const int nl = g.net->n_layers, nm = g.lib.n;
    const int ex = amul_lib_find(&g.lib, "roup_k0_m0"), r = amul_lib_find(&g.lib, "roup_k1_m2");
    uint8_t *only = xcalloc((size_t)nm, 1);
    only[ex] = only[r] = 1;
    /* the set-up the evaluator borrows: this test's net, library and layers, compensation per channel */
    approx_cnn cnn = {.net = g.net, .has_lib = 1, .lib = g.lib, .n_layers = nl, .layers = g.layers, .has_comp = 1};
    ck_assert_int_eq(approx_comp_init(&cnn.comp, g.net, g.layers, &g.lib, &g.cal, 1, 2), ST_OK);
    approx_comp *comp = &cnn.comp;
    approx_eval *ev = approx_eval_open(&cnn, 1, 0);
    approx_sweep s1, s2;
    ck_assert_int_eq(approx_sweep_run(ev, &g.set, only, 1, 2, &s1), ST_OK);
    ck_assert_int_eq(approx_sweep_run(ev, &g.set, only, 0, 1, &s2), ST_OK);
    ck_assert_ptr_null(s2.whole_comp);

    const int32_t exact = approx_correct(g.net, &g.set, NULL, 2, NULL);
    ck_assert_int_eq(s1.exact_correct, exact);
    ck_assert_int_eq(s2.exact_correct, exact);
    /* unselected multipliers are flagged */
    ck_assert_int_eq(s1.whole[amul_lib_find(&g.lib, "roup_k2_m6")], -1);
    /* the exact row: loss 0 everywhere, compensated too, energy 1, nothing saved */
    ck_assert_int_eq(s1.whole[ex], exact);
    ck_assert_int_eq(s1.whole_comp[ex], exact);
    ck_assert_double_eq(s1.energy[ex], 1.0);
    for (int l = 0; l < nl; l++) {
        ck_assert_int_eq(s1.layer[(size_t)ex * nl + l], exact);
        ck_assert_double_eq(s1.saved[(size_t)ex * nl + l], 0.0);
    }
    /* roup_k1_m2 on the whole network, then on each layer alone, by independent whole-set runs */
    amap m;
    ck_assert_int_eq(approx_map_uniform(&m, g.layers, nl, &g.lib, "roup_k1_m2"), ST_OK);
    amap_mul mul;
    amap_mul_init(&mul, g.layers, nl, &g.lib);
    amap_mul_build(&mul, &m);
    const int32_t whole = approx_correct(g.net, &g.set, mul.layer, 2, NULL);
    ck_assert_int_eq(s1.whole[r], whole);
    ck_assert_int_eq(s2.whole[r], whole);
    ck_assert_int_lt(whole, exact); /* roup_k1_m2 everywhere costs accuracy on these images */
    approx_comp_fill(comp, &m); /* the map's deltas, folded into its hooks' biases */
    amap_mul_build(&mul, &m);
    const int32_t comp_ok = approx_correct(g.net, &g.set, mul.layer, 2, NULL);
    ck_assert_int_eq(s1.whole_comp[r], comp_ok);
    /* compensation wins back more than half of the loss */
    ck_assert_int_gt(2 * (comp_ok - whole), exact - whole);
    double saved = 0;
    for (int l = 0; l < nl; l++) {
        amap one;
        amap_init(&one, g.layers, nl, (uint16_t)ex);
        for (size_t k = one.offset[l]; k < one.offset[l + 1]; k++) one.mult[k] = (uint16_t)r;
        amap_mul_build(&mul, &one);
        const int32_t ok = approx_correct(g.net, &g.set, mul.layer, 2, NULL);
        ck_assert_int_eq(s1.layer[(size_t)r * nl + l], ok);
        ck_assert_int_eq(s2.layer[(size_t)r * nl + l], ok);
        saved += s1.saved[(size_t)r * nl + l];
        amap_deinit(&one);
    }
    ck_assert_double_eq_tol(saved, 1.0 - s1.energy[r], 1e-12);
    ck_assert_double_eq_tol(s1.energy[r], g.lib.mults[r].energy.rel, 1e-12);
    amap_mul_deinit(&mul);
    amap_deinit(&m);
    approx_sweep_deinit(&s1);
    approx_sweep_deinit(&s2);
    approx_eval_close(ev);
    approx_comp_deinit(comp);
    free(only);
}
END_TEST

START_TEST(compensation_of_exact_map_is_identity)
{
    const int nl = g.net->n_layers;
    approx_comp comp;
    ck_assert_int_eq(approx_comp_init(&comp, g.net, g.layers, &g.lib, &g.cal, 0, 2), ST_OK);
    ck_assert_int_eq(comp.n_images, g.cal.n);
    /* distributions sum to one; the first layer reads pixels 0..127 and padding only */
    for (int l = 0; l < nl; l++) {
        double sum = 0;
        for (int a = 0; a < 256; a++) sum += comp.act_p[l][a];
        ck_assert_double_eq_tol(sum, 1.0, 1e-9);
    }
    for (int a = 128; a < 256; a++) ck_assert_double_eq(comp.act_p[0][a], 0.0);
    ck_assert_double_gt(comp.act_p[0][0], 0.0);
    amap m;
    ck_assert_int_eq(approx_map_uniform(&m, g.layers, nl, &g.lib, "roup_k0_m0"), ST_OK);
    approx_comp_fill(&comp, &m);
    ck_assert_ptr_nonnull(m.bias_delta);
    for (int l = 0; l < nl; l++)
        for (int32_t co = 0; co < g.layers[l].cout; co++) ck_assert_int_eq(amap_bias_delta(&m, l)[co], 0);
    amap_mul mul;
    amap_mul_init(&mul, g.layers, nl, &g.lib);
    amap_mul_build(&mul, &m);
    const size_t nb = (size_t)g.set.n * 10;
    int8_t *a = xmalloc(nb), *b = xmalloc(nb);
    qnn_int8_predict(g.net, g.set.pixels, g.set.n, NULL, 2, 0, a, NULL);
    qnn_int8_predict(g.net, g.set.pixels, g.set.n, mul.layer, 2, 0, b, NULL);
    ck_assert_mem_eq(a, b, nb);
    /* an approximate map moves the biases of its hooks, never the net's */
    int64_t net_bias_sum = 0;
    for (int l = 0; l < nl; l++)
        for (int32_t co = 0; co < g.layers[l].cout; co++) net_bias_sum += g.net->ops[g.net->layers[l].op_index].bias[co];
    const int r = amul_lib_find(&g.lib, "roup_k1_m2");
    for (size_t k = 0; k < m.offset[nl]; k++) m.mult[k] = (uint16_t)r;
    approx_comp_fill(&comp, &m);
    amap_mul_build(&mul, &m);
    int moved = 0;
    int64_t after = 0;
    for (int l = 0; l < nl; l++) {
        const int32_t *b0 = g.net->ops[g.net->layers[l].op_index].bias, *d = amap_bias_delta(&m, l);
        for (int32_t co = 0; co < g.layers[l].cout; co++) {
            ck_assert_int_eq(mul.layer[l].bias[co], b0[co] + d[co]);
            moved += d[co] != 0;
            after += b0[co];
        }
        ck_assert_ptr_eq(mul.layer[l].bias, mul.bias[l]);
    }
    ck_assert_int_gt(moved, 0);
    ck_assert(after == net_bias_sum);
    /* the plain build ignores the deltas */
    amap_mul_build_plain(&mul, &m);
    for (int l = 0; l < nl; l++) ck_assert_ptr_null(mul.layer[l].bias);
    free(a);
    free(b);
    amap_mul_deinit(&mul);
    amap_deinit(&m);
    approx_comp_deinit(&comp);
}
END_TEST

/* (g(w') - w)^T C (g(w') - w) for filter co of layer l, with stored weights ws and multiplier index mi */
static double filter_err(const approx_comp *c, int l, int32_t co, const int8_t *ws, const uint16_t *row)
{
    const amap_layer *L = &g.layers[l];
    const size_t D = (size_t)L->kh * L->kw * L->cin;
    double *e = xmalloc(D * sizeof *e), q = 0;
    for (size_t i = 0; i < D; i++) {
        const amul *mu = &g.lib.mults[row[(size_t)co * L->cin + i % (size_t)L->cin]];
        e[i] = mu->g[(uint8_t)ws[i]] - L->w[(size_t)co * D + i];
    }
    for (size_t i = 0; i < D; i++)
        for (size_t j = 0; j < D; j++) q += e[i] * c->cov[l][i * D + j] * e[j];
    free(e);
    return q;
}

START_TEST(weight_tuning)
{
    /* compensate bias+weights: the patch covariance does not depend on the thread count and equals a
     * brute-force computation on the first layer (its input is the image); an all-exact map keeps every
     * weight; under uniform roup_k2_m0 no filter's tuned error exceeds plain rounding's, and most are
     * below it */
    const int nl = g.net->n_layers;
    approx_comp c1, c2;
    ck_assert_int_eq(approx_comp_init(&c1, g.net, g.layers, &g.lib, &g.cal, 2, 1), ST_OK);
    ck_assert_int_eq(approx_comp_init(&c2, g.net, g.layers, &g.lib, &g.cal, 2, 2), ST_OK);
    ck_assert(c1.tune && c1.per_channel);
    for (int l = 0; l < nl; l++) {
        const size_t D = (size_t)g.layers[l].kh * g.layers[l].kw * g.layers[l].cin;
        ck_assert_mem_eq(c1.cov[l], c2.cov[l], D * D * sizeof **c1.cov);
        ck_assert_mem_eq(c1.hl[l], c2.hl[l], D * D * sizeof **c1.hl);
    }
    /* brute force, layer 0: every sampled position (every (ho + 7) / 8-th row and column) of the first
     * min(128, n) calibration images */
    const qnn_int8_layer *L0 = &g.net->layers[0];
    const int32_t n = g.cal.n < 128 ? g.cal.n : 128, D = L0->kh * L0->kw * L0->cin;
    qnn_int8_ws *ws = qnn_int8_ws_alloc(g.net, n);
    qnn_int8_set_input(g.net, ws, g.cal.pixels, n);
    const int8_t *in = qnn_int8_ws_tensor(ws, g.net->ops[L0->op_index].in[0]);
    double *S = xcalloc((size_t)D * D, sizeof *S), *mu = xcalloc((size_t)D, sizeof *mu), cnt = 0;
    int32_t x[64];
    ck_assert_int_le(D, 64);
    for (int32_t img = 0; img < n; img++)
        for (int32_t oy = 0; oy < L0->ho; oy += (L0->ho + 7) / 8)
            for (int32_t ox = 0; ox < L0->wo; ox += (L0->wo + 7) / 8) {
                int k = 0;
                for (int32_t ky = 0; ky < L0->kh; ky++)
                    for (int32_t kx = 0; kx < L0->kw; kx++)
                        for (int32_t ci = 0; ci < L0->cin; ci++) {
                            const int32_t iy = oy * L0->stride_h - L0->pad_t + ky, ix = ox * L0->stride_w - L0->pad_l + kx;
                            x[k++] = iy < 0 || iy >= L0->h || ix < 0 || ix >= L0->w
                                         ? 0 : in[(((size_t)img * L0->h + iy) * L0->w + ix) * L0->cin + ci];
                        }
                for (int i = 0; i < D; i++) {
                    mu[i] += x[i];
                    for (int j = 0; j < D; j++) S[i * D + j] += (double)x[i] * x[j];
                }
                cnt++;
            }
    for (int i = 0; i < D; i++)
        for (int j = 0; j < D; j++)
            ck_assert_double_eq(c1.cov[0][i * D + j], S[i * D + j] / cnt - (mu[i] / cnt) * (mu[j] / cnt));
    free(S);
    free(mu);
    qnn_int8_ws_free(ws);
    /* all exact: the stored weights are the layers' own */
    amap m;
    ck_assert_int_eq(approx_map_uniform(&m, g.layers, nl, &g.lib, "roup_k0_m0"), ST_OK);
    approx_comp_fill(&c1, &m);
    for (int l = 0; l < nl; l++) {
        ck_assert_ptr_nonnull(amap_wt(&m, l));
        ck_assert_mem_eq(amap_wt(&m, l), g.layers[l].w, m.woffset[l + 1] - m.woffset[l]);
    }
    amap_deinit(&m);
    /* uniform roup_k2_m0: tuned never worse than plain rounding, and better for most filters */
    ck_assert_int_eq(approx_map_uniform(&m, g.layers, nl, &g.lib, "roup_k2_m0"), ST_OK);
    approx_comp_fill(&c2, &m);
    int better = 0, filters = 0;
    for (int l = 0; l < nl; l++) {
        const uint16_t *row = amap_layer_mults(&m, l);
        const size_t Dl = (size_t)g.layers[l].kh * g.layers[l].kw * g.layers[l].cin;
        for (int32_t co = 0; co < g.layers[l].cout; co++) {
            const double tuned = filter_err(&c2, l, co, amap_wt(&m, l) + co * Dl, row);
            const double plain = filter_err(&c2, l, co, g.layers[l].w + co * Dl, row);
            ck_assert_double_le(tuned, plain);
            better += tuned < plain;
            filters++;
        }
    }
    ck_assert_int_gt(2 * better, filters);
    amap_deinit(&m);
    approx_comp_deinit(&c1);
    approx_comp_deinit(&c2);
}
END_TEST

START_TEST(sequential_bias)
{
    /* compensate bias+weights+seq: the deltas of a map with exact layers between approximate ones equal
     * a brute-force evaluation of the documented rule, run on the map's own final hooks: per layer,
     * -round(sum over taps and input channels of E~[M(a, w')] - w * mean(a)), where E~ is over the
     * approximate network's input to the layer (every output position's taps enumerated, padding as
     * zeros) and mean(a) over the exact network's, both on the first min(128, n) calibration images.
     * The exact layers after approximate ones get deltas; an all-exact map gets none; 1 and 2 threads
     * give the same state. */
    const int nl = g.net->n_layers;
    approx_comp c1, c2;
    ck_assert_int_eq(approx_comp_init(&c1, g.net, g.layers, &g.lib, &g.cal, 4, 1), ST_OK);
    ck_assert_int_eq(approx_comp_init(&c2, g.net, g.layers, &g.lib, &g.cal, 4, 2), ST_OK);
    ck_assert(c1.seq && c1.tune && c1.n_seq == (g.cal.n < 128 ? g.cal.n : 128));
    for (int l = 0; l < nl; l++) ck_assert_mem_eq(c1.seq_mean[l], c2.seq_mean[l], g.layers[l].cin * sizeof(double));
    amap m;
    ck_assert_int_eq(approx_map_uniform(&m, g.layers, nl, &g.lib, "roup_k0_m0"), ST_OK);
    approx_comp_fill(&c1, &m);
    for (int l = 0; l < nl; l++)
        for (int32_t co = 0; co < g.layers[l].cout; co++) ck_assert_int_eq(amap_bias_delta(&m, l)[co], 0);
    /* even layers approximate (perforation, so activation-dependent errors), odd layers exact */
    const uint16_t mults[2] = {(uint16_t)amul_lib_find(&g.lib, "roup_k1_m2"), (uint16_t)amul_lib_find(&g.lib, "roup_k0_m0")};
    for (int l = 0; l < nl; l++)
        for (size_t k = m.offset[l]; k < m.offset[l + 1]; k++) m.mult[k] = mults[l % 2];
    approx_comp_fill(&c2, &m);
    amap_mul mul;
    amap_mul_init(&mul, g.layers, nl, &g.lib);
    amap_mul_build(&mul, &m);
    const int32_t n = c1.n_seq;
    qnn_int8_ws *wa = qnn_int8_ws_alloc(g.net, n), *we = qnn_int8_ws_alloc(g.net, n);
    qnn_int8_set_input(g.net, wa, g.cal.pixels, n);
    qnn_int8_set_input(g.net, we, g.cal.pixels, n);
    int exact_moved = 0, off_by_one = 0, deltas = 0;
    for (int op = 0; op < g.net->n_ops; op++) {
        const qnn_int8_op *o = &g.net->ops[op];
        if (o->op == QNN_OP_CONV) {
            const int l = o->layer;
            const qnn_int8_layer *L = &g.net->layers[l];
            const int8_t *xa = qnn_int8_ws_tensor(wa, o->in[0]), *xe = qnn_int8_ws_tensor(we, o->in[0]);
            double *pa = xcalloc((size_t)L->cin * 256, sizeof *pa), *mean = xcalloc((size_t)L->cin, sizeof *mean);
            double reads = 0;
            for (int32_t img = 0; img < n; img++)
                for (int32_t oy = 0; oy < L->ho; oy++)
                    for (int32_t ox = 0; ox < L->wo; ox++)
                        for (int32_t ky = 0; ky < L->kh; ky++)
                            for (int32_t kx = 0; kx < L->kw; kx++) {
                                const int32_t iy = oy * L->stride_h - L->pad_t + ky, ix = ox * L->stride_w - L->pad_l + kx;
                                const int in = iy >= 0 && iy < L->h && ix >= 0 && ix < L->w;
                                const size_t at = (((size_t)img * L->h + (in ? iy : 0)) * L->w + (in ? ix : 0)) * L->cin;
                                for (int32_t ci = 0; ci < L->cin; ci++) {
                                    pa[(size_t)ci * 256 + (uint8_t)(in ? xa[at + ci] : 0)] += 1;
                                    mean[ci] += in ? xe[at + ci] : 0;
                                }
                                reads++;
                            }
            const int8_t *wt = amap_wt(&m, l);
            const uint16_t *row = amap_layer_mults(&m, l);
            const size_t taps = (size_t)L->kh * L->kw;
            for (int32_t co = 0; co < L->cout; co++) {
                double sum = 0;
                for (size_t t = 0; t < taps; t++)
                    for (int32_t ci = 0; ci < L->cin; ci++) {
                        const size_t i = ((size_t)co * taps + t) * L->cin + ci;
                        const amul *mu = &g.lib.mults[row[(size_t)co * L->cin + ci]];
                        for (int a = 0; a < 256; a++)
                            sum += pa[(size_t)ci * 256 + a] / reads * mu->lut[a * 256 + (uint8_t)(wt ? wt[i] : g.layers[l].w[i])];
                        sum -= g.layers[l].w[i] * mean[ci] / reads;
                    }
                const double want = -sum;
                const int32_t got = amap_bias_delta(&m, l)[co];
                ck_assert_double_le(fabs(got - want), 0.5 + 1e-6);
                off_by_one += got != (int32_t)lround(want);
                deltas++;
                exact_moved += l % 2 && got != 0;
            }
            free(pa);
            free(mean);
        }
        qnn_int8_step(g.net, wa, op, mul.layer);
        qnn_int8_step(g.net, we, op, NULL);
    }
    ck_assert_int_gt(exact_moved, 0);
    ck_assert_int_le(100 * off_by_one, deltas); /* rounding at a tie, in another summation order */
    qnn_int8_ws_free(wa);
    qnn_int8_ws_free(we);
    amap_mul_deinit(&mul);
    amap_deinit(&m);
    approx_comp_deinit(&c1);
    approx_comp_deinit(&c2);
}
END_TEST

/* P(X <= k), X ~ Binomial(m, q), by direct summation in logs: an independent check of GSL's CDFs */
static double binom_cdf_sum(unsigned k, unsigned m, double q)
{
    double sum = 0;
    for (unsigned i = 0; i <= k; i++)
        sum += exp(lgamma(m + 1.0) - lgamma(i + 1.0) - lgamma(m - i + 1.0) + i * log(q) + (m - i) * log1p(-q));
    return sum;
}

START_TEST(paired_exact_by_hand)
{
    approx_paired r;
    /* b = 5, c = 1: P(X <= 1 | 6, 1/2) = 7/64, p = 14/64; upper bound of q: B^-1(0.975; 6, 1) = 0.975^(1/6);
     * lower bound: I_q(5, 2) = 6 q^5 - 5 q^6 = 0.025 */
    approx_paired_exact(5, 1, 100, &r);
    ck_assert(r.lost == 5 && r.gained == 1 && r.n == 100);
    ck_assert_double_eq_tol(r.loss_pp, 4.0, 1e-12);
    ck_assert_double_eq_tol(r.p, 0.21875, 1e-12);
    const double q_hi = pow(0.975, 1.0 / 6), q_lo = (r.ci_lo / 6.0 + 1) / 2;
    ck_assert_double_eq_tol(r.ci_hi, 6.0 * (2 * q_hi - 1), 1e-9);
    ck_assert_double_eq_tol(6 * pow(q_lo, 5) - 5 * pow(q_lo, 6), 0.025, 1e-10);
    ck_assert(r.ci_lo < r.loss_pp && r.loss_pp < r.ci_hi);
    /* symmetric: b = 1, c = 5 mirrors the interval */
    approx_paired m;
    approx_paired_exact(1, 5, 100, &m);
    ck_assert_double_eq_tol(m.p, 0.21875, 1e-12);
    ck_assert_double_eq_tol(m.ci_lo, -r.ci_hi, 1e-9);
    ck_assert_double_eq_tol(m.ci_hi, -r.ci_lo, 1e-9);
    /* b = 3, c = 0: p = 2 / 8; q in [0.025^(1/3), 1], loss in [30 (2 x 0.025^(1/3) - 1), 30] */
    approx_paired_exact(3, 0, 10, &r);
    ck_assert_double_eq_tol(r.p, 0.25, 1e-12);
    ck_assert_double_eq_tol(r.ci_lo, 30.0 * (2 * cbrt(0.025) - 1), 1e-9);
    ck_assert_double_eq_tol(r.ci_hi, 30.0, 1e-12);
    /* no discordant image: loss 0, the point interval, p = 1 */
    approx_paired_exact(0, 0, 8000, &r);
    ck_assert(r.loss_pp == 0 && r.ci_lo == 0 && r.ci_hi == 0 && r.p == 1);
    /* b = c: p = 1 (capped), interval symmetric about 0 */
    approx_paired_exact(4, 4, 50, &r);
    ck_assert(r.p == 1 && r.loss_pp == 0);
    ck_assert_double_eq_tol(r.ci_lo, -r.ci_hi, 1e-9);
    /* b = 1, c = 0: p = 2 x 1/2 = 1 */
    approx_paired_exact(1, 0, 50, &r);
    ck_assert_double_eq_tol(r.p, 1.0, 1e-15);
    ck_assert_double_eq_tol(r.ci_hi, 2.0, 1e-12);
    /* large b + c (a 4 pp holdout map): p = 2 P(X <= 400 | 1000, 1/2) summed directly; the Clopper-Pearson
     * bounds are where the binomial tails are 0.025: P(X >= 600 | q_lo) = P(X <= 600 | q_hi) = 0.025 */
    approx_paired_exact(600, 400, 8000, &r);
    ck_assert_double_eq_tol(r.loss_pp, 2.5, 1e-12);
    const double p_sum = 2 * binom_cdf_sum(400, 1000, 0.5);
    ck_assert_double_eq_tol(r.p / p_sum, 1.0, 1e-9);
    ck_assert(r.p > 1e-11 && r.p < 1e-9);
    const double lo = (r.ci_lo / 12.5 + 1) / 2, hi = (r.ci_hi / 12.5 + 1) / 2;
    ck_assert_double_eq_tol(1 - binom_cdf_sum(599, 1000, lo), 0.025, 1e-9);
    ck_assert_double_eq_tol(binom_cdf_sum(600, 1000, hi), 0.025, 1e-9);
    ck_assert(r.ci_lo > 1.70 && r.ci_lo < 1.76 && r.ci_hi > 3.24 && r.ci_hi < 3.30); /* near the normal 2.5 +- 0.77 */
}
END_TEST

enum { EARLY_MAX_N = 8 }; /* subsets of 1..8 images: 2^8 outcome sequences at most */

/* The early-rejection rule, exhaustively on small subsets. (1) approx_eval_hopeless against its definition:
 * a map with c right among `done` of n images is hopeless exactly when no number r of right answers among
 * the n - done images left gives a final loss within the limit. (2) A chunked pass that stops at the first
 * chunk where the rule holds (as the engine and the activation cache do), over every outcome sequence:
 * a map the full evaluation finds feasible is never stopped and keeps its loss; a stopped map is infeasible
 * in the full evaluation, and its recorded loss (the best case) and violation are lower bounds of the
 * true ones. Limits: every loss value n images can produce, the doubles next to it, 0 and 4 pp. */
START_TEST(early_rejection_rule_exhaustive)
{
    ck_assert(!approx_eval_hopeless(NULL, 0, 0, 1)); /* no rule: nothing is hopeless */
    long feasible = 0, stopped = 0, strict = 0, checks = 0;
    for (int32_t n = 1; n <= EARLY_MAX_N; n++) {
        double lims[3 * (2 * EARLY_MAX_N + 1) + 2];
        int nl = 0;
        for (int32_t d = -n; d <= n; d++) {
            const double v = approx_loss_pp(d, 0, n);
            lims[nl++] = v;
            lims[nl++] = nextafter(v, -INFINITY);
            lims[nl++] = nextafter(v, INFINITY);
        }
        lims[nl++] = 0.0;
        lims[nl++] = 4.0;
        for (int32_t e = 0; e <= n; e++)
            for (int li = 0; li < nl; li++) {
                const approx_eval_reject rj = {e, lims[li]};
                /* (1) the rule against its definition */
                for (int32_t done = 0; done <= n; done++)
                    for (int32_t c = 0; c <= done; c++) {
                        int reachable = 0;
                        for (int32_t r = 0; r <= n - done; r++) reachable |= approx_loss_pp(e, c + r, n) <= lims[li];
                        ck_assert_msg(approx_eval_hopeless(&rj, c, done, n) == (done < n && !reachable),
                                      "n %d exact %d limit %.17g: %d right of %d", n, e, lims[li], c, done);
                        checks++;
                    }
                /* (2) chunked passes over every outcome sequence */
                for (uint32_t seq = 0; seq < 1u << n; seq++)
                    for (int32_t chunk = 1; chunk <= n; chunk++) {
                        int32_t ok = 0, done = n, full = 0;
                        for (int32_t i = 0; i < n; i++) full += (seq >> i) & 1;
                        for (int32_t first = 0; first < n; first += chunk) {
                            const int32_t k = n - first < chunk ? n - first : chunk;
                            for (int32_t i = first; i < first + k; i++) ok += (seq >> i) & 1;
                            if (approx_eval_hopeless(&rj, ok, first + k, n)) {
                                done = first + k;
                                break;
                            }
                        }
                        const double true_loss = approx_loss_pp(e, full, n);
                        const double got = approx_loss_pp(e, done < n ? ok + (n - done) : ok, n);
                        const double true_cv = true_loss > lims[li] ? true_loss - lims[li] : 0;
                        const double got_cv = got > lims[li] ? got - lims[li] : 0;
                        if (true_loss <= lims[li]) {
                            feasible++;
                            ck_assert_msg(done == n && got == true_loss, "feasible map stopped: n %d exact %d limit "
                                          "%.17g sequence %#x chunk %d", n, e, lims[li], seq, chunk);
                        }
                        if (done < n) {
                            stopped++;
                            ck_assert(got > lims[li] && got <= true_loss && got_cv > 0 && got_cv <= true_cv);
                            strict += got < true_loss;
                        } else {
                            ck_assert(ok == full && got == true_loss);
                        }
                    }
            }
    }
    /* not vacuous: both kinds occur, and some stopped maps record a loss strictly below the true one */
    ck_assert_int_gt(feasible, 100000);
    ck_assert_int_gt(stopped, 100000);
    ck_assert_int_gt(strict, 10000);
    printf("PASS: early-rejection rule: %ld rule checks; %ld feasible chunked passes never stopped, %ld stopped "
           "with lower bounds (%ld strict)\n", checks, feasible, stopped, strict);
}
END_TEST

static Suite *suite(int with_data)
{
    Suite *s = suite_create("approx");
    TCase *t = tcase_create("approx");
    tcase_set_timeout(t, 300);
    tcase_add_test(t, energy_model_two_layers);
    tcase_add_test(t, energy_model_write_reads_back);
    tcase_add_loop_test(t, energy_model_malformed, 0, N_BAD_MODELS);
    tcase_add_test(t, tap_histogram_by_hand);
    tcase_add_test(t, paired_exact_by_hand);
    tcase_add_test(t, early_rejection_rule_exhaustive);
    if (with_data) {
        tcase_add_test(t, uniform_exact_is_exact);
        tcase_add_test(t, uniform_map_from_yaml_and_energy);
        tcase_add_test(t, sweep_equals_independent_runs);
        tcase_add_test(t, compensation_of_exact_map_is_identity);
        tcase_add_test(t, weight_tuning);
        tcase_add_test(t, sequential_bias);
    }
    suite_add_tcase(s, t);
    return s;
}

int main(void)
{
    return tu_resnet8_main(&g, 150, suite);
}
