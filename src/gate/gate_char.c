/* Characterization pipeline of the ROUP multipliers (see gate_char.h). */
#include "gate_char.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "afile.h"
#include "cifar.h"
#include "datadir.h"
#include "energy_model.h"
#include "gate_gen.h"
#include "gate_net.h"
#include "msg.h"
#include "qnn_int8.h"
#include "qnn_quant.h"
#include "rng.h"
#include "status.h"

enum { NK = GATE_CHAR_NK, NM = GATE_CHAR_NM };

/* Stream 0: uniform PCG32 pairs, or the pairs of a file. */
static int load_stream(const gate_char_opts *o, gate_char_stream *st)
{
    if (!strcmp(o->stream, "uniform")) {
        rng_pcg32 r;
        rng_seed(&r, o->seed, GATE_CHAR_RNG_SEQ);
        st->n = (size_t)o->pairs;
        st->a = xmalloc(st->n);
        st->w = xmalloc(st->n);
        for (size_t i = 0; i < st->n; i++) {
            uint32_t x = rng_u32(&r);
            st->a[i] = (int8_t)(uint8_t)(x & 255);
            st->w[i] = (int8_t)(uint8_t)((x >> 8) & 255);
        }
        st->name = xasprintf("%zu uniform random int8 pairs (PCG32 seed %llu, stream %d)", st->n,
                             (unsigned long long)o->seed, GATE_CHAR_RNG_SEQ);
        return ST_OK;
    }
    char *path = datadir_resolve(o->stream);
    char *data;
    size_t len;
    int rc = afile_read_all(path, &data, &len);
    if (rc) { free(path); return rc; }
    if (len % 2 || len < 4) {
        rc = msg_error(ST_EFORMAT, "'%s': a stream file holds int8 pairs (a, w): even size of at least 4 bytes, got %zu",
                       path, len);
        free(data);
        free(path);
        return rc;
    }
    st->n = len / 2;
    if (o->pairs > 0 && (size_t)o->pairs < st->n) st->n = (size_t)o->pairs;
    st->a = xmalloc(st->n);
    st->w = xmalloc(st->n);
    for (size_t i = 0; i < st->n; i++) {
        st->a[i] = (int8_t)data[2 * i];
        st->w[i] = (int8_t)data[2 * i + 1];
    }
    st->name = xasprintf("%zu int8 pairs from '%s'", st->n, o->stream);
    free(data);
    free(path);
    return ST_OK;
}

/* The sampled weight-stationary stream of layer L (order in gate_char.h); `in` holds the layer's
 * input activations of nimg images. */
static void layer_stream(const qnn_int8_layer *L, const int8_t *in, size_t img_bytes, int nimg, long pairs,
                         rng_pcg32 *r, gate_char_stream *o)
{
    uint64_t nw = (uint64_t)L->cout * L->kh * L->kw * L->cin;
    uint64_t per_w = (uint64_t)nimg * L->ho * L->wo;  /* pairs each weight sees */
    uint64_t run = per_w < GATE_CHAR_LAYER_RUN ? per_w : GATE_CHAR_LAYER_RUN;
    uint64_t nsel = ((uint64_t)pairs + run - 1) / run;
    if (nsel > nw) nsel = nw;
    o->name = xstrdup(L->name);
    o->macs = L->macs;
    o->n = (size_t)(nsel * run);
    o->a = xmalloc(o->n);
    o->w = xmalloc(o->n);
    size_t t = 0;
    for (uint64_t j = 0; j < nsel; j++) {
        uint64_t widx = j * nw / nsel;  /* evenly spaced weights, (co, kh, kw, ci) order */
        int32_t ci = (int32_t)(widx % L->cin), kw = (int32_t)(widx / L->cin % L->kw);
        int32_t kh = (int32_t)(widx / ((uint64_t)L->cin * L->kw) % L->kh);
        int8_t wv = L->weights[widx];
        uint64_t start = per_w > run ? rng_bounded(r, (uint32_t)(per_w - run + 1)) : 0;
        for (uint64_t q = start; q < start + run; q++) {
            int32_t img = (int32_t)(q / ((uint64_t)L->ho * L->wo));
            int32_t pos = (int32_t)(q % ((uint64_t)L->ho * L->wo));
            int32_t ih = pos / L->wo * L->stride_h - L->pad_t + kh, iw = pos % L->wo * L->stride_w - L->pad_l + kw;
            int8_t av = 0;
            if (ih >= 0 && ih < L->h && iw >= 0 && iw < L->w)
                av = in[(size_t)img * img_bytes + ((size_t)ih * L->w + iw) * L->cin + ci];
            o->a[t] = av;
            o->w[t] = wv;
            t++;
        }
    }
}

/* Per-layer streams of the exact int8 network, appended to c->st. */
static int layer_streams(gate_char *c)
{
    const gate_char_opts *o = &c->o;
    qnn_int8_net *net = NULL;
    qnn_quant_opts qo = qnn_quant_opts_default();
    cifar_set set = { 0 };
    int rc = qnn_quant_load(o->model, o->calib, &qo, NULL, &net);
    if (!rc) rc = cifar_load_range(o->calib, &set);
    if (rc) { qnn_int8_net_free(net); return rc; }
    int nimg = o->layer_images > set.n ? set.n : o->layer_images;
    qnn_int8_ws *ws = qnn_int8_ws_alloc(net, nimg);
    qnn_int8_set_input(net, ws, set.pixels, nimg);
    qnn_int8_forward(net, ws, 0, NULL);
    rng_pcg32 r;
    rng_seed(&r, o->seed, GATE_CHAR_RNG_SEQ + 1);
    c->st = xrealloc(c->st, (size_t)(1 + net->n_layers) * sizeof *c->st);
    memset(c->st + 1, 0, (size_t)net->n_layers * sizeof *c->st);
    for (int l = 0; l < net->n_layers; l++) {
        const qnn_int8_layer *L = &net->layers[l];
        const qnn_int8_op *op = &net->ops[L->op_index];
        size_t img_bytes = qnn_int8_tensor_bytes(net, op->in[0]);
        ASSERT(img_bytes == (size_t)L->h * L->w * L->cin);
        layer_stream(L, qnn_int8_ws_tensor(ws, op->in[0]), img_bytes, nimg, o->pairs, &r, &c->st[1 + l]);
    }
    c->ns = 1 + net->n_layers;
    qnn_int8_ws_free(ws);
    cifar_set_deinit(&set);
    qnn_int8_net_free(net);
    return ST_OK;
}

int gate_char_open(const gate_char_opts *o, gate_char **out)
{
    gate_char *c = xcalloc(1, sizeof *c);
    c->o = *o;
    c->libpath = datadir_resolve(o->liberty);
    c->generic = gate_gen_lib();
    c->st = xcalloc(1, sizeof *c->st);
    c->ns = 1;
    int rc;
    if (access(o->script, R_OK) != 0) {
        rc = msg_error(ST_EIO, "cannot read synthesis script '%s': %s", o->script, strerror(errno));
        goto fail;
    }
    if ((rc = gate_lib_read(c->libpath, &c->lib))) goto fail;
    if ((rc = load_stream(o, &c->st[0]))) goto fail;
    if (o->layers && (rc = layer_streams(c))) goto fail;
    size_t maxn = 0;
    for (int s = 0; s < c->ns; s++)
        if (c->st[s].n > maxn) maxn = c->st[s].n;
    c->vec = xmalloc(maxn * sizeof *c->vec);
    c->res = xcalloc((size_t)c->ns * NK * NM, sizeof *c->res);
    if (o->keep) {
        if (mkdir(o->keep, 0777) != 0 && errno != EEXIST) {
            rc = msg_error(ST_EIO, "cannot create '%s': %s", o->keep, strerror(errno));
            goto fail;
        }
        c->dir = xstrdup(o->keep);
    } else {
        char tmpl[] = "/tmp/approxmap-char-XXXXXX";
        if (!mkdtemp(tmpl)) {
            rc = msg_error(ST_EIO, "cannot create a temporary directory: %s", strerror(errno));
            goto fail;
        }
        c->dir = xstrdup(tmpl);
    }
    *out = c;
    return ST_OK;
fail:
    gate_char_free(c);
    return rc;
}

void gate_char_free(gate_char *c)
{
    if (!c) return;
    if (c->dir && !c->o.keep) rmdir(c->dir);
    free(c->dir);
    free(c->version);
    for (int s = 0; s < c->ns; s++) {
        free(c->st[s].name);
        free(c->st[s].a);
        free(c->st[s].w);
    }
    free(c->st);
    free(c->res);
    free(c->vec);
    gate_lib_free(c->lib);
    gate_lib_free(c->generic);
    free(c->libpath);
    free(c);
}

static char *tool_version(const char *text)
{
    const char *p = strstr(text, "Yosys ");
    if (!p) return xstrdup("yosys (version unknown)");
    size_t l = strcspn(p, "\n");
    char *v = xmalloc(l + 1);
    memcpy(v, p, l);
    v[l] = 0;
    return v;
}

/* Run the synthesis script; the first run's yosys version line goes to *version. */
static int synthesize(const char *script, const char *lib, const char *vpath, const char *top, const char *blif,
                      char **version)
{
    char *cmd = xasprintf("sh '%s' '%s' '%s' '%s' '%s'", script, lib, vpath, top, blif);
    FILE *p = popen(cmd, "r");
    if (!p) {
        free(cmd);
        return msg_error(ST_EIO, "cannot run '%s': %s", script, strerror(errno));
    }
    char buf[512] = "";
    size_t len = fread(buf, 1, sizeof buf - 1, p);
    buf[len] = 0;
    int st = pclose(p);
    if (st != 0) {
        int rc = msg_error(ST_EIO, "synthesis failed for '%s' (%s)", top, cmd);
        free(cmd);
        return rc;
    }
    free(cmd);
    if (version && !*version) *version = tool_version(buf);
    return ST_OK;
}

/* Zero-delay and unit-delay energy, leakage, area and cells of `net` on the n vectors. */
static void measure(const gate_net *net, const uint32_t *vec, size_t n, const gate_energy_opts *eo, double clock,
                    gate_char_result *r)
{
    gate_energy e;
    gate_energy_setup(&e, net, eo);
    gate_sim *s = gate_sim_alloc(net);
    gate_activity act;
    gate_activity_init(&act, net->nnets);
    gate_sim_stream(s, vec, n, 0, &act);
    r->e_zero = gate_energy_per_op(&e, &act);
    gate_activity_deinit(&act);
    gate_activity_init(&act, net->nnets);
    gate_sim_stream(s, vec, n, 1, &act);
    r->e_unit = gate_energy_per_op(&e, &act);
    gate_activity_deinit(&act);
    r->leak = e.leakage_fj_per_ns * clock;
    r->area = e.area;
    r->cells = e.cells;
    r->done = 1;
    gate_sim_free(s);
    gate_energy_deinit(&e);
}

/* Write `n` as Verilog to `path`. */
static int write_verilog(const gate_net *n, const char *path)
{
    FILE *f = fopen(path, "w");
    int rc = f ? gate_net_write_verilog(n, f) : msg_error(ST_EIO, "cannot write '%s': %s", path, strerror(errno));
    if (f && fclose(f) != 0 && !rc) rc = msg_error(ST_EIO, "cannot write '%s': %s", path, strerror(errno));
    return rc;
}

int gate_char_measure(gate_char *c, int k, int m)
{
    gate_net *gen = gate_gen_roup(c->generic, k, m);
    int ba = 0, bw = 0;
    long bad = gate_gen_check(gen, k, m, &ba, &bw);
    if (bad != 0) {
        int rc = msg_error(ST_EFORMAT, "generated roup_k%d_m%d differs from the closed form on %ld pairs (a=%d, w=%d)",
                           k, m, bad, ba, bw);
        gate_net_free(gen);
        return rc;
    }
    char *vp = xasprintf("%s/%s.v", c->dir, gen->name), *bp = xasprintf("%s/%s.blif", c->dir, gen->name);
    char *top = xstrdup(gen->name);
    int rc = write_verilog(gen, vp);
    gate_net_free(gen);
    gate_net *syn = NULL;
    if (!rc) rc = synthesize(c->o.script, c->libpath, vp, top, bp, &c->version);
    if (!rc) rc = gate_net_read_blif(bp, c->lib, &syn);
    if (!rc) {
        bad = gate_gen_check(syn, k, m, &ba, &bw);
        if (bad != 0)
            rc = msg_error(ST_EFORMAT, "synthesized %s differs from the closed form on %ld pairs (a=%d, w=%d)", top, bad,
                           ba, bw);
    }
    for (int s = 0; s < c->ns && !rc; s++) {
        rc = gate_gen_pack(syn, c->st[s].a, c->st[s].w, c->st[s].n, c->vec);
        if (!rc) measure(syn, c->vec, c->st[s].n, &c->o.eo, c->o.clock, gate_char_at(c, s, k, m));
    }
    if (!c->o.keep) {
        unlink(vp);
        unlink(bp);
    }
    free(vp);
    free(bp);
    free(top);
    gate_net_free(syn);
    return rc;
}

double gate_char_network_rel(const gate_char *c, int k, int m)
{
    double num = 0, den = 0;
    for (int s = 1; s < c->ns; s++) {
        num += (double)c->st[s].macs * gate_char_at(c, s, k, m)->e_zero;
        den += (double)c->st[s].macs * gate_char_at(c, s, 0, 0)->e_zero;
    }
    return num / den;
}

double gate_char_network_exact(const gate_char *c)
{
    double num = 0, den = 0;
    for (int s = 1; s < c->ns; s++) {
        num += (double)c->st[s].macs * gate_char_at(c, s, 0, 0)->e_zero;
        den += (double)c->st[s].macs;
    }
    return num / den;
}

int gate_char_write_library(const gate_char *c, const char *path)
{
    afile *af = afile_open(path);
    if (!af) return ST_EIO;
    FILE *f = afile_stream(af);
    const gate_lib *lib = c->lib;
    const gate_char_result *ex = gate_char_at(c, 0, 0, 0);
    const char *version = c->version ? c->version : "yosys";
    const char *base = strrchr(lib->path, '/');
    base = base ? base + 1 : lib->path;
    fprintf(f, "# ROUP approximate multipliers, 8-bit signed, characterized by `approxmap characterize`.\n");
    fprintf(f, "# Product: R_m(a) * R_2k(w). Every netlist was checked against it on all 65,536 pairs before\n");
    fprintf(f, "# and after synthesis. energy.fj: zero-delay dynamic energy per multiplication (internal\n");
    fprintf(f, "# power tables at propagated slews + 1/2 C V^2, wire model: %s, input slew %g ns);\n",
            c->o.eo.wire_model && lib->wire_load ? lib->wire_load : "none", c->o.eo.input_slew * lib->time_unit_ns);
    fprintf(f, "# description: area, cells, unit-delay (glitch-inclusive) energy, leakage at a %g ns clock.\n",
            c->o.clock);
    fprintf(f, "# Schema: problems/multipliers/README.md.\n");
    fprintf(f, "library: roup8_%s\n", lib->name);
    fprintf(f, "description: ROUP 8x8 signed multipliers (k = 0..2, m = 0..6) measured on %s\n", lib->name);
    fprintf(f, "provenance:\n");
    fprintf(f, "  source: approxmap characterize (measured with an open flow, not a published figure)\n");
    fprintf(f, "  tool: \"%s; synth -flatten + abc -liberty; approxmap gate_sim zero-delay toggles, leakage at %g ns\"\n",
            version, c->o.clock);
    fprintf(f, "  cell_library: \"%s (%s)\"\n", lib->name, base);
    fprintf(f, "  corner: \"%s, %.2f V\"\n", lib->corner ? lib->corner : "unknown", lib->voltage);
    fprintf(f, "  stream: \"%s\"\n", c->st[0].name);
    fprintf(f, "multipliers:\n");
    for (int k = 0; k < NK; k++)
        for (int m = 0; m < NM; m++) {
            const gate_char_result *r = gate_char_at(c, 0, k, m);
            if (!r->done) continue;
            fprintf(f, "  - {name: roup_k%d_m%d, family: roup, k: %d, m: %d, energy: {relative: %.4f, fj: %.2f},\n",
                    k, m, k, m, r->e_zero / ex->e_zero, r->e_zero);
            fprintf(f, "     description: \"area %.2f um^2, %d cells, unit-delay %.2f fJ (relative %.4f), leakage %.3f fJ\"}\n",
                    r->area, r->cells, r->e_unit, r->e_unit / ex->e_unit, r->leak);
        }
    return afile_commit(af);
}

/* The per-layer energy model, through its writer beside its reader (energy_model.h). */
int gate_char_write_layers(const gate_char *c, const char *path)
{
    const gate_lib *lib = c->lib;
    const int nl = c->ns - 1;
    const char **layer_names = xmalloc((size_t)(nl + 1) * sizeof *layer_names);
    uint64_t *macs = xmalloc((size_t)(nl + 1) * sizeof *macs);
    size_t *pairs = xmalloc((size_t)(nl + 1) * sizeof *pairs);
    for (int l = 0; l < nl; l++) {
        layer_names[l] = c->st[1 + l].name;
        macs[l] = c->st[1 + l].macs;
        pairs[l] = c->st[1 + l].n;
    }
    char *mult_names[NK * NM];
    double network_rel[NK * NM], uniform_rel[NK * NM];
    double *fj = xmalloc((size_t)(NK * NM * nl + 1) * sizeof *fj);
    const gate_char_result *ex0 = gate_char_at(c, 0, 0, 0);
    int nm = 0;
    for (int k = 0; k < NK; k++)
        for (int m = 0; m < NM; m++) {
            const gate_char_result *u = gate_char_at(c, 0, k, m);
            if (!u->done) continue;
            mult_names[nm] = xasprintf("roup_k%d_m%d", k, m);
            network_rel[nm] = gate_char_network_rel(c, k, m);
            uniform_rel[nm] = u->e_zero / ex0->e_zero;
            for (int l = 0; l < nl; l++) fj[(size_t)nm * nl + l] = gate_char_at(c, 1 + l, k, m)->e_zero;
            nm++;
        }
    char *tool = xasprintf("%s; synth -flatten + abc -liberty; approxmap gate_sim zero-delay",
                           c->version ? c->version : "yosys");
    char *corner = xasprintf("%s, %.2f V", lib->corner ? lib->corner : "unknown", lib->voltage);
    char *stream = xasprintf("exact int8 activations of %d images of %s (calibration, training images)",
                             c->o.layer_images, c->o.calib);
    const energy_model_file e = {
        .tool = tool, .cell_library = lib->name, .corner = corner, .model = c->o.model, .stream = stream,
        .uniform_stream = c->st[0].name, .run = GATE_CHAR_LAYER_RUN, .n_layers = nl, .layer_names = layer_names,
        .macs = macs, .pairs = pairs, .n_mults = nm, .mult_names = (const char *const *)mult_names, .network_rel = network_rel,
        .uniform_rel = uniform_rel, .fj = fj,
    };
    int rc = energy_model_write(path, &e);
    for (int i = 0; i < nm; i++) free(mult_names[i]);
    free(tool);
    free(corner);
    free(stream);
    free(fj);
    free(layer_names);
    free(macs);
    free(pairs);
    return rc;
}
