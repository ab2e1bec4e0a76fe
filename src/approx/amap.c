/* Approximation maps: storage, genome expansion, YAML read/write, and the per-layer multiplier hook
 * builder (see amap.h). Invariants: every index in a map read or built here is < lib->n; the builder
 * never allocates (amap_mul_init sized everything for the worst case). */
#include "amap.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "afile.h"
#include "amul_yaml.h"
#include "msg.h"
#include "status.h"
#include "util.h"

void amap_init(amap *m, const amap_layer *layers, int n_layers, uint16_t fill)
{
    ASSERT(n_layers >= 0);
    m->n_layers = n_layers;
    m->offset = xmalloc(((size_t)n_layers + 1) * sizeof *m->offset);
    m->offset[0] = 0;
    for (int l = 0; l < n_layers; l++) {
        ASSERT(layers[l].cin > 0 && layers[l].cout > 0);
        m->offset[l + 1] = m->offset[l] + (size_t)layers[l].cout * layers[l].cin;
    }
    m->mult = xmalloc((m->offset[n_layers] ? m->offset[n_layers] : 1) * sizeof *m->mult);
    for (size_t i = 0; i < m->offset[n_layers]; i++) m->mult[i] = fill;
    m->boffset = xmalloc(((size_t)n_layers + 1) * sizeof *m->boffset);
    m->boffset[0] = 0;
    for (int l = 0; l < n_layers; l++) m->boffset[l + 1] = m->boffset[l] + (size_t)layers[l].cout;
    m->bias_delta = NULL;
    m->woffset = xmalloc(((size_t)n_layers + 1) * sizeof *m->woffset);
    m->woffset[0] = 0;
    for (int l = 0; l < n_layers; l++)
        m->woffset[l + 1] = m->woffset[l] + (size_t)layers[l].cout * layers[l].kh * layers[l].kw * layers[l].cin;
    m->wt = NULL;
}

int8_t *amap_wt_w(amap *m, int l, const amap_layer *layers)
{
    ASSERT(l >= 0 && l < m->n_layers);
    if (!m->wt) {
        m->wt = xcalloc(m->woffset[m->n_layers] + 1, 1);
        for (int k = 0; k < m->n_layers; k++)
            if (layers[k].w) memcpy(m->wt + m->woffset[k], layers[k].w, m->woffset[k + 1] - m->woffset[k]);
    }
    return m->wt + m->woffset[l];
}

int32_t *amap_bias_delta_w(amap *m, int l)
{
    ASSERT(l >= 0 && l < m->n_layers);
    if (!m->bias_delta) m->bias_delta = xcalloc(m->boffset[m->n_layers] + 1, sizeof *m->bias_delta);
    return m->bias_delta + m->boffset[l];
}

void amap_deinit(amap *m)
{
    if (!m) return;
    free(m->offset);
    free(m->mult);
    free(m->boffset);
    free(m->bias_delta);
    free(m->woffset);
    free(m->wt);
    memset(m, 0, sizeof *m);
}

const char *amap_granularity_name(amap_granularity g)
{
    switch (g) {
    case AMAP_LAYER: return "layer";
    case AMAP_FILTER: return "filter";
    case AMAP_KERNEL: return "kernel";
    }
    return "?";
}

int amap_granularity_parse(const char *s)
{
    for (int g = AMAP_LAYER; g <= AMAP_KERNEL; g++)
        if (!strcmp(s, amap_granularity_name((amap_granularity)g))) return g;
    return -1;
}

size_t amap_genome_len(const amap_layer *layers, int n_layers, amap_granularity g)
{
    size_t n = 0;
    for (int l = 0; l < n_layers; l++)
        n += g == AMAP_LAYER ? 1 : g == AMAP_FILTER ? (size_t)layers[l].cout : (size_t)layers[l].cout * layers[l].cin;
    return n;
}

static uint16_t gene(int v)
{
    ASSERT(v >= 0 && v < 65536);
    return (uint16_t)v;
}

void amap_expand_layer(amap *m, const int *genome)
{
    for (int l = 0; l < m->n_layers; l++) {
        uint16_t v = gene(genome[l]);
        for (size_t i = m->offset[l]; i < m->offset[l + 1]; i++) m->mult[i] = v;
    }
}

void amap_expand_filter(amap *m, const amap_layer *layers, const int *genome)
{
    size_t gi = 0;
    for (int l = 0; l < m->n_layers; l++) {
        uint16_t *row = amap_layer_mults(m, l);
        for (int32_t co = 0; co < layers[l].cout; co++) {
            uint16_t v = gene(genome[gi++]);
            for (int32_t ci = 0; ci < layers[l].cin; ci++) row[(size_t)co * layers[l].cin + ci] = v;
        }
    }
}

void amap_expand_kernel(amap *m, const int *genome)
{
    for (size_t i = 0; i < m->offset[m->n_layers]; i++) m->mult[i] = gene(genome[i]);
}

void amap_expand(amap *m, const amap_layer *layers, amap_granularity g, const int *genome)
{
    switch (g) {
    case AMAP_LAYER: amap_expand_layer(m, genome); break;
    case AMAP_FILTER: amap_expand_filter(m, layers, genome); break;
    case AMAP_KERNEL: amap_expand_kernel(m, genome); break;
    }
}

int amap_valid(const amap *m, int n_mults)
{
    for (size_t i = 0; i < m->offset[m->n_layers]; i++)
        if (m->mult[i] >= n_mults) return 0;
    return 1;
}

/* --- YAML reading ------------------------------------------------------------------------------ */

/* Multiplier index named by scalar node `n`, or an error. */
static int mult_of(amul_yaml *y, const yaml_node_t *n, const amul_lib *lib, const char *what, uint16_t *out)
{
    const char *s;
    int rc = amul_yaml_get_str(y, n, what, &s);
    if (rc) return rc;
    int i = amul_lib_find(lib, s);
    if (i < 0) return amul_yaml_error(y, n, ST_EFORMAT, "unknown multiplier '%s' (not in library '%s')", s, lib->path);
    *out = (uint16_t)i;
    return ST_OK;
}

/* A channel index in 0..n-1 from text `s` (the whole text), reported at `n`. */
static int channel(amul_yaml *y, const yaml_node_t *n, const char *s, const char *what, const amap_layer *L,
                   int32_t limit, int32_t *out)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (!*s || *end || errno) return amul_yaml_error(y, n, ST_EFORMAT, "%s '%s' is not an integer", what, s);
    if (v < 0 || v >= limit)
        return amul_yaml_error(y, n, ST_EFORMAT, "%s %ld is outside layer '%s' (0..%ld)", what, v, L->name,
                               (long)limit - 1);
    *out = (int32_t)v;
    return ST_OK;
}

static void fill_filter(uint16_t *row, const amap_layer *L, int32_t co, uint16_t v)
{
    for (int32_t ci = 0; ci < L->cin; ci++) row[(size_t)co * L->cin + ci] = v;
}

/* seen: scratch of at least cout * cin bytes, for duplicate detection in O(1) per entry */
static int read_filters(amul_yaml *y, const yaml_node_t *n, const amul_lib *lib, const amap_layer *L, uint16_t *row,
                        uint8_t *seen)
{
    uint16_t v;
    int rc;
    if (n->type == YAML_SEQUENCE_NODE) {
        long len = (long)(n->data.sequence.items.top - n->data.sequence.items.start);
        if (len != L->cout)
            return amul_yaml_error(y, n, ST_EFORMAT, "'filters' list has %ld entries, layer '%s' has %ld filters", len,
                                   L->name, (long)L->cout);
        for (int32_t co = 0; co < L->cout; co++) {
            if ((rc = mult_of(y, amul_yaml_node(y, n->data.sequence.items.start[co]), lib, "filter", &v))) return rc;
            fill_filter(row, L, co, v);
        }
        return ST_OK;
    }
    if ((rc = amul_yaml_expect(y, n, YAML_MAPPING_NODE, "'filters'"))) return rc;
    memset(seen, 0, (size_t)L->cout);
    for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top; p++) {
        yaml_node_t *k = amul_yaml_node(y, p->key);
        const char *ks = amul_yaml_str(k);
        int32_t co;
        if (!ks) return amul_yaml_error(y, k, ST_EFORMAT, "filter keys must be output channel numbers");
        if ((rc = channel(y, k, ks, "output channel", L, L->cout, &co))) return rc;
        if (seen[co]++) return amul_yaml_error(y, k, ST_EFORMAT, "duplicate filter %ld", (long)co);
        if ((rc = mult_of(y, amul_yaml_node(y, p->value), lib, "filter", &v))) return rc;
        fill_filter(row, L, co, v);
    }
    return ST_OK;
}

static int read_kernels(amul_yaml *y, const yaml_node_t *n, const amul_lib *lib, const amap_layer *L, uint16_t *row,
                        uint8_t *seen)
{
    uint16_t v;
    int rc;
    if (n->type == YAML_SEQUENCE_NODE) {
        long len = (long)(n->data.sequence.items.top - n->data.sequence.items.start);
        if (len != L->cout)
            return amul_yaml_error(y, n, ST_EFORMAT, "'kernels' list has %ld rows, layer '%s' has %ld filters", len,
                                   L->name, (long)L->cout);
        for (int32_t co = 0; co < L->cout; co++) {
            yaml_node_t *r = amul_yaml_node(y, n->data.sequence.items.start[co]);
            if ((rc = amul_yaml_expect(y, r, YAML_SEQUENCE_NODE, "a 'kernels' row"))) return rc;
            long rl = (long)(r->data.sequence.items.top - r->data.sequence.items.start);
            if (rl != L->cin)
                return amul_yaml_error(y, r, ST_EFORMAT, "'kernels' row %ld has %ld entries, layer '%s' has %ld inputs",
                                       (long)co, rl, L->name, (long)L->cin);
            for (int32_t ci = 0; ci < L->cin; ci++) {
                if ((rc = mult_of(y, amul_yaml_node(y, r->data.sequence.items.start[ci]), lib, "kernel", &v))) return rc;
                row[(size_t)co * L->cin + ci] = v;
            }
        }
        return ST_OK;
    }
    if ((rc = amul_yaml_expect(y, n, YAML_MAPPING_NODE, "'kernels'"))) return rc;
    memset(seen, 0, (size_t)L->cout * L->cin);
    for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top; p++) {
        yaml_node_t *k = amul_yaml_node(y, p->key);
        const char *ks = amul_yaml_str(k);
        if (!ks) return amul_yaml_error(y, k, ST_EFORMAT, "kernel keys must be \"co,ci\"");
        const char *comma = strchr(ks, ',');
        if (!comma) return amul_yaml_error(y, k, ST_EFORMAT, "kernel key '%s' must be \"co,ci\"", ks);
        char co_s[32], ci_s[32];
        snprintf(co_s, sizeof co_s, "%.*s", (int)(comma - ks), ks);
        snprintf(ci_s, sizeof ci_s, "%s", comma + 1 + strspn(comma + 1, " "));
        int32_t co, ci;
        if ((rc = channel(y, k, co_s, "output channel", L, L->cout, &co)) ||
            (rc = channel(y, k, ci_s, "input channel", L, L->cin, &ci)))
            return rc;
        if (seen[(size_t)co * L->cin + ci]++)
            return amul_yaml_error(y, k, ST_EFORMAT, "duplicate kernel %ld,%ld", (long)co, (long)ci);
        if ((rc = mult_of(y, amul_yaml_node(y, p->value), lib, "kernel", &v))) return rc;
        row[(size_t)co * L->cin + ci] = v;
    }
    return ST_OK;
}

static const char *const top_keys[] = {"library", "default", "layers", NULL};
static const char *const layer_keys[] = {"default", "filters", "kernels", "bias_delta", "weights", NULL};

/* `weights`: the layer's stored int8 weights, (cout, kh, kw, cin) in two hex digits each (two's complement). */
static int read_weights(amul_yaml *y, const yaml_node_t *n, amap *m, int l, const amap_layer *layers)
{
    const amap_layer *L = &layers[l];
    const size_t nw = (size_t)L->cout * L->kh * L->kw * L->cin;
    const char *s = amul_yaml_str(n);
    if (!s || strlen(s) != 2 * nw)
        return amul_yaml_error(y, n, ST_EFORMAT, "'weights' must be %zu hex digits (layer '%s': %zu int8 weights)",
                               2 * nw, L->name, nw);
    int8_t *w = amap_wt_w(m, l, layers);
    for (size_t i = 0; i < nw; i++) {
        int v = 0;
        for (int k = 0; k < 2; k++) {
            const char ch = s[2 * i + k];
            const int d = ch >= '0' && ch <= '9' ? ch - '0' : ch >= 'a' && ch <= 'f' ? ch - 'a' + 10 : -1;
            if (d < 0) return amul_yaml_error(y, n, ST_EFORMAT, "'weights' has '%c' at digit %zu: not a hex digit (0-9, a-f)", ch, 2 * i + k);
            v = v * 16 + d;
        }
        w[i] = (int8_t)(uint8_t)v;
    }
    return ST_OK;
}

static int read_bias_delta(amul_yaml *y, const yaml_node_t *n, amap *m, int l, const amap_layer *L)
{
    int rc;
    if ((rc = amul_yaml_expect(y, n, YAML_SEQUENCE_NODE, "'bias_delta' (a list of cout integers)"))) return rc;
    long len = (long)(n->data.sequence.items.top - n->data.sequence.items.start);
    if (len != L->cout)
        return amul_yaml_error(y, n, ST_EFORMAT, "'bias_delta' has %ld entries, layer '%s' has %ld filters", len,
                               L->name, (long)L->cout);
    int32_t *d = amap_bias_delta_w(m, l);
    for (int32_t co = 0; co < L->cout; co++) {
        yaml_node_t *e = amul_yaml_node(y, n->data.sequence.items.start[co]);
        const char *s = amul_yaml_str(e);
        char *end = NULL;
        errno = 0;
        long long v = s ? strtoll(s, &end, 10) : 0;
        if (!s || !*s || *end || errno || v < INT32_MIN || v > INT32_MAX)
            return amul_yaml_error(y, e, ST_EFORMAT, "'bias_delta' entries must be integers in int32 range");
        d[co] = (int32_t)v;
    }
    return ST_OK;
}

static int read_map(amul_yaml *y, amap *m, const amul_lib *lib, const amap_layer *layers, int n_layers,
                    uint8_t *seen)
{
    int rc;
    if ((rc = amul_yaml_expect(y, y->root, YAML_MAPPING_NODE, "an approximation map")) ||
        (rc = amul_yaml_check_keys(y, y->root, top_keys)))
        return rc;
    yaml_node_t *n;
    const char *s;
    if ((n = amul_yaml_get(y, y->root, "library"))) {
        if ((rc = amul_yaml_get_str(y, n, "library", &s))) return rc;
        if (lib->name && strcmp(s, lib->name)) {
            char *w = amul_yaml_where(y, n);
            msg_warn("%smap was written for library '%s', reading it with '%s'", w, s, lib->name);
            free(w);
        }
    }
    uint16_t dflt = 0;
    int has_dflt = 0;
    if ((n = amul_yaml_get(y, y->root, "default"))) {
        if ((rc = mult_of(y, n, lib, "default", &dflt))) return rc;
        has_dflt = 1;
    }
    yaml_node_t *ln = amul_yaml_get(y, y->root, "layers");
    if (ln && (rc = amul_yaml_expect(y, ln, YAML_MAPPING_NODE, "'layers'"))) return rc;
    for (yaml_node_pair_t *p = ln ? ln->data.mapping.pairs.start : NULL; ln && p < ln->data.mapping.pairs.top; p++) {
        yaml_node_t *k = amul_yaml_node(y, p->key);
        const char *ks = amul_yaml_str(k);
        int found = 0;
        for (int l = 0; ks && l < n_layers && !found; l++) found = !strcmp(ks, layers[l].name);
        if (!found && !n_layers) return amul_yaml_error(y, k, ST_EFORMAT, "unknown layer '%s' (the model has none)", ks ? ks : "?");
        if (!found)
            return amul_yaml_error(y, k, ST_EFORMAT, "unknown layer '%s' (the model's layers: %s ... %s)",
                                   ks ? ks : "?", layers[0].name, layers[n_layers - 1].name);
    }
    /* the layer names are the allowed keys (this also rejects duplicates) */
    const char **names = xmalloc(((size_t)n_layers + 1) * sizeof *names);
    for (int l = 0; l < n_layers; l++) names[l] = layers[l].name;
    names[n_layers] = NULL;
    rc = ln ? amul_yaml_check_keys(y, ln, names) : ST_OK;
    free(names);
    if (rc) return rc;
    for (int l = 0; l < n_layers; l++) {
        const amap_layer *L = &layers[l];
        uint16_t *row = amap_layer_mults(m, l);
        yaml_node_t *e = ln ? amul_yaml_get(y, ln, L->name) : NULL;
        uint16_t v = dflt;
        if (!e) {
            if (!has_dflt)
                return amul_yaml_error(y, ln ? ln : y->root, ST_EFORMAT,
                                       "layer '%s' has no multiplier (no entry and no top-level 'default')", L->name);
        } else if (e->type == YAML_SCALAR_NODE) {
            if ((rc = mult_of(y, e, lib, "layer", &v))) return rc;
        } else {
            if ((rc = amul_yaml_expect(y, e, YAML_MAPPING_NODE, "a layer entry")) ||
                (rc = amul_yaml_check_keys(y, e, layer_keys)))
                return rc;
            yaml_node_t *d = amul_yaml_get(y, e, "default");
            if (d) {
                if ((rc = mult_of(y, d, lib, "default", &v))) return rc;
            } else if (!has_dflt) {
                return amul_yaml_error(y, e, ST_EFORMAT, "layer '%s' has no 'default' (and the map none)", L->name);
            }
        }
        for (size_t i = 0; i < (size_t)L->cout * L->cin; i++) row[i] = v;
        if (!e || e->type != YAML_MAPPING_NODE) continue;
        yaml_node_t *f = amul_yaml_get(y, e, "filters"), *k = amul_yaml_get(y, e, "kernels");
        if (f && (rc = read_filters(y, f, lib, L, row, seen))) return rc;
        if (k && (rc = read_kernels(y, k, lib, L, row, seen))) return rc;
        yaml_node_t *b = amul_yaml_get(y, e, "bias_delta");
        if (b && (rc = read_bias_delta(y, b, m, l, L))) return rc;
        yaml_node_t *wn = amul_yaml_get(y, e, "weights");
        if (wn && (rc = read_weights(y, wn, m, l, layers))) return rc;
    }
    return ST_OK;
}

int amap_read(amap *m, const char *path, const amul_lib *lib, const amap_layer *layers, int n_layers)
{
    amul_yaml y;
    int rc = amul_yaml_load(&y, path);
    if (rc) return rc;
    amap tmp;
    amap_init(&tmp, layers, n_layers, 0);
    size_t max_nk = 1;
    for (int l = 0; l < n_layers; l++)
        if ((size_t)layers[l].cout * layers[l].cin > max_nk) max_nk = (size_t)layers[l].cout * layers[l].cin;
    uint8_t *seen = xmalloc(max_nk);
    rc = read_map(&y, &tmp, lib, layers, n_layers, seen);
    free(seen);
    amul_yaml_deinit(&y);
    if (rc) {
        amap_deinit(&tmp);
        return rc;
    }
    *m = tmp;
    return ST_OK;
}

/* --- YAML writing ------------------------------------------------------------------------------ */

/* Most frequent multiplier among n entries (stride apart), ties to the lowest index. counts: lib->n. */
static uint16_t mode_of(const uint16_t *v, size_t n, size_t stride, int *counts, int n_mults)
{
    memset(counts, 0, (size_t)n_mults * sizeof *counts);
    for (size_t i = 0; i < n; i++) counts[v[i * stride]]++;
    int best = 0;
    for (int i = 1; i < n_mults; i++)
        if (counts[i] > counts[best]) best = i;
    return (uint16_t)best;
}

void amap_write_stream(const amap *m, FILE *fp, const amul_lib *lib, const amap_layer *layers)
{
    ASSERT(amap_valid(m, lib->n));
    int *counts = xmalloc((size_t)lib->n * sizeof *counts);
    fprintf(fp, "# approxmap approximation map: a multiplier per (layer, output channel, input channel)\n");
    fprintf(fp, "# kernel; per layer a default, then filter and kernel overrides (problems/multipliers/README.md)\n");
    if (lib->name) fprintf(fp, "library: %s\n", lib->name);
    fprintf(fp, "layers:\n");
    for (int l = 0; l < m->n_layers; l++) {
        const amap_layer *L = &layers[l];
        const uint16_t *row = amap_layer_mults(m, l);
        size_t nk = (size_t)L->cout * L->cin;
        uint16_t d = mode_of(row, nk, 1, counts, lib->n);
        fprintf(fp, "  ");
        util_put_yaml_str(fp, L->name);
        const int32_t *bd = amap_bias_delta(m, l);
        if (bd) { /* written only when some delta of the layer is not 0 */
            int nz = 0;
            for (int32_t co = 0; co < L->cout && !nz; co++) nz = bd[co] != 0;
            if (!nz) bd = NULL;
        }
        const int8_t *wt = amap_wt(m, l); /* written only when they differ from the layer's own */
        const size_t nw = m->woffset[l + 1] - m->woffset[l];
        if (wt && L->w && !memcmp(wt, L->w, nw)) wt = NULL;
        if ((size_t)counts[d] == nk && !bd && !wt) {
            fprintf(fp, ": %s\n", lib->mults[d].name);
            continue;
        }
        fprintf(fp, ":\n    default: %s\n", lib->mults[d].name);
        if (bd) {
            fprintf(fp, "    bias_delta: [");
            for (int32_t co = 0; co < L->cout; co++) fprintf(fp, "%s%ld", co ? ", " : "", (long)bd[co]);
            fprintf(fp, "]\n");
        }
        if (wt) {
            fprintf(fp, "    weights: \"");
            for (size_t i = 0; i < nw; i++) fprintf(fp, "%02x", (unsigned)(uint8_t)wt[i]);
            fprintf(fp, "\"\n");
        }
        if ((size_t)counts[d] == nk) continue;
        size_t n_over = 0; /* kernels that differ from their filter's most frequent multiplier */
        for (int32_t co = 0; co < L->cout; co++) {
            uint16_t f = mode_of(row + (size_t)co * L->cin, (size_t)L->cin, 1, counts, lib->n);
            for (int32_t ci = 0; ci < L->cin; ci++) n_over += row[(size_t)co * L->cin + ci] != f;
        }
        if (n_over * 2 > nk) {
            /* mostly kernel-level: the whole matrix, one row of cin names per output channel */
            fprintf(fp, "    kernels:\n");
            for (int32_t co = 0; co < L->cout; co++) {
                fprintf(fp, "      - [");
                for (int32_t ci = 0; ci < L->cin; ci++)
                    fprintf(fp, "%s%s", ci ? ", " : "", lib->mults[row[(size_t)co * L->cin + ci]].name);
                fprintf(fp, "]\n");
            }
            continue;
        }
        int any = 0;
        for (int32_t co = 0; co < L->cout; co++) {
            uint16_t f = mode_of(row + (size_t)co * L->cin, (size_t)L->cin, 1, counts, lib->n);
            if (f == d) continue;
            if (!any++) fprintf(fp, "    filters:\n");
            fprintf(fp, "      %ld: %s\n", (long)co, lib->mults[f].name);
        }
        any = 0;
        for (int32_t co = 0; co < L->cout; co++) {
            uint16_t f = mode_of(row + (size_t)co * L->cin, (size_t)L->cin, 1, counts, lib->n);
            for (int32_t ci = 0; ci < L->cin; ci++) {
                uint16_t v = row[(size_t)co * L->cin + ci];
                if (v == f) continue;
                if (!any++) fprintf(fp, "    kernels:\n");
                fprintf(fp, "      \"%ld,%ld\": %s\n", (long)co, (long)ci, lib->mults[v].name);
            }
        }
    }
    free(counts);
}

int amap_write(const amap *m, const char *path, const amul_lib *lib, const amap_layer *layers)
{
    afile *af = afile_open(path);
    if (!af) return ST_EIO;
    FILE *fp = afile_stream(af);
    amap_write_stream(m, fp, lib, layers);
    if (ferror(fp)) {
        afile_abort(af);
        return msg_error(ST_EIO, "cannot write map '%s'", path);
    }
    return afile_commit(af);
}

/* --- engine hooks -------------------------------------------------------------------------------- */

void amap_mul_init(amap_mul *b, const amap_layer *layers, int n_layers, const amul_lib *lib)
{
    memset(b, 0, sizeof *b);
    b->n_layers = n_layers;
    b->layers = layers;
    b->lib = lib;
    size_t nl = n_layers ? (size_t)n_layers : 1;
    b->layer = xcalloc(nl, sizeof *b->layer);
    b->act_tf = xcalloc(nl, sizeof *b->act_tf);
    b->plane_of = xcalloc(nl, sizeof *b->plane_of);
    b->w_tf = xcalloc(nl, sizeof *b->w_tf);
    b->luts = xcalloc(nl, sizeof *b->luts);
    b->lut_of = xcalloc(nl, sizeof *b->lut_of);
    b->scratch = xcalloc((size_t)lib->n, sizeof *b->scratch);
    b->bias = xcalloc(nl, sizeof *b->bias);
    for (int l = 0; l < n_layers; l++) {
        const amap_layer *L = &layers[l];
        size_t nk = (size_t)L->cout * L->cin;
        b->act_tf[l] = xcalloc((size_t)QNN_MUL_MAX_PLANES * 256, sizeof **b->act_tf);
        b->plane_of[l] = xcalloc(nk, sizeof **b->plane_of);
        b->w_tf[l] = xcalloc(nk * L->kh * L->kw, sizeof **b->w_tf);
        b->luts[l] = xcalloc((size_t)lib->n, sizeof **b->luts);
        b->lut_of[l] = xcalloc(nk, sizeof **b->lut_of);
        b->bias[l] = xcalloc((size_t)L->cout + 1, sizeof **b->bias);
    }
}

void amap_mul_deinit(amap_mul *b)
{
    if (!b || !b->layer) return;
    for (int l = 0; l < b->n_layers; l++) {
        free(b->act_tf[l]);
        free(b->plane_of[l]);
        free(b->w_tf[l]);
        free(b->luts[l]);
        free(b->lut_of[l]);
        free(b->bias[l]);
    }
    free(b->bias);
    free(b->act_tf);
    free(b->plane_of);
    free(b->w_tf);
    free(b->luts);
    free(b->lut_of);
    free(b->layer);
    free(b->scratch);
    memset(b, 0, sizeof *b);
}

/* Index of activation transform f among the n planes (256 entries each), or n when it is not there. */
static int find_plane(const int16_t *planes, int n, const int16_t *f)
{
    int p = 0;
    while (p < n && memcmp(planes + (size_t)p * 256, f, 256 * sizeof *f)) p++;
    return p;
}

int amap_layer_separable(const amul_lib *lib, const uint16_t *row, size_t nk)
{
    uint8_t *seen = xcalloc((size_t)lib->n + 1, 1);
    int16_t planes[QNN_MUL_MAX_PLANES * 256];
    int n_planes = 0, ok = 1;
    for (size_t i = 0; i < nk && ok; i++) {
        if (seen[row[i]]) continue;
        seen[row[i]] = 1;
        const amul *mu = &lib->mults[row[i]];
        const int p = mu->separable ? find_plane(planes, n_planes, mu->f) : -1;
        if (p < 0 || (p == n_planes && n_planes == QNN_MUL_MAX_PLANES)) ok = 0;
        else if (p == n_planes) memcpy(planes + (size_t)n_planes++ * 256, mu->f, sizeof mu->f);
    }
    free(seen);
    return ok;
}

/* Separable hook for layer l; returns 0 (leaving a partial fill) when the layer needs more planes. */
static int build_separable(amap_mul *b, int l, const uint16_t *row, const int8_t *W)
{
    const amap_layer *L = &b->layers[l];
    const amul_lib *lib = b->lib;
    size_t nk = (size_t)L->cout * L->cin;
    int16_t *act = b->act_tf[l];
    int n_planes = 0;
    for (int i = 0; i < lib->n; i++) b->scratch[i] = -1;
    for (size_t i = 0; i < nk; i++) {
        int mi = row[i];
        if (b->scratch[mi] < 0) {
            const int16_t *f = lib->mults[mi].f;
            const int p = find_plane(act, n_planes, f);
            if (p == n_planes) {
                if (n_planes == QNN_MUL_MAX_PLANES) return 0;
                memcpy(act + (size_t)p * 256, f, 256 * sizeof *f);
                n_planes++;
            }
            b->scratch[mi] = p;
        }
        b->plane_of[l][i] = (uint8_t)b->scratch[mi];
    }
    ASSERT(L->w != NULL);
    const size_t taps = (size_t)L->kh * L->kw;
    for (int32_t co = 0; co < L->cout; co++)
        for (size_t t = 0; t < taps; t++) {
            size_t base = ((size_t)co * taps + t) * L->cin;
            for (int32_t ci = 0; ci < L->cin; ci++) {
                const int16_t *g = lib->mults[row[(size_t)co * L->cin + ci]].g;
                b->w_tf[l][base + ci] = g[(uint8_t)W[base + ci]];
            }
        }
    qnn_layer_mul *h = &b->layer[l];
    memset(h, 0, sizeof *h);
    h->kind = QNN_MUL_SEPARABLE;
    h->n_planes = n_planes;
    h->act_tf = act;
    h->plane_of = b->plane_of[l];
    h->w_tf = b->w_tf[l];
    return 1;
}

static void build_lut(amap_mul *b, int l, const uint16_t *row)
{
    const amap_layer *L = &b->layers[l];
    const amul_lib *lib = b->lib;
    size_t nk = (size_t)L->cout * L->cin;
    int n_luts = 0;
    for (int i = 0; i < lib->n; i++) b->scratch[i] = -1;
    for (size_t i = 0; i < nk; i++) {
        int mi = row[i];
        if (b->scratch[mi] < 0) {
            b->luts[l][n_luts] = lib->mults[mi].lut;
            b->scratch[mi] = n_luts++;
        }
        b->lut_of[l][i] = (uint16_t)b->scratch[mi];
    }
    qnn_layer_mul *h = &b->layer[l];
    memset(h, 0, sizeof *h);
    h->kind = QNN_MUL_LUT;
    h->n_luts = n_luts;
    h->luts = b->luts[l];
    h->lut_of = b->lut_of[l];
}

static int32_t sat_add32(int32_t b, int32_t d)
{
    int64_t x = (int64_t)b + d;
    return (int32_t)(x > INT32_MAX ? INT32_MAX : x < INT32_MIN ? INT32_MIN : x);
}

static void build(amap_mul *b, const amap *m, int with_bias)
{
    ASSERT(m->n_layers == b->n_layers);
    for (int l = 0; l < b->n_layers; l++) {
        const amap_layer *L = &b->layers[l];
        const uint16_t *row = amap_layer_mults(m, l);
        size_t nk = (size_t)L->cout * L->cin;
        int all_exact = 1, all_sep = 1;
        for (size_t i = 0; i < nk; i++) {
            ASSERT(row[i] < b->lib->n);
            const amul *mu = &b->lib->mults[row[i]];
            all_exact &= mu->is_exact;
            all_sep &= mu->separable;
        }
        const int8_t *wt = with_bias ? amap_wt(m, l) : NULL, *W = wt ? wt : L->w;
        /* only the separable hook carries weights: the others run the layer's own, which tuned weights
         * then must equal */
        if (all_exact && (!wt || !memcmp(wt, L->w, m->woffset[l + 1] - m->woffset[l]))) {
            memset(&b->layer[l], 0, sizeof b->layer[l]);
            b->layer[l].kind = QNN_MUL_EXACT;
        } else if (!(all_sep && build_separable(b, l, row, W))) {
            ASSERT(!wt || !memcmp(wt, L->w, m->woffset[l + 1] - m->woffset[l]));
            build_lut(b, l, row);
        }
        const int32_t *d = with_bias ? amap_bias_delta(m, l) : NULL;
        if (d) {
            for (int32_t co = 0; co < L->cout; co++) b->bias[l][co] = sat_add32(L->bias ? L->bias[co] : 0, d[co]);
            b->layer[l].bias = b->bias[l];
        }
    }
}

void amap_mul_build(amap_mul *b, const amap *m)
{
    build(b, m, 1);
}

void amap_mul_build_plain(amap_mul *b, const amap *m)
{
    build(b, m, 0);
}

/* --- error compensation -------------------------------------------------------------------------- */

void amap_bias_compensation(const amap *m, int l, const amap_layer *L, const amul_lib *lib, const double *act_p,
                            int per_channel, const double *shift, int32_t *delta)
{
    ASSERT(l >= 0 && l < m->n_layers && L->w != NULL && (!shift || per_channel));
    const uint16_t *row = amap_layer_mults(m, l);
    const int8_t *wt = amap_wt(m, l); /* tuned weights: the multiplier gets wt, the exact product is a * w */
    const size_t taps = (size_t)L->kh * L->kw;
    for (int32_t co = 0; co < L->cout; co++) {
        double err = 0;
        for (int32_t ci = 0; ci < L->cin; ci++) {
            const amul *mu = &lib->mults[row[(size_t)co * L->cin + ci]];
            const double *p = act_p + (per_channel ? (size_t)ci * 256 : 0);
            for (size_t t = 0; t < taps; t++) {
                const size_t i = ((size_t)co * taps + t) * L->cin + ci;
                int8_t w = L->w[i], ws = wt ? wt[i] : w;
                if (shift) err += w * shift[ci];
                if (mu->is_exact && ws == w) continue;
                for (int a = 0; a < 256; a++) {
                    if (p[a] == 0) continue;
                    int32_t e = mu->lut[a * 256 + (uint8_t)ws] - (int8_t)a * w;
                    err += p[a] * e;
                }
            }
        }
        double d = -err;
        delta[co] = (int32_t)(d < 0 ? d - 0.5 : d + 0.5); /* round half away from zero */
    }
}
