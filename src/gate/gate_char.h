/* Characterization of the 21 ROUP multipliers (k = 0..2, m = 0..6) with an open flow: the pipeline
 * behind `approxmap characterize` as a library.
 *
 * For each (k, m): generate the Booth netlist (gate_gen), check it on all 65,536 pairs, write it as
 * Verilog, synthesize it with a script (scripts/synth.sh: yosys + ABC onto the Liberty library), read
 * the BLIF back, check the synthesized netlist on all 65,536 pairs again, then simulate it on every
 * operand stream: zero-delay energy (the figure), unit-delay energy (glitch-inclusive upper bound),
 * leakage at the stated clock.
 *
 * Streams: stream 0 is `uniform` (pairs drawn from PCG32, seed, stream GATE_CHAR_RNG_SEQ) or a file of
 * binary int8 pairs (a, w), 2 bytes per pair, in the order the hardware sees them. With `layers`,
 * streams 1.. are one per approximable layer of the exact int8 network, from calibration (training)
 * images, in weight-stationary order: a processing element holds one weight w[co][kh][kw][ci] while
 * the activations of its tap stream past it, output pixel by output pixel in raster order (oh, ow),
 * image after image (padding taps deliver a = 0, as the hardware computes them). Each layer's stream
 * is a sample of that sequence: runs of up to GATE_CHAR_LAYER_RUN consecutive pairs for evenly spaced
 * weights (in (co, kh, kw, ci) order), each run starting at a PCG32-drawn position (stream
 * GATE_CHAR_RNG_SEQ + 1), until the layer has `pairs` pairs.
 *
 * Outputs: a multiplier library (problems/multipliers/README.md schema) and a per-layer energy model
 * (results/gate/layers_*.yaml, through energy_model_write beside its reader in src/approx). */
#ifndef SRC_GATE_CHAR_H
#define SRC_GATE_CHAR_H

#include <stddef.h>
#include <stdint.h>

#include "gate_lib.h"
#include "gate_sim.h"

enum { GATE_CHAR_NK = 3, GATE_CHAR_NM = 7, GATE_CHAR_RNG_SEQ = 6, GATE_CHAR_LAYER_RUN = 512 };

typedef struct gate_char_opts {
    const char *liberty;     /* cell library, resolved against the data directory */
    const char *stream;      /* "uniform" or a file of int8 pairs (resolved likewise) */
    long pairs;              /* uniform pairs; for a file at most this many; per-layer pairs */
    uint64_t seed;           /* of the uniform stream and of the layer-run starts */
    const char *script;      /* synthesis script: sh SCRIPT LIB VERILOG TOP BLIF */
    const char *keep;        /* directory that keeps the Verilog and BLIF files, or NULL (temporary) */
    gate_energy_opts eo;
    double clock;            /* ns, for the leakage figure */
    int layers;              /* add the per-layer streams */
    const char *model;       /* ONNX model for the layer streams */
    const char *calib;       /* calibration records (training images) */
    int layer_images;        /* images whose activations form the layer streams */
} gate_char_opts;

typedef struct gate_char_result {
    int done;                /* measured */
    double e_zero, e_unit;   /* fJ per operation, zero-delay / unit-delay */
    double leak;             /* fJ per operation at the clock */
    double area;
    int cells;
} gate_char_result;

typedef struct gate_char_stream {
    char *name;              /* description of stream 0, or the layer name */
    int8_t *a, *w;           /* n operand pairs */
    size_t n;
    uint64_t macs;           /* layers: MACs per image (padding taps included); else 0 */
} gate_char_stream;

typedef struct gate_char {
    gate_char_opts o;        /* borrowed strings */
    char *libpath;           /* the resolved Liberty path */
    gate_lib *lib;           /* the cell library */
    char *version;           /* the synthesis tool's version line (after the first synthesis), or NULL */
    int ns;                  /* streams: 0 = uniform or file, 1.. = layers */
    gate_char_stream *st;
    gate_char_result *res;   /* ns x NK x NM, see gate_char_at() */
    /* private */
    gate_lib *generic;
    char *dir;
    uint32_t *vec;
} gate_char;

/* Check the script, read the library, build the streams and the work directory. Errors reported
 * (ST_EIO, ST_EPARSE, ST_EFORMAT); *out untouched on failure. Caller frees with gate_char_free(). */
int gate_char_open(const gate_char_opts *o, gate_char **out);
void gate_char_free(gate_char *c);

/* Generate, check, synthesize, check and measure ROUP(k, m) on every stream. Errors reported: a
 * netlist that differs from the closed form (ST_EFORMAT), synthesis or file failures (ST_EIO). */
int gate_char_measure(gate_char *c, int k, int m);

/* Result of (k, m) on stream s. */
static inline gate_char_result *gate_char_at(const gate_char *c, int s, int k, int m)
{
    return &c->res[(s * GATE_CHAR_NK + k) * GATE_CHAR_NM + m];
}

/* Whole-network relative energy of the uniform map "every layer on (k, m)": sum_l MACs_l e(k,m,l)
 * over the same sum for the exact multiplier (layer streams only). */
double gate_char_network_rel(const gate_char *c, int k, int m);

/* The exact multiplier's energy per operation averaged over the layers, weighted by their MACs. */
double gate_char_network_exact(const gate_char *c);

/* Write the measured multipliers as a multiplier library (YAML, atomically). */
int gate_char_write_library(const gate_char *c, const char *path);

/* Write the per-layer energy model (YAML, atomically; needs the layer streams). */
int gate_char_write_layers(const gate_char *c, const char *path);

#endif
