/* Per-layer energy models: the energy per multiplication of every library multiplier in every
 * approximable layer, read from gate-level characterization (`approxmap characterize --layers`,
 * results/gate/layers_*.yaml). approx_energy() (approx.h) evaluates a map with one. */
#ifndef SRC_APPROX_ENERGY_MODEL_H
#define SRC_APPROX_ENERGY_MODEL_H

#include <stddef.h>
#include <stdint.h>

#include "amap.h"
#include "amul.h"

/* Energy per multiplication of every library multiplier in every layer, in one unit (fJ from
 * `approxmap characterize --layers`). Multipliers of the library that the file does not list are NAN. */
typedef struct energy_model {
    char *path;       /* the file it was read from */
    char *unit;       /* "fJ" */
    char *cell_library; /* provenance.cell_library or NULL */
    int n_layers, n_mults;
    double *e_layer;  /* n_layers x n_mults, e_layer[l * n_mults + i] (energy_eval's e_layer) */
    double *e_exact;  /* n_layers: the library's exact multiplier (energy_eval's e_exact) */
    int n_found;      /* library multipliers with a figure */
} energy_model;

/* Read a per-layer energy file (results/gate/layers_*.yaml, as energy_model_write() writes it):
 *   provenance: {free-form strings}
 *   layers:      - {name: L, macs: N, pairs: N}        # in the order of every fj list
 *   multipliers: - {name: M, fj: [one number per layer], network_relative: x, uniform_relative: x}
 * Layers match the model's by name (any order; every model layer must appear once, and `macs`, when
 * given, must equal the model's); multipliers match the library by name, and entries the library does
 * not hold are skipped (a file may describe a larger family). The library's exact multiplier must be
 * present with positive figures. Errors "path:line:col: what" (ST_EIO, ST_EPARSE, ST_EFORMAT); `out`
 * untouched on failure. Caller frees with energy_model_deinit(). */
int energy_model_load(const char *path, const amul_lib *lib, const amap_layer *layers, int n_layers,
                      energy_model *out);
void energy_model_deinit(energy_model *em);

/* What a per-layer energy file holds, for energy_model_write() (gate-level characterization fills it:
 * src/gate/gate_char.c). Every pointer is borrowed. */
typedef struct energy_model_file {
    const char *tool, *cell_library, *corner, *model, *stream, *uniform_stream; /* provenance strings */
    int run;                     /* longest run of consecutive pairs per sampled weight */
    int n_layers;
    const char *const *layer_names;
    const uint64_t *macs;        /* n_layers: MACs per image */
    const size_t *pairs;         /* n_layers: operand pairs measured */
    int n_mults;
    const char *const *mult_names;
    const double *network_rel;   /* n_mults: uniform map's whole-network energy relative to exact */
    const double *uniform_rel;   /* n_mults: the same multiplier on the uniform stream */
    const double *fj;            /* n_mults x n_layers: fJ per multiplication, fj[i * n_layers + l] */
} energy_model_file;

/* Write `f` to `path` atomically in the schema energy_model_load() reads, with comments on its
 * meaning. ST_OK or ST_EIO (reported). */
int energy_model_write(const char *path, const energy_model_file *f);

#endif
