/* Bounded YAML loading (see yload.h). */
#include "yload.h"

#include <stdlib.h>

#include "afile.h"
#include "msg.h"
#include "status.h"

static int parse_error(const char *path, const yaml_parser_t *p, const char *text, size_t len)
{
    size_t line = p->problem_mark.line, col = p->problem_mark.column;
    if (p->error == YAML_READER_ERROR) {
        /* the reader (encoding, control characters) gives a byte offset, not a mark */
        line = col = 0;
        for (size_t i = 0; i < p->problem_offset && i < len; i++) {
            if (text[i] == '\n') {
                line++;
                col = 0;
            } else if (((unsigned char)text[i] & 0xC0) != 0x80) {
                col++;
            }
        }
    }
    return msg_error(ST_EPARSE, "%s:%zu:%zu: %s%s%s", path, line + 1, col + 1,
                     p->problem ? p->problem : "malformed YAML", p->context ? " " : "", p->context ? p->context : "");
}

static void parser_init(yaml_parser_t *p, const char *text, size_t len)
{
    if (!yaml_parser_initialize(p)) msg_abort(__FILE__, __LINE__, "out of memory initialising the YAML parser");
    yaml_parser_set_input_string(p, (const unsigned char *)text, len);
}

/* The event walk: depth, document count and aliases, stopping at the first problem. */
static int prescan(const char *path, const char *text, size_t len)
{
    yaml_parser_t p;
    parser_init(&p, text, len);
    int depth = 0, docs = 0, rc = ST_OK;
    for (;;) {
        yaml_event_t ev;
        if (!yaml_parser_parse(&p, &ev)) {
            rc = parse_error(path, &p, text, len);
            break;
        }
        yaml_event_type_t t = ev.type;
        size_t line = ev.start_mark.line + 1, col = ev.start_mark.column + 1;
        if (t == YAML_ALIAS_EVENT) {
            rc = msg_error(ST_EPARSE, "%s:%zu:%zu: YAML alias '*%s': aliases are not accepted (write the value out)",
                           path, line, col, ev.data.alias.anchor ? (const char *)ev.data.alias.anchor : "");
            yaml_event_delete(&ev);
            break;
        }
        yaml_event_delete(&ev);
        if (t == YAML_STREAM_END_EVENT) break;
        if (t == YAML_DOCUMENT_START_EVENT && ++docs > 1) {
            rc = msg_error(ST_EPARSE, "%s:%zu:%zu: a second YAML document; the file must hold exactly one", path,
                           line, col);
            break;
        }
        if ((t == YAML_SEQUENCE_START_EVENT || t == YAML_MAPPING_START_EVENT) && ++depth > YLOAD_MAX_DEPTH) {
            rc = msg_error(ST_EPARSE, "%s:%zu:%zu: nesting deeper than %d", path, line, col, YLOAD_MAX_DEPTH);
            break;
        }
        if (t == YAML_SEQUENCE_END_EVENT || t == YAML_MAPPING_END_EVENT) depth--;
    }
    yaml_parser_delete(&p);
    return rc;
}

int yload_parse(const char *path, const char *text, size_t len, yaml_document_t *doc)
{
    int rc = prescan(path, text, len);
    if (rc) return rc;
    yaml_parser_t p;
    parser_init(&p, text, len);
    if (!yaml_parser_load(&p, doc)) rc = parse_error(path, &p, text, len);
    yaml_parser_delete(&p);
    return rc;
}

int yload_file(const char *path, yaml_document_t *doc)
{
    char *text;
    size_t len;
    int rc = afile_read_all(path, &text, &len);
    if (rc) return rc;
    rc = yload_parse(path, text, len, doc);
    free(text);
    return rc;
}
