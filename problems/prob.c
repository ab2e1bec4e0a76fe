/* Problem-file loader: see prob.h (the type registry and instance helpers are prob_registry.c).
 * libyaml's 1/0 returns are converted to status codes here, and yaml_document_delete /
 * yaml_parser_delete run on every path. Marks are 0-based in libyaml and printed 1-based. */
#include "prob.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "msg.h"
#include "status.h"
#include "yload.h"

/* ---------- positional helpers ---------- */

int prob_yaml_error(const prob_yaml *y, const yaml_node_t *node, const char *fmt, ...)
{
    char text[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    return msg_error(ST_EPARSE, "%s:%lu:%lu: %s", y->path, (unsigned long)node->start_mark.line + 1,
                     (unsigned long)node->start_mark.column + 1, text);
}

static const char *scalar(const yaml_node_t *n) { return (const char *)n->data.scalar.value; }

static int need_scalar(const prob_yaml *y, const yaml_node_t *node, const char *key, const char *what)
{
    if (node->type != YAML_SCALAR_NODE) return prob_yaml_error(y, node, "'%s' must be %s", key, what);
    return ST_OK;
}

int prob_yaml_int(const prob_yaml *y, const yaml_node_t *node, const char *key, long lo, long hi, long *out)
{
    if (need_scalar(y, node, key, "an integer")) return ST_EPARSE;
    const char *s = scalar(node);
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (node->data.scalar.style != YAML_PLAIN_SCALAR_STYLE || end == s || *end || errno)
        return prob_yaml_error(y, node, "'%s' must be an integer, not '%s'", key, s);
    if (v < lo || v > hi) return prob_yaml_error(y, node, "'%s' must be between %ld and %ld, not %ld", key, lo, hi, v);
    *out = v;
    return ST_OK;
}

int prob_yaml_real(const prob_yaml *y, const yaml_node_t *node, const char *key, double lo, double hi, double *out)
{
    if (need_scalar(y, node, key, "a number")) return ST_EPARSE;
    const char *s = scalar(node);
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (node->data.scalar.style != YAML_PLAIN_SCALAR_STYLE || end == s || *end || errno || !isfinite(v))
        return prob_yaml_error(y, node, "'%s' must be a number, not '%s'", key, s);
    if (v < lo || v > hi) return prob_yaml_error(y, node, "'%s' must be between %g and %g, not %s", key, lo, hi, s);
    *out = v;
    return ST_OK;
}

int prob_yaml_str(const prob_yaml *y, const yaml_node_t *node, const char *key, const char **out)
{
    if (need_scalar(y, node, key, "a string")) return ST_EPARSE;
    *out = scalar(node);
    return ST_OK;
}

int prob_yaml_mapping(const prob_yaml *y, const yaml_node_t *node, const char *key)
{
    if (node->type != YAML_MAPPING_NODE) return prob_yaml_error(y, node, "'%s' must be a mapping", key);
    return ST_OK;
}

/* Keys must be scalars and unique within their mapping. */
static int check_keys(const prob_yaml *y, yaml_node_t *map)
{
    for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top; p++) {
        yaml_node_t *k = yaml_document_get_node(y->doc, p->key);
        if (k->type != YAML_SCALAR_NODE) return prob_yaml_error(y, k, "keys must be plain words");
        for (yaml_node_pair_t *q = map->data.mapping.pairs.start; q < p; q++) {
            yaml_node_t *k2 = yaml_document_get_node(y->doc, q->key);
            if (k2->type == YAML_SCALAR_NODE && !strcmp(scalar(k2), scalar(k)))
                return prob_yaml_error(y, k, "duplicate key '%s'", scalar(k));
        }
    }
    return ST_OK;
}

int prob_parse_duration(const char *text, double *seconds)
{
    const char *s = text;
    double total = 0;
    int parts = 0;
    while (*s) {
        char *end;
        errno = 0;
        double v = strtod(s, &end);
        if (end == s || errno || !isfinite(v) || v < 0) return -1;
        double unit = 1;
        switch (*end) {
        case 's': unit = 1; end++; break;
        case 'm': unit = 60; end++; break;
        case 'h': unit = 3600; end++; break;
        case 'd': unit = 86400; end++; break;
        case '\0': if (parts) return -1; break; /* a bare number only on its own: seconds */
        default: return -1;
        }
        total += v * unit;
        parts++;
        s = end;
    }
    if (!parts) return -1;
    *seconds = total;
    return 0;
}

/* ---------- the ga: section ---------- */

static int parse_sub(const prob_yaml *y, yaml_node_t *map, const char *section, nsga_settings *ga, int which)
{
    if (prob_yaml_mapping(y, map, section) || check_keys(y, map)) return ST_EPARSE;
    for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top; p++) {
        yaml_node_t *kn = yaml_document_get_node(y->doc, p->key), *v = yaml_document_get_node(y->doc, p->value);
        const char *k = scalar(kn);
        int rc;
        if (which == 0 && !strcmp(k, "probability"))
            rc = prob_yaml_real(y, v, k, 0, 1, &ga->pc);
        else if (which == 0 && !strcmp(k, "eta"))
            rc = prob_yaml_real(y, v, k, 0, 1000, &ga->eta_c);
        else if (which == 0 && !strcmp(k, "swap"))
            rc = prob_yaml_real(y, v, k, 0, 1, &ga->swap);
        else if (which == 0 && !strcmp(k, "operator")) {
            const char *o;
            rc = prob_yaml_str(y, v, k, &o);
            if (!rc && !strcmp(o, "uniform"))
                ga->block_crossover = 0;
            else if (!rc && !strcmp(o, "block"))
                ga->block_crossover = 1;
            else if (!rc)
                rc = prob_yaml_error(y, v, "unknown crossover operator '%s' (expected uniform or block)", o);
        } else if (which == 0 && !strcmp(k, "block_run"))
            rc = prob_yaml_real(y, v, k, 0, 1, &ga->block_run);
        else if (which == 1 && !strcmp(k, "block_rate"))
            rc = prob_yaml_real(y, v, k, 0, 1, &ga->block_rate);
        else if (which == 1 && !strcmp(k, "eta"))
            rc = prob_yaml_real(y, v, k, 0, 1000, &ga->eta_m);
        else if (which == 1 && !strcmp(k, "rate"))
            rc = prob_yaml_real(y, v, k, 0, 1, &ga->pm_real);
        else if (which == 1 && !strcmp(k, "int_rate"))
            rc = prob_yaml_real(y, v, k, 0, 1, &ga->pm_int);
        else if (which == 1 && !strcmp(k, "creep"))
            rc = prob_yaml_real(y, v, k, 0, 1, &ga->creep);
        else if (which == 2 && !strcmp(k, "generations"))
            rc = prob_yaml_int(y, v, k, 1, 1000000000L, &ga->stall_generations);
        else if (which == 2 && !strcmp(k, "tolerance"))
            rc = prob_yaml_real(y, v, k, 0, 1e300, &ga->stall_tol);
        else
            rc = prob_yaml_error(y, kn, "unknown key '%s' in '%s'", k, section);
        if (rc) return rc;
    }
    if (which == 0 && ga->block_run > 0 && !ga->block_crossover)
        return prob_yaml_error(y, map, "'block_run' needs 'operator: block' in '%s'", section);
    return ST_OK;
}

static int parse_ga(const prob_yaml *y, yaml_node_t *map, nsga_settings *ga)
{
    if (prob_yaml_mapping(y, map, "ga") || check_keys(y, map)) return ST_EPARSE;
    for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top; p++) {
        yaml_node_t *kn = yaml_document_get_node(y->doc, p->key), *v = yaml_document_get_node(y->doc, p->value);
        const char *k = scalar(kn);
        int rc;
        long l;
        if (!strcmp(k, "population")) {
            rc = prob_yaml_int(y, v, k, 4, 100000, &ga->population);
            if (!rc && ga->population % 2) rc = prob_yaml_error(y, v, "'population' must be even, not %ld", ga->population);
        } else if (!strcmp(k, "generations")) {
            rc = prob_yaml_int(y, v, k, 1, 1000000000L, &ga->generations);
        } else if (!strcmp(k, "evaluations")) {
            rc = prob_yaml_int(y, v, k, 0, 4000000000000000000L, &ga->evaluations);
        } else if (!strcmp(k, "time_limit")) {
            rc = need_scalar(y, v, k, "a duration");
            if (!rc && prob_parse_duration(scalar(v), &ga->time_limit))
                rc = prob_yaml_error(y, v, "'time_limit' must be a duration such as 90s, 15m or 8h, not '%s'", scalar(v));
        } else if (!strcmp(k, "seed")) {
            rc = prob_yaml_int(y, v, k, 0, 9223372036854775807L, &l);
            if (!rc) ga->seed = (uint64_t)l;
        } else if (!strcmp(k, "threads")) {
            rc = prob_yaml_int(y, v, k, 0, 1024, &ga->threads);
        } else if (!strcmp(k, "crossover")) {
            rc = parse_sub(y, v, k, ga, 0);
        } else if (!strcmp(k, "mutation")) {
            rc = parse_sub(y, v, k, ga, 1);
        } else if (!strcmp(k, "stagnation")) {
            rc = parse_sub(y, v, k, ga, 2);
        } else {
            rc = prob_yaml_error(y, kn, "unknown key '%s' in 'ga'", k);
        }
        if (rc) return rc;
    }
    return ST_OK;
}

static int parse_reference(const prob_yaml *y, yaml_node_t *v, prob_spec *spec)
{
    if (v->type != YAML_SEQUENCE_NODE) return prob_yaml_error(y, v, "'reference' must be a list of numbers");
    int n = (int)(v->data.sequence.items.top - v->data.sequence.items.start);
    if (n < 1 || n > PROB_MAX_OBJ)
        return prob_yaml_error(y, v, "'reference' must have 1 to %d values, not %d", PROB_MAX_OBJ, n);
    for (int i = 0; i < n; i++) {
        yaml_node_t *e = yaml_document_get_node(y->doc, v->data.sequence.items.start[i]);
        if (prob_yaml_real(y, e, "reference", -1e300, 1e300, &spec->ref[i])) return ST_EPARSE;
    }
    spec->n_ref = n;
    spec->ref_line = (unsigned long)v->start_mark.line + 1;
    spec->ref_col = (unsigned long)v->start_mark.column + 1;
    return ST_OK;
}

static int load_doc(const prob_yaml *y, prob_spec *spec)
{
    yaml_node_t *root = yaml_document_get_root_node(y->doc);
    if (!root) return msg_error(ST_EPARSE, "%s:1:1: empty problem file", y->path);
    if (root->type != YAML_MAPPING_NODE) return prob_yaml_error(y, root, "a problem file must be a mapping of keys");
    if (check_keys(y, root)) return ST_EPARSE;

    yaml_node_t *type_node = NULL;
    for (yaml_node_pair_t *p = root->data.mapping.pairs.start; p < root->data.mapping.pairs.top; p++)
        if (!strcmp(scalar(yaml_document_get_node(y->doc, p->key)), "type"))
            type_node = yaml_document_get_node(y->doc, p->value);
    if (!type_node) return prob_yaml_error(y, root, "missing key 'type' (one of %s)", prob_type_names());
    const char *tname;
    if (prob_yaml_str(y, type_node, "type", &tname)) return ST_EPARSE;
    spec->type = prob_type_find(tname);
    if (!spec->type)
        return prob_yaml_error(y, type_node, "unknown problem type '%s' (known: %s)", tname, prob_type_names());
    if (spec->type->spec_init && spec->type->spec_init(spec)) return ST_EPARSE;

    for (yaml_node_pair_t *p = root->data.mapping.pairs.start; p < root->data.mapping.pairs.top; p++) {
        yaml_node_t *kn = yaml_document_get_node(y->doc, p->key), *v = yaml_document_get_node(y->doc, p->value);
        const char *k = scalar(kn);
        int rc = ST_OK;
        if (!strcmp(k, "type")) continue;
        if (!strcmp(k, "ga"))
            rc = parse_ga(y, v, &spec->ga);
        else if (!strcmp(k, "reference"))
            rc = parse_reference(y, v, spec);
        else if (!strcmp(k, "description"))
            rc = need_scalar(y, v, k, "a string");
        else {
            rc = spec->type->parse_key ? spec->type->parse_key(y, k, kn, v, spec) : 0;
            if (rc == 0) rc = prob_yaml_error(y, kn, "unknown key '%s'", k);
            else if (rc == 1) rc = ST_OK;
        }
        if (rc) return rc;
    }
    if (spec->type->validate) return spec->type->validate(y, root, spec);
    return ST_OK;
}

int prob_load(prob_spec *out, const char *path)
{
    yaml_document_t doc;
    int rc = yload_file(path, &doc);
    if (rc) return rc;
    prob_spec spec;
    memset(&spec, 0, sizeof spec);
    spec.path = xstrdup(path);
    nsga_settings_defaults(&spec.ga);
    prob_yaml y = {path, &doc};
    rc = load_doc(&y, &spec);
    yaml_document_delete(&doc);
    if (rc) {
        prob_spec_deinit(&spec);
        return rc;
    }
    *out = spec;
    return ST_OK;
}

void prob_spec_deinit(prob_spec *spec)
{
    if (spec->type && spec->type->spec_free) spec->type->spec_free(spec);
    free(spec->path);
    memset(spec, 0, sizeof *spec);
}
