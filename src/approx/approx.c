/* Approximate evaluation glue (see approx.h): layer lists, uniform maps, per-layer energy models,
 * accuracy, error compensation and the multiplier sweep. Invariants: every count is an integer of the
 * bit-exact engine (OpenMP reductions add integers, so the thread count never changes a result); the
 * sweep allocates all per-thread state before its chunk loop; the compensated view shares every
 * array of the net except its op array and the layer biases. */
#include "approx.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "amul_yaml.h"
#include "datadir.h"
#include "msg.h"
#include "status.h"

#ifdef _OPENMP
#include <omp.h>
#endif

static int n_threads_for(int threads, int32_t n_chunks)
{
    int nt = 1;
#ifdef _OPENMP
    nt = threads > 0 ? threads : omp_get_max_threads();
#else
    (void)threads;
#endif
    if (nt > n_chunks) nt = n_chunks > 0 ? n_chunks : 1;
    return nt;
}

/* ---------------------------------------------------------------------------------------------- */

void approx_layers_from_net(const qnn_int8_net *net, amap_layer *layers)
{
    for (int l = 0; l < net->n_layers; l++) {
        const qnn_int8_layer *L = &net->layers[l];
        layers[l] = (amap_layer){.name = L->name, .cin = L->cin, .cout = L->cout, .kh = L->kh, .kw = L->kw,
                                 .macs = L->macs, .w = L->weights};
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
/* Per-layer energy models */

void energy_model_deinit(energy_model *em)
{
    if (!em) return;
    free(em->path);
    free(em->unit);
    free(em->cell_library);
    free(em->e_layer);
    free(em->e_exact);
    memset(em, 0, sizeof *em);
}

static int is_seq(amul_yaml *y, yaml_node_t *n, const char *what)
{
    return amul_yaml_expect(y, n, YAML_SEQUENCE_NODE, what);
}

static int seq_len(const yaml_node_t *n)
{
    return (int)(n->data.sequence.items.top - n->data.sequence.items.start);
}

static yaml_node_t *seq_item(amul_yaml *y, const yaml_node_t *n, int i)
{
    return amul_yaml_node(y, n->data.sequence.items.start[i]);
}

int energy_model_load(const char *path, const amul_lib *lib, const amap_layer *layers, int n_layers,
                      energy_model *out)
{
    amul_yaml y;
    char *rpath = datadir_resolve(path);
    int rc = amul_yaml_load(&y, rpath);
    if (rc) {
        free(rpath);
        return rc;
    }
    energy_model em = {0};
    int *file_to_model = NULL, *model_seen = NULL;
    em.path = rpath;
    em.unit = xstrdup("fJ");
    em.n_layers = n_layers;
    em.n_mults = lib->n;
    em.e_layer = xmalloc(((size_t)n_layers * lib->n + 1) * sizeof *em.e_layer);
    em.e_exact = xmalloc(((size_t)n_layers + 1) * sizeof *em.e_exact);
    for (size_t k = 0; k < (size_t)n_layers * lib->n; k++) em.e_layer[k] = NAN;

    static const char *const top_keys[] = {"provenance", "layers", "multipliers", NULL};
    static const char *const layer_keys[] = {"name", "macs", "pairs", NULL};
    static const char *const mult_keys[] = {"name", "fj", "network_relative", "uniform_relative", NULL};
    if ((rc = amul_yaml_expect(&y, y.root, YAML_MAPPING_NODE, "an energy model file"))) goto fail;
    if ((rc = amul_yaml_check_keys(&y, y.root, top_keys))) goto fail;
    yaml_node_t *prov = amul_yaml_get(&y, y.root, "provenance");
    if (prov) {
        if ((rc = amul_yaml_expect(&y, prov, YAML_MAPPING_NODE, "'provenance'"))) goto fail;
        yaml_node_t *cl = amul_yaml_get(&y, prov, "cell_library");
        if (cl && amul_yaml_str(cl)) em.cell_library = xstrdup(amul_yaml_str(cl));
    }
    yaml_node_t *ln = amul_yaml_get(&y, y.root, "layers"), *mn = amul_yaml_get(&y, y.root, "multipliers");
    if (!ln || !mn) {
        rc = amul_yaml_error(&y, y.root, ST_EFORMAT, "an energy model needs 'layers' and 'multipliers'");
        goto fail;
    }
    if ((rc = is_seq(&y, ln, "'layers'")) || (rc = is_seq(&y, mn, "'multipliers'"))) goto fail;
    const int nf = seq_len(ln);
    file_to_model = xmalloc(((size_t)nf + 1) * sizeof *file_to_model);
    model_seen = xcalloc((size_t)n_layers + 1, sizeof *model_seen);
    for (int j = 0; j < nf; j++) {
        yaml_node_t *e = seq_item(&y, ln, j);
        if ((rc = amul_yaml_expect(&y, e, YAML_MAPPING_NODE, "a layer entry"))) goto fail;
        if ((rc = amul_yaml_check_keys(&y, e, layer_keys))) goto fail;
        yaml_node_t *nm = amul_yaml_get(&y, e, "name");
        const char *name;
        if (!nm) {
            rc = amul_yaml_error(&y, e, ST_EFORMAT, "layer entry without 'name'");
            goto fail;
        }
        if ((rc = amul_yaml_get_str(&y, nm, "name", &name))) goto fail;
        int l = -1;
        for (int k = 0; k < n_layers && l < 0; k++)
            if (!strcmp(layers[k].name, name)) l = k;
        if (l < 0) {
            rc = amul_yaml_error(&y, nm, ST_EFORMAT, "unknown layer '%s' (the model's first layer is '%s')", name,
                                 n_layers ? layers[0].name : "");
            goto fail;
        }
        if (model_seen[l]) {
            rc = amul_yaml_error(&y, nm, ST_EFORMAT, "duplicate layer '%s'", name);
            goto fail;
        }
        model_seen[l] = 1;
        file_to_model[j] = l;
        yaml_node_t *mc = amul_yaml_get(&y, e, "macs");
        long macs;
        if (mc) {
            if ((rc = amul_yaml_get_long(&y, mc, "macs", &macs))) goto fail;
            if (macs < 0 || (uint64_t)macs != layers[l].macs) {
                rc = amul_yaml_error(&y, mc, ST_EFORMAT, "layer '%s' has %llu MACs per image in the model, not %ld",
                                     name, (unsigned long long)layers[l].macs, macs);
                goto fail;
            }
        }
    }
    for (int l = 0; l < n_layers; l++)
        if (!model_seen[l]) {
            rc = amul_yaml_error(&y, ln, ST_EFORMAT, "layer '%s' of the model has no entry", layers[l].name);
            goto fail;
        }
    const int nm_ = seq_len(mn);
    for (int j = 0; j < nm_; j++) {
        yaml_node_t *e = seq_item(&y, mn, j);
        if ((rc = amul_yaml_expect(&y, e, YAML_MAPPING_NODE, "a multiplier entry"))) goto fail;
        if ((rc = amul_yaml_check_keys(&y, e, mult_keys))) goto fail;
        yaml_node_t *nm = amul_yaml_get(&y, e, "name"), *fj = amul_yaml_get(&y, e, "fj");
        const char *name;
        if (!nm || !fj) {
            rc = amul_yaml_error(&y, e, ST_EFORMAT, "multiplier entry needs 'name' and 'fj'");
            goto fail;
        }
        if ((rc = amul_yaml_get_str(&y, nm, "name", &name))) goto fail;
        for (int k = 0; k < j; k++) {
            yaml_node_t *o = amul_yaml_get(&y, seq_item(&y, mn, k), "name");
            if (o && amul_yaml_str(o) && !strcmp(amul_yaml_str(o), name)) {
                rc = amul_yaml_error(&y, nm, ST_EFORMAT, "duplicate multiplier '%s'", name);
                goto fail;
            }
        }
        if ((rc = is_seq(&y, fj, "'fj'"))) goto fail;
        if (seq_len(fj) != nf) {
            rc = amul_yaml_error(&y, fj, ST_EFORMAT, "'fj' of '%s' has %d figures for %d layers", name, seq_len(fj),
                                 nf);
            goto fail;
        }
        int i = amul_lib_find(lib, name);
        for (int k = 0; k < nf; k++) {
            yaml_node_t *v = seq_item(&y, fj, k);
            double x;
            if ((rc = amul_yaml_get_double(&y, v, "fj", &x))) goto fail;
            if (x < 0) {
                rc = amul_yaml_error(&y, v, ST_EFORMAT, "energy %g of '%s' is negative", x, name);
                goto fail;
            }
            if (i >= 0) em.e_layer[(size_t)file_to_model[k] * lib->n + i] = x;
        }
        em.n_found += i >= 0;
    }
    /* the exact reference: the first exact multiplier of the library that the file lists */
    int ex = -1;
    for (int i = 0; i < lib->n && ex < 0; i++)
        if (lib->mults[i].is_exact && !isnan(em.e_layer[i])) ex = i;
    if (ex < 0) {
        int e0 = amul_lib_exact(lib);
        rc = amul_yaml_error(&y, mn, ST_EFORMAT, "no figures for the library's exact multiplier%s%s%s",
                             e0 >= 0 ? " '" : "", e0 >= 0 ? lib->mults[e0].name : "", e0 >= 0 ? "'" : "");
        goto fail;
    }
    for (int l = 0; l < n_layers; l++) {
        em.e_exact[l] = em.e_layer[(size_t)l * lib->n + ex];
        if (!(em.e_exact[l] > 0)) {
            rc = amul_yaml_error(&y, mn, ST_EFORMAT, "the exact multiplier '%s' has no positive energy in layer '%s'",
                                 lib->mults[ex].name, layers[l].name);
            goto fail;
        }
    }
    free(file_to_model);
    free(model_seen);
    amul_yaml_deinit(&y);
    *out = em;
    return ST_OK;
fail:
    free(file_to_model);
    free(model_seen);
    amul_yaml_deinit(&y);
    energy_model_deinit(&em);
    return rc;
}

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
/* Error compensation */

/* Taps per input row (or column): cnt[i] = #{(o, k) : o * stride - pad + k == i}. Returns the sum. */
static int64_t tap_counts(int32_t n_in, int32_t n_out, int32_t k, int32_t stride, int32_t pad, int64_t *cnt)
{
    int64_t sum = 0;
    for (int32_t i = 0; i < n_in; i++) cnt[i] = 0;
    for (int32_t o = 0; o < n_out; o++)
        for (int32_t t = 0; t < k; t++) {
            int32_t i = o * stride - pad + t;
            if (i >= 0 && i < n_in) {
                cnt[i]++;
                sum++;
            }
        }
    return sum;
}

void approx_tap_hist(const qnn_int8_layer *L, const int8_t *in, int32_t n_images, int per_channel,
                     uint64_t *counts)
{
    int64_t *cy = xmalloc(((size_t)L->h + (size_t)L->w) * sizeof *cy), *cx = cy + L->h;
    const int64_t sy = tap_counts(L->h, L->ho, L->kh, L->stride_h, L->pad_t, cy);
    const int64_t sx = tap_counts(L->w, L->wo, L->kw, L->stride_w, L->pad_l, cx);
    const uint64_t pad = (uint64_t)((int64_t)L->ho * L->wo * L->kh * L->kw - sy * sx);
    const size_t cin = (size_t)L->cin;
    for (int32_t img = 0; img < n_images; img++) {
        const int8_t *x = in + (size_t)img * L->h * L->w * cin;
        for (int32_t iy = 0; iy < L->h; iy++)
            for (int32_t ix = 0; ix < L->w; ix++) {
                const uint64_t wgt = (uint64_t)(cy[iy] * cx[ix]);
                if (!wgt) continue;
                const int8_t *px = x + ((size_t)iy * L->w + ix) * cin;
                if (per_channel)
                    for (size_t c = 0; c < cin; c++) counts[c * 256 + (uint8_t)px[c]] += wgt;
                else
                    for (size_t c = 0; c < cin; c++) counts[(uint8_t)px[c]] += wgt;
            }
        if (per_channel)
            for (size_t c = 0; c < cin; c++) counts[c * 256] += pad;
        else
            counts[0] += pad * cin;
    }
    free(cy);
}

int approx_comp_mode_parse(const char *s)
{
    return !strcmp(s, "bias") ? 1 : !strcmp(s, "bias-tensor") ? 0 : !strcmp(s, "none") ? -1 : -2;
}

/* A view of `net` with its own op array and, per layer, its own copy of the bias (bias[l], cout entries,
 * owned by the caller); every other array is the net's. */
static qnn_int8_net *view_alloc(const qnn_int8_net *net, int32_t **bias)
{
    qnn_int8_net *v = xmalloc(sizeof *v);
    *v = *net;
    v->ops = xmalloc((size_t)net->n_ops * sizeof *v->ops);
    memcpy(v->ops, net->ops, (size_t)net->n_ops * sizeof *v->ops);
    for (int l = 0; l < net->n_layers; l++) {
        const qnn_int8_layer *L = &net->layers[l];
        bias[l] = xcalloc((size_t)L->cout, sizeof **bias);
        if (net->ops[L->op_index].bias) memcpy(bias[l], net->ops[L->op_index].bias, (size_t)L->cout * sizeof **bias);
        v->ops[L->op_index].bias = bias[l];
    }
    return v;
}

/* Per-state storage: zero deltas, biases equal to the net's, the view running them. */
static void comp_alloc_state(approx_comp *c)
{
    const int nl = c->n_layers;
    c->delta = xcalloc((size_t)nl + 1, sizeof *c->delta);
    c->bias = xcalloc((size_t)nl + 1, sizeof *c->bias);
    for (int l = 0; l < nl; l++) c->delta[l] = xcalloc((size_t)c->net->layers[l].cout, sizeof **c->delta);
    c->view = view_alloc(c->net, c->bias);
}

static int32_t sat_add32(int32_t b, int32_t d)
{
    int64_t x = (int64_t)b + d;
    return (int32_t)(x > INT32_MAX ? INT32_MAX : x < INT32_MIN ? INT32_MIN : x);
}

int approx_comp_init(approx_comp *c, const qnn_int8_net *net, const amap_layer *layers, const amul_lib *lib,
                     const cifar_set *calib, int per_channel, int threads)
{
    if (!calib || calib->n < 1) return msg_error(ST_EINVAL, "error compensation needs calibration images");
    memset(c, 0, sizeof *c);
    c->net = net;
    c->layers = layers;
    c->lib = lib;
    c->n_layers = net->n_layers;
    c->per_channel = per_channel ? 1 : 0;
    c->n_images = calib->n;
    const int nl = net->n_layers;
    size_t *hist_off = xmalloc(((size_t)nl + 1) * sizeof *hist_off);
    hist_off[0] = 0;
    for (int l = 0; l < nl; l++) {
        const qnn_int8_layer *L = &net->layers[l];
        ASSERT(qnn_int8_tensor_bytes(net, net->ops[L->op_index].in[0]) == (size_t)L->h * L->w * L->cin);
        hist_off[l + 1] = hist_off[l] + (per_channel ? (size_t)L->cin : 1) * 256;
    }
    const size_t n_hist = hist_off[nl];
    uint64_t *total = xcalloc(n_hist + 1, sizeof *total);

    const int32_t chunk = 32, n_chunks = (calib->n + chunk - 1) / chunk;
    const size_t in_sz = (size_t)net->in_c * net->in_h * net->in_w;
    const int nt = n_threads_for(threads, n_chunks);
#pragma omp parallel num_threads(nt)
    {
        qnn_int8_ws *ws = qnn_int8_ws_alloc(net, chunk);
        uint64_t *cnt = xcalloc(n_hist + 1, sizeof *cnt);
#pragma omp for schedule(dynamic, 1)
        for (int32_t ch = 0; ch < n_chunks; ch++) {
            const int32_t first = ch * chunk, n = calib->n - first < chunk ? calib->n - first : chunk;
            qnn_int8_set_input(net, ws, calib->pixels + (size_t)first * in_sz, n);
            for (int op = 0; op < net->n_ops; op++) {
                const qnn_int8_op *o = &net->ops[op];
                if (o->op == QNN_OP_CONV)
                    approx_tap_hist(&net->layers[o->layer], qnn_int8_ws_tensor(ws, o->in[0]), n, per_channel,
                                    cnt + hist_off[o->layer]);
                qnn_int8_step(net, ws, op, NULL);
            }
        }
#pragma omp critical(approx_comp_hist)
        for (size_t k = 0; k < n_hist; k++) total[k] += cnt[k];
        free(cnt);
        qnn_int8_ws_free(ws);
    }

    c->owns_act = 1;
    c->act_p = xcalloc((size_t)nl + 1, sizeof *c->act_p);
    comp_alloc_state(c);
    for (int l = 0; l < nl; l++) {
        const size_t nh = hist_off[l + 1] - hist_off[l];
        c->act_p[l] = xmalloc(nh * sizeof **c->act_p);
        for (size_t r = 0; r < nh / 256; r++) {
            uint64_t sum = 0;
            for (int a = 0; a < 256; a++) sum += total[hist_off[l] + r * 256 + a];
            for (int a = 0; a < 256; a++)
                c->act_p[l][r * 256 + a] = sum ? (double)total[hist_off[l] + r * 256 + a] / (double)sum : 0.0;
        }
    }
    free(total);
    free(hist_off);
    return ST_OK;
}

void approx_comp_deinit(approx_comp *c)
{
    if (!c) return;
    for (int l = 0; l < c->n_layers; l++) {
        if (c->act_p && c->owns_act) free(c->act_p[l]);
        if (c->delta) free(c->delta[l]);
        if (c->bias) free(c->bias[l]);
    }
    if (c->owns_act) free(c->act_p);
    free(c->delta);
    free(c->bias);
    if (c->view) free(c->view->ops); /* everything else of the view belongs to the net */
    free(c->view);
    memset(c, 0, sizeof *c);
}

const qnn_int8_net *approx_comp_apply(approx_comp *c, const amap *m)
{
    ASSERT(m->n_layers == c->n_layers);
    for (int l = 0; l < c->n_layers; l++) {
        const qnn_int8_layer *L = &c->net->layers[l];
        amap_bias_compensation(m, l, &c->layers[l], c->lib, c->act_p[l], c->per_channel, c->delta[l]);
        const int32_t *b0 = c->net->ops[L->op_index].bias;
        for (int32_t co = 0; co < L->cout; co++) c->bias[l][co] = sat_add32(b0 ? b0[co] : 0, c->delta[l][co]);
    }
    return c->view;
}

void approx_comp_share(approx_comp *dst, const approx_comp *src)
{
    *dst = *src;
    dst->owns_act = 0;
    comp_alloc_state(dst);
}

void approx_comp_store(const approx_comp *c, amap *m)
{
    ASSERT(m->n_layers == c->n_layers);
    for (int l = 0; l < c->n_layers; l++)
        memcpy(amap_bias_delta_w(m, l), c->delta[l], (size_t)c->net->layers[l].cout * sizeof **c->delta);
}

qnn_int8_net *approx_bias_view(const qnn_int8_net *net, const amap *m)
{
    ASSERT(m->n_layers == net->n_layers);
    if (!m->bias_delta) return NULL;
    int32_t **bias = xcalloc((size_t)net->n_layers + 1, sizeof *bias);
    qnn_int8_net *v = view_alloc(net, bias); /* the view's op array holds the bias pointers from here on */
    for (int l = 0; l < net->n_layers; l++) {
        const int32_t *d = amap_bias_delta(m, l);
        for (int32_t co = 0; co < net->layers[l].cout; co++) bias[l][co] = sat_add32(bias[l][co], d[co]);
    }
    free(bias);
    return v;
}

void approx_bias_view_free(qnn_int8_net *view)
{
    if (!view) return;
    for (int l = 0; l < view->n_layers; l++) free((void *)view->ops[view->layers[l].op_index].bias);
    free(view->ops);
    free(view);
}

/* ---------------------------------------------------------------------------------------------- */
/* Sweep */

void approx_sweep_deinit(approx_sweep *s)
{
    if (!s) return;
    free(s->whole);
    free(s->whole_comp);
    free(s->layer);
    free(s->energy);
    free(s->energy_lib);
    free(s->saved);
    free(s->share);
    memset(s, 0, sizeof *s);
}

static int32_t count_correct(const int8_t *logits, int32_t n_out, const uint8_t *labels, int32_t n)
{
    int32_t ok = 0;
    for (int32_t k = 0; k < n; k++) {
        const int8_t *v = logits + (size_t)k * n_out;
        int best = 0;
        for (int j = 1; j < n_out; j++)
            if (v[j] > v[best]) best = j;
        ok += best == labels[k];
    }
    return ok;
}

int approx_sweep_run(const qnn_int8_net *net, const amap_layer *layers, const amul_lib *lib, const energy_model *em,
                     const cifar_set *set, const uint8_t *only, approx_comp *comp, int threads, approx_sweep *out)
{
    const int nm = lib->n, nl = net->n_layers;
    approx_sweep s = {0};
    s.n_mults = nm;
    s.n_layers = nl;
    s.n_images = set->n;
    s.whole = xcalloc((size_t)nm + 1, sizeof *s.whole);
    s.whole_comp = comp ? xcalloc((size_t)nm + 1, sizeof *s.whole_comp) : NULL;
    s.layer = xcalloc((size_t)nm * nl + 1, sizeof *s.layer);
    s.energy = xcalloc((size_t)nm + 1, sizeof *s.energy);
    s.energy_lib = em ? xcalloc((size_t)nm + 1, sizeof *s.energy_lib) : NULL;
    s.saved = xcalloc((size_t)nm * nl + 1, sizeof *s.saved);
    s.share = xcalloc((size_t)nl + 1, sizeof *s.share);

    /* maps, hooks and energies of the uniform maps */
    amap *maps = xcalloc((size_t)nm + 1, sizeof *maps);
    amap_mul *mul = xcalloc((size_t)nm + 1, sizeof *mul);
    energy_report er;
    energy_report_init(&er, nl, nm);
    int rc = ST_OK;
    for (int i = 0; i < nm; i++) {
        amap_init(&maps[i], layers, nl, (uint16_t)i);
        if (only && !only[i]) {
            s.whole[i] = -1;
            continue;
        }
        amap_mul_init(&mul[i], layers, nl, lib);
        amap_mul_build(&mul[i], &maps[i]);
        if ((rc = approx_energy(&maps[i], layers, lib, em, &er))) goto out;
        s.energy[i] = er.rel;
        for (int l = 0; l < nl; l++) {
            s.saved[(size_t)i * nl + l] = (er.layer_exact[l] - er.layer[l]) / er.exact;
            s.share[l] = er.layer_exact[l] / er.exact;
        }
        if (em) {
            if ((rc = approx_energy(&maps[i], layers, lib, NULL, &er))) goto out;
            s.energy_lib[i] = er.rel;
        }
    }

    /* live tensors before each layer (the state a one-layer run resumes from) */
    int *live = xmalloc(((size_t)nl * net->n_tensors + 1) * sizeof *live);
    int *n_live = xcalloc((size_t)nl + 1, sizeof *n_live);
    size_t *snap_off = xmalloc(((size_t)nl + 1) * sizeof *snap_off);
    int *layer_at_op = xmalloc(((size_t)net->n_ops + 1) * sizeof *layer_at_op);
    for (int op = 0; op < net->n_ops; op++) layer_at_op[op] = -1;
    const int32_t chunk = 32;
    snap_off[0] = 0;
    for (int l = 0; l < nl; l++) {
        n_live[l] = qnn_int8_live_before(net, net->layers[l].op_index, live + (size_t)l * net->n_tensors);
        size_t b = 0;
        for (int k = 0; k < n_live[l]; k++) b += qnn_int8_tensor_bytes(net, live[(size_t)l * net->n_tensors + k]);
        snap_off[l + 1] = snap_off[l] + b * chunk;
        layer_at_op[net->layers[l].op_index] = l;
    }

    const int32_t n_chunks = (set->n + chunk - 1) / chunk, n_out = qnn_int8_n_out(net);
    const size_t in_sz = (size_t)net->in_c * net->in_h * net->in_w;
    const int nt = n_threads_for(threads, n_chunks);
    int32_t exact_ok = 0;
#pragma omp parallel num_threads(nt)
    {
        qnn_int8_ws *ws = qnn_int8_ws_alloc(net, chunk);
        int8_t *snap = xmalloc(snap_off[nl] + 1);
        qnn_layer_mul *one = xcalloc((size_t)nl + 1, sizeof *one); /* all QNN_MUL_EXACT (0) */
        int32_t *ok_whole = xcalloc((size_t)nm + 1, sizeof *ok_whole);
        int32_t *ok_layer = xcalloc((size_t)nm * nl + 1, sizeof *ok_layer);
        int32_t ok_exact = 0;
#pragma omp for schedule(dynamic, 1)
        for (int32_t ch = 0; ch < n_chunks; ch++) {
            const int32_t first = ch * chunk, n = set->n - first < chunk ? set->n - first : chunk;
            const uint8_t *labels = set->labels + first;
            qnn_int8_set_input(net, ws, set->pixels + (size_t)first * in_sz, n);
            /* exact pass, saving the live tensors before every layer */
            for (int op = 0; op < net->n_ops; op++) {
                const int l = layer_at_op[op];
                if (l >= 0) {
                    int8_t *dst = snap + snap_off[l];
                    for (int k = 0; k < n_live[l]; k++) {
                        const int t = live[(size_t)l * net->n_tensors + k];
                        const size_t b = qnn_int8_tensor_bytes(net, t) * (size_t)n;
                        memcpy(dst, qnn_int8_ws_tensor(ws, t), b);
                        dst += b;
                    }
                }
                qnn_int8_step(net, ws, op, NULL);
            }
            ok_exact += count_correct(qnn_int8_ws_tensor(ws, net->output), n_out, labels, n);
            /* one layer at a time: resume at the layer from its saved state */
            for (int l = 0; l < nl; l++) {
                const int8_t *src = snap + snap_off[l];
                for (int k = 0; k < n_live[l]; k++) {
                    const int t = live[(size_t)l * net->n_tensors + k];
                    const size_t b = qnn_int8_tensor_bytes(net, t) * (size_t)n;
                    memcpy(qnn_int8_ws_tensor(ws, t), src, b);
                    src += b;
                }
                qnn_int8_ws_set_n(ws, n);
                for (int i = 0; i < nm; i++) {
                    if (only && !only[i]) continue;
                    one[l] = mul[i].layer[l];
                    qnn_int8_forward(net, ws, net->layers[l].op_index, one);
                    ok_layer[(size_t)i * nl + l] +=
                        count_correct(qnn_int8_ws_tensor(ws, net->output), n_out, labels, n);
                }
                memset(&one[l], 0, sizeof one[l]);
            }
            /* whole network: every snapshot has been used, so the tensors may be overwritten; the input
             * tensor is written only by set_input */
            for (int i = 0; i < nm; i++) {
                if (only && !only[i]) continue;
                qnn_int8_forward(net, ws, 0, mul[i].layer);
                ok_whole[i] += count_correct(qnn_int8_ws_tensor(ws, net->output), n_out, labels, n);
            }
        }
#pragma omp critical(approx_sweep_sum)
        {
            exact_ok += ok_exact;
            for (int i = 0; i < nm; i++) {
                if (only && !only[i]) continue;
                s.whole[i] += ok_whole[i];
                for (int l = 0; l < nl; l++) s.layer[(size_t)i * nl + l] += ok_layer[(size_t)i * nl + l];
            }
        }
        free(ok_layer);
        free(ok_whole);
        free(one);
        free(snap);
        qnn_int8_ws_free(ws);
    }
    s.exact_correct = exact_ok;
    free(live);
    free(n_live);
    free(snap_off);
    free(layer_at_op);

    if (comp)
        for (int i = 0; i < nm; i++) {
            if (only && !only[i]) {
                s.whole_comp[i] = -1;
                continue;
            }
            const qnn_int8_net *v = approx_comp_apply(comp, &maps[i]);
            s.whole_comp[i] = approx_correct(v, set, mul[i].layer, threads, NULL);
        }
out:
    energy_report_deinit(&er);
    for (int i = 0; i < nm; i++) {
        amap_deinit(&maps[i]);
        if (!only || only[i]) amap_mul_deinit(&mul[i]);
    }
    free(maps);
    free(mul);
    if (rc) {
        approx_sweep_deinit(&s);
        return rc;
    }
    *out = s;
    return ST_OK;
}
