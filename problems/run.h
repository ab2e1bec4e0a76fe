/* The run driver: `approxmap search` and `approxmap resume`. It owns the loop around the NSGA-II
 * step API, the run directory, logging, checkpoints and signals; problems plug in through prob.h.
 *
 * Run directory (docs/design.md, "Run directory"):
 *   problem.yaml     copy of the problem file (resume reloads it; its hash must match the checkpoint)
 *   checkpoint       complete state after the last finished generation (ckpt.h format, magic
 *                    "AMAPCKPT", version RUN_CKPT_VERSION), replaced atomically every generation
 *   archive          every evaluation, append-only binary (layout below); resume truncates it to the
 *                    entry count the checkpoint recorded, so a crash between an append and the next
 *                    checkpoint is harmless
 *   front.csv        the final population's first front: id,f1..fM[,violation], then the genes
 *                    x1..xn (or the problem's own columns); rows sorted by f1, f2, ...; replaced
 *                    atomically every generation
 *   generations.csv  generation,evaluations,cache_hits,hypervolume,best_f1,seconds (append-only;
 *                    truncated like the archive on resume; best_f1 = lowest f1 among feasible members)
 *
 * Archive layout (little-endian): header 32 bytes = magic "AMAPARCH", u32 version (1), u32 n_obj,
 * u64 key_bytes, u64 problem hash; then fixed-size records: u64 genome hash, u32 generation,
 * u32 CRC-32 of the rest of the record, f64 objectives[n_obj], f64 violation, packed genome
 * (nsga_pack) of key_bytes bytes.
 *
 * Determinism: a run is a function of the problem, its settings and the seed. N generations in one
 * go, or interrupted anywhere (SIGINT, SIGTERM, SIGKILL) and resumed, or with any thread count, give
 * byte-identical archive and front.csv (generations.csv differs only in its time column). */
#ifndef PROBLEMS_RUN_H
#define PROBLEMS_RUN_H

#include <stdint.h>

#include "archive.h"

struct prob;

enum { RUN_CKPT_VERSION = 1, RUN_ARCHIVE_VERSION = 1, RUN_ARCHIVE_HEADER = 32 };

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

/* Continue the run in o->dir. Refuses a checkpoint of another problem, version or a corrupt one. */
int run_resume(const run_opts *o);

/* Read the first `count` records of an archive file into `a` (UINT64_MAX: all complete records),
 * checking the header against `problem_hash` and `a`'s shape and every record's CRC. Used by resume
 * and by readers of finished runs (export, report). */
int run_archive_load(const char *path, uint64_t problem_hash, archive *a, uint64_t count);

#endif
