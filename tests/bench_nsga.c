/* Benchmark: NSGA-II on ZDT1 with the published benchmark settings (problems/zdt/zdt1.yaml: 30
 * variables, population 100, 250 generations, SBX 0.9 / eta 20, polynomial mutation eta 20 at 1/30),
 * seeds 1..10, in process through the same step API and problem code the driver uses, without the
 * run directory's I/O. Prints each seed's hypervolume (reference 1.1, 1.1) and time, their mean,
 * and the time per run beside Deb's optimised C (0.10 s on this machine, docs/design.md,
 * "Reference figures").
 * Exit 1 unless mean HV >= 0.8690 and every seed >= 0.8685.
 *   usage: bench_nsga [PROBLEM.yaml] [SEEDS] */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "hv.h"
#include "msg.h"
#include "nsga.h"
#include "prob.h"
#include "rng.h"
#include "status.h"

static double seconds_since(clockid_t clk, const struct timespec *t0)
{
    struct timespec t;
    clock_gettime(clk, &t);
    return (double)(t.tv_sec - t0->tv_sec) + 1e-9 * (double)(t.tv_nsec - t0->tv_nsec);
}

/* One run; returns the hypervolume of the final first front and its evaluation count. */
static double one_run(prob *p, const prob_spec *spec, uint64_t seed, long *evals)
{
    const nsga_settings *g = &spec->ga;
    nsga_cfg c;
    nsga_cfg_defaults(&c);
    c.n_genes = p->n_genes;
    c.genes = p->genes;
    c.n_obj = p->n_obj;
    c.ga.population = g->population;
    c.ga.pc = g->pc;
    c.ga.eta_c = g->eta_c;
    c.ga.eta_m = g->eta_m;
    c.ga.pm_real = g->pm_real;
    nsga *ga = nsga_alloc(&c);
    size_t N = (size_t)c.ga.population, L = p->n_genes, M = (size_t)p->n_obj;
    double *x = xmalloc(N * L * sizeof *x), *f = xmalloc(N * M * sizeof *f), *cv = xmalloc(N * sizeof *cv);
    rng_pcg32 r;
    rng_seed(&r, seed, 1);
    nsga_batch *b = nsga_init(ga, &r, NULL, 0);
    for (long gen = 0;; gen++) {
        for (size_t k = 0; k < b->n_pending; k++) memcpy(x + k * L, b->x + b->pending[k] * L, L * sizeof *x);
        if (p->evaluate(p, b->n_pending, x, f, cv, 1, NULL) != ST_OK) exit(1);
        for (size_t k = 0; k < b->n_pending; k++) {
            memcpy(b->f + b->pending[k] * M, f + k * M, M * sizeof *f);
            b->cv[b->pending[k]] = cv[k];
        }
        nsga_select(ga);
        if (nsga_generation(ga) >= g->generations) break;
        b = nsga_offspring(ga, &r);
    }
    nsga_pop pop = nsga_population(ga);
    size_t k = 0;
    for (size_t i = 0; i < pop.n; i++)
        if (pop.rank[i] == 0 && pop.cv[i] <= 0) memcpy(f + (k++) * M, pop.f + i * M, M * sizeof *f);
    double hv = hv_compute(f, k, (int)M, p->ref, NULL);
    *evals = nsga_evaluations(ga);
    free(x);
    free(f);
    free(cv);
    nsga_free(ga);
    return hv;
}

int main(int argc, char **argv)
{
    const char *path = argc > 1 ? argv[1] : APPROXMAP_SRCDIR "/problems/zdt/zdt1.yaml";
    int seeds = argc > 2 ? atoi(argv[2]) : 10;
    prob_spec spec;
    prob *p;
    if (prob_load(&spec, path) || prob_create(&spec, &p)) return 1;
    printf("NSGA-II on %s: %zu variables, population %ld, %ld generations, SBX %.2g/eta %g, PM eta %g rate %s\n",
           p->name, p->n_genes, spec.ga.population, spec.ga.generations, spec.ga.pc, spec.ga.eta_c, spec.ga.eta_m,
           spec.ga.pm_real < 0 ? "1/n" : "as given");
    printf("%6s %12s %12s %10s %10s\n", "seed", "hypervolume", "evaluations", "wall s", "cpu s");
    double sum = 0, lo = INFINITY, tsum = 0, csum = 0;
    for (int s = 1; s <= seeds; s++) {
        struct timespec t0, c0;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &c0);
        long evals;
        double hv = one_run(p, &spec, (uint64_t)s, &evals);
        double t = seconds_since(CLOCK_MONOTONIC, &t0), cpu = seconds_since(CLOCK_PROCESS_CPUTIME_ID, &c0);
        printf("%6d %12.5f %12ld %10.3f %10.3f\n", s, hv, evals, t, cpu);
        sum += hv;
        tsum += t;
        csum += cpu;
        lo = fmin(lo, hv);
    }
    double mean = sum / seeds;
    printf("mean hypervolume %.5f (target >= 0.8690; Deb's C 0.86945, DEAP 0.86926, true front 0.87667)\n", mean);
    printf("lowest seed      %.5f (target >= 0.8685)\n", lo);
    printf("time per run     %.3f s wall, %.3f s cpu (Deb's optimised C on this machine: 0.10 s)\n", tsum / seeds,
           csum / seeds);
    int ok = mean >= 0.8690 && lo >= 0.8685;
    printf("%s\n", ok ? "PASS: ZDT1 hypervolume targets met" : "FAIL: ZDT1 hypervolume targets missed");
    prob_free(p);
    prob_spec_deinit(&spec);
    return ok ? 0 : 1;
}
