/* NSGA-II: see nsga.h. Structure:
 *   ranking   nsga_rank (2-D: lexicographic sort + binary search over front tails; m-D: the
 *             sequential efficient non-dominated sort, Zhang et al., IEEE TEC 19(2), 2015),
 *             nsga_crowding (Deb 2002, section III-B)
 *   variation tournament deck, SBX and polynomial mutation with bounds (Deb & Agrawal 1995; Deb's
 *             reference code's bounded variants), integer uniform crossover, creep / reset,
 *             block crossover and run mutation over the caller's gene blocks
 *   bookkeeping archive lookups before evaluation, survivor selection into the parent arrays.
 * Invariants: pop arrays hold `np` (0 or pop_size) parents whose rank/crowd are those computed in the
 * selection that kept them; pool arrays (2 x pop_size) are scratch for one selection. */
#include "nsga.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "msg.h"
#include "status.h"

struct nsga {
    nsga_cfg cfg;
    nsga_gene *genes;
    size_t L, N;
    int M;
    size_t n_real, n_int;
    unsigned char *gwidth; /* packed bytes per gene */
    size_t n_blocks;       /* >= 1 */
    size_t *blocks;        /* n_blocks + 1 offsets */
    size_t key_bytes;

    size_t np; /* parents present: 0 or N */
    double *x, *f, *cv, *crowd;
    int *rank;

    nsga_batch batch;
    int batch_open;         /* a batch was handed out and not yet selected */
    size_t *pending;        /* N */
    size_t *entry;          /* N: archive index of each batch row */
    size_t batch_first;     /* archive count before the batch */

    double *px, *pf, *pcv, *pcrowd; /* pool: 2N */
    int *prank;
    size_t *order, *work;   /* 2N, nsga_rank_work_size(2N) */
    size_t *deck;           /* N: tournament permutation */
    size_t deck_pos;
    unsigned char *key;     /* key_bytes */

    archive *arc;
    long generation, evaluations, cache_hits;
};

/* ---------- stable index sorting with a context ---------- */

typedef int (*less_fn)(size_t a, size_t b, const void *ctx);

/* Stable merge sort of a[0..n) (tmp has n entries). Comparators are total (ties by index). */
static void sort_idx(size_t *a, size_t n, less_fn less, const void *ctx, size_t *tmp)
{
    size_t *src = a, *dst = tmp;
    for (size_t w = 1; w < n; w *= 2) {
        for (size_t lo = 0; lo < n; lo += 2 * w) {
            size_t mid = lo + w < n ? lo + w : n, hi = lo + 2 * w < n ? lo + 2 * w : n;
            size_t i = lo, j = mid, k = lo;
            while (i < mid && j < hi) dst[k++] = less(src[j], src[i], ctx) ? src[j++] : src[i++];
            while (i < mid) dst[k++] = src[i++];
            while (j < hi) dst[k++] = src[j++];
        }
        size_t *t = src;
        src = dst;
        dst = t;
    }
    if (src != a) memcpy(a, src, n * sizeof *a);
}

typedef struct sort_ctx {
    const double *f;
    const double *cv;
    int m;
    int obj; /* objective for single-objective orders */
} sort_ctx;

static int less_lex(size_t a, size_t b, const void *vc)
{
    const sort_ctx *c = vc;
    const double *fa = c->f + a * (size_t)c->m, *fb = c->f + b * (size_t)c->m;
    for (int j = 0; j < c->m; j++)
        if (fa[j] != fb[j]) return fa[j] < fb[j];
    return a < b;
}

static int less_cv(size_t a, size_t b, const void *vc)
{
    const sort_ctx *c = vc;
    if (c->cv[a] != c->cv[b]) return c->cv[a] < c->cv[b];
    return a < b;
}

static int less_obj(size_t a, size_t b, const void *vc)
{
    const sort_ctx *c = vc;
    double fa = c->f[a * (size_t)c->m + c->obj], fb = c->f[b * (size_t)c->m + c->obj];
    if (fa != fb) return fa < fb;
    return a < b;
}

/* ---------- ranking ---------- */

static int dominates(const double *a, const double *b, int m)
{
    int better = 0;
    for (int j = 0; j < m; j++) {
        if (a[j] > b[j]) return 0;
        if (a[j] < b[j]) better = 1;
    }
    return better;
}

int nsga_cdominates(const double *fa, double cva, const double *fb, double cvb, int m)
{
    if (cva <= 0 && cvb > 0) return 1;
    if (cva > 0 && cvb <= 0) return 0;
    if (cva > 0 && cvb > 0) return cva < cvb;
    return dominates(fa, fb, m);
}

size_t nsga_rank_work_size(size_t n) { return 5 * n + 1; }

/* key (f2, f1) of a is lexicographically below that of b */
static int key2_less(const double *fa, const double *fb)
{
    if (fa[1] != fb[1]) return fa[1] < fb[1];
    return fa[0] < fb[0];
}

int nsga_rank(const double *f, const double *cv, size_t n, int m, int *rank, size_t *work)
{
    size_t *idx = work, *tmp = work + n, *last = work + 2 * n, *next = work + 3 * n, *tail = work + 4 * n;
    sort_ctx ctx = {f, cv, m, 0};
    size_t nf = 0, ni = 0;
    for (size_t i = 0; i < n; i++)
        if (cv[i] <= 0) idx[nf++] = i;
    for (size_t i = 0; i < n; i++)
        if (cv[i] > 0) idx[nf + ni++] = i;
    sort_idx(idx, nf, less_lex, &ctx, tmp);
    size_t fronts = 0;
    if (m == 2) {
        /* last[k]: member of front k with the smallest (f2, f1); these keys increase strictly with k,
         * and front k holds a dominator of p exactly when key(last[k]) < key(p). */
        for (size_t s = 0; s < nf; s++) {
            size_t p = idx[s];
            const double *fp = f + p * 2;
            size_t lo = 0, hi = fronts;
            while (lo < hi) {
                size_t mid = lo + (hi - lo) / 2;
                if (key2_less(f + last[mid] * 2, fp))
                    lo = mid + 1;
                else
                    hi = mid;
            }
            if (lo == fronts) fronts++;
            last[lo] = p;
            rank[p] = (int)lo;
        }
    } else {
        /* Fronts as linked lists (head in last[], next[], tail[]); a point sorted later can never
         * dominate an earlier one, so each point goes to the first front without a dominator. */
        for (size_t s = 0; s < nf; s++) {
            size_t p = idx[s];
            size_t k = 0;
            for (; k < fronts; k++) {
                int dom = 0;
                for (size_t q = last[k]; q != (size_t)-1 && !dom; q = next[q]) dom = dominates(f + q * m, f + p * m, m);
                if (!dom) break;
            }
            next[p] = (size_t)-1;
            if (k == fronts) {
                fronts++;
                last[k] = p;
            } else {
                next[tail[k]] = p;
            }
            tail[k] = p;
            rank[p] = (int)k;
        }
    }
    /* infeasible points: one front per distinct violation, smallest first */
    sort_idx(idx + nf, ni, less_cv, &ctx, tmp);
    for (size_t s = 0; s < ni; s++) {
        size_t p = idx[nf + s];
        if (s == 0 || cv[p] != cv[idx[nf + s - 1]]) fronts++;
        rank[p] = (int)fronts - 1;
    }
    return (int)fronts;
}

void nsga_crowding(const double *f, int m, const size_t *idx, size_t k, double *crowd, size_t *work)
{
    size_t *ord = work, *tmp = work + k;
    for (size_t j = 0; j < k; j++) crowd[idx[j]] = 0;
    if (k <= 2) {
        for (size_t j = 0; j < k; j++) crowd[idx[j]] = INFINITY;
        return;
    }
    sort_ctx ctx = {f, NULL, m, 0};
    for (int o = 0; o < m; o++) {
        ctx.obj = o;
        memcpy(ord, idx, k * sizeof *ord);
        sort_idx(ord, k, less_obj, &ctx, tmp);
        double lo = f[ord[0] * m + o], hi = f[ord[k - 1] * m + o];
        crowd[ord[0]] = INFINITY;
        crowd[ord[k - 1]] = INFINITY;
        if (!(hi > lo)) continue;
        for (size_t j = 1; j + 1 < k; j++)
            crowd[ord[j]] += (f[ord[j + 1] * m + o] - f[ord[j - 1] * m + o]) / (hi - lo);
    }
}

/* ---------- allocation ---------- */

void nsga_settings_defaults(nsga_settings *s)
{
    memset(s, 0, sizeof *s);
    s->population = 100;
    s->generations = 100;
    s->pc = 0.9;
    s->eta_c = 20;
    s->swap = 0.5;
    s->eta_m = 20;
    s->pm_real = -1;
    s->pm_int = -1;
    s->creep = 0.5;
    s->seed = 1;
    s->threads = 1;
}

void nsga_settings_resolve(nsga_settings *s, const nsga_gene *genes, size_t n_genes)
{
    size_t n_real = 0, n_int = 0;
    for (size_t g = 0; g < n_genes; g++) {
        if (genes[g].kind == NSGA_REAL)
            n_real++;
        else
            n_int++;
    }
    if (s->pm_real < 0) s->pm_real = n_real ? 1.0 / (double)n_real : 0;
    if (s->pm_int < 0) s->pm_int = n_int && !(s->block_rate > 0) ? 1.0 / (double)n_int : 0;
}

nsga_term nsga_settings_term(const nsga_settings *s)
{
    nsga_term t = {s->generations, s->evaluations, s->time_limit, s->stall_generations, s->stall_tol};
    return t;
}

void nsga_cfg_defaults(nsga_cfg *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    nsga_settings_defaults(&cfg->ga);
}

nsga *nsga_alloc(const nsga_cfg *cfg)
{
    ASSERT(cfg->n_genes >= 1 && cfg->genes && cfg->n_obj >= 1);
    const nsga_settings *st = &cfg->ga;
    ASSERT(st->population >= 4 && st->population % 2 == 0);
    ASSERT(st->pc >= 0 && st->pc <= 1 && st->eta_c >= 0 && st->eta_m >= 0);
    ASSERT(st->creep >= 0 && st->creep <= 1 && st->swap >= 0 && st->swap <= 1);
    ASSERT((st->block_crossover == 0 || st->block_crossover == 1) && st->block_run >= 0 && st->block_run <= 1 &&
           st->block_rate >= 0 && st->block_rate <= 1);
    nsga *ga = xcalloc(1, sizeof *ga);
    ga->cfg = *cfg;
    ga->L = cfg->n_genes;
    ga->N = (size_t)st->population;
    ga->M = cfg->n_obj;
    size_t L = ga->L, N = ga->N, M = (size_t)ga->M;
    ga->genes = xmalloc(L * sizeof *ga->genes);
    memcpy(ga->genes, cfg->genes, L * sizeof *ga->genes);
    ga->cfg.genes = ga->genes;
    ga->gwidth = xmalloc(L);
    ga->n_blocks = cfg->n_blocks ? cfg->n_blocks : 1;
    ga->blocks = xmalloc((ga->n_blocks + 1) * sizeof *ga->blocks);
    if (cfg->n_blocks) {
        ASSERT(cfg->blocks && cfg->blocks[0] == 0 && cfg->blocks[cfg->n_blocks] == L);
        for (size_t k = 0; k <= cfg->n_blocks; k++) {
            ASSERT(k == 0 || cfg->blocks[k] > cfg->blocks[k - 1]);
            ga->blocks[k] = cfg->blocks[k];
        }
    } else {
        ga->blocks[0] = 0;
        ga->blocks[1] = L;
    }
    ga->cfg.blocks = ga->blocks;
    ga->cfg.n_blocks = ga->n_blocks;
    for (size_t g = 0; g < L; g++) {
        const nsga_gene *ge = &ga->genes[g];
        ASSERT(ge->lo <= ge->hi);
        if (ge->kind == NSGA_REAL) {
            ga->n_real++;
            ga->gwidth[g] = 8;
        } else {
            ASSERT(ge->kind == NSGA_INT && ge->lo == floor(ge->lo) && ge->hi == floor(ge->hi));
            ASSERT(ge->hi - ge->lo < 4294967296.0);
            double range = ge->hi - ge->lo;
            ga->n_int++;
            ga->gwidth[g] = range < 256 ? 1 : range < 65536 ? 2 : 4;
        }
        ga->key_bytes += ga->gwidth[g];
    }
    nsga_settings_resolve(&ga->cfg.ga, ga->genes, L);
    ASSERT(ga->cfg.ga.pm_real <= 1 && ga->cfg.ga.pm_int <= 1);

    ga->x = xmalloc(N * L * sizeof(double));
    ga->f = xmalloc(N * M * sizeof(double));
    ga->cv = xmalloc(N * sizeof(double));
    ga->crowd = xmalloc(N * sizeof(double));
    ga->rank = xmalloc(N * sizeof(int));
    ga->batch.x = xmalloc(N * L * sizeof(double));
    ga->batch.f = xmalloc(N * M * sizeof(double));
    ga->batch.cv = xmalloc(N * sizeof(double));
    ga->batch.n_genes = L;
    ga->batch.n_obj = ga->M;
    ga->pending = xmalloc(N * sizeof(size_t));
    ga->entry = xmalloc(N * sizeof(size_t));
    ga->batch.pending = ga->pending;
    ga->px = xmalloc(2 * N * L * sizeof(double));
    ga->pf = xmalloc(2 * N * M * sizeof(double));
    ga->pcv = xmalloc(2 * N * sizeof(double));
    ga->pcrowd = xmalloc(2 * N * sizeof(double));
    ga->prank = xmalloc(2 * N * sizeof(int));
    ga->order = xmalloc(2 * N * sizeof(size_t));
    ga->work = xmalloc(nsga_rank_work_size(2 * N) * sizeof(size_t));
    ga->deck = xmalloc(N * sizeof(size_t));
    ga->deck_pos = N;
    ga->key = xmalloc(ga->key_bytes);
    ga->arc = archive_alloc(ga->key_bytes, ga->M);
    return ga;
}

void nsga_free(nsga *ga)
{
    if (!ga) return;
    free(ga->genes);
    free(ga->gwidth);
    free(ga->blocks);
    free(ga->x);
    free(ga->f);
    free(ga->cv);
    free(ga->crowd);
    free(ga->rank);
    free(ga->batch.x);
    free(ga->batch.f);
    free(ga->batch.cv);
    free(ga->pending);
    free(ga->entry);
    free(ga->px);
    free(ga->pf);
    free(ga->pcv);
    free(ga->pcrowd);
    free(ga->prank);
    free(ga->order);
    free(ga->work);
    free(ga->deck);
    free(ga->key);
    archive_free(ga->arc);
    free(ga);
}

const nsga_cfg *nsga_config(const nsga *ga) { return &ga->cfg; }
long nsga_generation(const nsga *ga) { return ga->generation; }
long nsga_evaluations(const nsga *ga) { return ga->evaluations; }
long nsga_cache_hits(const nsga *ga) { return ga->cache_hits; }
archive *nsga_archive(nsga *ga) { return ga->arc; }
const archive *nsga_archive_const(const nsga *ga) { return ga->arc; }
size_t nsga_key_bytes(const nsga *ga) { return ga->key_bytes; }

nsga_pop nsga_population(const nsga *ga)
{
    nsga_pop p = {ga->np, ga->L, ga->M, ga->x, ga->f, ga->cv, ga->rank, ga->crowd};
    return p;
}

/* ---------- genome packing ---------- */

void nsga_pack(const nsga *ga, const double *x, unsigned char *key)
{
    for (size_t g = 0; g < ga->L; g++) {
        if (ga->genes[g].kind == NSGA_REAL) {
            double v = x[g] == 0 ? 0.0 : x[g]; /* -0 and +0 are the same genome */
            memcpy(key, &v, 8);               /* configure guarantees a little-endian host */
            key += 8;
        } else {
            uint32_t v = (uint32_t)(x[g] - ga->genes[g].lo);
            for (int b = 0; b < ga->gwidth[g]; b++) *key++ = (unsigned char)(v >> (8 * b));
        }
    }
}

void nsga_unpack(const nsga *ga, const unsigned char *key, double *x)
{
    for (size_t g = 0; g < ga->L; g++) {
        if (ga->genes[g].kind == NSGA_REAL) {
            memcpy(&x[g], key, 8);
            key += 8;
        } else {
            uint32_t v = 0;
            for (int b = 0; b < ga->gwidth[g]; b++) v |= (uint32_t)*key++ << (8 * b);
            x[g] = ga->genes[g].lo + (double)v;
        }
    }
}

/* ---------- batches ---------- */

/* Look every batch row up in the archive; rows not found are added (results pending). */
static nsga_batch *open_batch(nsga *ga)
{
    nsga_batch *b = &ga->batch;
    b->n = ga->N;
    b->generation = ga->generation + 1;
    b->n_pending = 0;
    ga->batch_first = archive_count(ga->arc);
    for (size_t i = 0; i < ga->N; i++) {
        const double *xi = b->x + i * ga->L;
        nsga_pack(ga, xi, ga->key);
        uint64_t h = archive_hash(ga->key, ga->key_bytes);
        long e = archive_find(ga->arc, h, ga->key);
        if (e < 0) {
            double *fi = b->f + i * (size_t)ga->M;
            for (int j = 0; j < ga->M; j++) fi[j] = NAN;
            b->cv[i] = NAN;
            ga->entry[i] = archive_add(ga->arc, h, ga->key, fi, NAN, b->generation);
            ga->pending[b->n_pending++] = i;
        } else {
            ga->entry[i] = (size_t)e;
        }
    }
    ga->batch_open = 1;
    return b;
}

nsga_batch *nsga_init(nsga *ga, rng_pcg32 *rng, const double *seeds, size_t n_seeds)
{
    ASSERT(ga->generation == 0 && ga->np == 0 && n_seeds <= ga->N);
    double *x = ga->batch.x;
    for (size_t i = 0; i < ga->N; i++) {
        double *xi = x + i * ga->L;
        for (size_t g = 0; g < ga->L; g++) {
            const nsga_gene *ge = &ga->genes[g];
            if (i < n_seeds) {
                double v = seeds[i * ga->L + g];
                ASSERT(v >= ge->lo && v <= ge->hi && (ge->kind == NSGA_REAL || v == floor(v)));
                xi[g] = v;
            } else if (ge->kind == NSGA_REAL) {
                xi[g] = ge->lo + rng_double(rng) * (ge->hi - ge->lo);
            } else {
                xi[g] = ge->lo + (double)rng_bounded(rng, (uint32_t)(ge->hi - ge->lo) + 1u);
            }
        }
    }
    return open_batch(ga);
}

/* Crowded comparison: lower rank, then larger crowding; a tie is a coin flip. */
static size_t tournament(nsga *ga, rng_pcg32 *rng, size_t a, size_t b)
{
    if (ga->rank[a] != ga->rank[b]) return ga->rank[a] < ga->rank[b] ? a : b;
    if (ga->crowd[a] != ga->crowd[b]) return ga->crowd[a] > ga->crowd[b] ? a : b;
    return rng_double(rng) <= 0.5 ? a : b;
}

/* Contestants come from successive random permutations of the population (Deb's scheme: with
 * pop_size % 4 == 0, every individual enters exactly two tournaments per generation). */
static size_t contestant(nsga *ga, rng_pcg32 *rng)
{
    if (ga->deck_pos == ga->N) {
        for (size_t i = 0; i < ga->N; i++) ga->deck[i] = i;
        for (size_t i = ga->N - 1; i > 0; i--) {
            size_t j = rng_bounded(rng, (uint32_t)(i + 1));
            size_t t = ga->deck[i];
            ga->deck[i] = ga->deck[j];
            ga->deck[j] = t;
        }
        ga->deck_pos = 0;
    }
    return ga->deck[ga->deck_pos++];
}

/* x^e; the distribution indices are usually integers (eta + 1 = 16, 21 ...), where repeated squaring
 * is exact to a few ulps and much cheaper than pow(). */
static double powe(double x, double e)
{
    if (e == floor(e) && e >= 0 && e <= 64) {
        unsigned n = (unsigned)e;
        double r = 1, b = x;
        for (; n; n >>= 1, b *= b)
            if (n & 1) r *= b;
        return r;
    }
    return pow(x, e);
}

static double sbx_betaq(double u, double beta, double eta)
{
    double alpha = 2.0 - 1.0 / powe(beta, eta + 1.0);
    if (u <= 1.0 / alpha) return pow(u * alpha, 1.0 / (eta + 1.0));
    return pow(1.0 / (2.0 - u * alpha), 1.0 / (eta + 1.0));
}

static double clamp(double v, double lo, double hi) { return v < lo ? lo : v > hi ? hi : v; }

/* A run [*first, *last] of genes in [begin, end): two positions drawn uniformly, in order. */
static void random_run(rng_pcg32 *rng, size_t begin, size_t end, size_t *first, size_t *last)
{
    uint32_t n = (uint32_t)(end - begin);
    size_t a = begin + rng_bounded(rng, n), b = begin + rng_bounded(rng, n);
    *first = a < b ? a : b;
    *last = a < b ? b : a;
}

static void crossover(nsga *ga, rng_pcg32 *rng, const double *p1, const double *p2, double *c1, double *c2)
{
    memcpy(c1, p1, ga->L * sizeof *c1);
    memcpy(c2, p2, ga->L * sizeof *c2);
    if (rng_double(rng) > ga->cfg.ga.pc) return;
    double eta = ga->cfg.ga.eta_c;
    int block = ga->cfg.ga.block_crossover;
    size_t k = 0;    /* block of gene g */
    int take2 = 0;   /* block k's integer genes come from p2 into c1 (and from p1 into c2) */
    for (size_t g = 0; g < ga->L; g++) {
        const nsga_gene *ge = &ga->genes[g];
        if (block && (g == 0 || g == ga->blocks[k + 1])) {
            if (g > 0) k++;
            take2 = rng_double(rng) < 0.5;
        }
        if (ge->kind == NSGA_INT) {
            if (block ? take2 : rng_double(rng) < ga->cfg.ga.swap) {
                c1[g] = p2[g];
                c2[g] = p1[g];
            }
            continue;
        }
        if (rng_double(rng) > 0.5) continue;
        if (fabs(p1[g] - p2[g]) <= 1e-14) continue;
        double y1 = fmin(p1[g], p2[g]), y2 = fmax(p1[g], p2[g]), lo = ge->lo, hi = ge->hi;
        double u = rng_double(rng);
        double bq1 = sbx_betaq(u, 1.0 + 2.0 * (y1 - lo) / (y2 - y1), eta);
        double bq2 = sbx_betaq(u, 1.0 + 2.0 * (hi - y2) / (y2 - y1), eta);
        double a = clamp(0.5 * ((y1 + y2) - bq1 * (y2 - y1)), lo, hi);
        double b = clamp(0.5 * ((y1 + y2) + bq2 * (y2 - y1)), lo, hi);
        if (rng_double(rng) <= 0.5) {
            c1[g] = b;
            c2[g] = a;
        } else {
            c1[g] = a;
            c2[g] = b;
        }
    }
    if (block && ga->cfg.ga.block_run > 0 && rng_double(rng) < ga->cfg.ga.block_run) {
        /* exchange the integer genes of a contiguous run [a, b] inside one block */
        size_t kb = rng_bounded(rng, (uint32_t)ga->n_blocks), first, last;
        random_run(rng, ga->blocks[kb], ga->blocks[kb + 1], &first, &last);
        for (size_t g = first; g <= last; g++) {
            if (ga->genes[g].kind != NSGA_INT) continue;
            double t = c1[g];
            c1[g] = c2[g];
            c2[g] = t;
        }
    }
}

/* Run mutation: each block, with probability block_rate, gets a contiguous run of genes moved one level
 * up or down (one direction for the whole run; each integer gene clamped to its bounds). When no gene of
 * the run can move that way, the run moves the other way. */
static void run_mutate(nsga *ga, rng_pcg32 *rng, double *x)
{
    for (size_t k = 0; k < ga->n_blocks; k++) {
        if (!(rng_double(rng) < ga->cfg.ga.block_rate)) continue;
        size_t first, last;
        random_run(rng, ga->blocks[k], ga->blocks[k + 1], &first, &last);
        double step = (rng_u32(rng) & 1u) ? 1.0 : -1.0;
        int movable = 0;
        for (size_t g = first; g <= last && !movable; g++) {
            const nsga_gene *ge = &ga->genes[g];
            movable = ge->kind == NSGA_INT && x[g] + step >= ge->lo && x[g] + step <= ge->hi;
        }
        if (!movable) step = -step;
        for (size_t g = first; g <= last; g++) {
            const nsga_gene *ge = &ga->genes[g];
            if (ge->kind == NSGA_INT) x[g] = clamp(x[g] + step, ge->lo, ge->hi);
        }
    }
}

static void mutate(nsga *ga, rng_pcg32 *rng, double *x)
{
    for (size_t g = 0; g < ga->L; g++) {
        const nsga_gene *ge = &ga->genes[g];
        double lo = ge->lo, hi = ge->hi;
        if (ge->kind == NSGA_INT) {
            if (!(rng_double(rng) < ga->cfg.ga.pm_int) || hi == lo) continue;
            if (rng_double(rng) < ga->cfg.ga.creep) {
                double step = (rng_u32(rng) & 1u) ? 1.0 : -1.0;
                if (x[g] + step > hi || x[g] + step < lo) step = -step;
                x[g] += step;
            } else {
                /* uniform over the other hi - lo values */
                double v = lo + (double)rng_bounded(rng, (uint32_t)(hi - lo));
                x[g] = v >= x[g] ? v + 1 : v;
            }
            continue;
        }
        if (!(rng_double(rng) <= ga->cfg.ga.pm_real) || hi == lo) continue;
        double y = x[g], d1 = (y - lo) / (hi - lo), d2 = (hi - y) / (hi - lo);
        double u = rng_double(rng), p = 1.0 / (ga->cfg.ga.eta_m + 1.0), dq;
        if (u <= 0.5) {
            double v = 2.0 * u + (1.0 - 2.0 * u) * powe(1.0 - d1, ga->cfg.ga.eta_m + 1.0);
            dq = pow(v, p) - 1.0;
        } else {
            double v = 2.0 * (1.0 - u) + 2.0 * (u - 0.5) * powe(1.0 - d2, ga->cfg.ga.eta_m + 1.0);
            dq = 1.0 - pow(v, p);
        }
        x[g] = clamp(y + dq * (hi - lo), lo, hi);
    }
    if (ga->cfg.ga.block_rate > 0) run_mutate(ga, rng, x);
}

nsga_batch *nsga_offspring(nsga *ga, rng_pcg32 *rng)
{
    ASSERT(ga->np == ga->N && !ga->batch_open);
    size_t L = ga->L;
    for (size_t c = 0; c < ga->N; c += 2) {
        size_t a = contestant(ga, rng), b = contestant(ga, rng);
        size_t p1 = tournament(ga, rng, a, b);
        a = contestant(ga, rng);
        b = contestant(ga, rng);
        size_t p2 = tournament(ga, rng, a, b);
        double *c1 = ga->batch.x + c * L, *c2 = c1 + L;
        crossover(ga, rng, ga->x + p1 * L, ga->x + p2 * L, c1, c2);
        mutate(ga, rng, c1);
        mutate(ga, rng, c2);
    }
    return open_batch(ga);
}

/* ---------- selection ---------- */

typedef struct crowd_ctx {
    const double *crowd;
} crowd_ctx;

static int more_crowded(size_t a, size_t b, const void *vc)
{
    const crowd_ctx *c = vc;
    if (c->crowd[a] != c->crowd[b]) return c->crowd[a] > c->crowd[b];
    return a < b;
}

void nsga_select(nsga *ga)
{
    ASSERT(ga->batch_open);
    nsga_batch *b = &ga->batch;
    size_t L = ga->L, N = ga->N, M = (size_t)ga->M;
    for (size_t k = 0; k < b->n_pending; k++) {
        size_t i = b->pending[k];
        ASSERT(b->cv[i] >= 0);
        for (size_t j = 0; j < M; j++) ASSERT(!isnan(b->f[i * M + j]));
        archive_set(ga->arc, ga->entry[i], b->f + i * M, b->cv[i]);
    }
    for (size_t i = 0; i < N; i++) {
        memcpy(b->f + i * M, archive_obj(ga->arc, ga->entry[i]), M * sizeof(double));
        b->cv[i] = archive_cv(ga->arc, ga->entry[i]);
    }
    ga->evaluations += (long)b->n_pending;
    ga->cache_hits += (long)(N - b->n_pending);
    ga->batch_open = 0;

    /* pool = parents then offspring */
    size_t np = ga->np, n = np + N;
    memcpy(ga->px, ga->x, np * L * sizeof(double));
    memcpy(ga->px + np * L, b->x, N * L * sizeof(double));
    memcpy(ga->pf, ga->f, np * M * sizeof(double));
    memcpy(ga->pf + np * M, b->f, N * M * sizeof(double));
    memcpy(ga->pcv, ga->cv, np * sizeof(double));
    memcpy(ga->pcv + np, b->cv, N * sizeof(double));
    int fronts = nsga_rank(ga->pf, ga->pcv, n, ga->M, ga->prank, ga->work);

    /* group pool indices by front (counting sort, stable by index) */
    size_t *start = ga->work; /* fronts + 1 counters, reused below only after use */
    memset(start, 0, ((size_t)fronts + 1) * sizeof *start);
    for (size_t i = 0; i < n; i++) start[ga->prank[i] + 1]++;
    for (int r = 0; r < fronts; r++) start[r + 1] += start[r];
    for (size_t i = 0; i < n; i++) ga->order[start[ga->prank[i]]++] = i;

    size_t taken = 0, pos = 0;
    size_t *cw = ga->work; /* crowding workspace: counters are no longer needed */
    crowd_ctx cc = {ga->pcrowd};
    while (taken < N) {
        size_t end = pos;
        while (end < n && ga->prank[ga->order[end]] == ga->prank[ga->order[pos]]) end++;
        size_t *front = ga->order + pos, k = end - pos;
        nsga_crowding(ga->pf, ga->M, front, k, ga->pcrowd, cw);
        if (taken + k > N) {
            sort_idx(front, k, more_crowded, &cc, cw);
            k = N - taken;
        }
        for (size_t j = 0; j < k; j++) {
            size_t s = front[j], d = taken + j;
            memcpy(ga->x + d * L, ga->px + s * L, L * sizeof(double));
            memcpy(ga->f + d * M, ga->pf + s * M, M * sizeof(double));
            ga->cv[d] = ga->pcv[s];
            ga->rank[d] = ga->prank[s];
            ga->crowd[d] = ga->pcrowd[s];
        }
        taken += k;
        pos = end;
    }
    ga->np = N;
    ga->generation++;
}

/* ---------- checkpoints ---------- */

void nsga_save_settings(ckpt_writer *w, const nsga_settings *s)
{
    ckpt_put_u64(w, (uint64_t)s->population);
    ckpt_put_f64(w, s->pc);
    ckpt_put_f64(w, s->eta_c);
    ckpt_put_f64(w, s->eta_m);
    ckpt_put_f64(w, s->pm_real);
    ckpt_put_f64(w, s->pm_int);
    ckpt_put_f64(w, s->creep);
    ckpt_put_f64(w, s->swap);
    ckpt_put_i64(w, s->generations);
    ckpt_put_i64(w, s->evaluations);
    ckpt_put_f64(w, s->time_limit);
    ckpt_put_i64(w, s->stall_generations);
    ckpt_put_f64(w, s->stall_tol);
    ckpt_put_u64(w, s->seed);
    ckpt_put_i64(w, s->threads);
}

enum { BLOCK_TAG = 0x4b4c4231u };

int nsga_block_settings_used(const nsga_settings *s)
{
    return s->block_crossover != 0 || s->block_run != 0 || s->block_rate != 0;
}

void nsga_save_block_settings(ckpt_writer *w, const nsga *ga)
{
    const nsga_settings *s = &ga->cfg.ga;
    ckpt_put_u32(w, BLOCK_TAG);
    ckpt_put_u32(w, (uint32_t)s->block_crossover);
    ckpt_put_f64(w, s->block_run);
    ckpt_put_f64(w, s->block_rate);
}

static int bad(char *err, size_t n, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int bad(char *err, size_t n, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, n, fmt, ap);
    va_end(ap);
    return ST_EFORMAT;
}

/* A real field in [lo, hi] (NaN fails). */
static int check_real(const char *name, double v, double lo, double hi, char *err, size_t n)
{
    if (v >= lo && v <= hi) return ST_OK;
    return bad(err, n, "%s is %g, outside %g..%g", name, v, lo, hi);
}

static int check_long(const char *name, int64_t v, int64_t lo, int64_t hi, char *err, size_t n)
{
    if (v >= lo && v <= hi) return ST_OK;
    return bad(err, n, "%s is %lld, outside %lld..%lld", name, (long long)v, (long long)lo, (long long)hi);
}

static int truncated(char *err, size_t n, const char *what) { return bad(err, n, "ends inside %s", what); }

int nsga_load_settings(ckpt_reader *r, nsga_settings *s, char *err, size_t n)
{
    uint64_t pop = ckpt_get_u64(r);
    s->pc = ckpt_get_f64(r);
    s->eta_c = ckpt_get_f64(r);
    s->eta_m = ckpt_get_f64(r);
    s->pm_real = ckpt_get_f64(r);
    s->pm_int = ckpt_get_f64(r);
    s->creep = ckpt_get_f64(r);
    s->swap = ckpt_get_f64(r);
    s->generations = ckpt_get_i64(r);
    s->evaluations = ckpt_get_i64(r);
    s->time_limit = ckpt_get_f64(r);
    s->stall_generations = ckpt_get_i64(r);
    s->stall_tol = ckpt_get_f64(r);
    s->seed = ckpt_get_u64(r);
    s->threads = ckpt_get_i64(r);
    s->block_crossover = 0;
    s->block_run = 0;
    s->block_rate = 0;
    if (r->err) return truncated(err, n, "the GA settings");
    int rc;
    if (pop < 4 || pop > 100000 || pop % 2)
        return bad(err, n, "population is %llu, not an even number in 4..100000", (unsigned long long)pop);
    s->population = (long)pop;
    if ((rc = check_real("crossover probability", s->pc, 0, 1, err, n)) ||
        (rc = check_real("crossover eta", s->eta_c, 0, 1000, err, n)) ||
        (rc = check_real("mutation eta", s->eta_m, 0, 1000, err, n)) ||
        (rc = check_real("mutation rate", s->pm_real, 0, 1, err, n)) ||
        (rc = check_real("mutation int_rate", s->pm_int, 0, 1, err, n)) ||
        (rc = check_real("mutation creep", s->creep, 0, 1, err, n)) ||
        (rc = check_real("crossover swap", s->swap, 0, 1, err, n)) ||
        (rc = check_long("generation limit", s->generations, 0, INT64_MAX, err, n)) ||
        (rc = check_long("evaluation limit", s->evaluations, 0, INT64_MAX, err, n)) ||
        (rc = check_real("time limit", s->time_limit, 0, 1e300, err, n)) ||
        (rc = check_long("stagnation generations", s->stall_generations, 0, INT64_MAX, err, n)) ||
        (rc = check_real("stagnation tolerance", s->stall_tol, 0, 1e300, err, n)) ||
        (rc = check_long("threads", s->threads, 0, 1024, err, n)))
        return rc;
    return ST_OK;
}

int nsga_load_block_settings(ckpt_reader *r, nsga *ga, char *err, size_t n)
{
    uint32_t tag = ckpt_get_u32(r), xo = ckpt_get_u32(r);
    double run = ckpt_get_f64(r), rate = ckpt_get_f64(r);
    if (r->err) return truncated(err, n, "the block operators' settings");
    if (tag != BLOCK_TAG) return bad(err, n, "block operators' tag is 0x%08x, not 0x%08x", tag, (unsigned)BLOCK_TAG);
    if (xo > 1) return bad(err, n, "block crossover is %u, not 0 or 1", xo);
    int rc;
    if ((rc = check_real("crossover block_run", run, 0, 1, err, n)) ||
        (rc = check_real("mutation block_rate", rate, 0, 1, err, n)))
        return rc;
    ga->cfg.ga.block_crossover = (int)xo;
    ga->cfg.ga.block_run = run;
    ga->cfg.ga.block_rate = rate;
    return ST_OK;
}

void nsga_save_counters(ckpt_writer *w, const nsga *ga)
{
    ckpt_put_i64(w, ga->generation);
    ckpt_put_i64(w, ga->evaluations);
    ckpt_put_i64(w, ga->cache_hits);
}

int nsga_load_counters(ckpt_reader *r, nsga *ga, char *err, size_t n)
{
    int64_t gen = ckpt_get_i64(r), evals = ckpt_get_i64(r), hits = ckpt_get_i64(r);
    if (r->err) return truncated(err, n, "the GA counters");
    int rc;
    /* generation x population must not overflow (nsga_load_population compares it with the counts) */
    if ((rc = check_long("generation", gen, 0, INT64_MAX / (int64_t)ga->N, err, n)) ||
        (rc = check_long("evaluations", evals, 0, INT64_MAX, err, n)) ||
        (rc = check_long("cache hits", hits, 0, INT64_MAX, err, n)))
        return rc;
    ga->generation = (long)gen;
    ga->evaluations = (long)evals;
    ga->cache_hits = (long)hits;
    ga->np = 0;
    ga->batch_open = 0;
    ga->deck_pos = ga->N;
    return ST_OK;
}

void nsga_save_population(ckpt_writer *w, const nsga *ga)
{
    size_t L = ga->L, M = (size_t)ga->M;
    ckpt_put_u64(w, ga->np);
    for (size_t i = 0; i < ga->np; i++) {
        for (size_t g = 0; g < L; g++) ckpt_put_f64(w, ga->x[i * L + g]);
        for (size_t j = 0; j < M; j++) ckpt_put_f64(w, ga->f[i * M + j]);
        ckpt_put_f64(w, ga->cv[i]);
        ckpt_put_u32(w, (uint32_t)ga->rank[i]);
        ckpt_put_f64(w, ga->crowd[i]);
    }
}

int nsga_load_population(ckpt_reader *r, nsga *ga, char *err, size_t n)
{
    size_t L = ga->L, M = (size_t)ga->M, N = ga->N;
    ga->np = 0;
    uint64_t np = ckpt_get_u64(r);
    if (r->err) return truncated(err, n, "the population count");
    if (ga->generation == 0 && np != 0)
        return bad(err, n, "population count is %llu at generation 0, where it must be 0", (unsigned long long)np);
    if (ga->generation > 0 && np != N)
        return bad(err, n, "population count is %llu at generation %ld, where it must be the population size %zu",
                   (unsigned long long)np, ga->generation, N);
    if ((uint64_t)ga->evaluations + (uint64_t)ga->cache_hits != (uint64_t)ga->generation * N)
        return bad(err, n, "evaluations (%ld) + cache hits (%ld) is not generation (%ld) x population (%zu)",
                   ga->evaluations, ga->cache_hits, ga->generation, N);
    size_t row = 8 * (L + M + 2) + 4;
    if (ckpt_remaining(r) < np * row)
        return bad(err, n, "ends inside the population (%zu bytes for %llu individuals of %zu bytes)", ckpt_remaining(r),
                   (unsigned long long)np, row);
    for (size_t i = 0; i < np; i++) {
        for (size_t g = 0; g < L; g++) {
            double v = ckpt_get_f64(r);
            const nsga_gene *ge = &ga->genes[g];
            if (!(v >= ge->lo && v <= ge->hi))
                return bad(err, n, "gene %zu of individual %zu is %g, outside %g..%g", g + 1, i + 1, v, ge->lo, ge->hi);
            if (ge->kind == NSGA_INT && v != floor(v))
                return bad(err, n, "gene %zu of individual %zu is %g, not an integer", g + 1, i + 1, v);
            ga->x[i * L + g] = v;
        }
        for (size_t j = 0; j < M; j++) {
            double v = ckpt_get_f64(r);
            if (isnan(v)) return bad(err, n, "objective %zu of individual %zu is NaN", j + 1, i + 1);
            ga->f[i * M + j] = v;
        }
        double cv = ckpt_get_f64(r);
        if (!(cv >= 0)) return bad(err, n, "violation of individual %zu is %g, not >= 0", i + 1, cv);
        ga->cv[i] = cv;
        uint32_t rank = ckpt_get_u32(r);
        if (rank >= 2 * N) return bad(err, n, "rank of individual %zu is %u, outside 0..%zu", i + 1, (unsigned)rank, 2 * N - 1);
        ga->rank[i] = (int)rank;
        double cr = ckpt_get_f64(r);
        if (!(cr >= 0)) return bad(err, n, "crowding distance of individual %zu is %g, not >= 0", i + 1, cr);
        ga->crowd[i] = cr;
    }
    ga->np = (size_t)np;
    return ST_OK;
}

int nsga_check_archive(const nsga *ga, char *err, size_t n)
{
    size_t L = ga->L, M = (size_t)ga->M;
    for (size_t i = 0; i < ga->np; i++) {
        nsga_pack(ga, ga->x + i * L, ga->key);
        long e = archive_find(ga->arc, archive_hash(ga->key, ga->key_bytes), ga->key);
        if (e < 0) return bad(err, n, "individual %zu of the population is not in the archive", i + 1);
        const double *f = archive_obj(ga->arc, (size_t)e);
        double cv = archive_cv(ga->arc, (size_t)e);
        if (memcmp(f, ga->f + i * M, M * sizeof *f) || memcmp(&cv, &ga->cv[i], sizeof cv))
            return bad(err, n, "individual %zu of the population has other results than archive record %ld", i + 1, e);
    }
    return ST_OK;
}

/* ---------- termination ---------- */

void nsga_progress_hv(nsga_progress *p, long gen, double hv, double tol)
{
    if (p->hv_best_gen == 0 || hv > p->hv_best + tol) {
        p->hv_best = hv;
        p->hv_best_gen = gen;
    } else if (hv > p->hv_best) {
        p->hv_best = hv;
    }
}

nsga_stop nsga_term_test(const nsga_term *t, const nsga_progress *p)
{
    if (t->max_generations > 0 && p->generation >= t->max_generations) return NSGA_STOP_GENERATIONS;
    if (t->max_evaluations > 0 && p->evaluations >= t->max_evaluations) return NSGA_STOP_EVALUATIONS;
    if (t->max_seconds > 0 && p->seconds >= t->max_seconds) return NSGA_STOP_TIME;
    if (t->stall_generations > 0 && p->generation - p->hv_best_gen >= t->stall_generations) return NSGA_STOP_STALL;
    return NSGA_CONTINUE;
}

const char *nsga_stop_str(nsga_stop s)
{
    switch (s) {
    case NSGA_CONTINUE: return "running";
    case NSGA_STOP_GENERATIONS: return "generation limit reached";
    case NSGA_STOP_EVALUATIONS: return "evaluation limit reached";
    case NSGA_STOP_TIME: return "time limit reached";
    case NSGA_STOP_STALL: return "hypervolume stagnated";
    }
    return "unknown";
}
