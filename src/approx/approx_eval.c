/* The approximate-map evaluator (approx_eval.h). Invariants: a call touches only its slot's state and
 * read-only shared data; every figure derives from integer counts of the bit-exact engine. */
#include "approx_eval.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "approx.h"
#include "msg.h"
#include "status.h"
#include "util.h"

typedef struct eval_slot {
    amap_mul mul;             /* the hooks of the last map */
    energy_report energy;
    qnn_int8_ws *ws;          /* serial runs; allocated on first use */
    uint8_t *pred;            /* scratch predictions */
    int32_t pred_cap;
} eval_slot;

struct approx_eval {
    const approx_cnn *cnn;
    int32_t chunk;
    int n_slots;
    eval_slot *slots;
};

approx_eval *approx_eval_open(const approx_cnn *cnn, int n_slots, int32_t chunk)
{
    ASSERT(n_slots >= 1 && cnn->net);
    approx_eval *ev = xcalloc(1, sizeof *ev);
    ev->cnn = cnn;
    ev->chunk = chunk > 0 ? chunk : 64;
    ev->n_slots = n_slots;
    ev->slots = xcalloc((size_t)n_slots, sizeof *ev->slots);
    for (int i = 0; cnn->has_lib && i < n_slots; i++) {
        amap_mul_init(&ev->slots[i].mul, cnn->layers, cnn->n_layers, &cnn->lib);
        energy_report_init(&ev->slots[i].energy, cnn->n_layers, cnn->lib.n);
    }
    return ev;
}

void approx_eval_close(approx_eval *ev)
{
    if (!ev) return;
    for (int i = 0; i < ev->n_slots; i++) {
        eval_slot *s = &ev->slots[i];
        amap_mul_deinit(&s->mul);
        energy_report_deinit(&s->energy);
        if (s->ws) qnn_int8_ws_free(s->ws);
        free(s->pred);
    }
    free(ev->slots);
    free(ev);
}

const approx_cnn *approx_eval_cnn(const approx_eval *ev)
{
    return ev->cnn;
}

int approx_eval_compensate(const approx_eval *ev, amap *m)
{
    if (!ev->cnn->has_comp) return 0;
    approx_comp_fill(&ev->cnn->comp, m);
    return 1;
}

static uint8_t *slot_pred(eval_slot *s, int32_t n)
{
    if (n > s->pred_cap) {
        s->pred = xrealloc(s->pred, (size_t)n + 1);
        s->pred_cap = n;
    }
    return s->pred;
}

/* Run `set` under `muls` (NULL: exact) into pred (set->n entries, required) and optionally logits;
 * returns the correct answers. */
int approx_eval_hopeless(const approx_eval_reject *rj, int32_t correct, int32_t done, int32_t n)
{
    return rj && done < n && approx_loss_pp(rj->exact_correct, correct + (n - done), n) > rj->max_loss_pp;
}

/* Correct answers among the images run; *done gets how many were run (set->n unless rj stopped it). */
static int32_t run_set(approx_eval *ev, eval_slot *s, const approx_eval_data *d, const cifar_set *set,
                       const amap *m, const qnn_layer_mul *muls, int threads, uint8_t *pred, int8_t *logits,
                       const approx_eval_reject *rj, int32_t *done)
{
    const qnn_int8_net *net = ev->cnn->net;
    *done = set->n;
    if (threads != 1) {
        qnn_int8_predict(net, set->pixels, set->n, muls, threads, ev->chunk, logits, pred);
    } else {
        if (!s->ws) s->ws = qnn_int8_ws_alloc(net, ev->chunk);
        if (d && d->run && !logits) return d->run(d->run_ctx, m, muls, s->ws, set, pred, rj, done);
        const int32_t k = qnn_int8_n_out(net);
        const size_t in_sz = (size_t)net->in_c * net->in_h * net->in_w;
        int32_t ok = 0;
        for (int32_t first = 0; first < set->n; first += ev->chunk) {
            const int32_t n = set->n - first < ev->chunk ? set->n - first : ev->chunk;
            qnn_int8_set_input(net, s->ws, set->pixels + (size_t)first * in_sz, n);
            qnn_int8_forward(net, s->ws, 0, muls);
            const int8_t *out = qnn_int8_ws_tensor(s->ws, net->output);
            if (logits) memcpy(logits + (size_t)first * k, out, (size_t)n * k);
            for (int32_t i = 0; i < n; i++) {
                pred[first + i] = (uint8_t)util_argmax_s8(out + (size_t)i * k, k);
                ok += pred[first + i] == set->labels[first + i];
            }
            if (approx_eval_hopeless(rj, ok, first + n, set->n)) {
                *done = first + n;
                break;
            }
        }
        return ok;
    }
    int32_t ok = 0;
    for (int32_t i = 0; i < set->n; i++) ok += pred[i] == set->labels[i];
    return ok;
}

void approx_eval_data_init(approx_eval *ev, approx_eval_data *d, const cifar_set *set, int keep_ok, int threads,
                           uint8_t *pred, int8_t *logits)
{
    memset(d, 0, sizeof *d);
    d->set = set;
    eval_slot *s = &ev->slots[0];
    uint8_t *p = pred ? pred : slot_pred(s, set->n);
    int32_t done;
    d->exact_correct = run_set(ev, s, NULL, set, NULL, NULL, threads, p, logits, NULL, &done);
    if (keep_ok) {
        d->exact_ok = xmalloc((size_t)set->n + 1);
        for (int32_t i = 0; i < set->n; i++) d->exact_ok[i] = p[i] == set->labels[i];
    }
}

void approx_eval_data_deinit(approx_eval_data *d)
{
    if (!d) return;
    free(d->exact_ok);
    memset(d, 0, sizeof *d);
}

int approx_eval_map(approx_eval *ev, int slot_i, const amap *m, const approx_eval_data *d, int threads, unsigned flags,
                    uint8_t *pred, int8_t *logits, approx_eval_result *out)
{
    ASSERT(slot_i >= 0 && slot_i < ev->n_slots && ev->cnn->has_lib);
    eval_slot *s = &ev->slots[slot_i];
    const approx_cnn *c = ev->cnn;
    memset(out, 0, sizeof *out);
    int rc = approx_energy(m, c->layers, &c->lib, approx_cnn_em(c), &s->energy);
    if (rc) return rc;
    out->energy = &s->energy;
    if (!d) return ST_OK;
    if (flags & APPROX_EVAL_PLAIN)
        amap_mul_build_plain(&s->mul, m);
    else
        amap_mul_build(&s->mul, m);
    const cifar_set *set = d->set;
    /* predictions are needed per image for the interval, and by the plain and parallel passes */
    uint8_t *p = pred ? pred : (d->exact_ok || !d->run || threads != 1 || logits) ? slot_pred(s, set->n) : NULL;
    out->n = set->n;
    out->exact_correct = d->exact_correct;
    /* early rejection only where nothing per image is asked for: the search's serial runs */
    const approx_eval_reject rj = {d->exact_correct, d->max_loss_pp};
    const int early = d->early_reject && threads == 1 && !pred && !logits && !d->exact_ok;
    int32_t done;
    out->correct = run_set(ev, s, d, set, m, s->mul.layer, threads, p, logits, early ? &rj : NULL, &done);
    out->images_run = done;
    if (done < set->n) {
        out->rejected = 1;
        out->correct += set->n - done; /* the best case: an upper bound */
    }
    out->loss_pp = approx_loss_pp(d->exact_correct, out->correct, set->n);
    out->ci_lo = out->ci_hi = out->loss_pp;
    out->p_mcnemar = NAN;
    if (d->exact_ok && set->n > 0) {
        int32_t lost = 0, gained = 0;
        for (int32_t i = 0; i < set->n; i++) {
            const int exact_ok = d->exact_ok[i] != 0, map_ok = p[i] == set->labels[i];
            lost += exact_ok && !map_ok;
            gained += !exact_ok && map_ok;
        }
        approx_paired pr;
        approx_paired_exact(lost, gained, set->n, &pr);
        out->lost = lost;
        out->gained = gained;
        out->ci_lo = pr.ci_lo;
        out->ci_hi = pr.ci_hi;
        out->p_mcnemar = pr.p;
    }
    return ST_OK;
}
