/* Tests of the multiplier module: the ROUP closed form against the Booth partial-product model on all
 * 65,536 pairs for all 21 configurations; the exhaustive metrics against the MRED/NMED table of
 * docs/design.md ("Reference figures"); roup8.yaml's energies; tables from binary files (int16 and
 * int32) and from a C function; and one malformed library per error class with its exact
 * path:line:col message. */
#include <math.h>
#include <stdarg.h>
#include <sys/stat.h>

#include "amul.h"
#include "status.h"
#include "tu.h"

/* --- helpers ------------------------------------------------------------------------------------ */

static char *make_tmpdir(void)
{
    char *d = xstrdup("/tmp/approxmap-amul-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(d));
    return d;
}

static char *put_file(const char *dir, const char *name, const void *data, size_t len)
{
    char *p = xasprintf("%s/%s", dir, name);
    FILE *fp = fopen(p, "wb");
    ck_assert_ptr_nonnull(fp);
    ck_assert_uint_eq(fwrite(data, 1, len, fp), len);
    fclose(fp);
    return p;
}

static void rm_tree(const char *dir)
{
    char *cmd = xasprintf("rm -rf '%s'", dir);
    ck_assert_int_eq(system(cmd), 0);
    free(cmd);
}

/* Load YAML text as a library from `dir`; expect failure with message "<path>:<where>". */
static void expect_lib_error(const char *dir, const char *yaml, int code, const char *fmt, ...)
{
    char *path = put_file(dir, "lib.yaml", yaml, strlen(yaml));
    va_list ap;
    va_start(ap, fmt);
    char tail[1024];
    vsnprintf(tail, sizeof tail, fmt, ap);
    va_end(ap);
    char *want = xasprintf("%s:%s", path, tail);
    tu_capture_buf cap = {0};
    msg_set_sink(tu_capture, &cap);
    amul_lib lib = {0};
    int rc = amul_lib_load(&lib, path);
    msg_set_sink(NULL, NULL);
    ck_assert_int_eq(rc, code);
    ck_assert_int_eq(cap.count, 1);
    ck_assert_str_eq(cap.text, want);
    ck_assert_int_eq(lib.n, 0);
    ck_assert_ptr_null(lib.mults);
    free(want);
    free(path);
}

/* A deliberately non-separable multiplier (exact plus an operand-dependent error). */
static int32_t odd_mul(int8_t a, int8_t w)
{
    return a * w + ((a ^ w) & 3) - 1;
}

static int32_t too_big(int8_t a, int8_t w)
{
    return a == -128 && w == -128 ? 40000 : a * w;
}

/* --- ROUP ---------------------------------------------------------------------------------------- */

START_TEST(roup_round_values)
{
    /* hand-checked: R_t rounds half up on the two's-complement value */
    ck_assert_int_eq(amul_roup_round(5, 1), 6);
    ck_assert_int_eq(amul_roup_round(-5, 1), -4);
    ck_assert_int_eq(amul_roup_round(-6, 2), -4);
    ck_assert_int_eq(amul_roup_round(-7, 2), -8);
    ck_assert_int_eq(amul_roup_round(127, 6), 128);
    ck_assert_int_eq(amul_roup_round(-128, 6), -128);
    ck_assert_int_eq(amul_roup_round(96, 6), 128);
    ck_assert_int_eq(amul_roup_round(95, 6), 64);
    ck_assert_int_eq(amul_roup_round(-97, 6), -128);
    ck_assert_int_eq(amul_roup_round(-96, 6), -64);
    ck_assert_int_eq(amul_roup_round(37, 0), 37);
    ck_assert_int_eq(amul_roup_mul(100, -77, 1, 3), 104 * -76);
    ck_assert_int_eq(amul_roup_booth(100, -77, 1, 3), 104 * -76);
}
END_TEST

START_TEST(roup_closed_form_equals_booth_model)
{
    long checked = 0;
    for (int k = 0; k <= AMUL_ROUP_KMAX; k++)
        for (int m = 0; m <= AMUL_ROUP_MMAX; m++)
            for (int a = -128; a < 128; a++)
                for (int w = -128; w < 128; w++) {
                    int32_t c = amul_roup_mul((int8_t)a, (int8_t)w, k, m);
                    int32_t b = amul_roup_booth((int8_t)a, (int8_t)w, k, m);
                    if (c != b)
                        ck_abort_msg("k=%d m=%d a=%d w=%d: closed form %d, booth %d", k, m, a, w, (int)c, (int)b);
                    if (k == 0 && m == 0) ck_assert_int_eq(c, a * w);
                    checked++;
                }
    ck_assert_int_eq(checked, 21L * 65536);
}
END_TEST

START_TEST(roup_tables_and_transforms)
{
    amul mu;
    ck_assert_int_eq(amul_init_roup(&mu, "r", 2, 5), ST_OK);
    ck_assert(mu.separable);
    ck_assert(!mu.is_exact);
    ck_assert_int_eq(mu.f[0], 0);
    ck_assert_int_eq(mu.f[(uint8_t)-100], -96);
    ck_assert_int_eq(mu.g[(uint8_t)-100], -96);
    ck_assert_int_eq(mu.f[(uint8_t)100], 96);
    ck_assert_int_eq(amul_mul(&mu, 100, -100), 96 * -96);
    amul_deinit(&mu);
    ck_assert_int_eq(amul_init_roup(&mu, "r", 0, 0), ST_OK);
    ck_assert(mu.is_exact);
    amul_deinit(&mu);
    tu_capture_buf cap = {0};
    msg_set_sink(tu_capture, &cap);
    ck_assert_int_eq(amul_init_roup(&mu, "r", 3, 0), ST_EINVAL);
    ck_assert_str_eq(cap.text, "roup parameter k = 3 is outside 0..2");
    ck_assert_int_eq(amul_init_roup(&mu, "r", 0, 7), ST_EINVAL);
    ck_assert_str_eq(cap.text, "roup parameter m = 7 is outside 0..6");
    msg_set_sink(NULL, NULL);
}
END_TEST

/* --- metrics and roup8.yaml ---------------------------------------------------------------------- */

/* docs/design.md, "Reference figures", ROUP error: MRED % / NMED as printed. */
static const char *const ref_mred[3][7] = {{"0", "2.40", "4.53", "8.30", "14.8", "25.6", "42.9"},
                                           {"4.53", "6.28", "7.95", "11.2", "17.2", "27.5", "44.3"},
                                           {"14.8", "16.0", "17.2", "19.6", "24.4", "33.4", "48.7"}};
static const char *const ref_nmed[3][7] = {{"0", "0.0020", "0.0039", "0.0078", "0.0156", "0.031", "0.063"},
                                           {"0.0039", "0.0048", "0.0060", "0.0092", "0.0165", "0.032", "0.063"},
                                           {"0.0156", "0.0160", "0.0165", "0.0182", "0.0233", "0.036", "0.066"}};

/* |v - printed| within half a unit of the printed string's last digit. */
static int matches_printed(double v, const char *printed)
{
    const char *dot = strchr(printed, '.');
    int decimals = dot ? (int)strlen(dot + 1) : 0;
    return fabs(v - atof(printed)) <= 0.5 * pow(10, -decimals) + 1e-12;
}

static char *roup8_path(void)
{
    return xstrdup(APPROXMAP_SRCDIR "/problems/multipliers/roup8.yaml");
}

START_TEST(metrics_reproduce_reference_table)
{
    char *path = roup8_path();
    amul_lib lib = {0};
    ck_assert_int_eq(amul_lib_load(&lib, path), ST_OK);
    ck_assert_int_eq(lib.n, 21);
    int asserted = 0;
    for (int k = 0; k <= 2; k++)
        for (int m = 0; m <= 6; m++) {
            char name[32];
            snprintf(name, sizeof name, "roup_k%d_m%d", k, m);
            int i = amul_lib_find(&lib, name);
            ck_assert_int_eq(i, k * 7 + m); /* file order */
            amul_metrics mt;
            amul_metrics_compute(lib.mults[i].lut, &mt);
            ck_assert_msg(matches_printed(mt.mred_pct, ref_mred[k][m]), "%s: MRED %.4f, reference %s", name,
                          mt.mred_pct, ref_mred[k][m]);
            ck_assert_msg(matches_printed(mt.nmed, ref_nmed[k][m]), "%s: NMED %.5f, reference %s", name, mt.nmed,
                          ref_nmed[k][m]);
            asserted += 2;
            if (k || m) {
                /* docs/design.md, "Reference figures": "about -0.25" for every approximate configuration. Exactly: over
                 * uniform int8, E[a] = -1/2 and R_t (t >= 1) adds +1/2 on average, so E[R_t(a)] = 0;
                 * with independent operands the mean error is E[R_m(a)] E[R_2k(w)] - E[a] E[w] = -1/4 */
                ck_assert_msg(mt.mean_err == -0.25, "%s: mean error %.6f", name, mt.mean_err);
                ck_assert(mt.err_prob > 0 && mt.wce > 0);
            } else {
                ck_assert(mt.mean_err == 0 && mt.med == 0 && mt.wce == 0 && mt.err_prob == 0 && mt.mred_pct == 0);
            }
        }
    ck_assert_int_eq(asserted, 42);
    amul_lib_deinit(&lib);
    free(path);
}
END_TEST

START_TEST(metrics_exact_figures)
{
    /* roup_k0_m1 by hand: e = (R_1(a) - a) w = w for odd a (a rounds up by 1), 0 for even a. So
     * mean_err = mean over odd a of w / 2 = -0.25 (sum of w over int8 = -128), MED = mean |w| / 2 =
     * (sum |w| / 256) / 2 = (16384 / 256) / 2 = 32, WCE = 128, P(e != 0) = (128 * 255) / 65536. */
    amul mu;
    ck_assert_int_eq(amul_init_roup(&mu, "r", 0, 1), ST_OK);
    amul_metrics mt;
    amul_metrics_compute(mu.lut, &mt);
    ck_assert(mt.mean_err == -0.25);
    ck_assert(mt.med == 32.0);
    ck_assert(mt.nmed == 32.0 / 16384);
    ck_assert_int_eq(mt.wce, 128);
    ck_assert(mt.err_prob == 128.0 * 255 / 65536);
    amul_deinit(&mu);
}
END_TEST

START_TEST(roup8_energies_and_provenance)
{
    static const double e[3][7] = {{1.00, 1.04, 0.91, 0.85, 0.66, 0.55, 0.40},
                                   {0.70, 0.76, 0.68, 0.59, 0.48, 0.42, 0.30},
                                   {0.44, 0.48, 0.44, 0.37, 0.30, 0.26, 0.18}};
    char *path = roup8_path();
    amul_lib lib = {0};
    ck_assert_int_eq(amul_lib_load(&lib, path), ST_OK);
    ck_assert_str_eq(lib.name, "roup8");
    for (int i = 0; i < 21; i++) {
        const amul *m = &lib.mults[i];
        ck_assert_int_eq(m->family, AMUL_ROUP);
        ck_assert_int_eq(m->k, i / 7);
        ck_assert_int_eq(m->m, i % 7);
        ck_assert(m->energy.rel == e[i / 7][i % 7]);
        ck_assert(i == 0 ? m->energy.fj == 584 : isnan(m->energy.fj));
        ck_assert_ptr_nonnull(strstr(m->energy.source, "not a published figure"));
        ck_assert_ptr_nonnull(strstr(m->energy.tool, "yosys 0.23"));
        ck_assert_ptr_nonnull(strstr(m->energy.cell_library, "NanGate45"));
        ck_assert_ptr_nonnull(strstr(m->energy.corner, "1.1 V"));
        ck_assert_ptr_nonnull(strstr(m->energy.stream, "20,000 uniform"));
        ck_assert_int_eq(m->line, 18 + i);
        ck_assert_int_eq(m->col, 5);
    }
    ck_assert_int_eq(amul_lib_exact(&lib), 0);
    amul_lib_deinit(&lib);
    free(path);
}
END_TEST

/* --- tables -------------------------------------------------------------------------------------- */

START_TEST(table_from_binary_files)
{
    char *dir = make_tmpdir();
    int16_t t16[AMUL_LUT_SIZE];
    int32_t t32[AMUL_LUT_SIZE];
    for (int i = 0; i < 256; i++)
        for (int j = 0; j < 256; j++) {
            int32_t v = odd_mul((int8_t)i, (int8_t)j);
            t16[i * 256 + j] = (int16_t)v;
            t32[i * 256 + j] = v;
        }
    char *sub = xasprintf("%s/luts", dir);
    ck_assert_int_eq(mkdir(sub, 0755), 0);
    free(put_file(dir, "luts/odd16.bin", t16, sizeof t16));
    free(put_file(dir, "luts/odd32.bin", t32, sizeof t32));
    const char *yaml = "library: mine\n"
                       "multipliers:\n"
                       "  - name: odd16\n"
                       "    family: table\n"
                       "    file: luts/odd16.bin\n"
                       "    energy: {relative: 0.5, fj: 300, source: made up for a test}\n"
                       "  - {name: odd32, family: table, file: luts/odd32.bin, format: int32}\n"
                       "  - {name: exact, family: exact}\n";
    char *path = put_file(dir, "lib.yaml", yaml, strlen(yaml));
    /* loaded from another working directory: relative table paths follow the library file */
    amul_lib lib = {0};
    ck_assert_int_eq(amul_lib_load(&lib, path), ST_OK);
    ck_assert_int_eq(lib.n, 3);
    for (int t = 0; t < 2; t++) {
        const amul *m = &lib.mults[t];
        ck_assert_int_eq(m->family, AMUL_TABLE);
        ck_assert(!m->separable && !m->is_exact);
        for (int a = -128; a < 128; a++)
            for (int w = -128; w < 128; w++) ck_assert_int_eq(amul_mul(m, (int8_t)a, (int8_t)w), odd_mul((int8_t)a, (int8_t)w));
    }
    char *want = xasprintf("%s/odd16.bin", sub);
    ck_assert_str_eq(lib.mults[0].file, want);
    free(want);
    free(sub);
    ck_assert(lib.mults[0].energy.rel == 0.5 && lib.mults[0].energy.fj == 300);
    ck_assert_str_eq(lib.mults[0].energy.source, "made up for a test");
    ck_assert_ptr_null(lib.mults[0].energy.tool);
    ck_assert(isnan(lib.mults[1].energy.rel));
    ck_assert(lib.mults[2].is_exact && lib.mults[2].separable);
    ck_assert_int_eq(amul_lib_exact(&lib), 2);
    amul_lib_deinit(&lib);
    free(path);
    rm_tree(dir);
    free(dir);
}
END_TEST

START_TEST(table_from_c_function)
{
    amul m;
    ck_assert_int_eq(amul_init_fn(&m, "odd", odd_mul), ST_OK);
    ck_assert_int_eq(amul_mul(&m, -128, -128), 16384 + 0 - 1);
    ck_assert_int_eq(amul_mul(&m, 3, 5), 15 + 2 - 1);
    ck_assert(!m.separable);
    amul_metrics mt;
    amul_metrics_compute(m.lut, &mt);
    ck_assert(mt.mean_err == 0.5); /* (a ^ w) & 3 is uniform on 0..3: mean 1.5, minus 1 */
    ck_assert_int_eq(mt.wce, 2);
    ck_assert(mt.err_prob == 0.75);
    amul_deinit(&m);
    tu_capture_buf cap = {0};
    msg_set_sink(tu_capture, &cap);
    ck_assert_int_eq(amul_init_fn(&m, "big", too_big), ST_EFORMAT);
    msg_set_sink(NULL, NULL);
    ck_assert_str_eq(cap.text, "multiplier 'big' returns 40000 for a = -128, w = -128, outside int16");
}
END_TEST

/* --- malformed libraries ------------------------------------------------------------------------- */

/* Malformed libraries, one Check test each (loop test): the YAML, the status and the message after
 * "<path>:" ("@" stands for the library's directory). */
typedef struct bad_lib {
    const char *yaml;
    int code;
    const char *tail;
} bad_lib;

static const bad_lib bad_libs[] = {
    {"multipliers:\n  - {name: a, family: booth9}\n",
     ST_EFORMAT, "2:23: unknown multiplier family 'booth9' (exact, roup, table, c_function)"},
    {"multipliers:\n  - {name: a, family: roup, k: 3, m: 0}\n",
     ST_EFORMAT, "2:32: bad parameter k = 3 for roup (0..2)"},
    {"multipliers:\n  - {name: a, family: roup, k: 0, m: -1}\n",
     ST_EFORMAT, "2:38: bad parameter m = -1 for roup (0..6)"},
    {"multipliers:\n  - {name: a, family: roup, k: 0}\n",
     ST_EFORMAT, "2:5: roup multiplier 'a' needs 'm'"},
    {"multipliers:\n  - {name: a, family: table, file: nothere.bin}\n",
     ST_EIO, "2:36: cannot open table '@/nothere.bin': No such file or directory"},
    {"multipliers:\n  - {name: a, family: table, file: small.bin}\n",
     ST_EFORMAT, "2:36: table '@/small.bin' has 100 bytes, expected 131072 (65536 int16 entries)"},
    {"multipliers:\n  - {name: a, family: table, file: small.bin, format: int8}\n",
     ST_EFORMAT, "2:55: bad parameter format = 'int8' (int16 or int32)"},
    {"multipliers:\n  - {name: a, family: table, file: big32.bin, format: int32}\n",
     ST_EFORMAT, "2:36: table '@/big32.bin': entry [1][2] = 70000 is outside int16"},
    {"multipliers:\n  - {name: a, family: exact}\n  - {name: b, family: roup, k: 1, m: 1}\n"
     "  - {name: a, family: roup, k: 2, m: 2}\n",
     ST_EFORMAT, "4:12: duplicate multiplier name 'a' (first at line 2)"},
    {"multipliers:\n  - {name: a, family: roup, k: 1, m: 1, kk: 2}\n",
     ST_EFORMAT, "2:41: unknown key 'kk'"},
    {"library: x\nmultiplier:\n  - {name: a, family: exact}\n",
     ST_EFORMAT, "2:1: unknown key 'multiplier'"},
    {"multipliers:\n  - {name: a, family: exact, energy: {relative: 1, watts: 2}}\n",
     ST_EFORMAT, "2:52: unknown key 'watts'"},
    {"multipliers:\n  - {name: a, family: exact, k: 1}\n",
     ST_EFORMAT, "2:30: key 'k' does not apply to family 'exact'"},
    {"multipliers:\n  - {name: a, family: roup, k: one, m: 1}\n",
     ST_EFORMAT, "2:32: 'k' must be an integer, not 'one'"},
    {"multipliers:\n  - {name: a, family: roup, k: [1], m: 1}\n",
     ST_EFORMAT, "2:32: 'k' must be an integer"},
    {"multipliers:\n  - {name: a, family: exact, energy: 0.5}\n",
     ST_EFORMAT, "2:38: 'energy' must be a mapping, not a scalar"},
    {"multipliers:\n  - {name: a, family: exact, energy: {relative: cheap}}\n",
     ST_EFORMAT, "2:49: 'relative' must be a number, not 'cheap'"},
    {"multipliers:\n  - {name: a, family: exact, energy: {relative: 0}}\n",
     ST_EFORMAT, "2:49: relative energy must be positive"},
    {"multipliers: {name: a}\n",
     ST_EFORMAT, "1:14: 'multipliers' must be a list, not a mapping"},
    {"- a\n- b\n",
     ST_EFORMAT, "1:1: a multiplier library must be a mapping, not a list"},
    {"multipliers:\n  - {name: a family: exact}\n",
     ST_EPARSE, "2:20: did not find expected ',' or '}' while parsing a flow mapping"},
    {"library: x\n",
     ST_EFORMAT, "1:1: library has no 'multipliers' list"},
    {"multipliers:\n  - {family: exact}\n",
     ST_EFORMAT, "2:5: multiplier has no 'name'"},
    {"multipliers:\n  - {name: 'a b', family: exact}\n",
     ST_EFORMAT, "2:12: bad multiplier name 'a b' (letters, digits, _ - . + only)"},
    {"multipliers:\n  - {name: a, family: c_function, object: nothere.so, symbol: f}\n",
     ST_EIO, "2:43: cannot load shared object '@/nothere.so': @/nothere.so: cannot open shared object "
                "file: No such file or directory"},
    {"multipliers:\n  - {name: a, family: table, file: small.bin, format: int32}\n",
     ST_EFORMAT, "2:36: table '@/small.bin' has 100 bytes, expected 262144 (65536 int32 entries)"},
    {"multipliers:\n  - {name: a, family: c_function, object: x.so}\n",
     ST_EFORMAT, "2:5: c_function multiplier 'a' needs 'symbol'"},
    {"multipliers:\n  - {name: a, family: table, file: small.bin, symbol: f}\n",
     ST_EFORMAT, "2:47: key 'symbol' does not apply to family 'table'"},
};
enum { N_BAD_LIBS = sizeof bad_libs / sizeof bad_libs[0] };

/* `tail` with every "@" replaced by `dir` (caller frees). */
static char *subst_dir(const char *tail, const char *dir)
{
    size_t n = strlen(tail) + 1;
    for (const char *p = tail; *p; p++)
        if (*p == '@') n += strlen(dir);
    char *out = xmalloc(n), *o = out;
    for (const char *p = tail; *p; p++) {
        if (*p == '@') {
            strcpy(o, dir);
            o += strlen(dir);
        } else {
            *o++ = *p;
        }
    }
    *o = 0;
    return out;
}

START_TEST(malformed_library)
{
    const bad_lib *b = &bad_libs[_i];
    char *dir = make_tmpdir();
    char small[100] = {0};
    free(put_file(dir, "small.bin", small, sizeof small));
    int32_t *big = xcalloc(AMUL_LUT_SIZE, sizeof *big);
    big[258] = 70000; /* a = 1, w = 2 */
    free(put_file(dir, "big32.bin", big, AMUL_LUT_SIZE * sizeof *big));
    free(big);
    char *tail = subst_dir(b->tail, dir);
    expect_lib_error(dir, b->yaml, b->code, "%s", tail);
    free(tail);
    rm_tree(dir);
    free(dir);
}
END_TEST

START_TEST(missing_library_file)
{
    char *dir = make_tmpdir();
    tu_capture_buf cap = {0};
    msg_set_sink(tu_capture, &cap);
    amul_lib lib = {0};
    char *missing = xasprintf("%s/none.yaml", dir);
    ck_assert_int_eq(amul_lib_load(&lib, missing), ST_EIO);
    msg_set_sink(NULL, NULL);
    char *want = xasprintf("cannot open '%s': No such file or directory", missing);
    ck_assert_str_eq(cap.text, want);
    free(want);
    free(missing);
    rm_tree(dir);
    free(dir);
}
END_TEST

START_TEST(lib_resolve_names)
{
    char *p = amul_lib_resolve("roup8");
    ck_assert_str_eq(p, APPROXMAP_SRCDIR "/problems/multipliers/roup8.yaml");
    free(p);
    p = amul_lib_default_path();
    ck_assert_str_eq(p, APPROXMAP_SRCDIR "/problems/multipliers/roup8.yaml");
    free(p);
    p = amul_lib_resolve("no/such.yaml");
    ck_assert_str_eq(p, "no/such.yaml");
    free(p);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("amul");
    TCase *t = tcase_create("amul");
    tcase_set_timeout(t, 120);
    tcase_add_test(t, roup_round_values);
    tcase_add_test(t, roup_closed_form_equals_booth_model);
    tcase_add_test(t, roup_tables_and_transforms);
    tcase_add_test(t, metrics_reproduce_reference_table);
    tcase_add_test(t, metrics_exact_figures);
    tcase_add_test(t, roup8_energies_and_provenance);
    tcase_add_test(t, table_from_binary_files);
    tcase_add_test(t, table_from_c_function);
    tcase_add_loop_test(t, malformed_library, 0, N_BAD_LIBS);
    tcase_add_test(t, missing_library_file);
    tcase_add_test(t, lib_resolve_names);
    suite_add_tcase(s, t);
    return s;
}

int main(void)
{
    return tu_run(suite());
}
