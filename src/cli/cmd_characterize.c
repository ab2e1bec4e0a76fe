/* approxmap characterize: gate-level energy of the 21 ROUP multipliers with an open flow (the pipeline
 * is src/gate/gate_char.h). Parses the options, runs gate_char over the wanted configurations and
 * prints the relative energy table (k x m), area and cell counts, the per-layer figures with --layers,
 * and writes the multiplier library (-o) and the per-layer energy model (--layers-out). */
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "cmd_util.h"
#include "gate_char.h"
#include "gate_gen.h"
#include "gate_net.h"
#include "msg.h"

#ifndef APPROXMAP_SRCDIR
#define APPROXMAP_SRCDIR "."
#endif

enum { NK = GATE_CHAR_NK, NM = GATE_CHAR_NM };

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

typedef struct args {
    gate_char_opts o;
    const char *out, *layers_out;
    char *script;
    int want[NK][NM];
} args;

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

/* --emit-verilog K M: print the generated Verilog of ROUP(K, M). */
static int emit_verilog(const char *ks, const char *ms)
{
    int k, m;
    char *km = xasprintf("%s,%s", ks, ms);
    int bad = parse_km(km, &k, &m);
    free(km);
    if (bad) {
        fprintf(stderr, "approxmap: error: --emit-verilog wants K in 0..2 and M in 0..6\n");
        return CMD_EXIT_USAGE;
    }
    gate_lib *g = gate_gen_lib();
    gate_net *n = gate_gen_roup(g, k, m);
    int rc = gate_net_write_verilog(n, stdout);
    gate_net_free(n);
    gate_lib_free(g);
    return rc ? CMD_EXIT_FAIL : CMD_EXIT_OK;
}

/* A usage error: print "approxmap: error: what" and return CMD_EXIT_USAGE. */
/* "bad --opt 'value': wants ..." (the value given is quoted back). */
static int bad_value(const char *opt, const char *value, const char *want)
{
    fprintf(stderr, "approxmap: error: bad %s '%s': wants %s\n", opt, value, want);
    return CMD_EXIT_USAGE;
}

/* Options into `a`; returns -1 to go on, else the exit status (help, --emit-verilog, usage errors). */
static int parse_args(int argc, char **argv, args *a)
{
    enum { O_LAYERS = 256, O_MODEL, O_CALIB, O_LIMG, O_LOUT };
    static const struct option opts[] = {
        { "liberty", required_argument, NULL, 'l' },   { "stream", required_argument, NULL, 's' },
        { "pairs", required_argument, NULL, 'n' },     { "seed", required_argument, NULL, 'S' },
        { "config", required_argument, NULL, 'c' },    { "input-slew", required_argument, NULL, 'i' },
        { "no-wire", no_argument, NULL, 'W' },         { "clock", required_argument, NULL, 'C' },
        { "synth-script", required_argument, NULL, 'x' }, { "keep", required_argument, NULL, 'k' },
        { "output", required_argument, NULL, 'o' },    { "layers", no_argument, NULL, O_LAYERS },
        { "model", required_argument, NULL, O_MODEL }, { "calib", required_argument, NULL, O_CALIB },
        { "layer-images", required_argument, NULL, O_LIMG }, { "layers-out", required_argument, NULL, O_LOUT },
        { "emit-verilog", required_argument, NULL, 'e' }, { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    int c, any = 0;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "o:h", opts, NULL)) != -1) {
        char *end = NULL;
        int k, m;
        switch (c) {
        case 'l': a->o.liberty = optarg; break;
        case 's': a->o.stream = optarg; break;
        case 'n':
            a->o.pairs = strtol(optarg, &end, 10);
            if (*end || a->o.pairs < 2 || a->o.pairs > 100000000) return bad_value("--pairs", optarg, "2..1e8");
            break;
        case 'S':
            a->o.seed = strtoull(optarg, &end, 10);
            if (*end) return bad_value("--seed", optarg, "an integer");
            break;
        case 'c':
            if (parse_km(optarg, &k, &m)) return bad_value("--config", optarg, "K,M with K in 0..2, M in 0..6");
            a->want[k][m] = 1;
            any = 1;
            break;
        case 'i':
            a->o.eo.input_slew = strtod(optarg, &end);
            if (*end || !(a->o.eo.input_slew >= 0)) return bad_value("--input-slew", optarg, "a time >= 0");
            break;
        case 'W': a->o.eo.wire_model = 0; break;
        case 'C':
            a->o.clock = strtod(optarg, &end);
            if (*end || !(a->o.clock > 0)) return bad_value("--clock", optarg, "a period > 0");
            break;
        case 'x': free(a->script); a->script = xstrdup(optarg); break;
        case 'k': a->o.keep = optarg; break;
        case 'o': a->out = optarg; break;
        case O_LAYERS: a->o.layers = 1; break;
        case O_MODEL: a->o.model = optarg; break;
        case O_CALIB: a->o.calib = optarg; break;
        case O_LIMG:
            a->o.layer_images = (int)strtol(optarg, &end, 10);
            if (*end || a->o.layer_images < 1 || a->o.layer_images > 10000) return bad_value("--layer-images", optarg, "1..10000");
            break;
        case O_LOUT: a->layers_out = optarg; a->o.layers = 1; break;
        case 'e':
            if (optind >= argc) return bad_value("--emit-verilog", optarg, "K M");
            return emit_verilog(optarg, argv[optind]);
        case 'h': fputs(usage, stdout); return CMD_EXIT_OK;
        default:
            fprintf(stderr, "approxmap: error: unknown option '%s'\n%s", argv[optind - 1], usage);
            return CMD_EXIT_USAGE;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "approxmap: error: unexpected argument '%s'\n", argv[optind]);
        return CMD_EXIT_USAGE;
    }
    for (int k = 0; k < NK; k++)
        for (int m = 0; m < NM; m++) a->want[k][m] |= !any;
    a->want[0][0] = 1;
    if (a->o.layers && a->o.calib && cmd_check_range("characterize", "--calib", a->o.calib)) return CMD_EXIT_USAGE;
    return -1;
}

enum { T_ZERO, T_UNIT, T_AREA, T_CELLS, T_NETWORK };

/* One k x m table, stream 0 relative to exact: zero-delay energy, unit-delay energy, area, cells
 * (absolute), or the whole-network relative energy of the uniform maps against the uniform stream's. */
static void print_table(const gate_char *c, const char *title, int which)
{
    const gate_char_result *ex = gate_char_at(c, 0, 0, 0);
    printf("\n%s\n| k \\ m |", title);
    for (int m = 0; m < NM; m++) printf(" %d |", m);
    printf("\n|---|");
    for (int m = 0; m < NM; m++) printf("---|");
    printf("\n");
    for (int k = 0; k < NK; k++) {
        printf("| %d |", k);
        for (int m = 0; m < NM; m++) {
            const gate_char_result *r = gate_char_at(c, 0, k, m);
            if (!r->done) { printf(" - |"); continue; }
            if (which == T_CELLS) {
                printf(" %d |", r->cells);
            } else if (which == T_NETWORK) {
                double nr = gate_char_network_rel(c, k, m), ur = r->e_zero / ex->e_zero;
                printf(" %.2f / %.2f (%+.2f) |", nr, ur, nr - ur);
            } else {
                printf(" %.2f |", which == T_ZERO ? r->e_zero / ex->e_zero : which == T_UNIT ? r->e_unit / ex->e_unit
                                                                          : r->area / ex->area);
            }
        }
        printf("\n");
    }
}

/* The per-layer figures and the whole-network table of the uniform maps. */
static void print_layers(const gate_char *c)
{
    printf("\nper-layer streams (%d calibration images, weight-stationary order): exact fJ/op per layer\n",
           c->o.layer_images);
    for (int s = 1; s < c->ns; s++) {
        const gate_char_result *ex = gate_char_at(c, s, 0, 0), *r = gate_char_at(c, s, 2, 6);
        printf("  %-28s %10llu MACs %7zu pairs  exact %7.1f fJ  k2m6 %.3f rel\n", c->st[s].name,
               (unsigned long long)c->st[s].macs, c->st[s].n, ex->e_zero, r->done ? r->e_zero / ex->e_zero : NAN);
    }
    printf("exact multiplier, MAC-weighted over the network: %.1f fJ/op (uniform stream: %.1f)\n",
           gate_char_network_exact(c), gate_char_at(c, 0, 0, 0)->e_zero);
    print_table(c, "uniform maps, whole-network relative energy: per-layer streams / uniform stream (difference)",
                T_NETWORK);
}

/* Measure every wanted configuration, print the figures, write the files. */
static int run(const args *a)
{
    gate_char *c = NULL;
    if (gate_char_open(&a->o, &c)) return CMD_EXIT_FAIL;
    const gate_lib *lib = c->lib;
    int status = CMD_EXIT_FAIL;
    fprintf(stderr, "characterize: %s (%s, %.2f V), %s%s\n", lib->name, lib->corner ? lib->corner : "?", lib->voltage,
            c->st[0].name, a->o.layers ? ", and per-layer streams" : "");
    for (int k = 0; k < NK; k++)
        for (int m = 0; m < NM; m++) {
            if (!a->want[k][m]) continue;
            if (gate_char_measure(c, k, m)) goto fail;
            const gate_char_result *r = gate_char_at(c, 0, k, m);
            fprintf(stderr, "  roup_k%d_m%d: %d cells, %.1f area, %.1f fJ zero-delay, %.1f fJ unit-delay\n", k, m,
                    r->cells, r->area, r->e_zero, r->e_unit);
        }
    const gate_char_result *ex = gate_char_at(c, 0, 0, 0);
    printf("library %s, corner %s (%.2f V); %s; %s\n", lib->name, lib->corner ? lib->corner : "?", lib->voltage,
           c->st[0].name, c->version ? c->version : "");
    printf("exact design: %.1f fJ/op zero-delay, %.1f fJ/op unit-delay, area %.2f, %d cells, leakage %.3f fJ/op at %g ns\n",
           ex->e_zero, ex->e_unit, ex->area, ex->cells, ex->leak, a->o.clock);
    print_table(c, "relative energy, zero-delay (exact = 1.00)", T_ZERO);
    print_table(c, "relative energy, unit-delay with glitches (exact = 1.00)", T_UNIT);
    print_table(c, "relative area (exact = 1.00)", T_AREA);
    print_table(c, "cells", T_CELLS);
    if (a->out) {
        if (gate_char_write_library(c, a->out)) goto fail;
        printf("\nwrote %s\n", a->out);
    }
    if (a->o.layers) {
        print_layers(c);
        if (a->layers_out) {
            if (gate_char_write_layers(c, a->layers_out)) goto fail;
            printf("\nwrote %s\n", a->layers_out);
        }
    }
    status = CMD_EXIT_OK;
fail:
    gate_char_free(c);
    return status;
}

int cmd_characterize(int argc, char **argv)
{
    args a = {
        .o = { .liberty = "pdk/sky130_fd_sc_hd__tt_025C_1v80.lib.gz", .stream = "uniform", .pairs = 20000, .seed = 1,
               .eo = { .input_slew = 0.05, .wire_model = 1 }, .clock = 5,
               .model = "models/resnet8_mlperf_float.onnx",
               .calib = "cifar10/cifar-10-batches-bin/data_batch_1.bin:0:500", .layer_images = 8 },
        .script = xasprintf("%s/scripts/synth.sh", APPROXMAP_SRCDIR),
    };
    int status = parse_args(argc, argv, &a);
    if (status < 0) {
        a.o.script = a.script;
        status = run(&a);
    }
    free(a.script);
    return status;
}
