/* Approximate evaluation glue (see approx.h): layer lists, libraries, uniform maps, the energy and
 * accuracy of a map. Invariant: every count is an integer of the bit-exact engine (OpenMP reductions
 * add integers, so the thread count never changes a result). */
#include "approx.h"

#include <gsl/gsl_cdf.h>
#include <math.h>
#include <stdlib.h>

#include "msg.h"
#include "status.h"

/* ---------------------------------------------------------------------------------------------- */

void approx_layers_from_net(const qnn_int8_net *net, amap_layer *layers)
{
    for (int l = 0; l < net->n_layers; l++) {
        const qnn_int8_layer *L = &net->layers[l];
        layers[l] = (amap_layer){.name = L->name, .cin = L->cin, .cout = L->cout, .kh = L->kh, .kw = L->kw,
                                 .macs = L->macs, .w = L->weights, .bias = net->ops[L->op_index].bias};
    }
}

int approx_lib_load(const char *arg, amul_lib *lib)
{
    char *path = arg ? amul_lib_resolve(arg) : amul_lib_default_path();
    int rc = amul_lib_load(lib, path);
    free(path);
    return rc;
}

int approx_map_uniform(amap *m, const amap_layer *layers, int n_layers, const amul_lib *lib, const char *name)
{
    int i = amul_lib_find(lib, name);
    if (i < 0) return msg_error(ST_EINVAL, "unknown multiplier '%s' in library '%s'", name, lib->path);
    amap_init(m, layers, n_layers, (uint16_t)i);
    return ST_OK;
}

/* ---------------------------------------------------------------------------------------------- */

int approx_energy(const amap *m, const amap_layer *layers, const amul_lib *lib, const energy_model *em,
                  energy_report *out)
{
    for (int l = 0; l < m->n_layers; l++) {
        const uint16_t *row = amap_layer_mults(m, l);
        const size_t nk = (size_t)layers[l].cout * layers[l].cin;
        for (size_t k = 0; k < nk; k++) {
            const int i = row[k];
            if (em && isnan(em->e_layer[(size_t)l * lib->n + i]))
                return msg_error(ST_EFORMAT, "%s: no energy figure for multiplier '%s' (layer '%s')", em->path,
                                 lib->mults[i].name, layers[l].name);
            if (!em && isnan(lib->mults[i].energy.rel))
                return msg_error(ST_EFORMAT, "%s: multiplier '%s' has no relative energy", lib->path,
                                 lib->mults[i].name);
        }
    }
    ASSERT(!em || (em->n_layers == m->n_layers && em->n_mults == lib->n));
    return energy_eval(m, layers, lib, em ? em->e_layer : NULL, em ? em->e_exact : NULL, out);
}

/* ---------------------------------------------------------------------------------------------- */

int32_t approx_correct(const qnn_int8_net *net, const cifar_set *set, const qnn_layer_mul *muls, int threads,
                       uint8_t *pred)
{
    uint8_t *p = pred ? pred : xmalloc((size_t)set->n + 1);
    qnn_int8_predict(net, set->pixels, set->n, muls, threads, 0, NULL, p);
    int32_t ok = 0;
    for (int32_t i = 0; i < set->n; i++) ok += p[i] == set->labels[i];
    if (!pred) free(p);
    return ok;
}

/* ---------------------------------------------------------------------------------------------- */

void approx_paired_exact(int32_t lost, int32_t gained, int32_t n, approx_paired *out)
{
    ASSERT(lost >= 0 && gained >= 0 && n >= 1 && (int64_t)lost + gained <= n);
    const unsigned b = (unsigned)lost, m = (unsigned)lost + (unsigned)gained;
    *out = (approx_paired){.lost = lost, .gained = gained, .n = n, .loss_pp = approx_loss_pp(lost, gained, n),
                           .p = 1.0};
    if (m == 0) return;
    const unsigned k = lost < gained ? b : m - b;
    out->p = fmin(1.0, 2.0 * gsl_cdf_binomial_P(k, 0.5, m));
    const double q_lo = b == 0 ? 0.0 : gsl_cdf_beta_Pinv(0.025, b, m - b + 1.0);
    const double q_hi = b == m ? 1.0 : gsl_cdf_beta_Pinv(0.975, b + 1.0, m - b);
    const double scale = 100.0 * (double)m / (double)n;
    out->ci_lo = scale * (2.0 * q_lo - 1.0);
    out->ci_hi = scale * (2.0 * q_hi - 1.0);
}
