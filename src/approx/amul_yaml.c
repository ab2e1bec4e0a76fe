/* libyaml document helpers with positional errors (see amul_yaml.h). libyaml returns 1/0; everything
 * here converts to ST_* codes, and yaml_parser_delete runs on every path. */
#include "amul_yaml.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "msg.h"
#include "status.h"
#include "yload.h"

int amul_yaml_load(amul_yaml *y, const char *path)
{
    memset(y, 0, sizeof *y);
    y->path = path;
    int rc = yload_file(path, &y->doc);
    if (rc) return rc;
    y->root = yaml_document_get_root_node(&y->doc);
    if (!y->root) {
        yaml_document_delete(&y->doc);
        return msg_error(ST_EPARSE, "%s:1:1: empty document", path);
    }
    return ST_OK;
}

void amul_yaml_deinit(amul_yaml *y)
{
    if (y->root) yaml_document_delete(&y->doc);
    y->root = NULL;
}

yaml_node_t *amul_yaml_node(amul_yaml *y, int id)
{
    return yaml_document_get_node(&y->doc, id);
}

char *amul_yaml_where(amul_yaml *y, const yaml_node_t *node)
{
    return xasprintf("%s:%zu:%zu: ", y->path, node->start_mark.line + 1, node->start_mark.column + 1);
}

int amul_yaml_error(amul_yaml *y, const yaml_node_t *node, int code, const char *fmt, ...)
{
    char body[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(body, sizeof body, fmt, ap);
    va_end(ap);
    return msg_error(code, "%s:%zu:%zu: %s", y->path, node->start_mark.line + 1, node->start_mark.column + 1,
                     body);
}

static const char *type_name(yaml_node_type_t t)
{
    switch (t) {
    case YAML_SCALAR_NODE: return "a scalar";
    case YAML_SEQUENCE_NODE: return "a list";
    case YAML_MAPPING_NODE: return "a mapping";
    default: return "nothing";
    }
}

int amul_yaml_expect(amul_yaml *y, const yaml_node_t *node, yaml_node_type_t type, const char *what)
{
    if (node->type == type) return ST_OK;
    return amul_yaml_error(y, node, ST_EFORMAT, "%s must be %s, not %s", what, type_name(type), type_name(node->type));
}

const char *amul_yaml_str(const yaml_node_t *node)
{
    return node->type == YAML_SCALAR_NODE ? (const char *)node->data.scalar.value : NULL;
}

int amul_yaml_get_str(amul_yaml *y, const yaml_node_t *node, const char *key, const char **out)
{
    int rc = amul_yaml_expect(y, node, YAML_SCALAR_NODE, key);
    if (rc) return rc;
    *out = amul_yaml_str(node);
    return ST_OK;
}

int amul_yaml_get_long(amul_yaml *y, const yaml_node_t *node, const char *key, long *out)
{
    const char *s = amul_yaml_str(node);
    char *end;
    errno = 0;
    long v = s ? strtol(s, &end, 10) : 0;
    if (!s || !*s || *end || errno)
        return amul_yaml_error(y, node, ST_EFORMAT, "'%s' must be an integer%s%s%s", key, s ? ", not '" : "",
                               s ? s : "", s ? "'" : "");
    *out = v;
    return ST_OK;
}

int amul_yaml_get_double(amul_yaml *y, const yaml_node_t *node, const char *key, double *out)
{
    const char *s = amul_yaml_str(node);
    char *end;
    errno = 0;
    double v = s ? strtod(s, &end) : 0;
    if (!s || !*s || *end || errno || !isfinite(v))
        return amul_yaml_error(y, node, ST_EFORMAT, "'%s' must be a number%s%s%s", key, s ? ", not '" : "",
                               s ? s : "", s ? "'" : "");
    *out = v;
    return ST_OK;
}

int amul_yaml_check_keys(amul_yaml *y, const yaml_node_t *map, const char *const *allowed)
{
    ASSERT(map->type == YAML_MAPPING_NODE);
    for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top; p++) {
        yaml_node_t *k = amul_yaml_node(y, p->key);
        const char *ks = amul_yaml_str(k);
        if (!ks) return amul_yaml_error(y, k, ST_EFORMAT, "keys must be scalars");
        int known = 0;
        for (int i = 0; allowed[i]; i++)
            if (!strcmp(allowed[i], ks)) known = 1;
        if (!known) return amul_yaml_error(y, k, ST_EFORMAT, "unknown key '%s'", ks);
        for (yaml_node_pair_t *q = map->data.mapping.pairs.start; q < p; q++) {
            const char *qs = amul_yaml_str(amul_yaml_node(y, q->key));
            if (qs && !strcmp(qs, ks)) return amul_yaml_error(y, k, ST_EFORMAT, "duplicate key '%s'", ks);
        }
    }
    return ST_OK;
}

yaml_node_t *amul_yaml_get(amul_yaml *y, const yaml_node_t *map, const char *key)
{
    if (map->type != YAML_MAPPING_NODE) return NULL;
    for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top; p++) {
        const char *ks = amul_yaml_str(amul_yaml_node(y, p->key));
        if (ks && !strcmp(ks, key)) return amul_yaml_node(y, p->value);
    }
    return NULL;
}
