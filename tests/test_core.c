/* Core services: diagnostics sink, atomic files, data directory, and the reference convolutions
 * checked against hand-computed values. */
#include "tu.h"

#include <sys/stat.h>

#include "afile.h"
#include "qnn_conv.h"
#include "status.h"
#include "util.h"
#include "yload.h"

START_TEST(msg_error_returns_code_and_reaches_sink)
{
    tu_capture_buf cap = {0};
    msg_set_sink(tu_capture, &cap);
    int rc = msg_error(ST_EPARSE, "%s:%d:%d: unknown key '%s'", "p.yaml", 14, 3, "mutation_rat");
    msg_set_sink(NULL, NULL);
    ck_assert_int_eq(rc, ST_EPARSE);
    ck_assert_int_eq(cap.count, 1);
    ck_assert_str_eq(cap.text, "p.yaml:14:3: unknown key 'mutation_rat'");
}
END_TEST

START_TEST(afile_replaces_atomically_and_abort_keeps_old)
{
    char dir[] = "/tmp/approxmap-afile-XXXXXX";
    ck_assert_ptr_nonnull(mkdtemp(dir));
    char *path = xasprintf("%s/f", dir);
    ck_assert_int_eq(afile_write_all(path, "first", 5), ST_OK);
    afile *f = afile_open(path);
    ck_assert_ptr_nonnull(f);
    fputs("second, never committed", afile_stream(f));
    afile_abort(f);
    char *data;
    size_t len;
    ck_assert_int_eq(afile_read_all(path, &data, &len), ST_OK);
    ck_assert_uint_eq(len, 5);
    ck_assert_str_eq(data, "first");
    free(data);
    ck_assert_int_eq(afile_write_all(path, "second", 6), ST_OK);
    ck_assert_int_eq(afile_read_all(path, &data, &len), ST_OK);
    ck_assert_str_eq(data, "second");
    free(data);
    unlink(path);
    rmdir(dir);
    free(path);
}
END_TEST

START_TEST(afile_reports_unwritable_directory)
{
    tu_capture_buf cap = {0};
    msg_set_sink(tu_capture, &cap);
    ck_assert_ptr_null(afile_open("/nonexistent-dir/x"));
    msg_set_sink(NULL, NULL);
    ck_assert_int_eq(cap.count, 1);
    ck_assert_ptr_nonnull(strstr(cap.text, "cannot write '/nonexistent-dir/x.tmp."));
}
END_TEST

START_TEST(afile_read_all_refuses_non_regular_files)
{
    tu_capture_buf cap = {0};
    char *data = NULL;
    size_t len = 0;
    msg_set_sink(tu_capture, &cap);
    int rc_zero = afile_read_all("/dev/zero", &data, &len);
    ck_assert_str_eq(cap.text, "cannot read '/dev/zero': not a regular file");
    int rc_dir = afile_read_all("/tmp", &data, &len);
    msg_set_sink(NULL, NULL);
    ck_assert_int_eq(rc_zero, ST_EIO);
    ck_assert_int_eq(rc_dir, ST_EIO);
    ck_assert_str_eq(cap.text, "cannot read '/tmp': is a directory");
    ck_assert_ptr_null(data);
}
END_TEST

/* Runs `text` through yload_parse; returns the status and leaves the message in cap. */
static int yload_text(const char *text, tu_capture_buf *cap)
{
    yaml_document_t doc;
    msg_set_sink(tu_capture, cap);
    int rc = yload_parse("t.yaml", text, strlen(text), &doc);
    msg_set_sink(NULL, NULL);
    if (rc == ST_OK) yaml_document_delete(&doc);
    return rc;
}

START_TEST(yload_bounds_depth_and_documents)
{
    tu_capture_buf cap = {0};
    /* 64 levels load, 65 do not; the error points at the 65th opening bracket */
    char deep[2 * 200 + 2];
    for (int d = 64; d <= 65; d++) {
        memset(deep, '[', (size_t)d);
        memset(deep + d, ']', (size_t)d);
        deep[2 * d] = 0;
        ck_assert_int_eq(yload_text(deep, &cap), d == 64 ? ST_OK : ST_EPARSE);
    }
    ck_assert_str_eq(cap.text, "t.yaml:1:65: nesting deeper than 64");
    /* 100 000 levels are refused at once (libyaml's loader alone takes seconds) */
    size_t n = 100000;
    char *huge = xmalloc(2 * n + 1);
    memset(huge, '{', n);
    memset(huge + n, '}', n);
    huge[2 * n] = 0;
    ck_assert_int_eq(yload_text(huge, &cap), ST_EPARSE);
    ck_assert_str_eq(cap.text, "t.yaml:1:65: nesting deeper than 64");
    free(huge);
    /* block style counts the same */
    ck_assert_int_eq(yload_text("a:\n  b:\n    - [1, {c: 2}]\n", &cap), ST_OK);
    /* one document with explicit markers is fine; a second is refused where it starts */
    ck_assert_int_eq(yload_text("---\na: 1\n...\n", &cap), ST_OK);
    ck_assert_int_eq(yload_text("a: 1\n---\nb: 2\n", &cap), ST_EPARSE);
    ck_assert_str_eq(cap.text, "t.yaml:2:1: a second YAML document; the file must hold exactly one");
    /* syntax errors keep libyaml's position */
    ck_assert_int_eq(yload_text("a: [1, 2\n", &cap), ST_EPARSE);
    ck_assert_ptr_nonnull(strstr(cap.text, "t.yaml:2:1: did not find expected ',' or ']'"));
    /* reader errors (encoding, control characters) carry a byte offset, turned into line:col */
    ck_assert_int_eq(yload_text("a: 1\nb: \x01\n", &cap), ST_EPARSE);
    ck_assert_str_eq(cap.text, "t.yaml:2:4: control characters are not allowed");
    ck_assert_int_eq(yload_text("a: 1\nb: \xc3\xa9\xff\n", &cap), ST_EPARSE);
    ck_assert_str_eq(cap.text, "t.yaml:2:5: invalid leading UTF-8 octet");
}
END_TEST

START_TEST(yload_refuses_aliases)
{
    tu_capture_buf cap = {0};
    /* a node that is its own child, an alias of a scalar, a merge key: each refused where the alias is */
    ck_assert_int_eq(yload_text("a: &x [*x]\n", &cap), ST_EPARSE);
    ck_assert_str_eq(cap.text, "t.yaml:1:8: YAML alias '*x': aliases are not accepted (write the value out)");
    ck_assert_int_eq(yload_text("a: &n 3\nb:\n  - 1\n  - *n\n", &cap), ST_EPARSE);
    ck_assert_str_eq(cap.text, "t.yaml:4:5: YAML alias '*n': aliases are not accepted (write the value out)");
    ck_assert_int_eq(yload_text("base: &b {x: 1}\nother:\n  <<: *b\n", &cap), ST_EPARSE);
    ck_assert_str_eq(cap.text, "t.yaml:3:7: YAML alias '*b': aliases are not accepted (write the value out)");
    /* an anchor without an alias loads */
    ck_assert_int_eq(yload_text("a: &x [1, 2]\n", &cap), ST_OK);
}
END_TEST

START_TEST(datadir_prefers_flag_then_env)
{
    setenv("APPROXMAP_DATA", "/env/dir", 1);
    ck_assert_str_eq(datadir_get(), "/env/dir");
    datadir_set("/flag/dir");
    char *p = datadir_resolve("models/m.onnx");
    ck_assert_str_eq(p, "/flag/dir/models/m.onnx");
    free(p);
    p = datadir_resolve("/abs/m.onnx");
    ck_assert_str_eq(p, "/abs/m.onnx");
    free(p);
    datadir_set(NULL);
    unsetenv("APPROXMAP_DATA");
}
END_TEST

/* 1 image, 3x3 input, 1 channel, 2x2 kernel, stride 1, pad right/bottom 1: hand-computed sums. */
START_TEST(util_escapers_hash_argmax_threads)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *fp = open_memstream(&buf, &len);
    ck_assert_ptr_nonnull(fp);
    const char *s = "a\"b\\c\n\x7f\xc3";
    util_put_json_str(fp, s);
    fputc(' ', fp);
    util_put_json_str(fp, NULL);
    fputc(' ', fp);
    util_put_yaml_str(fp, s);
    fputc(' ', fp);
    util_put_c_str(fp, s);
    fclose(fp);
    ck_assert_str_eq(buf, "\"a\\\"b\\\\c\\u000a\x7f\xc3\" null \"a\\\"b\\\\c\\x0a\x7f\xc3\" "
                          "\"a\\\"b\\\\c\\012\\177\\303\"");
    free(buf);
    /* FNV-1a 64 reference values: "" is the offset basis, "a" and "foobar" from the FNV test suite */
    ck_assert_uint_eq(util_fnv1a(UTIL_FNV1A_INIT, "", 0), 0xcbf29ce484222325ULL);
    ck_assert_uint_eq(util_fnv1a(UTIL_FNV1A_INIT, "a", 1), 0xaf63dc4c8601ec8cULL);
    ck_assert_uint_eq(util_fnv1a(util_fnv1a(UTIL_FNV1A_INIT, "foo", 3), "bar", 3), 0x85944171f73967e8ULL);
    const int8_t v[] = { -128, 5, 127, -3, 127, 0 };
    ck_assert_int_eq(util_argmax_s8(v, 6), 2);
    ck_assert_int_eq(util_argmax_s8(v, 2), 1);
    ck_assert_int_eq(util_argmax_s8(v, 1), 0);
    ck_assert_int_eq(util_threads(3, 100), 3);
    ck_assert_int_eq(util_threads(8, 5), 5);
    ck_assert_int_eq(util_threads(4, 0), 1);
    ck_assert_int_ge(util_threads(0, 1000), 1);
    ck_assert_int_eq(util_threads(-2, 1), 1);
}
END_TEST

START_TEST(conv_ref_hand_values)
{
    qnn_conv_shape s = {.n = 1, .h = 3, .w = 3, .cin = 1, .cout = 1, .kh = 2, .kw = 2,
                        .stride_h = 1, .stride_w = 1, .pad_b = 1, .pad_r = 1};
    ck_assert_int_eq(qnn_conv_shape_finish(&s), 0);
    ck_assert_int_eq(s.ho, 3);
    ck_assert_int_eq(s.wo, 3);
    const int16_t in[9] = {1, 2, 3, 4, 5, 6, 7, 8, 9};
    const int16_t w[4] = {1, -2, 3, 128};
    const int16_t *planes[1] = {in};
    int32_t acc[9];
    qnn_conv_acc_ref(&s, planes, NULL, w, acc);
    /* out(0,0) = 1*1 - 2*2 + 3*4 + 128*5 = 649 ; out(2,2) = 1*9 = 9 ; out(0,2) = 3 + 3*6 = 21 */
    ck_assert_int_eq(acc[0], 649);
    ck_assert_int_eq(acc[2], 21);
    ck_assert_int_eq(acc[8], 9);
    ck_assert_uint_eq(qnn_conv_macs(&s), 36);
}
END_TEST

/* A table whose product is 1 everywhere counts taps, padding taps included. */
START_TEST(conv_lut_ref_counts_padding_taps)
{
    qnn_conv_shape s = {.n = 1, .h = 2, .w = 2, .cin = 2, .cout = 1, .kh = 3, .kw = 3,
                        .stride_h = 1, .stride_w = 1, .pad_t = 1, .pad_l = 1, .pad_b = 1, .pad_r = 1};
    ck_assert_int_eq(qnn_conv_shape_finish(&s), 0);
    int16_t *ones = xmalloc(65536 * sizeof *ones);
    for (int i = 0; i < 65536; i++) ones[i] = 1;
    const int16_t *luts[1] = {ones};
    int8_t in[8] = {0}, w[18] = {0};
    int32_t acc[4];
    qnn_conv_acc_lut_ref(&s, in, w, luts, NULL, acc);
    for (int i = 0; i < 4; i++) ck_assert_int_eq(acc[i], 18);
    free(ones);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("core");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, msg_error_returns_code_and_reaches_sink);
    tcase_add_test(tc, afile_replaces_atomically_and_abort_keeps_old);
    tcase_add_test(tc, afile_reports_unwritable_directory);
    tcase_add_test(tc, afile_read_all_refuses_non_regular_files);
    tcase_add_test(tc, yload_bounds_depth_and_documents);
    tcase_add_test(tc, yload_refuses_aliases);
    tcase_add_test(tc, datadir_prefers_flag_then_env);
    tcase_add_test(tc, util_escapers_hash_argmax_threads);
    tcase_add_test(tc, conv_ref_hand_values);
    tcase_add_test(tc, conv_lut_ref_counts_padding_taps);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) { return tu_run(suite()); }
