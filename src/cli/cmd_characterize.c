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
 * dump from the int8 engine).
 *
 * --layers adds one stream per approximable layer of the exact int8 ResNet-8, from calibration
 * (training) images, in weight-stationary order: a processing element holds one weight
 * w[co][kh][kw][ci] while the activations of its tap stream past it, output pixel by output pixel in
 * raster order (oh, ow), image after image (padding taps deliver a = 0, as the hardware computes
 * them). Each layer's stream is a sample of that sequence: runs of up to 512 consecutive pairs for
 * evenly spaced weights (in (co, kh, kw, ci) order), each run starting at a PCG32-drawn position, until
 * the layer has --pairs pairs. The per-layer figures go to --layers-out, with the whole-network energy
 * of every uniform map (all layers on one multiplier, weighted by each layer's MACs) against the
 * uniform-stream figure. */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "afile.h"
#include "cifar.h"
#include "cmd.h"
#include "datadir.h"
#include "gate_gen.h"
#include "gate_lib.h"
#include "gate_net.h"
#include "gate_sim.h"
#include "msg.h"
#include "qnn_int8.h"
#include "qnn_quant.h"
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
    "  --layers            also measure on per-layer operand streams of the exact int8 ResNet-8\n"
    "                      (weight-stationary order, calibration images; see --layers-out)\n"
    "  --model M           ONNX model for --layers (default models/resnet8_mlperf_float.onnx)\n"
    "  --calib SPEC        calibration records for --layers, training images only\n"
    "                      (default cifar10/cifar-10-batches-bin/data_batch_1.bin:0:500)\n"
    "  --layer-images N    calibration images whose activations form the layer streams (default 8)\n"
    "  --layers-out FILE   write the per-layer energy model (YAML)\n"
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

typedef struct opstream {
    char *name;      /* "uniform", the file, or the layer name */
    int8_t *a, *w;
    size_t n;
    uint64_t macs;   /* layers: MACs per image (padding taps included); else 0 */
} opstream;

static void opstream_deinit(opstream *o)
{
    free(o->name);
    free(o->a);
    free(o->w);
}

enum { LAYER_RUN = 512 };

/* Per-layer weight-stationary streams of the exact int8 network (order in the file comment). */
static int layer_streams(const char *model, const char *calib, int nimg, long pairs, uint64_t seed, opstream **out,
                         int *count)
{
    qnn_int8_net *net = NULL;
    qnn_quant_opts qo = qnn_quant_opts_default();
    cifar_set set = { 0 };
    int rc = qnn_quant_load(model, calib, &qo, NULL, &net);
    if (!rc) rc = cifar_load_range(calib, &set);
    if (rc) { qnn_int8_net_free(net); return rc; }
    if (nimg > set.n) nimg = set.n;
    qnn_int8_ws *ws = qnn_int8_ws_alloc(net, nimg);
    qnn_int8_set_input(net, ws, set.pixels, nimg);
    qnn_int8_forward(net, ws, 0, NULL);
    rng_pcg32 r;
    rng_seed(&r, seed, RNG_SEQ_GATE + 1);
    opstream *st = xcalloc((size_t)net->n_layers, sizeof *st);
    for (int l = 0; l < net->n_layers; l++) {
        const qnn_int8_layer *L = &net->layers[l];
        const qnn_int8_op *op = &net->ops[L->op_index];
        const int8_t *in = qnn_int8_ws_tensor(ws, op->in[0]);
        size_t img_bytes = qnn_int8_tensor_bytes(net, op->in[0]);
        ASSERT(img_bytes == (size_t)L->h * L->w * L->cin);
        uint64_t nw = (uint64_t)L->cout * L->kh * L->kw * L->cin;
        uint64_t per_w = (uint64_t)nimg * L->ho * L->wo;  /* pairs each weight sees */
        uint64_t run = per_w < LAYER_RUN ? per_w : LAYER_RUN;
        uint64_t nsel = ((uint64_t)pairs + run - 1) / run;
        if (nsel > nw) nsel = nw;
        opstream *o = &st[l];
        o->name = xstrdup(L->name);
        o->macs = L->macs;
        o->n = (size_t)(nsel * run);
        o->a = xmalloc(o->n);
        o->w = xmalloc(o->n);
        size_t t = 0;
        for (uint64_t j = 0; j < nsel; j++) {
            uint64_t widx = j * nw / nsel;  /* evenly spaced weights, (co, kh, kw, ci) order */
            int32_t ci = (int32_t)(widx % L->cin), kw = (int32_t)(widx / L->cin % L->kw);
            int32_t kh = (int32_t)(widx / ((uint64_t)L->cin * L->kw) % L->kh);
            int8_t wv = L->weights[widx];
            uint64_t start = per_w > run ? rng_bounded(&r, (uint32_t)(per_w - run + 1)) : 0;
            for (uint64_t q = start; q < start + run; q++) {
                int32_t img = (int32_t)(q / ((uint64_t)L->ho * L->wo));
                int32_t pos = (int32_t)(q % ((uint64_t)L->ho * L->wo));
                int32_t ih = pos / L->wo * L->stride_h - L->pad_t + kh, iw = pos % L->wo * L->stride_w - L->pad_l + kw;
                int8_t av = 0;
                if (ih >= 0 && ih < L->h && iw >= 0 && iw < L->w)
                    av = in[(size_t)img * img_bytes + ((size_t)ih * L->w + iw) * L->cin + ci];
                o->a[t] = av;
                o->w[t] = wv;
                t++;
            }
        }
    }
    *count = net->n_layers;
    *out = st;
    qnn_int8_ws_free(ws);
    cifar_set_deinit(&set);
    qnn_int8_net_free(net);
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

/* Whole-network relative energy of the uniform map "every layer on (k, m)": sum_l MACs_l e(k,m,l) over
 * the same sum for the exact multiplier. res is indexed [stream][k][m]; layer streams are 1..ns-1. */
static double network_rel(const result *res, const opstream *st, int ns, int k, int m)
{
    double num = 0, den = 0;
    for (int s = 1; s < ns; s++) {
        num += (double)st[s].macs * res[(s * NK + k) * NM + m].e_zero;
        den += (double)st[s].macs * res[(s * NK + 0) * NM + 0].e_zero;
    }
    return num / den;
}

static int write_layers_yaml(const char *path, const result *res, const opstream *st, int ns, const gate_lib *lib,
                             const char *version, const char *model, const char *calib, int nimg)
{
    afile *af = afile_open(path);
    if (!af) return ST_EIO;
    FILE *f = afile_stream(af);
    fprintf(f, "# Per-layer energy per multiplication (fJ, zero-delay) of the ROUP multipliers on the operand\n");
    fprintf(f, "# streams the exact int8 network feeds each approximable layer, written by\n");
    fprintf(f, "# `approxmap characterize --layers`. Energy of a map = sum over kernels of MACs x fj[layer].\n");
    fprintf(f, "# Stream order: weight-stationary (one weight held, activations of its tap streamed output pixel\n");
    fprintf(f, "# by output pixel in raster order, image after image; padding taps give a = 0); per layer, runs of\n");
    fprintf(f, "# up to %d consecutive pairs for evenly spaced weights, each from a PCG32-drawn start.\n", LAYER_RUN);
    fprintf(f, "# fj lists follow the order of `layers`; network_relative is the uniform map's whole-network\n");
    fprintf(f, "# energy (MAC-weighted) relative to exact, uniform_relative the same multiplier on the uniform stream.\n");
    fprintf(f, "provenance:\n");
    fprintf(f, "  tool: \"%s; synth -flatten + abc -liberty; approxmap gate_sim zero-delay\"\n", version);
    fprintf(f, "  cell_library: \"%s\"\n", lib->name);
    fprintf(f, "  corner: \"%s, %.2f V\"\n", lib->corner ? lib->corner : "unknown", lib->voltage);
    fprintf(f, "  model: \"%s\"\n", model);
    fprintf(f, "  stream: \"exact int8 activations of %d images of %s (calibration, training images)\"\n", nimg, calib);
    fprintf(f, "  uniform_stream: \"%s\"\n", st[0].name);
    fprintf(f, "layers:\n");
    for (int s = 1; s < ns; s++) fprintf(f, "  - {name: %s, macs: %llu, pairs: %zu}\n", st[s].name, (unsigned long long)st[s].macs, st[s].n);
    fprintf(f, "multipliers:\n");
    const result *ex0 = &res[0];
    for (int k = 0; k < NK; k++)
        for (int m = 0; m < NM; m++) {
            if (!res[k * NM + m].done) continue;
            fprintf(f, "  - {name: roup_k%d_m%d, network_relative: %.4f, uniform_relative: %.4f,\n     fj: [", k, m,
                    network_rel(res, st, ns, k, m), res[k * NM + m].e_zero / ex0->e_zero);
            for (int s = 1; s < ns; s++) fprintf(f, "%s%.2f", s > 1 ? ", " : "", res[(s * NK + k) * NM + m].e_zero);
            fprintf(f, "]}\n");
        }
    return afile_commit(af);
}

int cmd_characterize(int argc, char **argv)
{
    enum { O_LAYERS = 256, O_MODEL, O_CALIB, O_LIMG, O_LOUT };
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
        { "layers", no_argument, NULL, O_LAYERS },
        { "model", required_argument, NULL, O_MODEL },
        { "calib", required_argument, NULL, O_CALIB },
        { "layer-images", required_argument, NULL, O_LIMG },
        { "layers-out", required_argument, NULL, O_LOUT },
        { "emit-verilog", required_argument, NULL, 'e' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    const char *liberty = NULL, *stream = "uniform", *out = NULL, *keep = NULL, *layers_out = NULL;
    const char *model = "models/resnet8_mlperf_float.onnx", *calib = "cifar10/cifar-10-batches-bin/data_batch_1.bin:0:500";
    char *script = xasprintf("%s/scripts/synth.sh", APPROXMAP_SRCDIR);
    long pairs = 20000, layer_images = 8;
    unsigned long long seed = 1;
    int want[NK][NM] = { { 0 } }, any = 0, layers = 0;
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
        case O_LAYERS: layers = 1; break;
        case O_MODEL: model = optarg; break;
        case O_CALIB: calib = optarg; break;
        case O_LIMG:
            layer_images = strtol(optarg, &end, 10);
            if (*end || layer_images < 1 || layer_images > 10000) { fprintf(stderr, "approxmap: error: --layer-images wants 1..10000\n"); goto done; }
            break;
        case O_LOUT: layers_out = optarg; layers = 1; break;
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
    uint32_t *vec = NULL;
    size_t maxn = 0;
    char *version = NULL, *dir = NULL;
    opstream *st = xcalloc(1, sizeof *st);
    int ns = 1;
    result *res = NULL;
    if (access(script, R_OK) != 0) { msg_error(ST_EIO, "cannot read synthesis script '%s': %s", script, strerror(errno)); goto fail; }
    if (gate_lib_read(libpath, &lib)) goto fail;
    if (load_stream(stream, pairs, seed, &st[0].a, &st[0].w, &st[0].n)) goto fail;
    st[0].name = !strcmp(stream, "uniform")
        ? xasprintf("%zu uniform random int8 pairs (PCG32 seed %llu, stream %d)", st[0].n, seed, RNG_SEQ_GATE)
        : xasprintf("%zu int8 pairs from '%s'", st[0].n, stream);
    if (layers) {
        opstream *ls = NULL;
        int nl = 0;
        if (layer_streams(model, calib, (int)layer_images, pairs, seed, &ls, &nl)) goto fail;
        st = xrealloc(st, (size_t)(1 + nl) * sizeof *st);
        memcpy(st + 1, ls, (size_t)nl * sizeof *ls);
        free(ls);
        ns = 1 + nl;
    }
    for (int s = 0; s < ns; s++) if (st[s].n > maxn) maxn = st[s].n;
    vec = xmalloc(maxn * sizeof *vec);
    res = xcalloc((size_t)ns * NK * NM, sizeof *res);
    if (keep) {
        if (mkdir(keep, 0777) != 0 && errno != EEXIST) { msg_error(ST_EIO, "cannot create '%s': %s", keep, strerror(errno)); goto fail; }
        dir = xstrdup(keep);
    } else {
        char tmpl[] = "/tmp/approxmap-char-XXXXXX";
        if (!mkdtemp(tmpl)) { msg_error(ST_EIO, "cannot create a temporary directory: %s", strerror(errno)); goto fail; }
        dir = xstrdup(tmpl);
    }
    fprintf(stderr, "characterize: %s (%s, %.2f V), %s%s\n", lib->name, lib->corner ? lib->corner : "?", lib->voltage,
            st[0].name, layers ? ", and per-layer streams" : "");
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
            for (int s = 0; s < ns && !rc; s++) {
                rc = gate_gen_pack(syn, st[s].a, st[s].w, st[s].n, vec);
                if (!rc) rc = measure(syn, vec, st[s].n, &eo, clock, &res[(s * NK + k) * NM + m]);
            }
            if (!rc)
                fprintf(stderr, "  %s: %d cells, %.1f area, %.1f fJ zero-delay, %.1f fJ unit-delay\n", top,
                        res[k * NM + m].cells, res[k * NM + m].area, res[k * NM + m].e_zero, res[k * NM + m].e_unit);
            if (!keep) { unlink(vp); unlink(bp); }
            free(vp); free(bp); free(top);
            gate_net_free(syn);
            if (rc) goto fail;
        }
    printf("library %s, corner %s (%.2f V); %s; %s\n", lib->name, lib->corner ? lib->corner : "?", lib->voltage,
           st[0].name, version ? version : "");
    printf("exact design: %.1f fJ/op zero-delay, %.1f fJ/op unit-delay, area %.2f, %d cells, leakage %.3f fJ/op at %g ns\n",
           res[0].e_zero, res[0].e_unit, res[0].area, res[0].cells, res[0].leak, clock);
    {
        result (*grid)[NM] = (result (*)[NM])res;
        print_table("relative energy, zero-delay (exact = 1.00)", grid, 0);
        print_table("relative energy, unit-delay with glitches (exact = 1.00)", grid, 1);
        print_table("relative area (exact = 1.00)", grid, 2);
        print_table("cells", grid, 3);
        if (out && write_yaml(out, grid, lib, version ? version : "yosys", st[0].name, clock, &eo)) goto fail;
    }
    if (out) printf("\nwrote %s\n", out);
    if (layers) {
        printf("\nper-layer streams (%ld calibration images, weight-stationary order): exact fJ/op per layer\n", layer_images);
        for (int s = 1; s < ns; s++)
            printf("  %-28s %10llu MACs %7zu pairs  exact %7.1f fJ  k2m6 %.3f rel\n", st[s].name,
                   (unsigned long long)st[s].macs, st[s].n, res[(s * NK) * NM].e_zero,
                   res[(s * NK + 2) * NM + 6].done ? res[(s * NK + 2) * NM + 6].e_zero / res[(s * NK) * NM].e_zero : NAN);
        double num = 0, den = 0;
        for (int s = 1; s < ns; s++) { num += (double)st[s].macs * res[(s * NK) * NM].e_zero; den += (double)st[s].macs; }
        printf("exact multiplier, MAC-weighted over the network: %.1f fJ/op (uniform stream: %.1f)\n", num / den, res[0].e_zero);
        printf("\nuniform maps, whole-network relative energy: per-layer streams / uniform stream (difference)\n| k \\ m |");
        for (int m = 0; m < NM; m++) printf(" %d |", m);
        printf("\n|---|");
        for (int m = 0; m < NM; m++) printf("---|");
        printf("\n");
        for (int k = 0; k < NK; k++) {
            printf("| %d |", k);
            for (int m = 0; m < NM; m++) {
                if (!res[k * NM + m].done) { printf(" - |"); continue; }
                double nr = network_rel(res, st, ns, k, m), ur = res[k * NM + m].e_zero / res[0].e_zero;
                printf(" %.2f / %.2f (%+.2f) |", nr, ur, nr - ur);
            }
            printf("\n");
        }
        if (layers_out) {
            if (write_layers_yaml(layers_out, res, st, ns, lib, version ? version : "yosys", model, calib, (int)layer_images))
                goto fail;
            printf("\nwrote %s\n", layers_out);
        }
    }
    status = CMD_EXIT_OK;
fail:
    if (dir && !keep) rmdir(dir);
    free(dir);
    free(version);
    for (int s = 0; s < ns; s++) opstream_deinit(&st[s]);
    free(st);
    free(res);
    free(vec);
    gate_lib_free(lib);
    gate_lib_free(generic);
    free(libpath);
done:
    free(script);
    return status;
}
