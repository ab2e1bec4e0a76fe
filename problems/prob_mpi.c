/* Distributed evaluation over MPI: see prob_mpi.h.
 *
 * MPI state is process-wide (MPI_COMM_WORLD), so this module keeps one file-scope state record; it is
 * touched only from the main thread (MPI_THREAD_FUNNELED), never inside OpenMP regions.
 *
 * Waiting is done by polling (MPI_Iprobe, then a 100 us sleep) rather than blocking receives, for two
 * reasons: a blocking receive cannot notice SIGINT/SIGTERM or a timeout, and Open MPI's blocking calls
 * spin, which on an oversubscribed machine takes a core from the ranks that compute. */
#include "config.h"

#include "prob_mpi.h"

#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "msg.h"
#include "status.h"
#include "util.h"

#ifdef HAVE_MPI
#include <mpi.h>
#endif

enum { TAG_READY = 1, TAG_WORK = 2, TAG_RESULT = 3, TAG_STOP = 4, TAG_STATS = 5 };

/* Genomes per message at most: a worker's evaluation threads, capped (as search --threads is). */
enum { MAX_WORKER_THREADS = 1024 };

static double mono_now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static void nap(void)
{
    struct timespec t = {0, 100000};
    nanosleep(&t, NULL);
}

typedef struct worker {
    int ready;         /* its READY message was received */
    int threads;       /* genomes per message */
    size_t cursor;     /* position in the sorted order where it continues */
    size_t *inflight;  /* indices into the batch of the genomes it holds */
    size_t n_inflight;
    double since;      /* when it was sent its genomes */
} worker;

static struct {
    int active;        /* MPI initialised by us */
    int rank, size;
    double timeout;
    int ready;         /* workers' READY received */
    int wrapped;
    worker *w;         /* size entries (0 unused) */
    pmpi_stats st;
    /* the wrapped problem */
    int (*inner)(prob *p, size_t n, const double *x, double *f, double *cv, int threads,
                 const volatile sig_atomic_t *stop);
} g = {0, 0, 1, 1800.0, 0, 0, NULL, {0, 0, 0, 0}, NULL};

int pmpi_rank(void) { return g.rank; }
int pmpi_size(void) { return g.size; }
void pmpi_set_timeout(double seconds) { g.timeout = seconds; }
void pmpi_get_stats(pmpi_stats *out) { *out = g.st; }

/* Launched by an MPI launcher? (Open MPI's mpirun, or a PMIx/PMI launcher such as srun --mpi=pmix.) */
static int launched_by_mpi(void)
{
    return getenv("OMPI_COMM_WORLD_SIZE") || getenv("PMIX_RANK") || getenv("PMI_SIZE");
}

#ifndef HAVE_MPI

int pmpi_start(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    const char *n = getenv("OMPI_COMM_WORLD_SIZE");
    if (n && atoi(n) > 1)
        return msg_error(ST_EINVAL, "started by mpirun with %s ranks, but this approxmap was built without MPI "
                                    "(configure --with-mpi, Debian: libopenmpi-dev)", n);
    return ST_OK;
}

void pmpi_wrap(prob *p, void *arg)
{
    (void)p;
    (void)arg;
}

int pmpi_worker(const char *problem_path, long threads)
{
    (void)problem_path;
    (void)threads;
    return 1;
}

void pmpi_finish(int quiet) { (void)quiet; }

#else

int pmpi_start(int *argc, char ***argv)
{
    if (!launched_by_mpi()) return ST_OK;
    int provided;
    if (MPI_Init_thread(argc, argv, MPI_THREAD_FUNNELED, &provided) != MPI_SUCCESS)
        return msg_error(ST_EINVAL, "cannot initialise MPI");
    MPI_Comm_rank(MPI_COMM_WORLD, &g.rank);
    MPI_Comm_size(MPI_COMM_WORLD, &g.size);
    g.active = 1;
    if (g.rank == 0 && g.size > 1) {
        g.w = xcalloc((size_t)g.size, sizeof *g.w);
        for (int r = 1; r < g.size; r++) g.w[r].inflight = xmalloc(MAX_WORKER_THREADS * sizeof(size_t));
    }
    return ST_OK;
}

/* Wait for one message with `tag` from `src` (MPI_ANY_SOURCE allowed) by polling; returns 1 with
 * *status filled, 0 when *stop became set first, -1 when `deadline` (> 0, monotonic seconds) passed. */
static int poll_msg(int src, int tag, MPI_Status *status, const volatile sig_atomic_t *stop, double deadline)
{
    for (;;) {
        int flag = 0;
        MPI_Iprobe(src, tag, MPI_COMM_WORLD, &flag, status);
        if (flag) return 1;
        if (stop && *stop) return 0;
        if (deadline > 0 && mono_now() > deadline) return -1;
        nap();
    }
}

static void die_timeout(int rank, double waited)
{
    msg_error(ST_EIO, "worker rank %d has not answered for %.0f s (--worker-timeout); ending the job, the last "
                      "checkpoint is intact: continue with 'approxmap resume'", rank, waited);
    fflush(stderr);
    MPI_Abort(MPI_COMM_WORLD, 1);
}

/* Rank 0: the READY message of every worker (their thread counts). */
static int gather_ready(const volatile sig_atomic_t *stop)
{
    int failed = 0;
    double t0 = mono_now();
    for (int k = 1; k < g.size; k++) {
        MPI_Status s;
        int r = poll_msg(MPI_ANY_SOURCE, TAG_READY, &s, stop, g.timeout > 0 ? t0 + g.timeout : 0);
        if (r == 0) return ST_EINTR;
        if (r < 0) {
            int late = 1;
            while (late < g.size - 1 && g.w[late].ready) late++;
            die_timeout(late, g.timeout);
        }
        int msg[2];
        MPI_Recv(msg, 2, MPI_INT, s.MPI_SOURCE, TAG_READY, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
        g.w[s.MPI_SOURCE].threads = msg[1] < 1 ? 1 : msg[1] > MAX_WORKER_THREADS ? MAX_WORKER_THREADS : msg[1];
        g.w[s.MPI_SOURCE].ready = 1;
        if (msg[0] != ST_OK) failed = s.MPI_SOURCE;
    }
    g.ready = 1;
    if (failed) return msg_error(ST_EINVAL, "worker rank %d could not load the problem (its message is above)", failed);
    return ST_OK;
}

typedef struct sort_ctx {
    const double *x;
    size_t L;
} sort_ctx;

static sort_ctx g_sort; /* qsort has no context argument; set just before the call (main thread only) */

static int cmp_genome(const void *a, const void *b)
{
    size_t i = *(const size_t *)a, j = *(const size_t *)b;
    const double *u = g_sort.x + i * g_sort.L, *v = g_sort.x + j * g_sort.L;
    for (size_t k = 0; k < g_sort.L; k++)
        if (u[k] != v[k]) return u[k] < v[k] ? -1 : 1;
    return i < j ? -1 : i > j;
}

/* Give worker w up to its thread count of unassigned genomes, continuing from its cursor in `order`. */
static size_t take(worker *w, const size_t *order, size_t n, unsigned char *assigned, size_t *left)
{
    size_t k = 0;
    while (k < (size_t)w->threads && *left > 0) {
        while (assigned[order[w->cursor]]) w->cursor = (w->cursor + 1) % n;
        size_t i = order[w->cursor];
        assigned[i] = 1;
        (*left)--;
        w->inflight[k++] = i;
        w->cursor = (w->cursor + 1) % n;
    }
    w->n_inflight = k;
    return k;
}

static int mpi_evaluate(prob *p, size_t n, const double *x, double *f, double *cv, int threads,
                        const volatile sig_atomic_t *stop)
{
    (void)threads;
    if (n == 0) return ST_OK;
    double t_in = mono_now(), waited = 0;
    int rc;
    if (!g.ready && (rc = gather_ready(stop))) return rc;
    const size_t L = p->n_genes, M = (size_t)p->n_obj;
    size_t *order = xmalloc(n * sizeof *order);
    unsigned char *assigned = xcalloc(n, 1);
    for (size_t i = 0; i < n; i++) order[i] = i;
    g_sort.x = x;
    g_sort.L = L;
    qsort(order, n, sizeof *order, cmp_genome);
    int W = g.size - 1, maxt = 1;
    for (int r = 1; r <= W; r++) {
        g.w[r].cursor = (size_t)(r - 1) * n / (size_t)W;
        g.w[r].n_inflight = 0;
        if (g.w[r].threads > maxt) maxt = g.w[r].threads;
    }
    double *buf = xmalloc((size_t)maxt * (L > M + 1 ? L : M + 1) * sizeof *buf + sizeof *buf);
    size_t left = n, done = 0;
    int busy = 0, interrupted = 0;
    double t_int = 0;
    rc = ST_OK;
    while (done < n) {
        /* hand work to every idle worker (none once stopping: only drain what is out) */
        for (int r = 1; r <= W && !interrupted && rc == ST_OK; r++) {
            worker *w = &g.w[r];
            if (w->n_inflight || left == 0) continue;
            size_t k = take(w, order, n, assigned, &left);
            for (size_t j = 0; j < k; j++) memcpy(buf + j * L, x + w->inflight[j] * L, L * sizeof *buf);
            MPI_Send(buf, (int)(k * L), MPI_DOUBLE, r, TAG_WORK, MPI_COMM_WORLD);
            w->since = mono_now();
            busy++;
            g.st.messages++;
            g.st.genomes += (double)k;
        }
        if (busy == 0) break; /* stopping, nothing out */
        /* wait for the first answer */
        double t_w = mono_now();
        MPI_Status s;
        int got;
        for (;;) {
            got = poll_msg(MPI_ANY_SOURCE, TAG_RESULT, &s, NULL, t_w + 0.05);
            if (got == 1) break;
            double now = mono_now();
            if (*stop && !interrupted) interrupted = 1;
            if (interrupted && t_int == 0) t_int = now;
            if (interrupted && now - t_int > 10) break; /* stopping: do not wait long for genomes still out */
            for (int r = 1; r <= W && g.timeout > 0; r++)
                if (g.w[r].n_inflight && now - g.w[r].since > g.timeout) die_timeout(r, now - g.w[r].since);
            t_w = now;
        }
        waited += mono_now() - t_w;
        if (got != 1) break;
        worker *w = &g.w[s.MPI_SOURCE];
        int count;
        MPI_Get_count(&s, MPI_DOUBLE, &count);
        ASSERT(w->n_inflight > 0 && (size_t)count == 1 + w->n_inflight * (M + 1));
        MPI_Recv(buf, count, MPI_DOUBLE, s.MPI_SOURCE, TAG_RESULT, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
        int st = (int)buf[0];
        if (st == ST_EINTR) interrupted = 1;
        else if (st != ST_OK && rc == ST_OK)
            rc = msg_error(st, "worker rank %d failed to evaluate a genome (its message is above)", s.MPI_SOURCE);
        for (size_t j = 0; j < w->n_inflight; j++) {
            size_t i = w->inflight[j];
            memcpy(f + i * M, buf + 1 + j * (M + 1), M * sizeof *f);
            cv[i] = buf[1 + j * (M + 1) + M];
        }
        done += w->n_inflight;
        w->n_inflight = 0;
        busy--;
        if (*stop) interrupted = 1;
    }
    free(buf);
    free(assigned);
    free(order);
    g.st.wait_seconds += waited;
    g.st.busy_seconds += mono_now() - t_in - waited;
    if (rc) return rc;
    return interrupted || done < n ? ST_EINTR : ST_OK;
}

void pmpi_wrap(prob *p, void *arg)
{
    (void)arg;
    if (!g.active || g.size < 2 || g.rank != 0) return;
    g.inner = p->evaluate;
    p->evaluate = mpi_evaluate;
    p->stats = NULL; /* the workers' counters are printed by pmpi_finish() */
    g.wrapped = 1;
    memset(&g.st, 0, sizeof g.st);
}

static volatile sig_atomic_t g_wstop;

static void on_worker_signal(int sig)
{
    (void)sig;
    g_wstop = 1;
}

int pmpi_worker(const char *problem_path, long threads)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_worker_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);

    prob_spec spec;
    prob *p = NULL;
    int st = prob_load(&spec, problem_path);
    int loaded = st == ST_OK;
    if (loaded) st = prob_create(&spec, &p);
    int nt = (int)(threads >= 0 ? threads : loaded ? spec.ga.threads : 1);
    nt = util_threads(nt, MAX_WORKER_THREADS);
    int hello[2] = {st, nt};
    MPI_Send(hello, 2, MPI_INT, 0, TAG_READY, MPI_COMM_WORLD);

    size_t L = p ? p->n_genes : 0, M = p ? (size_t)p->n_obj : 0;
    double *x = NULL, *out = NULL, *f = NULL, *cv = NULL;
    if (p) {
        x = xmalloc((size_t)nt * L * sizeof *x);
        out = xmalloc((1 + (size_t)nt * (M + 1)) * sizeof *out);
        f = xmalloc((size_t)nt * M * sizeof *f);
        cv = xmalloc((size_t)nt * sizeof *cv);
    }
    int code = st == ST_OK ? 0 : 1;
    for (;;) {
        MPI_Status s;
        poll_msg(0, MPI_ANY_TAG, &s, NULL, 0);
        if (s.MPI_TAG == TAG_STOP) {
            MPI_Recv(NULL, 0, MPI_BYTE, 0, TAG_STOP, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
            char text[256] = "";
            if (p && p->stats) p->stats(p, text, sizeof text);
            MPI_Send(text, (int)strlen(text) + 1, MPI_CHAR, 0, TAG_STATS, MPI_COMM_WORLD);
            break;
        }
        ASSERT(s.MPI_TAG == TAG_WORK && p);
        int count;
        MPI_Get_count(&s, MPI_DOUBLE, &count);
        size_t k = (size_t)count / L;
        ASSERT(k >= 1 && k <= (size_t)nt && k * L == (size_t)count);
        MPI_Recv(x, count, MPI_DOUBLE, 0, TAG_WORK, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
        int rc = g_wstop ? ST_EINTR : p->evaluate(p, k, x, f, cv, nt, &g_wstop);
        out[0] = (double)rc;
        for (size_t j = 0; j < k; j++) {
            memcpy(out + 1 + j * (M + 1), f + j * M, M * sizeof *out);
            out[1 + j * (M + 1) + M] = cv[j];
        }
        MPI_Send(out, (int)(1 + k * (M + 1)), MPI_DOUBLE, 0, TAG_RESULT, MPI_COMM_WORLD);
    }
    free(x);
    free(out);
    free(f);
    free(cv);
    prob_free(p);
    if (loaded) prob_spec_deinit(&spec);
    MPI_Finalize();
    g.active = 0;
    return g_wstop ? 130 : code;
}

void pmpi_finish(int quiet)
{
    if (!g.active) return;
    if (g.rank == 0) {
        /* A worker that never reported READY (rank 0 failed before evaluating) is still told to stop;
         * its READY message is consumed first so that the exchange stays in order. */
        for (int r = 1; r < g.size; r++) {
            if (!g.w[r].ready) {
                MPI_Status s;
                poll_msg(r, TAG_READY, &s, NULL, 0);
                int msg[2];
                MPI_Recv(msg, 2, MPI_INT, r, TAG_READY, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
            }
            MPI_Send(NULL, 0, MPI_BYTE, r, TAG_STOP, MPI_COMM_WORLD);
        }
        for (int r = 1; r < g.size; r++) {
            MPI_Status s;
            poll_msg(r, TAG_STATS, &s, NULL, 0);
            int count;
            MPI_Get_count(&s, MPI_CHAR, &count);
            char *text = xmalloc((size_t)count + 1);
            MPI_Recv(text, count, MPI_CHAR, r, TAG_STATS, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
            text[count] = '\0';
            if (!quiet && text[0]) fprintf(stderr, "approxmap: rank %d: %s\n", r, text);
            free(text);
        }
        if (!quiet && g.wrapped && g.st.genomes > 0)
            fprintf(stderr, "approxmap: %d workers; %.0f genomes in %.0f messages; master %.1f us per genome "
                            "outside waiting\n",
                    g.size - 1, g.st.genomes, g.st.messages, 1e6 * g.st.busy_seconds / g.st.genomes);
        if (g.w)
            for (int r = 1; r < g.size; r++) free(g.w[r].inflight);
        free(g.w);
        g.w = NULL;
    }
    MPI_Finalize();
    g.active = 0;
}

#endif
