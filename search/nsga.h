/* NSGA-II (Deb, Pratap, Agarwal, Meyarivan, IEEE TEC 6(2), 2002) as a step API in GSL's
 * initialise / iterate / test shape. The caller owns the loop:
 *
 *     nsga *ga = nsga_alloc(&cfg);
 *     nsga_batch *b = nsga_init(ga, &rng, seeds, n_seeds);
 *     for (;;) {
 *         for (size_t k = 0; k < b->n_pending; k++) {       // any order, any thread
 *             size_t i = b->pending[k];
 *             evaluate(b->x + i * b->n_genes, b->f + i * b->n_obj, &b->cv[i]);
 *         }
 *         nsga_select(ga);                                    // survivors; archive updated
 *         ... log, checkpoint, nsga_term_test() ...
 *         b = nsga_offspring(ga, &rng);
 *     }
 *
 * Genes are real (SBX crossover, polynomial mutation with bounds, as in Deb's reference code) or
 * ordinal integers held as exact integral doubles (uniform crossover; mutation is a +-1 creep or a
 * random reset to another value). The caller may group genes into blocks (contiguous ranges, e.g. one
 * per layer of a network; search/ knows nothing of what they mean) and select block operators for the
 * integer genes: block crossover (each block whole from one parent, optionally plus a two-point
 * exchange inside one block) and run mutation (per block with a rate, a contiguous run of genes moved
 * one level up or down). Real genes always use SBX and polynomial mutation. Survivor selection: constrained non-dominated sorting (feasible
 * before infeasible; infeasible ordered by total violation), crowding distance, binary tournaments
 * on (rank, crowding). Every evaluated genome goes to the archive; an offspring equal to an archived
 * genome (or to an earlier sibling) is not handed out for evaluation and takes the stored results.
 *
 * Determinism: all randomness comes from the rng passed in, consumed in a fixed order that does not
 * depend on evaluation order or timing. Every per-generation buffer is allocated in nsga_alloc().
 * search/ does no I/O and never prints (checkpoint fields go through ckpt.h's in-memory writers). */
#ifndef SEARCH_NSGA_H
#define SEARCH_NSGA_H

#include <stddef.h>
#include <stdint.h>

#include "archive.h"
#include "ckpt.h"
#include "rng.h"

typedef enum nsga_gene_kind { NSGA_REAL = 0, NSGA_INT = 1 } nsga_gene_kind;

/* One gene: kind and inclusive bounds (integral for NSGA_INT, lo <= hi). */
typedef struct nsga_gene {
    nsga_gene_kind kind;
    double lo, hi;
} nsga_gene;

/* The GA settings: operators, termination, seed and evaluation threads, i.e. the problem file's `ga:`
 * section (problems/README.md) and what a checkpoint records. One struct, one defaults function
 * (nsga_settings_defaults); the loader, the run driver and checkpoints all use it. The GA itself reads
 * the operator fields; termination, seed and threads are for the caller's loop. */
typedef struct nsga_settings {
    long population;        /* even, 4..100000 [100] */
    long generations;       /* populations evaluated, the initial one included [100] (0: no limit) */
    long evaluations;       /* [0 = no limit] */
    double time_limit;      /* seconds per session [0 = none] */
    long stall_generations; /* [0 = off] stop when the hypervolume improves by <= stall_tol for this long */
    double stall_tol;       /* [0] */
    double pc;              /* crossover probability per parent pair, [0, 1] [0.9] */
    double eta_c;           /* SBX distribution index, >= 0 [20] */
    double swap;            /* uniform-crossover swap probability per integer gene, [0, 1] [0.5] */
    double eta_m;           /* polynomial mutation distribution index, >= 0 [20] */
    double pm_real;         /* mutation probability per real gene; < 0 means 1 / (number of real genes) [-1] */
    double pm_int;          /* mutation probability per integer gene; < 0 means 1 / (number of int genes) [-1] */
    double creep;           /* probability that an integer mutation is a +-1 creep, else a reset, [0, 1] [0.5] */
    int block_crossover;    /* integer genes: 0 uniform crossover (swap above), 1 block crossover [0] */
    double block_run;       /* with block crossover: probability of also exchanging a contiguous run inside
                             * one random block, [0, 1] [0] */
    double block_rate;      /* run mutation: probability per block, [0, 1] [0 = off]; when > 0, pm_int < 0
                             * resolves to 0 (no per-gene creep/reset unless int_rate is given) */
    uint64_t seed;          /* [1] */
    long threads;           /* evaluation threads, 0 = OpenMP's default [1] */
} nsga_settings;

/* The defaults in brackets above. */
void nsga_settings_defaults(nsga_settings *s);

/* Replace pm_real / pm_int < 0 by 1 / (number of real / integer genes), or 0 without such genes
 * (pm_int: 0 also when block_rate > 0). */
void nsga_settings_resolve(nsga_settings *s, const nsga_gene *genes, size_t n_genes);

typedef struct nsga_cfg {
    size_t n_genes;          /* >= 1 */
    const nsga_gene *genes;  /* n_genes entries; borrowed by nsga_alloc(), which copies them */
    int n_obj;               /* objectives, all minimised, >= 1 */
    nsga_settings ga;        /* the operator settings are used (population, pc, eta_c, swap, eta_m, pm_*, creep,
                              * block_*) */
    size_t n_blocks;         /* gene blocks for the block operators (0: one block of every gene) */
    const size_t *blocks;    /* n_blocks + 1 ascending offsets, blocks[0] = 0 < blocks[1] < ... =
                              * n_genes; borrowed by nsga_alloc(), which copies them */
} nsga_cfg;

/* A batch of individuals for the caller to evaluate (owned by the nsga). Rows are genomes. */
typedef struct nsga_batch {
    size_t n;               /* individuals */
    size_t n_genes;
    int n_obj;
    double *x;              /* n x n_genes, read-only for the caller */
    double *f;              /* n x n_obj objectives: the caller fills the pending rows */
    double *cv;             /* n total constraint violations, >= 0 (0 = feasible): pending rows */
    size_t n_pending;       /* how many rows need evaluating */
    const size_t *pending;  /* their row indices, ascending */
    long generation;        /* generation number these individuals belong to (1 = initial) */
} nsga_batch;

/* A read-only view of the current parent population. */
typedef struct nsga_pop {
    size_t n, n_genes;
    int n_obj;
    const double *x, *f, *cv; /* n x n_genes, n x n_obj, n */
    const int *rank;          /* 0 = first front */
    const double *crowd;      /* crowding distance (INFINITY at front extremes) */
} nsga_pop;

typedef struct nsga nsga;

/* Settings from nsga_settings_defaults(); n_genes, genes and n_obj are left 0/NULL for the caller. */
void nsga_cfg_defaults(nsga_cfg *cfg);

/* Allocate a GA for `cfg` (validated with ASSERT: the loader checks user input beforehand).
 * Caller frees with nsga_free(); nsga_free(NULL) is a no-op. */
nsga *nsga_alloc(const nsga_cfg *cfg);
void nsga_free(nsga *ga);

/* The configuration in force (pm_* resolved, nsga_settings_resolve; genes point into the nsga). */
const nsga_cfg *nsga_config(const nsga *ga);

/* Start: the first n_seeds rows of the batch are copies of `seeds` (n_seeds x n_genes, within
 * bounds, integer genes integral; n_seeds <= pop_size; NULL when 0), the rest uniform random.
 * Returns the batch to evaluate (owned by ga). Only valid on a fresh or restored-at-0 GA. */
nsga_batch *nsga_init(nsga *ga, rng_pcg32 *rng, const double *seeds, size_t n_seeds);

/* Make pop_size offspring from the current population by tournament, crossover and mutation.
 * Returns the batch to evaluate (owned by ga). Requires a population (after nsga_select). */
nsga_batch *nsga_offspring(nsga *ga, rng_pcg32 *rng);

/* Record the caller's results in the archive and keep the best pop_size of parents + batch.
 * Increments the generation. */
void nsga_select(nsga *ga);

nsga_pop nsga_population(const nsga *ga);
long nsga_generation(const nsga *ga);   /* completed generations: 0 before the first select */
long nsga_evaluations(const nsga *ga);  /* genomes handed out for evaluation so far */
long nsga_cache_hits(const nsga *ga);   /* offspring that took archived results instead */

/* The archive of every evaluation (owned by ga). Keys are nsga_pack()ed genomes. */
archive *nsga_archive(nsga *ga);
const archive *nsga_archive_const(const nsga *ga);

/* Packed genome: 8 bytes (IEEE bits, -0 made +0) per real gene; per integer gene x - lo in
 * 1, 2 or 4 little-endian bytes depending on the gene's range. */
size_t nsga_key_bytes(const nsga *ga);
void nsga_pack(const nsga *ga, const double *x, unsigned char *key);
void nsga_unpack(const nsga *ga, const unsigned char *key, double *x);

/* --- checkpoints (through ckpt.h's field writers; the caller owns the file and its other fields) ---
 * A checkpoint holds, in this order: the settings (nsga_save_settings), the GA's counters
 * (nsga_save_counters), the caller's own fields, then the population (nsga_save_population). The
 * loaders validate everything they read: on bad contents they return ST_EFORMAT and put a phrase
 * naming the field into err (e.g. "gene 3 of individual 7 is 999, outside 0..20"), which the caller
 * prefixes with the file name; search/ prints nothing. The archive is persisted by the caller. */

/* Fields: population (u64), pc, eta_c, eta_m, pm_real, pm_int, creep, swap (f64), generations,
 * evaluations (i64), time_limit (f64), stall_generations (i64), stall_tol (f64), seed (u64),
 * threads (i64). The block operators' settings are not among them (see nsga_save_block_settings). */
void nsga_save_settings(ckpt_writer *w, const nsga_settings *s);
/* Read and range-check settings as nsga_save_settings() wrote them (pm_* must be resolved); the
 * block operators' settings are set to their defaults (off). */
int nsga_load_settings(ckpt_reader *r, nsga_settings *s, char *err, size_t err_len);

/* 1 if any block operator is on (then nsga_save_block_settings has something to write). */
int nsga_block_settings_used(const nsga_settings *s);
/* Fields: a tag (u32 0x4b4c4231), block_crossover (u32), block_run, block_rate (f64) of the GA's
 * settings. The caller writes them after all its other fields and only when nsga_block_settings_used(),
 * so that files of runs without block operators keep their layout byte for byte. */
void nsga_save_block_settings(ckpt_writer *w, const nsga *ga);
/* Read and range-check what nsga_save_block_settings() wrote, into the GA's settings (a loaded GA
 * otherwise has them off). */
int nsga_load_block_settings(ckpt_reader *r, nsga *ga, char *err, size_t err_len);

/* generation, evaluations, cache_hits (i64). */
void nsga_save_counters(ckpt_writer *w, const nsga *ga);
/* Read the counters into a fresh GA (checked against the population by nsga_load_population). */
int nsga_load_counters(ckpt_reader *r, nsga *ga, char *err, size_t err_len);

/* u64 individuals (0 before the first selection, else population), then per individual: genes,
 * objectives, violation (f64), rank (u32), crowding (f64). */
void nsga_save_population(ckpt_writer *w, const nsga *ga);
/* Read the population into a GA whose counters were loaded; checks the count against the generation,
 * the counters against each other (evaluations + cache hits = generation x population), every gene
 * within its bounds (integral for integer genes), objectives not NaN, violations >= 0, ranks and
 * crowding distances in range. On error the GA is left without a population. */
int nsga_load_population(ckpt_reader *r, nsga *ga, char *err, size_t err_len);

/* Check that every member of the population is in the archive with the results it holds (true of
 * every GA this API produced; a population and an archive from different runs fail). ST_OK, or
 * ST_EFORMAT with a phrase in err. */
int nsga_check_archive(const nsga *ga, char *err, size_t err_len);

/* --- ranking primitives (used by nsga_select; public for tests and for problems) --- */

/* 1 if (fa, cva) constrained-dominates (fb, cvb): a feasible point beats an infeasible one; of two
 * infeasible points the smaller violation wins; of two feasible points Pareto dominance (<= in all
 * m objectives, < in one). */
int nsga_cdominates(const double *fa, double cva, const double *fb, double cvb, int m);

/* size_t workspace entries nsga_rank() needs for n points. */
size_t nsga_rank_work_size(size_t n);

/* Constrained non-dominated sorting of n points (f: n x m, cv: n): rank[i] = 0 for the first front.
 * O(n log n) for m = 2, O(m n^2) worst case otherwise. Returns the number of fronts. */
int nsga_rank(const double *f, const double *cv, size_t n, int m, int *rank, size_t *work);

/* Crowding distance within one front: members idx[0..k) of f (rows of m). Writes crowd[idx[j]]:
 * INFINITY for each objective's extremes (ties broken by lower index first), else the sum over
 * objectives of the normalised gap between neighbours. work: k size_t entries x 2. */
void nsga_crowding(const double *f, int m, const size_t *idx, size_t k, double *crowd, size_t *work);

/* --- termination --- */

typedef struct nsga_term {
    long max_generations;   /* stop when generation >= this (0: no limit) */
    long max_evaluations;   /* stop when evaluations >= this (0: no limit) */
    double max_seconds;     /* stop when seconds >= this (0: no limit) */
    long stall_generations; /* stop when the hypervolume has not improved by more than stall_tol */
    double stall_tol;       /*   for this many generations (0: no limit) */
} nsga_term;

typedef struct nsga_progress {
    long generation, evaluations;
    double seconds;   /* wall time of this session */
    double hv_best;   /* best hypervolume seen */
    long hv_best_gen; /* generation where hv_best last improved by more than the tolerance */
} nsga_progress;

typedef enum nsga_stop {
    NSGA_CONTINUE = 0,
    NSGA_STOP_GENERATIONS,
    NSGA_STOP_EVALUATIONS,
    NSGA_STOP_TIME,
    NSGA_STOP_STALL
} nsga_stop;

/* The termination limits of GA settings (generations, evaluations, time_limit, stall_*). */
nsga_term nsga_settings_term(const nsga_settings *s);

/* Record generation `gen`'s hypervolume in `p` (improvement means > hv_best + tol). */
void nsga_progress_hv(nsga_progress *p, long gen, double hv, double tol);

/* Which limit, if any, has been reached. */
nsga_stop nsga_term_test(const nsga_term *t, const nsga_progress *p);

/* A lowercase phrase for a stop reason, e.g. "generation limit reached". */
const char *nsga_stop_str(nsga_stop s);

#endif
