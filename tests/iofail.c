/* I/O-failure injection for tests (LD_PRELOAD=tests/iofail.so): counts the calls that make data
 * durable or visible on regular files (write, pwrite, fflush, fclose of a file open for writing,
 * fsync, fdatasync, rename) and acts on the k-th one.
 *   IOFAIL_AT=k        1-based call to act on (unset or 0: only count)
 *   IOFAIL_ACTION=     fail (default: the call fails with IOFAIL_ERRNO, nothing is written), kill (SIGKILL
 *                      before the call), term / int (SIGTERM / SIGINT raised before the call, which then runs),
 *                      clock (the call runs; from then on CLOCK_MONOTONIC reads 100 s later, as if the
 *                      machine had stalled: a slow run without the wait)
 *   IOFAIL_ERRNO=      ENOSPC (default) or EIO
 *   IOFAIL_LOG=path    append "hit K OP PATH" when acting, and "calls N" at a normal exit
 * A stdio write that fills its buffer goes through glibc's internal write, which no preload sees: stdio
 * files are hit at their fflush/fclose, where the program learns of the failure anyway. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static long g_at = -1;   /* -1: not read yet */
static long g_count;     /* calls seen (atomic) */
static int g_errno = ENOSPC, g_action; /* 0 fail, 1 kill, 2 term, 3 int, 4 clock */
static int g_clock_jumped;

static ssize_t (*real_write)(int, const void *, size_t);
static ssize_t (*real_pwrite)(int, const void *, size_t, off_t);
static int (*real_fsync)(int), (*real_fdatasync)(int);
static int (*real_rename)(const char *, const char *);
static int (*real_fflush)(FILE *), (*real_fclose)(FILE *);
static int (*real_clock_gettime)(clockid_t, struct timespec *);

__attribute__((constructor)) static void init(void)
{
    if (g_at >= 0) return;
    real_write = (ssize_t(*)(int, const void *, size_t))dlsym(RTLD_NEXT, "write");
    real_pwrite = (ssize_t(*)(int, const void *, size_t, off_t))dlsym(RTLD_NEXT, "pwrite");
    real_fsync = (int (*)(int))dlsym(RTLD_NEXT, "fsync");
    real_fdatasync = (int (*)(int))dlsym(RTLD_NEXT, "fdatasync");
    real_rename = (int (*)(const char *, const char *))dlsym(RTLD_NEXT, "rename");
    real_fflush = (int (*)(FILE *))dlsym(RTLD_NEXT, "fflush");
    real_fclose = (int (*)(FILE *))dlsym(RTLD_NEXT, "fclose");
    real_clock_gettime = (int (*)(clockid_t, struct timespec *))dlsym(RTLD_NEXT, "clock_gettime");
    const char *e = getenv("IOFAIL_ERRNO");
    if (e && strcmp(e, "EIO") == 0) g_errno = EIO;
    const char *a = getenv("IOFAIL_ACTION");
    if (a) g_action = !strcmp(a, "kill") ? 1 : !strcmp(a, "term") ? 2 : !strcmp(a, "int") ? 3 : !strcmp(a, "clock") ? 4 : 0;
    const char *k = getenv("IOFAIL_AT");
    g_at = k ? atol(k) : 0;
}

static void log_line(const char *fmt, long n, const char *op, const char *what)
{
    const char *path = getenv("IOFAIL_LOG");
    if (!path) return;
    char buf[1200];
    int len = snprintf(buf, sizeof buf, fmt, n, op, what);
    int fd = open(path, O_WRONLY | O_APPEND | O_CREAT, 0644);
    if (fd < 0) return;
    if (len > 0) (void)!real_write(fd, buf, (size_t)len < sizeof buf ? (size_t)len : sizeof buf - 1);
    close(fd);
}

__attribute__((destructor)) static void report(void)
{
    init();
    log_line("calls %ld%s%s\n", __atomic_load_n(&g_count, __ATOMIC_SEQ_CST), "", "");
}

static int regular_fd(int fd) /* a regular file, not the standard streams (redirected to files in tests) */
{
    struct stat st;
    return fd > 2 && fstat(fd, &st) == 0 && S_ISREG(st.st_mode);
}

static int writable_file(FILE *fp)
{
    if (!fp) return 0;
    int fd = fileno(fp), fl = fd >= 0 ? fcntl(fd, F_GETFL) : -1;
    return fl >= 0 && (fl & O_ACCMODE) != O_RDONLY && regular_fd(fd);
}

static char *fd_path(int fd, char *buf, size_t n)
{
    char link[64];
    snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
    ssize_t len = readlink(link, buf, n - 1);
    buf[len > 0 ? len : 0] = '\0';
    return buf;
}

/* Count one call; returns 1 when this call must fail (errno set). */
static int hit(const char *op, int fd, const char *path)
{
    init();
    long n = __atomic_add_fetch(&g_count, 1, __ATOMIC_SEQ_CST);
    if (n != g_at) return 0;
    char buf[1024];
    log_line("hit %ld %s %s\n", n, op, path ? path : fd_path(fd, buf, sizeof buf));
    switch (g_action) {
    case 1: raise(SIGKILL); return 0;
    case 2: raise(SIGTERM); return 0;
    case 3: raise(SIGINT); return 0;
    case 4: __atomic_store_n(&g_clock_jumped, 1, __ATOMIC_SEQ_CST); return 0;
    default: errno = g_errno; return 1;
    }
}

ssize_t write(int fd, const void *p, size_t n)
{
    init();
    if (regular_fd(fd) && hit("write", fd, NULL)) return -1;
    return real_write(fd, p, n);
}

ssize_t pwrite(int fd, const void *p, size_t n, off_t off)
{
    init();
    if (regular_fd(fd) && hit("pwrite", fd, NULL)) return -1;
    return real_pwrite(fd, p, n, off);
}

int fsync(int fd)
{
    init();
    if (regular_fd(fd) && hit("fsync", fd, NULL)) return -1;
    return real_fsync(fd);
}

int fdatasync(int fd)
{
    init();
    if (regular_fd(fd) && hit("fdatasync", fd, NULL)) return -1;
    return real_fdatasync(fd);
}

int rename(const char *from, const char *to)
{
    init();
    if (hit("rename", -1, to)) return -1;
    return real_rename(from, to);
}

int fflush(FILE *fp)
{
    init();
    if (writable_file(fp) && hit("fflush", fileno(fp), NULL)) return EOF;
    return real_fflush(fp);
}

int fclose(FILE *fp)
{
    init();
    if (writable_file(fp) && hit("fclose", fileno(fp), NULL)) {
        int err = errno;
        real_fclose(fp); /* the stream is gone either way, as after a failed close */
        errno = err;
        return EOF;
    }
    return real_fclose(fp);
}

int clock_gettime(clockid_t id, struct timespec *ts)
{
    init();
    int rc = real_clock_gettime(id, ts);
    if (rc == 0 && id == CLOCK_MONOTONIC && __atomic_load_n(&g_clock_jumped, __ATOMIC_SEQ_CST)) ts->tv_sec += 100;
    return rc;
}
