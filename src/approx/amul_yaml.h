/* Small helpers over libyaml's document API for the multiplier-library and approximation-map loaders:
 * load a whole file once (yaml_parser_load), then walk nodes and report "path:line:col: what" errors
 * (1-based, from the node's start mark). Nothing outside amul_lib.c and amap.c sees YAML. */
#ifndef SRC_AMUL_YAML_H
#define SRC_AMUL_YAML_H

#include <yaml.h>

/* A loaded document and the file it came from. */
typedef struct amul_yaml {
    const char *path;     /* borrowed */
    yaml_document_t doc;
    yaml_node_t *root;    /* never NULL after a successful load */
} amul_yaml;

/* Parse `path`. Errors (reported with positions): ST_EIO, ST_EPARSE (syntax, or an empty document).
 * Caller frees with amul_yaml_deinit() on success only. */
int amul_yaml_load(amul_yaml *y, const char *path);
void amul_yaml_deinit(amul_yaml *y);

/* Node by index (libyaml item/pair ids). */
yaml_node_t *amul_yaml_node(amul_yaml *y, int id);

/* Report "path:line:col: <message>" at `node`; returns `code`. */
int amul_yaml_error(amul_yaml *y, const yaml_node_t *node, int code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* "path:line:col: " for `node` (heap string; caller frees). */
char *amul_yaml_where(amul_yaml *y, const yaml_node_t *node);

/* Type checks; each reports "expected a <kind>" at the node and returns ST_EFORMAT on mismatch. */
int amul_yaml_expect(amul_yaml *y, const yaml_node_t *node, yaml_node_type_t type, const char *what);

/* Scalar text (NUL-terminated, owned by the document) or NULL when the node is not a scalar. */
const char *amul_yaml_str(const yaml_node_t *node);

/* Read a scalar as a string / integer / number. Errors: ST_EFORMAT, reported at the node. */
int amul_yaml_get_str(amul_yaml *y, const yaml_node_t *node, const char *key, const char **out);
int amul_yaml_get_long(amul_yaml *y, const yaml_node_t *node, const char *key, long *out);
int amul_yaml_get_double(amul_yaml *y, const yaml_node_t *node, const char *key, double *out);

/* Check the keys of a mapping: each must be a scalar listed in `allowed` (NULL-terminated) and appear
 * once. Errors: ST_EFORMAT "unknown key 'x'" / "duplicate key 'x'" at the key. */
int amul_yaml_check_keys(amul_yaml *y, const yaml_node_t *map, const char *const *allowed);

/* Value node of `key` in a mapping, or NULL. */
yaml_node_t *amul_yaml_get(amul_yaml *y, const yaml_node_t *map, const char *key);

#endif
