/* The sensitivity-ordered greedy: see greedy.h. */
#include "greedy.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "afile.h"
#include "archive.h"
#include "hv.h"
#include "msg.h"
#include "nsga.h"
#include "prob_cnn_ctx.h"
#include "run.h"
#include "rundir.h"
#include "sens.h"
#include "status.h"
#include "util.h"

/* ---------------------------------------------------------------------------------------------- */
/* The estimate: genes -> pieces (a gene's kernels within one filter) -> per-value sums. */

typedef struct gmodel {
    size_t G;          /* genes */
    int J;             /* values per gene (allowed multipliers, ascending energy) */
    int start;         /* the path's first value of every gene: the cheapest exact multiplier allowed, else
                        * the most expensive one */
    int n_layers;
    int compensated;
    size_t n_filters;  /* all layers' filters (sens foff order) */
    int *glayer;       /* G: the gene's layer */
    double *gsaved;    /* G x J: energy saved by the gene at value j (fraction of the exact network's) */
    size_t *poff;      /* G + 1: the gene's pieces */
    size_t *pfilter;   /* pieces: global filter index */
    double *pm, *pv;   /* pieces x J: sum of the piece's kernels' means / variances */
    double *fs2;       /* n_filters: requantization factor squared */
    int *flayer;       /* n_filters: the filter's layer */
    size_t *fgoff, *fgenes; /* CSR: the genes with a piece in each filter */
    double *gain;      /* n_layers: g_l */
} gmodel;

static void gmodel_free(gmodel *m)
{
    free(m->glayer);
    free(m->gsaved);
    free(m->poff);
    free(m->pfilter);
    free(m->pm);
    free(m->pv);
    free(m->fs2);
    free(m->flayer);
    free(m->fgoff);
    free(m->fgenes);
    free(m->gain);
    memset(m, 0, sizeof *m);
}

static int cmp_size(const void *a, const void *b)
{
    size_t x = *(const size_t *)a, y = *(const size_t *)b;
    return (x > y) - (x < y);
}

/* Build the model of problem x's genome from the sensitivity table (gains 1). */
static int gmodel_init(gmodel *m, cnn_ctx *x)
{
    memset(m, 0, sizeof *m);
    sens_table t;
    int rc = cnn_sens_table(x, &t);
    if (rc) return rc;
    const approx_cnn *cn = &x->cnn;
    const int L = cn->n_layers, J = x->n_allowed;
    m->G = x->genome_len;
    m->J = J;
    m->start = -1;
    for (int j = 0; j < J && m->start < 0; j++)
        if (cn->lib.mults[x->allowed[j]].is_exact) m->start = j;
    if (m->start < 0) m->start = J - 1;
    m->n_layers = L;
    m->compensated = t.compensated;
    m->n_filters = t.foff[L];
    m->glayer = xmalloc((m->G + 1) * sizeof *m->glayer);
    m->gsaved = xmalloc((m->G * (size_t)J + 1) * sizeof *m->gsaved);
    m->poff = xmalloc((m->G + 1) * sizeof *m->poff);
    m->fs2 = xmalloc((m->n_filters + 1) * sizeof *m->fs2);
    m->flayer = xmalloc((m->n_filters + 1) * sizeof *m->flayer);
    m->gain = xmalloc((size_t)L * sizeof *m->gain);
    for (int l = 0; l < L; l++) {
        m->gain[l] = 1;
        for (size_t f = t.foff[l]; f < t.foff[l + 1]; f++) {
            m->fs2[f] = t.fscale[f] * t.fscale[f];
            m->flayer[f] = l;
        }
    }
    /* each gene's kernels (global kernel indices), layer by layer in genome order */
    size_t nk_all = t.koff[L];
    size_t *gk = xmalloc((nk_all + 1) * sizeof *gk), *goff = xmalloc((m->G + 1) * sizeof *goff);
    size_t g = 0, k = 0;
    for (int l = 0; l < L; l++) {
        const size_t cout = t.foff[l + 1] - t.foff[l], cin = (size_t)t.cin[l], ko = t.koff[l];
        if (x->shares) {
            const size_t n = sens_rank_items(cn->layers, l, x->granularity);
            const uint32_t *ord = x->rank_order + sens_rank_offset(cn->layers, l, x->granularity);
            for (int s = 0; s < x->shares; s++, g++) {
                goff[g] = k;
                m->glayer[g] = l;
                for (size_t r = (size_t)s * n / (size_t)x->shares; r < (size_t)(s + 1) * n / (size_t)x->shares; r++) {
                    if (x->granularity == AMAP_KERNEL)
                        gk[k++] = ko + ord[r];
                    else
                        for (size_t ci = 0; ci < cin; ci++) gk[k++] = ko + (size_t)ord[r] * cin + ci;
                }
                qsort(gk + goff[g], k - goff[g], sizeof *gk, cmp_size);
            }
        } else if (x->granularity == AMAP_LAYER) {
            goff[g] = k;
            m->glayer[g++] = l;
            for (size_t q = 0; q < cout * cin; q++) gk[k++] = ko + q;
        } else if (x->granularity == AMAP_FILTER) {
            for (size_t co = 0; co < cout; co++, g++) {
                goff[g] = k;
                m->glayer[g] = l;
                for (size_t ci = 0; ci < cin; ci++) gk[k++] = ko + co * cin + ci;
            }
        } else {
            for (size_t q = 0; q < cout * cin; q++, g++) {
                goff[g] = k;
                m->glayer[g] = l;
                gk[k++] = ko + q;
            }
        }
    }
    ASSERT(g == m->G && k == nk_all);
    goff[g] = k;
    /* pieces: runs of a gene's (sorted) kernels in the same filter */
    size_t np = 0, cap = m->G + 16;
    m->pfilter = xmalloc(cap * sizeof *m->pfilter);
    size_t *pk0 = xmalloc(cap * sizeof *pk0);
    for (g = 0; g < m->G; g++) {
        const int l = m->glayer[g];
        const size_t cin = (size_t)t.cin[l];
        m->poff[g] = np;
        for (size_t i = goff[g]; i < goff[g + 1]; i++) {
            size_t f = t.foff[l] + (gk[i] - t.koff[l]) / cin;
            if (i > goff[g] && m->pfilter[np - 1] == f) continue;
            if (np == cap) {
                cap *= 2;
                m->pfilter = xrealloc(m->pfilter, cap * sizeof *m->pfilter);
                pk0 = xrealloc(pk0, cap * sizeof *pk0);
            }
            m->pfilter[np] = f;
            pk0[np++] = i;
        }
        for (int j = 0; j < J; j++)
            m->gsaved[g * (size_t)J + (size_t)j] = (double)(goff[g + 1] - goff[g]) * sens_kernel_saved(&t, l, j);
    }
    m->poff[m->G] = np;
    m->pm = xcalloc(np * (size_t)J + 1, sizeof *m->pm);
    m->pv = xcalloc(np * (size_t)J + 1, sizeof *m->pv);
    for (g = 0; g < m->G; g++)
        for (size_t p = m->poff[g]; p < m->poff[g + 1]; p++) {
            size_t end = p + 1 < m->poff[g + 1] ? pk0[p + 1] : goff[g + 1];
            for (size_t i = pk0[p]; i < end; i++)
                for (int j = 0; j < J; j++) {
                    m->pm[p * (size_t)J + (size_t)j] += t.kmean[gk[i] * (size_t)t.n_mults + (size_t)j];
                    m->pv[p * (size_t)J + (size_t)j] += t.kvar[gk[i] * (size_t)t.n_mults + (size_t)j];
                }
        }
    /* the genes of each filter */
    m->fgoff = xcalloc(m->n_filters + 2, sizeof *m->fgoff);
    for (size_t p = 0; p < np; p++) m->fgoff[m->pfilter[p] + 2]++;
    for (size_t f = 0; f < m->n_filters; f++) m->fgoff[f + 2] += m->fgoff[f + 1];
    m->fgenes = xmalloc((np + 1) * sizeof *m->fgenes);
    for (g = 0; g < m->G; g++)
        for (size_t p = m->poff[g]; p < m->poff[g + 1]; p++) m->fgenes[m->fgoff[m->pfilter[p] + 1]++] = g;
    free(pk0);
    free(gk);
    free(goff);
    sens_deinit(&t);
    return ST_OK;
}

/* Estimated error of the map with every gene of layer `only` (-1: every gene) at value j, the others
 * at `rest` (-1: no contribution), with gains. */
static double gmodel_uniform_error(const gmodel *m, int j, int only)
{
    double *smu = xcalloc(m->n_filters + 1, sizeof *smu), *svar = xcalloc(m->n_filters + 1, sizeof *svar);
    for (size_t g = 0; g < m->G; g++) {
        if (only >= 0 && m->glayer[g] != only) continue;
        for (size_t p = m->poff[g]; p < m->poff[g + 1]; p++) {
            smu[m->pfilter[p]] += m->pm[p * (size_t)m->J + (size_t)j];
            svar[m->pfilter[p]] += m->pv[p * (size_t)m->J + (size_t)j];
        }
    }
    double e = 0;
    for (size_t f = 0; f < m->n_filters; f++)
        e += m->gain[m->flayer[f]] * m->fs2[f] * (svar[f] + (m->compensated ? 0.0 : smu[f] * smu[f]));
    free(smu);
    free(svar);
    return e;
}

/* ---------------------------------------------------------------------------------------------- */
/* The walk along the path: current values, filter sums, and an indexed heap of each gene's best move. */

typedef struct gwalk {
    const gmodel *m;
    int *val;            /* G current values */
    double *smu, *svar;  /* per filter */
    int *bj;             /* G: best move's value (-1: none) */
    double *bratio, *bsave, *berr;
    size_t *heap, *hpos, nheap; /* genes with a move; hpos = SIZE_MAX when absent */
    size_t *stamp;       /* per gene: last move that refreshed it */
    size_t *touch;       /* scratch: genes to refresh */
    double energy, error;
    long moves;
} gwalk;

static int hless(const gwalk *w, size_t a, size_t b)
{
    if (w->bratio[a] != w->bratio[b]) return w->bratio[a] < w->bratio[b];
    return a < b;
}

static void hswap(gwalk *w, size_t i, size_t j)
{
    size_t a = w->heap[i], b = w->heap[j];
    w->heap[i] = b;
    w->heap[j] = a;
    w->hpos[b] = i;
    w->hpos[a] = j;
}

static void hfix(gwalk *w, size_t i)
{
    while (i > 0 && hless(w, w->heap[i], w->heap[(i - 1) / 2])) {
        hswap(w, i, (i - 1) / 2);
        i = (i - 1) / 2;
    }
    for (;;) {
        size_t c = 2 * i + 1, s = i;
        if (c < w->nheap && hless(w, w->heap[c], w->heap[s])) s = c;
        if (c + 1 < w->nheap && hless(w, w->heap[c + 1], w->heap[s])) s = c + 1;
        if (s == i) break;
        hswap(w, i, s);
        i = s;
    }
}

static void hremove(gwalk *w, size_t g)
{
    size_t i = w->hpos[g];
    if (i == SIZE_MAX) return;
    w->hpos[g] = SIZE_MAX;
    if (i == --w->nheap) return;
    w->heap[i] = w->heap[w->nheap];
    w->hpos[w->heap[i]] = i;
    hfix(w, i);
}

/* Estimated error change of gene g from its value to j. */
static double move_derr(const gwalk *w, size_t g, int j)
{
    const gmodel *m = w->m;
    const size_t J = (size_t)m->J, v = (size_t)w->val[g];
    double d = 0;
    for (size_t p = m->poff[g]; p < m->poff[g + 1]; p++) {
        const size_t f = m->pfilter[p];
        double dv = m->pv[p * J + (size_t)j] - m->pv[p * J + v];
        if (!m->compensated) {
            double nm = w->smu[f] - m->pm[p * J + v] + m->pm[p * J + (size_t)j];
            dv += nm * nm - w->smu[f] * w->smu[f];
        }
        d += m->gain[m->flayer[f]] * m->fs2[f] * dv;
    }
    return d;
}

/* Recompute gene g's best move and its heap place. */
static void refresh(gwalk *w, size_t g)
{
    const gmodel *m = w->m;
    const size_t J = (size_t)m->J;
    const double s0 = m->gsaved[g * J + (size_t)w->val[g]];
    int best = -1;
    double br = 0, bs = 0, be = 0;
    for (int j = 0; j < m->J; j++) {
        double ds = m->gsaved[g * J + (size_t)j] - s0;
        if (!(ds > 0)) continue;
        double de = move_derr(w, g, j), r = de / ds;
        if (best < 0 || r < br || (r == br && ds > bs)) {
            best = j;
            br = r;
            bs = ds;
            be = de;
        }
    }
    w->bj[g] = best;
    w->bratio[g] = br;
    w->bsave[g] = bs;
    w->berr[g] = be;
    if (best < 0) {
        hremove(w, g);
    } else if (w->hpos[g] == SIZE_MAX) {
        w->heap[w->nheap] = g;
        w->hpos[g] = w->nheap++;
        hfix(w, w->hpos[g]);
    } else {
        hfix(w, w->hpos[g]);
    }
}

static void gwalk_init(gwalk *w, const gmodel *m)
{
    memset(w, 0, sizeof *w);
    w->m = m;
    const size_t G = m->G, J = (size_t)m->J;
    w->val = xmalloc((G + 1) * sizeof *w->val);
    w->smu = xcalloc(m->n_filters + 1, sizeof *w->smu);
    w->svar = xcalloc(m->n_filters + 1, sizeof *w->svar);
    w->bj = xmalloc((G + 1) * sizeof *w->bj);
    w->bratio = xmalloc((G + 1) * sizeof *w->bratio);
    w->bsave = xmalloc((G + 1) * sizeof *w->bsave);
    w->berr = xmalloc((G + 1) * sizeof *w->berr);
    w->heap = xmalloc((G + 1) * sizeof *w->heap);
    w->hpos = xmalloc((G + 1) * sizeof *w->hpos);
    w->stamp = xmalloc((G + 1) * sizeof *w->stamp);
    w->touch = xmalloc((G + 1) * sizeof *w->touch);
    double saved = 0;
    const size_t v0 = (size_t)m->start;
    for (size_t g = 0; g < G; g++) {
        w->val[g] = m->start;
        w->hpos[g] = SIZE_MAX;
        w->stamp[g] = SIZE_MAX;
        saved += m->gsaved[g * J + v0];
        for (size_t p = m->poff[g]; p < m->poff[g + 1]; p++) {
            w->smu[m->pfilter[p]] += m->pm[p * J + v0];
            w->svar[m->pfilter[p]] += m->pv[p * J + v0];
        }
    }
    w->energy = 1 - saved;
    for (size_t f = 0; f < m->n_filters; f++)
        w->error += m->gain[m->flayer[f]] * m->fs2[f] * (w->svar[f] + (m->compensated ? 0.0 : w->smu[f] * w->smu[f]));
    for (size_t g = 0; g < G; g++) refresh(w, g);
}

static void gwalk_deinit(gwalk *w)
{
    free(w->val);
    free(w->smu);
    free(w->svar);
    free(w->bj);
    free(w->bratio);
    free(w->bsave);
    free(w->berr);
    free(w->heap);
    free(w->hpos);
    free(w->stamp);
    free(w->touch);
    memset(w, 0, sizeof *w);
}

/* Make the best move; 0 when none remains. */
static int gwalk_step(gwalk *w)
{
    if (!w->nheap) return 0;
    const gmodel *m = w->m;
    const size_t J = (size_t)m->J, g = w->heap[0];
    const int j = w->bj[g], v = w->val[g];
    w->energy -= w->bsave[g];
    w->error += w->berr[g];
    for (size_t p = m->poff[g]; p < m->poff[g + 1]; p++) {
        w->smu[m->pfilter[p]] += m->pm[p * J + (size_t)j] - m->pm[p * J + (size_t)v];
        w->svar[m->pfilter[p]] += m->pv[p * J + (size_t)j] - m->pv[p * J + (size_t)v];
    }
    w->val[g] = j;
    size_t mv = (size_t)w->moves++, nt = 0;
    w->touch[nt++] = g;
    w->stamp[g] = mv;
    if (!m->compensated) /* a filter's mean couples the genes that share it */
        for (size_t p = m->poff[g]; p < m->poff[g + 1]; p++)
            for (size_t q = m->fgoff[m->pfilter[p]]; q < m->fgoff[m->pfilter[p] + 1]; q++) {
                size_t h = m->fgenes[q];
                if (w->stamp[h] == mv) continue;
                w->stamp[h] = mv;
                w->touch[nt++] = h;
            }
    qsort(w->touch, nt, sizeof *w->touch, cmp_size); /* refresh order never matters; sorted anyway */
    for (size_t i = 0; i < nt; i++) refresh(w, w->touch[i]);
    return 1;
}

static void gwalk_genome(const gwalk *w, double *genes)
{
    for (size_t g = 0; g < w->m->G; g++) genes[g] = w->val[g];
}

/* ---------------------------------------------------------------------------------------------- */
/* Seeding: the estimate-only path. */

int greedy_seed_genomes(cnn_ctx *x, size_t n_genes, int k, size_t max, double *genes, size_t *n_out)
{
    *n_out = 0;
    if (k <= 0 || max == 0) return ST_OK;
    ASSERT(n_genes == x->genome_len);
    gmodel m;
    int rc = gmodel_init(&m, x);
    if (rc) return rc;
    /* layers by their noise per output element (the mean over filters): without a measurement, the
     * prior that calibrated runs support (see greedy.h) */
    for (size_t f = 0; f < m.n_filters; f++) m.gain[m.flayer[f]] += 1;
    for (int l = 0; l < m.n_layers; l++) m.gain[l] = 1 / (m.gain[l] - 1);
    /* the error budget: the uniform map of the median-energy multiplier among those cheaper than the
     * start (allowed values ascend in energy) */
    double budget = m.start >= 1 ? gmodel_uniform_error(&m, (m.start - 1) / 2, -1) : 0;
    gwalk w;
    gwalk_init(&w, &m);
    const double e0 = w.energy;
    double e_end = w.energy;
    while (w.error < budget && gwalk_step(&w)) e_end = w.energy;
    gwalk_deinit(&w);
    gwalk_init(&w, &m);
    size_t n = 0;
    for (int i = 1; i <= k && n < max; i++) {
        double target = e0 - (double)i * (e0 - e_end) / k;
        while (w.energy > target && gwalk_step(&w)) {}
        if (n && w.moves == 0) continue;
        gwalk_genome(&w, genes + n * n_genes);
        if (n && !memcmp(genes + n * n_genes, genes + (n - 1) * n_genes, n_genes * sizeof *genes)) continue;
        n++;
    }
    gwalk_deinit(&w);
    gmodel_free(&m);
    *n_out = n;
    return ST_OK;
}

/* ---------------------------------------------------------------------------------------------- */
/* approxmap greedy */

static volatile sig_atomic_t g_stop; /* SIGINT/SIGTERM */

static void on_signal(int sig)
{
    if (g_stop) {
        signal(sig, SIG_DFL);
        raise(sig);
    }
    g_stop = 1;
}

void greedy_opts_init(greedy_opts *o)
{
    memset(o, 0, sizeof *o);
    o->step = 0.01;
    o->margin = 1.0;
}

static double now_since(const struct timespec *t0)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)(t.tv_sec - t0->tv_sec) + 1e-9 * (double)(t.tv_nsec - t0->tv_nsec);
}

typedef struct grun {
    const greedy_opts *o;
    rundir d;
    prob_spec spec;
    prob *p;
    cnn_ctx *x;
    nsga *ga;            /* only to pack genomes into archive keys the way a search does */
    archive *a, *old;    /* this run's records; the previous session's (the cache), or NULL */
    int arc_fd;
    uint64_t gens_bytes;
    size_t L, kb;
    unsigned char *key;
    double *xs, *fs, *cvs; /* every record's genome, objectives, violation (for front.csv) */
    size_t cap;
    long generation, evaluations, reused;
    double *hv_pts, *hv_work;
    struct timespec t0;
} grun;

static void grun_deinit(grun *r)
{
    if (r->arc_fd >= 0) close(r->arc_fd);
    archive_free(r->a);
    archive_free(r->old);
    nsga_free(r->ga);
    prob_free(r->p);
    prob_spec_deinit(&r->spec);
    free(r->key);
    free(r->xs);
    free(r->fs);
    free(r->cvs);
    free(r->hv_pts);
    free(r->hv_work);
    rundir_deinit(&r->d);
}

/* Append record i's genome and results to the in-memory copy used for front.csv. */
static void keep_row(grun *r, const double *genes, const double *f, double cv)
{
    size_t i = archive_count(r->a) - 1;
    if (i >= r->cap) {
        r->cap = r->cap ? 2 * r->cap : 64;
        r->xs = xrealloc(r->xs, r->cap * r->L * sizeof *r->xs);
        r->fs = xrealloc(r->fs, r->cap * 2 * sizeof *r->fs);
        r->cvs = xrealloc(r->cvs, r->cap * sizeof *r->cvs);
    }
    memcpy(r->xs + i * r->L, genes, r->L * sizeof *genes);
    memcpy(r->fs + i * 2, f, 2 * sizeof *f);
    r->cvs[i] = cv;
}

/* Results of n genomes into f (n x 2) and cv: from this run's archive or the previous session's when
 * they hold the map, else the problem's evaluation (in parallel). */
static int score(grun *r, size_t n, const double *genes, double *f, double *cv)
{
    double *ex = xmalloc((n * r->L + 1) * sizeof *ex), *ef = xmalloc((2 * n + 1) * sizeof *ef),
           *ecv = xmalloc((n + 1) * sizeof *ecv);
    size_t *which = xmalloc((n + 1) * sizeof *which), ne = 0;
    for (size_t i = 0; i < n; i++) {
        nsga_pack(r->ga, genes + i * r->L, r->key);
        uint64_t h = archive_hash(r->key, r->kb);
        long e = archive_find(r->a, h, r->key);
        which[i] = SIZE_MAX;
        if (e >= 0 || (r->old && (e = archive_find(r->old, h, r->key)) >= 0)) {
            const archive *a = archive_find(r->a, h, r->key) >= 0 ? r->a : r->old;
            memcpy(f + 2 * i, archive_obj(a, (size_t)e), 2 * sizeof *f);
            cv[i] = archive_cv(a, (size_t)e);
            continue;
        }
        memcpy(ex + ne * r->L, genes + i * r->L, r->L * sizeof *ex);
        which[i] = ne++;
    }
    int rc = ne ? r->p->evaluate(r->p, ne, ex, ef, ecv, r->o->threads, &g_stop) : ST_OK;
    for (size_t i = 0; !rc && i < n; i++)
        if (which[i] != SIZE_MAX) {
            memcpy(f + 2 * i, ef + 2 * which[i], 2 * sizeof *f);
            cv[i] = ecv[which[i]];
        }
    free(ex);
    free(ef);
    free(ecv);
    free(which);
    return rc;
}

/* The archive id of a scored genome: its record when this run has one, else a new record of
 * generation `gen` (appended to the file). */
static int record(grun *r, const double *genes, const double *f, double cv, long gen, size_t *id)
{
    nsga_pack(r->ga, genes, r->key);
    uint64_t h = archive_hash(r->key, r->kb);
    long e = archive_find(r->a, h, r->key);
    if (e >= 0) {
        *id = (size_t)e;
        return ST_OK;
    }
    if (r->old && archive_find(r->old, h, r->key) >= 0) r->reused++;
    size_t first = archive_count(r->a);
    *id = archive_add(r->a, h, r->key, f, cv, gen);
    keep_row(r, genes, f, cv);
    r->evaluations++;
    return rundir_archive_append(r->arc_fd, r->d.archive, r->a, first, first + 1);
}

/* One generations.csv line, front.csv, greedy.csv. */
static int save(grun *r, const rundir_greedy_row *rows, size_t n_rows)
{
    size_t n = archive_count(r->a), k = 0;
    double best = NAN;
    r->hv_pts = xrealloc(r->hv_pts, (2 * n + 1) * sizeof *r->hv_pts);
    for (size_t i = 0; i < n; i++) {
        if (r->cvs[i] > 0) continue;
        if (isnan(best) || r->fs[2 * i] < best) best = r->fs[2 * i];
        memcpy(r->hv_pts + 2 * k++, r->fs + 2 * i, 2 * sizeof(double));
    }
    free(r->hv_work);
    r->hv_work = xmalloc((hv_work_size(k, 2) + 1) * sizeof *r->hv_work);
    double hv = hv_compute(r->hv_pts, k, 2, r->p->ref, r->hv_work);
    rundir_gen g = {++r->generation, r->evaluations, 0, hv, best, now_since(&r->t0)};
    int rc = rundir_gens_append(r->d.generations, &r->gens_bytes, &g);
    if (!rc) rc = rundir_front_write_rows(r->d.front, r->p, n, r->fs, r->cvs, r->xs);
    if (!rc) rc = rundir_greedy_write(r->d.greedy, rows, n_rows);
    return rc;
}

/* Open the run directory: a new one, the same problem's greedy run (continued: its archive becomes
 * the cache), or with --force anything. */
static int open_dir(grun *r)
{
    const greedy_opts *o = r->o;
    struct stat st;
    if (stat(o->dir, &st) == 0) {
        if (!S_ISDIR(st.st_mode)) return msg_error(ST_EINVAL, "'%s' exists and is not a directory", o->dir);
        if (rundir_has_run(&r->d) && !o->force) {
            if (access(r->d.checkpoint, F_OK) == 0)
                return msg_error(ST_EINVAL, "'%s' holds a search run; use --force to overwrite it", o->dir);
            char *a = NULL, *b = NULL;
            size_t na = 0, nb = 0;
            int same = access(r->d.problem, F_OK) == 0 && afile_read_all(r->d.problem, &a, &na) == ST_OK &&
                       afile_read_all(o->problem_path, &b, &nb) == ST_OK && na == nb && !memcmp(a, b, na);
            free(a);
            free(b);
            if (!same)
                return msg_error(ST_EINVAL, "'%s' holds a run of another problem; use --force to overwrite it", o->dir);
            r->old = archive_alloc(r->kb, 2);
            if (access(r->d.archive, F_OK) != 0 ||
                rundir_archive_load(r->d.archive, r->p->hash, r->old, UINT64_MAX) != ST_OK) {
                if (access(r->d.archive, F_OK) == 0 && !o->quiet)
                    fprintf(stderr, "approxmap greedy: the archive of '%s' is not usable; evaluating again\n", o->dir);
                archive_free(r->old);
                r->old = NULL;
            } else if (!o->quiet) {
                fprintf(stderr, "approxmap greedy: continuing the run in '%s' (%zu maps already evaluated)\n", o->dir,
                        archive_count(r->old));
            }
        }
        rundir_remove_outputs(&r->d);
        char *first;
        int n = afile_remove_stale(o->dir, &first);
        if (n && !o->quiet) fprintf(stderr, "approxmap greedy: removed %d stale temporary file(s) ('%s')\n", n, first);
        free(first);
    } else if (run_mkdir_parents(o->dir) != 0) {
        return msg_error(ST_EIO, "cannot create run directory '%s': %s", o->dir, strerror(errno));
    }
    char *text;
    size_t len;
    int rc = afile_read_all(o->problem_path, &text, &len);
    if (rc) return rc;
    rc = afile_write_all(r->d.problem, text, len);
    free(text);
    if (!rc) rc = rundir_archive_create(r->d.archive, r->p->n_obj, r->kb, r->p->hash);
    if (!rc) rc = rundir_gens_create(r->d.generations, &r->gens_bytes);
    if (rc) return rc;
    r->arc_fd = open(r->d.archive, O_WRONLY);
    if (r->arc_fd < 0) return msg_error(ST_EIO, "cannot open '%s': %s", r->d.archive, strerror(errno));
    return ST_OK;
}

/* Calibration: g_l from the one-layer maps (see greedy.h). Scores and records them (generation 1). */
static int calibrate(grun *r, gmodel *m)
{
    cnn_ctx *x = r->x;
    const int L = m->n_layers;
    int *ref = xmalloc((size_t)L * sizeof *ref);
    double *est = xmalloc((size_t)L * sizeof *est);
    size_t n = 0;
    double *genes = xmalloc(((size_t)L * r->L + 1) * sizeof *genes);
    int *lay = xmalloc((size_t)L * sizeof *lay);
    for (int l = 0; l < L; l++) {
        ref[l] = -1;
        double best = INFINITY;
        size_t cout = 0;
        for (size_t f = 0; f < m->n_filters; f++) cout += m->flayer[f] == l;
        const size_t g0 = r->p->blocks[l] * (size_t)m->J;
        for (int j = 0; j < m->J; j++) {
            if (!(m->gsaved[g0 + (size_t)j] > m->gsaved[g0 + (size_t)m->start])) continue; /* not cheaper */
            double e = gmodel_uniform_error(m, j, l);
            if (!(e > 0)) continue;
            double d = fabs(log(e / (double)(cout ? cout : 1)));
            if (d < best) {
                best = d;
                ref[l] = j;
                est[l] = e;
            }
        }
        if (ref[l] < 0) continue;
        double *g = genes + n * r->L;
        for (size_t i = 0; i < r->L; i++) g[i] = m->start;
        for (size_t i = r->p->blocks[l]; i < r->p->blocks[l + 1]; i++) g[i] = ref[l];
        lay[n++] = l;
    }
    double *f = xmalloc((2 * n + 1) * sizeof *f), *cv = xmalloc((n + 1) * sizeof *cv);
    int rc = score(r, n, genes, f, cv);
    for (size_t i = 0; !rc && i < n; i++) {
        size_t id;
        rc = record(r, genes + i * r->L, f + 2 * i, cv[i], 1, &id);
    }
    /* the logits' mean squared deviation of each one-layer map */
    if (!rc && n) {
        const int32_t k = qnn_int8_n_out(x->cnn.net), ni = x->search_set.n;
        int8_t *ex = xmalloc((size_t)ni * (size_t)k), *lg = xmalloc((size_t)ni * (size_t)k);
        approx_eval_data d;
        approx_eval_data_init(x->ev, &d, &x->search_set, 0, r->o->threads, NULL, ex);
        for (size_t i = 0; !rc && i < n && !g_stop; i++) {
            int l = lay[i];
            cnn_genome_to_map(x, 0, genes + i * r->L, &x->maps[0]);
            approx_eval_result res;
            rc = approx_eval_map(x->ev, 0, &x->maps[0], &d, r->o->threads, 0, NULL, lg, &res);
            if (rc) break;
            double sq = 0;
            for (size_t q = 0; q < (size_t)ni * (size_t)k; q++) {
                double dd = (double)lg[q] - (double)ex[q];
                sq += dd * dd;
            }
            double msd = fmax(sq, 1.0) / ((double)ni * k);
            m->gain[l] = msd / est[l];
            if (!r->o->quiet)
                fprintf(stderr, "approxmap greedy: layer %-12s reference %-12s estimate %10.4g  logit MSD %10.4g  "
                                "gain %10.4g  loss %6.2f pp\n",
                        x->cnn.layers[l].name, x->cnn.lib.mults[x->allowed[ref[l]]].name, est[l], msd, m->gain[l],
                        f[2 * i + 1]);
        }
        approx_eval_data_deinit(&d);
        free(ex);
        free(lg);
        if (!rc && g_stop) rc = ST_EINTR;
    }
    free(f);
    free(cv);
    free(genes);
    free(lay);
    free(ref);
    free(est);
    return rc;
}

/* The path: points every `step` of estimated energy, scored in batches of one per thread, recorded in
 * order up to the first whose loss exceeds max_loss_pp + margin (later ones of its batch are dropped,
 * so the files do not depend on the batch size). */
static int walk_path(grun *r, gmodel *m, const char **why)
{
    const greedy_opts *o = r->o;
    const size_t nb = (size_t)util_threads(o->threads, 1L << 20), L = r->L;
    double *genes = xmalloc((nb * L + 1) * sizeof *genes), *f = xmalloc((2 * nb + 1) * sizeof *f),
           *cv = xmalloc((nb + 1) * sizeof *cv);
    rundir_greedy_row *rows = NULL, *pend = xmalloc((nb + 1) * sizeof *pend);
    size_t n_rows = 0, cap = 0;
    gwalk w;
    gwalk_init(&w, m);
    long point = 0, last_moves = -1;
    double last_e = w.energy;
    int rc = ST_OK, done = 0;
    *why = "the path ended (no cheaper multiplier left)";
    while (!rc && !done) {
        size_t n = 0;
        while (n < nb) {
            if (point > 0) {
                while (w.energy > last_e - o->step * (1 - 1e-9) && gwalk_step(&w)) {}
                if (w.moves == last_moves) break; /* the path's end */
            }
            gwalk_genome(&w, genes + n * L);
            pend[n] = (rundir_greedy_row){point++, w.moves, w.energy, w.error, 0, 0, 0, 0};
            last_e = w.energy;
            last_moves = w.moves;
            n++;
        }
        if (!n) break;
        if ((rc = score(r, n, genes, f, cv))) break;
        for (size_t i = 0; i < n && !rc; i++) {
            size_t id;
            if ((rc = record(r, genes + i * L, f + 2 * i, cv[i], 2 + pend[i].point, &id))) break;
            pend[i].id = id;
            pend[i].energy = f[2 * i];
            pend[i].loss = f[2 * i + 1];
            pend[i].violation = cv[i];
            if (n_rows == cap) {
                cap = cap ? 2 * cap : 64;
                rows = xrealloc(rows, cap * sizeof *rows);
            }
            rows[n_rows++] = pend[i];
            if ((rc = save(r, rows, n_rows))) break;
            if (!o->quiet)
                fprintf(stderr, "approxmap greedy: point %-4ld energy %.4f  loss %6.2f pp  (estimate: energy %.4f, "
                                "error %.4g, %ld moves)  %ld evaluations  %.0f s\n",
                        pend[i].point, pend[i].energy, pend[i].loss, pend[i].est_energy, pend[i].est_error,
                        pend[i].moves, r->evaluations, now_since(&r->t0));
            if (cv[i] > o->margin) {
                *why = "the search loss exceeded max_loss_pp + margin";
                done = 1;
                break;
            }
        }
        if (n < nb) break;
    }
    gwalk_deinit(&w);
    free(genes);
    free(f);
    free(cv);
    free(rows);
    free(pend);
    return rc;
}

int greedy_run(const greedy_opts *o)
{
    grun r;
    memset(&r, 0, sizeof r);
    r.o = o;
    r.arc_fd = -1;
    rundir_init(&r.d, o->dir);
    clock_gettime(CLOCK_MONOTONIC, &r.t0);
    gmodel m;
    memset(&m, 0, sizeof m);
    int rc = prob_load(&r.spec, o->problem_path);
    if (rc) goto out;
    if (r.spec.type != &prob_type_cnn) {
        rc = msg_error(ST_EINVAL, "%s: greedy needs a cnn problem (this one is '%s')", o->problem_path,
                       r.spec.type->name);
        goto out;
    }
    if ((rc = prob_create(&r.spec, &r.p))) goto out;
    r.x = r.p->ctx;
    r.L = r.p->n_genes;
    nsga_settings gs = r.spec.ga;
    nsga_settings_resolve(&gs, r.p->genes, r.p->n_genes);
    nsga_cfg c = {r.p->n_genes, r.p->genes, r.p->n_obj, gs, r.p->n_blocks, r.p->blocks};
    r.ga = nsga_alloc(&c);
    r.kb = nsga_key_bytes(r.ga);
    r.key = xmalloc(r.kb + 1);
    r.a = archive_alloc(r.kb, r.p->n_obj);
    if ((rc = open_dir(&r))) goto out;
    if ((rc = gmodel_init(&m, r.x))) goto out;

    struct sigaction sa, old_int, old_term;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    g_stop = 0;
    sigaction(SIGINT, &sa, &old_int);
    sigaction(SIGTERM, &sa, &old_term);
    const char *why = "";
    rc = calibrate(&r, &m);
    if (!rc) rc = save(&r, NULL, 0);
    if (!rc) rc = walk_path(&r, &m, &why);
    if (!rc && g_stop) rc = ST_EINTR;
    sigaction(SIGINT, &old_int, NULL);
    sigaction(SIGTERM, &old_term, NULL);
    if (rc == ST_EINTR && !o->quiet)
        fprintf(stderr, "approxmap greedy: interrupted after %ld evaluations; the same command continues the run\n",
                r.evaluations);
    if (!rc && !o->quiet) {
        char extra[200];
        r.p->stats(r.p, extra, sizeof extra);
        fprintf(stderr, "approxmap greedy: stopped: %s; %ld evaluations (%ld taken from the earlier session's "
                        "archive), %.1f s; front in '%s', path in '%s'\napproxmap greedy: %s\n",
                why, r.evaluations, r.reused, now_since(&r.t0), r.d.front, r.d.greedy, extra);
    }
out:
    gmodel_free(&m);
    grun_deinit(&r);
    return rc;
}
