/* Map energy (see energy.h). Per layer, MACs are counted per multiplier in uint64 (exact), then
 * weighted: E_l = sum_i count_i * e_i * MACs(kernel). No allocation per evaluation. */
#include "energy.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "msg.h"
#include "status.h"

void energy_report_init(energy_report *r, int n_layers, int n_mults)
{
    memset(r, 0, sizeof *r);
    r->n_layers = n_layers;
    r->n_mults = n_mults;
    size_t nl = n_layers ? (size_t)n_layers : 1;
    r->layer = xcalloc(nl, sizeof *r->layer);
    r->layer_exact = xcalloc(nl, sizeof *r->layer_exact);
    r->layer_rel = xcalloc(nl, sizeof *r->layer_rel);
    r->counts = xcalloc(n_mults ? (size_t)n_mults : 1, sizeof *r->counts);
}

void energy_report_deinit(energy_report *r)
{
    if (!r) return;
    free(r->layer);
    free(r->layer_exact);
    free(r->layer_rel);
    free(r->counts);
    memset(r, 0, sizeof *r);
}

int energy_eval(const amap *m, const amap_layer *layers, const amul_lib *lib, const double *e_layer,
                const double *e_exact, energy_report *out)
{
    ASSERT(out->n_layers == m->n_layers && out->n_mults == lib->n);
    int ex = -1;
    if (e_layer && !e_exact) {
        ex = amul_lib_exact(lib);
        if (ex < 0)
            return msg_error(ST_EFORMAT, "library '%s' has no exact multiplier to normalise per-layer energies",
                             lib->path);
    }
    out->total = out->exact = 0;
    for (int l = 0; l < m->n_layers; l++) {
        const amap_layer *L = &layers[l];
        const size_t nk = (size_t)L->cout * L->cin;
        ASSERT(L->macs % nk == 0);
        const double kmacs = (double)(L->macs / nk);
        memset(out->counts, 0, (size_t)lib->n * sizeof *out->counts);
        const uint16_t *row = amap_layer_mults(m, l);
        for (size_t i = 0; i < nk; i++) out->counts[row[i]]++;
        double e = 0;
        for (int i = 0; i < lib->n; i++) {
            if (!out->counts[i]) continue;
            double ei = e_layer ? e_layer[(size_t)l * lib->n + i] : lib->mults[i].energy.rel;
            if (isnan(ei))
                return msg_error(ST_EFORMAT, "multiplier '%s' has no relative energy in '%s'", lib->mults[i].name,
                                 lib->path);
            e += (double)out->counts[i] * ei;
        }
        double eref = e_exact ? e_exact[l] : e_layer ? e_layer[(size_t)l * lib->n + ex] : 1.0;
        out->layer[l] = e * kmacs;
        out->layer_exact[l] = (double)nk * eref * kmacs;
        out->layer_rel[l] = out->layer[l] / out->layer_exact[l];
        out->total += out->layer[l];
        out->exact += out->layer_exact[l];
    }
    out->rel = out->exact > 0 ? out->total / out->exact : NAN;
    return ST_OK;
}
