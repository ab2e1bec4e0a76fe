/* Checkpoint format: CRC-32 check value, little-endian field layout, exact double round trip,
 * bounds-checked reads, and refusal of bad magic, other versions, truncation and corruption with
 * the documented messages. */
#include "tu.h"

#include <math.h>

#include "afile.h"
#include "ckpt.h"
#include "status.h"

START_TEST(crc32_check_value)
{
    ck_assert_uint_eq(ckpt_crc32(0, "123456789", 9), 0xCBF43926u);
    ck_assert_uint_eq(ckpt_crc32(0, "", 0), 0);
    /* incremental equals one-shot */
    ck_assert_uint_eq(ckpt_crc32(ckpt_crc32(0, "1234", 4), "56789", 5), 0xCBF43926u);
}
END_TEST

START_TEST(fields_are_little_endian_and_round_trip)
{
    ckpt_writer w;
    ckpt_writer_init(&w);
    ckpt_put_u32(&w, 0x01020304u);
    ckpt_put_u64(&w, 0x1122334455667788ull);
    ckpt_put_f64(&w, -0.1);
    ckpt_put_f64(&w, INFINITY);
    ckpt_put_i64(&w, -5);
    ckpt_put_u8(&w, 0xab);
    ck_assert_uint_eq(w.len, 4 + 8 + 8 + 8 + 8 + 1);
    ck_assert_uint_eq(w.data[0], 0x04);
    ck_assert_uint_eq(w.data[3], 0x01);
    ck_assert_uint_eq(w.data[4], 0x88);
    ck_assert_uint_eq(w.data[11], 0x11);
    /* -0.1 = 0xBFB999999999999A */
    ck_assert_uint_eq(w.data[12], 0x9A);
    ck_assert_uint_eq(w.data[19], 0xBF);
    ckpt_reader r;
    ckpt_reader_init(&r, w.data, w.len);
    ck_assert_uint_eq(ckpt_get_u32(&r), 0x01020304u);
    ck_assert_uint_eq(ckpt_get_u64(&r), 0x1122334455667788ull);
    ck_assert(ckpt_get_f64(&r) == -0.1);
    ck_assert(isinf(ckpt_get_f64(&r)));
    ck_assert_int_eq(ckpt_get_i64(&r), -5);
    ck_assert_uint_eq(ckpt_get_u8(&r), 0xab);
    ck_assert_int_eq(r.err, 0);
    ck_assert_uint_eq(ckpt_remaining(&r), 0);
    /* reading past the end is a sticky error, never garbage */
    ck_assert_uint_eq(ckpt_get_u32(&r), 0);
    ck_assert_int_eq(r.err, 1);
    ckpt_writer_deinit(&w);
}
END_TEST

static char *tmpdir_path(const char *name, char *dir)
{
    ck_assert_ptr_nonnull(mkdtemp(dir));
    return xasprintf("%s/%s", dir, name);
}

static void write_raw(const char *path, const unsigned char *data, size_t len)
{
    FILE *fp = fopen(path, "wb");
    ck_assert_ptr_nonnull(fp);
    ck_assert_uint_eq(fwrite(data, 1, len, fp), len);
    fclose(fp);
}

START_TEST(file_round_trip_and_refusals)
{
    char dir[] = "/tmp/approxmap-ckpt-XXXXXX";
    char *path = tmpdir_path("ck", dir);
    ckpt_writer w;
    ckpt_writer_init(&w);
    for (int i = 0; i < 1000; i++) ckpt_put_u32(&w, (uint32_t)i * 2654435761u);
    ck_assert_int_eq(ckpt_file_write(path, "TESTCKPT", 3, &w), ST_OK);

    unsigned char *data;
    ckpt_reader r;
    ck_assert_int_eq(ckpt_file_read(path, "TESTCKPT", 3, "checkpoint", &data, &r), ST_OK);
    ck_assert_uint_eq(ckpt_remaining(&r), 4000);
    for (int i = 0; i < 1000; i++) ck_assert_uint_eq(ckpt_get_u32(&r), (uint32_t)i * 2654435761u);
    free(data);

    char *raw;
    size_t len;
    ck_assert_int_eq(afile_read_all(path, &raw, &len), ST_OK);
    ck_assert_uint_eq(len, CKPT_HEADER_LEN + 4000 + 4);
    unsigned char *u = (unsigned char *)raw;
    tu_capture_buf cap = {0};
    msg_set_sink(tu_capture, &cap);
    char *want;

    ck_assert_int_eq(ckpt_file_read(path, "OTHERMAG", 3, "checkpoint", &data, &r), ST_EFORMAT);
    want = xasprintf("'%s' is not a checkpoint file", path);
    ck_assert_str_eq(cap.text, want);
    free(want);

    ck_assert_int_eq(ckpt_file_read(path, "TESTCKPT", 4, "checkpoint", &data, &r), ST_EFORMAT);
    want = xasprintf("'%s' has checkpoint format version 3; this program reads version 4", path);
    ck_assert_str_eq(cap.text, want);
    free(want);

    u[CKPT_HEADER_LEN + 17] ^= 0x40; /* one flipped bit in the payload */
    write_raw(path, u, len);
    ck_assert_int_eq(ckpt_file_read(path, "TESTCKPT", 3, "checkpoint", &data, &r), ST_EFORMAT);
    want = xasprintf("'%s' is corrupt (checksum mismatch)", path);
    ck_assert_str_eq(cap.text, want);
    free(want);
    u[CKPT_HEADER_LEN + 17] ^= 0x40;

    write_raw(path, u, len - 100);
    ck_assert_int_eq(ckpt_file_read(path, "TESTCKPT", 3, "checkpoint", &data, &r), ST_EFORMAT);
    want = xasprintf("'%s' is truncated or damaged (3924 bytes, header says 4024)", path);
    ck_assert_str_eq(cap.text, want);
    free(want);

    write_raw(path, u, 10);
    ck_assert_int_eq(ckpt_file_read(path, "TESTCKPT", 3, "checkpoint", &data, &r), ST_EFORMAT);
    want = xasprintf("'%s' is not a checkpoint file", path);
    ck_assert_str_eq(cap.text, want);
    free(want);

    unlink(path);
    ck_assert_int_eq(ckpt_file_read(path, "TESTCKPT", 3, "checkpoint", &data, &r), ST_EIO);
    want = xasprintf("cannot open '%s': No such file or directory", path);
    ck_assert_str_eq(cap.text, want);
    free(want);
    msg_set_sink(NULL, NULL);
    ck_assert_int_eq(cap.count, 6);

    free(raw);
    ckpt_writer_deinit(&w);
    rmdir(dir);
    free(path);
}
END_TEST

START_TEST(write_failure_keeps_old_file)
{
    char dir[] = "/tmp/approxmap-ckpt-XXXXXX";
    char *path = tmpdir_path("ck", dir);
    ckpt_writer w;
    ckpt_writer_init(&w);
    ckpt_put_u32(&w, 7);
    ck_assert_int_eq(ckpt_file_write(path, "TESTCKPT", 1, &w), ST_OK);
    tu_capture_buf cap = {0};
    msg_set_sink(tu_capture, &cap);
    char *bad = xasprintf("%s/missing/ck", dir);
    ck_assert_int_eq(ckpt_file_write(bad, "TESTCKPT", 1, &w), ST_EIO);
    msg_set_sink(NULL, NULL);
    ck_assert_int_ge(cap.count, 1);
    unsigned char *data;
    ckpt_reader r;
    ck_assert_int_eq(ckpt_file_read(path, "TESTCKPT", 1, "checkpoint", &data, &r), ST_OK);
    ck_assert_uint_eq(ckpt_get_u32(&r), 7);
    free(data);
    free(bad);
    ckpt_writer_deinit(&w);
    unlink(path);
    rmdir(dir);
    free(path);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("ckpt");
    TCase *t = tcase_create("format");
    tcase_add_test(t, crc32_check_value);
    tcase_add_test(t, fields_are_little_endian_and_round_trip);
    tcase_add_test(t, file_round_trip_and_refusals);
    tcase_add_test(t, write_failure_keeps_old_file);
    suite_add_tcase(s, t);
    return s;
}

int main(void) { return tu_run(suite()); }
