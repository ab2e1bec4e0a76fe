/* Exact early rejection in the CNN problem (`early_reject: true`, approx_eval.h): on 100 random
 * filter-level maps of ResNet-8 over 96 search images in chunks of 8, a map that the full evaluation finds
 * feasible is never rejected and gets the very same objectives; a rejected map is infeasible in the full
 * evaluation, with a true loss and violation at least the recorded lower bounds and the same energy; the
 * results do not depend on the activation cache or the thread count. Skips (77) without the reference
 * model and CIFAR-10. */
#include <check.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "datadir.h"
#include "msg.h"
#include "prob.h"
#include "rng.h"
#include "tu.h"

enum { N_MAPS = 100 };

static prob *make(const char *dir, const char *name, int early, int cache_mb)
{
    char *path = xasprintf("%s/%s.yaml", dir, name);
    FILE *fp = fopen(path, "w");
    ck_assert_ptr_nonnull(fp);
    fprintf(fp,
            "type: cnn\n"
            "model: models/resnet8_mlperf_float.onnx\n"
            "data:\n"
            "  calibration: cifar10/cifar-10-batches-bin/data_batch_1.bin:0:50\n"
            "  search: cifar10/cifar-10-batches-bin/test_batch.bin:0:96\n"
            "library: roup8\n"
            "multipliers: [roup_k0_m0, roup_k0_m2, roup_k0_m4, roup_k1_m0, roup_k1_m3, roup_k2_m2, roup_k2_m6]\n"
            "granularity: filter\n"
            "max_loss_pp: 3\n"
            "chunk: 8\n"
            "cache_mb: %d\n"
            "early_reject: %s\n"
            "ga: {population: 8, generations: 2, seed: 1, threads: 2}\n",
            cache_mb, early ? "true" : "false");
    fclose(fp);
    prob_spec spec;
    ck_assert_int_eq(prob_load(&spec, path), 0);
    prob *p = NULL;
    ck_assert_int_eq(prob_create(&spec, &p), 0);
    prob_spec_deinit(&spec);
    free(path);
    return p;
}

START_TEST(early_rejection_is_exact)
{
    char dir[] = "/tmp/approxmap-early-XXXXXX";
    ck_assert_ptr_nonnull(mkdtemp(dir));
    prob *full = make(dir, "full", 0, 0), *early = make(dir, "early", 1, 0), *cached = make(dir, "cached", 1, 64);
    const size_t L = full->n_genes;
    ck_assert_uint_eq(early->n_genes, L);
    ck_assert(early->hash != full->hash); /* early rejection is part of the problem's definition */

    /* maps from gentle to harsh: a per-map share of approximate filters (0 to 1/2) with multipliers up to a
     * per-map ceiling, so that some are feasible and many are not */
    double *x = xmalloc(N_MAPS * L * sizeof *x);
    rng_pcg32 r;
    rng_seed(&r, 20261201, 9);
    const double hi = full->genes[0].hi;
    for (size_t i = 0; i < N_MAPS; i++) {
        static const uint32_t per_mille[] = {0, 10, 20, 50, 100, 200, 500};
        const uint32_t share = per_mille[rng_bounded(&r, 7)], ceil = 1 + rng_bounded(&r, (uint32_t)hi);
        /* gene values order the multipliers by energy: the highest is the exact one */
        for (size_t g = 0; g < L; g++) x[i * L + g] = hi - (rng_bounded(&r, 1000) < share ? 1 + rng_bounded(&r, ceil) : 0);
    }
    double *f[4], *cv[4];
    for (int k = 0; k < 4; k++) {
        f[k] = xmalloc(N_MAPS * 2 * sizeof **f);
        cv[k] = xmalloc(N_MAPS * sizeof **cv);
    }
    volatile sig_atomic_t stop = 0;
    ck_assert_int_eq(full->evaluate(full, N_MAPS, x, f[0], cv[0], 2, &stop), 0);
    ck_assert_int_eq(early->evaluate(early, N_MAPS, x, f[1], cv[1], 1, &stop), 0);
    ck_assert_int_eq(early->evaluate(early, N_MAPS, x, f[2], cv[2], 2, &stop), 0);
    ck_assert_int_eq(cached->evaluate(cached, N_MAPS, x, f[3], cv[3], 2, &stop), 0);

    int feasible = 0, bounded = 0;
    for (size_t i = 0; i < N_MAPS; i++) {
        ck_assert(f[1][2 * i] == f[0][2 * i]); /* energy is always exact */
        if (cv[0][i] == 0) {
            feasible++;
            ck_assert_msg(f[1][2 * i + 1] == f[0][2 * i + 1] && cv[1][i] == 0, "feasible map %zu rejected", i);
        } else {
            ck_assert_msg(cv[1][i] > 0, "infeasible map %zu reported feasible", i);
            ck_assert(f[1][2 * i + 1] <= f[0][2 * i + 1] && cv[1][i] <= cv[0][i]);
            bounded += f[1][2 * i + 1] < f[0][2 * i + 1];
        }
        for (int k = 2; k < 4; k++) /* threads and cache change nothing */
            ck_assert(f[k][2 * i] == f[1][2 * i] && f[k][2 * i + 1] == f[1][2 * i + 1] && cv[k][i] == cv[1][i]);
    }
    /* not vacuous: feasible maps, and rejected maps whose recorded loss is a strict lower bound */
    ck_assert_int_gt(feasible, 5);
    ck_assert_int_gt(bounded, 20);
    char text[256];
    early->stats(early, text, sizeof text);
    ck_assert_msg(strstr(text, "early rejection:") != NULL, "%s", text);
    printf("PASS: early rejection: %d of %d maps feasible and untouched, %d stopped early with a strict lower bound "
           "(%s)\n", feasible, N_MAPS, bounded, text);
    /* the cached run hit and evicted (entries' blocks went back to the pool and were taken again), so the
     * equality above covers states restored from reused blocks */
    cached->stats(cached, text, sizeof text);
    int hit_pct = 0;
    unsigned long long evicted = 0;
    const char *mb = strstr(text, " MB, ");
    ck_assert_msg(sscanf(text, "act-cache %d%% hits", &hit_pct) == 1 && mb, "%s", text);
    ck_assert_msg(sscanf(mb + 5, "%llu evicted", &evicted) == 1, "%s", text);
    ck_assert_msg(hit_pct > 0 && evicted > 0, "cache not exercised: %s", text);
    printf("PASS: cached = uncached with hits and evictions (%s)\n", text);

    for (int k = 0; k < 4; k++) {
        free(f[k]);
        free(cv[k]);
    }
    free(x);
    prob_free(full);
    prob_free(early);
    prob_free(cached);
    const char *names[] = {"full", "early", "cached"};
    for (int k = 0; k < 3; k++) {
        char *p = xasprintf("%s/%s.yaml", dir, names[k]);
        unlink(p);
        free(p);
    }
    rmdir(dir);
}
END_TEST

int main(void)
{
    char *model = datadir_resolve("models/resnet8_mlperf_float.onnx");
    char *test = datadir_resolve("cifar10/cifar-10-batches-bin/test_batch.bin");
    int have = access(model, R_OK) == 0 && access(test, R_OK) == 0;
    free(model);
    free(test);
    if (!have) {
        printf("SKIP: reference model or CIFAR-10 absent from the data directory\n");
        return 77;
    }
    Suite *s = suite_create("early");
    TCase *t = tcase_create("early");
    tcase_set_timeout(t, 600);
    tcase_add_test(t, early_rejection_is_exact);
    suite_add_tcase(s, t);
    SRunner *sr = srunner_create(s);
    srunner_set_fork_status(sr, CK_NOFORK);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
