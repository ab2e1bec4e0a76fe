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
#include "rundir.h"
#include "status.h"

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
    rundir d;
    prob_spec spec;
    prob *p;
    nsga *ga;
    rundir_ckpt ck;      /* settings, session counters, RNG: what the checkpoint holds besides the GA */
    nsga_term term;
    nsga_progress prog;
    int arc_fd;
    double *ex, *ef, *ecv; /* contiguous pending genomes and their results */
    double *hv_pts, *hv_work;
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

static void run_init(run *r, const char *dir)
{
    memset(r, 0, sizeof *r);
    rundir_init(&r->d, dir);
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
    rundir_deinit(&r->d);
}

/* Buffers sized by the population, allocated once. */
static void run_buffers(run *r)
{
    size_t N = (size_t)nsga_config(r->ga)->ga.population, L = r->p->n_genes, M = (size_t)r->p->n_obj;
    r->ex = xmalloc(N * L * sizeof(double));
    r->ef = xmalloc(N * M * sizeof(double));
    r->ecv = xmalloc(N * sizeof(double));
    r->hv_pts = xmalloc(N * M * sizeof(double));
    r->hv_work = xmalloc(hv_work_size(N, M <= 3 ? (int)M : 3) * sizeof(double));
}

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

/* Write the checkpoint: seconds of earlier sessions plus this one's so far, the hypervolume progress. */
static int save_ckpt(run *r)
{
    rundir_ckpt c = r->ck;
    c.elapsed = r->ck.elapsed + now_since(&r->t0);
    c.hv_best = r->prog.hv_best;
    c.hv_best_gen = r->prog.hv_best_gen;
    return rundir_ckpt_write(r->d.checkpoint, r->p, &c, r->ga);
}

/* Per generation: the new archive records, the generations.csv line, front.csv, the checkpoint. */
static int save_generation(run *r, double hv, double best, double seconds)
{
    const archive *a = nsga_archive_const(r->ga);
    size_t n = archive_count(a);
    int rc = rundir_archive_append(r->arc_fd, r->d.archive, a, (size_t)r->ck.archive_records, n);
    if (rc) return rc;
    r->ck.archive_records = n;
    rundir_gen g = {nsga_generation(r->ga), nsga_evaluations(r->ga), nsga_cache_hits(r->ga), hv, best, seconds};
    if ((rc = rundir_gens_append(r->d.generations, &r->ck.generations_bytes, &g)) ||
        (rc = rundir_front_write(r->d.front, r->p, r->ga)))
        return rc;
    return save_ckpt(r);
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
        size_t ns = 0, N = (size_t)nsga_config(ga)->ga.population;
        if (r->p->seed_genomes) {
            int rc = r->p->seed_genomes(r->p, N, r->ex, &ns);
            if (rc) return rc;
        }
        /* the seeds are copied before ex is reused below */
        b = nsga_init(ga, &r->ck.rng, ns ? r->ex : NULL, ns);
    } else {
        b = nsga_offspring(ga, &r->ck.rng);
    }
    size_t L = b->n_genes, M = (size_t)b->n_obj;
    for (size_t k = 0; k < b->n_pending; k++) memcpy(r->ex + k * L, b->x + b->pending[k] * L, L * sizeof(double));
    int rc = r->p->evaluate(r->p, b->n_pending, r->ex, r->ef, r->ecv, (int)r->ck.ga.threads, &g_stop);
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
        if ((rc = save_generation(r, hv, best, r->ck.elapsed + session))) break;
        progress(r, hv, best, now_since(&r->t0), gen0, evals0); /* rates include the I/O */
    }
    if (r->live && !r->quiet) fputc('\n', stderr);
    sigaction(SIGINT, &old_int, NULL);
    sigaction(SIGTERM, &old_term, NULL);
    if (rc == ST_EINTR) {
        if (!r->quiet)
            fprintf(stderr, "approxmap: interrupted; state saved after generation %ld; continue with 'approxmap resume %s'\n",
                    nsga_generation(r->ga), r->d.dir);
    } else if (rc == ST_OK && !r->quiet) {
        double best;
        if (nsga_generation(r->ga) > 0) pop_stats(r, &hv, &best);
        fprintf(stderr, "approxmap: %s after generation %ld (%ld evaluations, %ld cache hits, hypervolume %.6f); front in '%s'\n",
                nsga_stop_str(why), nsga_generation(r->ga), nsga_evaluations(r->ga), nsga_cache_hits(r->ga), hv,
                r->d.front);
        if (r->p->stats) {
            char extra[200];
            r->p->stats(r->p, extra, sizeof extra);
            fprintf(stderr, "approxmap: %s\n", extra);
        }
    }
    return rc;
}

/* This session's options over the run's settings (search: the problem file's; resume: the checkpoint's). */
static void apply_session_opts(run *r, const run_opts *o)
{
    if (o->generations > 0) r->ck.ga.generations = o->generations;
    if (o->threads >= 0) r->ck.ga.threads = o->threads;
    if (o->time_limit >= 0) r->ck.ga.time_limit = o->time_limit;
    r->term = nsga_settings_term(&r->ck.ga);
    r->quiet = o->quiet;
    r->live = o->live;
}

int run_mkdir_parents(const char *dir)
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

/* Temp files of writes that a kill interrupted ("*.tmp.PID" of dead processes) go before a run reuses
 * its directory, so a finished run directory holds none. */
static void remove_stale(const char *dir, int quiet)
{
    char *first;
    int n = afile_remove_stale(dir, &first);
    if (n && !quiet)
        fprintf(stderr, "approxmap: removed %d stale temporary file%s of an interrupted write ('%s'%s)\n", n,
                n == 1 ? "" : "s", first, n > 1 ? ", ..." : "");
    free(first);
}

int run_search(const run_opts *o)
{
    run r;
    run_init(&r, o->dir);
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
        if (rundir_has_run(&r.d)) {
            if (!o->force) {
                rc = msg_error(ST_EINVAL, "'%s' already holds a run; resume it, or use --force to overwrite it", o->dir);
                goto out;
            }
            rundir_remove_outputs(&r.d);
        }
        remove_stale(o->dir, o->quiet);
    } else if (run_mkdir_parents(o->dir) != 0) {
        rc = msg_error(ST_EIO, "cannot create run directory '%s': %s", o->dir, strerror(errno));
        goto out;
    }

    char *text;
    size_t len;
    if ((rc = afile_read_all(o->problem_path, &text, &len))) goto out;
    rc = afile_write_all(r.d.problem, text, len);
    free(text);
    if (rc) goto out;

    r.ck.ga = r.spec.ga;
    if (o->has_seed) r.ck.ga.seed = o->seed;
    nsga_settings_resolve(&r.ck.ga, r.p->genes, r.p->n_genes);
    apply_session_opts(&r, o);
    nsga_cfg c = {r.p->n_genes, r.p->genes, r.p->n_obj, r.ck.ga, r.p->n_blocks, r.p->blocks};
    r.ga = nsga_alloc(&c);
    rng_seed(&r.ck.rng, r.ck.ga.seed, RNG_STREAM_GA);
    run_buffers(&r);

    if ((rc = rundir_archive_create(r.d.archive, r.p->n_obj, nsga_key_bytes(r.ga), r.p->hash)) ||
        (rc = rundir_gens_create(r.d.generations, &r.ck.generations_bytes)))
        goto out;
    clock_gettime(CLOCK_MONOTONIC, &r.t0);
    if ((rc = save_ckpt(&r))) goto out;
    r.arc_fd = open(r.d.archive, O_WRONLY);
    if (r.arc_fd < 0) {
        rc = msg_error(ST_EIO, "cannot open '%s': %s", r.d.archive, strerror(errno));
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
    run_init(&r, o->dir);
    struct stat st;
    int rc;
    if (stat(o->dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
        rc = msg_error(ST_EIO, "'%s' is not a run directory", o->dir);
        goto out;
    }
    if (access(r.d.checkpoint, F_OK) != 0 && access(r.d.greedy, F_OK) == 0) {
        rc = msg_error(ST_EINVAL, "'%s' holds an 'approxmap greedy' run (it has no checkpoint): run 'approxmap greedy "
                       "%s -o %s' again to continue it", o->dir, r.d.problem, o->dir);
        goto out;
    }
    if (access(r.d.checkpoint, F_OK) != 0) {
        rc = msg_error(ST_EIO, "'%s' has no checkpoint; start the run again with 'approxmap search --force'", o->dir);
        goto out;
    }
    remove_stale(o->dir, o->quiet);
    if ((rc = prob_load(&r.spec, r.d.problem)) || (rc = prob_create(&r.spec, &r.p))) goto out;
    if (o->on_prob) o->on_prob(r.p, o->on_prob_arg);
    if ((rc = rundir_ckpt_read(r.d.checkpoint, r.d.problem, r.p, &r.ck, &r.ga))) goto out;
    r.prog.hv_best = r.ck.hv_best;
    r.prog.hv_best_gen = r.ck.hv_best_gen;
    apply_session_opts(&r, o);
    run_buffers(&r);

    /* every check before the first change to the files: a refused resume leaves them as they were */
    if ((rc = rundir_resume_archive(&r.d, r.p->hash, r.ga, r.ck.archive_records))) goto out;
    if (stat(r.d.generations, &st) != 0 || (uint64_t)st.st_size < r.ck.generations_bytes) {
        rc = msg_error(ST_EFORMAT, "'%s' is missing or shorter than the checkpoint records", r.d.generations);
        goto out;
    }
    size_t rec = rundir_archive_record_bytes(r.p->n_obj, nsga_key_bytes(r.ga));
    r.arc_fd = open(r.d.archive, O_WRONLY);
    if (r.arc_fd < 0 || ftruncate(r.arc_fd, (off_t)(RUNDIR_ARCHIVE_HEADER + r.ck.archive_records * rec))) {
        rc = msg_error(ST_EIO, "cannot write '%s': %s", r.d.archive, strerror(errno));
        goto out;
    }
    if ((rc = rundir_gens_truncate(r.d.generations, r.ck.generations_bytes))) goto out;
    rc = loop(&r);
out:
    run_deinit(&r);
    return rc;
}
