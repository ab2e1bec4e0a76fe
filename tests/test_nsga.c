/* NSGA-II library: ranking and crowding against brute force on random populations with ties and
 * duplicates, constrained domination, hypervolume against hand-computed fronts, the archive as a
 * cache (duplicates never re-evaluated), operators' bounds, termination, determinism, and a ZDT1
 * convergence check. */
#include "tu.h"

#include <math.h>

#include "archive.h"
#include "hv.h"
#include "nsga.h"
#include "rng.h"
#include "status.h"

/* ---------- brute force references ---------- */

/* Peel fronts: a point is in the current front if no remaining point constrained-dominates it. */
static void brute_rank(const double *f, const double *cv, size_t n, int m, int *rank)
{
    int *done = xcalloc(n, sizeof *done);
    size_t left = n;
    for (int r = 0; left; r++) {
        int *in = xcalloc(n, sizeof *in);
        for (size_t i = 0; i < n; i++) {
            if (done[i]) continue;
            int dom = 0;
            for (size_t j = 0; j < n && !dom; j++)
                if (!done[j] && j != i) dom = nsga_cdominates(f + j * m, cv[j], f + i * m, cv[i], m);
            in[i] = !dom;
        }
        for (size_t i = 0; i < n; i++)
            if (in[i]) {
                rank[i] = r;
                done[i] = 1;
                left--;
            }
        free(in);
    }
    free(done);
}

/* Crowding by definition: neighbours in the (value, index) order of each objective. */
static void brute_crowd(const double *f, int m, const size_t *idx, size_t k, double *crowd)
{
    for (size_t a = 0; a < k; a++) {
        size_t i = idx[a];
        double d = 0;
        if (k <= 2) d = INFINITY;
        for (int o = 0; o < m && k > 2; o++) {
            double lo = INFINITY, hi = -INFINITY;
            long prev = -1, next = -1;
            for (size_t b = 0; b < k; b++) {
                size_t j = idx[b];
                double fj = f[j * m + o], fi = f[i * m + o];
                lo = fmin(lo, fj);
                hi = fmax(hi, fj);
                int below = fj < fi || (fj == fi && j < i), above = fj > fi || (fj == fi && j > i);
                if (below && (prev < 0 || fj > f[prev * m + o] || (fj == f[prev * m + o] && j > (size_t)prev))) prev = (long)j;
                if (above && (next < 0 || fj < f[next * m + o] || (fj == f[next * m + o] && j < (size_t)next))) next = (long)j;
            }
            if (prev < 0 || next < 0)
                d = INFINITY;
            else if (hi > lo)
                d += (f[next * m + o] - f[prev * m + o]) / (hi - lo);
        }
        crowd[i] = d;
    }
}

START_TEST(ranking_matches_brute_force)
{
    rng_pcg32 r;
    rng_seed(&r, 0x5eed, 11);
    for (int trial = 0; trial < 400; trial++) {
        int m = 2 + trial % 3; /* 2, 3, 4 objectives */
        size_t n = 1 + rng_bounded(&r, 80);
        int grid = 2 + (int)rng_bounded(&r, 6); /* few distinct values: many ties and duplicates */
        double *f = xmalloc(n * m * sizeof *f), *cv = xmalloc(n * sizeof *cv);
        int *rank = xmalloc(n * sizeof *rank), *want = xmalloc(n * sizeof *want);
        size_t *work = xmalloc(nsga_rank_work_size(n) * sizeof *work);
        for (size_t i = 0; i < n; i++) {
            for (int j = 0; j < m; j++) f[i * m + j] = (double)rng_bounded(&r, (uint32_t)grid) * 0.25;
            cv[i] = trial % 4 == 0 ? 0 : rng_bounded(&r, 4) == 0 ? 0.5 * rng_bounded(&r, 3) : 0;
        }
        if (n > 3) memcpy(f + 3 * m, f, m * sizeof *f); /* an exact duplicate */
        int fronts = nsga_rank(f, cv, n, m, rank, work);
        brute_rank(f, cv, n, m, want);
        int maxr = 0;
        for (size_t i = 0; i < n; i++) {
            ck_assert_msg(rank[i] == want[i], "trial %d point %zu: rank %d, brute force %d", trial, i, rank[i], want[i]);
            maxr = rank[i] > maxr ? rank[i] : maxr;
        }
        ck_assert_int_eq(fronts, maxr + 1);

        /* crowding on each front */
        double *crowd = xmalloc(n * sizeof *crowd), *cwant = xmalloc(n * sizeof *cwant);
        size_t *idx = xmalloc(n * sizeof *idx), *cw = xmalloc(2 * n * sizeof *cw);
        for (int fr = 0; fr < fronts; fr++) {
            size_t k = 0;
            for (size_t i = 0; i < n; i++)
                if (rank[i] == fr) idx[k++] = i;
            nsga_crowding(f, m, idx, k, crowd, cw);
            brute_crowd(f, m, idx, k, cwant);
            for (size_t a = 0; a < k; a++) {
                size_t i = idx[a];
                ck_assert_msg(crowd[i] == cwant[i] || fabs(crowd[i] - cwant[i]) < 1e-12,
                              "trial %d point %zu: crowding %g, brute force %g", trial, i, crowd[i], cwant[i]);
            }
        }
        free(crowd);
        free(cwant);
        free(idx);
        free(cw);
        free(f);
        free(cv);
        free(rank);
        free(want);
        free(work);
    }
}
END_TEST

START_TEST(ranking_by_hand)
{
    /* (1,4) (2,2) (4,1) non-dominated; (3,3) dominated by (2,2); (2,2) twice; (5,5) last */
    double f[] = {1, 4, 2, 2, 4, 1, 3, 3, 2, 2, 5, 5};
    double cv[] = {0, 0, 0, 0, 0, 0};
    int rank[6];
    size_t work[64];
    ck_assert_int_eq(nsga_rank(f, cv, 6, 2, rank, work), 3);
    int want[] = {0, 0, 0, 1, 0, 2};
    for (int i = 0; i < 6; i++) ck_assert_int_eq(rank[i], want[i]);
    /* infeasible points come after every feasible front, grouped by violation; with (2,2) infeasible,
     * (3,3) is no longer dominated by any feasible point */
    double cv2[] = {0, 0.5, 0, 0, 0.25, 0.5};
    ck_assert_int_eq(nsga_rank(f, cv2, 6, 2, rank, work), 3);
    int want2[] = {0, 2, 0, 0, 1, 2};
    for (int i = 0; i < 6; i++) ck_assert_int_eq(rank[i], want2[i]);
}
END_TEST

START_TEST(constrained_domination_cases)
{
    double a[] = {1, 1}, b[] = {2, 2}, c[] = {0, 3};
    ck_assert_int_eq(nsga_cdominates(a, 0, b, 0, 2), 1);   /* Pareto */
    ck_assert_int_eq(nsga_cdominates(b, 0, a, 0, 2), 0);
    ck_assert_int_eq(nsga_cdominates(a, 0, c, 0, 2), 0);   /* incomparable */
    ck_assert_int_eq(nsga_cdominates(c, 0, a, 0, 2), 0);
    ck_assert_int_eq(nsga_cdominates(a, 0, a, 0, 2), 0);   /* equal points: neither */
    ck_assert_int_eq(nsga_cdominates(b, 0, a, 0.1, 2), 1); /* feasible beats infeasible, however good */
    ck_assert_int_eq(nsga_cdominates(a, 0.1, b, 0, 2), 0);
    ck_assert_int_eq(nsga_cdominates(b, 0.1, a, 0.2, 2), 1); /* less violation wins */
    ck_assert_int_eq(nsga_cdominates(a, 0.2, b, 0.1, 2), 0);
    ck_assert_int_eq(nsga_cdominates(a, 0.3, b, 0.3, 2), 0); /* equal violation: neither */
    ck_assert_int_eq(nsga_cdominates(b, 0.3, a, 0.3, 2), 0);
}
END_TEST

START_TEST(hypervolume_by_hand)
{
    double ref2[] = {4, 4};
    double p1[] = {1, 3, 2, 2, 3, 1};
    ck_assert(hv_compute(p1, 3, 2, ref2, NULL) == 6.0); /* 3 + 2 + 1 */
    /* dominated, duplicate and outside points change nothing */
    double p2[] = {1, 3, 2, 2, 3, 1, 3, 3, 2, 2, 5, 0, 0, 4};
    ck_assert(hv_compute(p2, 7, 2, ref2, NULL) == 6.0);
    ck_assert(hv_compute(p2, 0, 2, ref2, NULL) == 0.0);
    double one[] = {0.5, 0.25};
    ck_assert(hv_compute(one, 1, 2, ref2, NULL) == 3.5 * 3.75);
    /* ZDT1 true front sampled at 1001 points against (1.1, 1.1): 0.87667 (docs/design.md, "Reference figures") to 1e-3 */
    double *z = xmalloc(2 * 1001 * sizeof *z);
    for (int i = 0; i <= 1000; i++) {
        z[2 * i] = i / 1000.0;
        z[2 * i + 1] = 1 - sqrt(i / 1000.0);
    }
    double ref11[] = {1.1, 1.1};
    double hvz = hv_compute(z, 1001, 2, ref11, NULL);
    ck_assert_double_lt(fabs(hvz - 0.87667), 1e-3);
    ck_assert_double_lt(hvz, 0.87667);
    free(z);

    double ref3[] = {2, 2, 2};
    double q1[] = {1, 1, 1};
    ck_assert(hv_compute(q1, 1, 3, ref3, NULL) == 1.0);
    /* boxes 2x2x1 and 1x1x2 overlapping in a unit cube: 4 + 2 - 1 */
    double q2[] = {0, 0, 1, 1, 1, 0};
    ck_assert(hv_compute(q2, 2, 3, ref3, NULL) == 5.0);
    /* three axis points of the unit simplex corner, ref (1,1,1): union of three unit-thin boxes */
    double ref1[] = {1, 1, 1};
    double q3[] = {0, 0.5, 0.5, 0.5, 0, 0.5, 0.5, 0.5, 0, 0.5, 0.5, 0.5};
    /* each box 1 x 0.5 x 0.5 = 0.25, pairwise overlaps 0.125, triple 0.125: 0.75 - 0.375 + 0.125 */
    ck_assert(hv_compute(q3, 4, 3, ref1, NULL) == 0.5);
    double work[64];
    ck_assert_uint_le(hv_work_size(4, 3), 64);
    ck_assert(hv_compute(q3, 4, 3, ref1, work) == 0.5);
}
END_TEST

/* ---------- the GA on small problems ---------- */

typedef struct counter {
    long calls;
    archive *seen; /* every genome handed out, to prove none comes twice */
} counter;

/* Integer test problem: 4 genes in 0..3 (256 genomes). f1 = sum, f2 = sum of (3 - g)^2. */
static void eval_int(const double *x, double *f)
{
    f[0] = x[0] + x[1] + x[2] + x[3];
    f[1] = 0;
    for (int g = 0; g < 4; g++) f[1] += (3 - x[g]) * (3 - x[g]) * (g + 1);
}

START_TEST(duplicates_never_reevaluated)
{
    nsga_gene genes[4];
    for (int g = 0; g < 4; g++) genes[g] = (nsga_gene){NSGA_INT, 0, 3};
    nsga_cfg c;
    nsga_cfg_defaults(&c);
    c.n_genes = 4;
    c.genes = genes;
    c.n_obj = 2;
    c.ga.population = 20;
    nsga *ga = nsga_alloc(&c);
    ck_assert_uint_eq(nsga_key_bytes(ga), 4);
    rng_pcg32 r;
    rng_seed(&r, 3, 1);
    counter cnt = {0, archive_alloc(nsga_key_bytes(ga), 2)};
    unsigned char key[4];
    nsga_batch *b = nsga_init(ga, &r, NULL, 0);
    for (int gen = 0; gen < 60; gen++) {
        for (size_t k = 0; k < b->n_pending; k++) {
            size_t i = b->pending[k];
            const double *x = b->x + i * 4;
            for (int g = 0; g < 4; g++) ck_assert(x[g] >= 0 && x[g] <= 3 && x[g] == floor(x[g]));
            nsga_pack(ga, x, key);
            uint64_t h = archive_hash(key, 4);
            ck_assert_int_eq(archive_find(cnt.seen, h, key), -1);
            double f[2];
            eval_int(x, f);
            archive_add(cnt.seen, h, key, f, 0, gen);
            memcpy(b->f + i * 2, f, sizeof f);
            b->cv[i] = 0;
            cnt.calls++;
        }
        nsga_select(ga);
        /* every population member carries the objectives of its genome */
        nsga_pop pop = nsga_population(ga);
        for (size_t i = 0; i < pop.n; i++) {
            double f[2];
            eval_int(pop.x + i * 4, f);
            ck_assert(f[0] == pop.f[i * 2] && f[1] == pop.f[i * 2 + 1]);
        }
        b = nsga_offspring(ga, &r);
    }
    ck_assert_int_eq(nsga_evaluations(ga), cnt.calls);
    ck_assert_uint_eq(archive_count(nsga_archive(ga)), (size_t)cnt.calls + b->n_pending);
    ck_assert_int_le(cnt.calls, 256);
    ck_assert_int_eq(nsga_evaluations(ga) + nsga_cache_hits(ga), 60 * 20);
    ck_assert_int_gt(nsga_cache_hits(ga), 500); /* a 256-genome space is soon exhausted */
    archive_free(cnt.seen);
    nsga_free(ga);
}
END_TEST

static void zdt1(const double *x, size_t n, double *f)
{
    double s = 0;
    for (size_t i = 1; i < n; i++) s += x[i];
    double g = 1 + 9 * s / (double)(n - 1);
    f[0] = x[0];
    f[1] = g * (1 - sqrt(x[0] / g));
}

/* Run ZDT1 (n vars) for gens generations; evaluate pending rows in reverse order when `reverse`. */
static nsga *run_zdt1(size_t n, size_t pop, int gens, uint64_t seed, int reverse)
{
    nsga_gene *genes = xmalloc(n * sizeof *genes);
    for (size_t g = 0; g < n; g++) genes[g] = (nsga_gene){NSGA_REAL, 0, 1};
    nsga_cfg c;
    nsga_cfg_defaults(&c);
    c.n_genes = n;
    c.genes = genes;
    c.n_obj = 2;
    c.ga.population = pop;
    c.ga.eta_c = 15;
    nsga *ga = nsga_alloc(&c);
    free(genes);
    rng_pcg32 r;
    rng_seed(&r, seed, 1);
    nsga_batch *b = nsga_init(ga, &r, NULL, 0);
    long outside = 0;
    for (int gen = 0; gen < gens; gen++) {
        for (size_t k = 0; k < b->n_pending; k++) {
            size_t i = b->pending[reverse ? b->n_pending - 1 - k : k];
            for (size_t g = 0; g < n; g++) outside += !(b->x[i * n + g] >= 0 && b->x[i * n + g] <= 1);
            zdt1(b->x + i * n, n, b->f + i * 2);
            b->cv[i] = 0;
        }
        nsga_select(ga);
        if (gen + 1 < gens) b = nsga_offspring(ga, &r);
    }
    ck_assert_int_eq(outside, 0); /* SBX and polynomial mutation respect the bounds */
    return ga;
}

static double pop_hv(const nsga *ga)
{
    nsga_pop p = nsga_population(ga);
    double ref[] = {1.1, 1.1};
    return hv_compute(p.f, p.n, 2, ref, NULL);
}

START_TEST(zdt1_converges_and_is_deterministic)
{
    nsga *a = run_zdt1(30, 100, 150, 1, 0);
    double hv = pop_hv(a);
    ck_assert_msg(hv > 0.86, "hypervolume %g after 150 generations", hv);
    nsga *b = run_zdt1(30, 100, 150, 1, 1);
    nsga_pop pa = nsga_population(a), pb = nsga_population(b);
    ck_assert_int_eq(memcmp(pa.x, pb.x, pa.n * pa.n_genes * sizeof(double)), 0);
    ck_assert_int_eq(memcmp(pa.crowd, pb.crowd, pa.n * sizeof(double)), 0);
    nsga *c = run_zdt1(30, 100, 150, 2, 0);
    ck_assert(pop_hv(c) != hv); /* another seed, another run */
    nsga_free(a);
    nsga_free(b);
    nsga_free(c);
}
END_TEST

START_TEST(restore_continues_identically)
{
    /* run 20 generations; snapshot after 10, restore into a fresh GA with the archive replayed */
    size_t n = 8, N = 12;
    nsga_gene genes[8];
    for (size_t g = 0; g < n; g++) genes[g] = (nsga_gene){g < 4 ? NSGA_REAL : NSGA_INT, 0, g < 4 ? 1 : 9};
    nsga_cfg c;
    nsga_cfg_defaults(&c);
    c.n_genes = n;
    c.genes = genes;
    c.n_obj = 2;
    c.ga.population = N;
    nsga *ga = nsga_alloc(&c), *gb = NULL;
    rng_pcg32 r, rs;
    rng_seed(&r, 99, 1);
    double *sx = xmalloc(N * n * sizeof *sx), *sf = xmalloc(N * 2 * sizeof *sf), sc[12], scr[12];
    int srk[12];
    long gen_s = 0, ev_s = 0, hit_s = 0;
    ckpt_writer saved;
    ckpt_writer_init(&saved);
    nsga_batch *b = nsga_init(ga, &r, NULL, 0);
    for (int gen = 0; gen < 20; gen++) {
        for (size_t k = 0; k < b->n_pending; k++) {
            size_t i = b->pending[k];
            const double *x = b->x + i * n;
            double s = 0;
            for (size_t g = 1; g < n; g++) s += x[g];
            b->f[i * 2] = x[0] + 0.01 * x[7];
            b->f[i * 2 + 1] = (1 + s) * (1 - x[0]);
            b->cv[i] = x[5] > 7 ? x[5] - 7 : 0;
        }
        nsga_select(ga);
        if (gen == 9) {
            nsga_pop p = nsga_population(ga);
            memcpy(sx, p.x, N * n * sizeof *sx);
            memcpy(sf, p.f, N * 2 * sizeof *sf);
            memcpy(sc, p.cv, sizeof sc);
            memcpy(scr, p.crowd, sizeof scr);
            memcpy(srk, p.rank, sizeof srk);
            gen_s = nsga_generation(ga);
            ev_s = nsga_evaluations(ga);
            hit_s = nsga_cache_hits(ga);
            nsga_save_counters(&saved, ga);
            nsga_save_population(&saved, ga);
            rs = r;
            gb = nsga_alloc(&c);
            const archive *a = nsga_archive_const(ga);
            for (size_t e = 0; e < archive_count(a); e++)
                archive_add(nsga_archive(gb), archive_entry_hash(a, e), archive_key(a, e), archive_obj(a, e),
                            archive_cv(a, e), archive_generation(a, e));
        }
        b = nsga_offspring(ga, &r);
    }
    /* the checkpoint form: counters and population through ckpt.h's writers */
    ckpt_reader rd;
    char err[200] = "";
    ckpt_reader_init(&rd, saved.data, saved.len);
    ck_assert_int_eq(nsga_load_counters(&rd, gb, err, sizeof err), ST_OK);
    ck_assert_int_eq(nsga_load_population(&rd, gb, err, sizeof err), ST_OK);
    ck_assert_uint_eq(ckpt_remaining(&rd), 0);
    ckpt_writer_deinit(&saved);
    nsga_pop ps = nsga_population(gb);
    ck_assert_int_eq(memcmp(ps.x, sx, N * n * sizeof *sx), 0);
    ck_assert_int_eq(memcmp(ps.f, sf, N * 2 * sizeof *sf), 0);
    ck_assert_int_eq(memcmp(ps.cv, sc, sizeof sc), 0);
    ck_assert_int_eq(memcmp(ps.crowd, scr, sizeof scr), 0);
    ck_assert_int_eq(memcmp(ps.rank, srk, sizeof srk), 0);
    ck_assert_int_eq(nsga_generation(gb), gen_s);
    ck_assert_int_eq(nsga_evaluations(gb), ev_s);
    ck_assert_int_eq(nsga_cache_hits(gb), hit_s);
    ck_assert_int_eq(nsga_check_archive(gb, err, sizeof err), ST_OK);
    b = nsga_offspring(gb, &rs);
    for (int gen = 10; gen < 20; gen++) {
        for (size_t k = 0; k < b->n_pending; k++) {
            size_t i = b->pending[k];
            const double *x = b->x + i * n;
            double s = 0;
            for (size_t g = 1; g < n; g++) s += x[g];
            b->f[i * 2] = x[0] + 0.01 * x[7];
            b->f[i * 2 + 1] = (1 + s) * (1 - x[0]);
            b->cv[i] = x[5] > 7 ? x[5] - 7 : 0;
        }
        nsga_select(gb);
        b = nsga_offspring(gb, &rs);
    }
    nsga_pop pa = nsga_population(ga), pb = nsga_population(gb);
    ck_assert_int_eq(memcmp(pa.x, pb.x, N * n * sizeof(double)), 0);
    ck_assert_int_eq(nsga_evaluations(ga), nsga_evaluations(gb));
    ck_assert_uint_eq(archive_count(nsga_archive(ga)), archive_count(nsga_archive(gb)));
    ck_assert_uint_eq(r.state, rs.state);
    free(sx);
    free(sf);
    nsga_free(ga);
    nsga_free(gb);
}
END_TEST

/* A GA of 8 integer genes in 0..20 after two generations, saved as a checkpoint holds it. */
static nsga *small_int_ga(nsga_gene *genes, ckpt_writer *w)
{
    for (size_t g = 0; g < 8; g++) genes[g] = (nsga_gene){NSGA_INT, 0, 20};
    nsga_cfg c;
    nsga_cfg_defaults(&c);
    c.n_genes = 8;
    c.genes = genes;
    c.n_obj = 2;
    c.ga.population = 8;
    nsga *ga = nsga_alloc(&c);
    rng_pcg32 r;
    rng_seed(&r, 5, 1);
    nsga_batch *b = nsga_init(ga, &r, NULL, 0);
    for (int gen = 0; gen < 2; gen++) {
        for (size_t k = 0; k < b->n_pending; k++) {
            size_t i = b->pending[k];
            b->f[i * 2] = b->x[i * 8];
            b->f[i * 2 + 1] = 20 - b->x[i * 8] + b->x[i * 8 + 1];
            b->cv[i] = 0;
        }
        nsga_select(ga);
        if (gen == 0) b = nsga_offspring(ga, &r);
    }
    nsga_save_settings(w, &nsga_config(ga)->ga);
    nsga_save_counters(w, ga);
    nsga_save_population(w, ga);
    return ga;
}

/* Load the bytes of w (settings, counters, population) into a fresh GA; returns the status, err the
 * phrase. */
static int load_bytes(const ckpt_writer *w, const nsga_gene *genes, char *err, size_t n)
{
    ckpt_reader rd;
    ckpt_reader_init(&rd, w->data, w->len);
    nsga_settings s;
    err[0] = '\0';
    int rc = nsga_load_settings(&rd, &s, err, n);
    if (rc) return rc;
    nsga_cfg c = {8, genes, 2, s, 0, NULL};
    nsga *ga = nsga_alloc(&c);
    if (!(rc = nsga_load_counters(&rd, ga, err, n))) rc = nsga_load_population(&rd, ga, err, n);
    if (!rc) ck_assert_uint_eq(nsga_population(ga).n, 8);
    nsga_free(ga);
    return rc;
}

static void put_f64_at(ckpt_writer *w, size_t off, double v)
{
    uint64_t bits;
    memcpy(&bits, &v, 8);
    ckpt_le64(w->data + off, bits);
}

START_TEST(load_refuses_bad_state)
{
    /* offsets: settings 15 x 8 bytes, counters 3 x 8 (generation at 120), population count at 144,
     * rows of 8 genes + 2 objectives + violation (f64), rank (u32), crowding (f64) = 100 bytes from 152 */
    enum { GEN = 120, NP = 144, ROWS = 152, ROW = 100 };
    nsga_gene genes[8];
    ckpt_writer w;
    ckpt_writer_init(&w);
    nsga *ga = small_int_ga(genes, &w);
    ck_assert_uint_eq(w.len, ROWS + 8 * ROW);
    char err[200];
    ck_assert_int_eq(load_bytes(&w, genes, err, sizeof err), ST_OK);
    ck_assert_int_eq(nsga_check_archive(ga, err, sizeof err), ST_OK);
    ckpt_writer v;
    static const struct {
        size_t off;
        double val;
        const char *msg;
    } cases[] = {
        {ROWS + 6 * ROW + 2 * 8, 999, "gene 3 of individual 7 is 999, outside 0..20"},
        {ROWS + 6 * ROW + 2 * 8, NAN, "gene 3 of individual 7 is nan, outside 0..20"},
        {ROWS + 0 * ROW + 7 * 8, 2.5, "gene 8 of individual 1 is 2.5, not an integer"},
        {ROWS + 1 * ROW + 8 * 8, NAN, "objective 1 of individual 2 is NaN"},
        {ROWS + 2 * ROW + 10 * 8, -1, "violation of individual 3 is -1, not >= 0"},
        {ROWS + 3 * ROW + 11 * 8 + 4, -0.5, "crowding distance of individual 4 is -0.5, not >= 0"},
        {8, 1.5, "crossover probability is 1.5, outside 0..1"},
        {32, NAN, "mutation rate is nan, outside 0..1"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        ckpt_writer_init(&v);
        ckpt_put_bytes(&v, w.data, w.len);
        put_f64_at(&v, cases[i].off, cases[i].val);
        ck_assert_int_eq(load_bytes(&v, genes, err, sizeof err), ST_EFORMAT);
        ck_assert_msg(strstr(err, cases[i].msg) != NULL, "case %zu: '%s'", i, err);
        ckpt_writer_deinit(&v);
    }
    /* integer fields: population size, population count, generation, rank */
    static const struct {
        size_t off;
        int bytes;
        uint64_t val;
        const char *msg;
    } ints[] = {
        {0, 8, 0, "population is 0, not an even number in 4..100000"},
        {0, 8, 7, "population is 7, not an even number in 4..100000"},
        {NP, 8, 0, "population count is 0 at generation 2, where it must be the population size 8"},
        {GEN, 8, 0, "population count is 8 at generation 0, where it must be 0"},
        {GEN, 8, UINT64_C(0x8000000000000000), "generation is -9223372036854775808, outside 0.."},
        {ROWS + 4 * ROW + 11 * 8, 4, 16, "rank of individual 5 is 16, outside 0..15"},
    };
    for (size_t i = 0; i < sizeof ints / sizeof ints[0]; i++) {
        ckpt_writer_init(&v);
        ckpt_put_bytes(&v, w.data, w.len);
        if (ints[i].bytes == 8)
            ckpt_le64(v.data + ints[i].off, ints[i].val);
        else
            ckpt_le32(v.data + ints[i].off, (uint32_t)ints[i].val);
        ck_assert_int_eq(load_bytes(&v, genes, err, sizeof err), ST_EFORMAT);
        ck_assert_msg(strstr(err, ints[i].msg) != NULL, "int case %zu: '%s'", i, err);
        ckpt_writer_deinit(&v);
    }
    /* counters that do not add up */
    ckpt_writer_init(&v);
    ckpt_put_bytes(&v, w.data, w.len);
    ckpt_le64(v.data + GEN, 3);
    ck_assert_int_eq(load_bytes(&v, genes, err, sizeof err), ST_EFORMAT);
    char sum[120];
    snprintf(sum, sizeof sum, "evaluations (%ld) + cache hits (%ld) is not generation (3) x population (8)",
             nsga_evaluations(ga), nsga_cache_hits(ga));
    ck_assert_str_eq(err, sum);
    ckpt_writer_deinit(&v);
    /* cut short: inside the population, inside the settings */
    ckpt_writer_init(&v);
    ckpt_put_bytes(&v, w.data, w.len - 10);
    ck_assert_int_eq(load_bytes(&v, genes, err, sizeof err), ST_EFORMAT);
    ck_assert_msg(strstr(err, "ends inside the population") != NULL, "'%s'", err);
    v.len = 50;
    ck_assert_int_eq(load_bytes(&v, genes, err, sizeof err), ST_EFORMAT);
    ck_assert_str_eq(err, "ends inside the GA settings");
    ckpt_writer_deinit(&v);

    /* a population that is not in the archive: another run's */
    nsga_gene g2[8];
    ckpt_writer w2;
    ckpt_writer_init(&w2);
    nsga *other = small_int_ga(g2, &w2);
    ckpt_reader rd;
    ckpt_reader_init(&rd, w.data + 120, w.len - 120); /* counters and population of the first GA */
    ck_assert_int_eq(nsga_load_counters(&rd, other, err, sizeof err), ST_OK);
    ck_assert_int_eq(nsga_load_population(&rd, other, err, sizeof err), ST_OK);
    ck_assert_int_eq(nsga_check_archive(other, err, sizeof err), ST_OK); /* same seed: same archive */
    /* the archive without individual 1's record: the population is not all archived */
    archive *a = nsga_archive(ga);
    unsigned char key[8];
    nsga_pack(ga, nsga_population(ga).x, key);
    long e0 = archive_find(a, archive_hash(key, 8), key);
    ck_assert_int_ge(e0, 0);
    nsga_cfg c = *nsga_config(ga);
    nsga *fresh = nsga_alloc(&c);
    for (size_t e = 0; e < archive_count(a); e++)
        if ((long)e != e0)
            archive_add(nsga_archive(fresh), archive_entry_hash(a, e), archive_key(a, e), archive_obj(a, e),
                        archive_cv(a, e), archive_generation(a, e));
    ckpt_reader_init(&rd, w.data + 120, w.len - 120);
    ck_assert_int_eq(nsga_load_counters(&rd, fresh, err, sizeof err), ST_OK);
    ck_assert_int_eq(nsga_load_population(&rd, fresh, err, sizeof err), ST_OK);
    ck_assert_int_eq(nsga_check_archive(fresh, err, sizeof err), ST_EFORMAT);
    ck_assert_str_eq(err, "individual 1 of the population is not in the archive");
    /* other results for individual 1 */
    double f0[2] = {99, 99};
    archive_set(nsga_archive(other), (size_t)e0, f0, 0);
    ck_assert_int_eq(nsga_check_archive(other, err, sizeof err), ST_EFORMAT);
    char want[100];
    snprintf(want, sizeof want, "individual 1 of the population has other results than archive record %ld", e0);
    ck_assert_str_eq(err, want);
    nsga_free(fresh);
    nsga_free(other);
    nsga_free(ga);
    ckpt_writer_deinit(&w);
    ckpt_writer_deinit(&w2);
}
END_TEST

START_TEST(pack_unpack_and_seeds)
{
    nsga_gene genes[] = {{NSGA_REAL, -1, 1}, {NSGA_INT, -5, 200}, {NSGA_INT, 0, 1000}, {NSGA_INT, 0, 70000}};
    nsga_cfg c;
    nsga_cfg_defaults(&c);
    c.n_genes = 4;
    c.genes = genes;
    c.n_obj = 1;
    c.ga.population = 4;
    nsga *ga = nsga_alloc(&c);
    ck_assert_uint_eq(nsga_key_bytes(ga), 8 + 1 + 2 + 4);
    double x[] = {-0.0, -5, 999, 69999}, y[4];
    unsigned char key[15];
    nsga_pack(ga, x, key);
    nsga_unpack(ga, key, y);
    ck_assert(y[0] == 0 && !signbit(y[0]) && y[1] == -5 && y[2] == 999 && y[3] == 69999);
    /* -0 and +0 are one genome */
    double x2[] = {0.0, -5, 999, 69999};
    unsigned char key2[15];
    nsga_pack(ga, x2, key2);
    ck_assert_int_eq(memcmp(key, key2, 15), 0);
    /* seeds go first, verbatim; the identical seed twice is evaluated once */
    rng_pcg32 r;
    rng_seed(&r, 1, 1);
    double seeds[] = {0.5, 10, 20, 30, 0.5, 10, 20, 30};
    nsga_batch *b = nsga_init(ga, &r, seeds, 2);
    ck_assert_int_eq(memcmp(b->x, seeds, sizeof seeds), 0);
    ck_assert_uint_eq(b->n_pending, 3);
    ck_assert_uint_eq(b->pending[0], 0);
    ck_assert_uint_eq(b->pending[1], 2);
    nsga_free(ga);
}
END_TEST

/* Integer mutation: from a population of one repeated genome, with every gene mutated and no
 * crossover, creep moves each gene by exactly 1 (reflected at the bounds) and reset always picks
 * another value, uniformly. */
START_TEST(integer_creep_and_reset)
{
    nsga_gene genes[3] = {{NSGA_INT, 0, 4}, {NSGA_INT, 0, 4}, {NSGA_INT, 0, 4}};
    double seed[3] = {0, 2, 4};
    double seeds[8 * 3];
    for (int i = 0; i < 8; i++) memcpy(seeds + 3 * i, seed, sizeof seed);
    for (int mode = 0; mode < 2; mode++) {
        nsga_cfg c;
        nsga_cfg_defaults(&c);
        c.n_genes = 3;
        c.genes = genes;
        c.n_obj = 2;
        c.ga.population = 8;
        c.ga.pc = 0;
        c.ga.pm_int = 1;
        c.ga.creep = mode == 0 ? 1 : 0;
        nsga *ga = nsga_alloc(&c);
        rng_pcg32 r;
        rng_seed(&r, 5, 1);
        nsga_batch *b = nsga_init(ga, &r, seeds, 8);
        ck_assert_uint_eq(b->n_pending, 1); /* eight copies, one evaluation */
        b->f[0] = b->f[1] = 0;
        b->cv[0] = 0;
        nsga_select(ga);
        long hist[3][5] = {{0}};
        for (int rep = 0; rep < 200; rep++) {
            b = nsga_offspring(ga, &r);
            for (size_t i = 0; i < b->n; i++)
                for (int g = 0; g < 3; g++) hist[g][(int)b->x[i * 3 + g]]++;
            for (size_t k = 0; k < b->n_pending; k++) {
                size_t i = b->pending[k];
                b->f[i * 2] = b->f[i * 2 + 1] = 1; /* worse than the seed: the population stays put */
                b->cv[i] = 0;
            }
            nsga_select(ga);
        }
        if (mode == 0) { /* creep: 0 -> 1 only, 2 -> 1 or 3 evenly, 4 -> 3 only */
            ck_assert_int_eq(hist[0][1], 1600);
            ck_assert_int_eq(hist[1][1] + hist[1][3], 1600);
            ck_assert_int_gt(hist[1][1], 700);
            ck_assert_int_gt(hist[1][3], 700);
            ck_assert_int_eq(hist[2][3], 1600);
        } else { /* reset: never the old value, the four others about 400 times each */
            for (int g = 0; g < 3; g++) {
                ck_assert_int_eq(hist[g][(int)seed[g]], 0);
                for (int v = 0; v < 5; v++)
                    if (v != (int)seed[g]) ck_assert_msg(hist[g][v] > 320 && hist[g][v] < 480, "gene %d value %d: %ld", g, v, hist[g][v]);
            }
        }
        nsga_free(ga);
    }
}
END_TEST

/* ---------- block operators ---------- */

/* A GA over integer genes whose population stays put: the seeds' distinct genomes get objectives
 * (i, n - i) (mutually non-dominated), every offspring (1e3, 1e3). */
static nsga *static_ga(nsga_cfg *c, rng_pcg32 *r, const double *seeds)
{
    nsga *ga = nsga_alloc(c);
    nsga_batch *b = nsga_init(ga, r, seeds, (size_t)c->ga.population);
    for (size_t k = 0; k < b->n_pending; k++) {
        size_t i = b->pending[k];
        b->f[i * 2] = (double)k;
        b->f[i * 2 + 1] = (double)(b->n_pending - k);
        b->cv[i] = 0;
    }
    nsga_select(ga);
    return ga;
}

static void score_worse(nsga_batch *b)
{
    for (size_t k = 0; k < b->n_pending; k++) {
        size_t i = b->pending[k];
        b->f[i * 2] = b->f[i * 2 + 1] = 1e3;
        b->cv[i] = 0;
    }
}

/* Block crossover between A (all 1) and B (all 7): each block of each child is whole from one parent,
 * the two children are complements, about half the blocks come from each parent; with block_run = 1
 * at most one block is mixed, by one contiguous run. Exact counts for this seed. */
START_TEST(block_crossover_keeps_blocks)
{
    enum { L = 10, N = 8 };
    static const size_t blocks[] = {0, 3, 4, 8, 10};
    nsga_gene genes[L];
    for (int g = 0; g < L; g++) genes[g] = (nsga_gene){NSGA_INT, 0, 9};
    double seeds[N * L];
    for (int i = 0; i < N; i++)
        for (int g = 0; g < L; g++) seeds[i * L + g] = i < N / 2 ? 1 : 7;
    for (int run = 0; run < 2; run++) {
        nsga_cfg c;
        nsga_cfg_defaults(&c);
        c.n_genes = L;
        c.genes = genes;
        c.n_obj = 2;
        c.n_blocks = 4;
        c.blocks = blocks;
        c.ga.population = N;
        c.ga.pc = 1;
        c.ga.pm_int = 0;
        c.ga.block_crossover = 1;
        c.ga.block_run = run;
        rng_pcg32 r;
        rng_seed(&r, 11, 1);
        nsga *ga = static_ga(&c, &r, seeds);
        ck_assert_double_eq(nsga_config(ga)->ga.pm_int, 0);
        long mixed_pairs = 0, from_b = 0, blocks_seen = 0, mixed_blocks = 0;
        for (int rep = 0; rep < 300; rep++) {
            nsga_batch *b = nsga_offspring(ga, &r);
            for (size_t i = 0; i < N; i += 2) {
                const double *c1 = b->x + i * L, *c2 = c1 + L;
                double sum = c1[0] + c2[0];
                for (int g = 0; g < L; g++) ck_assert_double_eq(c1[g] + c2[g], sum); /* complements */
                if (sum != 8) continue; /* both parents the same genome */
                mixed_pairs++;
                int n_mixed = 0;
                for (size_t k = 0; k < 4; k++) {
                    int changes = 0;
                    for (size_t g = blocks[k] + 1; g < blocks[k + 1]; g++) changes += c1[g] != c1[g - 1];
                    if (changes) {
                        n_mixed++;
                        /* X..X Y..Y X..X: a run inside the block */
                        ck_assert_int_le(changes, 2);
                        if (changes == 2) ck_assert_double_eq(c1[blocks[k]], c1[blocks[k + 1] - 1]);
                    } else {
                        blocks_seen++;
                        from_b += c1[blocks[k]] == 7;
                    }
                }
                ck_assert_int_le(n_mixed, run);
                mixed_blocks += n_mixed;
            }
            score_worse(b);
            nsga_select(ga);
        }
        ck_assert_msg(labs(2 * from_b - blocks_seen) < blocks_seen / 10, "%ld of %ld blocks from B", from_b, blocks_seen);
        if (run == 0) {
            ck_assert_int_eq(mixed_pairs, 756);
            ck_assert_int_eq(blocks_seen, 3024);
            ck_assert_int_eq(from_b, 1560);
            ck_assert_int_eq(mixed_blocks, 0);
        } else {
            /* one run per pair; it mixes a block unless it covers it whole (always in the 1-gene block):
             * expected 709 x (7/9 + 14/16 + 2/4) / 4 = 381 */
            ck_assert_int_eq(mixed_pairs, 709);
            ck_assert_int_eq(mixed_blocks, 380);
        }
        nsga_free(ga);
    }
}
END_TEST

/* Run mutation: from a population of one genome, each mutated block differs from it on exactly one
 * contiguous run, every gene of the run by the same +-1 within bounds (a block at its upper bound
 * moves down); blocks are mutated at block_rate (exact counts for this seed); crossover off. */
START_TEST(run_mutation_moves_one_run)
{
    enum { L = 12, N = 8 };
    static const size_t blocks[] = {0, 5, 12};
    nsga_gene genes[L];
    double seed[L];
    for (int g = 0; g < L; g++) {
        genes[g] = (nsga_gene){NSGA_INT, 0, 4};
        seed[g] = g < 5 ? 4 : 2; /* block 0 at the upper bound, block 1 in the middle */
    }
    double seeds[N * L];
    for (int i = 0; i < N; i++) memcpy(seeds + i * L, seed, sizeof seed);
    static const double rates[] = {1, 0.3};
    for (int m = 0; m < 2; m++) {
        nsga_cfg c;
        nsga_cfg_defaults(&c);
        c.n_genes = L;
        c.genes = genes;
        c.n_obj = 2;
        c.n_blocks = 2;
        c.blocks = blocks;
        c.ga.population = N;
        c.ga.pc = 0;
        c.ga.block_rate = rates[m];
        rng_pcg32 r;
        rng_seed(&r, 3, 1);
        nsga *ga = static_ga(&c, &r, seeds);
        ck_assert_double_eq(nsga_config(ga)->ga.pm_int, 0); /* per-gene creep off by default */
        long mutated[2] = {0, 0}, up = 0, run_len = 0;
        for (int rep = 0; rep < 200; rep++) {
            nsga_batch *b = nsga_offspring(ga, &r);
            for (size_t i = 0; i < N; i++) {
                const double *x = b->x + i * L;
                for (size_t k = 0; k < 2; k++) {
                    long first = -1, last = -1;
                    double d = 0;
                    for (size_t g = blocks[k]; g < blocks[k + 1]; g++) {
                        if (x[g] == seed[g]) continue;
                        ck_assert(x[g] >= 0 && x[g] <= 4);
                        if (first < 0) {
                            first = (long)g;
                            d = x[g] - seed[g];
                            ck_assert(d == 1 || d == -1);
                        } else {
                            ck_assert_int_eq(last, (long)g - 1); /* contiguous */
                            ck_assert_double_eq(x[g] - seed[g], d);
                        }
                        last = (long)g;
                    }
                    if (first < 0) continue;
                    mutated[k]++;
                    if (k == 0) ck_assert_double_eq(d, -1);
                    if (k == 1) up += d > 0;
                    run_len += last - first + 1;
                }
            }
            score_worse(b);
            nsga_select(ga);
        }
        if (m == 0) { /* rate 1: every block of every child */
            ck_assert_int_eq(mutated[0], 1600);
            ck_assert_int_eq(mutated[1], 1600);
            ck_assert_msg(up > 700 && up < 900, "%ld of 1600 runs up", up);
            ck_assert_int_eq(up, 763);
            ck_assert_int_eq(run_len, 9405); /* mean 2.94; two uniform points in 5 and 7 genes: 2.94 */
        } else { /* rate 0.3 of 1600 blocks each: about 480 */
            for (int k = 0; k < 2; k++) ck_assert_msg(mutated[k] > 420 && mutated[k] < 540, "block %d: %ld", k, mutated[k]);
            ck_assert_int_eq(mutated[0], 500);
            ck_assert_int_eq(mutated[1], 491);
        }
        nsga_free(ga);
    }
}
END_TEST

/* The block settings round-trip through nsga_save_block_settings / nsga_load_block_settings, are off in a
 * GA loaded without them, and a wrong tag or value is refused with the field named. */
START_TEST(block_settings_round_trip)
{
    nsga_gene genes[4];
    for (int g = 0; g < 4; g++) genes[g] = (nsga_gene){NSGA_INT, 0, 3};
    nsga_cfg c;
    nsga_cfg_defaults(&c);
    c.n_genes = 4;
    c.genes = genes;
    c.n_obj = 2;
    c.ga.population = 4;
    ck_assert_int_eq(nsga_block_settings_used(&c.ga), 0);
    c.ga.block_crossover = 1;
    c.ga.block_run = 0.25;
    c.ga.block_rate = 0.5;
    ck_assert_int_eq(nsga_block_settings_used(&c.ga), 1);
    nsga *ga = nsga_alloc(&c);
    ckpt_writer w;
    ckpt_writer_init(&w);
    nsga_save_block_settings(&w, ga);
    ck_assert_uint_eq(w.len, 24);
    nsga_cfg d = c;
    d.ga.block_crossover = 0;
    d.ga.block_run = d.ga.block_rate = 0;
    nsga *gb = nsga_alloc(&d);
    char err[200];
    ckpt_reader rd;
    ckpt_reader_init(&rd, w.data, w.len);
    ck_assert_int_eq(nsga_load_block_settings(&rd, gb, err, sizeof err), ST_OK);
    const nsga_settings *s = &nsga_config(gb)->ga;
    ck_assert(s->block_crossover == 1 && s->block_run == 0.25 && s->block_rate == 0.5);
    w.data[4] = 2; /* block_crossover 2 */
    ckpt_reader_init(&rd, w.data, w.len);
    ck_assert_int_eq(nsga_load_block_settings(&rd, gb, err, sizeof err), ST_EFORMAT);
    ck_assert_str_eq(err, "block crossover is 2, not 0 or 1");
    w.data[4] = 1;
    w.data[0] ^= 1;
    ckpt_reader_init(&rd, w.data, w.len);
    ck_assert_int_eq(nsga_load_block_settings(&rd, gb, err, sizeof err), ST_EFORMAT);
    ck_assert_str_eq(err, "block operators' tag is 0x4b4c4230, not 0x4b4c4231");
    w.data[0] ^= 1;
    ckpt_reader_init(&rd, w.data, w.len - 1);
    ck_assert_int_eq(nsga_load_block_settings(&rd, gb, err, sizeof err), ST_EFORMAT);
    ck_assert_str_eq(err, "ends inside the block operators' settings");
    ckpt_writer_deinit(&w);
    nsga_free(ga);
    nsga_free(gb);
}
END_TEST

START_TEST(termination_criteria)
{
    nsga_term t = {250, 0, 0, 0, 0};
    nsga_progress p = {0};
    p.generation = 249;
    ck_assert_int_eq(nsga_term_test(&t, &p), NSGA_CONTINUE);
    p.generation = 250;
    ck_assert_int_eq(nsga_term_test(&t, &p), NSGA_STOP_GENERATIONS);
    nsga_term te = {0, 1000, 0, 0, 0};
    p.evaluations = 999;
    ck_assert_int_eq(nsga_term_test(&te, &p), NSGA_CONTINUE);
    p.evaluations = 1000;
    ck_assert_int_eq(nsga_term_test(&te, &p), NSGA_STOP_EVALUATIONS);
    nsga_term tt = {0, 0, 60, 0, 0};
    p.seconds = 59.9;
    ck_assert_int_eq(nsga_term_test(&tt, &p), NSGA_CONTINUE);
    p.seconds = 60;
    ck_assert_int_eq(nsga_term_test(&tt, &p), NSGA_STOP_TIME);
    ck_assert_str_eq(nsga_stop_str(NSGA_STOP_TIME), "time limit reached");
    /* stagnation: improvements of <= 0.01 do not count */
    nsga_term ts = {0, 0, 0, 3, 0.01};
    nsga_progress q = {0};
    double hv[] = {0.5, 0.6, 0.605, 0.61, 0.612, 0.7};
    nsga_stop want[] = {NSGA_CONTINUE, NSGA_CONTINUE, NSGA_CONTINUE, NSGA_CONTINUE, NSGA_STOP_STALL, NSGA_CONTINUE};
    for (int g = 1; g <= 6; g++) {
        nsga_progress_hv(&q, g, hv[g - 1], ts.stall_tol);
        q.generation = g;
        ck_assert_msg(nsga_term_test(&ts, &q) == want[g - 1], "generation %d", g);
    }
    ck_assert(q.hv_best == 0.7);
    ck_assert_int_eq(q.hv_best_gen, 6);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("nsga");
    TCase *t = tcase_create("nsga");
    tcase_set_timeout(t, 120);
    tcase_add_test(t, ranking_matches_brute_force);
    tcase_add_test(t, ranking_by_hand);
    tcase_add_test(t, constrained_domination_cases);
    tcase_add_test(t, hypervolume_by_hand);
    tcase_add_test(t, duplicates_never_reevaluated);
    tcase_add_test(t, zdt1_converges_and_is_deterministic);
    tcase_add_test(t, restore_continues_identically);
    tcase_add_test(t, load_refuses_bad_state);
    tcase_add_test(t, pack_unpack_and_seeds);
    tcase_add_test(t, integer_creep_and_reset);
    tcase_add_test(t, block_crossover_keeps_blocks);
    tcase_add_test(t, run_mutation_moves_one_run);
    tcase_add_test(t, block_settings_round_trip);
    tcase_add_test(t, termination_criteria);
    suite_add_tcase(s, t);
    return s;
}

int main(void) { return tu_run(suite()); }
