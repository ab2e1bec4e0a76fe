/* The run directory's formats: see rundir.h. Every reader checks what it reads and names the file
 * and the field in its messages; writers produce the formats byte for byte as documented there. */
#include "rundir.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "afile.h"
#include "ckpt.h"
#include "msg.h"
#include "status.h"
#include "util.h"

#define CKPT_MAGIC "AMAPCKPT"
#define ARCH_MAGIC "AMAPARCH"

enum { HOLDOUT_CACHE_VERSION = 3 }; /* 3: lost, gained, p_mcnemar columns; exact CI */

/* ---------- paths ---------- */

void rundir_init(rundir *d, const char *dir)
{
    d->dir = xstrdup(dir);
    d->checkpoint = xasprintf("%s/checkpoint", dir);
    d->archive = xasprintf("%s/archive", dir);
    d->front = xasprintf("%s/front.csv", dir);
    d->generations = xasprintf("%s/generations.csv", dir);
    d->problem = xasprintf("%s/problem.yaml", dir);
    d->holdout = xasprintf("%s/holdout.csv", dir);
    d->greedy = xasprintf("%s/greedy.csv", dir);
}

void rundir_deinit(rundir *d)
{
    free(d->dir);
    free(d->checkpoint);
    free(d->archive);
    free(d->front);
    free(d->generations);
    free(d->problem);
    free(d->holdout);
    free(d->greedy);
    memset(d, 0, sizeof *d);
}

int rundir_has_run(const rundir *d)
{
    const char *const paths[] = {d->checkpoint, d->archive, d->front, d->generations, d->problem, d->greedy};
    for (int i = 0; i < 6; i++)
        if (access(paths[i], F_OK) == 0) return 1;
    return 0;
}

void rundir_remove_outputs(const rundir *d)
{
    unlink(d->checkpoint);
    unlink(d->archive);
    unlink(d->generations);
    unlink(d->front);
    unlink(d->greedy);
}

static int write_full(int fd, const void *data, size_t len)
{
    const unsigned char *p = data;
    while (len) {
        ssize_t w = write(fd, p, len);
        if (w < 0) {
            if (errno == EINTR) continue;
            return -1;
        }
        p += w;
        len -= (size_t)w;
    }
    return 0;
}

/* ---------- archive ---------- */

size_t rundir_archive_record_bytes(int n_obj, size_t key_bytes) { return 16 + 8 * (size_t)n_obj + 8 + key_bytes; }

static void arch_header(unsigned char h[RUNDIR_ARCHIVE_HEADER], int n_obj, size_t key_bytes, uint64_t hash)
{
    memcpy(h, ARCH_MAGIC, 8);
    ckpt_le32(h + 8, RUNDIR_ARCHIVE_VERSION);
    ckpt_le32(h + 12, (uint32_t)n_obj);
    ckpt_le64(h + 16, key_bytes);
    ckpt_le64(h + 24, hash);
}

int rundir_archive_create(const char *path, int n_obj, size_t key_bytes, uint64_t problem_hash)
{
    unsigned char h[RUNDIR_ARCHIVE_HEADER];
    arch_header(h, n_obj, key_bytes, problem_hash);
    return afile_write_all(path, h, sizeof h);
}

/* Read up to `count` records into `a`; *n_read gets how many complete records were there (stopping
 * quietly at the end of the file). Errors other than a short file are reported. */
static int archive_read(const char *path, uint64_t problem_hash, archive *a, uint64_t count, uint64_t *n_read)
{
    *n_read = 0;
    FILE *fp = fopen(path, "rb");
    if (!fp) return msg_error(ST_EIO, "cannot open '%s': %s", path, strerror(errno));
    int M = archive_n_obj(a);
    size_t kb = archive_key_bytes(a), rec = rundir_archive_record_bytes(M, kb);
    unsigned char h[RUNDIR_ARCHIVE_HEADER];
    int rc = ST_OK;
    size_t got = fread(h, 1, sizeof h, fp);
    if (got < 8 || memcmp(h, ARCH_MAGIC, 8)) {
        rc = msg_error(ST_EFORMAT, "'%s' is not an archive file", path);
    } else if (got != sizeof h) {
        rc = msg_error(ST_EFORMAT, "'%s' is truncated: %zu of the %d header bytes", path, got, RUNDIR_ARCHIVE_HEADER);
    } else if (ckpt_rd32(h + 8) != RUNDIR_ARCHIVE_VERSION) {
        rc = msg_error(ST_EFORMAT, "'%s' has archive format version %u; this program reads version %u", path,
                       (unsigned)ckpt_rd32(h + 8), (unsigned)RUNDIR_ARCHIVE_VERSION);
    } else if (ckpt_rd32(h + 12) != (uint32_t)M || ckpt_rd64(h + 16) != kb || ckpt_rd64(h + 24) != problem_hash) {
        const char *field = ckpt_rd32(h + 12) != (uint32_t)M ? "objective count" :
                            ckpt_rd64(h + 16) != kb          ? "genome key size" : "problem hash";
        rc = msg_error(ST_EFORMAT, "'%s' belongs to a different problem (header field %s differs)", path, field);
    }
    unsigned char *buf = xmalloc(rec);
    double *f = xmalloc((size_t)M * sizeof *f);
    for (uint64_t i = 0; rc == ST_OK && i < count; i++) {
        got = fread(buf, 1, rec, fp);
        if (got != rec) break;
        if (ckpt_crc32(0, buf + 16, rec - 16) != ckpt_rd32(buf + 12)) {
            rc = msg_error(ST_EFORMAT, "'%s' is corrupt: record %llu (byte %llu) fails its checksum", path,
                           (unsigned long long)i, (unsigned long long)(RUNDIR_ARCHIVE_HEADER + i * rec));
            break;
        }
        for (int j = 0; j < M; j++) {
            uint64_t bits = ckpt_rd64(buf + 16 + 8 * (size_t)j);
            memcpy(&f[j], &bits, 8);
        }
        uint64_t bits = ckpt_rd64(buf + 16 + 8 * (size_t)M);
        double cv;
        memcpy(&cv, &bits, 8);
        /* a record with a valid CRC can still be wrong (crafted, or written by a faulty program): every
         * record the run appended was evaluated, hashed and unique */
        const unsigned char *key = buf + 24 + 8 * (size_t)M;
        uint64_t hash = ckpt_rd64(buf), at = RUNDIR_ARCHIVE_HEADER + i * rec;
        char what[160] = "";
        int nan_obj = 0;
        while (nan_obj < M && !isnan(f[nan_obj])) nan_obj++;
        if (nan_obj < M) {
            snprintf(what, sizeof what, "objective %d is NaN", nan_obj + 1);
        } else if (!(cv >= 0)) {
            snprintf(what, sizeof what, "violation is %g, not >= 0", cv);
        } else if (ckpt_rd32(buf + 8) < 1) {
            snprintf(what, sizeof what, "generation is 0, not >= 1");
        } else if (hash != archive_hash(key, kb)) {
            snprintf(what, sizeof what, "genome hash %016" PRIx64 " is not the hash of its genome", hash);
        } else {
            long dup = archive_find(a, hash, key);
            if (dup >= 0) snprintf(what, sizeof what, "its genome repeats record %ld", dup);
        }
        if (what[0]) {
            rc = msg_error(ST_EFORMAT, "'%s': record %llu (byte %llu): %s", path, (unsigned long long)i,
                           (unsigned long long)at, what);
            break;
        }
        archive_add(a, hash, key, f, cv, (long)ckpt_rd32(buf + 8));
        ++*n_read;
    }
    free(f);
    free(buf);
    fclose(fp);
    return rc;
}

int rundir_archive_load(const char *path, uint64_t problem_hash, archive *a, uint64_t count)
{
    uint64_t n;
    int rc = archive_read(path, problem_hash, a, count, &n);
    if (rc == ST_OK && count != UINT64_MAX && n < count)
        rc = msg_error(ST_EFORMAT, "'%s' is truncated: %llu of %llu records", path, (unsigned long long)n,
                       (unsigned long long)count);
    return rc;
}

int rundir_archive_append(int fd, const char *path, const archive *a, size_t first, size_t end)
{
    if (end == first) return ST_OK;
    size_t M = (size_t)archive_n_obj(a), kb = archive_key_bytes(a), rec = rundir_archive_record_bytes((int)M, kb);
    size_t bytes = (end - first) * rec;
    unsigned char *buf = xmalloc(bytes), *q = buf;
    for (size_t i = first; i < end; i++, q += rec) {
        ckpt_le64(q, archive_entry_hash(a, i));
        ckpt_le32(q + 8, (uint32_t)archive_generation(a, i));
        const double *f = archive_obj(a, i);
        for (size_t j = 0; j <= M; j++) {
            double v = j < M ? f[j] : archive_cv(a, i);
            uint64_t bits;
            memcpy(&bits, &v, 8);
            ckpt_le64(q + 16 + 8 * j, bits);
        }
        memcpy(q + 24 + 8 * M, archive_key(a, i), kb);
        ckpt_le32(q + 12, ckpt_crc32(0, q + 16, rec - 16));
    }
    off_t off = (off_t)(RUNDIR_ARCHIVE_HEADER + first * rec);
    int rc = ST_OK;
    if (lseek(fd, off, SEEK_SET) < 0 || write_full(fd, buf, bytes) || fdatasync(fd))
        rc = msg_error(ST_EIO, "cannot write '%s': %s", path, strerror(errno));
    free(buf);
    return rc;
}

/* ---------- checkpoint ---------- */

int rundir_ckpt_write(const char *path, const prob *p, const rundir_ckpt *c, const nsga *ga)
{
    ckpt_writer w;
    ckpt_writer_init(&w);
    ckpt_put_u64(&w, p->hash);
    ckpt_put_u64(&w, p->n_genes);
    ckpt_put_u32(&w, (uint32_t)p->n_obj);
    nsga_save_settings(&w, &c->ga);
    nsga_save_counters(&w, ga);
    ckpt_put_f64(&w, c->elapsed);
    ckpt_put_f64(&w, c->hv_best);
    ckpt_put_i64(&w, c->hv_best_gen);
    ckpt_put_u64(&w, c->archive_records);
    ckpt_put_u64(&w, c->generations_bytes);
    unsigned char st[RNG_STATE_BYTES];
    rng_save(&c->rng, st);
    ckpt_put_bytes(&w, st, sizeof st);
    nsga_save_population(&w, ga);
    if (nsga_block_settings_used(&nsga_config(ga)->ga)) nsga_save_block_settings(&w, ga);
    int rc = ckpt_file_write(path, CKPT_MAGIC, RUNDIR_CKPT_VERSION, &w);
    ckpt_writer_deinit(&w);
    return rc;
}

int rundir_ckpt_read(const char *path, const char *problem_path, const prob *p, rundir_ckpt *c, nsga **out)
{
    unsigned char *data;
    ckpt_reader rd;
    int rc = ckpt_file_read(path, CKPT_MAGIC, RUNDIR_CKPT_VERSION, "checkpoint", &data, &rd);
    if (rc) return rc;
    nsga *ga = NULL;
    char err[256] = "";
    uint64_t hash = ckpt_get_u64(&rd), L = ckpt_get_u64(&rd);
    uint32_t M = ckpt_get_u32(&rd);
    if (rd.err) {
        rc = msg_error(ST_EFORMAT, "'%s' is damaged: it ends inside the problem's identity", path);
        goto out;
    }
    if (hash != p->hash || L != p->n_genes || M != (uint32_t)p->n_obj) {
        rc = msg_error(ST_EFORMAT, "'%s' was written for a different problem than '%s' (problem hash differs)", path,
                       problem_path);
        goto out;
    }
    if ((rc = nsga_load_settings(&rd, &c->ga, err, sizeof err))) goto bad;
    nsga_cfg cfg = {p->n_genes, p->genes, p->n_obj, c->ga, p->n_blocks, p->blocks};
    ga = nsga_alloc(&cfg);
    if ((rc = nsga_load_counters(&rd, ga, err, sizeof err))) goto bad;
    c->elapsed = ckpt_get_f64(&rd);
    c->hv_best = ckpt_get_f64(&rd);
    c->hv_best_gen = (long)ckpt_get_i64(&rd);
    c->archive_records = ckpt_get_u64(&rd);
    c->generations_bytes = ckpt_get_u64(&rd);
    unsigned char st[RNG_STATE_BYTES];
    ckpt_get_bytes(&rd, st, sizeof st);
    if (rd.err) {
        rc = ST_EFORMAT;
        snprintf(err, sizeof err, "ends inside the run's counters");
        goto bad;
    }
    long gen = nsga_generation(ga);
    rc = ST_EFORMAT;
    if (!(c->elapsed >= 0 && c->elapsed <= 1e300)) {
        snprintf(err, sizeof err, "seconds spent is %g, not >= 0", c->elapsed);
    } else if (c->hv_best_gen < 0 || c->hv_best_gen > gen) {
        snprintf(err, sizeof err, "generation of the best hypervolume is %ld, outside 0..%ld", c->hv_best_gen, gen);
    } else if (c->archive_records != (uint64_t)nsga_evaluations(ga)) {
        /* every evaluation is one archive record, appended before the checkpoint is written */
        snprintf(err, sizeof err, "archive records is %llu, but evaluations is %ld (they are equal in every checkpoint)",
                 (unsigned long long)c->archive_records, nsga_evaluations(ga));
    } else if (c->generations_bytes > (uint64_t)INT64_MAX) {
        snprintf(err, sizeof err, "generations.csv size is %llu bytes", (unsigned long long)c->generations_bytes);
    } else if (rng_load(&c->rng, st) != 0) {
        snprintf(err, sizeof err, "random generator state is invalid");
    } else {
        rc = ST_OK;
    }
    if (rc) goto bad;
    if ((rc = nsga_load_population(&rd, ga, err, sizeof err))) goto bad;
    if (ckpt_remaining(&rd) != 0) {
        if ((rc = nsga_load_block_settings(&rd, ga, err, sizeof err))) goto bad;
        const nsga_settings *gs = &nsga_config(ga)->ga;
        c->ga.block_crossover = gs->block_crossover;
        c->ga.block_run = gs->block_run;
        c->ga.block_rate = gs->block_rate;
    }
    if (ckpt_remaining(&rd) != 0) {
        rc = ST_EFORMAT;
        snprintf(err, sizeof err, "%zu bytes follow the population", ckpt_remaining(&rd));
        goto bad;
    }
    *out = ga;
    ga = NULL;
    goto out;
bad:
    rc = msg_error(ST_EFORMAT, "%s: %s", path, err);
out:
    nsga_free(ga);
    free(data);
    return rc;
}

int rundir_resume_archive(const rundir *d, uint64_t problem_hash, nsga *ga, uint64_t records)
{
    uint64_t n;
    int rc = archive_read(d->archive, problem_hash, nsga_archive(ga), records, &n);
    if (rc) return rc;
    if (n < records)
        /* resume only ever cuts the archive back to the checkpoint's count, so a shorter one is damaged,
         * or the checkpoint is another run's (a crafted or copied file) */
        return msg_error(ST_EFORMAT, "'%s' is truncated: %llu of %llu records (the count in field 'archive records' of "
                                     "'%s'): the archive is damaged, or the checkpoint is from another run",
                         d->archive, (unsigned long long)n, (unsigned long long)records, d->checkpoint);
    char err[256];
    int same_run = nsga_check_archive(ga, err, sizeof err) == ST_OK;
    if (!same_run)
        return msg_error(ST_EFORMAT, "'%s' does not match '%s': %s (the two files are from different runs)",
                         d->checkpoint, d->archive, err);
    return ST_OK;
}

/* ---------- front.csv ---------- */

typedef struct front_ctx {
    const double *f;
    int m;
    const size_t *id;
} front_ctx;

static int front_less(const front_ctx *c, size_t a, size_t b)
{
    for (int j = 0; j < c->m; j++) {
        double fa = c->f[a * (size_t)c->m + j], fb = c->f[b * (size_t)c->m + j];
        if (fa != fb) return fa < fb;
    }
    return c->id[a] < c->id[b];
}

/* Write rows sel[0..k) of (f, cv, x, id), sorted by front_less, to `path` atomically. */
static int front_write_sel(const char *path, const prob *p, size_t *sel, size_t k, const size_t *id, const double *f,
                           const double *cv, const double *x)
{
    size_t M = (size_t)p->n_obj, L = p->n_genes;
    front_ctx c = {f, p->n_obj, id};
    for (size_t i = 1; i < k; i++) /* insertion sort: fronts are small */
        for (size_t j = i; j > 0 && front_less(&c, sel[j], sel[j - 1]); j--) {
            size_t t = sel[j];
            sel[j] = sel[j - 1];
            sel[j - 1] = t;
        }
    /* front.csv is derived from the checkpoint (resume rewrites it), so it is replaced atomically
     * for readers but not fsync'd: that saves two of the six syncs per generation. */
    char *tmp = xasprintf("%s.tmp.%ld", path, (long)getpid());
    FILE *fp = fopen(tmp, "w");
    if (!fp) {
        int rc = msg_error(ST_EIO, "cannot write '%s': %s", tmp, strerror(errno));
        free(tmp);
        return rc;
    }
    fputs("id", fp);
    for (size_t j = 0; j < M; j++) fprintf(fp, ",f%zu", j + 1);
    if (p->n_con) fputs(",violation", fp);
    if (p->front_extra)
        p->front_extra(p, fp, NULL);
    else
        for (size_t g = 0; g < L; g++) fprintf(fp, ",x%zu", g + 1);
    fputc('\n', fp);
    for (size_t s = 0; s < k; s++) {
        size_t i = sel[s];
        fprintf(fp, "%zu", id[i]);
        for (size_t j = 0; j < M; j++) fprintf(fp, ",%.17g", f[i * M + j]);
        if (p->n_con) fprintf(fp, ",%.17g", cv[i]);
        if (p->front_extra)
            p->front_extra(p, fp, x + i * L);
        else
            for (size_t g = 0; g < L; g++) fprintf(fp, ",%.17g", x[i * L + g]);
        fputc('\n', fp);
    }
    int bad = ferror(fp);
    if (fclose(fp) != 0) bad = 1;
    int rc = ST_OK;
    if (bad || rename(tmp, path) != 0) {
        rc = msg_error(ST_EIO, "cannot write '%s': %s", path, strerror(errno ? errno : EIO));
        unlink(tmp);
    }
    free(tmp);
    return rc;
}

int rundir_front_write(const char *path, const prob *p, const nsga *ga)
{
    nsga_pop pop = nsga_population(ga);
    const archive *a = nsga_archive_const(ga);
    size_t L = pop.n_genes;
    size_t *sel = xmalloc((2 * pop.n + 1) * sizeof *sel), *id = sel + pop.n, k = 0;
    unsigned char *key = xmalloc(nsga_key_bytes(ga));
    for (size_t i = 0; i < pop.n; i++) {
        id[i] = 0;
        if (pop.rank[i] != 0) continue;
        nsga_pack(ga, pop.x + i * L, key);
        long e = archive_find(a, archive_hash(key, nsga_key_bytes(ga)), key);
        ASSERT(e >= 0); /* resume checked the population against the archive (rundir_resume_archive) */
        id[i] = (size_t)e;
        int dup = 0;
        for (size_t j = 0; j < k && !dup; j++) dup = id[sel[j]] == (size_t)e;
        if (!dup) sel[k++] = i;
    }
    free(key);
    int rc = front_write_sel(path, p, sel, k, id, pop.f, pop.cv, pop.x);
    free(sel);
    return rc;
}

/* Constrained domination (the GA's): a feasible row beats an infeasible one, two infeasible rows
 * compare by violation, two feasible rows by Pareto dominance. */
static int cdominates(const double *fa, double cva, const double *fb, double cvb, int m)
{
    if (cva > 0 || cvb > 0) return cva < cvb;
    int better = 0;
    for (int j = 0; j < m; j++) {
        if (fa[j] > fb[j]) return 0;
        if (fa[j] < fb[j]) better = 1;
    }
    return better;
}

int rundir_front_write_rows(const char *path, const prob *p, size_t n, const double *f, const double *cv,
                            const double *x)
{
    size_t M = (size_t)p->n_obj;
    size_t *sel = xmalloc((2 * n + 1) * sizeof *sel), *id = sel + n, k = 0;
    for (size_t i = 0; i < n; i++) {
        id[i] = i;
        int dominated = 0;
        for (size_t j = 0; j < n && !dominated; j++)
            dominated = j != i && cdominates(f + j * M, cv[j], f + i * M, cv[i], p->n_obj);
        if (!dominated) sel[k++] = i;
    }
    int rc = front_write_sel(path, p, sel, k, id, f, cv, x);
    free(sel);
    return rc;
}

int rundir_greedy_write(const char *path, const rundir_greedy_row *rows, size_t n)
{
    afile *af = afile_open(path);
    if (!af) return ST_EIO;
    FILE *fp = afile_stream(af);
    fputs("point,moves,est_energy,est_error,id,energy,loss,violation\n", fp);
    for (size_t i = 0; i < n; i++) {
        const rundir_greedy_row *r = &rows[i];
        fprintf(fp, "%ld,%ld,%.17g,%.17g,%" PRIu64 ",%.17g,%.17g,%.17g\n", r->point, r->moves, r->est_energy,
                r->est_error, r->id, r->energy, r->loss, r->violation);
    }
    return afile_commit(af);
}

void rundir_front_deinit(rundir_front *f)
{
    free(f->id);
    for (int j = 0; j < RUNDIR_MAX_OBJ; j++) free(f->f[j]);
    free(f->violation);
    free(f->genes);
    memset(f, 0, sizeof *f);
}

/* The next comma-separated field of *p (NUL-terminated in place); NULL at the end of the line. */
static char *next_field(char **p)
{
    if (!*p) return NULL;
    char *s = *p, *c = strchr(s, ',');
    if (c) {
        *c = '\0';
        *p = c + 1;
    } else {
        *p = NULL;
    }
    return s;
}

int rundir_front_read(const char *path, int n_obj, size_t n_genes, rundir_front *out)
{
    ASSERT(n_obj >= 1 && n_obj <= RUNDIR_MAX_OBJ);
    char *text;
    size_t len;
    int rc = afile_read_all(path, &text, &len);
    if (rc) return rc;
    rundir_front f = {0};
    f.n_genes = n_genes;
    f.n_obj = n_obj;
    f.hash = util_fnv1a(UTIL_FNV1A_INIT, text, len);
    size_t n_fixed = 1 + (size_t)n_obj; /* id, f1..fM */
    char objs[RUNDIR_MAX_OBJ * 5 + 1] = "";
    for (int j = 0; j < n_obj; j++) snprintf(objs + strlen(objs), sizeof objs - strlen(objs), ",f%d", j + 1);
    char *save = NULL, *line = strtok_r(text, "\n", &save);
    unsigned long lineno = 1;
    if (!line) {
        rc = msg_error(ST_EPARSE, "%s:1:1: empty file (expected the header id%s,...)", path, objs);
        goto fail;
    }
    line[strcspn(line, "\r")] = '\0';
    /* header: id,f1..fM[,violation],x1..xn */
    {
        char *p = line, *tok;
        size_t col = 0, genes = 0;
        while ((tok = next_field(&p))) {
            if (col < n_fixed) {
                char want[16];
                if (col == 0)
                    snprintf(want, sizeof want, "id");
                else
                    snprintf(want, sizeof want, "f%zu", col);
                if (strcmp(tok, want)) {
                    rc = msg_error(ST_EPARSE, "%s:1:%ld: expected column '%s', found '%s'", path, (long)(tok - line) + 1,
                                   want, tok);
                    goto fail;
                }
            } else if (col == n_fixed && !strcmp(tok, "violation")) {
                f.has_violation = 1;
            } else {
                char want_x[32];
                snprintf(want_x, sizeof want_x, "x%zu", genes + 1);
                if (strcmp(tok, want_x)) {
                    rc = msg_error(ST_EPARSE, "%s:1:%ld: expected column '%s', found '%s'", path, (long)(tok - line) + 1,
                                   want_x, tok);
                    goto fail;
                }
                genes++;
            }
            col++;
        }
        if (col < n_fixed) {
            rc = msg_error(ST_EPARSE, "%s:1:1: expected the header id%s[,violation],x1..xn", path, objs);
            goto fail;
        }
        if (genes != n_genes) {
            rc = msg_error(ST_EFORMAT, "%s:1:1: %zu gene columns, but this run's problem has %zu genes", path, genes,
                           n_genes);
            goto fail;
        }
    }
    size_t cap = 16, G = n_genes ? n_genes : 1;
    f.id = xmalloc(cap * sizeof *f.id);
    for (int j = 0; j < n_obj; j++) f.f[j] = xmalloc(cap * sizeof *f.f[j]);
    f.violation = xmalloc(cap * sizeof *f.violation);
    f.genes = xmalloc(cap * G * sizeof *f.genes);
    while ((line = strtok_r(NULL, "\n", &save))) {
        lineno++;
        line[strcspn(line, "\r")] = '\0';
        if (!*line) continue;
        if (f.n_rows == cap) {
            cap *= 2;
            f.id = xrealloc(f.id, cap * sizeof *f.id);
            for (int j = 0; j < n_obj; j++) f.f[j] = xrealloc(f.f[j], cap * sizeof *f.f[j]);
            f.violation = xrealloc(f.violation, cap * sizeof *f.violation);
            f.genes = xrealloc(f.genes, cap * G * sizeof *f.genes);
        }
        size_t r = f.n_rows, want = n_fixed + (size_t)f.has_violation + n_genes, col = 0, line_len = strlen(line);
        char *p = line, *tok;
        while ((tok = next_field(&p))) {
            char *end;
            long at = (long)(tok - line) + 1;
            if (col >= want) {
                rc = msg_error(ST_EPARSE, "%s:%lu:%ld: more than %zu columns", path, lineno, at, want);
                goto fail;
            }
            errno = 0;
            if (col == 0) {
                unsigned long long v = strtoull(tok, &end, 10);
                if (!*tok || *end || errno || *tok == '-') goto bad_number;
                f.id[r] = v;
            } else {
                double v = strtod(tok, &end);
                if (!*tok || *end) goto bad_number;
                if (col < n_fixed)
                    f.f[col - 1][r] = v;
                else if (col == n_fixed && f.has_violation)
                    f.violation[r] = v;
                else
                    f.genes[r * n_genes + (col - n_fixed - (size_t)f.has_violation)] = v;
            }
            col++;
            continue;
        bad_number:
            rc = msg_error(ST_EPARSE, "%s:%lu:%ld: malformed number '%s'", path, lineno, at, tok);
            goto fail;
        }
        if (col != want) {
            rc = msg_error(ST_EPARSE, "%s:%lu:%zu: expected %zu columns, found %zu", path, lineno, line_len + 1, want,
                           col);
            goto fail;
        }
        if (!f.has_violation) f.violation[r] = 0;
        f.n_rows++;
    }
    free(text);
    *out = f;
    return ST_OK;
fail:
    free(text);
    rundir_front_deinit(&f);
    return rc;
}

/* ---------- generations.csv ---------- */

static const char gens_header[] = "generation,evaluations,cache_hits,hypervolume,best_f1,seconds\n";

int rundir_gens_create(const char *path, uint64_t *bytes)
{
    int rc = afile_write_all(path, gens_header, sizeof gens_header - 1);
    if (rc == ST_OK) *bytes = sizeof gens_header - 1;
    return rc;
}

int rundir_gens_append(const char *path, uint64_t *bytes, const rundir_gen *g)
{
    char line[256];
    int n = snprintf(line, sizeof line, "%ld,%ld,%ld,%.10g,%.10g,%.3f\n", g->generation, g->evaluations,
                     g->cache_hits, g->hv, g->best_f1, g->seconds);
    int fd = open(path, O_WRONLY);
    int rc = ST_OK;
    if (fd < 0 || lseek(fd, (off_t)*bytes, SEEK_SET) < 0 || write_full(fd, line, (size_t)n) || fdatasync(fd))
        rc = msg_error(ST_EIO, "cannot write '%s': %s", path, strerror(errno));
    if (fd >= 0) close(fd);
    if (rc == ST_OK) *bytes += (uint64_t)n;
    return rc;
}

int rundir_gens_truncate(const char *path, uint64_t bytes)
{
    struct stat st;
    if (stat(path, &st) != 0 || (uint64_t)st.st_size < bytes || truncate(path, (off_t)bytes))
        return msg_error(ST_EFORMAT, "'%s' is missing or shorter than the checkpoint records", path);
    return ST_OK;
}

int rundir_gens_read(const char *path, rundir_gen **rows, size_t *n)
{
    *rows = NULL;
    *n = 0;
    if (access(path, F_OK) != 0) return ST_OK;
    char *text;
    int rc = afile_read_all(path, &text, NULL);
    if (rc) return rc;
    size_t cap = 64, k = 0;
    rundir_gen *v = xmalloc(cap * sizeof *v);
    char *save = NULL, *line = strtok_r(text, "\n", &save);
    unsigned long lineno = 1;
    if (!line || strncmp(line, gens_header, sizeof gens_header - 2)) {
        free(v);
        free(text);
        return msg_error(ST_EPARSE, "%s:1:1: expected the header generation,evaluations,cache_hits,hypervolume,"
                                    "best_f1,seconds", path);
    }
    while ((line = strtok_r(NULL, "\n", &save))) {
        lineno++;
        rundir_gen g;
        if (sscanf(line, "%ld,%ld,%ld,%lg,%lg,%lg", &g.generation, &g.evaluations, &g.cache_hits, &g.hv, &g.best_f1,
                   &g.seconds) != 6) {
            free(v);
            free(text);
            return msg_error(ST_EPARSE, "%s:%lu:1: malformed row (6 numbers expected)", path, lineno);
        }
        if (k == cap) v = xrealloc(v, (cap *= 2) * sizeof *v);
        v[k++] = g;
    }
    free(text);
    *rows = v;
    *n = k;
    return ST_OK;
}

/* ---------- holdout.csv ----------
 *   # approxmap holdout cache v3 problem=HEX16 search_exact=N front=HEX16 holdout=SPEC
 *   key,id,n,exact,correct,loss_pp,ci_lo,ci_hi,lost,gained,p_mcnemar
 *   HEX16,ID,N,EXACT,CORRECT,%.17g,%.17g,%.17g,LOST,GAINED,%.17g
 *   # crc32 HEX8
 * Version 3 added lost, gained (images the exact model gets right and the map wrong, the reverse) and
 * p_mcnemar, and ci_lo/ci_hi became the exact interval (approx_paired_exact); a v2 cache (normal
 * approximation) has another tag, so it is measured again. Columns are only ever appended, so a CSV
 * reader that takes the first eight by name still reads a v3 file.
 * The last line holds the CRC-32 (ckpt_crc32) of every byte before it; a file without it, or whose
 * bytes do not match it, is not believed. The tag must match for the rows to be used. */

static const char crc_prefix[] = "# crc32 ";

void rundir_holdout_read(const char *path, const rundir_holdout_tag *t, rundir_holdout **rows, size_t *n_rows)
{
    *rows = NULL;
    *n_rows = 0;
    char *text;
    size_t len;
    if (access(path, F_OK) != 0 || afile_read_all(path, &text, &len) != ST_OK) return;
    /* the checksum line: the last line of the file */
    size_t body = len;
    if (body && text[body - 1] == '\n') body--;
    while (body && text[body - 1] != '\n') body--;
    unsigned crc;
    char tail;
    if (strncmp(text + body, crc_prefix, sizeof crc_prefix - 1) ||
        sscanf(text + body + sizeof crc_prefix - 1, "%8x%c", &crc, &tail) != 2 || tail != '\n' ||
        body + sizeof crc_prefix - 1 + 9 != len || ckpt_crc32(0, text, body) != (uint32_t)crc) {
        msg_warn("%s: no valid checksum (damaged, edited or from an older version); the holdout figures will be "
                 "measured again", path);
        goto out;
    }
    text[body] = '\0';
    char want[1024];
    snprintf(want, sizeof want, "# approxmap holdout cache v%d problem=%016" PRIx64 " search_exact=%d ",
             HOLDOUT_CACHE_VERSION, t->problem, t->search_exact);
    char *save = NULL, *line = strtok_r(text, "\n", &save);
    if (!line || strncmp(line, want, strlen(want))) goto out;
    const char *h = strstr(line, " holdout=");
    if (!h || strcmp(h + 9, t->holdout)) goto out;
    line = strtok_r(NULL, "\n", &save); /* column names */
    size_t cap = 16, n = 0;
    rundir_holdout *v = xmalloc(cap * sizeof *v);
    while ((line = strtok_r(NULL, "\n", &save))) {
        rundir_holdout e;
        unsigned long long id;
        if (sscanf(line, "%16" SCNx64 ",%llu,%" SCNd32 ",%" SCNd32 ",%" SCNd32 ",%lg,%lg,%lg,%" SCNd32 ",%" SCNd32 ",%lg",
                   &e.key, &id, &e.n, &e.exact, &e.correct, &e.loss, &e.ci_lo, &e.ci_hi, &e.lost, &e.gained,
                   &e.p) != 11) {
            msg_warn("%s: malformed line ignored; the holdout figures will be measured again", path);
            n = 0;
            break;
        }
        e.id = id;
        if (n == cap) v = xrealloc(v, (cap *= 2) * sizeof *v);
        v[n++] = e;
    }
    *rows = v;
    *n_rows = n;
out:
    free(text);
}

int rundir_holdout_write(const char *path, const rundir_holdout_tag *t, const rundir_holdout *rows, size_t n)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *mem = open_memstream(&buf, &len);
    if (!mem) return msg_error(ST_EIO, "cannot write '%s': %s", path, strerror(errno));
    fprintf(mem,
            "# approxmap holdout cache v%d problem=%016" PRIx64 " search_exact=%d front=%016" PRIx64 " holdout=%s\n",
            HOLDOUT_CACHE_VERSION, t->problem, t->search_exact, t->front, t->holdout);
    fprintf(mem, "key,id,n,exact,correct,loss_pp,ci_lo,ci_hi,lost,gained,p_mcnemar\n");
    for (size_t i = 0; i < n; i++)
        fprintf(mem, "%016" PRIx64 ",%" PRIu64 ",%d,%d,%d,%.17g,%.17g,%.17g,%d,%d,%.17g\n", rows[i].key, rows[i].id,
                (int)rows[i].n, (int)rows[i].exact, (int)rows[i].correct, rows[i].loss, rows[i].ci_lo, rows[i].ci_hi,
                (int)rows[i].lost, (int)rows[i].gained, rows[i].p);
    fclose(mem);
    uint32_t crc = ckpt_crc32(0, buf, len);
    afile *af = afile_open(path);
    int rc = ST_EIO;
    if (af) {
        FILE *fp = afile_stream(af);
        fwrite(buf, 1, len, fp);
        fprintf(fp, "%s%08x\n", crc_prefix, (unsigned)crc);
        rc = afile_commit(af);
    }
    free(buf);
    return rc;
}
