/* PCG32: the published test vector, jump-ahead against stepping, unbiased bounded draws,
 * 53-bit doubles, state round trip, and the GSL wrapper (gsl_ran_gaussian reproducible from a state). */
#include "tu.h"

#include <gsl/gsl_randist.h>

#include "rng.h"

START_TEST(pcg32_test_vector)
{
    static const uint32_t want[6] = {0xa15c02b7, 0x7b47f409, 0xba1d3330, 0x83d2f293, 0xbfa4784b, 0xcbed606e};
    rng_pcg32 r;
    rng_seed(&r, 42, 54);
    for (int i = 0; i < 6; i++) ck_assert_uint_eq(rng_u32(&r), want[i]);
}
END_TEST

START_TEST(advance_equals_stepping)
{
    static const uint64_t deltas[] = {0, 1, 2, 3, 1000, 65537, 1234567};
    for (size_t d = 0; d < sizeof deltas / sizeof deltas[0]; d++) {
        rng_pcg32 a, b;
        rng_seed(&a, 0x853c49e6748fea9bULL, 0xda3e39cb94b95bdbULL);
        b = a;
        for (uint64_t i = 0; i < deltas[d]; i++) rng_u32(&a);
        rng_advance(&b, deltas[d]);
        ck_assert_uint_eq(a.state, b.state);
        ck_assert_uint_eq(rng_u32(&a), rng_u32(&b));
    }
    /* advancing by -n (mod 2^64) goes back */
    rng_pcg32 c;
    rng_seed(&c, 42, 54);
    rng_pcg32 start = c;
    for (int i = 0; i < 77; i++) rng_u32(&c);
    rng_advance(&c, (uint64_t)0 - 77u);
    ck_assert_uint_eq(c.state, start.state);
}
END_TEST

START_TEST(bounded_is_in_range_and_unbiased)
{
    rng_pcg32 r;
    rng_seed(&r, 2024, 7);
    long count[7] = {0};
    const long n = 600000;
    for (long i = 0; i < n; i++) {
        uint32_t v = rng_bounded(&r, 6);
        count[v < 6 ? v : 6]++;
    }
    ck_assert_int_eq(count[6], 0);
    /* chi-square with 5 degrees of freedom; 20.5 is the 0.999 quantile */
    double chi = 0;
    for (int k = 0; k < 6; k++) chi += (count[k] - n / 6.0) * (count[k] - n / 6.0) / (n / 6.0);
    ck_assert_double_lt(chi, 20.5);
    /* bound 1 always 0; a bound just above 2^31 rejects about half the draws yet stays in range */
    ck_assert_uint_eq(rng_bounded(&r, 1), 0);
    int out = 0;
    for (int i = 0; i < 1000; i++) out += rng_bounded(&r, 0x80000001u) >= 0x80000001u;
    ck_assert_int_eq(out, 0);
}
END_TEST

START_TEST(doubles_use_53_bits)
{
    rng_pcg32 r, s;
    rng_seed(&r, 42, 54);
    s = r;
    double d = rng_double(&r);
    uint32_t a = rng_u32(&s) >> 5, b = rng_u32(&s) >> 6;
    ck_assert(d == ((double)a * 67108864.0 + (double)b) / 9007199254740992.0);
    /* 0xa15c02b7 >> 5 = 0x050ae015, 0x7b47f409 >> 6 = 0x01ed1fd0 */
    ck_assert(d == (double)0x050ae015 / 134217728.0 + (double)0x01ed1fd0 / 9007199254740992.0);
    int fractional = 0, outside = 0;
    for (int i = 0; i < 10000; i++) {
        double v = rng_double(&r);
        outside += !(v >= 0 && v < 1);
        fractional |= v * 4294967296.0 != (double)(uint64_t)(v * 4294967296.0);
    }
    ck_assert_int_eq(outside, 0);
    ck_assert_int_eq(fractional, 1); /* more than 32 bits of resolution */
}
END_TEST

START_TEST(state_round_trip_is_little_endian)
{
    rng_pcg32 r, q;
    rng_seed(&r, 42, 54);
    unsigned char buf[RNG_STATE_BYTES];
    rng_save(&r, buf);
    for (int i = 0; i < 8; i++) {
        ck_assert_uint_eq(buf[i], (unsigned char)(r.state >> (8 * i)));
        ck_assert_uint_eq(buf[8 + i], (unsigned char)(r.inc >> (8 * i)));
    }
    ck_assert_int_eq(rng_load(&q, buf), 0);
    ck_assert_uint_eq(rng_u32(&q), 0xa15c02b7);
    buf[8] &= 0xfe; /* an even increment is not a PCG state */
    ck_assert_int_eq(rng_load(&q, buf), -1);
}
END_TEST

START_TEST(streams_differ)
{
    rng_pcg32 a, b;
    rng_seed(&a, 42, 1);
    rng_seed(&b, 42, 2);
    int same = 0;
    for (int i = 0; i < 100; i++) same += rng_u32(&a) == rng_u32(&b);
    ck_assert_int_lt(same, 3);
}
END_TEST

START_TEST(gsl_wrapper_draws_from_pcg)
{
    gsl_rng *g = gsl_rng_alloc(rng_gsl_pcg32);
    ck_assert_str_eq(gsl_rng_name(g), "pcg32");
    gsl_rng_set(g, 42); /* stream RNG_GSL_SEQ = 54: the test vector */
    ck_assert_uint_eq(gsl_rng_get(g), 0xa15c02b7);
    ck_assert_uint_eq(gsl_rng_max(g), 0xffffffffUL);

    rng_pcg32 r;
    rng_seed(&r, 9, 3);
    gsl_rng *g1 = rng_gsl_alloc(&r), *g2 = rng_gsl_alloc(&r);
    double v1[8], v2[8];
    for (int i = 0; i < 8; i++) v1[i] = gsl_ran_gaussian(g1, 2.0);
    for (int i = 0; i < 8; i++) v2[i] = gsl_ran_gaussian(g2, 2.0);
    for (int i = 0; i < 8; i++) ck_assert(v1[i] == v2[i]);
    /* it consumed the PCG stream: the saved state moved, and continues where the draws stopped */
    ck_assert_uint_ne(rng_gsl_state(g1)->state, r.state);
    rng_pcg32 after = *rng_gsl_state(g1);
    ck_assert_uint_eq(rng_u32(&after), (uint32_t)gsl_rng_get(g2));
    /* a uniform drawn through GSL is the PCG double */
    rng_pcg32 s = *rng_gsl_state(g1);
    ck_assert(gsl_rng_uniform(g1) == rng_double(&s));
    gsl_rng_free(g);
    gsl_rng_free(g1);
    gsl_rng_free(g2);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("rng");
    TCase *t = tcase_create("pcg32");
    tcase_add_test(t, pcg32_test_vector);
    tcase_add_test(t, advance_equals_stepping);
    tcase_add_test(t, bounded_is_in_range_and_unbiased);
    tcase_add_test(t, doubles_use_53_bits);
    tcase_add_test(t, state_round_trip_is_little_endian);
    tcase_add_test(t, streams_differ);
    tcase_add_test(t, gsl_wrapper_draws_from_pcg);
    suite_add_tcase(s, t);
    return s;
}

int main(void) { return tu_run(suite()); }
