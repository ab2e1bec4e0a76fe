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

/* Remove the temporary files ("NAME.tmp.PID") that processes killed mid-write left in `dir`: those
 * whose PID is this process or no running process (a live writer's file is kept). Returns how many
 * were removed; *first (when not NULL) gets the first one's path (heap) or NULL. */
int afile_remove_stale(const char *dir, char **first);

/* Largest file any reader loads into memory (bytes). */
#define AFILE_READ_MAX (1 << 30)

/* Open `path` for reading, refusing anything but a regular file (a directory, a FIFO, /dev/zero):
 * every reader goes through here, so none can grow its buffer without bound. *out is the open stream
 * (caller fcloses). Returns ST_OK or ST_EIO (reported: "cannot open|read 'path': why"). */
int afile_open_regular(const char *path, FILE **out);

/* Read `fp` to its end into a NUL-terminated heap buffer (caller frees); *len (if non-NULL) gets the
 * size. Refuses more than AFILE_READ_MAX bytes (ST_EFORMAT). `path` names the stream in messages.
 * Returns ST_OK, ST_EIO or ST_EFORMAT (reported). */
int afile_read_stream(FILE *fp, const char *path, char **data, size_t *len);

/* afile_open_regular() + afile_read_stream(): a whole regular file in memory. */
int afile_read_all(const char *path, char **data, size_t *len);

#endif
