/* The run driver: see run.h. Per generation, in this order: evaluate the batch (OpenMP over
 * genomes inside the problem), select, append the new archive records and fsync, append the
 * generations.csv line and fsync, replace front.csv, replace the checkpoint. A crash at any point
 * leaves a checkpoint whose recorded archive/log sizes are <= the files' sizes, so resume truncates
 * the files back and repeats the lost generation exactly (all randomness is in the checkpointed RNG).
 *
 * Signals: SIGINT/SIGTERM set a flag (the only mutable global, as signal handlers require); the
 * problem stops evaluating, the current generation is dropped or, if already complete, checkpointed,
 * and the run returns ST_EINTR (exit 130). */
#include "run.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "afile.h"
#include "ckpt.h"
#include "hv.h"
#include "msg.h"
#include "nsga.h"
#include "prob.h"
#include "rng.h"
#include "status.h"

#define CKPT_MAGIC "AMAPCKPT"
#define ARCH_MAGIC "AMAPARCH"

enum { RNG_STREAM_GA = 1 };

static volatile sig_atomic_t g_stop; /* set by the SIGINT/SIGTERM handler */

/* The first signal asks for a clean stop; a second one (an impatient user) takes the default action
 * at once, which is safe too: the files on disk are always a consistent checkpoint. */
static void on_signal(int sig)
{
    if (g_stop) {
        signal(sig, SIG_DFL);
        raise(sig);
    }
    g_stop = 1;
}

typedef struct run {
    char *dir, *p_ckpt, *p_arch, *p_front, *p_gens, *p_prob;
    prob_spec spec;
    prob *p;
    nsga *ga;
    rng_pcg32 rng;
    nsga_term term;
    nsga_progress prog;
    uint64_t seed;
    long threads;
    double elapsed;      /* seconds spent in earlier sessions */
    uint64_t arc_saved;  /* archive records on disk and covered by the checkpoint */
    uint64_t gens_bytes; /* size of generations.csv */
    int arc_fd;
    size_t rec_bytes;
    double *ex, *ef, *ecv; /* contiguous pending genomes and their results */
    double *hv_pts, *hv_work;
    size_t *front_idx;
    int quiet, live;
    struct timespec t0;
} run;

void run_opts_init(run_opts *o)
{
    memset(o, 0, sizeof *o);
    o->threads = -1;
    o->time_limit = -1;
}

static double now_since(const struct timespec *t0)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)(t.tv_sec - t0->tv_sec) + 1e-9 * (double)(t.tv_nsec - t0->tv_nsec);
}

static void run_paths(run *r, const char *dir)
{
    r->dir = xstrdup(dir);
    r->p_ckpt = xasprintf("%s/checkpoint", dir);
    r->p_arch = xasprintf("%s/archive", dir);
    r->p_front = xasprintf("%s/front.csv", dir);
    r->p_gens = xasprintf("%s/generations.csv", dir);
    r->p_prob = xasprintf("%s/problem.yaml", dir);
    r->arc_fd = -1;
}

static void run_deinit(run *r)
{
    if (r->arc_fd >= 0) close(r->arc_fd);
    nsga_free(r->ga);
    prob_free(r->p);
    prob_spec_deinit(&r->spec);
    free(r->ex);
    free(r->ef);
    free(r->ecv);
    free(r->hv_pts);
    free(r->hv_work);
    free(r->front_idx);
    free(r->dir);
    free(r->p_ckpt);
    free(r->p_arch);
    free(r->p_front);
    free(r->p_gens);
    free(r->p_prob);
}

/* Buffers sized by the population, allocated once. */
static void run_buffers(run *r)
{
    size_t N = nsga_config(r->ga)->pop_size, L = r->p->n_genes, M = (size_t)r->p->n_obj;
    r->ex = xmalloc(N * L * sizeof(double));
    r->ef = xmalloc(N * M * sizeof(double));
    r->ecv = xmalloc(N * sizeof(double));
    r->hv_pts = xmalloc(N * M * sizeof(double));
    r->hv_work = xmalloc(hv_work_size(N, M <= 3 ? (int)M : 3) * sizeof(double));
    r->front_idx = xmalloc(2 * N * sizeof(size_t));
    r->rec_bytes = 16 + 8 * M + 8 + nsga_key_bytes(r->ga);
}

/* ---------- archive file ---------- */

static void arch_header(unsigned char h[RUN_ARCHIVE_HEADER], int n_obj, size_t key_bytes, uint64_t hash)
{
    memcpy(h, ARCH_MAGIC, 8);
    ckpt_le32(h + 8, RUN_ARCHIVE_VERSION);
    ckpt_le32(h + 12, (uint32_t)n_obj);
    ckpt_le64(h + 16, key_bytes);
    ckpt_le64(h + 24, hash);
}

int run_archive_load(const char *path, uint64_t problem_hash, archive *a, uint64_t count)
{
    FILE *fp = fopen(path, "rb");
    if (!fp) return msg_error(ST_EIO, "cannot open '%s': %s", path, strerror(errno));
    int M = archive_n_obj(a);
    size_t kb = archive_key_bytes(a), rec = 16 + 8 * (size_t)M + 8 + kb;
    unsigned char h[RUN_ARCHIVE_HEADER], want[RUN_ARCHIVE_HEADER];
    arch_header(want, M, kb, problem_hash);
    int rc = ST_OK;
    if (fread(h, 1, sizeof h, fp) != sizeof h || memcmp(h, ARCH_MAGIC, 8)) {
        rc = msg_error(ST_EFORMAT, "'%s' is not an archive file", path);
    } else if (ckpt_rd32(h + 8) != RUN_ARCHIVE_VERSION) {
        rc = msg_error(ST_EFORMAT, "'%s' has archive format version %u; this program reads version %u", path,
                       (unsigned)ckpt_rd32(h + 8), (unsigned)RUN_ARCHIVE_VERSION);
    } else if (memcmp(h, want, sizeof h)) {
        rc = msg_error(ST_EFORMAT, "'%s' belongs to a different problem", path);
    }
    unsigned char *buf = xmalloc(rec);
    double f[PROB_MAX_OBJ];
    for (uint64_t i = 0; rc == ST_OK && i < count; i++) {
        size_t got = fread(buf, 1, rec, fp);
        if (got != rec) {
            if (count == UINT64_MAX) break;
            rc = msg_error(ST_EFORMAT, "'%s' is truncated: %llu of %llu records", path, (unsigned long long)i,
                           (unsigned long long)count);
            break;
        }
        if (ckpt_crc32(0, buf + 16, rec - 16) != ckpt_rd32(buf + 12)) {
            rc = msg_error(ST_EFORMAT, "'%s' is corrupt: record %llu fails its checksum", path, (unsigned long long)i);
            break;
        }
        for (int j = 0; j < M; j++) {
            uint64_t bits = ckpt_rd64(buf + 16 + 8 * (size_t)j);
            memcpy(&f[j], &bits, 8);
        }
        uint64_t bits = ckpt_rd64(buf + 16 + 8 * (size_t)M);
        double cv;
        memcpy(&cv, &bits, 8);
        archive_add(a, ckpt_rd64(buf), buf + 24 + 8 * (size_t)M, f, cv, (long)ckpt_rd32(buf + 8));
    }
    free(buf);
    fclose(fp);
    return rc;
}

static int write_full(int fd, const void *data, size_t len)
{
    const unsigned char *p = data;
    while (len) {
        ssize_t w = write(fd, p, len);
        if (w < 0) {
            if (errno == EINTR) continue;
            return -1;
        }
        p += w;
        len -= (size_t)w;
    }
    return 0;
}

/* Append records [arc_saved, count) and make them durable. */
static int arch_append(run *r)
{
    const archive *a = nsga_archive_const(r->ga);
    size_t n = archive_count(a), M = (size_t)r->p->n_obj, kb = archive_key_bytes(a);
    if (n == r->arc_saved) return ST_OK;
    size_t bytes = (n - r->arc_saved) * r->rec_bytes;
    unsigned char *buf = xmalloc(bytes), *q = buf;
    for (size_t i = r->arc_saved; i < n; i++, q += r->rec_bytes) {
        ckpt_le64(q, archive_entry_hash(a, i));
        ckpt_le32(q + 8, (uint32_t)archive_generation(a, i));
        const double *f = archive_obj(a, i);
        for (size_t j = 0; j <= M; j++) {
            double v = j < M ? f[j] : archive_cv(a, i);
            uint64_t bits;
            memcpy(&bits, &v, 8);
            ckpt_le64(q + 16 + 8 * j, bits);
        }
        memcpy(q + 24 + 8 * M, archive_key(a, i), kb);
        ckpt_le32(q + 12, ckpt_crc32(0, q + 16, r->rec_bytes - 16));
    }
    off_t off = (off_t)(RUN_ARCHIVE_HEADER + r->arc_saved * r->rec_bytes);
    int rc = ST_OK;
    if (lseek(r->arc_fd, off, SEEK_SET) < 0 || write_full(r->arc_fd, buf, bytes) || fdatasync(r->arc_fd))
        rc = msg_error(ST_EIO, "cannot write '%s': %s", r->p_arch, strerror(errno));
    free(buf);
    if (rc == ST_OK) r->arc_saved = n;
    return rc;
}

/* ---------- generations.csv and front.csv ---------- */

static const char gens_header[] = "generation,evaluations,cache_hits,hypervolume,best_f1,seconds\n";

/* Hypervolume of the feasible first front, and the lowest feasible f1 (NAN when none). */
static void pop_stats(run *r, double *hv, double *best)
{
    nsga_pop pop = nsga_population(r->ga);
    int M = pop.n_obj;
    size_t k = 0;
    *best = NAN;
    for (size_t i = 0; i < pop.n; i++) {
        if (pop.cv[i] > 0) continue;
        if (isnan(*best) || pop.f[i * (size_t)M] < *best) *best = pop.f[i * (size_t)M];
        if (pop.rank[i] == 0) memcpy(r->hv_pts + (k++) * (size_t)M, pop.f + i * (size_t)M, (size_t)M * sizeof(double));
    }
    *hv = M == 2 || M == 3 ? hv_compute(r->hv_pts, k, M, r->p->ref, r->hv_work) : NAN;
}

static int gens_append(run *r, double hv, double best, double seconds)
{
    char line[256];
    int n = snprintf(line, sizeof line, "%ld,%ld,%ld,%.10g,%.10g,%.3f\n", nsga_generation(r->ga),
                     nsga_evaluations(r->ga), nsga_cache_hits(r->ga), hv, best, seconds);
    int fd = open(r->p_gens, O_WRONLY);
    int rc = ST_OK;
    if (fd < 0 || lseek(fd, (off_t)r->gens_bytes, SEEK_SET) < 0 || write_full(fd, line, (size_t)n) || fdatasync(fd))
        rc = msg_error(ST_EIO, "cannot write '%s': %s", r->p_gens, strerror(errno));
    if (fd >= 0) close(fd);
    if (rc == ST_OK) r->gens_bytes += (uint64_t)n;
    return rc;
}

typedef struct front_ctx {
    const double *f;
    int m;
    const size_t *id;
} front_ctx;

static int front_less(const front_ctx *c, size_t a, size_t b)
{
    for (int j = 0; j < c->m; j++) {
        double fa = c->f[a * (size_t)c->m + j], fb = c->f[b * (size_t)c->m + j];
        if (fa != fb) return fa < fb;
    }
    return c->id[a] < c->id[b];
}

static int write_front(run *r)
{
    nsga *ga = r->ga;
    nsga_pop pop = nsga_population(ga);
    const archive *a = nsga_archive_const(ga);
    size_t M = (size_t)pop.n_obj, L = pop.n_genes;
    size_t *sel = r->front_idx, *id = r->front_idx + pop.n, k = 0;
    unsigned char *key = xmalloc(nsga_key_bytes(ga));
    for (size_t i = 0; i < pop.n; i++) {
        id[i] = 0;
        if (pop.rank[i] != 0) continue;
        nsga_pack(ga, pop.x + i * L, key);
        long e = archive_find(a, archive_hash(key, nsga_key_bytes(ga)), key);
        ASSERT(e >= 0);
        id[i] = (size_t)e;
        int dup = 0;
        for (size_t j = 0; j < k && !dup; j++) dup = id[sel[j]] == (size_t)e;
        if (!dup) sel[k++] = i;
    }
    free(key);
    front_ctx c = {pop.f, pop.n_obj, id};
    for (size_t i = 1; i < k; i++) /* insertion sort: fronts are small */
        for (size_t j = i; j > 0 && front_less(&c, sel[j], sel[j - 1]); j--) {
            size_t t = sel[j];
            sel[j] = sel[j - 1];
            sel[j - 1] = t;
        }
    /* front.csv is derived from the checkpoint (resume rewrites it), so it is replaced atomically
     * for readers but not fsync'd: that saves two of the six syncs per generation. */
    char *tmp = xasprintf("%s.tmp.%ld", r->p_front, (long)getpid());
    FILE *fp = fopen(tmp, "w");
    if (!fp) {
        int rc = msg_error(ST_EIO, "cannot write '%s': %s", tmp, strerror(errno));
        free(tmp);
        return rc;
    }
    fputs("id", fp);
    for (size_t j = 0; j < M; j++) fprintf(fp, ",f%zu", j + 1);
    if (r->p->n_con) fputs(",violation", fp);
    if (r->p->front_extra)
        r->p->front_extra(r->p, fp, NULL);
    else
        for (size_t g = 0; g < L; g++) fprintf(fp, ",x%zu", g + 1);
    fputc('\n', fp);
    for (size_t s = 0; s < k; s++) {
        size_t i = sel[s];
        fprintf(fp, "%zu", id[i]);
        for (size_t j = 0; j < M; j++) fprintf(fp, ",%.17g", pop.f[i * M + j]);
        if (r->p->n_con) fprintf(fp, ",%.17g", pop.cv[i]);
        if (r->p->front_extra)
            r->p->front_extra(r->p, fp, pop.x + i * L);
        else
            for (size_t g = 0; g < L; g++) fprintf(fp, ",%.17g", pop.x[i * L + g]);
        fputc('\n', fp);
    }
    int bad = ferror(fp);
    if (fclose(fp) != 0) bad = 1;
    int rc = ST_OK;
    if (bad || rename(tmp, r->p_front) != 0) {
        rc = msg_error(ST_EIO, "cannot write '%s': %s", r->p_front, strerror(errno ? errno : EIO));
        unlink(tmp);
    }
    free(tmp);
    return rc;
}

/* ---------- checkpoint ---------- */

static int save_ckpt(run *r)
{
    const nsga_cfg *c = nsga_config(r->ga);
    nsga_pop pop = nsga_population(r->ga);
    ckpt_writer w;
    ckpt_writer_init(&w);
    ckpt_put_u64(&w, r->p->hash);
    ckpt_put_u64(&w, r->p->n_genes);
    ckpt_put_u32(&w, (uint32_t)r->p->n_obj);
    ckpt_put_u64(&w, c->pop_size);
    ckpt_put_f64(&w, c->pc);
    ckpt_put_f64(&w, c->eta_c);
    ckpt_put_f64(&w, c->eta_m);
    ckpt_put_f64(&w, c->pm_real);
    ckpt_put_f64(&w, c->pm_int);
    ckpt_put_f64(&w, c->creep);
    ckpt_put_f64(&w, c->swap);
    ckpt_put_i64(&w, r->term.max_generations);
    ckpt_put_i64(&w, r->term.max_evaluations);
    ckpt_put_f64(&w, r->term.max_seconds);
    ckpt_put_i64(&w, r->term.stall_generations);
    ckpt_put_f64(&w, r->term.stall_tol);
    ckpt_put_u64(&w, r->seed);
    ckpt_put_i64(&w, r->threads);
    ckpt_put_i64(&w, nsga_generation(r->ga));
    ckpt_put_i64(&w, nsga_evaluations(r->ga));
    ckpt_put_i64(&w, nsga_cache_hits(r->ga));
    ckpt_put_f64(&w, r->elapsed + now_since(&r->t0));
    ckpt_put_f64(&w, r->prog.hv_best);
    ckpt_put_i64(&w, r->prog.hv_best_gen);
    ckpt_put_u64(&w, r->arc_saved);
    ckpt_put_u64(&w, r->gens_bytes);
    unsigned char st[RNG_STATE_BYTES];
    rng_save(&r->rng, st);
    ckpt_put_bytes(&w, st, sizeof st);
    ckpt_put_u64(&w, pop.n);
    for (size_t i = 0; i < pop.n; i++) {
        for (size_t g = 0; g < pop.n_genes; g++) ckpt_put_f64(&w, pop.x[i * pop.n_genes + g]);
        for (int j = 0; j < pop.n_obj; j++) ckpt_put_f64(&w, pop.f[i * (size_t)pop.n_obj + (size_t)j]);
        ckpt_put_f64(&w, pop.cv[i]);
        ckpt_put_u32(&w, (uint32_t)pop.rank[i]);
        ckpt_put_f64(&w, pop.crowd[i]);
    }
    int rc = ckpt_file_write(r->p_ckpt, CKPT_MAGIC, RUN_CKPT_VERSION, &w);
    ckpt_writer_deinit(&w);
    return rc;
}

static int load_ckpt(run *r)
{
    unsigned char *data;
    ckpt_reader rd;
    int rc = ckpt_file_read(r->p_ckpt, CKPT_MAGIC, RUN_CKPT_VERSION, "checkpoint", &data, &rd);
    if (rc) return rc;
    uint64_t hash = ckpt_get_u64(&rd), L = ckpt_get_u64(&rd);
    uint32_t M = ckpt_get_u32(&rd);
    if (hash != r->p->hash || L != r->p->n_genes || M != (uint32_t)r->p->n_obj) {
        free(data);
        return msg_error(ST_EFORMAT, "'%s' was written for a different problem than '%s' (problem hash differs)",
                         r->p_ckpt, r->p_prob);
    }
    nsga_cfg c;
    nsga_cfg_defaults(&c);
    c.n_genes = r->p->n_genes;
    c.genes = r->p->genes;
    c.n_obj = r->p->n_obj;
    c.pop_size = ckpt_get_u64(&rd);
    c.pc = ckpt_get_f64(&rd);
    c.eta_c = ckpt_get_f64(&rd);
    c.eta_m = ckpt_get_f64(&rd);
    c.pm_real = ckpt_get_f64(&rd);
    c.pm_int = ckpt_get_f64(&rd);
    c.creep = ckpt_get_f64(&rd);
    c.swap = ckpt_get_f64(&rd);
    r->term.max_generations = ckpt_get_i64(&rd);
    r->term.max_evaluations = ckpt_get_i64(&rd);
    r->term.max_seconds = ckpt_get_f64(&rd);
    r->term.stall_generations = ckpt_get_i64(&rd);
    r->term.stall_tol = ckpt_get_f64(&rd);
    r->seed = ckpt_get_u64(&rd);
    r->threads = ckpt_get_i64(&rd);
    long gen = ckpt_get_i64(&rd), evals = ckpt_get_i64(&rd), hits = ckpt_get_i64(&rd);
    r->elapsed = ckpt_get_f64(&rd);
    r->prog.hv_best = ckpt_get_f64(&rd);
    r->prog.hv_best_gen = ckpt_get_i64(&rd);
    r->arc_saved = ckpt_get_u64(&rd);
    r->gens_bytes = ckpt_get_u64(&rd);
    unsigned char st[RNG_STATE_BYTES];
    ckpt_get_bytes(&rd, st, sizeof st);
    uint64_t np = ckpt_get_u64(&rd);
    int sane = !rd.err && c.pop_size >= 4 && c.pop_size % 2 == 0 && c.pop_size <= 100000 && (np == 0 || np == c.pop_size) &&
               rng_load(&r->rng, st) == 0 && c.pc >= 0 && c.pc <= 1 && c.creep >= 0 && c.creep <= 1 && c.swap >= 0 &&
               c.swap <= 1 && c.pm_real >= 0 && c.pm_real <= 1 && c.pm_int >= 0 && c.pm_int <= 1 && gen >= 0;
    size_t row = L + M + 1;
    if (sane && ckpt_remaining(&rd) != np * (8 * row + 12)) sane = 0;
    if (!sane) {
        free(data);
        return msg_error(ST_EFORMAT, "'%s' is damaged (inconsistent contents)", r->p_ckpt);
    }
    r->ga = nsga_alloc(&c);
    double *x = xmalloc((np * L + 1) * sizeof *x), *f = xmalloc((np * M + 1) * sizeof *f);
    double *cv = xmalloc((np + 1) * sizeof *cv), *crowd = xmalloc((np + 1) * sizeof *crowd);
    int *rank = xmalloc((np + 1) * sizeof *rank);
    for (size_t i = 0; i < np; i++) {
        for (size_t g = 0; g < L; g++) x[i * L + g] = ckpt_get_f64(&rd);
        for (size_t j = 0; j < M; j++) f[i * M + j] = ckpt_get_f64(&rd);
        cv[i] = ckpt_get_f64(&rd);
        rank[i] = (int)ckpt_get_u32(&rd);
        crowd[i] = ckpt_get_f64(&rd);
    }
    nsga_restore(r->ga, np, x, f, cv, rank, crowd, gen, evals, hits);
    free(x);
    free(f);
    free(cv);
    free(crowd);
    free(rank);
    free(data);
    return ST_OK;
}

/* ---------- the loop ---------- */

static void fmt_eta(char *buf, size_t n, double s)
{
    if (!(s >= 0) || s > 1e7) {
        snprintf(buf, n, "-");
        return;
    }
    long t = (long)(s + 0.5);
    snprintf(buf, n, "%ld:%02ld:%02ld", t / 3600, t / 60 % 60, t % 60);
}

static void progress(run *r, double hv, double best, double session_s, long gen0, long evals0)
{
    if (r->quiet) return;
    long gen = nsga_generation(r->ga), ev = nsga_evaluations(r->ga), hits = nsga_cache_hits(r->ga);
    double rate = session_s > 0 ? (double)(ev - evals0) / session_s : 0;
    char eta[32] = "-";
    if (r->term.max_generations > 0 && gen > gen0)
        fmt_eta(eta, sizeof eta, session_s / (double)(gen - gen0) * (double)(r->term.max_generations - gen));
    long total = ev + hits;
    char line[512], extra[200] = "";
    if (r->p->stats) {
        extra[0] = ' ';
        extra[1] = ' ';
        r->p->stats(r->p, extra + 2, sizeof extra - 2);
    }
    snprintf(line, sizeof line, "gen %ld/%ld  evals %ld  %.1f ev/s  hv %.6f  best %.6g  cache %.1f%%%s  eta %s", gen,
             r->term.max_generations, ev, rate, hv, best, total ? 100.0 * (double)hits / (double)total : 0.0, extra, eta);
    if (r->live)
        fprintf(stderr, "\r%s\033[K", line);
    else
        fprintf(stderr, "%s\n", line);
    fflush(stderr);
}

static int one_generation(run *r)
{
    nsga *ga = r->ga;
    nsga_batch *b;
    if (nsga_generation(ga) == 0) {
        size_t ns = 0, N = nsga_config(ga)->pop_size;
        if (r->p->seed_genomes) {
            int rc = r->p->seed_genomes(r->p, N, r->ex, &ns);
            if (rc) return rc;
        }
        /* the seeds are copied before ex is reused below */
        b = nsga_init(ga, &r->rng, ns ? r->ex : NULL, ns);
    } else {
        b = nsga_offspring(ga, &r->rng);
    }
    size_t L = b->n_genes, M = (size_t)b->n_obj;
    for (size_t k = 0; k < b->n_pending; k++) memcpy(r->ex + k * L, b->x + b->pending[k] * L, L * sizeof(double));
    int rc = r->p->evaluate(r->p, b->n_pending, r->ex, r->ef, r->ecv, (int)r->threads, &g_stop);
    if (rc) return rc;
    for (size_t k = 0; k < b->n_pending; k++) {
        memcpy(b->f + b->pending[k] * M, r->ef + k * M, M * sizeof(double));
        b->cv[b->pending[k]] = r->ecv[k];
    }
    nsga_select(ga);
    return ST_OK;
}

static int loop(run *r)
{
    struct sigaction sa, old_int, old_term;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    g_stop = 0;
    sigaction(SIGINT, &sa, &old_int);
    sigaction(SIGTERM, &sa, &old_term);
    clock_gettime(CLOCK_MONOTONIC, &r->t0);
    long gen0 = nsga_generation(r->ga), evals0 = nsga_evaluations(r->ga);
    int rc = ST_OK;
    nsga_stop why = NSGA_CONTINUE;
    double hv = NAN;
    for (;;) {
        r->prog.generation = nsga_generation(r->ga);
        r->prog.evaluations = nsga_evaluations(r->ga);
        r->prog.seconds = now_since(&r->t0);
        if (r->prog.generation > 0 && (why = nsga_term_test(&r->term, &r->prog)) != NSGA_CONTINUE) break;
        if (g_stop) {
            rc = ST_EINTR;
            break;
        }
        rc = one_generation(r);
        if (rc) break;
        double best;
        pop_stats(r, &hv, &best);
        nsga_progress_hv(&r->prog, nsga_generation(r->ga), hv, r->term.stall_tol);
        double session = now_since(&r->t0);
        if ((rc = arch_append(r)) || (rc = gens_append(r, hv, best, r->elapsed + session)) || (rc = write_front(r)) ||
            (rc = save_ckpt(r)))
            break;
        progress(r, hv, best, now_since(&r->t0), gen0, evals0); /* rates include the I/O */
    }
    if (r->live && !r->quiet) fputc('\n', stderr);
    sigaction(SIGINT, &old_int, NULL);
    sigaction(SIGTERM, &old_term, NULL);
    if (rc == ST_EINTR) {
        if (!r->quiet)
            fprintf(stderr, "approxmap: interrupted; state saved after generation %ld; continue with 'approxmap resume %s'\n",
                    nsga_generation(r->ga), r->dir);
    } else if (rc == ST_OK && !r->quiet) {
        double best;
        if (nsga_generation(r->ga) > 0) pop_stats(r, &hv, &best);
        fprintf(stderr, "approxmap: %s after generation %ld (%ld evaluations, %ld cache hits, hypervolume %.6f); front in '%s'\n",
                nsga_stop_str(why), nsga_generation(r->ga), nsga_evaluations(r->ga), nsga_cache_hits(r->ga), hv,
                r->p_front);
        if (r->p->stats) {
            char extra[200];
            r->p->stats(r->p, extra, sizeof extra);
            fprintf(stderr, "approxmap: %s\n", extra);
        }
    }
    return rc;
}

static void apply_session_opts(run *r, const run_opts *o)
{
    if (o->generations > 0) r->term.max_generations = o->generations;
    if (o->threads >= 0) r->threads = o->threads;
    if (o->time_limit >= 0) r->term.max_seconds = o->time_limit;
    r->quiet = o->quiet;
    r->live = o->live;
}

static int dir_has_run(const char *dir)
{
    static const char *const names[] = {"checkpoint", "archive", "front.csv", "generations.csv", "problem.yaml"};
    for (int i = 0; i < 5; i++) {
        char *p = xasprintf("%s/%s", dir, names[i]);
        int there = access(p, F_OK) == 0;
        free(p);
        if (there) return 1;
    }
    return 0;
}

/* mkdir -p: create `dir` and any missing parents (0 on success, -1 with errno set). */
static int mkdir_parents(const char *dir)
{
    char *p = xstrdup(dir);
    for (char *q = p + 1; *q; q++) {
        if (*q != '/') continue;
        *q = '\0';
        if (mkdir(p, 0777) != 0 && errno != EEXIST) {
            free(p);
            return -1;
        }
        *q = '/';
    }
    int rc = mkdir(p, 0777);
    free(p);
    return rc;
}

int run_search(const run_opts *o)
{
    run r;
    memset(&r, 0, sizeof r);
    run_paths(&r, o->dir);
    int rc = prob_load(&r.spec, o->problem_path);
    if (!rc) rc = prob_create(&r.spec, &r.p);
    if (rc) goto out;
    if (o->on_prob) o->on_prob(r.p, o->on_prob_arg);

    struct stat st;
    if (stat(o->dir, &st) == 0) {
        if (!S_ISDIR(st.st_mode)) {
            rc = msg_error(ST_EINVAL, "'%s' exists and is not a directory", o->dir);
            goto out;
        }
        if (dir_has_run(o->dir)) {
            if (!o->force) {
                rc = msg_error(ST_EINVAL, "'%s' already holds a run; resume it, or use --force to overwrite it", o->dir);
                goto out;
            }
            /* the checkpoint goes first, so an interrupted overwrite never pairs it with new files */
            unlink(r.p_ckpt);
            unlink(r.p_arch);
            unlink(r.p_gens);
            unlink(r.p_front);
        }
    } else if (mkdir_parents(o->dir) != 0) {
        rc = msg_error(ST_EIO, "cannot create run directory '%s': %s", o->dir, strerror(errno));
        goto out;
    }

    char *text;
    size_t len;
    if ((rc = afile_read_all(o->problem_path, &text, &len))) goto out;
    rc = afile_write_all(r.p_prob, text, len);
    free(text);
    if (rc) goto out;

    const prob_ga *g = &r.spec.ga;
    nsga_cfg c;
    nsga_cfg_defaults(&c);
    c.n_genes = r.p->n_genes;
    c.genes = r.p->genes;
    c.n_obj = r.p->n_obj;
    c.pop_size = (size_t)g->population;
    c.pc = g->pc;
    c.eta_c = g->eta_c;
    c.eta_m = g->eta_m;
    c.pm_real = g->pm_real;
    c.pm_int = g->pm_int;
    c.creep = g->creep;
    c.swap = g->swap;
    r.ga = nsga_alloc(&c);
    r.seed = o->has_seed ? o->seed : g->seed;
    rng_seed(&r.rng, r.seed, RNG_STREAM_GA);
    r.term.max_generations = g->generations;
    r.term.max_evaluations = g->evaluations;
    r.term.max_seconds = g->time_limit;
    r.term.stall_generations = g->stall_generations;
    r.term.stall_tol = g->stall_tol;
    r.threads = g->threads;
    apply_session_opts(&r, o);
    run_buffers(&r);

    unsigned char h[RUN_ARCHIVE_HEADER];
    arch_header(h, r.p->n_obj, nsga_key_bytes(r.ga), r.p->hash);
    if ((rc = afile_write_all(r.p_arch, h, sizeof h))) goto out;
    if ((rc = afile_write_all(r.p_gens, gens_header, sizeof gens_header - 1))) goto out;
    r.gens_bytes = sizeof gens_header - 1;
    clock_gettime(CLOCK_MONOTONIC, &r.t0);
    if ((rc = save_ckpt(&r))) goto out;
    r.arc_fd = open(r.p_arch, O_WRONLY);
    if (r.arc_fd < 0) {
        rc = msg_error(ST_EIO, "cannot open '%s': %s", r.p_arch, strerror(errno));
        goto out;
    }
    rc = loop(&r);
out:
    run_deinit(&r);
    return rc;
}

int run_resume(const run_opts *o)
{
    run r;
    memset(&r, 0, sizeof r);
    run_paths(&r, o->dir);
    struct stat st;
    int rc;
    if (stat(o->dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
        rc = msg_error(ST_EIO, "'%s' is not a run directory", o->dir);
        goto out;
    }
    if (access(r.p_ckpt, F_OK) != 0) {
        rc = msg_error(ST_EIO, "'%s' has no checkpoint; start the run again with 'approxmap search --force'", o->dir);
        goto out;
    }
    if ((rc = prob_load(&r.spec, r.p_prob)) || (rc = prob_create(&r.spec, &r.p))) goto out;
    if (o->on_prob) o->on_prob(r.p, o->on_prob_arg);
    if ((rc = load_ckpt(&r))) goto out;
    apply_session_opts(&r, o);
    run_buffers(&r);

    if ((rc = run_archive_load(r.p_arch, r.p->hash, nsga_archive(r.ga), r.arc_saved))) goto out;
    r.arc_fd = open(r.p_arch, O_WRONLY);
    if (r.arc_fd < 0 || ftruncate(r.arc_fd, (off_t)(RUN_ARCHIVE_HEADER + r.arc_saved * r.rec_bytes))) {
        rc = msg_error(ST_EIO, "cannot write '%s': %s", r.p_arch, strerror(errno));
        goto out;
    }
    if (stat(r.p_gens, &st) != 0 || (uint64_t)st.st_size < r.gens_bytes || truncate(r.p_gens, (off_t)r.gens_bytes)) {
        rc = msg_error(ST_EFORMAT, "'%s' is missing or shorter than the checkpoint records", r.p_gens);
        goto out;
    }
    rc = loop(&r);
out:
    run_deinit(&r);
    return rc;
}
