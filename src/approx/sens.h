/* Sensitivity (issue 11 items 1, 2a): what each allowed multiplier does to each kernel, filter and
 * layer of a quantized network, estimated from the exact network's measured activation distributions
 * (the calibration tap histograms of approx_comp_init), and the ranked genome encoding built on it.
 *
 * Error model. Kernel (l, co, ci) under multiplier M adds to output channel co's accumulator, at each
 * output position, sum over its taps t of e_t = M(a_t, w_t) - a_t w_t, a_t drawn from input channel
 * ci's tap distribution p_ci (every element counted once per tap that reads it, padding as zeros).
 * Assuming the activations read by different taps are independent (they are not exactly: neighbouring
 * pixels and channels correlate; the estimate is a ranking device, not a prediction), the kernel's
 * error has
 *   mean  mu_k  = sum_t E_p[e(a, w_t)]                 (what bias compensation removes)
 *   var   var_k = sum_t (E_p[e(a, w_t)^2] - E_p[e(a, w_t)]^2),
 * and a filter's (every kernel of the filter under M) is the sum over its kernels. The error power
 * injected into the channel is var (compensated: the mean is folded into the bias) or var + mu^2
 * (uncompensated), in accumulator units; times the channel's requantization factor squared
 * (s_in * s_w[co] / s_out)^2 it is a noise power in units of the output's quantization step (LSB^2).
 * `noise` below is that figure: the error relative to the requantization step. Exact multipliers give
 * 0. A layer's figure is the mean over its filters (the noise power per output element).
 *
 * Energy saved by multiplier M on one kernel of layer l: MACs(kernel) * (e_exact(l) - e_M(l)), relative
 * to the exact network's multiplier energy (the same unit as the search's energy objective), with the
 * library's relative energies or a per-layer energy model.
 *
 * Ranked encoding. Each layer's items (filters, or kernels) are ordered by ascending sensitivity: the
 * key of an item is the sum over the allowed multipliers of its noise (so the most aggressive ones
 * dominate); ties are broken by item index, so the order is a pure function of the table. Within a
 * layer every item saves the same energy under a given multiplier (same MACs), so this is also the order
 * by noise per unit of energy saved. A genome of n_layers x S genes gives, for layer l, share s
 * (0 = least sensitive) of that order, ranks [floor(s n / S), floor((s + 1) n / S)), the multiplier
 * genome[l * S + s] (n items in the layer; shares may be empty when S > n). problems/README.md
 * documents it with an example. */
#ifndef SRC_SENS_H
#define SRC_SENS_H

#include <stddef.h>
#include <stdint.h>

#include "amap.h"
#include "amul.h"
#include "approx.h"
#include "cifar.h"
#include "qnn_int8.h"

typedef struct sens_table {
    int n_layers, n_mults;
    int *mults;          /* n_mults library indices (copied) */
    int compensated;     /* 1: error power = variance; 0: variance + mean^2 */
    size_t *koff;        /* n_layers + 1 kernel offsets, map order (co * cin + ci within a layer) */
    size_t *foff;        /* n_layers + 1 filter offsets */
    int32_t *cin;        /* n_layers */
    double *kmean;       /* koff[n_layers] x n_mults: mu_k (accumulator units), [k * n_mults + j] */
    double *kvar;        /* the same for var_k */
    double *fscale;      /* foff[n_layers]: requantization factor s_in * s_w[co] / s_out (1 when unknown) */
    double *saved;       /* n_layers x n_mults: energy saved per kernel, fraction of the exact network's */
} sens_table;

/* Inputs of sens_compute. act_p, per_channel: as approx_comp (act_p[l] holds cin x 256 probabilities per
 * input channel, or 256 shared ones). fscale: per layer cout factors, or NULL for 1 (noise then in
 * accumulator units). e_layer / e_exact: as energy_eval (NULL: the library's relative energies). */
typedef struct sens_input {
    const amap_layer *layers;
    int n_layers;
    const amul_lib *lib;
    const int *mults;            /* library indices to tabulate */
    int n_mults;
    const double *const *act_p;
    int per_channel;
    const double *const *fscale; /* NULL, or n_layers arrays of cout */
    int compensated;
    const double *e_layer, *e_exact;
} sens_input;

/* Tabulate every kernel under every multiplier. Needs layers[].w. Cost per layer:
 * cin * n_mults * 65,536 (per-channel weight tables) + kernels * taps * n_mults; parallel (OpenMP,
 * `threads`, 0 = all) with results independent of the thread count. Returns ST_OK, or ST_EFORMAT
 * (reported) when a tabulated multiplier has no energy figure. Caller frees with sens_deinit(). */
int sens_compute(sens_table *t, const sens_input *in, int threads);
void sens_deinit(sens_table *t);

/* The requantization factors of `net`'s layers (s_in * s_w[co] / s_out): n_layers arrays of cout.
 * Free with sens_fscale_free(). */
double **sens_fscale_from_net(const qnn_int8_net *net);
void sens_fscale_free(double **f, int n_layers);

/* Noise power (output LSB^2) of kernel (l, co * cin + ci), filter (l, co) and layer l under
 * multiplier mults[j]. */
double sens_kernel_noise(const sens_table *t, int l, size_t k, int j);
double sens_filter_noise(const sens_table *t, int l, int32_t co, int j);
double sens_layer_noise(const sens_table *t, int l, int j);

/* Energy saved by mults[j] on one kernel, one filter, a whole layer (fraction of the exact network's). */
double sens_kernel_saved(const sens_table *t, int l, int j);
double sens_filter_saved(const sens_table *t, int l, int j);
double sens_layer_saved(const sens_table *t, int l, int j);

/* --- ranked encoding ------------------------------------------------------------------------------ */

/* Items of layer l at granularity g (AMAP_FILTER: cout; AMAP_KERNEL: cout * cin), and the offset of
 * layer l's block in an order array (the sum over earlier layers). */
size_t sens_rank_items(const amap_layer *layers, int l, amap_granularity g);
size_t sens_rank_offset(const amap_layer *layers, int l, amap_granularity g);

/* Each layer's items by ascending key (the sum over all tabulated multipliers of the item's noise),
 * ties by index: order[sens_rank_offset(l) + r] = item of rank r (local to the layer: co, or
 * co * cin + ci). g: AMAP_FILTER or AMAP_KERNEL. order: sens_rank_offset(n_layers) entries. */
void sens_rank_order(const sens_table *t, const amap_layer *layers, amap_granularity g, uint32_t *order);

/* Expand a ranked genome into `m` (sized by amap_init for `layers`): item order[off_l + r] of layer l
 * gets multiplier genome[l * shares + s] for r in [floor(s n / shares), floor((s + 1) n / shares)).
 * Pure; every gene must be a valid multiplier index. */
void sens_rank_expand(amap *m, const amap_layer *layers, int n_layers, amap_granularity g, int shares,
                      const uint32_t *order, const int *genome);

/* --- measurement (the check against the estimate) ------------------------------------------------ */

/* Measured effect of single-unit maps on `set`: unit u is a layer (g = AMAP_LAYER, u = l) or one filter
 * (g = AMAP_FILTER, u = foff of the filter, layers in order); its map is all exact but the unit, which
 * uses library multiplier `mult`. With `comp` (non-NULL) each map is compensated (approx_comp_apply).
 * Per unit: correct[u] top-1 hits, flips[u] images whose top-1 differs from the exact network's,
 * msd[u] mean squared logit difference to the exact network (int8 units, per image and logit). Exact
 * tensors before the unit's layer are reused. Deterministic; parallel over units (`threads`, 0 = all). */
typedef struct sens_measured {
    int n_units;
    int32_t n_images, exact_correct;
    int32_t *correct, *flips;
    double *msd;
} sens_measured;

int sens_measure(const qnn_int8_net *net, const amap_layer *layers, const amul_lib *lib, const approx_comp *comp,
                 const cifar_set *set, amap_granularity g, int mult, int threads, sens_measured *out);
void sens_measured_deinit(sens_measured *m);

/* Spearman rank correlation of x and y (n >= 2; average ranks for ties), NAN when undefined. */
double sens_spearman(const double *x, const double *y, size_t n);

#endif
