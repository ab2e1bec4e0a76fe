/* Per-layer energy models (energy_model.h). */
#include "energy_model.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "afile.h"
#include "amul_yaml.h"
#include "datadir.h"
#include "msg.h"
#include "status.h"

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

int energy_model_write(const char *path, const energy_model_file *e)
{
    afile *af = afile_open(path);
    if (!af) return ST_EIO;
    FILE *f = afile_stream(af);
    fprintf(f, "# Per-layer energy per multiplication (fJ, zero-delay) of the ROUP multipliers on the operand\n");
    fprintf(f, "# streams the exact int8 network feeds each approximable layer, written by\n");
    fprintf(f, "# `approxmap characterize --layers`. Energy of a map = sum over kernels of MACs x fj[layer].\n");
    fprintf(f, "# Stream order: weight-stationary (one weight held, activations of its tap streamed output pixel\n");
    fprintf(f, "# by output pixel in raster order, image after image; padding taps give a = 0); per layer, runs of\n");
    fprintf(f, "# up to %d consecutive pairs for evenly spaced weights, each from a PCG32-drawn start.\n", e->run);
    fprintf(f, "# fj lists follow the order of `layers`; network_relative is the uniform map's whole-network\n");
    fprintf(f, "# energy (MAC-weighted) relative to exact, uniform_relative the same multiplier on the uniform stream.\n");
    fprintf(f, "provenance:\n");
    fprintf(f, "  tool: \"%s\"\n", e->tool);
    fprintf(f, "  cell_library: \"%s\"\n", e->cell_library);
    fprintf(f, "  corner: \"%s\"\n", e->corner);
    fprintf(f, "  model: \"%s\"\n", e->model);
    fprintf(f, "  stream: \"%s\"\n", e->stream);
    fprintf(f, "  uniform_stream: \"%s\"\n", e->uniform_stream);
    fprintf(f, "layers:\n");
    for (int l = 0; l < e->n_layers; l++)
        fprintf(f, "  - {name: %s, macs: %llu, pairs: %zu}\n", e->layer_names[l], (unsigned long long)e->macs[l],
                e->pairs[l]);
    fprintf(f, "multipliers:\n");
    for (int i = 0; i < e->n_mults; i++) {
        fprintf(f, "  - {name: %s, network_relative: %.4f, uniform_relative: %.4f,\n     fj: [", e->mult_names[i],
                e->network_rel[i], e->uniform_rel[i]);
        for (int l = 0; l < e->n_layers; l++) fprintf(f, "%s%.2f", l ? ", " : "", e->fj[(size_t)i * e->n_layers + l]);
        fprintf(f, "]}\n");
    }
    return afile_commit(af);
}
