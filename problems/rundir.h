/* The run directory: the one owner of every file format a search run leaves behind, each with its
 * writer and its one reader. The run driver (run.c) writes through it; resume, export, report and
 * seeding (prob_cnn.c) read through it.
 *
 *   problem.yaml     copy of the problem file (resume reloads it; its hash must match the checkpoint)
 *   checkpoint       complete state after the last finished generation (ckpt.h container, magic
 *                    "AMAPCKPT", version RUNDIR_CKPT_VERSION), replaced atomically every generation
 *   archive          every evaluation, append-only binary (layout below); resume truncates it to the
 *                    record count the checkpoint holds, so a crash between an append and the next
 *                    checkpoint is harmless
 *   front.csv        the final population's first front: id,f1..fM[,violation], then the genes
 *                    x1..xn (or the problem's own columns); rows sorted by f1, f2, ..., then id;
 *                    replaced atomically every generation
 *   generations.csv  generation,evaluations,cache_hits,hypervolume,best_f1,seconds (append-only;
 *                    truncated like the archive on resume; best_f1 = lowest f1 among feasible members)
 *   holdout.csv      export/report's cache of holdout figures (CNN runs; format at rundir_holdout_read)
 *   greedy.csv       `approxmap greedy` runs only (they have no checkpoint): the path's evaluated points
 *                    (format at rundir_greedy_write)
 *
 * Checkpoint payload (little-endian, ckpt.h fields): u64 problem hash, u64 genes, u32 objectives;
 * the GA settings (nsga_save_settings, pm_* resolved); the GA counters (nsga_save_counters); f64
 * seconds spent in finished sessions, f64 best hypervolume, i64 its generation, u64 archive records,
 * u64 generations.csv bytes, the PCG32 state (RNG_STATE_BYTES); the population (nsga_save_population);
 * then, only for runs that use block operators, their settings (nsga_save_block_settings).
 *
 * Archive layout (little-endian): header 32 bytes = magic "AMAPARCH", u32 version (1), u32 n_obj,
 * u64 key_bytes, u64 problem hash; then fixed-size records: u64 genome hash, u32 generation,
 * u32 CRC-32 of the rest of the record, f64 objectives[n_obj], f64 violation, packed genome
 * (nsga_pack) of key_bytes bytes.
 *
 * Readers refuse what does not fit, also when the checksums hold (a file of another run, crafted or
 * damaged contents): "PATH: what, naming the field" (ST_EFORMAT), never an assertion. */
#ifndef PROBLEMS_RUNDIR_H
#define PROBLEMS_RUNDIR_H

#include <stdint.h>
#include <stdio.h>

#include "archive.h"
#include "nsga.h"
#include "prob.h"
#include "rng.h"

enum { RUNDIR_CKPT_VERSION = 1, RUNDIR_ARCHIVE_VERSION = 1, RUNDIR_ARCHIVE_HEADER = 32 };

/* The paths of a run directory's files (owned strings). */
typedef struct rundir {
    char *dir, *checkpoint, *archive, *front, *generations, *problem, *holdout, *greedy;
} rundir;

void rundir_init(rundir *d, const char *dir);
void rundir_deinit(rundir *d);
/* 1 if any of the search's files (checkpoint, archive, front.csv, generations.csv, problem.yaml,
 * greedy.csv) exists. */
int rundir_has_run(const rundir *d);
/* Remove the search's output files, the checkpoint first (an interrupted removal never leaves a
 * checkpoint beside new files). */
void rundir_remove_outputs(const rundir *d);

/* --- archive ------------------------------------------------------------------------------------ */

size_t rundir_archive_record_bytes(int n_obj, size_t key_bytes);
/* Write a new archive holding only its header, atomically. */
int rundir_archive_create(const char *path, int n_obj, size_t key_bytes, uint64_t problem_hash);
/* Write records [first, end) of `a` at their place in the file open as fd, and fdatasync. */
int rundir_archive_append(int fd, const char *path, const archive *a, size_t first, size_t end);
/* Read the first `count` records of an archive file into `a` (UINT64_MAX: all complete records),
 * checking the header against `problem_hash` and a's shape, and every record's CRC. */
int rundir_archive_load(const char *path, uint64_t problem_hash, archive *a, uint64_t count);

/* --- checkpoint --------------------------------------------------------------------------------- */

/* The driver's fields of a checkpoint; the GA's own fields go through nsga_save_* / nsga_load_*. */
typedef struct rundir_ckpt {
    nsga_settings ga;           /* the run's settings (pm_* resolved; session limits included) */
    double elapsed;             /* seconds spent in earlier sessions */
    double hv_best;             /* nsga_progress */
    long hv_best_gen;
    uint64_t archive_records;   /* archive records the checkpoint covers (= evaluations) */
    uint64_t generations_bytes; /* size of generations.csv */
    rng_pcg32 rng;
} rundir_ckpt;

int rundir_ckpt_write(const char *path, const prob *p, const rundir_ckpt *c, const nsga *ga);
/* Read and check a checkpoint for problem p (problem_path names the problem file in messages): on
 * success *ga is a new GA (caller frees) holding the saved population and counters, and c the rest.
 * Its archive is not loaded: see rundir_resume_archive(). */
int rundir_ckpt_read(const char *path, const char *problem_path, const prob *p, rundir_ckpt *c, nsga **ga);

/* Load the archive records a checkpoint covers into ga's archive and check that they belong to the
 * same run as the checkpoint (every member of the population archived with its results). */
int rundir_resume_archive(const rundir *d, uint64_t problem_hash, nsga *ga, uint64_t records);

/* --- front.csv ---------------------------------------------------------------------------------- */

/* Write the first front of ga's population (the members' archive ids, objectives, violation when p
 * has constraints, genes or p->front_extra's columns), replaced atomically (not fsync'd: resume
 * rewrites it from the checkpoint). */
int rundir_front_write(const char *path, const prob *p, const nsga *ga);
/* The same for runs without a GA (approxmap greedy): the first front, under the GA's constrained
 * domination, of n evaluated rows (f: n x n_obj, cv: n, x: n x n_genes), whose archive ids are their
 * row indices. */
int rundir_front_write_rows(const char *path, const prob *p, size_t n, const double *f, const double *cv,
                            const double *x);

enum { RUNDIR_MAX_OBJ = 8 };

/* The rows of a front.csv written with gene columns. */
typedef struct rundir_front {
    size_t n_rows, n_genes;
    int n_obj;
    int has_violation;              /* the file has a violation column (else every row is feasible) */
    uint64_t *id;                   /* n_rows archive record ids */
    double *f[RUNDIR_MAX_OBJ];      /* n_obj columns of n_rows objective values */
    double *violation;              /* n_rows (0 when the file has no such column) */
    double *genes;                  /* n_rows x n_genes, row-major */
    uint64_t hash;                  /* FNV-1a 64 of the file's bytes */
} rundir_front;

/* Read `path` expecting id,f1..f<n_obj>[,violation],x1..x<n_genes>. Errors "path:line:col: what"
 * (ST_EIO / ST_EPARSE / ST_EFORMAT); on error *out is untouched. A header-only file gives no rows.
 * Caller frees with rundir_front_deinit(). */
int rundir_front_read(const char *path, int n_obj, size_t n_genes, rundir_front *out);
void rundir_front_deinit(rundir_front *f);

/* --- generations.csv ---------------------------------------------------------------------------- */

typedef struct rundir_gen {
    long generation, evaluations, cache_hits;
    double hv, best_f1, seconds;
} rundir_gen;

/* A new generations.csv holding its header (atomically); *bytes gets its size. */
int rundir_gens_create(const char *path, uint64_t *bytes);
/* Write one line at offset *bytes, fdatasync, and advance *bytes. */
int rundir_gens_append(const char *path, uint64_t *bytes, const rundir_gen *g);
/* Cut the file back to `bytes` (resume); an error when it is missing or shorter. */
int rundir_gens_truncate(const char *path, uint64_t bytes);
/* Rows of generations.csv (*rows NULL and *n = 0 when the file is absent). Caller frees *rows. */
int rundir_gens_read(const char *path, rundir_gen **rows, size_t *n);

/* --- greedy.csv: the path of `approxmap greedy` ------------------------------------------------ */

/* One evaluated point of the path: its index along the path (0 = the start map), the single-gene moves
 * made since the start, the estimate's energy and error, and the archive id and figures of the map. */
typedef struct rundir_greedy_row {
    long point, moves;
    double est_energy, est_error;
    uint64_t id;
    double energy, loss, violation;
} rundir_greedy_row;

/* Write greedy.csv atomically: point,moves,est_energy,est_error,id,energy,loss,violation. */
int rundir_greedy_write(const char *path, const rundir_greedy_row *rows, size_t n);

/* --- holdout.csv: export/report's cache of holdout figures -------------------------------------- */

/* What a cache was computed for; a cache whose tag differs is not used. */
typedef struct rundir_holdout_tag {
    uint64_t problem;      /* the problem's definition hash */
    int search_exact;      /* exact int8 hits on the search subset */
    uint64_t front;        /* hash of the front.csv it was written for (recorded, not compared) */
    const char *holdout;   /* the holdout data spec */
} rundir_holdout_tag;

typedef struct rundir_holdout {
    uint64_t key;          /* the map's gene key */
    uint64_t id;           /* archive id (recorded, not compared) */
    int32_t n, exact, correct;
    double loss, ci_lo, ci_hi;
    int32_t lost, gained;  /* exact right & map wrong, and the reverse (cache v3) */
    double p;              /* exact two-sided McNemar p (cache v3) */
} rundir_holdout;

/* Rows of the cache at `path` when it exists, carries a valid checksum and its tag matches `t`;
 * otherwise none (a missing or stale cache silently, a damaged one with a warning): the caller
 * measures again what it does not find. Caller frees *rows. */
void rundir_holdout_read(const char *path, const rundir_holdout_tag *t, rundir_holdout **rows, size_t *n);
/* Write the cache atomically: a tag line, the column names, the rows, and a CRC-32 line. */
int rundir_holdout_write(const char *path, const rundir_holdout_tag *t, const rundir_holdout *rows, size_t n);

#endif
