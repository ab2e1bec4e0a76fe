/* Tests for problems/export.c that need no CIFAR-10 data: front.csv parsing and its errors, the row
 * selections (knee, max-loss, id) on fronts computed by hand, the holdout-cache key, and the exported
 * YAML read back by amap_read() giving the same map (layer, filter and random kernel maps). The CLI and
 * the measured figures are covered by tests/cli_export.sh. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "afile.h"
#include "amap.h"
#include "amul.h"
#include "export.h"
#include "msg.h"
#include "rng.h"
#include "status.h"
#include "tu.h"

static char *write_tmp(const char *text)
{
    return tu_tempfile(text, strlen(text));
}

/* Parse `text` as a front of n_genes genes; returns the status and leaves the message in cap. */
static int parse(const char *text, size_t n_genes, export_front *f, tu_capture_buf *cap)
{
    char *path = write_tmp(text);
    memset(cap, 0, sizeof *cap);
    msg_set_sink(tu_capture, cap);
    int rc = export_front_read(path, n_genes, f);
    msg_set_sink(NULL, NULL);
    unlink(path);
    free(path);
    return rc;
}

START_TEST(front_parses)
{
    export_front f;
    tu_capture_buf cap;
    ck_assert_int_eq(parse("id,f1,f2,violation,x1,x2\n7,0.25,3.5,0,1,2\n9,1,0,0.5,2,2\n", 2, &f, &cap), ST_OK);
    ck_assert_uint_eq(f.n_rows, 2);
    ck_assert_int_eq(f.has_violation, 1);
    ck_assert_uint_eq(f.id[0], 7);
    ck_assert_uint_eq(f.id[1], 9);
    ck_assert(f.f1[0] == 0.25 && f.f2[0] == 3.5 && f.violation[1] == 0.5);
    ck_assert(f.genes[0] == 1 && f.genes[1] == 2 && f.genes[2] == 2 && f.genes[3] == 2);
    uint64_t h = f.hash;
    export_front_deinit(&f);
    /* the hash is of the bytes: one byte more changes it */
    ck_assert_int_eq(parse("id,f1,f2,violation,x1,x2\n7,0.25,3.5,0,1,2\n9,1,0,0.5,2,2\n\n", 2, &f, &cap), ST_OK);
    ck_assert_uint_eq(f.n_rows, 2);
    ck_assert(f.hash != h);
    export_front_deinit(&f);
    /* no violation column: every row feasible; CRLF line ends */
    ck_assert_int_eq(parse("id,f1,f2,x1\r\n3,0.5,1,0\r\n", 1, &f, &cap), ST_OK);
    ck_assert_int_eq(f.has_violation, 0);
    ck_assert(f.violation[0] == 0 && f.genes[0] == 0);
    export_front_deinit(&f);
    /* header only: no rows */
    ck_assert_int_eq(parse("id,f1,f2,violation,x1\n", 1, &f, &cap), ST_OK);
    ck_assert_uint_eq(f.n_rows, 0);
    export_front_deinit(&f);
}
END_TEST

START_TEST(front_errors)
{
    static const struct {
        const char *text;
        size_t genes;
        int rc;
        const char *msg;
    } cases[] = {
        {"", 1, ST_EPARSE, ":1:1: empty file"},
        {"id,f2,f1,x1\n", 1, ST_EPARSE, ":1:4: expected column 'f1', found 'f2'"},
        {"id,f1,f2,violation,x1,x3\n", 2, ST_EPARSE, ":1:23: expected column 'x2', found 'x3'"},
        {"id,f1,f2,violation,x1,x2,x3\n", 10, ST_EFORMAT, ":1:1: 3 gene columns, but this run's problem has 10 genes"},
        {"id,f1,f2,x1\n1,0.5,1\n", 1, ST_EPARSE, ":2:8: expected 4 columns, found 3"},
        {"id,f1,f2,x1\n1,0.5,1,0,4\n", 1, ST_EPARSE, ":2:11: more than 4 columns"},
        {"id,f1,f2,x1\n1,0.5,1,0\n-2,0.5,1,0\n", 1, ST_EPARSE, ":3:1: malformed number '-2'"},
        {"id,f1,f2,x1\n1,0.5,,0\n", 1, ST_EPARSE, ":2:7: malformed number ''"},
        {"id,f1,f2,x1\n1,0.5,1,2z\n", 1, ST_EPARSE, ":2:9: malformed number '2z'"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        export_front f = {.n_rows = 12345};
        tu_capture_buf cap;
        int rc = parse(cases[i].text, cases[i].genes, &f, &cap);
        ck_assert_msg(rc == cases[i].rc, "case %zu: status %d", i, rc);
        ck_assert_msg(strstr(cap.text, cases[i].msg) != NULL, "case %zu: message '%s'", i, cap.text);
        ck_assert_uint_eq(f.n_rows, 12345); /* untouched */
    }
    tu_capture_buf cap;
    memset(&cap, 0, sizeof cap);
    msg_set_sink(tu_capture, &cap);
    export_front f;
    ck_assert_int_eq(export_front_read("/nonexistent/front.csv", 1, &f), ST_EIO);
    msg_set_sink(NULL, NULL);
    ck_assert_int_eq(cap.count, 1);
}
END_TEST

/* A front from (f1, f2, violation) triples, one gene each (= the row number). */
static void make_front(export_front *f, const double (*p)[3], size_t n)
{
    memset(f, 0, sizeof *f);
    f->n_rows = n;
    f->n_genes = 1;
    f->has_violation = 1;
    f->id = xcalloc(n, sizeof *f->id);
    f->f1 = xcalloc(n, sizeof *f->f1);
    f->f2 = xcalloc(n, sizeof *f->f2);
    f->violation = xcalloc(n, sizeof *f->violation);
    f->genes = xcalloc(n, sizeof *f->genes);
    for (size_t i = 0; i < n; i++) {
        f->id[i] = 100 + i;
        f->f1[i] = p[i][0];
        f->f2[i] = p[i][1];
        f->violation[i] = p[i][2];
        f->genes[i] = (double)i;
    }
}

START_TEST(selection)
{
    export_front f;
    /* normalized over the feasible rows 1..5 (f1 in [0.3, 0.9], f2 in [0, 6]), A = row 1, B = row 5;
     * distance toward the origin from x + y = 1 is (1 - x - y) / sqrt 2:
     *   row 2 (0.4, 3): x 1/6, y 1/2 -> 0.2357;  row 3 (0.5, 1.2): x 1/3, y 0.2 -> 0.3300;
     *   row 4 (0.7, 0.3): x 2/3, y 0.05 -> 0.2003 */
    static const double pts[][3] = {{0.2, 9, 5}, {0.3, 6, 0}, {0.4, 3, 0}, {0.5, 1.2, 0}, {0.7, 0.3, 0}, {0.9, 0, 0}};
    make_front(&f, pts, 6);
    ck_assert_int_eq(export_pick_knee(&f), 3);
    ck_assert_int_eq(export_pick_max_loss(&f, 100), 1); /* row 0 is infeasible */
    ck_assert_int_eq(export_pick_max_loss(&f, 3), 2);
    ck_assert_int_eq(export_pick_max_loss(&f, 2.9999), 3);
    ck_assert_int_eq(export_pick_max_loss(&f, 0), 5);
    ck_assert_int_eq(export_pick_max_loss(&f, -0.5), -1);
    ck_assert_int_eq(export_pick_id(&f, 104), 4);
    ck_assert_int_eq(export_pick_id(&f, 99), -1);
    /* move row 2 toward the ideal point: (0.35, 1.5) -> x 1/12, y 1/4: distance 0.4714, the new knee */
    f.f1[2] = 0.35, f.f2[2] = 1.5;
    ck_assert_int_eq(export_pick_knee(&f), 2);
    export_front_deinit(&f);

    /* concave front: every point lies beyond the line, so the knee is A (the lowest energy) */
    static const double concave[][3] = {{0.2, 4, 0}, {0.5, 3.5, 0}, {0.8, 2, 0}, {1, 0, 0}};
    make_front(&f, concave, 4);
    ck_assert_int_eq(export_pick_knee(&f), 0);
    export_front_deinit(&f);
    /* one feasible point; none */
    static const double one[][3] = {{0.2, 6, 2}, {0.6, 1, 0}};
    make_front(&f, one, 2);
    ck_assert_int_eq(export_pick_knee(&f), 1);
    f.violation[1] = 0.1;
    ck_assert_int_eq(export_pick_knee(&f), -1);
    ck_assert_int_eq(export_pick_max_loss(&f, 100), -1);
    export_front_deinit(&f);
    /* two points: A */
    static const double two[][3] = {{0.4, 2, 0}, {1, 0, 0}};
    make_front(&f, two, 2);
    ck_assert_int_eq(export_pick_knee(&f), 0);
    /* row keys depend on the genes only */
    uint64_t k0 = export_row_key(&f, 0), k1 = export_row_key(&f, 1);
    ck_assert(k0 != k1);
    f.f1[1] = 0.123;
    ck_assert(export_row_key(&f, 1) == k1);
    f.genes[1] = 0;
    ck_assert(export_row_key(&f, 1) == k0);
    export_front_deinit(&f);
}
END_TEST

/* --- YAML round trip: a minimal opened run (no network, no data) around a map ---------------------- */

START_TEST(yaml_roundtrip)
{
    char *lib_path = amul_lib_default_path();
    amul_lib lib;
    ck_assert_int_eq(amul_lib_load(&lib, lib_path), ST_OK);
    free(lib_path);
    static amap_layer layers[] = {
        {.name = "conv1", .cin = 3, .cout = 4, .kh = 3, .kw = 3, .macs = 32 * 32 * 9 * 3 * 4},
        {.name = "blk/conv2", .cin = 4, .cout = 5, .kh = 3, .kw = 3, .macs = 16 * 16 * 9 * 4 * 5},
        {.name = "fc", .cin = 5, .cout = 2, .kh = 1, .kw = 1, .macs = 10},
    };
    char model[] = "m.onnx", calib[] = "c.bin:0:5", search[] = "t.bin:0:10", libname[] = "roup8", dir[] = "RUN";
    cnn_spec cs = {.model = model, .calibration = calib, .search = search, .library = libname};
    export_run r = {.dir = dir,
                    .cs = &cs,
                    .pb = {.lib = &lib, .n_layers = 3, .layers = layers, .granularity = AMAP_KERNEL, .max_loss_pp = 4,
                           .compensate = -1}};
    export_eval e;
    export_eval_init(&e, 3);
    amap_init(&e.map, layers, 3, 0);
    e.row = 4;
    e.id = 77;
    e.energy_rel = 0.5;
    export_meta meta = {"a test"};
    rng_pcg32 rng;
    rng_seed(&rng, 2024, 7);
    amap *m = &e.map;
    const size_t nk = m->offset[3];
    for (int trial = 0; trial < 3; trial++) {
        /* 0: one multiplier per layer; 1: per filter; 2: random kernels */
        for (int l = 0; l < 3; l++) {
            uint16_t *row = amap_layer_mults(m, l);
            uint16_t lv = (uint16_t)rng_bounded(&rng, (uint32_t)lib.n);
            for (int32_t co = 0; co < layers[l].cout; co++) {
                uint16_t fv = trial >= 1 ? (uint16_t)rng_bounded(&rng, (uint32_t)lib.n) : lv;
                for (int32_t ci = 0; ci < layers[l].cin; ci++)
                    row[co * layers[l].cin + ci] = trial == 2 ? (uint16_t)rng_bounded(&rng, (uint32_t)lib.n) : fv;
            }
        }
        char *path = xstrdup("/tmp/approxmap-test-export-XXXXXX");
        int fd = mkstemp(path);
        ck_assert_int_ge(fd, 0);
        FILE *fp = fdopen(fd, "w");
        ck_assert_int_eq(export_write_yaml(fp, &r, &e, &meta), ST_OK);
        fclose(fp);
        amap back;
        ck_assert_int_eq(amap_read(&back, path, &lib, layers, 3), ST_OK);
        ck_assert_uint_eq(back.offset[3], nk);
        ck_assert_msg(memcmp(back.mult, m->mult, nk * sizeof *m->mult) == 0, "trial %d: map differs", trial);
        amap_deinit(&back);
        char *text;
        ck_assert_int_eq(afile_read_all(path, &text, NULL), ST_OK);
        ck_assert_ptr_nonnull(strstr(text, "# approxmap export of run 'RUN': front.csv row 4 (archive id 77), chosen by a test\n"));
        ck_assert_ptr_nonnull(strstr(text, "#   approxmap eval --model m.onnx --calib c.bin:0:5 --library roup8 --map MAP.yaml "
                                           "--data t.bin --first 0 --count 10\n"));
        free(text);
        unlink(path);
        free(path);
    }
    export_eval_deinit(&e); /* frees the map too */
    amul_lib_deinit(&lib);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("export");
    TCase *t = tcase_create("export");
    tcase_add_test(t, front_parses);
    tcase_add_test(t, front_errors);
    tcase_add_test(t, selection);
    tcase_add_test(t, yaml_roundtrip);
    suite_add_tcase(s, t);
    return s;
}

int main(void)
{
    return tu_run(suite());
}
