/* Approximate 8x8 signed multipliers: ROUP closed form and its Booth partial-product model, 256x256
 * product tables (from a binary file or a user's C function), error metrics, and multiplier libraries
 * loaded from YAML (problems/multipliers/README.md documents the schema).
 *
 * Every multiplier, whatever its family, carries a complete product table lut[(uint8_t)a * 256 +
 * (uint8_t)w] (int16, a = activation, w = weight), built once at load time: the table is the definition
 * every fast path must reproduce. Multipliers whose product is f(a) * g(w) (exact, ROUP, and any table
 * that equals a * w) also carry the two transforms (int16 in -128..128, f(0) = 0), which is what the
 * separable engine path uses. Tables are never factorised automatically.
 *
 * ROUP (Leon et al.; docs/design.md, "ROUP multipliers"): the weight is radix-4 Booth encoded and its k
 * least-significant partial products are dropped; the activation is rounded at bit m. Closed form
 *   M(a, w) = R_m(a) * R_2k(w),  R_0(x) = x,  R_t(x) = ((x >> t) + ((x >> (t-1)) & 1)) << t
 * (arithmetic shift), k in 0..2, m in 0..6. The Booth digits of w, d_j = -2 b(2j+1) + b(2j) + b(2j-1),
 * satisfy w = sum_j d_j 4^j and R_2k(w) = sum_{j>=k} d_j 4^j, which is why both models agree
 * (tests/test_amul.c checks it on all 65,536 pairs for all 21 configurations). */
#ifndef SRC_AMUL_H
#define SRC_AMUL_H

#include <stddef.h>
#include <stdint.h>

enum { AMUL_LUT_SIZE = 65536, AMUL_ROUP_KMAX = 2, AMUL_ROUP_MMAX = 6 };

typedef enum amul_family {
    AMUL_EXACT = 0,  /* a * w */
    AMUL_ROUP = 1,   /* R_m(a) * R_2k(w) */
    AMUL_TABLE = 2,  /* 256x256 table from a binary file */
    AMUL_CFUNC = 3   /* 256x256 table built from int32_t fn(int8_t a, int8_t w) in a shared object */
} amul_family;

/* Energy per multiplication and where the figure comes from. Unknown numbers are NAN; absent
 * provenance fields are NULL. All strings are owned by the multiplier. */
typedef struct amul_energy {
    double rel;         /* relative to the exact multiplier measured the same way (exact = 1) */
    double fj;          /* absolute, femtojoules per multiplication */
    char *source;       /* who measured it, and whether it is published */
    char *tool;         /* synthesis / power tool and version */
    char *cell_library; /* standard-cell library */
    char *corner;       /* process/voltage/temperature corner */
    char *stream;       /* operand stream used for switching activity */
} amul_energy;

/* Exhaustive error metrics over all 65,536 operand pairs, error e = M(a, w) - a * w. */
typedef struct amul_metrics {
    double mean_err;   /* mean of e (bias) */
    double med;        /* mean |e| */
    double nmed;       /* med / 2^14 (the largest |a * w|) */
    double mred_pct;   /* mean of |e| / |a w| over the pairs with a w != 0, in percent */
    int32_t wce;       /* max |e| */
    double err_prob;   /* fraction of pairs with e != 0 */
} amul_metrics;

typedef struct amul {
    char *name;
    amul_family family;
    int k, m;          /* ROUP parameters (0 for other families) */
    char *file;        /* TABLE: resolved table path; CFUNC: resolved shared object path; else NULL */
    char *symbol;      /* CFUNC: function name; else NULL */
    int16_t *lut;      /* AMUL_LUT_SIZE entries, lut[(uint8_t)a * 256 + (uint8_t)w] */
    int is_exact;      /* the table equals a * w everywhere (whatever the family) */
    int separable;     /* f and g below are valid: lut = f[(uint8_t)a] * g[(uint8_t)w] (checked at init) */
    int16_t f[256];    /* activation transform, indexed by (uint8_t)a, f[0] = 0 */
    int16_t g[256];    /* weight transform, indexed by (uint8_t)w */
    amul_energy energy;
    char *description; /* free text or NULL */
    int line, col;     /* 1-based position of its entry in the library file (0 when built in code) */
} amul;

/* A loaded library: multipliers in file order, names unique. */
typedef struct amul_lib {
    char *path;          /* the file it was read from */
    char *name;          /* `library:` key or NULL */
    char *description;   /* `description:` key or NULL */
    int n;
    amul *mults;         /* n entries */
} amul_lib;

/* --- ROUP arithmetic ------------------------------------------------------------------------ */

/* R_t(x) for t in 0..7 (round x to a multiple of 2^t, ties upward, two's complement). */
int32_t amul_roup_round(int32_t x, int t);

/* ROUP product by the closed form R_m(a) * R_2k(w). k in 0..2, m in 0..6 (asserted). */
int32_t amul_roup_mul(int8_t a, int8_t w, int k, int m);

/* ROUP product by the hardware's partial-product model: Booth digits of w, partial products
 * j = k..3 only, each d_j * 4^j times the activation with its m low bits dropped plus a(m-1).
 * Independent of amul_roup_mul() (no R_t); k in 0..2, m in 0..6 (asserted). */
int32_t amul_roup_booth(int8_t a, int8_t w, int k, int m);

/* --- single multipliers (caller storage; amul_deinit frees what they own) ------------------- */

/* Exact multiplier named `name`. */
void amul_init_exact(amul *m, const char *name);

/* ROUP (k, m). Returns ST_OK, or ST_EINVAL (reported) for k outside 0..2 or m outside 0..6. */
int amul_init_roup(amul *mu, const char *name, int k, int m);

/* Table read from a binary file of 65,536 little-endian signed integers of `elem_bytes` (2 or 4)
 * bytes, index [(uint8_t)a * 256 + (uint8_t)w]. Errors (reported, prefixed by `where`, e.g.
 * "lib.yaml:4:7: ", or nothing when NULL; `m` untouched): ST_EIO when the file cannot be read,
 * ST_EFORMAT when its size is not 65,536 * elem_bytes or an int32 entry lies outside int16. */
int amul_init_table_file(amul *m, const char *name, const char *path, int elem_bytes, const char *where);

/* Table built by calling `int32_t symbol(int8_t a, int8_t w)` from shared object `so_path` on all
 * 65,536 pairs (dlopen with RTLD_NOW | RTLD_LOCAL, closed afterwards). Errors (reported, `m`
 * untouched; messages prefixed by `where` as above): ST_EIO when the object cannot be loaded,
 * ST_EFORMAT when the symbol is missing or a product lies outside int16. */
int amul_init_cfunc(amul *m, const char *name, const char *so_path, const char *symbol, const char *where);

/* Build the table from an in-process function (the test hook for the c_function family). */
typedef int32_t (*amul_fn)(int8_t a, int8_t w);
int amul_init_fn(amul *m, const char *name, amul_fn fn);

/* Free what `m` owns; leaves it zeroed. */
void amul_deinit(amul *m);

/* Product of `m` (a table look-up). */
static inline int32_t amul_mul(const amul *m, int8_t a, int8_t w)
{
    return m->lut[(uint8_t)a * 256 + (uint8_t)w];
}

/* Name of a family as written in library files ("exact", "roup", "table", "c_function"). */
const char *amul_family_name(amul_family f);

/* --- metrics (amul_metrics.c) ---------------------------------------------------------------- */

/* Exhaustive metrics of a product table against a * w. */
void amul_metrics_compute(const int16_t *lut, amul_metrics *out);

/* --- libraries (amul_lib.c) ------------------------------------------------------------------ */

/* Load a library from YAML at `path`. Relative file paths inside resolve against the directory of
 * `path`. On error (ST_EIO / ST_EPARSE / ST_EFORMAT) reports "path:line:col: what" and leaves
 * `lib` untouched. Caller frees with amul_lib_deinit(). */
int amul_lib_load(amul_lib *lib, const char *path);

/* Free everything `lib` owns. amul_lib_deinit on a zeroed struct is a no-op. */
void amul_lib_deinit(amul_lib *lib);

/* Index of the multiplier named `name`, or -1. */
int amul_lib_find(const amul_lib *lib, const char *name);

/* Index of the first exact multiplier of the library, or -1. */
int amul_lib_exact(const amul_lib *lib);

/* The default library: problems/multipliers/roup8.yaml in the source tree when present, else in the
 * installed package data directory. Caller frees. */
char *amul_lib_default_path(void);

/* Resolve a library argument: an existing path as given; else, when it names a file of the source
 * tree's or the installed problems/multipliers/ (with or without ".yaml"), that file; else the
 * argument unchanged (so the loader reports it). Caller frees. */
char *amul_lib_resolve(const char *arg);

#endif
