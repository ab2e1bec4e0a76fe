/* Bounded YAML loading for every YAML reader (problem files, maps, multiplier libraries, energy
 * models). libyaml's loader takes time quadratic in the nesting depth and silently ignores every
 * document after the first, so the text is first walked as events (constant memory per level):
 * nesting deeper than YLOAD_MAX_DEPTH, a second document and any alias (`*a`; no format needs one, and
 * `&a [*a]` makes a node its own child, a cycle for any reader that recurses) are refused with
 * "path:line:col: what", and only then is it loaded with yaml_parser_load. Anchors alone are harmless. */
#ifndef SRC_YLOAD_H
#define SRC_YLOAD_H

#include <stddef.h>
#include <yaml.h>

/* Deepest nesting of sequences and mappings accepted (the formats need at most 4). */
#define YLOAD_MAX_DEPTH 64

/* Parse `len` bytes of `text` (a file read whole; `path` names it in messages) into `doc`.
 * Errors (reported "path:line:col: what", 1-based): ST_EPARSE for a syntax error, nesting deeper than
 * YLOAD_MAX_DEPTH, more than one document or an alias. On ST_OK the caller frees `doc` with yaml_document_delete();
 * an empty stream gives a document without a root node. */
int yload_parse(const char *path, const char *text, size_t len, yaml_document_t *doc);

/* afile_read_all() + yload_parse(). Errors as above, plus ST_EIO / ST_EFORMAT from reading. */
int yload_file(const char *path, yaml_document_t *doc);

#endif
