/* The run driver: `approxmap search` and `approxmap resume`. It owns the loop around the NSGA-II
 * step API, the run directory, logging, checkpoints and signals; problems plug in through prob.h.
 *
 * The run directory's files and their formats: rundir.h (problem.yaml, checkpoint, archive,
 * front.csv, generations.csv, holdout.csv) and docs/design.md, "Run directory".
 *
 * Determinism: a run is a function of the problem, its settings and the seed. N generations in one
 * go, or interrupted anywhere (SIGINT, SIGTERM, SIGKILL) and resumed, or with any thread count, give
 * byte-identical archive and front.csv (generations.csv differs only in its time column). */
#ifndef PROBLEMS_RUN_H
#define PROBLEMS_RUN_H

#include <stdint.h>

struct prob;

typedef struct run_opts {
    const char *problem_path; /* search: the problem file; resume: NULL */
    const char *dir;          /* run directory */
    int has_seed;             /* override the file's seed (search only) */
    uint64_t seed;
    long generations;         /* > 0: target generation count (resume: extends or shortens the run) */
    long threads;             /* >= 0: evaluation threads (0 = OpenMP default); < 0: keep */
    double time_limit;        /* >= 0: seconds for this session (0 = none); < 0: keep the file's */
    int force;                /* search: overwrite an existing run's files */
    int quiet;                /* no progress output */
    int live;                 /* progress as one live line (a terminal) instead of a line per generation */
    /* Called once with the problem instance right after it is built (NULL: none); distributed
     * evaluation (prob_mpi.h) routes p->evaluate to its workers here. */
    void (*on_prob)(struct prob *p, void *arg);
    void *on_prob_arg;
} run_opts;

/* Defaults: everything "keep", not forced, not quiet, log lines. */
void run_opts_init(run_opts *o);

/* Create the run directory and search until a termination criterion. Returns ST_OK, ST_EINTR
 * (SIGINT/SIGTERM: the checkpoint holds the last finished generation), or a reported error. */
int run_search(const run_opts *o);

/* mkdir -p: create `dir` and any missing parents (0 on success, -1 with errno set). */
int run_mkdir_parents(const char *dir);

/* Continue the run in o->dir. Refuses a checkpoint of another problem, version or a corrupt one. */
int run_resume(const run_opts *o);

#endif
