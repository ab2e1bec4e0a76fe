/* Reading finished (or running) CNN search runs back for `approxmap export` and `approxmap report`:
 * load a run directory (problem.yaml -> spec -> cnn_ctx), read its front.csv, choose rows, re-measure
 * a chosen map (search subset, holdout, energy per layer), cache holdout figures in RUN/holdout.csv,
 * and write a map as YAML (amap_read-able, figures in comments), JSON or a C header.
 *
 * Figures and their definitions:
 *  - energy: E(map) / E(all exact), E = sum over kernels of MACs x relative energy per multiplication,
 *    MACs counting every tap the hardware computes, padding included (energy.h);
 *  - loss: 100 x (exact correct - map correct) / images, in percentage points against the exact int8
 *    model on the same images (negative: the map is better);
 *  - holdout paired figures: lost (b) = images the exact int8 model gets right and the map wrong,
 *    gained (c) = the reverse (loss = 100 (b - c) / n); exact two-sided McNemar p and an exact 95 %
 *    confidence interval of the loss (Clopper-Pearson on b / (b + c), conditional on b + c), both from
 *    approx_paired_exact() (approx.h).
 *
 * Selection on the front (rows in front.csv order, i.e. by ascending energy; feasible = violation 0):
 *  - max-loss PP: the lowest-energy feasible row whose search loss is <= PP;
 *  - index I: data row I of front.csv, 0-based; id N: the row whose archive id is N;
 *  - knee: among feasible rows, objectives normalized to [0, 1] by their feasible minimum and maximum;
 *    A = the lowest-energy row, B = the lowest-loss row; the knee is the row farthest from the line AB
 *    on the side of the ideal point (signed distance, larger first; ties: lower energy). With fewer
 *    than three distinct points, or when no point bulges toward the ideal point, this is A.
 *
 * Invariants: nothing here prints to stdout; files are written atomically (afile.h); a run of another
 * type or with a front that does not fit the problem (gene count, gene range) is refused with a
 * message naming the file. */
#ifndef PROBLEMS_EXPORT_H
#define PROBLEMS_EXPORT_H

#include <stdint.h>
#include <stdio.h>

#include "prob.h"
#include "prob_cnn.h"

/* The rows of a front.csv. */
typedef struct export_front {
    size_t n_rows, n_genes;
    int has_violation;  /* the file has a violation column (else every row is feasible) */
    uint64_t *id;       /* n_rows archive record ids */
    double *f1, *f2;    /* n_rows: energy (relative), search loss (pp) */
    double *violation;  /* n_rows (0 when the file has no such column) */
    double *genes;      /* n_rows x n_genes, row-major */
    uint64_t hash;      /* FNV-1a 64 of the file's bytes */
} export_front;

/* Read `path` expecting `n_genes` gene columns x1..xn after id,f1,f2[,violation]. Errors reported as
 * "path:line:col: what" (ST_EIO / ST_EPARSE / ST_EFORMAT); on error *out is untouched. A header-only
 * file gives zero rows. Caller frees with export_front_deinit(). */
int export_front_read(const char *path, size_t n_genes, export_front *out);
void export_front_deinit(export_front *f);

/* Selections; each returns a row index or -1 when no row qualifies. */
long export_pick_knee(const export_front *f);
long export_pick_max_loss(const export_front *f, double max_loss_pp);
long export_pick_id(const export_front *f, uint64_t id);

/* FNV-1a 64 of the gene values of row r (the key of the holdout cache). */
uint64_t export_row_key(const export_front *f, size_t r);

/* What readers need of a run's problem (borrowed from the opened run; valid until export_run_free). */
typedef struct export_problem {
    const amul_lib *lib;
    int n_layers;
    const amap_layer *layers;
    const energy_model *em;     /* the per-layer energy model, or NULL: the library's relative energies */
    amap_granularity granularity;
    size_t genome_len;
    double max_loss_pp;
    int compensate;             /* -1 none, 1 bias, 0 bias-tensor */
    const char *holdout_spec;   /* NULL: the problem has no holdout */
    int n_allowed;
    const int *allowed;         /* gene value -> library index */
    int32_t search_n;           /* images of the search subset */
    int32_t exact_correct;      /* exact int8 hits on the search subset */
    uint64_t definition_hash;
} export_problem;

/* A run directory opened for reading. */
typedef struct export_run {
    char *dir;
    char *problem_path;     /* dir/problem.yaml */
    char *front_path;       /* dir/front.csv */
    prob_spec spec;
    const cnn_spec *cs;     /* spec.data */
    export_problem pb;      /* the problem, as readers see it */
    cnn_ctx *ctx;           /* the problem's binding (private to problems/) */
    export_front front;
    /* the holdout and its exact int8 baseline, loaded lazily by export_run_holdout() */
    int holdout_loaded;
    cifar_set holdout_set;
    approx_eval_data holdout;
    int threads;               /* evaluation threads (0: all cores) */
} export_run;

/* Open run directory `dir`: "DIR: not a run directory (no front.csv)" when front.csv is missing, the
 * same for problem.yaml; refuses problems that are not `type: cnn`; builds the problem's binding
 * (set-up, search subset and its baseline, one evaluation slot, no activation cache: every map here
 * is evaluated once) and reads the front. threads: for evaluations (0: all cores).
 * Caller frees with export_run_free(). */
int export_run_open(const char *dir, int threads, export_run **out);
void export_run_free(export_run *r);

/* Load the holdout set and its exact baseline (once). ST_EFORMAT (reported) when the problem has no
 * holdout. */
int export_run_holdout(export_run *r);

/* Measured figures of one map. */
typedef struct export_eval {
    long row;                      /* front.csv data row (0-based) */
    uint64_t id;                   /* archive id */
    double f1, f2;                 /* as stored in front.csv */
    double energy_rel;             /* recomputed (equals f1) */
    int n_layers;
    double *layer_rel;             /* n_layers: layer energy relative to its all-exact energy */
    double *layer_share;           /* n_layers: the layer's share of the exact energy (its MAC share) */
    int32_t search_n, search_exact, search_correct;
    double search_loss;            /* pp */
    int has_holdout;
    int32_t holdout_n, holdout_exact, holdout_correct;
    int32_t holdout_lost, holdout_gained; /* exact right & map wrong, and the reverse */
    double holdout_loss, ci_lo, ci_hi; /* pp; exact 95 % interval */
    double p_mcnemar;              /* exact two-sided McNemar p of the holdout */
    amap map;                      /* the row's map (with its bias_delta when the problem compensates) */
} export_eval;

void export_eval_init(export_eval *e, int n_layers);
void export_eval_deinit(export_eval *e);

/* Expand row `row` into out->map and measure it (the evaluator's figures, approx_eval.h): energy always, the search subset when
 * `search`, the holdout when `holdout` (loads it). Recomputed energy or search loss that differ from
 * front.csv's f1/f2 give a warning (the data, model or library changed since the search). Genes outside
 * the problem's range are an error (reported). */
int export_eval_row(export_run *r, long row, int search, int holdout, export_eval *out);

/* Holdout figures of a front row, as cached in RUN/holdout.csv. */
typedef struct export_holdout {
    uint64_t key;                  /* export_row_key() */
    int32_t n, exact, correct;
    int32_t lost, gained;          /* exact right & map wrong, and the reverse */
    double loss, ci_lo, ci_hi;     /* pp; exact 95 % interval */
    double p;                      /* exact two-sided McNemar p */
} export_holdout;

/* Holdout figures for every front row into out (n_rows entries): rows found in RUN/holdout.csv (same
 * problem hash and holdout spec, matching gene key) are reused, the rest are measured; the file is then
 * rewritten atomically for the current front (its first line records the front's hash). *measured gets
 * how many rows were evaluated. progress: called after each measured row (may be NULL). */
int export_holdout_all(export_run *r, export_holdout *out, size_t *measured,
                       void (*progress)(size_t done, size_t todo, void *ctx), void *progress_ctx);

/* --- writers: each writes the map of one export_eval (export_eval_row() fills it) ---------------- */

typedef enum export_format { EXPORT_YAML = 0, EXPORT_JSON = 1, EXPORT_C = 2 } export_format;

/* How the row was chosen, for the metadata ("knee", "max-loss 2", "index 3", ...). */
typedef struct export_meta {
    const char *how;
    const char *map_path;  /* the map's file for the `approxmap eval --map` hint (NULL: MAP.yaml) */
} export_meta;

/* YAML: the figures as comments, then the amap_write form (which amap_read and `approxmap eval --map`
 * read back). ST_OK or ST_EIO (reported). */
int export_write_yaml(FILE *fp, export_run *r, const export_eval *e, const export_meta *m);

/* JSON object: run, choice, figures, energy per layer and the map (per layer "multiplier" when the whole
 * layer uses one, else "kernels": cout lists of cin names). `indent` spaces before every line. */
int export_write_json(FILE *fp, export_run *r, const export_eval *e, const export_meta *m, int indent);

/* C header body for one map: symbols prefixed `prefix` (a C identifier). The caller writes the guard
 * and export_write_c_types() once. */
void export_write_c_types(FILE *fp, export_run *r);
int export_write_c_map(FILE *fp, export_run *r, const export_eval *e, const export_meta *m, const char *prefix);

#endif
