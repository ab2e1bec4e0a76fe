/* approxmap characterize: gate-level energy of the 21 ROUP multipliers with an open flow.
 *
 * For each (k, m): generate the Booth netlist (gate_gen), check it on all 65,536 pairs, write it as
 * Verilog, synthesize it with scripts/synth.sh (yosys + ABC onto the Liberty library), read the BLIF
 * back, check the synthesized netlist on all 65,536 pairs again, then simulate it on the operand
 * stream: zero-delay energy (the figure), unit-delay energy (glitch-inclusive upper bound), leakage at
 * the stated clock. Prints the relative energy table (k x m), area and cell counts, and writes a
 * multiplier library (problems/multipliers/README.md schema) with the provenance.
 *
 * Streams: `uniform` draws pairs from PCG32 (seed, stream 6 "gate"), or a file of binary int8 pairs
 * (a, w), 2 bytes per pair, in the order the hardware sees them (e.g. a per-layer weight-stationary
 * dump from the int8 engine). */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "afile.h"
#include "cmd.h"
#include "datadir.h"
#include "gate_gen.h"
#include "gate_lib.h"
#include "gate_net.h"
#include "gate_sim.h"
#include "msg.h"
#include "rng.h"
#include "status.h"

#ifndef APPROXMAP_SRCDIR
#define APPROXMAP_SRCDIR "."
#endif

enum { NK = 3, NM = 7, RNG_SEQ_GATE = 6 };

static const char usage[] =
    "usage: approxmap characterize [options]\n"
    "       approxmap characterize --emit-verilog K M\n"
    "\n"
    "Generate, synthesize (yosys + ABC) and measure the 21 ROUP multipliers (k = 0..2, m = 0..6):\n"
    "every design is checked against R_m(a) * R_2k(w) on all 65,536 pairs before and after synthesis.\n"
    "\n"
    "  --liberty FILE      cell library (.lib or .lib.gz); default pdk/sky130_fd_sc_hd__tt_025C_1v80.lib.gz\n"
    "                      in the data directory\n"
    "  --stream S          'uniform' (default) or a file of binary int8 pairs (a, w)\n"
    "  --pairs N           uniform pairs to simulate (default 20000); for a file: at most N pairs\n"
    "  --seed S            seed of the uniform stream (default 1)\n"
    "  --config K,M        measure only this configuration (repeatable; the exact one is always added)\n"
    "  --input-slew NS     transition time of the primary inputs (default 0.05)\n"
    "  --no-wire           no wire capacitance (default: the library's default wire_load)\n"
    "  --clock NS          clock period for the leakage figure (default 5)\n"
    "  --synth-script F    synthesis script (default scripts/synth.sh in the source tree)\n"
    "  --keep DIR          keep the Verilog and BLIF files in DIR\n"
    "  -o, --output FILE   write the multiplier library (YAML)\n"
    "  --emit-verilog K M  print the generated Verilog of ROUP(K, M) and exit\n"
    "  -h, --help          this text\n"
    "\n"
    "Energy: zero-delay toggles between consecutive pairs; per net, internal rise/fall energy of the\n"
    "driver (Liberty tables at the propagated slew and the net load) + input-pin internal energy +\n"
    "1/2 C V^2 per toggle. Unit-delay (glitches) is printed as an upper bound.\n"
    "Exit status: 0 success, 1 failure (synthesis, a netlist that differs from the closed form), 2 usage.\n";

typedef struct result {
    int done;
    double e_zero, e_unit, leak, area;
    int cells;
} result;

static int parse_km(const char *s, int *k, int *m)
{
    char *end;
    long kk = strtol(s, &end, 10);
    if (*end != ',') return -1;
    long mm = strtol(end + 1, &end, 10);
    if (*end || kk < 0 || kk >= NK || mm < 0 || mm >= NM) return -1;
    *k = (int)kk;
    *m = (int)mm;
    return 0;
}

static int emit_verilog(int k, int m)
{
    gate_lib *g = gate_gen_lib();
    gate_net *n = gate_gen_roup(g, k, m);
    int rc = gate_net_write_verilog(n, stdout);
    gate_net_free(n);
    gate_lib_free(g);
    return rc ? CMD_EXIT_FAIL : CMD_EXIT_OK;
}

/* Load the operand stream into a / w (heap). */
static int load_stream(const char *stream, long pairs, uint64_t seed, int8_t **a, int8_t **w, size_t *n)
{
    if (!strcmp(stream, "uniform")) {
        rng_pcg32 r;
        rng_seed(&r, seed, RNG_SEQ_GATE);
        *n = (size_t)pairs;
        *a = xmalloc(*n);
        *w = xmalloc(*n);
        for (size_t i = 0; i < *n; i++) {
            uint32_t x = rng_u32(&r);
            (*a)[i] = (int8_t)(uint8_t)(x & 255);
            (*w)[i] = (int8_t)(uint8_t)((x >> 8) & 255);
        }
        return ST_OK;
    }
    char *path = datadir_resolve(stream);
    char *data;
    size_t len;
    int rc = afile_read_all(path, &data, &len);
    if (rc) { free(path); return rc; }
    if (len % 2 || len < 4) {
        rc = msg_error(ST_EFORMAT, "'%s': a stream file holds int8 pairs (a, w): even size of at least 4 bytes, got %zu",
                       path, len);
        free(data);
        free(path);
        return rc;
    }
    *n = len / 2;
    if (pairs > 0 && (size_t)pairs < *n) *n = (size_t)pairs;
    *a = xmalloc(*n);
    *w = xmalloc(*n);
    for (size_t i = 0; i < *n; i++) {
        (*a)[i] = (int8_t)data[2 * i];
        (*w)[i] = (int8_t)data[2 * i + 1];
    }
    free(data);
    free(path);
    return ST_OK;
}

static char *tool_version(const char *text)
{
    const char *p = strstr(text, "Yosys ");
    if (!p) return xstrdup("yosys (version unknown)");
    size_t l = strcspn(p, "\n");
    char *v = xmalloc(l + 1);
    memcpy(v, p, l);
    v[l] = 0;
    return v;
}

/* Run the synthesis script; returns ST_OK and the yosys version line in *version. */
static int synthesize(const char *script, const char *lib, const char *vpath, const char *top, const char *blif,
                      char **version)
{
    char *cmd = xasprintf("sh '%s' '%s' '%s' '%s' '%s'", script, lib, vpath, top, blif);
    FILE *p = popen(cmd, "r");
    if (!p) {
        free(cmd);
        return msg_error(ST_EIO, "cannot run '%s': %s", script, strerror(errno));
    }
    char buf[512] = "";
    size_t len = fread(buf, 1, sizeof buf - 1, p);
    buf[len] = 0;
    int st = pclose(p);
    if (st != 0) {
        int rc = msg_error(ST_EIO, "synthesis failed for '%s' (%s)", top, cmd);
        free(cmd);
        return rc;
    }
    free(cmd);
    if (version && !*version) *version = tool_version(buf);
    return ST_OK;
}

static int measure(const gate_net *net, const uint32_t *vec, size_t n, const gate_energy_opts *eo, double clock,
                   result *r)
{
    gate_energy e;
    gate_energy_setup(&e, net, eo);
    gate_sim *s = gate_sim_alloc(net);
    gate_activity act;
    gate_activity_init(&act, net->nnets);
    gate_sim_stream(s, vec, n, 0, &act);
    r->e_zero = gate_energy_per_op(&e, &act);
    gate_activity_deinit(&act);
    gate_activity_init(&act, net->nnets);
    gate_sim_stream(s, vec, n, 1, &act);
    r->e_unit = gate_energy_per_op(&e, &act);
    gate_activity_deinit(&act);
    r->leak = e.leakage_fj_per_ns * clock;
    r->area = e.area;
    r->cells = e.cells;
    r->done = 1;
    gate_sim_free(s);
    gate_energy_deinit(&e);
    return ST_OK;
}

static void print_table(const char *title, result res[NK][NM], int which)
{
    const result *ex = &res[0][0];
    printf("\n%s\n| k \\ m |", title);
    for (int m = 0; m < NM; m++) printf(" %d |", m);
    printf("\n|---|");
    for (int m = 0; m < NM; m++) printf("---|");
    printf("\n");
    for (int k = 0; k < NK; k++) {
        printf("| %d |", k);
        for (int m = 0; m < NM; m++) {
            const result *r = &res[k][m];
            if (!r->done) { printf(" - |"); continue; }
            double v = which == 0 ? r->e_zero / ex->e_zero : which == 1 ? r->e_unit / ex->e_unit
                     : which == 2 ? r->area / ex->area : r->cells;
            if (which == 3) printf(" %.0f |", v);
            else printf(" %.2f |", v);
        }
        printf("\n");
    }
}

static int write_yaml(const char *path, result res[NK][NM], const gate_lib *lib, const char *version,
                      const char *stream_desc, double clock, const gate_energy_opts *eo)
{
    afile *af = afile_open(path);
    if (!af) return ST_EIO;
    FILE *f = afile_stream(af);
    const result *ex = &res[0][0];
    const char *base = strrchr(lib->path, '/');
    base = base ? base + 1 : lib->path;
    fprintf(f, "# ROUP approximate multipliers, 8-bit signed, characterized by `approxmap characterize`.\n");
    fprintf(f, "# Product: R_m(a) * R_2k(w). Every netlist was checked against it on all 65,536 pairs before\n");
    fprintf(f, "# and after synthesis. energy.fj: zero-delay dynamic energy per multiplication (internal\n");
    fprintf(f, "# power tables at propagated slews + 1/2 C V^2, wire model: %s, input slew %g ns);\n",
            eo->wire_model && lib->wire_load ? lib->wire_load : "none", eo->input_slew * lib->time_unit_ns);
    fprintf(f, "# description: area, cells, unit-delay (glitch-inclusive) energy, leakage at a %g ns clock.\n",
            clock);
    fprintf(f, "# Schema: problems/multipliers/README.md.\n");
    fprintf(f, "library: roup8_%s\n", lib->name);
    fprintf(f, "description: ROUP 8x8 signed multipliers (k = 0..2, m = 0..6) measured on %s\n", lib->name);
    fprintf(f, "provenance:\n");
    fprintf(f, "  source: approxmap characterize (measured with an open flow, not a published figure)\n");
    fprintf(f, "  tool: \"%s; synth -flatten + abc -liberty; approxmap gate_sim zero-delay toggles, leakage at %g ns\"\n",
            version, clock);
    fprintf(f, "  cell_library: \"%s (%s)\"\n", lib->name, base);
    fprintf(f, "  corner: \"%s, %.2f V\"\n", lib->corner ? lib->corner : "unknown", lib->voltage);
    fprintf(f, "  stream: \"%s\"\n", stream_desc);
    fprintf(f, "multipliers:\n");
    for (int k = 0; k < NK; k++)
        for (int m = 0; m < NM; m++) {
            const result *r = &res[k][m];
            if (!r->done) continue;
            fprintf(f, "  - {name: roup_k%d_m%d, family: roup, k: %d, m: %d, energy: {relative: %.4f, fj: %.2f},\n",
                    k, m, k, m, r->e_zero / ex->e_zero, r->e_zero);
            fprintf(f, "     description: \"area %.2f um^2, %d cells, unit-delay %.2f fJ (relative %.4f), leakage %.3f fJ\"}\n",
                    r->area, r->cells, r->e_unit, r->e_unit / ex->e_unit, r->leak);
        }
    return afile_commit(af);
}

int cmd_characterize(int argc, char **argv)
{
    static const struct option opts[] = {
        { "liberty", required_argument, NULL, 'l' },
        { "stream", required_argument, NULL, 's' },
        { "pairs", required_argument, NULL, 'n' },
        { "seed", required_argument, NULL, 'S' },
        { "config", required_argument, NULL, 'c' },
        { "input-slew", required_argument, NULL, 'i' },
        { "no-wire", no_argument, NULL, 'W' },
        { "clock", required_argument, NULL, 'C' },
        { "synth-script", required_argument, NULL, 'x' },
        { "keep", required_argument, NULL, 'k' },
        { "output", required_argument, NULL, 'o' },
        { "emit-verilog", required_argument, NULL, 'e' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    const char *liberty = NULL, *stream = "uniform", *out = NULL, *keep = NULL;
    char *script = xasprintf("%s/scripts/synth.sh", APPROXMAP_SRCDIR);
    long pairs = 20000;
    unsigned long long seed = 1;
    int want[NK][NM] = { { 0 } }, any = 0;
    gate_energy_opts eo = { .input_slew = 0.05, .wire_model = 1 };
    double clock = 5;
    int c, status = CMD_EXIT_USAGE;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "o:h", opts, NULL)) != -1) {
        char *end = NULL;
        int k, m;
        switch (c) {
        case 'l': liberty = optarg; break;
        case 's': stream = optarg; break;
        case 'n':
            pairs = strtol(optarg, &end, 10);
            if (*end || pairs < 2 || pairs > 100000000) { fprintf(stderr, "approxmap: error: --pairs wants 2..1e8\n"); goto done; }
            break;
        case 'S':
            seed = strtoull(optarg, &end, 10);
            if (*end) { fprintf(stderr, "approxmap: error: --seed wants an integer\n"); goto done; }
            break;
        case 'c':
            if (parse_km(optarg, &k, &m)) { fprintf(stderr, "approxmap: error: --config wants K,M with K in 0..2, M in 0..6\n"); goto done; }
            want[k][m] = 1;
            any = 1;
            break;
        case 'i':
            eo.input_slew = strtod(optarg, &end);
            if (*end || !(eo.input_slew >= 0)) { fprintf(stderr, "approxmap: error: --input-slew wants a time >= 0\n"); goto done; }
            break;
        case 'W': eo.wire_model = 0; break;
        case 'C':
            clock = strtod(optarg, &end);
            if (*end || !(clock > 0)) { fprintf(stderr, "approxmap: error: --clock wants a period > 0\n"); goto done; }
            break;
        case 'x': free(script); script = xstrdup(optarg); break;
        case 'k': keep = optarg; break;
        case 'o': out = optarg; break;
        case 'e':
            if (optind >= argc) { fprintf(stderr, "approxmap: error: --emit-verilog wants K M\n"); goto done; }
            {
                char *km = xasprintf("%s,%s", optarg, argv[optind]);
                int bad = parse_km(km, &k, &m);
                free(km);
                if (bad) { fprintf(stderr, "approxmap: error: --emit-verilog wants K in 0..2 and M in 0..6\n"); goto done; }
            }
            status = emit_verilog(k, m);
            goto done;
        case 'h': fputs(usage, stdout); status = CMD_EXIT_OK; goto done;
        default:
            fprintf(stderr, "approxmap: error: unknown option '%s'\n%s", argv[optind - 1], usage);
            goto done;
        }
    }
    if (optind < argc) { fprintf(stderr, "approxmap: error: unexpected argument '%s'\n", argv[optind]); goto done; }
    if (!any)
        for (int k = 0; k < NK; k++)
            for (int m = 0; m < NM; m++) want[k][m] = 1;
    want[0][0] = 1;
    status = CMD_EXIT_FAIL;

    char *libpath = datadir_resolve(liberty ? liberty : "pdk/sky130_fd_sc_hd__tt_025C_1v80.lib.gz");
    gate_lib *lib = NULL, *generic = gate_gen_lib();
    int8_t *a = NULL, *w = NULL;
    uint32_t *vec = NULL;
    size_t n = 0;
    char *version = NULL, *dir = NULL, *stream_desc = NULL;
    result res[NK][NM];
    memset(res, 0, sizeof res);
    if (access(script, R_OK) != 0) { msg_error(ST_EIO, "cannot read synthesis script '%s': %s", script, strerror(errno)); goto fail; }
    if (gate_lib_read(libpath, &lib)) goto fail;
    if (load_stream(stream, pairs, seed, &a, &w, &n)) goto fail;
    stream_desc = !strcmp(stream, "uniform")
        ? xasprintf("%zu uniform random int8 pairs (PCG32 seed %llu, stream %d)", n, seed, RNG_SEQ_GATE)
        : xasprintf("%zu int8 pairs from '%s'", n, stream);
    vec = xmalloc(n * sizeof *vec);
    if (keep) {
        if (mkdir(keep, 0777) != 0 && errno != EEXIST) { msg_error(ST_EIO, "cannot create '%s': %s", keep, strerror(errno)); goto fail; }
        dir = xstrdup(keep);
    } else {
        char tmpl[] = "/tmp/approxmap-char-XXXXXX";
        if (!mkdtemp(tmpl)) { msg_error(ST_EIO, "cannot create a temporary directory: %s", strerror(errno)); goto fail; }
        dir = xstrdup(tmpl);
    }
    fprintf(stderr, "characterize: %s (%s, %.2f V), %s\n", lib->name, lib->corner ? lib->corner : "?", lib->voltage,
            stream_desc);
    for (int k = 0; k < NK; k++)
        for (int m = 0; m < NM; m++) {
            if (!want[k][m]) continue;
            gate_net *gen = gate_gen_roup(generic, k, m);
            int ba = 0, bw = 0;
            long bad = gate_gen_check(gen, k, m, &ba, &bw);
            if (bad != 0) {
                msg_error(ST_EFORMAT, "generated roup_k%d_m%d differs from the closed form on %ld pairs (a=%d, w=%d)", k, m, bad, ba, bw);
                gate_net_free(gen);
                goto fail;
            }
            char *vp = xasprintf("%s/%s.v", dir, gen->name), *bp = xasprintf("%s/%s.blif", dir, gen->name);
            char *top = xstrdup(gen->name);
            FILE *f = fopen(vp, "w");
            int rc = f ? gate_net_write_verilog(gen, f) : msg_error(ST_EIO, "cannot write '%s': %s", vp, strerror(errno));
            if (f && fclose(f) != 0 && !rc) rc = msg_error(ST_EIO, "cannot write '%s': %s", vp, strerror(errno));
            gate_net_free(gen);
            gate_net *syn = NULL;
            if (!rc) rc = synthesize(script, libpath, vp, top, bp, &version);
            if (!rc) rc = gate_net_read_blif(bp, lib, &syn);
            if (!rc) {
                bad = gate_gen_check(syn, k, m, &ba, &bw);
                if (bad != 0)
                    rc = msg_error(ST_EFORMAT, "synthesized %s differs from the closed form on %ld pairs (a=%d, w=%d)", top, bad, ba, bw);
            }
            if (!rc) rc = gate_gen_pack(syn, a, w, n, vec);
            if (!rc) rc = measure(syn, vec, n, &eo, clock, &res[k][m]);
            if (!rc)
                fprintf(stderr, "  %s: %d cells, %.1f area, %.1f fJ zero-delay, %.1f fJ unit-delay\n", top,
                        res[k][m].cells, res[k][m].area, res[k][m].e_zero, res[k][m].e_unit);
            if (!keep) { unlink(vp); unlink(bp); }
            free(vp); free(bp); free(top);
            gate_net_free(syn);
            if (rc) goto fail;
        }
    printf("library %s, corner %s (%.2f V); %s; %s\n", lib->name, lib->corner ? lib->corner : "?", lib->voltage,
           stream_desc, version ? version : "");
    printf("exact design: %.1f fJ/op zero-delay, %.1f fJ/op unit-delay, area %.2f, %d cells, leakage %.3f fJ/op at %g ns\n",
           res[0][0].e_zero, res[0][0].e_unit, res[0][0].area, res[0][0].cells, res[0][0].leak, clock);
    print_table("relative energy, zero-delay (exact = 1.00)", res, 0);
    print_table("relative energy, unit-delay with glitches (exact = 1.00)", res, 1);
    print_table("relative area (exact = 1.00)", res, 2);
    print_table("cells", res, 3);
    if (out && write_yaml(out, res, lib, version ? version : "yosys", stream_desc, clock, &eo)) goto fail;
    if (out) printf("\nwrote %s\n", out);
    status = CMD_EXIT_OK;
fail:
    if (dir && !keep) rmdir(dir);
    free(dir);
    free(version);
    free(stream_desc);
    free(vec);
    free(a);
    free(w);
    gate_lib_free(lib);
    gate_lib_free(generic);
    free(libpath);
done:
    free(script);
    return status;
}
