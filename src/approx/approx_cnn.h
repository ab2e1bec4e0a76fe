/* The CNN set-up that search, export, eval and sweep share, written once: the quantized network
 * (and the float one on request), the multiplier library, the layer list as maps see it, an optional
 * per-layer energy model and optional error compensation statistics. Data sets and their exact
 * baselines belong to the evaluator (approx_eval.h).
 *
 * Order of the steps (and so of the first error reported): quantize MODEL on CALIB, check the model's
 * 10 outputs, load the library, the layer list, the energy model, the compensation statistics. */
#ifndef SRC_APPROX_CNN_H
#define SRC_APPROX_CNN_H

#include "amap.h"
#include "amul.h"
#include "approx_comp.h"
#include "energy_model.h"
#include "qnn_int8.h"
#include "qnn_model.h"
#include "qnn_quant.h"

typedef struct approx_cnn_opts {
    const char *model;        /* ONNX model (resolved against the data directory) */
    const char *calib;        /* calibration records FILE[:FIRST[:COUNT]] (training images) */
    qnn_quant_opts qo;        /* quantizer options */
    int want_float;           /* also keep the float model */
    int with_library;         /* 0: the exact network only (no library, layers, energy, compensation) */
    const char *library;      /* path or name (amul_lib_resolve); NULL: the default library */
    const char *energy;       /* per-layer energy model file, or NULL: the library's relative energies */
    int compensate;           /* -1 none, 1 per input channel, 0 per layer input (approx_comp_mode_parse) */
    int threads;              /* for the set-up's own passes (compensation statistics); <= 0: all cores */
    const char *where;        /* the problem file, named in messages; NULL: the command line */
} approx_cnn_opts;

/* Defaults: no float model, the library on, no energy model, no compensation, all threads. */
approx_cnn_opts approx_cnn_opts_default(void);

typedef struct approx_cnn {
    qnn_model *fmodel;        /* the float model (want_float) or NULL */
    qnn_int8_net *net;
    int has_lib;
    amul_lib lib;
    int n_layers;
    amap_layer *layers;       /* n_layers, names, weights and biases borrowed from net */
    int has_em;
    energy_model em;
    int has_comp;
    approx_comp comp;
} approx_cnn;

/* Build the set-up `o` describes. Errors are reported (ST_* codes); on failure `c` is left closed.
 * Caller frees with approx_cnn_close(). */
int approx_cnn_open(approx_cnn *c, const approx_cnn_opts *o);
void approx_cnn_close(approx_cnn *c);

/* The energy model in force, or NULL (the library's relative energies). */
static inline const energy_model *approx_cnn_em(const approx_cnn *c)
{
    return c->has_em ? &c->em : NULL;
}

#endif
