/* The multiplier sweep (approx_sweep.h). Invariants: every count is an integer of the bit-exact
 * engine, summed across threads; all per-thread state is allocated before the chunk loop. */
#include "approx_sweep.h"

#include <stdlib.h>
#include <string.h>

#include "approx.h"
#include "energy.h"
#include "msg.h"
#include "status.h"
#include "util.h"

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
        ok += util_argmax_s8(v, n_out) == labels[k];
    }
    return ok;
}

int approx_sweep_run(approx_eval *ev, const cifar_set *set, const uint8_t *only, int compensate, int threads,
                     approx_sweep *out)
{
    const approx_cnn *cnn = approx_eval_cnn(ev);
    const qnn_int8_net *net = cnn->net;
    const amap_layer *layers = cnn->layers;
    const amul_lib *lib = &cnn->lib;
    const energy_model *em = approx_cnn_em(cnn);
    ASSERT(!compensate || cnn->has_comp);
    const int nm = lib->n, nl = net->n_layers;
    approx_sweep s = {0};
    s.n_mults = nm;
    s.n_layers = nl;
    s.n_images = set->n;
    s.whole = xcalloc((size_t)nm + 1, sizeof *s.whole);
    s.whole_comp = compensate ? xcalloc((size_t)nm + 1, sizeof *s.whole_comp) : NULL;
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
    const int nt = util_threads(threads, n_chunks);
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

    if (compensate) {
        /* each uniform map with its compensation deltas, scored against the exact run above */
        approx_eval_data d = {.set = set, .exact_correct = exact_ok};
        approx_eval_result res;
        for (int i = 0; i < nm && !rc; i++) {
            if (only && !only[i]) {
                s.whole_comp[i] = -1;
                continue;
            }
            approx_eval_compensate(ev, &maps[i]);
            if (!(rc = approx_eval_map(ev, 0, &maps[i], &d, threads, 0, NULL, NULL, &res))) s.whole_comp[i] = res.correct;
        }
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
