/* CIFAR-10 reader: record counting, labels and pixels, ranges, and the errors for truncated files,
 * foreign labels and out-of-range requests. The real test batch is checked when the data is present. */
#include "tu.h"

#include "cifar.h"
#include "status.h"

/* n records; record i has label labels[i] and pixel k = (i * 7 + k) & 255 */
static char *make_file(int n, const uint8_t *labels, size_t extra)
{
    size_t len = (size_t)n * CIFAR_RECORD + extra;
    uint8_t *buf = xcalloc(len + 1, 1);
    for (int i = 0; i < n; i++) {
        buf[(size_t)i * CIFAR_RECORD] = labels[i];
        for (int k = 0; k < CIFAR_PIXELS; k++) buf[(size_t)i * CIFAR_RECORD + 1 + k] = (uint8_t)((i * 7 + k) & 255);
    }
    char *p = tu_tempfile(buf, len);
    free(buf);
    return p;
}

START_TEST(count_and_load)
{
    const uint8_t labels[3] = {0, 9, 5};
    char *p = make_file(3, labels, 0);
    int32_t n = -1;
    ck_assert_int_eq(cifar_count(p, &n), ST_OK);
    ck_assert_int_eq(n, 3);
    cifar_set s;
    ck_assert_int_eq(cifar_load(p, 0, -1, &s), ST_OK);
    ck_assert_int_eq(s.n, 3);
    ck_assert_int_eq(s.labels[0], 0);
    ck_assert_int_eq(s.labels[1], 9);
    ck_assert_int_eq(s.labels[2], 5);
    ck_assert_int_eq(s.pixels[0], 0);
    ck_assert_int_eq(s.pixels[CIFAR_PIXELS + 1], 8);           /* record 1, pixel 1 */
    ck_assert_int_eq(s.pixels[2 * CIFAR_PIXELS + 1024], (14 + 1024) & 255); /* record 2, first G pixel */
    cifar_set_deinit(&s);
    ck_assert_int_eq(cifar_load(p, 1, 1, &s), ST_OK);
    ck_assert_int_eq(s.n, 1);
    ck_assert_int_eq(s.labels[0], 9);
    ck_assert_int_eq(s.pixels[3], 10);
    cifar_set_deinit(&s);
    ck_assert_int_eq(cifar_load(p, 3, -1, &s), ST_OK); /* an empty tail is a valid, empty range */
    ck_assert_int_eq(s.n, 0);
    cifar_set_deinit(&s);
    unlink(p);
    free(p);
}
END_TEST

START_TEST(truncated_file)
{
    const uint8_t labels[2] = {1, 2};
    char *p = make_file(2, labels, 100);
    tu_capture_buf cap = {{0}, 0};
    msg_set_sink(tu_capture, &cap);
    int32_t n = 7;
    ck_assert_int_eq(cifar_count(p, &n), ST_EFORMAT);
    ck_assert_int_eq(n, 7);
    char want[512];
    snprintf(want, sizeof want, "%s: truncated record 2 (file size 6246 is not a multiple of 3073)", p);
    ck_assert_str_eq(cap.text, want);
    cifar_set s = {0};
    ck_assert_int_eq(cifar_load(p, 0, 1, &s), ST_EFORMAT);
    ck_assert_ptr_null(s.labels);
    msg_set_sink(NULL, NULL);
    unlink(p);
    free(p);
}
END_TEST

START_TEST(wrong_label)
{
    const uint8_t labels[3] = {1, 10, 2};
    char *p = make_file(3, labels, 0);
    tu_capture_buf cap = {{0}, 0};
    msg_set_sink(tu_capture, &cap);
    cifar_set s = {0};
    ck_assert_int_eq(cifar_load(p, 0, -1, &s), ST_EFORMAT);
    char want[512];
    snprintf(want, sizeof want, "%s: record 1: label 10 is not a CIFAR-10 class (0..9)", p);
    ck_assert_str_eq(cap.text, want);
    /* a range that avoids the bad record loads */
    ck_assert_int_eq(cifar_load(p, 2, 1, &s), ST_OK);
    ck_assert_int_eq(s.labels[0], 2);
    cifar_set_deinit(&s);
    msg_set_sink(NULL, NULL);
    unlink(p);
    free(p);
}
END_TEST

START_TEST(range_beyond_file)
{
    const uint8_t labels[2] = {1, 2};
    char *p = make_file(2, labels, 0);
    tu_capture_buf cap = {{0}, 0};
    msg_set_sink(tu_capture, &cap);
    cifar_set s = {0};
    ck_assert_int_eq(cifar_load(p, 1, 5, &s), ST_EINVAL);
    ck_assert_ptr_nonnull(strstr(cap.text, "records 1..5 requested but the file holds 2"));
    ck_assert_int_eq(cifar_load("/nonexistent/x.bin", 0, 1, &s), ST_EIO);
    ck_assert_ptr_nonnull(strstr(cap.text, "cannot open '/nonexistent/x.bin'"));
    msg_set_sink(NULL, NULL);
    unlink(p);
    free(p);
}
END_TEST

START_TEST(range_parse)
{
    char *f;
    int32_t a, b;
    ck_assert_int_eq(cifar_range_parse("dir/a:b.bin:5:7", &f, &a, &b), ST_OK);
    ck_assert_str_eq(f, "dir/a:b.bin");
    ck_assert_int_eq(a, 5);
    ck_assert_int_eq(b, 7);
    free(f);
    ck_assert_int_eq(cifar_range_parse("x.bin:3", &f, &a, &b), ST_OK);
    ck_assert_str_eq(f, "x.bin");
    ck_assert_int_eq(a, 3);
    ck_assert_int_eq(b, -1);
    free(f);
    ck_assert_int_eq(cifar_range_parse("x.bin", &f, &a, &b), ST_OK);
    ck_assert_str_eq(f, "x.bin");
    ck_assert_int_eq(a, 0);
    ck_assert_int_eq(b, -1);
    free(f);
    tu_capture_buf cap = {{0}, 0};
    msg_set_sink(tu_capture, &cap);
    ck_assert_int_eq(cifar_range_parse(":1:2", &f, &a, &b), ST_EINVAL);
    msg_set_sink(NULL, NULL);
}
END_TEST

/* A record list "A:1:2,B,A:0:1" is the concatenation of its ranges, in order; its errors name what is wrong. */
START_TEST(record_list)
{
    const uint8_t la[3] = {1, 2, 3}, lb[2] = {7, 8};
    char *a = make_file(3, la, 0), *b = make_file(2, lb, 0);
    char spec[1024];
    snprintf(spec, sizeof spec, "%s:1:2,%s,%s:0:1", a, b, a);
    ck_assert_int_eq(cifar_range_is_list(spec), 1);
    ck_assert_int_eq(cifar_range_check(spec, NULL), 0);
    cifar_set s = {0}, ra = {0}, rb = {0};
    ck_assert_int_eq(cifar_load_range(spec, &s), ST_OK);
    ck_assert_int_eq(cifar_load(a, 0, -1, &ra), ST_OK);
    ck_assert_int_eq(cifar_load(b, 0, -1, &rb), ST_OK);
    ck_assert_int_eq(s.n, 5);
    const uint8_t want_labels[5] = {2, 3, 7, 8, 1};
    const uint8_t *want_pixels[5] = {ra.pixels + CIFAR_PIXELS, ra.pixels + 2 * CIFAR_PIXELS, rb.pixels,
                                     rb.pixels + CIFAR_PIXELS, ra.pixels};
    for (int i = 0; i < 5; i++) {
        ck_assert_int_eq(s.labels[i], want_labels[i]);
        ck_assert_int_eq(memcmp(s.pixels + (size_t)i * CIFAR_PIXELS, want_pixels[i], CIFAR_PIXELS), 0);
    }
    cifar_set_deinit(&s);
    /* one range is not a list, with or without numbers */
    snprintf(spec, sizeof spec, "%s:1:2", a);
    ck_assert_int_eq(cifar_range_is_list(spec), 0);
    /* errors: an empty range, a COUNT of 0 inside a list, a range beyond its file */
    const char *why = NULL;
    snprintf(spec, sizeof spec, "%s,,%s", a, b);
    ck_assert_int_eq(cifar_range_check(spec, &why), CIFAR_RANGE_BAD);
    ck_assert_ptr_nonnull(strstr(why, "an empty range in the list"));
    snprintf(spec, sizeof spec, "%s,%s:0:0", a, b);
    ck_assert_int_eq(cifar_range_check(spec, &why), CIFAR_RANGE_EMPTY);
    snprintf(spec, sizeof spec, "%s,:1:2", a);
    ck_assert_int_eq(cifar_range_check(spec, &why), CIFAR_RANGE_NO_FILE);
    tu_capture_buf cap = {{0}, 0};
    msg_set_sink(tu_capture, &cap);
    snprintf(spec, sizeof spec, "%s,", a);
    s.n = 42;
    ck_assert_int_eq(cifar_load_range(spec, &s), ST_EINVAL);
    ck_assert_int_eq(s.n, 42); /* untouched on failure */
    ck_assert_ptr_nonnull(strstr(cap.text, "has an empty range"));
    snprintf(spec, sizeof spec, "%s,%s:1:5", a, b);
    ck_assert_int_eq(cifar_load_range(spec, &s), ST_EINVAL);
    ck_assert_ptr_nonnull(strstr(cap.text, "records 1..5 requested but the file holds 2"));
    msg_set_sink(NULL, NULL);
    cifar_set_deinit(&ra);
    cifar_set_deinit(&rb);
    unlink(a);
    unlink(b);
    free(a);
    free(b);
}
END_TEST

START_TEST(real_test_batch)
{
    char *p = datadir_resolve("cifar10/cifar-10-batches-bin/test_batch.bin");
    int32_t n;
    ck_assert_int_eq(cifar_count(p, &n), ST_OK);
    ck_assert_int_eq(n, 10000);
    cifar_set s;
    ck_assert_int_eq(cifar_load(p, 0, 12, &s), ST_OK);
    const uint8_t want[12] = {3, 8, 8, 0, 6, 6, 1, 6, 3, 1, 0, 9};
    for (int i = 0; i < 12; i++) ck_assert_int_eq(s.labels[i], want[i]);
    cifar_set_deinit(&s);
    ck_assert_int_eq(cifar_load(p, 0, -1, &s), ST_OK);
    int count[10] = {0};
    for (int32_t i = 0; i < s.n; i++) count[s.labels[i]]++;
    for (int k = 0; k < 10; k++) ck_assert_int_eq(count[k], 1000);
    cifar_set_deinit(&s);
    free(p);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("cifar");
    TCase *tc = tcase_create("reader");
    tcase_add_test(tc, count_and_load);
    tcase_add_test(tc, truncated_file);
    tcase_add_test(tc, wrong_label);
    tcase_add_test(tc, range_beyond_file);
    tcase_add_test(tc, range_parse);
    tcase_add_test(tc, record_list);
    suite_add_tcase(s, tc);
    int rc = tu_run(s);
    char *p = datadir_resolve("cifar10/cifar-10-batches-bin/test_batch.bin");
    int have = access(p, R_OK) == 0;
    free(p);
    if (!have) {
        printf("SKIP: CIFAR-10 test batch absent (set APPROXMAP_DATA or run ./quickstart.sh)\n");
        return rc ? rc : 77;
    }
    Suite *d = suite_create("cifar-data");
    TCase *td = tcase_create("data");
    tcase_add_test(td, real_test_batch);
    suite_add_tcase(d, td);
    return rc | tu_run(d);
}
