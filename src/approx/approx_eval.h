/* The approximate-map evaluator: one object that scores a map on a data set for search, export, eval
 * and sweep. Opened once on a CNN set-up (approx_cnn.h: net, library, layers, energy model,
 * compensation); a data set is registered with its exact int8 baseline (approx_eval_data); then
 * approx_eval_map() gives a map's correct count, its loss in pp against the baseline (one formula,
 * approx_loss_pp), the exact paired 95 % interval and McNemar p when the baseline kept per-image flags
 * (approx_paired_exact), its energy report
 * and, on request, per-image predictions and logits.
 *
 * The map is what runs: its multipliers become the layer hooks (amap_mul_build), and its bias_delta,
 * when it carries one, the hooks' biases; approx_eval_compensate() fills a map's deltas from the
 * set-up's compensation. The evaluator never changes the net.
 *
 * Threads: the object holds n_slots independent per-thread states (hooks, energy report, workspace).
 * A call uses slot `slot` only, so calls on different slots may run concurrently (the search runs one
 * genome per slot); `threads` 1 runs the images serially on the slot's workspace (or through the data
 * set's runner), other values run them in parallel (qnn_int8_predict; <= 0: all cores). Counts are
 * integers of the bit-exact engine, so no result depends on slots, threads or chunking. */
#ifndef SRC_APPROX_EVAL_H
#define SRC_APPROX_EVAL_H

#include <stdint.h>

#include "amap.h"
#include "approx_cnn.h"
#include "cifar.h"
#include "energy.h"
#include "qnn_int8.h"

typedef struct approx_eval approx_eval;

/* Exact early rejection (the search's serial evaluations): the images are run chunk by chunk, and with
 * `c` right among the `done` images run so far a map can at best end with c + (n - done) right. When even
 * that best case loses more than max_loss_pp against the baseline, no remaining image can make the map
 * feasible, so its evaluation stops there: it is infeasible for certain, and the loss of the best case
 * is a lower bound of its true loss (so loss - max_loss_pp bounds its violation from below). The point
 * where it stops depends only on the map and the chunk size, never on threads or timing. */
typedef struct approx_eval_reject {
    int32_t exact_correct;
    double max_loss_pp;
} approx_eval_reject;

/* Whether a map with `correct` right among `done` of n images can no longer end within the limit. */
int approx_eval_hopeless(const approx_eval_reject *rj, int32_t correct, int32_t done, int32_t n);

/* Run `set` under hooks `muls` on workspace `ws` (sized for the evaluator's chunk) and return the
 * correct answers among the images run, writing predictions to pred when not NULL; `m` is the map the
 * hooks come from. rj: NULL, or stop after the first chunk where approx_eval_hopeless() holds; *done
 * receives the number of images run (set->n unless stopped). Replaces the plain forward pass for serial
 * evaluations (the search's activation cache). */
typedef int32_t (*approx_eval_runner)(void *ctx, const amap *m, const qnn_layer_mul *muls, qnn_int8_ws *ws,
                                      const cifar_set *set, uint8_t *pred, const approx_eval_reject *rj,
                                      int32_t *done);

/* A data set with the exact int8 network's answers on it. */
typedef struct approx_eval_data {
    const cifar_set *set;     /* borrowed */
    int32_t exact_correct;
    uint8_t *exact_ok;        /* set->n flags (exact right on the image) or NULL: no interval */
    approx_eval_runner run;   /* NULL: the plain forward pass */
    void *run_ctx;
    int early_reject;         /* stop serial evaluations of hopeless maps (approx_eval_reject) */
    double max_loss_pp;       /* the limit early rejection checks against */
} approx_eval_data;

/* Figures of one map on one data set. */
typedef struct approx_eval_result {
    int32_t n, exact_correct, correct;
    double loss_pp;           /* approx_loss_pp(exact_correct, correct, n) */
    int32_t lost, gained;     /* with the baseline's flags: images the exact model gets right and the map
                               * wrong, and the reverse (loss_pp = 100 (lost - gained) / n); else 0 */
    double ci_lo, ci_hi;      /* exact 95 % interval of the loss from the paired per-image outcomes
                               * (approx_paired_exact); equal to loss_pp without flags */
    double p_mcnemar;         /* exact two-sided McNemar p (approx_paired_exact); NaN without flags */
    const energy_report *energy; /* the slot's report, valid until the slot's next evaluation */
    int rejected;             /* stopped early (d->early_reject): correct is then an upper bound and
                               * loss_pp a lower bound, both above the limit */
    int32_t images_run;       /* images evaluated (n unless rejected) */
} approx_eval_result;

enum {
    APPROX_EVAL_PLAIN = 1 /* ignore the map's bias_delta (the uncompensated figures) */
};

/* Open on `cnn` (borrowed; must outlive the evaluator) with n_slots >= 1 states; chunk: images per
 * engine call (<= 0: 64). Without a library (cnn->has_lib 0) only baselines can be measured. */
approx_eval *approx_eval_open(const approx_cnn *cnn, int n_slots, int32_t chunk);
void approx_eval_close(approx_eval *ev);

const approx_cnn *approx_eval_cnn(const approx_eval *ev);

/* Register `set` (borrowed): run the exact network on it (threads as above, slot 0 when serial),
 * keeping per-image flags when keep_ok; pred / logits (n and n x 10 entries) receive the exact
 * predictions and logits when not NULL. Caller frees with approx_eval_data_deinit(). */
void approx_eval_data_init(approx_eval *ev, approx_eval_data *d, const cifar_set *set, int keep_ok, int threads,
                           uint8_t *pred, int8_t *logits);
void approx_eval_data_deinit(approx_eval_data *d);

/* Fill map m's bias_delta from the set-up's compensation; returns 1, or 0 (m untouched) when the
 * set-up has none. Thread-safe. */
int approx_eval_compensate(const approx_eval *ev, amap *m);

/* Score map `m` on slot `slot`: energy always, and the data set when d is not NULL (flags:
 * APPROX_EVAL_*). pred / logits as in approx_eval_data_init. Returns ST_OK, or ST_EFORMAT (reported)
 * when a multiplier of the map has no energy figure. */
int approx_eval_map(approx_eval *ev, int slot, const amap *m, const approx_eval_data *d, int threads, unsigned flags,
                    uint8_t *pred, int8_t *logits, approx_eval_result *out);

#endif
