/* Multiplier energy of an approximation map (docs/design.md, "Energy"):
 *   E(map) = sum over kernels of MACs(kernel) * e(multiplier(kernel)),
 *   MACs(kernel) = H_out * W_out * KH * KW   (every tap the hardware computes, padding included),
 * reported relative to the all-exact map, with a per-layer breakdown. By default e is the library's
 * relative energy (exact = 1 per MAC); a per-layer table (e.g. from gate-level characterization with
 * each layer's own operand stream) may replace it. Integer MAC counts are summed per multiplier first,
 * so the result does not depend on kernel order beyond double rounding of n_mults terms per layer. */
#ifndef SRC_ENERGY_H
#define SRC_ENERGY_H

#include "amap.h"
#include "amul.h"

/* Caller storage for one evaluation; sized by energy_report_init, reused across maps. */
typedef struct energy_report {
    int n_layers;
    double total;       /* E(map), in the energy unit (relative-to-exact MACs by default) */
    double exact;       /* E(all-exact map), same unit */
    double rel;         /* total / exact */
    double *layer;      /* n_layers: E of each layer */
    double *layer_exact;/* n_layers: E of each layer with the exact multiplier */
    double *layer_rel;  /* n_layers: layer[l] / layer_exact[l] */
    uint64_t *counts;   /* scratch: n_mults MAC counts for one layer */
    int n_mults;
} energy_report;

void energy_report_init(energy_report *r, int n_layers, int n_mults);
void energy_report_deinit(energy_report *r);

/* Energy of map `m` over `layers` with library `lib`.
 * e_layer: NULL to use lib->mults[i].energy.rel everywhere; otherwise n_layers x lib->n row-major,
 *   e_layer[l * lib->n + i] = energy per MAC of multiplier i in layer l, in any unit.
 * e_exact: NULL means 1.0 per MAC (the unit of relative energies); otherwise n_layers entries, the
 *   exact multiplier's energy per MAC in layer l in the unit of e_layer. Without it but with
 *   e_layer, the library's exact multiplier's column is used (ST_EFORMAT if the library has none).
 * Returns ST_OK, or ST_EFORMAT (reported) when a multiplier used by the map has no energy figure. */
int energy_eval(const amap *m, const amap_layer *layers, const amul_lib *lib, const double *e_layer,
                const double *e_exact, energy_report *out);

#endif
