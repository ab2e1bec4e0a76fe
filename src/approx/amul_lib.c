/* Multiplier libraries from YAML (schema: problems/multipliers/README.md). The file is loaded once
 * with yaml_parser_load and walked; every problem is reported as "path:line:col: what" at the
 * offending node: unknown keys, wrong types, unknown families, bad parameters, duplicate names,
 * missing or wrongly sized table files, unloadable shared objects. A failed load frees what it built
 * and leaves the caller's library untouched. */
#include <libgen.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "amul.h"
#include "amul_paths.h"
#include "amul_yaml.h"
#include "msg.h"
#include "status.h"

#ifndef APPROXMAP_SRCDIR
#define APPROXMAP_SRCDIR "."
#endif

static const char *const top_keys[] = {"library", "description", "provenance", "multipliers", NULL};
static const char *const prov_keys[] = {"source", "tool", "cell_library", "corner", "stream", NULL};
static const char *const mult_keys[] = {"name", "family", "description", "energy", "k", "m",
                                        "file", "format", "object", "symbol", NULL};
static const char *const energy_keys[] = {"relative", "fj", "source", "tool", "cell_library",
                                          "corner", "stream", NULL};

/* Which parameter keys each family takes (others are rejected as not applying). */
static const char *const roup_params[] = {"k", "m", NULL};
static const char *const table_params[] = {"file", "format", NULL};
static const char *const cfunc_params[] = {"object", "symbol", NULL};
static const char *const param_keys[] = {"k", "m", "file", "format", "object", "symbol", NULL};

static int in_list(const char *const *list, const char *s)
{
    for (int i = 0; list[i]; i++)
        if (!strcmp(list[i], s)) return 1;
    return 0;
}

/* Provenance strings: index i of prov_keys <-> field of amul_energy. */
static char **prov_field(amul_energy *e, int i)
{
    char **f[] = {&e->source, &e->tool, &e->cell_library, &e->corner, &e->stream};
    return f[i];
}

/* Read provenance keys present in mapping `node` into `e` (replacing earlier values). */
static int read_provenance(amul_yaml *y, const yaml_node_t *node, amul_energy *e)
{
    for (int i = 0; prov_keys[i]; i++) {
        yaml_node_t *v = amul_yaml_get(y, node, prov_keys[i]);
        if (!v) continue;
        const char *s;
        int rc = amul_yaml_get_str(y, v, prov_keys[i], &s);
        if (rc) return rc;
        char **f = prov_field(e, i);
        free(*f);
        *f = xstrdup(s);
    }
    return ST_OK;
}

static void copy_provenance(amul_energy *dst, amul_energy *src)
{
    for (int i = 0; prov_keys[i]; i++) {
        char **d = prov_field(dst, i), **s = prov_field(src, i);
        free(*d);
        *d = *s ? xstrdup(*s) : NULL;
    }
}

static void free_provenance(amul_energy *e)
{
    for (int i = 0; prov_keys[i]; i++) {
        char **f = prov_field(e, i);
        free(*f);
        *f = NULL;
    }
}

static int valid_name(const char *s)
{
    if (!*s) return 0;
    for (const char *p = s; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || *p == '_' ||
              *p == '-' || *p == '.' || *p == '+'))
            return 0;
    return 1;
}

/* Path of `file` relative to the directory holding the library `lib_path`. Caller frees. */
static char *beside(const char *lib_path, const char *file)
{
    if (file[0] == '/') return xstrdup(file);
    char *tmp = xstrdup(lib_path);
    char *dir = dirname(tmp);
    char *out = strcmp(dir, ".") ? xasprintf("%s/%s", dir, file) : xstrdup(file);
    free(tmp);
    return out;
}

/* A required parameter: its value node, or an error at the multiplier's entry. */
static int need(amul_yaml *y, const yaml_node_t *entry, const char *key, const char *name, const char *fam,
                yaml_node_t **out)
{
    *out = amul_yaml_get(y, entry, key);
    if (*out) return ST_OK;
    return amul_yaml_error(y, entry, ST_EFORMAT, "%s multiplier '%s' needs '%s'", fam, name, key);
}

/* Build one multiplier from its entry. `dflt` is the library-wide provenance. */
static int read_mult(amul_yaml *y, const yaml_node_t *entry, amul_energy *dflt, amul *out)
{
    int rc = amul_yaml_expect(y, entry, YAML_MAPPING_NODE, "a multiplier");
    if (rc) return rc;
    if ((rc = amul_yaml_check_keys(y, entry, mult_keys))) return rc;
    yaml_node_t *nn = amul_yaml_get(y, entry, "name"), *fn = amul_yaml_get(y, entry, "family");
    if (!nn) return amul_yaml_error(y, entry, ST_EFORMAT, "multiplier has no 'name'");
    const char *name, *fam;
    if ((rc = amul_yaml_get_str(y, nn, "name", &name))) return rc;
    if (!valid_name(name))
        return amul_yaml_error(y, nn, ST_EFORMAT, "bad multiplier name '%s' (letters, digits, _ - . + only)", name);
    if (!fn) return amul_yaml_error(y, entry, ST_EFORMAT, "multiplier '%s' has no 'family'", name);
    if ((rc = amul_yaml_get_str(y, fn, "family", &fam))) return rc;

    const char *const *params;
    amul_family family;
    if (!strcmp(fam, "exact")) family = AMUL_EXACT, params = NULL;
    else if (!strcmp(fam, "roup")) family = AMUL_ROUP, params = roup_params;
    else if (!strcmp(fam, "table")) family = AMUL_TABLE, params = table_params;
    else if (!strcmp(fam, "c_function")) family = AMUL_CFUNC, params = cfunc_params;
    else
        return amul_yaml_error(y, fn, ST_EFORMAT, "unknown multiplier family '%s' (exact, roup, table, c_function)",
                               fam);
    for (yaml_node_pair_t *p = entry->data.mapping.pairs.start; p < entry->data.mapping.pairs.top; p++) {
        yaml_node_t *k = amul_yaml_node(y, p->key);
        const char *ks = amul_yaml_str(k);
        if (in_list(param_keys, ks) && !(params && in_list(params, ks)))
            return amul_yaml_error(y, k, ST_EFORMAT, "key '%s' does not apply to family '%s'", ks, fam);
    }

    amul m;
    switch (family) {
    case AMUL_EXACT:
        amul_init_exact(&m, name);
        break;
    case AMUL_ROUP: {
        yaml_node_t *kn, *mn;
        long k, mm;
        if ((rc = need(y, entry, "k", name, fam, &kn)) || (rc = need(y, entry, "m", name, fam, &mn)) ||
            (rc = amul_yaml_get_long(y, kn, "k", &k)) || (rc = amul_yaml_get_long(y, mn, "m", &mm)))
            break;
        if (k < 0 || k > AMUL_ROUP_KMAX) {
            rc = amul_yaml_error(y, kn, ST_EFORMAT, "bad parameter k = %ld for roup (0..%d)", k, AMUL_ROUP_KMAX);
            break;
        }
        if (mm < 0 || mm > AMUL_ROUP_MMAX) {
            rc = amul_yaml_error(y, mn, ST_EFORMAT, "bad parameter m = %ld for roup (0..%d)", mm, AMUL_ROUP_MMAX);
            break;
        }
        rc = amul_init_roup(&m, name, (int)k, (int)mm);
        break;
    }
    case AMUL_TABLE: {
        yaml_node_t *filen, *fmtn = amul_yaml_get(y, entry, "format");
        const char *file, *fmt = "int16";
        if ((rc = need(y, entry, "file", name, fam, &filen)) || (rc = amul_yaml_get_str(y, filen, "file", &file)))
            break;
        if (fmtn && (rc = amul_yaml_get_str(y, fmtn, "format", &fmt))) break;
        int bytes = !strcmp(fmt, "int16") ? 2 : !strcmp(fmt, "int32") ? 4 : 0;
        if (!bytes) {
            rc = amul_yaml_error(y, fmtn, ST_EFORMAT, "bad parameter format = '%s' (int16 or int32)", fmt);
            break;
        }
        char *path = beside(y->path, file), *fw = amul_yaml_where(y, filen);
        rc = amul_init_table_file(&m, name, path, bytes, fw);
        free(fw);
        free(path);
        break;
    }
    case AMUL_CFUNC: {
        yaml_node_t *on, *sn;
        const char *obj, *sym;
        if ((rc = need(y, entry, "object", name, fam, &on)) || (rc = need(y, entry, "symbol", name, fam, &sn)) ||
            (rc = amul_yaml_get_str(y, on, "object", &obj)) || (rc = amul_yaml_get_str(y, sn, "symbol", &sym)))
            break;
        char *path = beside(y->path, obj), *ow = amul_yaml_where(y, on);
        rc = amul_init_cfunc(&m, name, path, sym, ow);
        free(ow);
        free(path);
        break;
    }
    }
    if (rc) return rc;
    m.line = (int)entry->start_mark.line + 1;
    m.col = (int)entry->start_mark.column + 1;

    yaml_node_t *dn = amul_yaml_get(y, entry, "description");
    const char *desc;
    if (dn) {
        if ((rc = amul_yaml_get_str(y, dn, "description", &desc))) goto fail;
        m.description = xstrdup(desc);
    }
    copy_provenance(&m.energy, dflt);
    yaml_node_t *en = amul_yaml_get(y, entry, "energy");
    if (en) {
        if ((rc = amul_yaml_expect(y, en, YAML_MAPPING_NODE, "'energy'")) || (rc = amul_yaml_check_keys(y, en, energy_keys)))
            goto fail;
        yaml_node_t *rn = amul_yaml_get(y, en, "relative"), *jn = amul_yaml_get(y, en, "fj");
        if (rn) {
            if ((rc = amul_yaml_get_double(y, rn, "relative", &m.energy.rel))) goto fail;
            if (!(m.energy.rel > 0)) {
                rc = amul_yaml_error(y, rn, ST_EFORMAT, "relative energy must be positive");
                goto fail;
            }
        }
        if (jn) {
            if ((rc = amul_yaml_get_double(y, jn, "fj", &m.energy.fj))) goto fail;
            if (!(m.energy.fj > 0)) {
                rc = amul_yaml_error(y, jn, ST_EFORMAT, "energy in fJ must be positive");
                goto fail;
            }
        }
        if ((rc = read_provenance(y, en, &m.energy))) goto fail;
    }
    *out = m;
    return ST_OK;
fail:
    amul_deinit(&m);
    return rc;
}

int amul_lib_load(amul_lib *lib, const char *path)
{
    amul_yaml y;
    int rc = amul_yaml_load(&y, path);
    if (rc) return rc;
    amul_lib l = {0};
    amul_energy dflt = {0};
    l.path = xstrdup(path);
    if ((rc = amul_yaml_expect(&y, y.root, YAML_MAPPING_NODE, "a multiplier library")) ||
        (rc = amul_yaml_check_keys(&y, y.root, top_keys)))
        goto done;
    const char *s;
    yaml_node_t *n;
    if ((n = amul_yaml_get(&y, y.root, "library"))) {
        if ((rc = amul_yaml_get_str(&y, n, "library", &s))) goto done;
        l.name = xstrdup(s);
    }
    if ((n = amul_yaml_get(&y, y.root, "description"))) {
        if ((rc = amul_yaml_get_str(&y, n, "description", &s))) goto done;
        l.description = xstrdup(s);
    }
    if ((n = amul_yaml_get(&y, y.root, "provenance"))) {
        if ((rc = amul_yaml_expect(&y, n, YAML_MAPPING_NODE, "'provenance'")) ||
            (rc = amul_yaml_check_keys(&y, n, prov_keys)) || (rc = read_provenance(&y, n, &dflt)))
            goto done;
    }
    yaml_node_t *list = amul_yaml_get(&y, y.root, "multipliers");
    if (!list) {
        rc = amul_yaml_error(&y, y.root, ST_EFORMAT, "library has no 'multipliers' list");
        goto done;
    }
    if ((rc = amul_yaml_expect(&y, list, YAML_SEQUENCE_NODE, "'multipliers'"))) goto done;
    int cap = (int)(list->data.sequence.items.top - list->data.sequence.items.start);
    if (cap == 0) {
        rc = amul_yaml_error(&y, list, ST_EFORMAT, "library lists no multipliers");
        goto done;
    }
    l.mults = xcalloc((size_t)cap, sizeof *l.mults);
    for (yaml_node_item_t *it = list->data.sequence.items.start; it < list->data.sequence.items.top; it++) {
        yaml_node_t *entry = amul_yaml_node(&y, *it);
        /* duplicate names are found before the (possibly costly) table is built */
        yaml_node_t *nn = entry->type == YAML_MAPPING_NODE ? amul_yaml_get(&y, entry, "name") : NULL;
        const char *nm = nn ? amul_yaml_str(nn) : NULL;
        int dup = nm ? amul_lib_find(&l, nm) : -1;
        if (dup >= 0) {
            rc = amul_yaml_error(&y, nn, ST_EFORMAT, "duplicate multiplier name '%s' (first at line %d)", nm,
                                 l.mults[dup].line);
            goto done;
        }
        if ((rc = read_mult(&y, entry, &dflt, &l.mults[l.n]))) goto done;
        l.n++;
    }
done:
    free_provenance(&dflt);
    amul_yaml_deinit(&y);
    if (rc) {
        amul_lib_deinit(&l);
        return rc;
    }
    *lib = l;
    return ST_OK;
}

void amul_lib_deinit(amul_lib *lib)
{
    if (!lib) return;
    for (int i = 0; i < lib->n; i++) amul_deinit(&lib->mults[i]);
    free(lib->mults);
    free(lib->path);
    free(lib->name);
    free(lib->description);
    memset(lib, 0, sizeof *lib);
}

int amul_lib_find(const amul_lib *lib, const char *name)
{
    for (int i = 0; i < lib->n; i++)
        if (!strcmp(lib->mults[i].name, name)) return i;
    return -1;
}

int amul_lib_exact(const amul_lib *lib)
{
    for (int i = 0; i < lib->n; i++)
        if (lib->mults[i].is_exact) return i;
    return -1;
}

static const char *const search_dirs[] = {APPROXMAP_SRCDIR "/problems/multipliers",
                                          AMUL_PKGDATADIR "/problems/multipliers", NULL};

char *amul_lib_default_path(void)
{
    for (int i = 0; search_dirs[i]; i++) {
        char *p = xasprintf("%s/roup8.yaml", search_dirs[i]);
        if (access(p, R_OK) == 0) return p;
        free(p);
    }
    return xasprintf("%s/roup8.yaml", search_dirs[0]);
}

char *amul_lib_resolve(const char *arg)
{
    if (access(arg, F_OK) == 0 || strchr(arg, '/')) return xstrdup(arg);
    for (int i = 0; search_dirs[i]; i++)
        for (int ext = 0; ext < 2; ext++) {
            char *p = xasprintf("%s/%s%s", search_dirs[i], arg, ext ? ".yaml" : "");
            if (access(p, R_OK) == 0) return p;
            free(p);
        }
    return xstrdup(arg);
}
