/* Approximation maps: which library multiplier each kernel (layer, output channel, input channel) of
 * every approximable layer uses; their expansion from search genomes; their YAML form; and the
 * builder that turns a map into the per-layer multiplier hooks (qnn_layer_mul) the engine obeys.
 *
 * A map is one uint16 multiplier index per kernel, stored layer after layer, each layer row-major
 * (cout, cin): kernel (l, co, ci) is mult[offset[l] + co * cin + ci]. Layer and filter maps are maps
 * with repeated entries. The layer list (amap_layer) is a plain description that the engine fills,
 * so this module depends on no executor.
 *
 * YAML form (documented with examples in problems/multipliers/README.md):
 *   library: roup8                # optional, informational
 *   default: roup_k0_m0           # optional: layers not listed below
 *   layers:
 *     conv1: roup_k1_m2           # a whole layer
 *     conv2:
 *       default: roup_k0_m3       # the layer's default (required in this long form)
 *       filters: {3: roup_k2_m6}  # output channel -> multiplier, or a list of cout names
 *       kernels: {"3,5": roup_k0_m0}   # "co,ci" -> multiplier, or a list of cout lists of cin names
 *       bias_delta: [12, -3, ...]      # optional: cout int32 added to the layer's bias (compensation)
 *       weights: "0afe..."             # optional: the int8 weights the multipliers get instead of the
 *                                      # layer's own, (cout, kh, kw, cin), two hex digits each (tuning)
 * Later levels override earlier ones (default < filters < kernels). */
#ifndef SRC_AMAP_H
#define SRC_AMAP_H

#include <stddef.h>
#include <stdio.h>
#include <stdint.h>

#include "amul.h"
#include "qnn_mul.h"

/* One approximable layer as the map sees it. A dense layer is cin inputs, cout outputs, kh = kw = 1. */
typedef struct amap_layer {
    const char *name;    /* borrowed; unique within the list */
    int32_t cin, cout, kh, kw;
    uint64_t macs;       /* multiply-accumulates per image for the whole layer, padding taps included:
                          * ho * wo * kh * kw * cin * cout (so a kernel does macs / (cout * cin)) */
    const int8_t *w;     /* borrowed int8 weights (cout, kh, kw, cin); may be NULL except for the builder */
    const int32_t *bias; /* borrowed int32 bias (cout) that a map's bias_delta adds to; NULL: zero */
} amap_layer;

typedef enum amap_granularity { AMAP_LAYER = 0, AMAP_FILTER = 1, AMAP_KERNEL = 2 } amap_granularity;

typedef struct amap {
    int n_layers;
    size_t *offset;    /* n_layers + 1 kernel offsets; offset[n_layers] = number of kernels */
    uint16_t *mult;    /* offset[n_layers] multiplier indices into the library */
    size_t *boffset;   /* n_layers + 1 output-channel offsets */
    int32_t *bias_delta; /* NULL, or boffset[n_layers] int32 deltas added to the layers' biases (error
                          * compensation chosen with the map; YAML key `bias_delta`) */
    size_t *woffset;   /* n_layers + 1 weight offsets (cout * kh * kw * cin per layer) */
    int8_t *wt;        /* NULL, or woffset[n_layers] stored weights that replace the layers' own (weight
                        * tuning chosen with the map: what the multipliers are given instead of w) */
} amap;

/* --- storage ----------------------------------------------------------------------------------- */

/* Size `m` for `layers` and set every kernel to multiplier `fill`. Caller frees with amap_deinit(). */
void amap_init(amap *m, const amap_layer *layers, int n_layers, uint16_t fill);
void amap_deinit(amap *m);

/* The (cout, cin) block of layer l. */
static inline uint16_t *amap_layer_mults(const amap *m, int l)
{
    return m->mult + m->offset[l];
}

/* Layer l's bias deltas (cout entries) for writing, allocating zeroed deltas for every layer on first
 * use; amap_bias_delta() is the read-only view (NULL when the map has none). */
int32_t *amap_bias_delta_w(amap *m, int l);
static inline const int32_t *amap_bias_delta(const amap *m, int l)
{
    return m->bias_delta ? m->bias_delta + m->boffset[l] : NULL;
}

/* Layer l's stored weights for writing (cout, kh, kw, cin), allocating them for every layer as a copy
 * of the layers' own weights on first use; amap_wt() is the read-only view (NULL when the map has none). */
int8_t *amap_wt_w(amap *m, int l, const amap_layer *layers);
static inline const int8_t *amap_wt(const amap *m, int l)
{
    return m->wt ? m->wt + m->woffset[l] : NULL;
}

/* Name of a granularity ("layer", "filter", "kernel") and its inverse (-1 when unknown). */
const char *amap_granularity_name(amap_granularity g);
int amap_granularity_parse(const char *s);

/* Genes in a genome of granularity `g`: n_layers, sum of cout, or sum of cout * cin. */
size_t amap_genome_len(const amap_layer *layers, int n_layers, amap_granularity g);

/* Expand a genome of multiplier indices into `m` (already sized by amap_init for the same layers).
 * layer: genome[l] for every kernel of layer l; filter: one gene per output channel, layers in order;
 * kernel: one gene per kernel in map order. Every gene must be a valid index (asserted < 65536). */
void amap_expand_layer(amap *m, const int *genome);
void amap_expand_filter(amap *m, const amap_layer *layers, const int *genome);
void amap_expand_kernel(amap *m, const int *genome);
void amap_expand(amap *m, const amap_layer *layers, amap_granularity g, const int *genome);

/* 1 when every kernel of the map uses a multiplier with index < n_mults. */
int amap_valid(const amap *m, int n_mults);

/* --- YAML -------------------------------------------------------------------------------------- */

/* Read a map for `layers` with multiplier names from `lib`. Rejects unknown layers, channels outside
 * the layer, unknown multipliers, unknown keys, wrong types, and layers left without a multiplier,
 * each with "path:line:col: what". Returns ST_OK / ST_EIO / ST_EPARSE / ST_EFORMAT; on error `m`
 * is untouched. Caller frees with amap_deinit(). */
int amap_read(amap *m, const char *path, const amul_lib *lib, const amap_layer *layers, int n_layers);

/* Write `m` atomically in the compact form: per layer the most frequent multiplier as default, filter
 * overrides where a filter's most frequent multiplier differs, kernel overrides for the rest (as
 * "co,ci" entries, or as the full cout x cin matrix of names when more than half the kernels differ
 * from their filter's value).
 * Returns ST_OK or ST_EIO (reported). */
int amap_write(const amap *m, const char *path, const amul_lib *lib, const amap_layer *layers);

/* The same text on an open stream (the caller checks ferror). */
void amap_write_stream(const amap *m, FILE *fp, const amul_lib *lib, const amap_layer *layers);

/* --- engine hooks -------------------------------------------------------------------------------- */

/* Per-layer multiplier hooks for a map, with the storage they point into. Allocated once for a
 * layer list and library (amap_mul_init), then rebuilt for each map without allocating. */
typedef struct amap_mul {
    int n_layers;
    const amap_layer *layers; /* borrowed */
    const amul_lib *lib;      /* borrowed */
    qnn_layer_mul *layer;     /* n_layers hooks, valid after amap_mul_build() */
    /* storage, per layer, sized for the worst case */
    int16_t **act_tf;         /* QNN_MUL_MAX_PLANES * 256 */
    uint8_t **plane_of;       /* cout * cin */
    int16_t **w_tf;           /* cout * kh * kw * cin */
    const int16_t ***luts;    /* lib->n table pointers */
    uint16_t **lut_of;        /* cout * cin */
    int *scratch;             /* lib->n: multiplier -> plane / table slot */
    int32_t **bias;           /* cout: the layer's bias + the map's bias_delta (saturated to int32) */
} amap_mul;

/* Size `b` for `layers` (whose weights `w` must be set when maps use separable multipliers) and
 * `lib`. Both are borrowed and must outlive `b`. Caller frees with amap_mul_deinit(). */
void amap_mul_init(amap_mul *b, const amap_layer *layers, int n_layers, const amul_lib *lib);
void amap_mul_deinit(amap_mul *b);

/* Fill b->layer for map `m`. Per layer, the multiplication:
 *  - QNN_MUL_EXACT when every kernel's multiplier is exact;
 *  - QNN_MUL_SEPARABLE when every kernel's multiplier is separable and the layer has at most
 *    QNN_MUL_MAX_PLANES distinct activation transforms: planes are the distinct f tables (by content,
 *    so roup_k0_m2 and roup_k1_m2 share one), plane_of gives each kernel its plane, and w_tf holds
 *    g(w) with each kernel's own g;
 *  - QNN_MUL_LUT otherwise: luts are the distinct multipliers used, lut_of each kernel's table.
 * and the bias: when the map carries bias_delta (error compensation), every layer's hook gets
 * bias = L->bias + delta, saturated to int32 (the executor adds it instead of the layer's own bias);
 * otherwise NULL (the layer's own). The deltas are the map's: the hooks hold only their sum with the
 * net's bias, so one net serves every compensated map.
 * The hooks point into `b` and the library; they stay valid until the next build or deinit. */
void amap_mul_build(amap_mul *b, const amap *m);

/* The same, ignoring the map's bias_delta and weights (every hook's bias NULL, the layers' own
 * weights): the uncompensated figures. */
void amap_mul_build_plain(amap_mul *b, const amap *m);

/* Whether amap_mul_build() gives a layer whose nk kernels use the multipliers `row` the separable hook,
 * the only hook that carries a map's stored weights: every multiplier separable, and at most
 * QNN_MUL_MAX_PLANES activation transforms among them. */
int amap_layer_separable(const amul_lib *lib, const uint16_t *row, size_t nk);

/* --- error compensation (bias correction of the expected multiplier error) ------------------------ */

/* Bias correction that cancels each output channel's expected multiplier error in layer l of map `m`:
 *   delta[co] = -round( sum over taps (ky, kx) and ci of  sum_a p_ci(a) * (M_k(a, w) - a * w) ),
 * w = the tap's weight, M_k the kernel's multiplier; add delta[co] to the layer's int32 bias.
 * act_p: activation distribution as seen by the layer's taps, indexed by (uint8_t)a and summing to 1
 * (measured on calibration images; include padding zeros with their frequency to account for them):
 * 256 entries shared by all input channels when per_channel is 0, else cin x 256 (one per channel).
 * shift (per_channel only; NULL: none): per input channel, how much the mean of the activations in act_p
 * exceeds the mean the exact network gives the layer (sequential correction, approx_comp.h); each tap
 * then also adds w * shift_ci to the sum, so that the delta restores the exact network's mean output.
 * Needs L->w. Exact multipliers contribute 0 (and only their shift term with `shift`).
 * Cost: O(cout * cin * kh * kw * 256). */
void amap_bias_compensation(const amap *m, int l, const amap_layer *L, const amul_lib *lib, const double *act_p,
                            int per_channel, const double *shift, int32_t *delta);

#endif
