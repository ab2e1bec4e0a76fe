/* Shared helpers (util.h). */
#include "util.h"

#ifdef _OPENMP
#include <omp.h>
#endif

enum { ESC_JSON, ESC_YAML, ESC_C };

/* Quote and backslash-escape `s`; control bytes (and for C, bytes >= 0x7f) in the format's way. */
static void put_escaped(FILE *fp, const char *s, int how)
{
    fputc('"', fp);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '"' || *p == '\\')
            fprintf(fp, "\\%c", *p);
        else if (how == ESC_C && (*p < 0x20 || *p >= 0x7f))
            fprintf(fp, "\\%03o", *p);
        else if (*p < 0x20)
            fprintf(fp, how == ESC_JSON ? "\\u%04x" : "\\x%02x", *p);
        else
            fputc(*p, fp);
    }
    fputc('"', fp);
}

void util_put_json_str(FILE *fp, const char *s)
{
    if (!s) fputs("null", fp);
    else put_escaped(fp, s, ESC_JSON);
}

void util_put_yaml_str(FILE *fp, const char *s)
{
    put_escaped(fp, s, ESC_YAML);
}

void util_put_c_str(FILE *fp, const char *s)
{
    put_escaped(fp, s, ESC_C);
}

uint64_t util_fnv1a(uint64_t h, const void *data, size_t len)
{
    const unsigned char *p = data;
    for (size_t i = 0; i < len; i++) h = (h ^ p[i]) * 0x100000001b3ULL;
    return h;
}

int util_threads(int threads, long n_items)
{
    int nt = 1;
#ifdef _OPENMP
    nt = threads > 0 ? threads : omp_get_max_threads();
#else
    (void)threads;
#endif
    if (nt > n_items) nt = n_items > 0 ? (int)n_items : 1;
    return nt < 1 ? 1 : nt;
}
