/* Tests of approximation maps, energy and the engine-hook builder: genome expansion; YAML round trip
 * and hand-written maps (every form); malformed maps rejected with exact positions; energy of uniform
 * and mixed maps (and a per-layer energy table); the builder's EXACT / SEPARABLE / LUT choice with
 * planes, plane_of and w_tf checked by hand; and the separable path against the table reference,
 * bit for bit, on random conv layers with random kernel maps. */
#include <math.h>
#include <stdarg.h>

#include "afile.h"
#include "amap.h"
#include "energy.h"
#include "qnn_conv.h"
#include "status.h"
#include "tu.h"

/* A small deterministic generator for test data (xorshift; the project's PCG lives elsewhere). */
static uint32_t rnd(uint32_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 17;
    *s ^= *s << 5;
    return *s;
}

static int32_t odd_mul(int8_t a, int8_t w)
{
    return a * w + ((a ^ w) & 3) - 1;
}

/* Library used below: index 0..20 = roup_k{k}_m{m} (k * 7 + m, energies 1.0 - 0.04 * index),
 * 21 = "odd" (a non-separable table, energy 0.5), 22 = "exact" (family exact, energy 1). */
enum { N_ROUP = 21, ODD = 21, EXACT = 22, N_MULTS = 23 };

static void lib_make(amul_lib *lib)
{
    memset(lib, 0, sizeof *lib);
    lib->path = xstrdup("test-lib.yaml");
    lib->name = xstrdup("testlib");
    lib->n = N_MULTS;
    lib->mults = xcalloc(N_MULTS, sizeof *lib->mults);
    for (int i = 0; i < N_ROUP; i++) {
        char name[32];
        snprintf(name, sizeof name, "roup_k%d_m%d", i / 7, i % 7);
        ck_assert_int_eq(amul_init_roup(&lib->mults[i], name, i / 7, i % 7), ST_OK);
        lib->mults[i].energy.rel = 1.0 - 0.04 * i;
    }
    ck_assert_int_eq(amul_init_fn(&lib->mults[ODD], "odd", odd_mul), ST_OK);
    lib->mults[ODD].energy.rel = 0.5;
    amul_init_exact(&lib->mults[EXACT], "exact");
    lib->mults[EXACT].energy.rel = 1.0;
}

/* Three layers: a 3x3 conv 3->4 on 6x6 (pad 1), a 3x3 conv 4->5 stride 2 on 6x6 -> 3x3, a dense 5->2. */
static amap_layer g_layers[3];
static int8_t g_w0[4 * 3 * 3 * 3], g_w1[5 * 3 * 3 * 4], g_w2[2 * 5];

static const amap_layer *layers_make(void)
{
    uint32_t s = 12345;
    for (size_t i = 0; i < sizeof g_w0; i++) g_w0[i] = (int8_t)rnd(&s);
    for (size_t i = 0; i < sizeof g_w1; i++) g_w1[i] = (int8_t)rnd(&s);
    for (size_t i = 0; i < sizeof g_w2; i++) g_w2[i] = (int8_t)rnd(&s);
    g_layers[0] = (amap_layer){"conv1", 3, 4, 3, 3, 6ull * 6 * 9 * 3 * 4, g_w0};
    g_layers[1] = (amap_layer){"stack1/conv.a", 4, 5, 3, 3, 3ull * 3 * 9 * 4 * 5, g_w1};
    g_layers[2] = (amap_layer){"dense", 5, 2, 1, 1, 5ull * 2, g_w2};
    return g_layers;
}

static char *tmp_path(const char *stem)
{
    char *p = xstrdup("/tmp/approxmap-amap-XXXXXX");
    int fd = mkstemp(p);
    ck_assert_int_ge(fd, 0);
    close(fd);
    (void)stem;
    return p;
}

static char *put_text(const char *text)
{
    return tu_tempfile(text, strlen(text));
}

/* --- genomes ------------------------------------------------------------------------------------- */

START_TEST(expand_genomes)
{
    const amap_layer *L = layers_make();
    amap m;
    amap_init(&m, L, 3, 7);
    ck_assert_uint_eq(m.offset[3], 12 + 20 + 10);
    ck_assert_uint_eq(amap_genome_len(L, 3, AMAP_LAYER), 3);
    ck_assert_uint_eq(amap_genome_len(L, 3, AMAP_FILTER), 4 + 5 + 2);
    ck_assert_uint_eq(amap_genome_len(L, 3, AMAP_KERNEL), 42);
    for (size_t i = 0; i < 42; i++) ck_assert_int_eq(m.mult[i], 7);

    int gl[3] = {1, 2, 3};
    amap_expand(&m, L, AMAP_LAYER, gl);
    ck_assert_int_eq(amap_layer_mults(&m, 0)[11], 1);
    ck_assert_int_eq(amap_layer_mults(&m, 1)[0], 2);
    ck_assert_int_eq(amap_layer_mults(&m, 1)[19], 2);
    ck_assert_int_eq(amap_layer_mults(&m, 2)[9], 3);

    int gf[11] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10};
    amap_expand(&m, L, AMAP_FILTER, gf);
    ck_assert_int_eq(amap_layer_mults(&m, 0)[2 * 3 + 1], 2);  /* layer 0, co 2 */
    ck_assert_int_eq(amap_layer_mults(&m, 1)[3 * 4 + 3], 7);  /* layer 1, co 3 -> gene 4 + 3 */
    ck_assert_int_eq(amap_layer_mults(&m, 2)[1 * 5 + 4], 10); /* layer 2, co 1 */

    int gk[42];
    for (int i = 0; i < 42; i++) gk[i] = i % N_MULTS;
    amap_expand(&m, L, AMAP_KERNEL, gk);
    ck_assert_int_eq(amap_layer_mults(&m, 1)[5], 17);
    ck_assert_int_eq(amap_layer_mults(&m, 2)[9], 41 % N_MULTS);
    ck_assert(amap_valid(&m, N_MULTS));
    ck_assert(!amap_valid(&m, 22));
    ck_assert_int_eq(amap_granularity_parse("filter"), AMAP_FILTER);
    ck_assert_int_eq(amap_granularity_parse("neuron"), -1);
    amap_deinit(&m);
}
END_TEST

/* --- YAML ---------------------------------------------------------------------------------------- */

START_TEST(map_round_trip)
{
    const amap_layer *L = layers_make();
    amul_lib lib;
    lib_make(&lib);
    uint32_t s = 99;
    int forms = 0;
    for (int trial = 0; trial < 20; trial++) {
        amap m, back;
        amap_init(&m, L, 3, 0);
        /* mix of uniform layers, filter-level and kernel-level variation */
        for (int l = 0; l < 3; l++) {
            uint16_t *row = amap_layer_mults(&m, l);
            int mode = (int)(rnd(&s) % 4); /* 0 layer, 1 filter, 2 sparse kernel, 3 random kernel */
            uint16_t base = (uint16_t)(rnd(&s) % N_MULTS);
            for (int32_t co = 0; co < L[l].cout; co++) {
                uint16_t f = mode >= 1 && rnd(&s) % 2 ? (uint16_t)(rnd(&s) % N_MULTS) : base;
                for (int32_t ci = 0; ci < L[l].cin; ci++)
                    row[co * L[l].cin + ci] = (mode == 2 && rnd(&s) % 3 == 0) || mode == 3 ? (uint16_t)(rnd(&s) % N_MULTS) : f;
            }
        }
        char *path = tmp_path("map");
        ck_assert_int_eq(amap_write(&m, path, &lib, L), ST_OK);
        ck_assert_int_eq(amap_read(&back, path, &lib, L, 3), ST_OK);
        ck_assert_int_eq(back.n_layers, 3);
        ck_assert_int_eq(memcmp(back.mult, m.mult, 42 * sizeof *m.mult), 0);
        char *text;
        size_t len;
        ck_assert_int_eq(afile_read_all(path, &text, &len), ST_OK);
        forms |= (strstr(text, "\"0,") || strstr(text, "\"1,") ? 1 : 0) | (strstr(text, "      - [") ? 2 : 0) |
                 (strstr(text, "    filters:") ? 4 : 0);
        free(text);
        unlink(path);
        free(path);
        amap_deinit(&m);
        amap_deinit(&back);
    }
    ck_assert_int_eq(forms, 7); /* the trials exercised kernel entries, kernel matrices and filters */
    amul_lib_deinit(&lib);
}
END_TEST

START_TEST(bias_delta_round_trip)
{
    /* deltas of layers 0 and 2 survive write and read; layer 1 (all zero) is not written and reads
     * back as zeros; a map without deltas reads back without them */
    const amap_layer *L = layers_make();
    amul_lib lib;
    lib_make(&lib);
    amap m, back;
    amap_init(&m, L, 3, 1);
    ck_assert_ptr_null(amap_bias_delta(&m, 0));
    char *path = tmp_path("map");
    ck_assert_int_eq(amap_write(&m, path, &lib, L), ST_OK);
    ck_assert_int_eq(amap_read(&back, path, &lib, L, 3), ST_OK);
    ck_assert_ptr_null(back.bias_delta);
    amap_deinit(&back);
    int32_t *d0 = amap_bias_delta_w(&m, 0), *d2 = amap_bias_delta_w(&m, 2);
    for (int32_t co = 0; co < L[0].cout; co++) d0[co] = co % 2 ? -(co * 1000 + 7) : co;
    d2[0] = INT32_MIN;
    d2[1] = INT32_MAX;
    ck_assert_int_eq(amap_write(&m, path, &lib, L), ST_OK);
    ck_assert_int_eq(amap_read(&back, path, &lib, L, 3), ST_OK);
    ck_assert_ptr_nonnull(back.bias_delta);
    size_t nb = m.boffset[3];
    ck_assert_int_eq(nb, (size_t)(L[0].cout + L[1].cout + L[2].cout));
    ck_assert_int_eq(memcmp(back.bias_delta, m.bias_delta, nb * sizeof *m.bias_delta), 0);
    ck_assert_int_eq(memcmp(back.mult, m.mult, m.offset[3] * sizeof *m.mult), 0);
    char *text;
    ck_assert_int_eq(afile_read_all(path, &text, NULL), ST_OK);
    ck_assert_ptr_nonnull(strstr(text, "    bias_delta: [-2147483648, 2147483647]\n"));
    int n_bd = 0;
    for (const char *q = text; (q = strstr(q, "bias_delta")); q++) n_bd++;
    ck_assert_int_eq(n_bd, 2);
    free(text);
    unlink(path);
    free(path);
    amap_deinit(&m);
    amap_deinit(&back);
    amul_lib_deinit(&lib);
}
END_TEST

START_TEST(map_write_compact_text)
{
    const amap_layer *L = layers_make();
    amul_lib lib;
    lib_make(&lib);
    amap m;
    amap_init(&m, L, 3, 9);
    uint16_t *r1 = amap_layer_mults(&m, 1);
    for (int ci = 0; ci < 4; ci++) r1[2 * 4 + ci] = 20; /* filter 2 */
    r1[2 * 4 + 1] = ODD;                                /* one kernel of it */
    r1[4 * 4 + 3] = EXACT;                              /* one kernel elsewhere */
    for (int i = 0; i < 10; i++) amap_layer_mults(&m, 2)[i] = 0;
    char *path = tmp_path("map");
    ck_assert_int_eq(amap_write(&m, path, &lib, L), ST_OK);
    char *text;
    size_t len;
    ck_assert_int_eq(afile_read_all(path, &text, &len), ST_OK);
    ck_assert_str_eq(text, "# approxmap approximation map: a multiplier per (layer, output channel, input channel)\n"
                           "# kernel; per layer a default, then filter and kernel overrides (problems/multipliers/README.md)\n"
                           "library: testlib\n"
                           "layers:\n"
                           "  \"conv1\": roup_k1_m2\n"
                           "  \"stack1/conv.a\":\n"
                           "    default: roup_k1_m2\n"
                           "    filters:\n"
                           "      2: roup_k2_m6\n"
                           "    kernels:\n"
                           "      \"2,1\": odd\n"
                           "      \"4,3\": exact\n"
                           "  \"dense\": roup_k0_m0\n");
    free(text);
    unlink(path);
    free(path);
    amap_deinit(&m);
    amul_lib_deinit(&lib);
}
END_TEST

START_TEST(map_read_all_forms)
{
    const amap_layer *L = layers_make();
    amul_lib lib;
    lib_make(&lib);
    const char *yaml = "library: testlib\n"
                       "default: roup_k0_m3\n"
                       "layers:\n"
                       "  stack1/conv.a:\n"
                       "    default: odd\n"
                       "    filters: {1: roup_k2_m2, 4: exact}\n"
                       "    kernels: {\"1,0\": roup_k0_m1, \"3, 2\": roup_k1_m1}\n"
                       "  dense:\n"
                       "    default: exact\n"
                       "    filters: [roup_k0_m6, odd]\n"
                       "    kernels:\n"
                       "      - [exact, exact, exact, exact, exact]\n"
                       "      - [odd, roup_k2_m6, odd, odd, roup_k0_m0]\n";
    char *path = put_text(yaml);
    amap m;
    ck_assert_int_eq(amap_read(&m, path, &lib, L, 3), ST_OK);
    for (int i = 0; i < 12; i++) ck_assert_int_eq(amap_layer_mults(&m, 0)[i], 3); /* top-level default */
    const uint16_t *r1 = amap_layer_mults(&m, 1);
    ck_assert_int_eq(r1[0 * 4 + 0], ODD);
    ck_assert_int_eq(r1[1 * 4 + 0], 1);  /* kernel override beats filter */
    ck_assert_int_eq(r1[1 * 4 + 3], 16); /* filter */
    ck_assert_int_eq(r1[3 * 4 + 2], 8);
    ck_assert_int_eq(r1[3 * 4 + 1], ODD);
    ck_assert_int_eq(r1[4 * 4 + 0], EXACT);
    const uint16_t *r2 = amap_layer_mults(&m, 2);
    ck_assert_int_eq(r2[0], EXACT);
    ck_assert_int_eq(r2[4], EXACT);
    ck_assert_int_eq(r2[5], ODD);
    ck_assert_int_eq(r2[6], 20);
    ck_assert_int_eq(r2[9], 0);
    amap_deinit(&m);
    unlink(path);
    free(path);
    amul_lib_deinit(&lib);
}
END_TEST

static void expect_map_error(const amul_lib *lib, const char *yaml, int code, const char *tail)
{
    const amap_layer *L = layers_make();
    char *path = put_text(yaml);
    char *want = xasprintf("%s:%s", path, tail);
    tu_capture_buf cap = {0};
    msg_set_sink(tu_capture, &cap);
    amap m = {0};
    int rc = amap_read(&m, path, lib, L, 3);
    msg_set_sink(NULL, NULL);
    ck_assert_int_eq(rc, code);
    ck_assert_int_eq(cap.count, 1);
    ck_assert_str_eq(cap.text, want);
    ck_assert_ptr_null(m.mult);
    free(want);
    unlink(path);
    free(path);
}

/* Malformed maps, one Check test each (loop test): YAML, status, message after "<path>:". */
typedef struct bad_map {
    const char *yaml;
    int code;
    const char *tail;
} bad_map;

static const bad_map bad_maps[] = {
    {"default: exact\nlayers:\n  conv2: exact\n",
     ST_EFORMAT, "3:3: unknown layer 'conv2' (the model's layers: conv1 ... dense)"},
    {"default: exact\nlayers:\n  conv1: roup_k3_m0\n",
     ST_EFORMAT, "3:10: unknown multiplier 'roup_k3_m0' (not in library 'test-lib.yaml')"},
    {"default: exact\nlayers:\n  dense: {default: odd, filters: {2: exact}}\n",
     ST_EFORMAT, "3:35: output channel 2 is outside layer 'dense' (0..1)"},
    {"default: exact\nlayers:\n  dense: {default: odd, kernels: {\"1,5\": exact}}\n",
     ST_EFORMAT, "3:35: input channel 5 is outside layer 'dense' (0..4)"},
    {"default: exact\nlayers:\n  dense: {default: odd, kernels: {\"1;2\": exact}}\n",
     ST_EFORMAT, "3:35: kernel key '1;2' must be \"co,ci\""},
    {"default: exact\nlayers:\n  dense: {default: odd, filters: {x: exact}}\n",
     ST_EFORMAT, "3:35: output channel 'x' is not an integer"},
    {"default: exact\nlayers:\n  dense: {default: odd, filters: [odd]}\n",
     ST_EFORMAT, "3:34: 'filters' list has 1 entries, layer 'dense' has 2 filters"},
    {"default: exact\nlayers:\n  dense: {default: odd, kernels: [[odd], [odd]]}\n",
     ST_EFORMAT, "3:35: 'kernels' row 0 has 1 entries, layer 'dense' has 5 inputs"},
    {"default: exact\nlayers:\n  dense: {default: odd, filter: {1: odd}}\n",
     ST_EFORMAT, "3:25: unknown key 'filter'"},
    {"default: exact\nlayer:\n  dense: odd\n",
     ST_EFORMAT, "2:1: unknown key 'layer'"},
    {"default: exact\nlayers: [conv1]\n",
     ST_EFORMAT, "2:9: 'layers' must be a mapping, not a list"},
    {"default: exact\nlayers:\n  dense: [odd]\n",
     ST_EFORMAT, "3:10: a layer entry must be a mapping, not a list"},
    {"default: exact\nlayers:\n  dense: {default: [odd]}\n",
     ST_EFORMAT, "3:20: default must be a scalar, not a list"},
    {"layers:\n  conv1: exact\n  dense: exact\n",
     ST_EFORMAT, "2:3: layer 'stack1/conv.a' has no multiplier (no entry and no top-level 'default')"},
    {"layers:\n  conv1: exact\n  stack1/conv.a: exact\n  dense: {filters: [odd, odd]}\n",
     ST_EFORMAT, "4:10: layer 'dense' has no 'default' (and the map none)"},
    {"default: exact\nlayers:\n  dense: odd\n  dense: exact\n",
     ST_EFORMAT, "4:3: duplicate key 'dense'"},
    {"default: exact\nlayers:\n  dense: {default: odd, filters: {1: odd, 1: exact}}\n",
     ST_EFORMAT, "3:43: duplicate filter 1"},
    {"default: exact\nlayers:\n  dense: {default: odd, kernels: {\"1,3\": odd, \"1, 3\": exact}}\n",
     ST_EFORMAT, "3:47: duplicate kernel 1,3"},
    {"default: exact\nlayers:\n  dense: {default: odd, bias_delta: [1]}\n",
     ST_EFORMAT, "3:37: 'bias_delta' has 1 entries, layer 'dense' has 2 filters"},
    {"default: exact\nlayers:\n  dense: {default: odd, bias_delta: [1, x]}\n",
     ST_EFORMAT, "3:41: 'bias_delta' entries must be integers in int32 range"},
    {"default: exact\nlayers:\n  dense: {default: odd, bias_delta: [1, 2147483648]}\n",
     ST_EFORMAT, "3:41: 'bias_delta' entries must be integers in int32 range"},
    {"default: exact\nlayers:\n  dense: {default: odd, bias_delta: 7}\n",
     ST_EFORMAT, "3:37: 'bias_delta' (a list of cout integers) must be a list, not a scalar"},
    {"default: exact\nlayers:\n  dense: {default: odd\n",
     ST_EPARSE, "4:1: did not find expected ',' or '}' while parsing a flow mapping"},
};
enum { N_BAD_MAPS = sizeof bad_maps / sizeof bad_maps[0] };

START_TEST(map_malformed)
{
    amul_lib lib;
    lib_make(&lib);
    expect_map_error(&lib, bad_maps[_i].yaml, bad_maps[_i].code, bad_maps[_i].tail);
    amul_lib_deinit(&lib);
}
END_TEST

/* --- energy -------------------------------------------------------------------------------------- */

START_TEST(energy_uniform_and_mixed)
{
    const amap_layer *L = layers_make();
    amul_lib lib;
    lib_make(&lib);
    energy_report r;
    energy_report_init(&r, 3, N_MULTS);
    amap m;
    amap_init(&m, L, 3, 0);
    const double macs = 6.0 * 6 * 9 * 3 * 4 + 3.0 * 3 * 9 * 4 * 5 + 10;
    for (int i = 0; i < N_MULTS; i++) {
        int g[3] = {i, i, i};
        amap_expand_layer(&m, g);
        ck_assert_int_eq(energy_eval(&m, L, &lib, NULL, NULL, &r), ST_OK);
        ck_assert_msg(fabs(r.rel - lib.mults[i].energy.rel) < 1e-12, "%s: %.15g", lib.mults[i].name, r.rel);
        ck_assert(r.exact == macs);
        for (int l = 0; l < 3; l++) ck_assert(fabs(r.layer_rel[l] - lib.mults[i].energy.rel) < 1e-12);
    }
    /* mixed: layer 0 all roup_k2_m6 (0.2), layer 1 half odd (0.5) half exact, layer 2 kernel 3 = k0_m5 */
    int g[3] = {20, EXACT, EXACT};
    amap_expand_layer(&m, g);
    for (int i = 0; i < 10; i++) amap_layer_mults(&m, 1)[i] = ODD;
    amap_layer_mults(&m, 2)[3] = 5;
    ck_assert_int_eq(energy_eval(&m, L, &lib, NULL, NULL, &r), ST_OK);
    double l0 = 12 * 324 * (1.0 - 0.04 * 20), l1 = 81 * (10 * 0.5 + 10 * 1.0), l2 = 9 * 1.0 + 1 * 0.8;
    ck_assert(fabs(r.layer[0] - l0) < 1e-9 && fabs(r.layer[1] - l1) < 1e-9 && fabs(r.layer[2] - l2) < 1e-9);
    ck_assert(fabs(r.rel - (l0 + l1 + l2) / macs) < 1e-12);
    ck_assert(fabs(r.layer_rel[1] - 0.75) < 1e-12);

    /* a per-layer table: energy of multiplier i in layer l = (l + 1) * (i + 1) fJ */
    double *el = xmalloc(3 * N_MULTS * sizeof *el);
    for (int l = 0; l < 3; l++)
        for (int i = 0; i < N_MULTS; i++) el[l * N_MULTS + i] = (l + 1.0) * (i + 1.0);
    ck_assert_int_eq(energy_eval(&m, L, &lib, el, NULL, &r), ST_OK);
    double t0 = 12 * 324 * 1.0 * 21, t1 = 81 * 2.0 * (10 * 22 + 10 * 23), t2 = 3.0 * (9 * 23 + 6);
    /* the reference is the library's first exact multiplier, roup_k0_m0 (column 0) */
    ck_assert_int_eq(amul_lib_exact(&lib), 0);
    double x0 = 12 * 324 * 1.0, x1 = 81 * 2.0 * 1 * 20, x2 = 3.0 * 1 * 10;
    ck_assert(fabs(r.total - (t0 + t1 + t2)) < 1e-9);
    ck_assert(fabs(r.exact - (x0 + x1 + x2)) < 1e-9);
    double ex[3] = {10, 20, 30};
    ck_assert_int_eq(energy_eval(&m, L, &lib, el, ex, &r), ST_OK);
    ck_assert(fabs(r.exact - (12 * 324 * 10.0 + 81 * 20.0 * 20 + 30.0 * 10)) < 1e-9);
    free(el);

    /* a multiplier without an energy figure */
    lib.mults[ODD].energy.rel = NAN;
    tu_capture_buf cap = {0};
    msg_set_sink(tu_capture, &cap);
    ck_assert_int_eq(energy_eval(&m, L, &lib, NULL, NULL, &r), ST_EFORMAT);
    msg_set_sink(NULL, NULL);
    ck_assert_str_eq(cap.text, "multiplier 'odd' has no relative energy in 'test-lib.yaml'");
    amap_deinit(&m);
    energy_report_deinit(&r);
    amul_lib_deinit(&lib);
}
END_TEST

/* --- builder ------------------------------------------------------------------------------------- */

START_TEST(builder_choice_and_tables)
{
    const amap_layer *L = layers_make();
    amul_lib lib;
    lib_make(&lib);
    amap m;
    amap_init(&m, L, 3, 0);
    /* layer 0: roup_k0_m0 and exact only -> EXACT; layer 1: roup m in {2, 2, 5} -> 2 planes;
     * layer 2: one odd kernel -> LUT */
    uint16_t *r0 = amap_layer_mults(&m, 0), *r1 = amap_layer_mults(&m, 1), *r2 = amap_layer_mults(&m, 2);
    r0[5] = EXACT;
    for (int i = 0; i < 20; i++) r1[i] = 2;  /* roup_k0_m2 */
    r1[1 * 4 + 2] = 9;                       /* roup_k1_m2: same f as k0_m2 */
    r1[3 * 4 + 0] = 19;                      /* roup_k2_m5 */
    for (int i = 0; i < 10; i++) r2[i] = 15; /* roup_k2_m1 */
    r2[7] = ODD;
    amap_mul b;
    amap_mul_init(&b, L, 3, &lib);
    amap_mul_build(&b, &m);
    ck_assert_int_eq(b.layer[0].kind, QNN_MUL_EXACT);
    const qnn_layer_mul *h = &b.layer[1];
    ck_assert_int_eq(h->kind, QNN_MUL_SEPARABLE);
    ck_assert_int_eq(h->n_planes, 2);
    for (int a = -128; a < 128; a++) {
        ck_assert_int_eq(h->act_tf[0 * 256 + (uint8_t)a], amul_roup_round(a, 2));
        ck_assert_int_eq(h->act_tf[1 * 256 + (uint8_t)a], amul_roup_round(a, 5));
    }
    for (int co = 0; co < 5; co++)
        for (int ci = 0; ci < 4; ci++) {
            int mi = r1[co * 4 + ci];
            ck_assert_int_eq(h->plane_of[co * 4 + ci], mi == 19 ? 1 : 0);
            for (int t = 0; t < 9; t++) {
                int8_t w = g_w1[(co * 9 + t) * 4 + ci];
                int k = mi / 7;
                ck_assert_int_eq(h->w_tf[(co * 9 + t) * 4 + ci], amul_roup_round(w, 2 * k));
            }
        }
    h = &b.layer[2];
    ck_assert_int_eq(h->kind, QNN_MUL_LUT);
    ck_assert_int_eq(h->n_luts, 2);
    ck_assert_ptr_eq(h->luts[0], lib.mults[15].lut);
    ck_assert_ptr_eq(h->luts[1], lib.mults[ODD].lut);
    for (int i = 0; i < 10; i++) ck_assert_int_eq(h->lut_of[i], i == 7 ? 1 : 0);

    /* 17 distinct activation transforms cannot be planes: the layer falls back to tables. Only 7
     * distinct f exist among ROUP, so give a layer all 7 m's: still SEPARABLE with 7 planes. */
    for (int i = 0; i < 20; i++) r1[i] = (uint16_t)(i % 7);
    amap_mul_build(&b, &m);
    ck_assert_int_eq(b.layer[1].kind, QNN_MUL_SEPARABLE);
    ck_assert_int_eq(b.layer[1].n_planes, 7);
    ck_assert_int_eq(b.layer[2].kind, QNN_MUL_LUT);
    amap_mul_deinit(&b);
    amap_deinit(&m);
    amul_lib_deinit(&lib);
}
END_TEST

/* The accumulators of separable hook h on input `in` (shape sh), by the scalar reference: each plane is
 * the input under one activation transform. */
static void separable_acc(const qnn_conv_shape *sh, const int8_t *in, const qnn_layer_mul *h, int32_t *acc)
{
    const size_t nin = (size_t)sh->n * sh->h * sh->w * sh->cin;
    int16_t *planes_buf = xmalloc((size_t)h->n_planes * nin * sizeof *planes_buf);
    const int16_t *planes[QNN_MUL_MAX_PLANES];
    for (int p = 0; p < h->n_planes; p++) {
        for (size_t i = 0; i < nin; i++) planes_buf[p * nin + i] = h->act_tf[p * 256 + (uint8_t)in[i]];
        planes[p] = planes_buf + p * nin;
    }
    qnn_conv_acc_ref(sh, planes, h->plane_of, h->w_tf, acc);
    free(planes_buf);
}

/* Random conv layer + random kernel map of ROUP multipliers: the separable hook through
 * qnn_conv_acc_ref equals qnn_conv_acc_lut_ref with the ROUP tables, bit for bit. */
START_TEST(separable_equals_lut_reference)
{
    amul_lib lib;
    lib_make(&lib);
    uint32_t s = 2024;
    for (int trial = 0; trial < 12; trial++) {
        qnn_conv_shape sh = {0};
        sh.n = 2;
        sh.h = 3 + (int)(rnd(&s) % 6);
        sh.w = 3 + (int)(rnd(&s) % 6);
        sh.cin = 1 + (int)(rnd(&s) % 6);
        sh.cout = 1 + (int)(rnd(&s) % 6);
        sh.kh = 1 + (int)(rnd(&s) % 3);
        sh.kw = 1 + (int)(rnd(&s) % 3);
        sh.stride_h = 1 + (int)(rnd(&s) % 2);
        sh.stride_w = 1 + (int)(rnd(&s) % 2);
        sh.pad_t = sh.pad_b = sh.kh / 2;
        sh.pad_l = sh.pad_r = sh.kw / 2;
        ck_assert_int_eq(qnn_conv_shape_finish(&sh), 0);
        size_t nin = (size_t)sh.n * sh.h * sh.w * sh.cin, nw = (size_t)sh.cout * sh.kh * sh.kw * sh.cin;
        size_t nacc = (size_t)sh.n * sh.ho * sh.wo * sh.cout;
        int8_t *in = xmalloc(nin), *w = xmalloc(nw);
        for (size_t i = 0; i < nin; i++) in[i] = (int8_t)rnd(&s);
        for (size_t i = 0; i < nw; i++) w[i] = (int8_t)rnd(&s);
        in[0] = -128;
        w[0] = -128;
        amap_layer L = {"conv", sh.cin, sh.cout, sh.kh, sh.kw, qnn_conv_macs(&sh), w};
        amap m;
        amap_init(&m, &L, 1, 0);
        int *genome = xmalloc((size_t)sh.cout * sh.cin * sizeof *genome);
        for (int i = 0; i < sh.cout * sh.cin; i++) genome[i] = (int)(rnd(&s) % N_ROUP);
        genome[0] = 20;
        amap_expand_kernel(&m, genome);
        amap_mul b;
        amap_mul_init(&b, &L, 1, &lib);
        amap_mul_build(&b, &m);
        const qnn_layer_mul *h = &b.layer[0];
        int32_t *acc_sep = xmalloc(nacc * sizeof *acc_sep), *acc_lut = xmalloc(nacc * sizeof *acc_lut);
        if (h->kind != QNN_MUL_SEPARABLE) ck_abort_msg("trial %d: expected a separable layer, got kind %d", trial, h->kind);
        separable_acc(&sh, in, h, acc_sep);
        /* the reference: every product from its kernel's ROUP table */
        const int16_t *luts[N_ROUP];
        uint16_t *lut_of = xmalloc((size_t)sh.cout * sh.cin * sizeof *lut_of);
        for (int i = 0; i < N_ROUP; i++) luts[i] = lib.mults[i].lut;
        for (int i = 0; i < sh.cout * sh.cin; i++) lut_of[i] = (uint16_t)genome[i];
        qnn_conv_acc_lut_ref(&sh, in, w, luts, lut_of, acc_lut);
        ck_assert_int_eq(memcmp(acc_sep, acc_lut, nacc * sizeof *acc_sep), 0);
        /* and the builder's own LUT hook, forced by one non-separable kernel, agrees too */
        genome[sh.cout * sh.cin - 1] = ODD;
        amap_expand_kernel(&m, genome);
        amap_mul_build(&b, &m);
        ck_assert_int_eq(h->kind, QNN_MUL_LUT);
        for (int i = 0; i < sh.cout * sh.cin; i++) lut_of[i] = (uint16_t)genome[i];
        const int16_t *luts_all[N_MULTS];
        for (int i = 0; i < N_MULTS; i++) luts_all[i] = lib.mults[i].lut;
        qnn_conv_acc_lut_ref(&sh, in, w, luts_all, lut_of, acc_lut);
        qnn_conv_acc_lut_ref(&sh, in, w, h->luts, h->lut_of, acc_sep);
        ck_assert_int_eq(memcmp(acc_sep, acc_lut, nacc * sizeof *acc_sep), 0);
        free(lut_of);
        free(acc_sep);
        free(acc_lut);
        free(genome);
        amap_mul_deinit(&b);
        amap_deinit(&m);
        free(in);
        free(w);
    }
    amul_lib_deinit(&lib);
}
END_TEST

START_TEST(weights_round_trip_and_hook)
{
    /* stored weights (weight tuning): a layer whose weights differ from its own is written as hex and
     * reads back byte for byte; layers equal to their own are not written; the separable hook then
     * multiplies by g(stored weight), which the LUT reference run on the stored weights confirms */
    const amap_layer *L = layers_make();
    amul_lib lib;
    lib_make(&lib);
    amap m, back;
    amap_init(&m, L, 3, 8); /* roup_k1_m1 everywhere */
    ck_assert_ptr_null(amap_wt(&m, 1));
    int8_t *w1 = amap_wt_w(&m, 1, L);
    ck_assert_int_eq(memcmp(amap_wt(&m, 0), L[0].w, sizeof g_w0), 0); /* every layer starts as its own */
    uint32_t s = 99;
    for (size_t i = 0; i < sizeof g_w1; i++) w1[i] = (int8_t)rnd(&s);
    w1[0] = -128;
    w1[1] = 127;
    char *path = tmp_path("map");
    ck_assert_int_eq(amap_write(&m, path, &lib, L), ST_OK);
    char *text;
    ck_assert_int_eq(afile_read_all(path, &text, NULL), ST_OK);
    int n_w = 0;
    for (const char *q = text; (q = strstr(q, "weights: \"")); q++) n_w++;
    ck_assert_int_eq(n_w, 1);
    ck_assert_ptr_nonnull(strstr(text, "    weights: \"807f"));
    free(text);
    ck_assert_int_eq(amap_read(&back, path, &lib, L, 3), ST_OK);
    ck_assert_ptr_nonnull(back.wt);
    ck_assert_int_eq(memcmp(back.wt, m.wt, m.woffset[3]), 0);
    /* the hook: w_tf = g(stored), not g(own) */
    amap_mul b;
    amap_mul_init(&b, L, 3, &lib);
    amap_mul_build(&b, &back);
    ck_assert_int_eq(b.layer[1].kind, QNN_MUL_SEPARABLE);
    for (size_t i = 0; i < sizeof g_w1; i++)
        ck_assert_int_eq(b.layer[1].w_tf[i], lib.mults[8].g[(uint8_t)w1[i]]);
    /* plain (uncompensated) hooks use the layer's own weights */
    amap_mul_build_plain(&b, &back);
    for (size_t i = 0; i < sizeof g_w1; i++)
        ck_assert_int_eq(b.layer[1].w_tf[i], lib.mults[8].g[(uint8_t)g_w1[i]]);
    /* against the LUT reference on a real convolution with these shapes */
    qnn_conv_shape sh = {0};
    sh.n = 2;
    sh.h = sh.w = 6;
    sh.cin = 4;
    sh.cout = 5;
    sh.kh = sh.kw = 3;
    sh.stride_h = sh.stride_w = 2;
    sh.pad_t = sh.pad_b = sh.pad_l = sh.pad_r = 1;
    ck_assert_int_eq(qnn_conv_shape_finish(&sh), 0);
    size_t nin = (size_t)sh.n * sh.h * sh.w * sh.cin, nacc = (size_t)sh.n * sh.ho * sh.wo * sh.cout;
    int8_t *in = xmalloc(nin);
    for (size_t i = 0; i < nin; i++) in[i] = (int8_t)rnd(&s);
    amap_mul_build(&b, &back);
    int32_t *acc_sep = xmalloc(nacc * sizeof *acc_sep), *acc_lut = xmalloc(nacc * sizeof *acc_lut);
    separable_acc(&sh, in, &b.layer[1], acc_sep);
    const int16_t *luts[1] = {lib.mults[8].lut};
    uint16_t lut_of[20] = {0};
    qnn_conv_acc_lut_ref(&sh, in, w1, luts, lut_of, acc_lut);
    ck_assert_int_eq(memcmp(acc_sep, acc_lut, nacc * sizeof *acc_sep), 0);
    qnn_conv_acc_lut_ref(&sh, in, g_w1, luts, lut_of, acc_lut);
    ck_assert_int_ne(memcmp(acc_sep, acc_lut, nacc * sizeof *acc_sep), 0);
    free(acc_sep);
    free(acc_lut);
    free(in);
    amap_mul_deinit(&b);
    unlink(path);
    free(path);
    amap_deinit(&m);
    amap_deinit(&back);
    amul_lib_deinit(&lib);
}
END_TEST

/* --- error compensation -------------------------------------------------------------------------- */

START_TEST(bias_compensation_by_hand)
{
    /* roup_k0_m1 (index 1): R_1(a) = a + 1 for odd a, a for even a, so M(a, w) - a w = w for odd a
     * and 0 for even a. Layer 1 (4 -> 5, 3x3); kernel (co, 2) stays exact for co = 3. */
    const amap_layer *L = layers_make();
    amul_lib lib;
    lib_make(&lib);
    amap m;
    amap_init(&m, L, 3, 1);
    amap_layer_mults(&m, 1)[3 * 4 + 2] = EXACT;
    double *p = xcalloc(4 * 256, sizeof *p);
    p[0 * 256 + 7] = 1.0;                                    /* odd: error w */
    p[1 * 256 + 0] = 1.0;                                    /* even: none */
    p[2 * 256 + 7] = 0.5, p[2 * 256 + 4] = 0.5;              /* half the time */
    p[3 * 256 + (uint8_t)-3] = 1.0;                          /* odd negative: R_1(-3) = -2, error w */
    int32_t delta[5];
    amap_bias_compensation(&m, 1, &L[1], &lib, p, 1, NULL, delta);
    for (int co = 0; co < 5; co++) {
        long twice = 0; /* 2 x expected error, an integer */
        for (int t = 0; t < 9; t++) {
            const int8_t *w = &g_w1[(co * 9 + t) * 4];
            twice += 2 * w[0] + (co == 3 ? 0 : w[2]) + 2 * w[3];
        }
        long want = twice >= 0 ? -((twice + 1) / 2) : (-twice + 1) / 2;
        ck_assert_int_eq(delta[co], want);
    }
    /* one shared distribution: a = 7 everywhere -> error = sum of all non-exact weights */
    amap_bias_compensation(&m, 1, &L[1], &lib, p, 0, NULL, delta);
    for (int co = 0; co < 5; co++) {
        long sum = 0;
        for (int t = 0; t < 9; t++)
            for (int ci = 0; ci < 4; ci++)
                if (!(co == 3 && ci == 2)) sum += g_w1[(co * 9 + t) * 4 + ci];
        ck_assert_int_eq(delta[co], -sum);
    }
    /* exact map: nothing to correct */
    int ge[3] = {EXACT, 0, EXACT};
    amap_expand_layer(&m, ge);
    amap_bias_compensation(&m, 1, &L[1], &lib, p, 1, NULL, delta);
    for (int co = 0; co < 5; co++) ck_assert_int_eq(delta[co], 0);
    free(p);
    amap_deinit(&m);
    amul_lib_deinit(&lib);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("amap");
    TCase *t = tcase_create("amap");
    tcase_set_timeout(t, 120);
    tcase_add_test(t, expand_genomes);
    tcase_add_test(t, map_round_trip);
    tcase_add_test(t, bias_delta_round_trip);
    tcase_add_test(t, map_write_compact_text);
    tcase_add_test(t, map_read_all_forms);
    tcase_add_loop_test(t, map_malformed, 0, N_BAD_MAPS);
    tcase_add_test(t, energy_uniform_and_mixed);
    tcase_add_test(t, builder_choice_and_tables);
    tcase_add_test(t, separable_equals_lut_reference);
    tcase_add_test(t, bias_compensation_by_hand);
    tcase_add_test(t, weights_round_trip_and_hook);
    suite_add_tcase(s, t);
    return s;
}

int main(void)
{
    return tu_run(suite());
}
