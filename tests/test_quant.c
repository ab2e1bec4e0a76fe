/* Quantization: the TFLite fixed-point requantizer against hand-computed cases (ties, negative values,
 * left and right shifts, saturation), QuantizeMultiplier, and a hand-sized model quantized end to end
 * (per-channel weights, int32 bias, scales, int8 outputs against the float values). */
#include "tu.h"

#include <math.h>

#include "qnn_int8.h"
#include "qnn_quant.h"
#include "status.h"

START_TEST(srdhm_cases)
{
    ck_assert_int_eq(qnn_quant_srdhm(1 << 30, 1 << 30), 1 << 29);
    ck_assert_int_eq(qnn_quant_srdhm(INT32_MIN, INT32_MIN), INT32_MAX); /* the one saturating case */
    /* x * 2^30 / 2^31 = x / 2: ties round up (toward +inf), as gemmlowp's nudge does */
    ck_assert_int_eq(qnn_quant_srdhm(3, 1 << 30), 2);   /* 1.5 -> 2 */
    ck_assert_int_eq(qnn_quant_srdhm(-3, 1 << 30), -1); /* -1.5 -> -1 */
    ck_assert_int_eq(qnn_quant_srdhm(5, 1 << 30), 3);   /* 2.5 -> 3 */
    ck_assert_int_eq(qnn_quant_srdhm(-5, 1 << 30), -2); /* -2.5 -> -2 */
    ck_assert_int_eq(qnn_quant_srdhm(-7, 1 << 30), -3); /* -3.5 -> -3 */
    ck_assert_int_eq(qnn_quant_srdhm(1000, 1717986918), 800); /* 0.8 in Q31 */
    ck_assert_int_eq(qnn_quant_srdhm(-1000, 1717986918), -800);
    ck_assert_int_eq(qnn_quant_srdhm(INT32_MAX, INT32_MAX), INT32_MAX - 1);
}
END_TEST

START_TEST(rdbpot_cases)
{
    /* ties away from zero */
    ck_assert_int_eq(qnn_quant_rdbpot(5, 1), 3);   /* 2.5 */
    ck_assert_int_eq(qnn_quant_rdbpot(-5, 1), -3); /* -2.5 */
    ck_assert_int_eq(qnn_quant_rdbpot(6, 2), 2);   /* 1.5 */
    ck_assert_int_eq(qnn_quant_rdbpot(-6, 2), -2); /* -1.5 */
    ck_assert_int_eq(qnn_quant_rdbpot(5, 2), 1);   /* 1.25 */
    ck_assert_int_eq(qnn_quant_rdbpot(-5, 2), -1); /* -1.25 */
    ck_assert_int_eq(qnn_quant_rdbpot(7, 2), 2);   /* 1.75 */
    ck_assert_int_eq(qnn_quant_rdbpot(-7, 2), -2); /* -1.75 */
    ck_assert_int_eq(qnn_quant_rdbpot(-4, 1), -2);
    ck_assert_int_eq(qnn_quant_rdbpot(123, 0), 123);
    ck_assert_int_eq(qnn_quant_rdbpot(-123, 0), -123);
    ck_assert_int_eq(qnn_quant_rdbpot(INT32_MAX, 31), 1);
    ck_assert_int_eq(qnn_quant_rdbpot(INT32_MIN, 31), -1);
}
END_TEST

START_TEST(multiplier_cases)
{
    int32_t m;
    int s;
    qnn_quant_multiplier(0.5, &m, &s);
    ck_assert_int_eq(m, 1 << 30);
    ck_assert_int_eq(s, 0);
    qnn_quant_multiplier(1.0, &m, &s);
    ck_assert_int_eq(m, 1 << 30);
    ck_assert_int_eq(s, 1);
    qnn_quant_multiplier(0.75, &m, &s);
    ck_assert_int_eq(m, 1610612736);
    ck_assert_int_eq(s, 0);
    qnn_quant_multiplier(0.1, &m, &s); /* 0.8 * 2^-3 */
    ck_assert_int_eq(m, 1717986918);
    ck_assert_int_eq(s, -3);
    qnn_quant_multiplier(1.0 - 1e-12, &m, &s); /* rounds up to 2^31: renormalised */
    ck_assert_int_eq(m, 1 << 30);
    ck_assert_int_eq(s, 1);
    qnn_quant_multiplier(ldexp(1.0, -40), &m, &s); /* below Q31 range: zero */
    ck_assert_int_eq(m, 0);
    ck_assert_int_eq(s, 0);
    qnn_quant_multiplier(0.0, &m, &s);
    ck_assert_int_eq(m, 0);
}
END_TEST

START_TEST(requant_cases)
{
    ck_assert_int_eq(qnn_quant_requant(100, 1 << 30, 0), 50);
    ck_assert_int_eq(qnn_quant_requant(101, 1 << 30, 0), 51);   /* 50.5 -> 51 */
    ck_assert_int_eq(qnn_quant_requant(-101, 1 << 30, 0), -50); /* -50.5 -> -50 (high-mul rounds up) */
    ck_assert_int_eq(qnn_quant_requant(1000, 1717986918, -3), 100);
    ck_assert_int_eq(qnn_quant_requant(-1000, 1717986918, -3), -100);
    ck_assert_int_eq(qnn_quant_requant(12, 1 << 30, -2), 2);   /* 6 / 4 = 1.5 -> 2 */
    ck_assert_int_eq(qnn_quant_requant(-12, 1 << 30, -2), -2); /* -1.5 -> -2 (divide rounds away) */
    ck_assert_int_eq(qnn_quant_requant(10, 1 << 30, -2), 1);   /* 1.25 -> 1 */
    ck_assert_int_eq(qnn_quant_requant(3, 1 << 30, 2), 6);     /* left shift first: 12 * 0.5 */
    ck_assert_int_eq(qnn_quant_requant(INT32_MAX, 1 << 30, 1), 1 << 30); /* saturated shift */
    ck_assert_int_eq(qnn_quant_requant(INT32_MIN, 1 << 30, 1), -(1 << 30));
    /* TFLite rounds twice: 9 * 0.25 = 2.25, but 9 * 0.5 = 4.5 -> 5 first, then 5 / 2 = 2.5 -> 3 */
    ck_assert_int_eq(qnn_quant_requant(9, 1 << 30, -1), 3);
    ck_assert_int_eq(qnn_quant_requant(-9, 1 << 30, -1), -2); /* -4.5 -> -4, -4 / 2 = -2 */
}
END_TEST

START_TEST(round_clamp)
{
    ck_assert_int_eq(qnn_quant_round_clamp(2.5, -128, 127), 3);
    ck_assert_int_eq(qnn_quant_round_clamp(-2.5, -128, 127), -3);
    ck_assert_int_eq(qnn_quant_round_clamp(300, -128, 127), 127);
    ck_assert_int_eq(qnn_quant_round_clamp(-300, -127, 127), -127);
    ck_assert_int_eq(qnn_quant_round_clamp(NAN, -127, 127), 0);
}
END_TEST

/* input 1x2x1, conv 1x1 1->2 (w = 0.5, -0.25; b = 1, 0), then add(conv, conv) */
static qnn_model *hand_model(void)
{
    qnn_model *m = qnn_model_alloc("hand");
    m->input = qnn_model_add_tensor(m, "x", 1, 2, 1);
    int c = qnn_model_add_tensor(m, "c", 1, 2, 2);
    int a = qnn_model_add_tensor(m, "a", 1, 2, 2);
    qnn_node *nd = qnn_model_add_node(m, QNN_OP_CONV, "conv", "Conv");
    qnn_conv_shape s = {0, 1, 2, 1, 2, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0};
    ck_assert_int_eq(qnn_conv_shape_finish(&s), 0);
    nd->shape = s;
    nd->n_in = 1;
    nd->in[0] = m->input;
    nd->out = c;
    nd->weight = xmalloc(2 * sizeof(float));
    nd->bias = xmalloc(2 * sizeof(float));
    nd->weight[0] = 0.5f;
    nd->weight[1] = -0.25f;
    nd->bias[0] = 1.0f;
    nd->bias[1] = 0.0f;
    nd = qnn_model_add_node(m, QNN_OP_ADD, "add", "Add");
    nd->n_in = 2;
    nd->in[0] = nd->in[1] = c;
    nd->out = a;
    m->output = a;
    qnn_model_finish(m);
    return m;
}

START_TEST(hand_model_quantized)
{
    qnn_model *m = hand_model();
    const uint8_t px[4] = {255, 100, 50, 0}; /* two images of 1x2x1 */
    qnn_quant_opts o = qnn_quant_opts_default();
    o.method = QNN_CALIB_MAX;
    o.threads = 1;
    qnn_int8_net *net;
    ck_assert_int_eq(qnn_quant_build(m, px, 2, &o, &net), ST_OK);
    const double s_in = 255.0 / 127.0;
    ck_assert(net->tensors[0].scale == s_in);
    ck_assert_int_eq(net->in_lut[255], 127);
    ck_assert_int_eq(net->in_lut[1], 0);   /* 0.498 */
    ck_assert_int_eq(net->in_lut[3], 1);   /* 1.49 */
    ck_assert_int_eq(net->in_lut[128], 64); /* 63.75 */
    const qnn_int8_op *cv = &net->ops[0];
    ck_assert_int_eq(cv->w[0], 127);
    ck_assert_int_eq(cv->w[1], -127);
    ck_assert_int_eq(cv->bias[0], 127); /* 1 / (s_in * 0.5/127) = 126.502 */
    ck_assert_int_eq(cv->bias[1], 0);
    /* float conv max |x| = 0.5 * 255 + 1 = 128.5; the add doubles it */
    ck_assert_double_eq_tol(net->tensors[1].scale, 128.5 / 127, 1e-12);
    ck_assert_double_eq_tol(net->tensors[2].scale, 257.0 / 127, 1e-12);
    ck_assert_int_eq(cv->act_min, -128);
    ck_assert_int_eq(cv->act_max, 127);
    ck_assert_int_eq(net->ops[1].add_left_shift, 20);
    ck_assert_int_eq(net->n_layers, 1);
    ck_assert_uint_eq(net->layers[0].macs, 4);

    int8_t out[8];
    qnn_int8_predict(net, px, 2, NULL, 1, 0, out, NULL);
    /* image 0, pixel 255 -> q 127: acc = 127 * 127 + 127 = 16256 -> 16256 * s_in * (0.5/127) / s_c = 127 */
    ck_assert_int_eq(out[0], 127);
    /* channel 1: 127 * -127 = -16129 -> -63.75 / (128.5/127) * ... / 2 (add scale) */
    const float fl[8] = {128.5f, -63.75f, 51, -25, 26, -12.5f, 1, 0};
    for (int i = 0; i < 8; i++) {
        double want = 2 * fl[i] / net->tensors[2].scale; /* the add output, in its scale */
        ck_assert_msg(fabs(out[i] - want) <= 1.0, "out[%d] = %d, float %.3f", i, out[i], want);
    }
    ck_assert_int_eq(out[1], -63); /* -127.5 / 2.0236 = -63.0 */
    qnn_int8_net_free(net);
    qnn_model_free(m);
}
END_TEST

/* A random float chain, input 9x11x3 -> conv 3x3 pad 1 3->16 (ReLU) -> conv 3x3/2 pads 0,0,1,1
 * 16->32 (clamp -1..2) -> conv 1x1 32->16 (no clamp) -> conv 2x3 valid 16->8: widths 11, 5, 5, 3 (not
 * multiples of the 4-pixel block), the last cout not a multiple of 16, borders on every side. */
static qnn_model *rand_chain(uint64_t seed)
{
    static const int32_t H = 9, W = 11;
    static const struct {
        int32_t cin, cout, kh, kw, st, pt, pl, pb, pr, clamp;
        float lo, hi;
    } L[4] = {{3, 16, 3, 3, 1, 1, 1, 1, 1, 1, 0, INFINITY},
              {16, 32, 3, 3, 2, 0, 0, 1, 1, 1, -1, 2},
              {32, 16, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0},
              {16, 8, 2, 3, 1, 0, 0, 0, 0, 0, 0, 0}};
    qnn_model *m = qnn_model_alloc("chain");
    int32_t h = H, w = W;
    int t = m->input = qnn_model_add_tensor(m, "x", h, w, 3);
    uint64_t st = seed;
    for (int i = 0; i < 4; i++) {
        qnn_conv_shape s = {.h = h, .w = w, .cin = L[i].cin, .cout = L[i].cout, .kh = L[i].kh, .kw = L[i].kw,
                            .stride_h = L[i].st, .stride_w = L[i].st, .pad_t = L[i].pt, .pad_l = L[i].pl,
                            .pad_b = L[i].pb, .pad_r = L[i].pr};
        ck_assert_int_eq(qnn_conv_shape_finish(&s), 0);
        char name[8];
        snprintf(name, sizeof name, "t%d", i);
        int o = qnn_model_add_tensor(m, name, s.ho, s.wo, s.cout);
        qnn_node *nd = qnn_model_add_node(m, QNN_OP_CONV, name, "Conv");
        nd->shape = s;
        nd->n_in = 1;
        nd->in[0] = t;
        nd->out = o;
        size_t nw = (size_t)s.cout * s.kh * s.kw * s.cin;
        nd->weight = xmalloc(nw * sizeof(float));
        nd->bias = xmalloc((size_t)s.cout * sizeof(float));
        for (size_t j = 0; j < nw; j++) {
            st = st * 6364136223846793005ull + 1442695040888963407ull;
            nd->weight[j] = (float)((int32_t)(st >> 40) - (1 << 23)) / (float)(1 << 26) / (i ? 1 : 16);
        }
        for (int32_t c = 0; c < s.cout; c++) nd->bias[c] = (float)(c % 5) * 0.1f - 0.2f;
        nd->has_clamp = L[i].clamp;
        nd->lo = L[i].clamp ? L[i].lo : -INFINITY;
        nd->hi = L[i].clamp ? L[i].hi : INFINITY;
        t = o;
        h = s.ho, w = s.wo;
    }
    m->output = t;
    qnn_model_finish(m);
    return m;
}

/* The register-blocked float convolution equals the reference loop nest bit for bit (logits and the
 * calibration maxima), on random chains whose shapes exercise its borders and tails. */
START_TEST(float_conv_blocked_exact)
{
    for (uint64_t seed = 1; seed <= 3; seed++) {
        qnn_model *m = rand_chain(seed);
        const int32_t n = 70, n_out = qnn_model_n_out(m); /* more than one chunk of 64 */
        ck_assert_int_eq(n_out, 3 * 3 * 8);
        uint8_t *px = xmalloc((size_t)n * 3 * 9 * 11);
        for (size_t i = 0; i < (size_t)n * 3 * 9 * 11; i++) px[i] = (uint8_t)((i * 2654435761u + seed) >> 7);
        float *a = xmalloc((size_t)n * n_out * sizeof(float)), *b = xmalloc((size_t)n * n_out * sizeof(float));
        double ma[5] = {0}, mb[5] = {0};
        qnn_model_predict(m, px, n, 2, a, ma);
        qnn_model_set_ref_conv(1);
        qnn_model_predict(m, px, n, 1, b, mb);
        qnn_model_set_ref_conv(0);
        ck_assert(memcmp(a, b, (size_t)n * n_out * sizeof(float)) == 0);
        ck_assert(memcmp(ma, mb, sizeof ma) == 0);
        ck_assert_msg(ma[4] > 0 && ma[2] == 2.0, "%g %g %g %g", ma[1], ma[2], ma[3], ma[4]); /* the clamp to 2 binds */
        /* and a changed weight changes the logits (the comparison can fail) */
        m->nodes[3].weight_t[5] += 1.0f;
        qnn_model_predict(m, px, n, 1, a, NULL);
        ck_assert(memcmp(a, b, (size_t)n * n_out * sizeof(float)) != 0);
        free(px), free(a), free(b);
        qnn_model_free(m);
    }
}
END_TEST

int main(void)
{
    Suite *s = suite_create("quant");
    TCase *tc = tcase_create("requant");
    tcase_add_test(tc, srdhm_cases);
    tcase_add_test(tc, rdbpot_cases);
    tcase_add_test(tc, multiplier_cases);
    tcase_add_test(tc, requant_cases);
    tcase_add_test(tc, round_clamp);
    tcase_add_test(tc, hand_model_quantized);
    tcase_add_test(tc, float_conv_blocked_exact);
    suite_add_tcase(s, tc);
    return tu_run(s);
}
