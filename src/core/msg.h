/* Diagnostics: one reporter for user-facing errors, an always-on ASSERT for programmer errors, and
 * allocation wrappers that abort on exhaustion (so no caller carries OOM branches).
 *
 * Messages follow git's guidelines: lowercase, no final full stop, subject in '...', and when a file is
 * involved they start with "path:line:col: " (1-based). msg_error() does not exit: it formats the
 * message to the current sink (stderr by default, prefixed "approxmap: error: ") and returns `code`,
 * so a caller writes `return msg_error(ST_EIO, "cannot open '%s': %s", path, strerror(errno));`. */
#ifndef SRC_MSG_H
#define SRC_MSG_H

#include <stdarg.h>
#include <stddef.h>

/* A sink receives each formatted message (without prefix or newline). Tests swap it to capture. */
typedef void (*msg_sink_fn)(const char *text, void *ctx);

/* Install `fn` (NULL restores stderr); returns nothing. Not thread-safe: set it before threads start. */
void msg_set_sink(msg_sink_fn fn, void *ctx);

/* Report an error; returns `code`. */
int msg_error(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int msg_verror(int code, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));

/* Report a warning (same sink, "warning: " prefix on stderr). */
void msg_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Print "file:line: assertion failed: ..." and abort. */
_Noreturn void msg_abort(const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#define ASSERT(x)                                                   \
    do {                                                            \
        if (!(x)) msg_abort(__FILE__, __LINE__, "%s", #x);          \
    } while (0)

/* Allocation that aborts with a message on exhaustion. xmalloc(0) returns a valid pointer. */
void *xmalloc(size_t n);
void *xcalloc(size_t count, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
/* 64-byte aligned allocation (for SIMD buffers); free with free(). */
void *xaligned_alloc(size_t n);
/* printf into a fresh heap string; caller frees. */
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
