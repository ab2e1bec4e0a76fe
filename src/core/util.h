/* Small helpers every layer shares, written once: string escapers (one per output format), the FNV-1a
 * hash, the int8 argmax that turns logits into a class, and the rule that turns a --threads value into
 * a thread count. Nothing here allocates or reports errors. */
#ifndef SRC_UTIL_H
#define SRC_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* Write `s` to `fp` as a double-quoted string, escaping '"' and '\' with a backslash and control bytes
 * (< 0x20) in the format's own way:
 *   JSON: \u00XX; NULL is written as `null`.
 *   YAML: \xXX (a YAML double-quoted scalar); `s` must not be NULL.
 *   C:    \ooo octal, also for bytes >= 0x7f (a C string literal that stays ASCII); `s` not NULL. */
void util_put_json_str(FILE *fp, const char *s);
void util_put_yaml_str(FILE *fp, const char *s);
void util_put_c_str(FILE *fp, const char *s);

/* FNV-1a, 64 bit: fold `len` bytes of `data` into `h` (start from UTIL_FNV1A_INIT). */
#define UTIL_FNV1A_INIT 0xcbf29ce484222325ULL
uint64_t util_fnv1a(uint64_t h, const void *data, size_t len);

/* Index of the largest of n >= 1 int8 values, the first one on ties (the predicted class of a row of
 * int8 logits). */
static inline int util_argmax_s8(const int8_t *v, int n)
{
    int best = 0;
    for (int j = 1; j < n; j++)
        if (v[j] > v[best]) best = j;
    return best;
}

/* Threads for a parallel loop over `n_items` independent items: `threads` when > 0, else OpenMP's
 * default (omp_get_max_threads(): OMP_NUM_THREADS, or all cores); never more than n_items, never
 * fewer than 1; 1 without OpenMP. Results never depend on it. */
int util_threads(int threads, long n_items);

#endif
