/* CIFAR-10 binary reader (see cifar.h). Reads whole ranges with one fread; validates sizes before
 * reading and labels after. Invariant: a cifar_set is either zeroed or fully valid. */
#include "cifar.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "datadir.h"
#include "msg.h"
#include "status.h"

static int count_open(const char *path, FILE **fpo, int32_t *n)
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
        return msg_error(ST_EIO, "'%s' is not a regular file", path);
    }
    long long size = (long long)st.st_size;
    if (size % CIFAR_RECORD != 0) {
        fclose(fp);
        return msg_error(ST_EFORMAT, "%s: truncated record %lld (file size %lld is not a multiple of %d)", path,
                         size / CIFAR_RECORD, size, CIFAR_RECORD);
    }
    if (size / CIFAR_RECORD > INT32_MAX) {
        fclose(fp);
        return msg_error(ST_EFORMAT, "%s: too many records", path);
    }
    *n = (int32_t)(size / CIFAR_RECORD);
    if (fpo)
        *fpo = fp;
    else
        fclose(fp);
    return ST_OK;
}

int cifar_count(const char *path, int32_t *n)
{
    return count_open(path, NULL, n);
}

int cifar_load(const char *path, int32_t first, int32_t count, cifar_set *out)
{
    FILE *fp;
    int32_t total;
    int rc = count_open(path, &fp, &total);
    if (rc) return rc;
    if (first < 0 || first > total || (count >= 0 && (int64_t)first + count > total)) {
        fclose(fp);
        return msg_error(ST_EINVAL, "%s: records %d..%d requested but the file holds %d", path, (int)first,
                         (int)(count >= 0 ? first + count - 1 : total - 1), (int)total);
    }
    if (count < 0) count = total - first;
    uint8_t *raw = xmalloc((size_t)count * CIFAR_RECORD);
    if (fseek(fp, (long)first * CIFAR_RECORD, SEEK_SET) != 0 ||
        fread(raw, CIFAR_RECORD, (size_t)count, fp) != (size_t)count) {
        int e = ferror(fp) ? errno : 0;
        free(raw);
        fclose(fp);
        return msg_error(ST_EIO, "cannot read '%s': %s", path, e ? strerror(e) : "unexpected end of file");
    }
    fclose(fp);
    cifar_set s = {count, xmalloc((size_t)count + 1), xmalloc((size_t)count * CIFAR_PIXELS + 1)};
    for (int32_t i = 0; i < count; i++) {
        const uint8_t *rec = raw + (size_t)i * CIFAR_RECORD;
        if (rec[0] >= CIFAR_CLASSES) {
            int label = rec[0];
            free(raw);
            cifar_set_deinit(&s);
            return msg_error(ST_EFORMAT, "%s: record %d: label %d is not a CIFAR-10 class (0..9)", path,
                             (int)(first + i), label);
        }
        s.labels[i] = rec[0];
        memcpy(s.pixels + (size_t)i * CIFAR_PIXELS, rec + 1, CIFAR_PIXELS);
    }
    free(raw);
    *out = s;
    return ST_OK;
}

static int parse_num(const char *s, size_t len, int32_t *v)
{
    if (len == 0 || len > 9) return 0;
    int32_t x = 0;
    for (size_t i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9') return 0;
        x = x * 10 + (s[i] - '0');
    }
    *v = x;
    return 1;
}

/* Length of the FILE part of "FILE[:FIRST[:COUNT]]" and the numbers peeled off its end. */
static size_t range_split(const char *spec, int32_t *first, int32_t *count)
{
    size_t len = strlen(spec);
    int32_t nums[2];
    int nn = 0;
    /* peel up to two numeric fields off the end */
    while (nn < 2) {
        const char *colon = NULL;
        for (size_t i = len; i > 0; i--)
            if (spec[i - 1] == ':') {
                colon = spec + i - 1;
                break;
            }
        if (!colon) break;
        int32_t v;
        if (!parse_num(colon + 1, (size_t)(spec + len - colon - 1), &v)) break;
        nums[nn++] = v;
        len = (size_t)(colon - spec);
    }
    *first = nn == 2 ? nums[1] : nn == 1 ? nums[0] : 0;
    *count = nn == 2 ? nums[0] : -1;
    return len;
}

int cifar_range_parse(const char *spec, char **file, int32_t *first, int32_t *count)
{
    size_t len = range_split(spec, first, count);
    if (len == 0) return msg_error(ST_EINVAL, "record range '%s' has no file name (FILE[:FIRST[:COUNT]])", spec);
    *file = xmalloc(len + 1);
    memcpy(*file, spec, len);
    (*file)[len] = 0;
    return ST_OK;
}

/* 1 when `spec` is a record list: it holds a ',' and is not one range whose file exists (so a
 * single file whose name has a comma still loads). */
static int is_list(const char *spec)
{
    if (!strchr(spec, ',')) return 0;
    int32_t first, count;
    size_t len = range_split(spec, &first, &count);
    char *file = xmalloc(len + 1);
    memcpy(file, spec, len);
    file[len] = 0;
    char *path = datadir_resolve(file);
    int exists = len > 0 && access(path, F_OK) == 0;
    free(path);
    free(file);
    return !exists;
}

static int check_one(const char *spec, const char **why)
{
    int32_t first, count;
    size_t len = range_split(spec, &first, &count);
    const char *w = NULL;
    int rc = 0;
    if (len == 0) {
        rc = CIFAR_RANGE_NO_FILE;
        w = "no file name (FILE[:FIRST[:COUNT]])";
    } else if (memchr(spec, ':', len)) {
        char *file = xmalloc(len + 1);
        memcpy(file, spec, len);
        file[len] = 0;
        char *path = datadir_resolve(file);
        if (access(path, F_OK) != 0) {
            rc = CIFAR_RANGE_BAD;
            w = "FIRST and COUNT must be non-negative integers (FILE[:FIRST[:COUNT]])";
        }
        free(path);
        free(file);
    }
    if (!rc && count == 0) {
        rc = CIFAR_RANGE_EMPTY;
        w = "COUNT is 0 (no records)";
    }
    if (why) *why = w;
    return rc;
}

/* The next range of a list starting at *p: a fresh string (caller frees); *p moves past its ','
 * or to NULL after the last one. */
static char *list_next(const char **p)
{
    const char *e = strchr(*p, ',');
    size_t len = e ? (size_t)(e - *p) : strlen(*p);
    char *part = xmalloc(len + 1);
    memcpy(part, *p, len);
    part[len] = 0;
    *p = e ? e + 1 : NULL;
    return part;
}

int cifar_range_check(const char *spec, const char **why)
{
    if (!is_list(spec)) return check_one(spec, why);
    int rc = 0;
    for (const char *p = spec; p && !rc;) {
        char *part = list_next(&p);
        if (!*part) {
            rc = CIFAR_RANGE_BAD;
            if (why) *why = "an empty range in the list (RANGE[,RANGE...], each FILE[:FIRST[:COUNT]])";
        } else
            rc = check_one(part, why);
        free(part);
    }
    if (!rc && why) *why = NULL;
    return rc;
}

int cifar_range_is_list(const char *spec) { return is_list(spec); }

static int load_one(const char *spec, cifar_set *out)
{
    char *file;
    int32_t first, count;
    int rc = cifar_range_parse(spec, &file, &first, &count);
    if (rc) return rc;
    char *path = datadir_resolve(file);
    free(file);
    rc = cifar_load(path, first, count, out);
    free(path);
    return rc;
}

int cifar_load_range(const char *spec, cifar_set *out)
{
    if (!is_list(spec)) return load_one(spec, out);
    cifar_set all = {0};
    int rc = ST_OK;
    for (const char *p = spec; p && !rc;) {
        char *part = list_next(&p);
        cifar_set s = {0};
        if (!*part)
            rc = msg_error(ST_EINVAL, "record list '%s' has an empty range (RANGE[,RANGE...])", spec);
        else if (!(rc = load_one(part, &s))) {
            if (s.n > INT32_MAX - all.n) {
                rc = msg_error(ST_EINVAL, "record list '%s' holds more than %d records", spec, (int)INT32_MAX);
            } else if (s.n > 0) {
                all.labels = xrealloc(all.labels, (size_t)(all.n + s.n));
                all.pixels = xrealloc(all.pixels, (size_t)(all.n + s.n) * CIFAR_PIXELS);
                memcpy(all.labels + all.n, s.labels, (size_t)s.n);
                memcpy(all.pixels + (size_t)all.n * CIFAR_PIXELS, s.pixels, (size_t)s.n * CIFAR_PIXELS);
                all.n += s.n;
            }
            cifar_set_deinit(&s);
        }
        free(part);
    }
    if (rc) {
        cifar_set_deinit(&all);
        return rc;
    }
    *out = all;
    return ST_OK;
}

void cifar_set_deinit(cifar_set *s)
{
    if (!s) return;
    free(s->labels);
    free(s->pixels);
    memset(s, 0, sizeof *s);
}
