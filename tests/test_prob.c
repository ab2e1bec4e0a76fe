/* Problem files and problems: every shipped file loads; bad files (unknown keys, wrong types,
 * out-of-range values, bad YAML) fail with exact "path:line:col: message" texts; ZDT, TNK and CONSTR
 * evaluate to hand-computed values; hashes identify the search space; durations parse; the run
 * directory's text formats (front.csv of any objective count, generations.csv, the checksummed
 * holdout cache) read back what was written. */
#include "tu.h"

#include <math.h>

#include "afile.h"
#include "ckpt.h"
#include "prob.h"
#include "rundir.h"
#include "status.h"

/* Load `text` from a temporary file; on failure return the status and the captured message
 * with the temporary path replaced by "P". */
static int load_text(const char *text, prob_spec *spec, char *msg, size_t msg_len)
{
    char *path = tu_tempfile(text, strlen(text));
    tu_capture_buf cap = {0};
    msg_set_sink(tu_capture, &cap);
    int rc = prob_load(spec, path);
    msg_set_sink(NULL, NULL);
    msg[0] = '\0';
    if (rc) {
        ck_assert_int_eq(cap.count, 1);
        size_t n = strlen(path);
        const char *t = cap.text;
        if (!strncmp(t, path, n))
            snprintf(msg, msg_len, "P%s", t + n);
        else
            snprintf(msg, msg_len, "%s", t);
    } else {
        ck_assert_int_eq(cap.count, 0);
    }
    unlink(path);
    free(path);
    return rc;
}

static void expect_error(const char *text, const char *want)
{
    prob_spec spec;
    char msg[4200];
    int rc = load_text(text, &spec, msg, sizeof msg);
    ck_assert_int_eq(rc, ST_EPARSE);
    ck_assert_str_eq(msg, want);
}

START_TEST(bad_files_exact_messages)
{
    expect_error("type: zdt1\nvariabels: 30\n", "P:2:1: unknown key 'variabels'");
    expect_error("type: zdt1\nga:\n  population: 40\n  mutaton: {eta: 20}\n", "P:4:3: unknown key 'mutaton' in 'ga'");
    expect_error("type: zdt1\nga:\n  crossover: {operator: blocks}\n",
                 "P:3:25: unknown crossover operator 'blocks' (expected uniform or block)");
    expect_error("type: zdt1\nga:\n  crossover: {block_run: 0.5}\n", "P:3:14: 'block_run' needs 'operator: block' in 'crossover'");
    expect_error("type: zdt1\nga:\n  mutation: {block_rate: 1.5}\n", "P:3:26: 'block_rate' must be between 0 and 1, not 1.5");
    expect_error("type: zdt1\nga:\n  mutation: {eta: 20, rat: 0.1}\n", "P:3:23: unknown key 'rat' in 'mutation'");
    expect_error("type: zdt1\nga:\n  population: abc\n", "P:3:15: 'population' must be an integer, not 'abc'");
    expect_error("type: zdt1\nga:\n  population: \"100\"\n", "P:3:15: 'population' must be an integer, not '100'");
    expect_error("type: zdt1\nga:\n  population: 12.5\n", "P:3:15: 'population' must be an integer, not '12.5'");
    expect_error("type: zdt1\nga:\n  population: [1, 2]\n", "P:3:15: 'population' must be an integer");
    expect_error("type: zdt1\nga:\n  population: 2\n", "P:3:15: 'population' must be between 4 and 100000, not 2");
    expect_error("type: zdt1\nga:\n  population: 51\n", "P:3:15: 'population' must be even, not 51");
    expect_error("type: zdt1\nga:\n  crossover:\n    probability: 1.5\n",
                 "P:4:18: 'probability' must be between 0 and 1, not 1.5");
    expect_error("type: zdt1\nga:\n  crossover: {eta: fast}\n", "P:3:20: 'eta' must be a number, not 'fast'");
    expect_error("type: zdt1\nga:\n  mutation: {rate: nan}\n", "P:3:20: 'rate' must be a number, not 'nan'");
    expect_error("type: zdt1\nga: 5\n", "P:2:5: 'ga' must be a mapping");
    expect_error("type: zdt1\nga:\n  time_limit: 8 hours\n",
                 "P:3:15: 'time_limit' must be a duration such as 90s, 15m or 8h, not '8 hours'");
    expect_error("type: zdt1\nga:\n  generations: 0\n", "P:3:16: 'generations' must be between 1 and 1000000000, not 0");
    expect_error("type: zdt1\nga:\n  threads: -1\n", "P:3:12: 'threads' must be between 0 and 1024, not -1");
    expect_error("type: zdt1\nvariables: 1\n", "P:2:12: 'variables' must be between 2 and 100000, not 1");
    expect_error("type: tnk\nvariables: 3\n", "P:2:1: 'variables' is fixed at 2 for problem 'tnk'");
    ck_assert_ptr_nonnull(strstr(prob_type_names(), "zdt1, zdt2, zdt3, zdt4, zdt6, tnk, constr"));
    char *want = xasprintf("P:1:7: unknown problem type 'zdt7' (known: %s)", prob_type_names());
    expect_error("type: zdt7\n", want);
    free(want);
    want = xasprintf("P:1:1: missing key 'type' (one of %s)", prob_type_names());
    expect_error("ga:\n  population: 10\n", want);
    free(want);
    expect_error("type: zdt1\nga: {}\nga: {}\n", "P:3:1: duplicate key 'ga'");
    expect_error("- type: zdt1\n", "P:1:1: a problem file must be a mapping of keys");
    expect_error("type: zdt1\nreference: 1.1\n", "P:2:12: 'reference' must be a list of numbers");
    expect_error("type: zdt1\nreference: [1.1, x]\n", "P:2:18: 'reference' must be a number, not 'x'");
    expect_error("type: zdt1\nga:\n  population: 10\n   seed: 3\n",
                 "P:4:8: mapping values are not allowed in this context");
    expect_error("type: [zdt1\n", "P:2:1: did not find expected ',' or ']' while parsing a flow sequence");
    expect_error("", "P:1:1: empty problem file");
    expect_error("type: zdt1\n---\ntype: zdt2\n", "P:2:1: a second YAML document; the file must hold exactly one");
    char deep[300];
    snprintf(deep, sizeof deep, "type: zdt1\nreference: %.*s%.*s\n", 64, "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[["
             "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[", 64, "]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]");
    expect_error(deep, "P:2:75: nesting deeper than 64");
    expect_error("type: cnn\ndata:\n  search: x.bin:abc\n",
                 "P:3:11: bad range 'x.bin:abc' in 'data.search': FIRST and COUNT must be non-negative integers "
                 "(FILE[:FIRST[:COUNT]])");
    expect_error("type: cnn\ndata:\n  holdout: x.bin:5:-1\n",
                 "P:3:12: bad range 'x.bin:5:-1' in 'data.holdout': FIRST and COUNT must be non-negative integers "
                 "(FILE[:FIRST[:COUNT]])");
    expect_error("type: cnn\ndata:\n  calibration: x.bin:0:0\n",
                 "P:3:16: bad range 'x.bin:0:0' in 'data.calibration': COUNT is 0 (no records)");
}
END_TEST

START_TEST(missing_file_and_reference_length)
{
    prob_spec spec;
    tu_capture_buf cap = {0};
    msg_set_sink(tu_capture, &cap);
    ck_assert_int_eq(prob_load(&spec, "/nonexistent/p.yaml"), ST_EIO);
    msg_set_sink(NULL, NULL);
    ck_assert_str_eq(cap.text, "cannot open '/nonexistent/p.yaml': No such file or directory");

    char msg[4200];
    ck_assert_int_eq(load_text("type: zdt1\nreference: [1, 2, 3]\n", &spec, msg, sizeof msg), ST_OK);
    prob *p = NULL;
    msg_set_sink(tu_capture, &cap);
    ck_assert_int_eq(prob_create(&spec, &p), ST_EPARSE);
    msg_set_sink(NULL, NULL);
    ck_assert_ptr_null(p);
    ck_assert_ptr_nonnull(strstr(cap.text, ":2:12: 'reference' has 3 values; problem 'zdt1' has 2 objectives"));
    prob_spec_deinit(&spec);
}
END_TEST

START_TEST(good_file_values_and_defaults)
{
    prob_spec spec;
    char msg[4200];
    const char *text = "# comment\ntype: zdt1\nvariables: 12\nreference: [2, 3]\ndescription: a test\n"
                       "ga:\n  population: 40\n  generations: 7\n  evaluations: 5000\n  time_limit: 1h30m\n"
                       "  stagnation: {generations: 9, tolerance: 1e-6}\n"
                       "  crossover: {probability: 0.8, eta: 15, swap: 0.25}\n"
                       "  mutation: {eta: 30, rate: 0.05, int_rate: 0.1, creep: 0.75}\n"
                       "  seed: 12345678901\n  threads: 2\n";
    ck_assert_int_eq(load_text(text, &spec, msg, sizeof msg), ST_OK);
    ck_assert_str_eq(spec.type->name, "zdt1");
    const nsga_settings *g = &spec.ga;
    ck_assert_int_eq(g->population, 40);
    ck_assert_int_eq(g->generations, 7);
    ck_assert_int_eq(g->evaluations, 5000);
    ck_assert(g->time_limit == 5400);
    ck_assert_int_eq(g->stall_generations, 9);
    ck_assert(g->stall_tol == 1e-6);
    ck_assert(g->pc == 0.8 && g->eta_c == 15 && g->swap == 0.25);
    ck_assert(g->eta_m == 30 && g->pm_real == 0.05 && g->pm_int == 0.1 && g->creep == 0.75);
    ck_assert(g->block_crossover == 0 && g->block_run == 0 && g->block_rate == 0); /* defaults: off */
    ck_assert_uint_eq(g->seed, 12345678901ull);
    ck_assert_int_eq(g->threads, 2);
    prob *p;
    ck_assert_int_eq(prob_create(&spec, &p), ST_OK);
    ck_assert_uint_eq(p->n_genes, 12);
    ck_assert(p->ref[0] == 2 && p->ref[1] == 3);
    prob_free(p);
    prob_spec_deinit(&spec);

    ck_assert_int_eq(load_text("type: zdt1\nga:\n  crossover: {operator: block, block_run: 0.5}\n"
                               "  mutation: {block_rate: 0.3}\n", &spec, msg, sizeof msg), ST_OK);
    ck_assert(spec.ga.block_crossover == 1 && spec.ga.block_run == 0.5 && spec.ga.block_rate == 0.3);
    ck_assert(spec.ga.pm_int == -1 && spec.ga.swap == 0.5);
    prob_spec_deinit(&spec);

    ck_assert_int_eq(load_text("type: zdt4\n", &spec, msg, sizeof msg), ST_OK);
    ck_assert_int_eq(spec.ga.population, 100);
    ck_assert_int_eq(spec.ga.generations, 100);
    ck_assert(spec.ga.pc == 0.9 && spec.ga.eta_c == 20 && spec.ga.eta_m == 20 && spec.ga.pm_real == -1);
    ck_assert_uint_eq(spec.ga.seed, 1);
    ck_assert_int_eq(prob_create(&spec, &p), ST_OK);
    ck_assert_uint_eq(p->n_genes, 10);
    ck_assert(p->genes[0].lo == 0 && p->genes[0].hi == 1 && p->genes[1].lo == -5 && p->genes[9].hi == 5);
    ck_assert(p->ref[0] == 1.1 && p->ref[1] == 1.1);
    prob_free(p);
    prob_spec_deinit(&spec);
}
END_TEST

START_TEST(shipped_files_load)
{
    static const char *const names[] = {"zdt1", "zdt2", "zdt3", "zdt4", "zdt6", "tnk", "constr"};
    for (int i = 0; i < 7; i++) {
        char *path = xasprintf("%s/problems/zdt/%s.yaml", APPROXMAP_SRCDIR, names[i]);
        prob_spec spec;
        ck_assert_msg(prob_load(&spec, path) == ST_OK, "%s", path);
        prob *p;
        ck_assert_int_eq(prob_create(&spec, &p), ST_OK);
        ck_assert_str_eq(p->name, names[i]);
        ck_assert_int_eq(p->n_con, i >= 5 ? 2 : 0);
        if (i == 0) { /* the ZDT1 benchmark settings (docs/design.md, "Reference figures") */
            ck_assert_uint_eq(p->n_genes, 30);
            ck_assert_int_eq(spec.ga.population, 100);
            ck_assert_int_eq(spec.ga.generations, 250);
            ck_assert(spec.ga.pc == 0.9 && spec.ga.eta_c >= 15 && spec.ga.eta_c <= 20 && spec.ga.eta_m == 20);
            ck_assert(fabs(spec.ga.pm_real - 1.0 / 30) < 1e-12);
        }
        prob_free(p);
        prob_spec_deinit(&spec);
        free(path);
    }
}
END_TEST

static prob *make(const char *text)
{
    prob_spec spec;
    char msg[4200];
    ck_assert_int_eq(load_text(text, &spec, msg, sizeof msg), ST_OK);
    prob *p;
    ck_assert_int_eq(prob_create(&spec, &p), ST_OK);
    prob_spec_deinit(&spec);
    return p;
}

static void eval1(prob *p, const double *x, double *f, double *cv, int threads)
{
    ck_assert_int_eq(p->evaluate(p, 1, x, f, cv, threads, NULL), ST_OK);
}

START_TEST(problems_hand_values)
{
    double x[30] = {0.25}, f[2], cv;
    prob *p = make("type: zdt1\n");
    eval1(p, x, f, &cv, 1);
    ck_assert(f[0] == 0.25 && f[1] == 0.5 && cv == 0); /* g = 1, 1 - sqrt(0.25) */
    for (int i = 1; i < 30; i++) x[i] = 1;
    eval1(p, x, f, &cv, 1);
    ck_assert(fabs(f[1] - 10 * (1 - sqrt(0.025))) < 1e-12); /* g = 10 */
    prob_free(p);

    double y[30] = {0.5};
    p = make("type: zdt2\n");
    eval1(p, y, f, &cv, 1);
    ck_assert(f[0] == 0.5 && f[1] == 0.75);
    prob_free(p);
    p = make("type: zdt3\n");
    eval1(p, y, f, &cv, 1);
    ck_assert(fabs(f[1] - (1 - sqrt(0.5))) < 1e-12); /* sin(5 pi) = 0 */
    prob_free(p);
    p = make("type: zdt4\n");
    double z[10] = {0.25};
    eval1(p, z, f, &cv, 1);
    ck_assert(f[0] == 0.25 && fabs(f[1] - 0.5) < 1e-12); /* g = 1 + 90 - 90 */
    z[1] = 1; /* adds 1 - 10 cos(4 pi) + 10 = 1 */
    eval1(p, z, f, &cv, 1);
    ck_assert(fabs(f[1] - 2 * (1 - sqrt(0.125))) < 1e-12);
    prob_free(p);
    p = make("type: zdt6\n");
    double w[10] = {0};
    eval1(p, w, f, &cv, 1);
    ck_assert(f[0] == 1 && f[1] == 0);
    prob_free(p);

    p = make("type: tnk\n");
    double t1[] = {1, 1}, t2[] = {0.1, 0.1};
    eval1(p, t1, f, &cv, 1);
    ck_assert(f[0] == 1 && f[1] == 1 && cv == 0);
    eval1(p, t2, f, &cv, 1);
    ck_assert(fabs(cv - 1.08) < 1e-12); /* 1 - 0.02 + 0.1 cos(4 pi) */
    prob_free(p);
    p = make("type: constr\n");
    double c1[] = {0.5, 1};
    eval1(p, c1, f, &cv, 1);
    ck_assert(f[0] == 0.5 && f[1] == 4 && fabs(cv - 0.5) < 1e-12);
    prob_free(p);
}
END_TEST

START_TEST(batch_threads_and_stop)
{
    prob *p = make("type: zdt1\nvariables: 5\n");
    enum { N = 64 };
    double x[N * 5], f1[N * 2], f2[N * 2], cv[N];
    for (int i = 0; i < N * 5; i++) x[i] = (double)((i * 37) % 101) / 100.0;
    ck_assert_int_eq(p->evaluate(p, N, x, f1, cv, 1, NULL), ST_OK);
    ck_assert_int_eq(p->evaluate(p, N, x, f2, cv, 2, NULL), ST_OK);
    ck_assert_int_eq(memcmp(f1, f2, sizeof f1), 0);
    volatile sig_atomic_t stop = 1;
    ck_assert_int_eq(p->evaluate(p, N, x, f2, cv, 1, &stop), ST_EINTR);
    prob_free(p);
}
END_TEST

START_TEST(hash_identifies_the_space)
{
    prob *a = make("type: zdt1\n"), *b = make("type: zdt1\nga: {population: 20}\n");
    prob *c = make("type: zdt1\nvariables: 12\n"), *d = make("type: zdt2\n");
    ck_assert_uint_eq(a->hash, b->hash); /* GA settings are not the problem */
    ck_assert_uint_ne(a->hash, c->hash);
    ck_assert_uint_ne(a->hash, d->hash);
    prob_free(a);
    prob_free(b);
    prob_free(c);
    prob_free(d);
}
END_TEST

START_TEST(rundir_text_files)
{
    /* front.csv with three objectives and a violation column */
    const char *front = "id,f1,f2,f3,violation,x1,x2\n5,1,2,3,0.5,7,8\n6,-1,0.25,1e3,0,9,10\n";
    char *path = tu_tempfile(front, strlen(front));
    rundir_front f;
    ck_assert_int_eq(rundir_front_read(path, 3, 2, &f), ST_OK);
    ck_assert_uint_eq(f.n_rows, 2);
    ck_assert_int_eq(f.has_violation, 1);
    ck_assert_uint_eq(f.id[1], 6);
    ck_assert(f.f[0][1] == -1 && f.f[1][1] == 0.25 && f.f[2][1] == 1000 && f.f[2][0] == 3);
    ck_assert(f.violation[0] == 0.5 && f.genes[0] == 7 && f.genes[3] == 10);
    rundir_front_deinit(&f);
    /* read as two objectives, its f3 is where a gene or the violation should be */
    tu_capture_buf cap = {0};
    msg_set_sink(tu_capture, &cap);
    ck_assert_int_eq(rundir_front_read(path, 2, 2, &f), ST_EPARSE);
    msg_set_sink(NULL, NULL);
    ck_assert_ptr_nonnull(strstr(cap.text, ":1:10: expected column 'x1', found 'f3'"));
    unlink(path);
    free(path);

    /* generations.csv: written line by line, read back */
    char *gpath = tu_tempfile("", 0);
    uint64_t bytes;
    ck_assert_int_eq(rundir_gens_create(gpath, &bytes), ST_OK);
    ck_assert_uint_eq(bytes, 62);
    rundir_gen g1 = {1, 20, 0, 0.5, 0.125, 1.5}, g2 = {2, 37, 3, 0.75, NAN, 2.25};
    ck_assert_int_eq(rundir_gens_append(gpath, &bytes, &g1), ST_OK);
    ck_assert_int_eq(rundir_gens_append(gpath, &bytes, &g2), ST_OK);
    char *text;
    ck_assert_int_eq(afile_read_all(gpath, &text, NULL), ST_OK);
    ck_assert_str_eq(text, "generation,evaluations,cache_hits,hypervolume,best_f1,seconds\n1,20,0,0.5,0.125,1.500\n"
                           "2,37,3,0.75,nan,2.250\n");
    free(text);
    rundir_gen *rows;
    size_t n;
    ck_assert_int_eq(rundir_gens_read(gpath, &rows, &n), ST_OK);
    ck_assert_uint_eq(n, 2);
    ck_assert(rows[1].generation == 2 && rows[1].evaluations == 37 && rows[1].cache_hits == 3 && rows[1].hv == 0.75 &&
              isnan(rows[1].best_f1) && rows[1].seconds == 2.25);
    free(rows);
    /* resume cuts it back to the checkpoint's size */
    ck_assert_int_eq(rundir_gens_truncate(gpath, 62 + 22), ST_OK);
    ck_assert_int_eq(rundir_gens_read(gpath, &rows, &n), ST_OK);
    ck_assert_uint_eq(n, 1);
    free(rows);
    unlink(gpath);
    free(gpath);

    /* holdout cache: round trip; a changed figure, a missing checksum or another tag give no rows */
    char *hpath = tu_tempfile("", 0);
    rundir_holdout_tag tag = {0x1234, 50, 0xabcd, "t.bin:0:64"};
    rundir_holdout h[2] = {{0xfeed, 3, 64, 50, 48, 3.125, 1, 5.25, 4, 2, 0.6875},
                           {0xbeef, 9, 64, 50, 51, -1.5625, -3, 0, 0, 1, 1}};
    ck_assert_int_eq(rundir_holdout_write(hpath, &tag, h, 2), ST_OK);
    rundir_holdout *got;
    rundir_holdout_read(hpath, &tag, &got, &n);
    ck_assert_uint_eq(n, 2);
    ck_assert(got[1].key == 0xbeef && got[1].id == 9 && got[1].correct == 51 && got[1].loss == -1.5625 &&
              got[0].ci_hi == 5.25 && got[0].lost == 4 && got[0].gained == 2 && got[0].p == 0.6875 &&
              got[1].lost == 0 && got[1].gained == 1 && got[1].p == 1);
    free(got);
    rundir_holdout_tag other = tag;
    other.search_exact = 51;
    rundir_holdout_read(hpath, &other, &got, &n);
    ck_assert_uint_eq(n, 0);
    free(got);
    ck_assert_int_eq(afile_read_all(hpath, &text, NULL), ST_OK);
    char *loss = strstr(text, "3.125");
    ck_assert_ptr_nonnull(loss);
    loss[0] = '4'; /* 4.125: the checksum no longer matches */
    ck_assert_int_eq(afile_write_all(hpath, text, strlen(text)), ST_OK);
    loss[0] = '3';
    *strstr(text, "# crc32 ") = '\0'; /* no checksum line at all */
    char *nocrc = xstrdup(text);
    free(text);
    memset(&cap, 0, sizeof cap);
    msg_set_sink(tu_capture, &cap);
    rundir_holdout_read(hpath, &tag, &got, &n);
    ck_assert_uint_eq(n, 0);
    free(got);
    ck_assert_int_eq(afile_write_all(hpath, nocrc, strlen(nocrc)), ST_OK);
    rundir_holdout_read(hpath, &tag, &got, &n);
    ck_assert_uint_eq(n, 0);
    free(got);
    msg_set_sink(NULL, NULL);
    ck_assert_int_eq(cap.count, 2);
    ck_assert_ptr_nonnull(strstr(cap.text, ": no valid checksum"));
    free(nocrc);
    /* a version-2 cache (normal-approximation interval, no lost/gained/p columns) with a valid checksum
     * is not used, silently: its figures are measured again */
    const char v2[] = "# approxmap holdout cache v2 problem=0000000000001234 search_exact=50 front=000000000000abcd "
                      "holdout=t.bin:0:64\nkey,id,n,exact,correct,loss_pp,ci_lo,ci_hi\n"
                      "000000000000feed,3,64,50,48,3.125,1,5.25\n";
    char *v2file = xasprintf("%s# crc32 %08x\n", v2, (unsigned)ckpt_crc32(0, v2, strlen(v2)));
    ck_assert_int_eq(afile_write_all(hpath, v2file, strlen(v2file)), ST_OK);
    memset(&cap, 0, sizeof cap);
    msg_set_sink(tu_capture, &cap);
    rundir_holdout_read(hpath, &tag, &got, &n);
    msg_set_sink(NULL, NULL);
    ck_assert_uint_eq(n, 0);
    ck_assert_int_eq(cap.count, 0);
    free(got);
    /* the same rows as version 3 are read */
    const char v3[] = "# approxmap holdout cache v3 problem=0000000000001234 search_exact=50 front=000000000000abcd "
                      "holdout=t.bin:0:64\nkey,id,n,exact,correct,loss_pp,ci_lo,ci_hi,lost,gained,p_mcnemar\n"
                      "000000000000feed,3,64,50,48,3.125,1,5.25,4,2,0.6875\n";
    free(v2file);
    v2file = xasprintf("%s# crc32 %08x\n", v3, (unsigned)ckpt_crc32(0, v3, strlen(v3)));
    ck_assert_int_eq(afile_write_all(hpath, v2file, strlen(v2file)), ST_OK);
    rundir_holdout_read(hpath, &tag, &got, &n);
    ck_assert_uint_eq(n, 1);
    ck_assert(got[0].key == 0xfeed && got[0].lost == 4 && got[0].gained == 2 && got[0].p == 0.6875);
    free(got);
    free(v2file);
    unlink(hpath);
    free(hpath);
}
END_TEST

START_TEST(durations)
{
    double s;
    ck_assert_int_eq(prob_parse_duration("90", &s), 0);
    ck_assert(s == 90);
    ck_assert_int_eq(prob_parse_duration("8h", &s), 0);
    ck_assert(s == 28800);
    ck_assert_int_eq(prob_parse_duration("2h30m", &s), 0);
    ck_assert(s == 9000);
    ck_assert_int_eq(prob_parse_duration("1.5m", &s), 0);
    ck_assert(s == 90);
    ck_assert_int_eq(prob_parse_duration("1d", &s), 0);
    ck_assert(s == 86400);
    ck_assert_int_eq(prob_parse_duration("", &s), -1);
    ck_assert_int_eq(prob_parse_duration("8x", &s), -1);
    ck_assert_int_eq(prob_parse_duration("-5s", &s), -1);
    ck_assert_int_eq(prob_parse_duration("1h30", &s), -1);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("prob");
    TCase *t = tcase_create("prob");
    tcase_add_test(t, bad_files_exact_messages);
    tcase_add_test(t, missing_file_and_reference_length);
    tcase_add_test(t, good_file_values_and_defaults);
    tcase_add_test(t, shipped_files_load);
    tcase_add_test(t, problems_hand_values);
    tcase_add_test(t, batch_threads_and_stop);
    tcase_add_test(t, hash_identifies_the_space);
    tcase_add_test(t, durations);
    tcase_add_test(t, rundir_text_files);
    suite_add_tcase(s, t);
    return s;
}

int main(void) { return tu_run(suite()); }
