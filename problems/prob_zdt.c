/* Benchmark problems with known Pareto fronts, for validating the search and the driver:
 *   ZDT1, ZDT2, ZDT3, ZDT4, ZDT6 (Zitzler, Deb, Thiele, Evolutionary Computation 8(2), 2000), two
 *   objectives, n real variables (default 30 for ZDT1-3, 10 for ZDT4 and ZDT6);
 *   TNK (Tanaka 1995) and CONSTR (Deb 2001), two variables, two objectives, two constraints whose
 *   violations are summed into the total violation.
 * Problem-file key of its own: `variables: N` (ZDT only). Default hypervolume reference (1.1, 1.1)
 * for ZDT and TNK, (1.1, 10) for CONSTR. Every evaluation is a pure function of its genome. */
#include <math.h>
#include <string.h>

#include "msg.h"
#include "prob.h"
#include "status.h"

typedef enum zkind { Z1, Z2, Z3, Z4, Z6, ZTNK, ZCONSTR } zkind;

typedef struct zspec {
    zkind kind;
    long variables;
} zspec;

/* spec->data holds the kind and variables; the kind also comes from the type descriptor's name */
static zkind kind_of(const prob_type *t)
{
    static const char *const names[] = {"zdt1", "zdt2", "zdt3", "zdt4", "zdt6", "tnk", "constr"};
    for (int k = 0; k < 7; k++)
        if (!strcmp(t->name, names[k])) return (zkind)k;
    msg_abort(__FILE__, __LINE__, "unregistered type '%s'", t->name);
}

static int z_spec_init(prob_spec *spec)
{
    zspec *z = xcalloc(1, sizeof *z);
    z->kind = kind_of(spec->type);
    z->variables = z->kind <= Z3 ? 30 : z->kind <= Z6 ? 10 : 2;
    spec->data = z;
    return ST_OK;
}

static void z_spec_free(prob_spec *spec)
{
    free(spec->data);
    spec->data = NULL;
}

static int z_parse_key(const prob_yaml *y, const char *key, yaml_node_t *key_node, yaml_node_t *value,
                       prob_spec *spec)
{
    zspec *z = spec->data;
    if (strcmp(key, "variables")) return 0;
    if (z->kind >= ZTNK)
        return prob_yaml_error(y, key_node, "'variables' is fixed at 2 for problem '%s'", spec->type->name);
    long v;
    int rc = prob_yaml_int(y, value, "variables", 2, 100000, &v);
    if (rc) return rc;
    z->variables = v;
    return 1;
}

static void eval_zdt(const prob *p, const double *x, double *f, double *cv)
{
    zkind k = *(const zkind *)p->ctx;
    size_t n = p->n_genes;
    double s = 0, g, h;
    *cv = 0;
    switch (k) {
    case Z1:
    case Z2:
    case Z3:
        for (size_t i = 1; i < n; i++) s += x[i];
        g = 1 + 9 * s / (double)(n - 1);
        f[0] = x[0];
        h = k == Z1 ? 1 - sqrt(f[0] / g)
          : k == Z2 ? 1 - (f[0] / g) * (f[0] / g)
                    : 1 - sqrt(f[0] / g) - (f[0] / g) * sin(10 * M_PI * f[0]);
        f[1] = g * h;
        break;
    case Z4:
        for (size_t i = 1; i < n; i++) s += x[i] * x[i] - 10 * cos(4 * M_PI * x[i]);
        g = 1 + 10 * (double)(n - 1) + s;
        f[0] = x[0];
        f[1] = g * (1 - sqrt(f[0] / g));
        break;
    case Z6:
        for (size_t i = 1; i < n; i++) s += x[i];
        g = 1 + 9 * pow(s / (double)(n - 1), 0.25);
        f[0] = 1 - exp(-4 * x[0]) * pow(sin(6 * M_PI * x[0]), 6);
        f[1] = g * (1 - (f[0] / g) * (f[0] / g));
        break;
    case ZTNK: {
        f[0] = x[0];
        f[1] = x[1];
        double c1 = x[0] * x[0] + x[1] * x[1] - 1 - 0.1 * cos(16 * atan2(x[0], x[1]));
        double c2 = (x[0] - 0.5) * (x[0] - 0.5) + (x[1] - 0.5) * (x[1] - 0.5);
        *cv = (c1 < 0 ? -c1 : 0) + (c2 > 0.5 ? c2 - 0.5 : 0);
        break;
    }
    case ZCONSTR: {
        f[0] = x[0];
        f[1] = (1 + x[1]) / x[0];
        double g1 = x[1] + 9 * x[0] - 6, g2 = -x[1] + 9 * x[0] - 1;
        *cv = (g1 < 0 ? -g1 : 0) + (g2 < 0 ? -g2 : 0);
        break;
    }
    }
}

static int z_evaluate(prob *p, size_t n, const double *x, double *f, double *cv, int threads,
                      const volatile sig_atomic_t *stop)
{
    return prob_eval_each(p, n, x, f, cv, threads, stop, eval_zdt);
}

static void z_destroy(prob *p) { free(p->ctx); }

static int z_create(const prob_spec *spec, prob **out)
{
    const zspec *z = spec->data;
    prob *p = prob_alloc(spec->type->name, (size_t)z->variables, 2, z->kind >= ZTNK ? 2 : 0);
    for (size_t i = 0; i < p->n_genes; i++) {
        nsga_gene *g = &p->genes[i];
        g->kind = NSGA_REAL;
        g->lo = 0;
        g->hi = 1;
        if (z->kind == Z4 && i > 0) {
            g->lo = -5;
            g->hi = 5;
        } else if (z->kind == ZTNK) {
            g->hi = M_PI;
        } else if (z->kind == ZCONSTR) {
            g->lo = i == 0 ? 0.1 : 0;
            g->hi = i == 0 ? 1 : 5;
        }
    }
    p->ref[0] = 1.1;
    p->ref[1] = z->kind == ZCONSTR ? 10 : 1.1;
    zkind *k = xmalloc(sizeof *k);
    *k = z->kind;
    p->ctx = k;
    p->evaluate = z_evaluate;
    p->destroy = z_destroy;
    p->hash = prob_hash(p, NULL, 0);
    *out = p;
    return ST_OK;
}

#define ZTYPE(id, str) \
    const prob_type id = {str, z_spec_init, z_parse_key, NULL, z_create, z_spec_free}

ZTYPE(prob_type_zdt1, "zdt1");
ZTYPE(prob_type_zdt2, "zdt2");
ZTYPE(prob_type_zdt3, "zdt3");
ZTYPE(prob_type_zdt4, "zdt4");
ZTYPE(prob_type_zdt6, "zdt6");
ZTYPE(prob_type_tnk, "tnk");
ZTYPE(prob_type_constr, "constr");
