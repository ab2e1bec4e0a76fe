/* CIFAR-10 reader for the official binary layout: each record is 1 label byte (0..9) followed by
 * 1024 R, 1024 G and 1024 B bytes (row-major 32x32 planes), 3073 bytes in all. Files may hold any
 * number of records (users bring subsets), so the count comes from the file size, which must be a
 * multiple of 3073. Every label read is checked to be 0..9.
 *
 * A record range is written FILE[:FIRST[:COUNT]] (FIRST 0-based, COUNT default: to the end). FILE
 * resolves against the data directory (datadir.h). A record list joins ranges with ',':
 * RANGE[,RANGE...] loads each range in turn and concatenates them, in order (for example
 * "data_batch_5.bin,data_batch_3.bin:0:5000"). A spec whose whole text names an existing file is one
 * range even when it holds a ','. */
#ifndef SRC_CIFAR_H
#define SRC_CIFAR_H

#include <stddef.h>
#include <stdint.h>

enum { CIFAR_RECORD = 3073, CIFAR_PIXELS = 3072, CIFAR_CLASSES = 10 };

/* A loaded set of images. pixels: (n, 3, 32, 32) CHW uint8, exactly as in the file; labels: n. */
typedef struct cifar_set {
    int32_t n;
    uint8_t *labels;
    uint8_t *pixels;
} cifar_set;

/* Number of records in `path` (size / 3073). Returns ST_OK and sets *n, or ST_EIO (cannot open /
 * stat) or ST_EFORMAT ("path: truncated record N (file size S is not a multiple of 3073)"). */
int cifar_count(const char *path, int32_t *n);

/* Load records first .. first+count-1 of `path` into *out (count < 0: to the end of the file).
 * Errors (reported): I/O, size not a multiple of 3073, range beyond the file, label outside 0..9
 * ("path: record N: label L is not a CIFAR-10 class (0..9)"). On failure *out is untouched.
 * Caller releases with cifar_set_deinit(). */
int cifar_load(const char *path, int32_t first, int32_t count, cifar_set *out);

/* Parse a range "FILE[:FIRST[:COUNT]]" or a record list "RANGE[,RANGE...]" and load it; FILE resolves
 * against the data directory. A list's ranges are concatenated in order; an empty range in a list is
 * an error ("record list 'SPEC' has an empty range"). */
int cifar_load_range(const char *spec, cifar_set *out);

/* 1 when `spec` is a record list of several ranges (see above), else 0. */
int cifar_range_is_list(const char *spec);

/* Split "FILE[:FIRST[:COUNT]]": *file is a fresh string (caller frees), *first defaults to 0 and
 * *count to -1 (all). Trailing fields are taken as FIRST/COUNT only when they are decimal numbers,
 * so a path containing ':' still works. Returns ST_OK or ST_EINVAL (reported). */
int cifar_range_parse(const char *spec, char **file, int32_t *first, int32_t *count);

/* Check a "FILE[:FIRST[:COUNT]]" range, or each range of a record list (an empty one is
 * CIFAR_RANGE_BAD), without loading it or printing anything: 0 when usable, else
 * CIFAR_RANGE_NO_FILE (nothing before the colons), CIFAR_RANGE_BAD (a malformed FIRST or COUNT: a colon
 * left in the file name, unless such a file exists under the data directory) or CIFAR_RANGE_EMPTY
 * (COUNT is 0); *why (when not NULL) then says what is wrong, e.g. "COUNT is 0 (no records)". The
 * problem loader and the --calib options report it with their own context. */
enum { CIFAR_RANGE_NO_FILE = 1, CIFAR_RANGE_BAD, CIFAR_RANGE_EMPTY };
int cifar_range_check(const char *spec, const char **why);

/* Free the buffers; the struct is zeroed. NULL or a zeroed struct is fine. */
void cifar_set_deinit(cifar_set *s);

#endif
