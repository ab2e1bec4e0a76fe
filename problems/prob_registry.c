/* The problem-type registry and the instance helpers every type shares: see prob.h. A new problem
 * type adds its descriptor to `registry` (and its name to prob_type_names()). */
#include "prob.h"

#include <string.h>

#include "ckpt.h"
#include "msg.h"
#include "prob_cnn.h"
#include "status.h"
#include "util.h"

static const prob_type *const registry[] = {
    &prob_type_zdt1, &prob_type_zdt2, &prob_type_zdt3, &prob_type_zdt4,
    &prob_type_zdt6, &prob_type_tnk,  &prob_type_constr, &prob_type_cnn,
};
enum { N_TYPES = sizeof registry / sizeof registry[0] };

const prob_type *prob_type_find(const char *name)
{
    for (int t = 0; t < N_TYPES; t++)
        if (!strcmp(registry[t]->name, name)) return registry[t];
    return NULL;
}

const char *prob_type_names(void) { return "zdt1, zdt2, zdt3, zdt4, zdt6, tnk, constr, cnn"; }

prob *prob_alloc(const char *name, size_t n_genes, int n_obj, int n_con)
{
    ASSERT(n_obj >= 1 && n_obj <= PROB_MAX_OBJ && n_genes >= 1);
    prob *p = xcalloc(1, sizeof *p);
    p->name = name;
    p->n_genes = n_genes;
    p->genes = xcalloc(n_genes, sizeof *p->genes);
    p->n_obj = n_obj;
    p->n_con = n_con;
    return p;
}

void prob_free(prob *p)
{
    if (!p) return;
    if (p->destroy) p->destroy(p);
    free(p->genes);
    free(p->blocks);
    free(p);
}

int prob_create(const prob_spec *spec, prob **out)
{
    prob *p = NULL;
    int rc = spec->type->create(spec, &p);
    if (rc) return rc;
    if (spec->n_ref) {
        if (spec->n_ref != p->n_obj) {
            rc = msg_error(ST_EPARSE, "%s:%lu:%lu: 'reference' has %d values; problem '%s' has %d objectives",
                           spec->path, spec->ref_line, spec->ref_col, spec->n_ref, p->name, p->n_obj);
            prob_free(p);
            return rc;
        }
        memcpy(p->ref, spec->ref, sizeof p->ref);
    }
    *out = p;
    return ST_OK;
}

uint64_t prob_hash(const prob *p, const void *extra, size_t extra_len)
{
    ckpt_writer w;
    ckpt_writer_init(&w);
    ckpt_put_bytes(&w, p->name, strlen(p->name) + 1);
    ckpt_put_u64(&w, p->n_genes);
    for (size_t g = 0; g < p->n_genes; g++) {
        ckpt_put_u8(&w, (uint8_t)p->genes[g].kind);
        ckpt_put_f64(&w, p->genes[g].lo);
        ckpt_put_f64(&w, p->genes[g].hi);
    }
    ckpt_put_u32(&w, (uint32_t)p->n_obj);
    ckpt_put_u32(&w, (uint32_t)p->n_con);
    ckpt_put_bytes(&w, extra, extra_len);
    uint64_t h = archive_hash(w.data, w.len);
    ckpt_writer_deinit(&w);
    return h;
}

int prob_eval_each(prob *p, size_t n, const double *x, double *f, double *cv, int threads,
                   const volatile sig_atomic_t *stop,
                   void (*eval_one)(const prob *p, const double *x, double *f, double *cv))
{
    size_t L = p->n_genes, M = (size_t)p->n_obj;
    long count = (long)n;
    int nt = util_threads(threads, count);
#pragma omp parallel for schedule(static) num_threads(nt) if (nt > 1)
    for (long i = 0; i < count; i++) {
        if (stop && *stop) continue;
        eval_one(p, x + (size_t)i * L, f + (size_t)i * M, cv + i);
    }
    return stop && *stop ? ST_EINTR : ST_OK;
}
