/* The evaluation archive: every genome ever evaluated, in evaluation order, with its objectives,
 * total constraint violation and generation, indexed by a 64-bit hash of its packed genome so it
 * doubles as a cache (archive_find). Genomes are stored as opaque fixed-size keys (nsga packs them:
 * 8 bytes per real gene, 1/2/4 bytes per integer gene), so the archive knows nothing of gene kinds.
 *
 * Invariants: entries are only appended; index i never changes; equal keys are stored once by the
 * GA (it looks them up before adding). Memory: count x (key_bytes + 8 x n_obj + 24) bytes plus the
 * hash table (2 x 8 bytes per entry at most). The archive does no I/O; the run driver persists it. */
#ifndef SEARCH_ARCHIVE_H
#define SEARCH_ARCHIVE_H

#include <stddef.h>
#include <stdint.h>

typedef struct archive archive;

/* A new empty archive for keys of `key_bytes` bytes and `n_obj` objectives. Free with archive_free(). */
archive *archive_alloc(size_t key_bytes, int n_obj);
void archive_free(archive *a);

/* 64-bit hash of `len` bytes (not cryptographic; well mixed). Stable across versions: stored in files. */
uint64_t archive_hash(const void *key, size_t len);

/* Index of the entry whose key equals `key` (with hash `hash`), or -1. */
long archive_find(const archive *a, uint64_t hash, const void *key);

/* Append an entry and return its index. `f` has n_obj values (copied); `cv` >= 0. */
size_t archive_add(archive *a, uint64_t hash, const void *key, const double *f, double cv, long generation);

/* Overwrite the results of entry `i` (used when an entry is added before it is evaluated). */
void archive_set(archive *a, size_t i, const double *f, double cv);

size_t archive_count(const archive *a);
size_t archive_key_bytes(const archive *a);
int archive_n_obj(const archive *a);
const void *archive_key(const archive *a, size_t i);
uint64_t archive_entry_hash(const archive *a, size_t i);
const double *archive_obj(const archive *a, size_t i);
double archive_cv(const archive *a, size_t i);
long archive_generation(const archive *a, size_t i);

#endif
