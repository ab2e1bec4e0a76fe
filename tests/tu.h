/* Test helpers shared by tests/test_*.c (Check framework).
 *
 *   static Suite *suite(void) { ... }
 *   int main(void) { return tu_run(suite()); }
 *
 * tu_run() prints Check's summary and returns 0 when every test passed, 1 otherwise, the automake
 * convention. A test that needs CIFAR-10 or the model calls tu_data_or_skip(rel), which returns the
 * resolved path or exits 77 (automake's "skipped") with a note when the optional input is absent. */
#ifndef TESTS_TU_H
#define TESTS_TU_H

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "datadir.h"
#include "msg.h"

static inline int tu_run(Suite *s)
{
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? 0 : 1;
}

/* Resolve a data-directory path or skip the whole test program (exit 77). Caller frees. */
static inline char *tu_data_or_skip(const char *rel)
{
    char *p = datadir_resolve(rel);
    if (access(p, R_OK) != 0) {
        printf("SKIP: '%s' is absent (set APPROXMAP_DATA or run ./quickstart.sh to link ../shared)\n", p);
        free(p);
        exit(77);
    }
    return p;
}

/* Capture msg_error() output: install with msg_set_sink(tu_capture, &cap). */
typedef struct tu_capture_buf {
    char text[4096];
    int count;
} tu_capture_buf;

static inline void tu_capture(const char *text, void *ctx)
{
    tu_capture_buf *c = ctx;
    snprintf(c->text, sizeof c->text, "%s", text);
    c->count++;
}

/* Write `len` bytes to a fresh temporary file; returns its path (caller unlinks and frees). */
static inline char *tu_tempfile(const void *data, size_t len)
{
    char *path = xstrdup("/tmp/approxmap-test-XXXXXX");
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq((long)write(fd, data, len), (long)len);
    close(fd);
    return path;
}

#endif
