/* Sensitivity estimates, the ranked encoding and the single-unit measurements that check them
 * (sens.h). Invariants: every figure is a fixed-order sum (per kernel over its taps, per filter over its
 * kernels), so results never depend on the thread count; the rank order is a stable sort by (key,
 * index). */
#include "sens.h"

#include <gsl/gsl_statistics_double.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "msg.h"
#include "status.h"
#include "util.h"

static int n_threads(int threads, size_t work)
{
    return util_threads(threads, work > LONG_MAX ? LONG_MAX : (long)work);
}

void sens_deinit(sens_table *t)
{
    if (!t) return;
    free(t->mults);
    free(t->koff);
    free(t->foff);
    free(t->cin);
    free(t->kmean);
    free(t->kvar);
    free(t->fscale);
    free(t->saved);
    memset(t, 0, sizeof *t);
}

/* Per weight value w: E_p[e(a, w)] and E_p[e(a, w)^2] of multiplier `mu` over distribution p. */
static void weight_moments(const amul *mu, const double *p, double *m1, double *m2)
{
    for (int w = 0; w < 256; w++) m1[w] = m2[w] = 0;
    if (mu->is_exact) return;
    for (int a = 0; a < 256; a++) {
        const double pa = p[a];
        if (pa == 0) continue;
        const int16_t *row = mu->lut + a * 256;
        const int32_t av = (int8_t)a;
        for (int w = 0; w < 256; w++) {
            const double e = (double)(row[w] - av * (int8_t)w);
            m1[w] += pa * e;
            m2[w] += pa * e * e;
        }
    }
}

int sens_compute(sens_table *t, const sens_input *in, int threads)
{
    const int nl = in->n_layers, nm = in->n_mults;
    const amul_lib *lib = in->lib;
    /* energy figures first (the only error) */
    double *saved = xcalloc((size_t)nl * (size_t)(nm ? nm : 1), sizeof *saved);
    double total_exact = 0;
    for (int l = 0; l < nl; l++)
        total_exact += (double)in->layers[l].macs * (in->e_exact ? in->e_exact[l] : 1.0);
    for (int l = 0; l < nl; l++) {
        const amap_layer *L = &in->layers[l];
        const double kmacs = (double)L->macs / ((double)L->cout * (double)L->cin);
        const double ex = in->e_exact ? in->e_exact[l] : 1.0;
        for (int j = 0; j < nm; j++) {
            const amul *mu = &lib->mults[in->mults[j]];
            const double e = in->e_layer ? in->e_layer[(size_t)l * lib->n + in->mults[j]] : mu->energy.rel;
            if (!isfinite(e)) {
                free(saved);
                return msg_error(ST_EFORMAT, "multiplier '%s' has no energy figure for layer '%s'", mu->name, L->name);
            }
            saved[(size_t)l * nm + j] = total_exact > 0 ? kmacs * (ex - e) / total_exact : 0.0;
        }
    }
    memset(t, 0, sizeof *t);
    t->n_layers = nl;
    t->n_mults = nm;
    t->compensated = in->compensated ? 1 : 0;
    t->saved = saved;
    t->mults = xmalloc((size_t)(nm ? nm : 1) * sizeof *t->mults);
    memcpy(t->mults, in->mults, (size_t)nm * sizeof *t->mults);
    t->koff = xmalloc(((size_t)nl + 1) * sizeof *t->koff);
    t->foff = xmalloc(((size_t)nl + 1) * sizeof *t->foff);
    t->cin = xmalloc((size_t)(nl ? nl : 1) * sizeof *t->cin);
    t->koff[0] = t->foff[0] = 0;
    for (int l = 0; l < nl; l++) {
        t->koff[l + 1] = t->koff[l] + (size_t)in->layers[l].cout * in->layers[l].cin;
        t->foff[l + 1] = t->foff[l] + (size_t)in->layers[l].cout;
        t->cin[l] = in->layers[l].cin;
    }
    t->kmean = xcalloc(t->koff[nl] * (size_t)nm + 1, sizeof *t->kmean);
    t->kvar = xcalloc(t->koff[nl] * (size_t)nm + 1, sizeof *t->kvar);
    t->fscale = xmalloc((t->foff[nl] + 1) * sizeof *t->fscale);
    for (int l = 0; l < nl; l++)
        for (int32_t co = 0; co < in->layers[l].cout; co++)
            t->fscale[t->foff[l] + (size_t)co] = in->fscale ? in->fscale[l][co] : 1.0;

    for (int l = 0; l < nl; l++) {
        const amap_layer *L = &in->layers[l];
        ASSERT(L->w != NULL);
        const int32_t cin = L->cin, cout = L->cout;
        const size_t taps = (size_t)L->kh * L->kw;
        const int32_t n_dist = in->per_channel ? cin : 1;
        /* moments per (distribution, multiplier, weight value) */
        double *m1 = xmalloc((size_t)n_dist * nm * 256 * sizeof *m1);
        double *m2 = xmalloc((size_t)n_dist * nm * 256 * sizeof *m2);
        const size_t work = (size_t)n_dist * nm;
#pragma omp parallel for schedule(dynamic, 1) num_threads(n_threads(threads, work))
        for (size_t dj = 0; dj < work; dj++) {
            const size_t d = dj / (size_t)nm, j = dj % (size_t)nm;
            weight_moments(&lib->mults[in->mults[j]], in->act_p[l] + d * 256, m1 + dj * 256, m2 + dj * 256);
        }
#pragma omp parallel for schedule(dynamic, 1) num_threads(n_threads(threads, (size_t)cout))
        for (int32_t co = 0; co < cout; co++)
            for (int32_t ci = 0; ci < cin; ci++) {
                const size_t k = t->koff[l] + (size_t)co * cin + ci;
                const size_t d = in->per_channel ? (size_t)ci : 0;
                for (int j = 0; j < nm; j++) {
                    const double *a1 = m1 + (d * nm + j) * 256, *a2 = m2 + (d * nm + j) * 256;
                    double mean = 0, var = 0;
                    for (size_t tp = 0; tp < taps; tp++) {
                        const uint8_t w = (uint8_t)L->w[((size_t)co * taps + tp) * cin + ci];
                        mean += a1[w];
                        double v = a2[w] - a1[w] * a1[w];
                        var += v > 0 ? v : 0; /* rounding can leave -0 for a constant error */
                    }
                    t->kmean[k * nm + j] = mean;
                    t->kvar[k * nm + j] = var;
                }
            }
        free(m1);
        free(m2);
    }
    return ST_OK;
}

double **sens_fscale_from_net(const qnn_int8_net *net)
{
    double **f = xcalloc((size_t)net->n_layers + 1, sizeof *f);
    for (int l = 0; l < net->n_layers; l++) {
        const qnn_int8_layer *L = &net->layers[l];
        const qnn_int8_op *o = &net->ops[L->op_index];
        const double s_in = net->tensors[o->in[0]].scale, s_out = net->tensors[o->out].scale;
        f[l] = xmalloc((size_t)L->cout * sizeof **f);
        for (int32_t co = 0; co < L->cout; co++) f[l][co] = s_in * o->w_scale[co] / s_out;
    }
    return f;
}

void sens_fscale_free(double **f, int n_layers)
{
    if (!f) return;
    for (int l = 0; l < n_layers; l++) free(f[l]);
    free(f);
}

double sens_kernel_noise(const sens_table *t, int l, size_t k, int j)
{
    const size_t i = (t->koff[l] + k) * (size_t)t->n_mults + (size_t)j;
    const double s = t->fscale[t->foff[l] + k / (size_t)t->cin[l]];
    const double mu = t->kmean[i];
    return (t->kvar[i] + (t->compensated ? 0.0 : mu * mu)) * s * s;
}

double sens_filter_noise(const sens_table *t, int l, int32_t co, int j)
{
    const int32_t cin = t->cin[l];
    double mean = 0, var = 0;
    for (int32_t ci = 0; ci < cin; ci++) {
        const size_t i = (t->koff[l] + (size_t)co * cin + ci) * (size_t)t->n_mults + (size_t)j;
        mean += t->kmean[i];
        var += t->kvar[i];
    }
    const double s = t->fscale[t->foff[l] + (size_t)co];
    return (var + (t->compensated ? 0.0 : mean * mean)) * s * s;
}

double sens_layer_noise(const sens_table *t, int l, int j)
{
    const size_t cout = t->foff[l + 1] - t->foff[l];
    double sum = 0;
    for (size_t co = 0; co < cout; co++) sum += sens_filter_noise(t, l, (int32_t)co, j);
    return cout ? sum / (double)cout : 0.0;
}

double sens_kernel_saved(const sens_table *t, int l, int j)
{
    return t->saved[(size_t)l * t->n_mults + (size_t)j];
}

double sens_filter_saved(const sens_table *t, int l, int j)
{
    return sens_kernel_saved(t, l, j) * t->cin[l];
}

double sens_layer_saved(const sens_table *t, int l, int j)
{
    return sens_filter_saved(t, l, j) * (double)(t->foff[l + 1] - t->foff[l]);
}

/* --- ranked encoding ------------------------------------------------------------------------------ */

size_t sens_rank_items(const amap_layer *layers, int l, amap_granularity g)
{
    return g == AMAP_KERNEL ? (size_t)layers[l].cout * layers[l].cin : (size_t)layers[l].cout;
}

size_t sens_rank_offset(const amap_layer *layers, int l, amap_granularity g)
{
    size_t off = 0;
    for (int i = 0; i < l; i++) off += sens_rank_items(layers, i, g);
    return off;
}

typedef struct rank_item {
    double key;
    uint32_t idx;
} rank_item;

static int by_key(const void *pa, const void *pb)
{
    const rank_item *a = pa, *b = pb;
    if (a->key < b->key) return -1;
    if (a->key > b->key) return 1;
    return (a->idx > b->idx) - (a->idx < b->idx);
}

void sens_rank_order(const sens_table *t, const amap_layer *layers, amap_granularity g, uint32_t *order)
{
    ASSERT(g == AMAP_FILTER || g == AMAP_KERNEL);
    size_t off = 0;
    for (int l = 0; l < t->n_layers; l++) {
        const size_t n = sens_rank_items(layers, l, g);
        rank_item *it = xmalloc((n ? n : 1) * sizeof *it);
        for (size_t i = 0; i < n; i++) {
            double key = 0;
            for (int j = 0; j < t->n_mults; j++)
                key += g == AMAP_KERNEL ? sens_kernel_noise(t, l, i, j) : sens_filter_noise(t, l, (int32_t)i, j);
            it[i] = (rank_item){key, (uint32_t)i};
        }
        qsort(it, n, sizeof *it, by_key);
        for (size_t i = 0; i < n; i++) order[off + i] = it[i].idx;
        off += n;
        free(it);
    }
}

void sens_rank_expand(amap *m, const amap_layer *layers, int n_layers, amap_granularity g, int shares,
                      const uint32_t *order, const int *genome)
{
    ASSERT(g == AMAP_FILTER || g == AMAP_KERNEL);
    ASSERT(shares >= 1 && m->n_layers == n_layers);
    size_t off = 0;
    for (int l = 0; l < n_layers; l++) {
        const size_t n = sens_rank_items(layers, l, g), cin = (size_t)layers[l].cin;
        uint16_t *row = amap_layer_mults(m, l);
        for (int s = 0; s < shares; s++) {
            const int gene = genome[(size_t)l * shares + s];
            ASSERT(gene >= 0 && gene < 65536);
            const size_t r0 = (size_t)s * n / (size_t)shares, r1 = ((size_t)s + 1) * n / (size_t)shares;
            for (size_t r = r0; r < r1; r++) {
                const size_t item = order[off + r];
                if (g == AMAP_KERNEL)
                    row[item] = (uint16_t)gene;
                else
                    for (size_t ci = 0; ci < cin; ci++) row[item * cin + ci] = (uint16_t)gene;
            }
        }
        off += n;
    }
}

/* --- measurement ------------------------------------------------------------------------------------ */

void sens_measured_deinit(sens_measured *m)
{
    if (!m) return;
    free(m->correct);
    free(m->flips);
    free(m->msd);
    memset(m, 0, sizeof *m);
}

int sens_measure(const qnn_int8_net *net, const amap_layer *layers, const amul_lib *lib, const approx_comp *comp,
                 const cifar_set *set, amap_granularity g, int mult, int threads, sens_measured *out)
{
    ASSERT(g == AMAP_LAYER || g == AMAP_FILTER);
    const int nl = net->n_layers;
    const int exact = amul_lib_exact(lib);
    if (exact < 0) return msg_error(ST_EINVAL, "%s: the library has no exact multiplier", lib->path);
    if (set->n < 1) return msg_error(ST_EINVAL, "no images to measure on");
    /* units: layer l, or filter (l, co) in layer order */
    int n_units = 0;
    for (int l = 0; l < nl; l++) n_units += g == AMAP_LAYER ? 1 : layers[l].cout;
    int *unit_layer = xmalloc((size_t)n_units * sizeof *unit_layer), *unit_co = xmalloc((size_t)n_units * sizeof *unit_co);
    for (int l = 0, u = 0; l < nl; l++)
        for (int32_t co = 0; co < (g == AMAP_LAYER ? 1 : layers[l].cout); co++, u++) {
            unit_layer[u] = l;
            unit_co[u] = g == AMAP_LAYER ? -1 : co;
        }
    memset(out, 0, sizeof *out);
    out->n_units = n_units;
    out->n_images = set->n;
    out->correct = xcalloc((size_t)n_units, sizeof *out->correct);
    out->flips = xcalloc((size_t)n_units, sizeof *out->flips);
    out->msd = xcalloc((size_t)n_units, sizeof *out->msd);
    const int32_t k = qnn_int8_n_out(net), n = set->n;

    /* the exact logits once */
    int8_t *exact_logits = xmalloc((size_t)n * k);
    {
        qnn_int8_ws *ws = qnn_int8_ws_alloc(net, n);
        qnn_int8_set_input(net, ws, set->pixels, n);
        qnn_int8_forward(net, ws, 0, NULL);
        memcpy(exact_logits, qnn_int8_ws_tensor(ws, net->output), (size_t)n * k);
        qnn_int8_ws_free(ws);
    }
    int32_t ec = 0;
    for (int32_t i = 0; i < n; i++) ec += util_argmax_s8(exact_logits + (size_t)i * k, k) == set->labels[i];
    out->exact_correct = ec;

    const int nt = n_threads(threads, (size_t)n_units);
#pragma omp parallel num_threads(nt)
    {
        /* each thread: all images in one workspace, exact tensors kept up to date below `dirty`; with
         * compensation the map carries its bias deltas, which the hooks fold into the biases */
        amap map;
        amap_mul mul;
        amap_init(&map, layers, nl, (uint16_t)exact);
        amap_mul_init(&mul, layers, nl, lib);
        qnn_int8_ws *ws = qnn_int8_ws_alloc(net, n);
        qnn_int8_set_input(net, ws, set->pixels, n);
        qnn_int8_forward(net, ws, 0, NULL);
        int dirty = net->n_ops; /* ops >= dirty hold approximate results */
#pragma omp for schedule(static, 1)
        for (int u = 0; u < n_units; u++) {
            const int l = unit_layer[u];
            const amap_layer *L = &layers[l];
            const int op = net->layers[l].op_index;
            for (int o = dirty; o < op; o++) qnn_int8_step(net, ws, o, NULL); /* restore exact inputs */
            uint16_t *row = amap_layer_mults(&map, l);
            const size_t lo = unit_co[u] < 0 ? 0 : (size_t)unit_co[u] * L->cin;
            const size_t hi = unit_co[u] < 0 ? (size_t)L->cout * L->cin : lo + (size_t)L->cin;
            for (size_t q = lo; q < hi; q++) row[q] = (uint16_t)mult;
            if (comp) approx_comp_fill(comp, &map);
            amap_mul_build(&mul, &map);
            qnn_int8_forward(net, ws, op, mul.layer);
            dirty = op;
            const int8_t *lg = qnn_int8_ws_tensor(ws, net->output);
            int32_t corr = 0, flips = 0;
            int64_t sq = 0;
            for (int32_t i = 0; i < n; i++) {
                const int8_t *a = lg + (size_t)i * k, *b = exact_logits + (size_t)i * k;
                const int pa = util_argmax_s8(a, k);
                corr += pa == set->labels[i];
                flips += pa != util_argmax_s8(b, k);
                for (int32_t j = 0; j < k; j++) sq += (int64_t)(a[j] - b[j]) * (a[j] - b[j]);
            }
            out->correct[u] = corr;
            out->flips[u] = flips;
            out->msd[u] = (double)sq / ((double)n * k);
            for (size_t q = lo; q < hi; q++) row[q] = (uint16_t)exact;
        }
        qnn_int8_ws_free(ws);
        amap_mul_deinit(&mul);
        amap_deinit(&map);
    }
    free(exact_logits);
    free(unit_layer);
    free(unit_co);
    return ST_OK;
}

double sens_spearman(const double *x, const double *y, size_t n)
{
    if (n < 2) return NAN;
    double *work = xmalloc(2 * n * sizeof *work);
    double r = gsl_stats_spearman(x, 1, y, 1, n, work);
    free(work);
    return r;
}
