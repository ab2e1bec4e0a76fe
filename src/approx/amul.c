/* Single multipliers: ROUP closed form and Booth model, and the construction of every family's
 * 256x256 product table and (for separable families) its transforms. See amul.h.
 *
 * Invariants established here for every initialised amul: lut holds all 65,536 products (int16);
 * is_exact is computed from the table, not from the family; when `separable` is set, f[0] = 0, f and g
 * lie in -128..128 and f[a] * g[w] == lut[a][w] for every pair (checked, not assumed). */
#include "amul.h"

#include <dlfcn.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "msg.h"
#include "status.h"

int32_t amul_roup_round(int32_t x, int t)
{
    ASSERT(t >= 0 && t <= 7);
    if (t == 0) return x;
    /* >> is arithmetic on every compiler this builds with; multiply rather than << a negative value */
    return ((x >> t) + ((x >> (t - 1)) & 1)) * (1 << t);
}

int32_t amul_roup_mul(int8_t a, int8_t w, int k, int m)
{
    ASSERT(k >= 0 && k <= AMUL_ROUP_KMAX && m >= 0 && m <= AMUL_ROUP_MMAX);
    return amul_roup_round(a, m) * amul_roup_round(w, 2 * k);
}

int32_t amul_roup_booth(int8_t a, int8_t w, int k, int m)
{
    ASSERT(k >= 0 && k <= AMUL_ROUP_KMAX && m >= 0 && m <= AMUL_ROUP_MMAX);
    /* activation as the rounding hardware forms it: the m low bits cleared, then a(m-1) added at
     * weight 2^m (the XOR/incrementer construction) */
    int32_t ar = a;
    if (m > 0) {
        int32_t low_mask = (1 << m) - 1;
        int32_t round_bit = ((uint8_t)a >> (m - 1)) & 1;
        ar = (ar & ~low_mask) + round_bit * (1 << m);
    }
    uint32_t wb = (uint8_t)w; /* two's-complement bits b(0..7) */
    int32_t sum = 0;
    for (int j = 0; j < 4; j++) {
        int32_t b_hi = (wb >> (2 * j + 1)) & 1, b_mid = (wb >> (2 * j)) & 1;
        int32_t b_lo = j == 0 ? 0 : (wb >> (2 * j - 1)) & 1; /* b(-1) = 0 */
        int32_t d = -2 * b_hi + b_mid + b_lo;                /* Booth digit in -2..2 */
        if (j < k) continue;                                /* perforated partial product */
        sum += d * ar * (1 << (2 * j));
    }
    return sum;
}

const char *amul_family_name(amul_family f)
{
    switch (f) {
    case AMUL_EXACT: return "exact";
    case AMUL_ROUP: return "roup";
    case AMUL_TABLE: return "table";
    case AMUL_CFUNC: return "c_function";
    }
    return "?";
}

static void energy_unknown(amul_energy *e)
{
    memset(e, 0, sizeof *e);
    e->rel = NAN;
    e->fj = NAN;
}

/* Common set-up: name, family, empty energy, a fresh table. */
static void start(amul *m, const char *name, amul_family fam)
{
    memset(m, 0, sizeof *m);
    m->name = xstrdup(name);
    m->family = fam;
    m->lut = xmalloc(AMUL_LUT_SIZE * sizeof *m->lut);
    energy_unknown(&m->energy);
}

/* Derive is_exact from the table; when separable, check the transforms against it. */
static void finish(amul *m)
{
    m->is_exact = 1;
    for (int a = -128; a < 128 && m->is_exact; a++)
        for (int w = -128; w < 128; w++)
            if (amul_mul(m, (int8_t)a, (int8_t)w) != a * w) {
                m->is_exact = 0;
                break;
            }
    if (m->is_exact && !m->separable) { /* an exact table is the identity transforms */
        for (int i = 0; i < 256; i++) m->f[i] = m->g[i] = (int8_t)i;
        m->separable = 1;
    }
    if (!m->separable) return;
    ASSERT(m->f[0] == 0);
    for (int i = 0; i < 256; i++) {
        ASSERT(m->f[i] >= -128 && m->f[i] <= 128 && m->g[i] >= -128 && m->g[i] <= 128);
        for (int j = 0; j < 256; j++) ASSERT((int32_t)m->f[i] * m->g[j] == m->lut[i * 256 + j]);
    }
}

void amul_init_exact(amul *m, const char *name)
{
    start(m, name, AMUL_EXACT);
    m->separable = 1;
    for (int i = 0; i < 256; i++) m->f[i] = m->g[i] = (int8_t)i;
    for (int i = 0; i < 256; i++)
        for (int j = 0; j < 256; j++) m->lut[i * 256 + j] = (int16_t)((int8_t)i * (int8_t)j);
    finish(m);
}

int amul_init_roup(amul *mu, const char *name, int k, int m)
{
    if (k < 0 || k > AMUL_ROUP_KMAX)
        return msg_error(ST_EINVAL, "roup parameter k = %d is outside 0..%d", k, AMUL_ROUP_KMAX);
    if (m < 0 || m > AMUL_ROUP_MMAX)
        return msg_error(ST_EINVAL, "roup parameter m = %d is outside 0..%d", m, AMUL_ROUP_MMAX);
    start(mu, name, AMUL_ROUP);
    mu->k = k;
    mu->m = m;
    mu->separable = 1;
    for (int i = 0; i < 256; i++) {
        mu->f[i] = (int16_t)amul_roup_round((int8_t)i, m);
        mu->g[i] = (int16_t)amul_roup_round((int8_t)i, 2 * k);
    }
    for (int i = 0; i < 256; i++)
        for (int j = 0; j < 256; j++)
            mu->lut[i * 256 + j] = (int16_t)amul_roup_mul((int8_t)i, (int8_t)j, k, m);
    finish(mu);
    return ST_OK;
}

int amul_init_table_file(amul *m, const char *name, const char *path, int elem_bytes, const char *where)
{
    ASSERT(elem_bytes == 2 || elem_bytes == 4);
    if (!where) where = "";
    FILE *fp = fopen(path, "rb");
    if (!fp) return msg_error(ST_EIO, "%scannot open table '%s': %s", where, path, strerror(errno));
    struct stat st;
    if (fstat(fileno(fp), &st) != 0) {
        int e = errno;
        fclose(fp);
        return msg_error(ST_EIO, "%scannot read table '%s': %s", where, path, strerror(e));
    }
    long want = (long)AMUL_LUT_SIZE * elem_bytes;
    if ((long)st.st_size != want) {
        fclose(fp);
        return msg_error(ST_EFORMAT, "%stable '%s' has %lld bytes, expected %ld (65536 int%d entries)", where, path,
                         (long long)st.st_size, want, 8 * elem_bytes);
    }
    unsigned char *buf = xmalloc((size_t)want);
    size_t got = fread(buf, 1, (size_t)want, fp);
    int rerr = ferror(fp) ? errno : 0;
    fclose(fp);
    if (got != (size_t)want) {
        free(buf);
        return msg_error(ST_EIO, "%scannot read table '%s': %s", where, path, rerr ? strerror(rerr) : "short read");
    }
    int16_t *lut = xmalloc(AMUL_LUT_SIZE * sizeof *lut);
    for (int i = 0; i < AMUL_LUT_SIZE; i++) {
        const unsigned char *p = buf + (size_t)i * elem_bytes;
        int32_t v;
        if (elem_bytes == 2) {
            v = (int16_t)(uint16_t)(p[0] | (uint16_t)p[1] << 8);
        } else {
            v = (int32_t)((uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24);
            if (v < INT16_MIN || v > INT16_MAX) {
                free(buf);
                free(lut);
                return msg_error(ST_EFORMAT, "%stable '%s': entry [%d][%d] = %ld is outside int16", where, path,
                                 (int)(int8_t)(i >> 8), (int)(int8_t)(i & 255), (long)v);
            }
        }
        lut[i] = (int16_t)v;
    }
    free(buf);
    start(m, name, AMUL_TABLE);
    free(m->lut);
    m->lut = lut;
    m->file = xstrdup(path);
    finish(m);
    return ST_OK;
}

/* Fill a fresh table from fn; ST_EFORMAT (reported with `what`) if a product leaves int16. */
static int table_from_fn(int16_t *lut, amul_fn fn, const char *where, const char *what)
{
    for (int i = 0; i < 256; i++)
        for (int j = 0; j < 256; j++) {
            int32_t v = fn((int8_t)i, (int8_t)j);
            if (v < INT16_MIN || v > INT16_MAX)
                return msg_error(ST_EFORMAT, "%s%s returns %ld for a = %d, w = %d, outside int16", where, what, (long)v,
                                 (int)(int8_t)i, (int)(int8_t)j);
            lut[i * 256 + j] = (int16_t)v;
        }
    return ST_OK;
}

int amul_init_fn(amul *m, const char *name, amul_fn fn)
{
    int16_t *lut = xmalloc(AMUL_LUT_SIZE * sizeof *lut);
    char *what = xasprintf("multiplier '%s'", name);
    int rc = table_from_fn(lut, fn, "", what);
    free(what);
    if (rc) {
        free(lut);
        return rc;
    }
    start(m, name, AMUL_CFUNC);
    free(m->lut);
    m->lut = lut;
    finish(m);
    return ST_OK;
}

int amul_init_cfunc(amul *m, const char *name, const char *so_path, const char *symbol, const char *where)
{
    if (!where) where = "";
    /* dlopen searches the library path for names without '/': make relative names explicit */
    char *p = strchr(so_path, '/') ? xstrdup(so_path) : xasprintf("./%s", so_path);
    void *h = dlopen(p, RTLD_NOW | RTLD_LOCAL);
    free(p);
    if (!h) return msg_error(ST_EIO, "%scannot load shared object '%s': %s", where, so_path, dlerror());
    dlerror();
    void *sym = dlsym(h, symbol);
    const char *err = dlerror();
    if (err || !sym) {
        int rc = msg_error(ST_EFORMAT, "%sshared object '%s' has no function '%s'", where, so_path, symbol);
        dlclose(h);
        return rc;
    }
    amul_fn fn;
    memcpy(&fn, &sym, sizeof fn); /* POSIX guarantees data and function pointers convert */
    int16_t *lut = xmalloc(AMUL_LUT_SIZE * sizeof *lut);
    char *what = xasprintf("function '%s' of '%s'", symbol, so_path);
    int rc = table_from_fn(lut, fn, where, what);
    free(what);
    dlclose(h);
    if (rc) {
        free(lut);
        return rc;
    }
    start(m, name, AMUL_CFUNC);
    free(m->lut);
    m->lut = lut;
    m->file = xstrdup(so_path);
    m->symbol = xstrdup(symbol);
    finish(m);
    return ST_OK;
}

void amul_deinit(amul *m)
{
    if (!m) return;
    free(m->name);
    free(m->file);
    free(m->symbol);
    free(m->lut);
    free(m->description);
    free(m->energy.source);
    free(m->energy.tool);
    free(m->energy.cell_library);
    free(m->energy.corner);
    free(m->energy.stream);
    memset(m, 0, sizeof *m);
}
