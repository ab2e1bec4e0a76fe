/* Diagnostics and aborting allocators: see msg.h. */
#include "msg.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static msg_sink_fn g_sink; /* NULL = stderr; set only from single-threaded set-up code and tests */
static void *g_sink_ctx;

void msg_set_sink(msg_sink_fn fn, void *ctx)
{
    g_sink = fn;
    g_sink_ctx = ctx;
}

static __attribute__((format(printf, 2, 0))) void emit(const char *prefix, const char *fmt, va_list ap)
{
    char buf[4096];
    vsnprintf(buf, sizeof buf, fmt, ap);
    if (g_sink)
        g_sink(buf, g_sink_ctx);
    else
        fprintf(stderr, "approxmap: %s%s\n", prefix, buf);
}

int msg_verror(int code, const char *fmt, va_list ap)
{
    emit("error: ", fmt, ap);
    return code;
}

int msg_error(int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    msg_verror(code, fmt, ap);
    va_end(ap);
    return code;
}

void msg_warn(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    emit("warning: ", fmt, ap);
    va_end(ap);
}

_Noreturn void msg_abort(const char *file, int line, const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "approxmap: %s:%d: assertion failed: ", file, line);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    abort();
}

static void *oom(size_t n)
{
    msg_abort(__FILE__, __LINE__, "out of memory allocating %zu bytes", n);
}

void *xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    return p ? p : oom(n);
}

void *xcalloc(size_t count, size_t size)
{
    void *p = calloc(count ? count : 1, size ? size : 1);
    return p ? p : oom(count * size);
}

void *xrealloc(void *p, size_t n)
{
    void *q = realloc(p, n ? n : 1);
    return q ? q : oom(n);
}

char *xstrdup(const char *s)
{
    size_t n = strlen(s) + 1;
    return memcpy(xmalloc(n), s, n);
}

void *xaligned_alloc(size_t n)
{
    void *p = NULL;
    if (posix_memalign(&p, 64, n ? n : 64) != 0) oom(n);
    return p;
}

char *xasprintf(const char *fmt, ...)
{
    va_list ap, ap2;
    va_start(ap, fmt);
    va_copy(ap2, ap);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    ASSERT(n >= 0);
    char *s = xmalloc((size_t)n + 1);
    vsnprintf(s, (size_t)n + 1, fmt, ap2);
    va_end(ap2);
    return s;
}
