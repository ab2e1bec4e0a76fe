/* Atomic file replacement: see afile.h. */
#include "afile.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "msg.h"
#include "status.h"

struct afile {
    FILE *fp;
    char *path;
    char *tmp;
};

afile *afile_open(const char *path)
{
    afile *f = xcalloc(1, sizeof *f);
    f->path = xstrdup(path);
    f->tmp = xasprintf("%s.tmp.%ld", path, (long)getpid());
    f->fp = fopen(f->tmp, "wb");
    if (!f->fp) {
        msg_error(ST_EIO, "cannot write '%s': %s", f->tmp, strerror(errno));
        free(f->tmp);
        free(f->path);
        free(f);
        return NULL;
    }
    return f;
}

FILE *afile_stream(afile *f) { return f->fp; }

static void sync_dir(const char *path)
{
    char *copy = xstrdup(path);
    int fd = open(dirname(copy), O_RDONLY | O_DIRECTORY);
    if (fd >= 0) {
        (void)fsync(fd); /* best effort: some file systems refuse directory fsync */
        close(fd);
    }
    free(copy);
}

static void afile_release(afile *f)
{
    free(f->tmp);
    free(f->path);
    free(f);
}

int afile_commit(afile *f)
{
    int err = 0;
    if (ferror(f->fp)) err = EIO;
    if (!err && fflush(f->fp) != 0) err = errno;
    if (!err && fsync(fileno(f->fp)) != 0) err = errno;
    if (fclose(f->fp) != 0 && !err) err = errno;
    if (!err && rename(f->tmp, f->path) != 0) err = errno;
    if (err) {
        unlink(f->tmp);
        int rc = msg_error(ST_EIO, "cannot write '%s': %s", f->path, strerror(err));
        afile_release(f);
        return rc;
    }
    sync_dir(f->path);
    afile_release(f);
    return ST_OK;
}

void afile_abort(afile *f)
{
    if (!f) return;
    fclose(f->fp);
    unlink(f->tmp);
    afile_release(f);
}

int afile_write_all(const char *path, const void *data, size_t len)
{
    afile *f = afile_open(path);
    if (!f) return ST_EIO;
    if (len && fwrite(data, 1, len, f->fp) != len) {
        int rc = msg_error(ST_EIO, "cannot write '%s': %s", path, strerror(errno));
        afile_abort(f);
        return rc;
    }
    return afile_commit(f);
}

int afile_read_stream(FILE *fp, const char *path, char **data, size_t *len)
{
    size_t cap = 1 << 16, n = 0;
    char *buf = xmalloc(cap);
    for (;;) {
        if (n + 1 >= cap) {
            if (cap > AFILE_READ_MAX) {
                free(buf);
                return msg_error(ST_EFORMAT, "%s: file larger than %d MiB", path, AFILE_READ_MAX >> 20);
            }
            buf = xrealloc(buf, cap *= 2);
        }
        size_t got = fread(buf + n, 1, cap - n - 1, fp);
        n += got;
        if (got == 0) break;
    }
    if (ferror(fp)) {
        int e = errno;
        free(buf);
        return msg_error(ST_EIO, "cannot read '%s': %s", path, strerror(e ? e : EIO));
    }
    buf[n] = '\0';
    *data = buf;
    if (len) *len = n;
    return ST_OK;
}

int afile_open_regular(const char *path, FILE **out)
{
    FILE *fp = fopen(path, "rb");
    if (!fp) return msg_error(ST_EIO, "cannot open '%s': %s", path, strerror(errno));
    struct stat st;
    if (fstat(fileno(fp), &st) != 0) {
        int e = errno;
        fclose(fp);
        return msg_error(ST_EIO, "cannot stat '%s': %s", path, strerror(e));
    }
    if (!S_ISREG(st.st_mode)) {
        fclose(fp);
        return msg_error(ST_EIO, "cannot read '%s': %s", path,
                         S_ISDIR(st.st_mode) ? "is a directory" : "not a regular file");
    }
    *out = fp;
    return ST_OK;
}

int afile_read_all(const char *path, char **data, size_t *len)
{
    FILE *fp;
    int rc = afile_open_regular(path, &fp);
    if (rc) return rc;
    rc = afile_read_stream(fp, path, data, len);
    fclose(fp);
    return rc;
}

/* The PID of an afile temporary name "NAME.tmp.PID" (NAME not empty), or 0 for any other name. */
static long tmp_pid(const char *name)
{
    const char *t = strstr(name, ".tmp.");
    if (!t || t == name) return 0;
    for (const char *q; (q = strstr(t + 1, ".tmp.")); t = q) {} /* the last ".tmp." */
    const char *d = t + 5;
    long pid = 0;
    if (!*d) return 0;
    for (; *d; d++) {
        if (*d < '0' || *d > '9' || pid > 100000000L) return 0;
        pid = pid * 10 + (*d - '0');
    }
    return pid;
}

int afile_remove_stale(const char *dir, char **first)
{
    if (first) *first = NULL;
    DIR *d = opendir(dir);
    if (!d) return 0;
    int n = 0;
    long self = (long)getpid();
    struct dirent *e;
    while ((e = readdir(d))) {
        long pid = tmp_pid(e->d_name);
        if (pid <= 0) continue;
        if (pid != self && (kill((pid_t)pid, 0) == 0 || errno == EPERM)) continue; /* its writer still runs */
        char *p = xasprintf("%s/%s", dir, e->d_name);
        struct stat st;
        if (lstat(p, &st) == 0 && S_ISREG(st.st_mode) && unlink(p) == 0) {
            n++;
            if (first && !*first) {
                *first = p;
                p = NULL;
            }
        }
        free(p);
    }
    closedir(d);
    return n;
}
