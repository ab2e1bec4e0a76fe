/* Problems: what the run driver optimises, and the problem-file loader.
 *
 * A problem file is YAML (schema in problems/README.md). prob_load() parses it once with libyaml,
 * checks every key, type and range (errors "path:line:col: what is wrong", 1-based), and fills a plain
 * prob_spec; nothing downstream sees YAML. The `type:` key selects a prob_type from a registry
 * (prob.c); each type may accept keys of its own through parse_key (ZDT: `variables`; the CNN type:
 * its model/data/library sections), and builds the problem instance with create().
 *
 * A problem instance (prob) is a small vtable the driver (run.h) works through: genes and bounds,
 * objectives, constraints, a batch evaluate(), a hash that identifies the search space, and optional
 * extra front.csv columns and seed genomes. Adding a problem type never touches the driver.
 *
 * Invariants: objectives are minimised; evaluate() must be a pure function of each genome (no shared
 * random state), so results do not depend on batch order or thread count. */
#ifndef PROBLEMS_PROB_H
#define PROBLEMS_PROB_H

#include <signal.h>
#include <stdint.h>
#include <stdio.h>

#include <yaml.h>

#include "nsga.h"

enum { PROB_MAX_OBJ = 8 };

typedef struct prob_type prob_type;

/* A loaded problem file. Caller releases with prob_spec_deinit(). */
typedef struct prob_spec {
    char *path;               /* the file it was read from */
    const prob_type *type;    /* borrowed from the registry */
    nsga_settings ga;         /* the `ga:` section (defaults: nsga_settings_defaults) */
    int n_ref;                /* hypervolume reference point from `reference:` (0: the type's default) */
    double ref[PROB_MAX_OBJ];
    unsigned long ref_line, ref_col; /* where `reference:` was, for errors found by prob_create() */
    void *data;               /* type-specific settings, owned; freed by type->spec_free */
} prob_spec;

typedef struct prob prob;

struct prob {
    const char *name;        /* e.g. "zdt1" (borrowed) */
    size_t n_genes;
    nsga_gene *genes;        /* n_genes, owned */
    int n_obj;               /* 1..PROB_MAX_OBJ */
    int n_con;               /* constraints folded into one total violation */
    double ref[PROB_MAX_OBJ];/* hypervolume reference point */
    uint64_t hash;           /* identifies genes, objectives and the problem's definition */
    size_t n_blocks;         /* optional gene blocks for the GA's block operators (nsga_cfg): 0 = none */
    size_t *blocks;          /* n_blocks + 1 ascending gene offsets from 0 to n_genes, owned (or NULL) */
    /* Evaluate n genomes x (n x n_genes) into f (n x n_obj) and cv (n, >= 0, 0 = feasible), using up
     * to `threads` threads (0: OpenMP default). Return ST_OK, ST_EINTR when *stop became non-zero
     * (results then incomplete), or an error already reported. */
    int (*evaluate)(prob *p, size_t n, const double *x, double *f, double *cv, int threads,
                    const volatile sig_atomic_t *stop);
    /* Optional: write extra front.csv columns, each preceded by a comma: the header when x is NULL,
     * else the values for genome x. NULL: the driver writes the genes as x1..xn. */
    void (*front_extra)(const prob *p, FILE *fp, const double *x);
    /* Optional: up to `max` initial genomes (e.g. a coarser run's front) into x (max x n_genes);
     * *n gets how many. Return ST_OK or a reported error. */
    int (*seed_genomes)(prob *p, size_t max, double *x, size_t *n);
    /* Optional: a short text of the problem's own counters (e.g. activation-cache hit rate) for
     * progress lines; writes at most len bytes including the NUL. */
    void (*stats)(prob *p, char *buf, size_t len);
    void (*destroy)(prob *p); /* frees ctx (optional) */
    void *ctx;               /* type-specific state */
};

/* Cursor the loader hands to type parsers, for positional errors and node lookup. */
typedef struct prob_yaml {
    const char *path;    /* borrowed */
    yaml_document_t *doc;/* borrowed */
} prob_yaml;

struct prob_type {
    const char *name;    /* the `type:` value */
    /* Fill type defaults into spec (may allocate spec->data). NULL: nothing to do. */
    int (*spec_init)(prob_spec *spec);
    /* Consume a top-level key the loader does not know: return 1 if handled, 0 if unknown to this
     * type too (the loader reports "unknown key"), or an error status already reported. */
    int (*parse_key)(const prob_yaml *y, const char *key, yaml_node_t *key_node, yaml_node_t *value, prob_spec *spec);
    /* Cross-key checks after the whole file was read (NULL: none); errors are reported. */
    int (*validate)(const prob_yaml *y, yaml_node_t *root, prob_spec *spec);
    /* Build the instance; caller frees with prob_free(). */
    int (*create)(const prob_spec *spec, prob **out);
    void (*spec_free)(prob_spec *spec);
};

/* Registered types (prob_registry.c lists them; a new type adds its descriptor there). */
extern const prob_type prob_type_zdt1, prob_type_zdt2, prob_type_zdt3, prob_type_zdt4, prob_type_zdt6,
    prob_type_tnk, prob_type_constr;

/* Load and validate a problem file. On failure the error is reported, ST_EIO / ST_EPARSE returned
 * and *out is left untouched. */
int prob_load(prob_spec *out, const char *path);

/* Release what prob_load() allocated. */
void prob_spec_deinit(prob_spec *spec);

/* Build the problem instance a spec describes (type->create, then the spec's reference point).
 * Caller frees with prob_free(). */
int prob_create(const prob_spec *spec, prob **out);

/* Free an instance (destroy hook, genes, struct). prob_free(NULL) is a no-op. */
void prob_free(prob *p);

/* The comma-separated names of the registered types (static string). */
const char *prob_type_names(void);

/* The registered type named `name`, or NULL. */
const prob_type *prob_type_find(const char *name);

/* Allocate an instance with n_genes genes (all zeroed) for a type's create(). */
prob *prob_alloc(const char *name, size_t n_genes, int n_obj, int n_con);

/* Hash of the search-space definition: name, genes, objective and constraint counts, plus
 * `extra` bytes a type adds (its own definition). Stored in checkpoints and archives. */
uint64_t prob_hash(const prob *p, const void *extra, size_t extra_len);

/* Run eval_one over n genomes in parallel (static schedule: each genome's result depends only on
 * the genome). Helper for types whose evaluation is a pure per-genome function. */
int prob_eval_each(prob *p, size_t n, const double *x, double *f, double *cv, int threads,
                   const volatile sig_atomic_t *stop,
                   void (*eval_one)(const prob *p, const double *x, double *f, double *cv));

/* Parse a duration: "90" or "90s", "15m", "8h", "1d", "2h30m" (also fractional numbers).
 * Returns 0 and *seconds, or -1 if malformed. */
int prob_parse_duration(const char *text, double *seconds);

/* --- helpers for type parsers: each reports "path:line:col: ..." at the node and returns ST_EPARSE --- */

int prob_yaml_error(const prob_yaml *y, const yaml_node_t *node, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* An integer scalar in [lo, hi] named `key` in messages. */
int prob_yaml_int(const prob_yaml *y, const yaml_node_t *node, const char *key, long lo, long hi, long *out);
/* A real scalar in [lo, hi]. */
int prob_yaml_real(const prob_yaml *y, const yaml_node_t *node, const char *key, double lo, double hi, double *out);
/* Any scalar as a string (borrowed from the document). */
int prob_yaml_str(const prob_yaml *y, const yaml_node_t *node, const char *key, const char **out);
/* The node must be a mapping named `key`. */
int prob_yaml_mapping(const prob_yaml *y, const yaml_node_t *node, const char *key);

#endif
