/* Atomic file replacement (redis rdbSave): write to "path.tmp.PID", fflush, fsync, fclose, rename over
 * `path`, fsync the directory. Readers never see a half-written file, and an existing file survives any
 * failure (full disk, signal, crash) intact. */
#ifndef SRC_AFILE_H
#define SRC_AFILE_H

#include <stdio.h>

typedef struct afile afile;

/* Open a temporary file beside `path` for writing. Returns NULL after msg_error() on failure. */
afile *afile_open(const char *path);

/* The stream to write to (owned by the afile). */
FILE *afile_stream(afile *f);

/* Flush, fsync and rename into place; frees `f`. Returns ST_OK or ST_EIO (reported; temp removed). */
int afile_commit(afile *f);

/* Discard the temporary file; frees `f`. afile_abort(NULL) is a no-op. */
void afile_abort(afile *f);

/* Write `len` bytes atomically to `path`. */
int afile_write_all(const char *path, const void *data, size_t len);

/* Read a whole file into a NUL-terminated heap buffer; *len gets its size. Returns ST_OK or ST_EIO. */
int afile_read_all(const char *path, char **data, size_t *len);

#endif
