/* Evaluation archive: see archive.h. Storage is one growing array per field; the index is an
 * open-addressing table (linear probing, power-of-two size, load <= 1/2) of entry index + 1. */
#include "archive.h"

#include <stdlib.h>
#include <string.h>

#include "msg.h"

struct archive {
    size_t key_bytes;
    int n_obj;
    size_t count, cap;
    unsigned char *keys; /* cap x key_bytes */
    uint64_t *hashes;
    double *obj; /* cap x n_obj */
    double *cv;
    long *gen;
    size_t *table; /* tsize slots: 0 = empty, else entry index + 1 */
    size_t tsize;
};

archive *archive_alloc(size_t key_bytes, int n_obj)
{
    ASSERT(n_obj >= 1);
    archive *a = xcalloc(1, sizeof *a);
    a->key_bytes = key_bytes;
    a->n_obj = n_obj;
    a->cap = 64;
    a->keys = xmalloc(a->cap * key_bytes);
    a->hashes = xmalloc(a->cap * sizeof *a->hashes);
    a->obj = xmalloc(a->cap * (size_t)n_obj * sizeof *a->obj);
    a->cv = xmalloc(a->cap * sizeof *a->cv);
    a->gen = xmalloc(a->cap * sizeof *a->gen);
    a->tsize = 256;
    a->table = xcalloc(a->tsize, sizeof *a->table);
    return a;
}

void archive_free(archive *a)
{
    if (!a) return;
    free(a->keys);
    free(a->hashes);
    free(a->obj);
    free(a->cv);
    free(a->gen);
    free(a->table);
    free(a);
}

static inline uint64_t mix64(uint64_t z)
{
    z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
    return z ^ (z >> 31);
}

uint64_t archive_hash(const void *key, size_t len)
{
    const unsigned char *p = key;
    uint64_t h = UINT64_C(0x9e3779b97f4a7c15) ^ (uint64_t)len;
    size_t i = 0;
    for (; i + 8 <= len; i += 8) {
        uint64_t w;
        memcpy(&w, p + i, 8); /* little-endian host (configure checks), so this is the LE word */
        h = mix64(h ^ w) + UINT64_C(0x9e3779b97f4a7c15);
    }
    uint64_t w = 0;
    for (int b = 0; i < len; i++, b++) w |= (uint64_t)p[i] << (8 * b);
    return mix64(h ^ w ^ UINT64_C(0xff51afd7ed558ccd));
}

long archive_find(const archive *a, uint64_t hash, const void *key)
{
    size_t mask = a->tsize - 1;
    for (size_t s = (size_t)hash & mask;; s = (s + 1) & mask) {
        size_t e = a->table[s];
        if (!e) return -1;
        e--;
        if (a->hashes[e] == hash && !memcmp(a->keys + e * a->key_bytes, key, a->key_bytes)) return (long)e;
    }
}

static void table_insert(size_t *table, size_t tsize, uint64_t hash, size_t index)
{
    size_t mask = tsize - 1;
    size_t s = (size_t)hash & mask;
    while (table[s]) s = (s + 1) & mask;
    table[s] = index + 1;
}

size_t archive_add(archive *a, uint64_t hash, const void *key, const double *f, double cv, long generation)
{
    if (a->count == a->cap) {
        a->cap *= 2;
        a->keys = xrealloc(a->keys, a->cap * a->key_bytes);
        a->hashes = xrealloc(a->hashes, a->cap * sizeof *a->hashes);
        a->obj = xrealloc(a->obj, a->cap * (size_t)a->n_obj * sizeof *a->obj);
        a->cv = xrealloc(a->cv, a->cap * sizeof *a->cv);
        a->gen = xrealloc(a->gen, a->cap * sizeof *a->gen);
    }
    if (2 * (a->count + 1) > a->tsize) {
        size_t ts = a->tsize * 2;
        size_t *t = xcalloc(ts, sizeof *t);
        for (size_t i = 0; i < a->count; i++) table_insert(t, ts, a->hashes[i], i);
        free(a->table);
        a->table = t;
        a->tsize = ts;
    }
    size_t i = a->count++;
    memcpy(a->keys + i * a->key_bytes, key, a->key_bytes);
    a->hashes[i] = hash;
    a->gen[i] = generation;
    archive_set(a, i, f, cv);
    table_insert(a->table, a->tsize, hash, i);
    return i;
}

void archive_set(archive *a, size_t i, const double *f, double cv)
{
    ASSERT(i < a->count);
    memcpy(a->obj + i * (size_t)a->n_obj, f, (size_t)a->n_obj * sizeof *f);
    a->cv[i] = cv;
}

size_t archive_count(const archive *a) { return a->count; }
size_t archive_key_bytes(const archive *a) { return a->key_bytes; }
int archive_n_obj(const archive *a) { return a->n_obj; }
const void *archive_key(const archive *a, size_t i) { return a->keys + i * a->key_bytes; }
uint64_t archive_entry_hash(const archive *a, size_t i) { return a->hashes[i]; }
const double *archive_obj(const archive *a, size_t i) { return a->obj + i * (size_t)a->n_obj; }
double archive_cv(const archive *a, size_t i) { return a->cv[i]; }
long archive_generation(const archive *a, size_t i) { return a->gen[i]; }
