/* Where data and models are found. Relative paths in problem files and on the command line resolve
 * against the data directory: `--data-dir`, else $APPROXMAP_DATA, else `data/` in the source tree. */
#ifndef SRC_DATADIR_H
#define SRC_DATADIR_H

/* Set the directory from --data-dir (NULL: fall back to the environment and the default). */
void datadir_set(const char *dir);

/* The data directory in force (borrowed string). */
const char *datadir_get(void);

/* Resolve `path`: absolute paths and paths that exist as given (relative to the working directory)
 * are returned unchanged; otherwise the data directory is prepended. Caller frees the result. */
char *datadir_resolve(const char *path);

#endif
