/* Liberty reader: a generic tokenizer and tree of groups / attributes, then extraction of the cell data
 * described in gate_lib.h. The tree is thrown away after extraction.
 *
 * Grammar handled (Liberty reference, "Syntax"): `name : value ;` (simple attribute; the ';' may be
 * missing at the end of a line), `name ( args ) ;` (complex attribute), `name ( args ) { ... }`
 * (group); C comments; backslash-newline continuations; quoted strings. Line numbers are kept for
 * messages. */
#include "gate_lib.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "afile.h"
#include "msg.h"
#include "status.h"

/* ---- tree ------------------------------------------------------------------------------------ */

typedef struct lnode lnode;
struct lnode {
    char *name;
    int nargs;
    char **args;   /* group / complex attribute arguments */
    char *value;   /* simple attribute value, else NULL */
    int is_group;
    int line, col;
    lnode *child, *last, *next;
};

typedef struct lparser {
    const char *s;   /* borrowed text */
    size_t pos, len;
    int line;
    int depth;       /* group nesting at the current statement */
    const char *path;
    int err;
} lparser;

/* Deepest group nesting accepted (a library needs 6: library, cell, pin, internal_power, table). */
enum { LIB_MAX_DEPTH = 64 };

static void lnode_free(lnode *n)
{
    while (n) {
        lnode *next = n->next;
        lnode_free(n->child);
        free(n->name);
        for (int i = 0; i < n->nargs; i++) free(n->args[i]);
        free(n->args);
        free(n->value);
        free(n);
        n = next;
    }
}

static void skip_space(lparser *p)
{
    while (p->pos < p->len) {
        char c = p->s[p->pos];
        if (c == '\n') { p->line++; p->pos++; }
        else if (c == ' ' || c == '\t' || c == '\r' || c == '\f') p->pos++;
        else if (c == '\\' && p->pos + 1 < p->len && (p->s[p->pos + 1] == '\n' || p->s[p->pos + 1] == '\r')) p->pos++;
        else if (c == '/' && p->pos + 1 < p->len && p->s[p->pos + 1] == '*') {
            p->pos += 2;
            while (p->pos + 1 < p->len && !(p->s[p->pos] == '*' && p->s[p->pos + 1] == '/')) {
                if (p->s[p->pos] == '\n') p->line++;
                p->pos++;
            }
            p->pos += 2;
        } else if (c == '/' && p->pos + 1 < p->len && p->s[p->pos + 1] == '/') {
            while (p->pos < p->len && p->s[p->pos] != '\n') p->pos++;
        } else break;
    }
}

/* Same, but stops at a newline (for attributes whose ';' is missing). Returns 1 at a newline. */
static int skip_blank_to_eol(lparser *p)
{
    while (p->pos < p->len) {
        char c = p->s[p->pos];
        if (c == ' ' || c == '\t' || c == '\r') p->pos++;
        else if (c == '\\' && p->pos + 1 < p->len && p->s[p->pos + 1] == '\n') { p->pos += 2; p->line++; }
        else return c == '\n';
    }
    return 1;
}

static int is_word_char(char c)
{
    return !(isspace((unsigned char)c) || c == '(' || c == ')' || c == '{' || c == '}' || c == ':' ||
             c == ';' || c == ',' || c == '"' || c == '\\');
}

/* 1-based column of byte `pos` (bytes since the last newline). */
static int col_at(const lparser *p, size_t pos)
{
    size_t b = pos < p->len ? pos : p->len;
    while (b > 0 && p->s[b - 1] != '\n') b--;
    return (int)((pos < p->len ? pos : p->len) - b) + 1;
}

static int perr(lparser *p, const char *what)
{
    if (!p->err) p->err = msg_error(ST_EPARSE, "%s:%d:%d: %s", p->path, p->line, col_at(p, p->pos), what);
    return p->err;
}

/* A word or a quoted string (quotes removed). NULL at punctuation. */
static char *read_token(lparser *p)
{
    skip_space(p);
    if (p->pos >= p->len) return NULL;
    char c = p->s[p->pos];
    size_t st = p->pos;
    if (c == '"') {
        int line0 = p->line;
        st = ++p->pos;
        while (p->pos < p->len && p->s[p->pos] != '"') {
            if (p->s[p->pos] == '\n') p->line++;
            p->pos++;
        }
        if (p->pos >= p->len) {
            /* report where the string opens */
            p->line = line0;
            p->pos = st - 1;
            perr(p, "unterminated string");
            return NULL;
        }
        size_t n = p->pos - st;
        p->pos++;
        char *out = xmalloc(n + 1);
        /* drop backslash-newline continuations inside strings */
        size_t o = 0;
        for (size_t i = 0; i < n; i++) {
            if (p->s[st + i] == '\\' && i + 1 < n && (p->s[st + i + 1] == '\n' || p->s[st + i + 1] == '\r')) continue;
            out[o++] = p->s[st + i];
        }
        out[o] = 0;
        return out;
    }
    while (p->pos < p->len && is_word_char(p->s[p->pos])) p->pos++;
    if (p->pos == st) return NULL;
    size_t n = p->pos - st;
    char *out = xmalloc(n + 1);
    memcpy(out, p->s + st, n);
    out[n] = 0;
    return out;
}

static int peek(lparser *p)
{
    skip_space(p);
    return p->pos < p->len ? p->s[p->pos] : -1;
}

static lnode *parse_body(lparser *p, int toplevel);

/* One statement starting at a word; NULL on error or at '}' / end. */
static lnode *parse_statement(lparser *p)
{
    skip_space(p);
    int line = p->line, col = col_at(p, p->pos);
    char *name = read_token(p);
    if (!name) { perr(p, "expected a name"); return NULL; }
    lnode *n = xcalloc(1, sizeof *n);
    n->name = name;
    n->line = line;
    n->col = col;
    int c = peek(p);
    if (c == ':') {
        p->pos++;
        skip_space(p);
        /* value: tokens up to ';' or end of line, joined by spaces (e.g. `when : "A & B";`) */
        char *v = read_token(p);
        if (!v) { perr(p, "expected a value"); lnode_free(n); return NULL; }
        n->value = v;
        for (;;) {
            int nl = skip_blank_to_eol(p);
            if (p->pos < p->len && p->s[p->pos] == ';') { p->pos++; break; }
            if (nl || p->pos >= p->len || p->s[p->pos] == '}') break;
            char *more = read_token(p);
            if (!more) { perr(p, "unexpected character in attribute value"); lnode_free(n); return NULL; }
            char *j = xasprintf("%s %s", n->value, more);
            free(n->value);
            free(more);
            n->value = j;
        }
        return n;
    }
    if (c != '(') { perr(p, "expected ':' or '('"); lnode_free(n); return NULL; }
    p->pos++;
    int cap = 0;
    for (;;) {
        c = peek(p);
        if (c == ')') { p->pos++; break; }
        if (c == ',') { p->pos++; continue; }
        if (c < 0) { perr(p, "unterminated argument list"); lnode_free(n); return NULL; }
        char *a = read_token(p);
        if (!a) { perr(p, "bad argument"); lnode_free(n); return NULL; }
        if (n->nargs == cap) { cap = cap ? 2 * cap : 4; n->args = xrealloc(n->args, cap * sizeof *n->args); }
        n->args[n->nargs++] = a;
    }
    c = peek(p);
    if (c == '{') {
        if (p->depth >= LIB_MAX_DEPTH) {
            perr(p, "groups nested deeper than 64");
            lnode_free(n);
            return NULL;
        }
        p->pos++;
        n->is_group = 1;
        p->depth++;
        n->child = parse_body(p, 0);
        p->depth--;
        if (p->err) { lnode_free(n); return NULL; }
        if (peek(p) != '}') { perr(p, "missing '}'"); lnode_free(n); return NULL; }
        p->pos++;
    } else if (c == ';') {
        p->pos++;
    }
    return n;
}

static lnode *parse_body(lparser *p, int toplevel)
{
    lnode *first = NULL, *last = NULL;
    for (;;) {
        int c = peek(p);
        if (c < 0 || c == '}') break;
        if (c == ';') { p->pos++; continue; }
        lnode *n = parse_statement(p);
        if (!n) break;
        if (last) last->next = n; else first = n;
        last = n;
    }
    if (p->err) { lnode_free(first); return NULL; }
    return first;
}

static const lnode *find_child(const lnode *g, const char *name)
{
    for (const lnode *c = g->child; c; c = c->next)
        if (strcmp(c->name, name) == 0) return c;
    return NULL;
}

static const char *attr(const lnode *g, const char *name)
{
    const lnode *c = find_child(g, name);
    return c && c->value ? c->value : NULL;
}

static int attr_num(const lnode *g, const char *name, double *out)
{
    const char *v = attr(g, name);
    if (!v) return 0;
    char *end;
    double d = strtod(v, &end);
    if (end == v) return 0;
    *out = d;
    return 1;
}

/* ---- tables ---------------------------------------------------------------------------------- */

static int parse_list(const char *s, double **out)
{
    int n = 0, cap = 8;
    double *v = xmalloc(cap * sizeof *v);
    const char *q = s;
    for (;;) {
        while (*q == ' ' || *q == ',' || *q == '\t' || *q == '\n' || *q == '\r' || *q == '\\') q++;
        if (!*q) break;
        char *end;
        double d = strtod(q, &end);
        if (end == q) { free(v); return -1; }
        if (n == cap) { cap *= 2; v = xrealloc(v, cap * sizeof *v); }
        v[n++] = d;
        q = end;
    }
    *out = v;
    return n;
}

static void table_free(gate_table *t)
{
    if (!t) return;
    free(t->idx1);
    free(t->idx2);
    free(t->vals);
    free(t);
}

typedef struct tmpl {
    const lnode *node;
    int load_first;  /* variable_1 is the load */
} tmpl;

/* Build a table from a group such as rise_power(Power_7_7) { index_1 ... values ... }. */
static gate_table *table_read(const lnode *g, const lnode *lib, const char *path, int *err)
{
    const lnode *tp = NULL;
    if (g->nargs > 0)
        for (const lnode *c = lib->child; c; c = c->next)
            if (c->is_group && (strcmp(c->name, "power_lut_template") == 0 || strcmp(c->name, "lu_table_template") == 0) &&
                c->nargs > 0 && strcmp(c->args[0], g->args[0]) == 0) { tp = c; break; }
    const lnode *i1 = find_child(g, "index_1"), *i2 = find_child(g, "index_2"), *vv = find_child(g, "values");
    if (!i1 && tp) i1 = find_child(tp, "index_1");
    if (!i2 && tp) i2 = find_child(tp, "index_2");
    int load_first = 0;
    if (tp) {
        const char *v1 = attr(tp, "variable_1");
        if (v1 && strstr(v1, "capacitance")) load_first = 1;
        if (v1 && !attr(tp, "variable_2") && strstr(v1, "capacitance")) load_first = 2; /* 1-D in load */
    }
    if (!vv || vv->nargs < 1) {
        *err = msg_error(ST_EFORMAT, "%s:%d:%d: table '%s' has no values", path, g->line, g->col, g->name);
        return NULL;
    }
    gate_table *t = xcalloc(1, sizeof *t);
    double *vals = NULL;
    int nv = 0;
    for (int r = 0; r < vv->nargs; r++) {
        double *row;
        int n = parse_list(vv->args[r], &row);
        if (n < 0) { free(vals); table_free(t); *err = msg_error(ST_EFORMAT, "%s:%d:%d: bad number in values", path, vv->line, vv->col); return NULL; }
        vals = xrealloc(vals, (nv + n + 1) * sizeof *vals);
        memcpy(vals + nv, row, n * sizeof *row);
        nv += n;
        free(row);
    }
    double *a = NULL, *b = NULL;
    int na = 0, nb = 0;
    if (i1 && i1->nargs > 0) na = parse_list(i1->args[0], &a);
    if (i2 && i2->nargs > 0) nb = parse_list(i2->args[0], &b);
    if (na < 0 || nb < 0) { free(a); free(b); free(vals); table_free(t); *err = msg_error(ST_EFORMAT, "%s:%d:%d: bad index", path, g->line, g->col); return NULL; }
    if (nv == 1 && na <= 1 && nb <= 1) { free(a); free(b); t->vals = vals; return t; }
    if ((nb > 0 && na * nb != nv) || (nb == 0 && na != nv)) {
        free(a); free(b); free(vals); table_free(t);
        *err = msg_error(ST_EFORMAT, "%s:%d:%d: table '%s' has %d values for a %d x %d grid", path, g->line, g->col, g->name, nv, na, nb);
        return NULL;
    }
    if (nb == 0 && load_first == 2) {
        /* 1-D in load: store as a 1 x n grid */
        t->n1 = 1; t->idx1 = xcalloc(1, sizeof(double)); t->n2 = na; t->idx2 = a; t->vals = vals;
        free(b);
        return t;
    }
    if (nb > 0 && load_first == 1) {
        /* transpose so that axis 1 is the transition */
        double *tv = xmalloc(nv * sizeof *tv);
        for (int i = 0; i < na; i++)
            for (int j = 0; j < nb; j++) tv[j * na + i] = vals[i * nb + j];
        free(vals);
        t->n1 = nb; t->idx1 = b; t->n2 = na; t->idx2 = a; t->vals = tv;
        return t;
    }
    t->n1 = na; t->idx1 = a; t->n2 = nb; t->idx2 = b; t->vals = vals;
    return t;
}

/* Segment of `x` in a sorted grid and the interpolation weight (may be outside 0..1). */
static void locate(const double *g, int n, double x, int *i0, double *f)
{
    if (n < 2) { *i0 = 0; *f = 0; return; }
    int i = 0;
    while (i < n - 2 && x > g[i + 1]) i++;
    double d = g[i + 1] - g[i];
    *i0 = i;
    *f = d != 0 ? (x - g[i]) / d : 0;
}

double gate_table_lookup(const gate_table *t, double tr, double load)
{
    if (!t) return 0;
    if (t->n1 == 0) return t->vals[0];
    int i, j;
    double fi, fj;
    locate(t->idx1, t->n1, tr, &i, &fi);
    if (t->n2 == 0) {
        if (t->n1 == 1) return t->vals[0];
        return t->vals[i] + fi * (t->vals[i + 1] - t->vals[i]);
    }
    locate(t->idx2, t->n2, load, &j, &fj);
    int n2 = t->n2;
    int i1 = t->n1 > 1 ? i + 1 : i, j1 = n2 > 1 ? j + 1 : j;
    double v00 = t->vals[i * n2 + j], v01 = t->vals[i * n2 + j1];
    double v10 = t->vals[i1 * n2 + j], v11 = t->vals[i1 * n2 + j1];
    double a = v00 + fj * (v01 - v00), b = v10 + fj * (v11 - v10);
    return a + fi * (b - a);
}

/* ---- Boolean functions ----------------------------------------------------------------------- */

typedef struct eparser {
    const char *s;
    size_t pos;
    const gate_cell *cell;
    int16_t *prog;
    int n, cap;
    int bad;
    int depth, maxdepth;
    int nest;       /* recursion depth of e_primary */
} eparser;

static void emit(eparser *e, int op, int delta)
{
    if (e->n + 1 >= e->cap) { e->cap = e->cap ? 2 * e->cap : 32; e->prog = xrealloc(e->prog, e->cap * sizeof *e->prog); }
    e->prog[e->n++] = (int16_t)op;
    e->depth += delta;
    if (e->depth > e->maxdepth) e->maxdepth = e->depth;
}

static int epeek(eparser *e)
{
    while (e->s[e->pos] == ' ' || e->s[e->pos] == '\t') e->pos++;
    return (unsigned char)e->s[e->pos];
}

static void e_or(eparser *e);

static void e_primary_body(eparser *e);

static int starts_primary(int c)
{
    return c == '(' || c == '!' || isalnum(c) || c == '_' || c == '[';
}

static void e_primary(eparser *e)
{
    /* '(' and '!' recurse: bound the C stack as well as the evaluation stack */
    if (++e->nest > GATE_EXPR_STACK) {
        e->bad = 3;
        return;
    }
    e_primary_body(e);
    e->nest--;
}

static void e_primary_body(eparser *e)
{
    int c = epeek(e);
    if (c == '!') { e->pos++; e_primary(e); emit(e, GATE_OP_NOT, 0); return; }
    if (c == '(') {
        e->pos++;
        e_or(e);
        if (e->bad) return;
        if (epeek(e) != ')') { e->bad = 1; return; }
        e->pos++;
    } else if (isalnum(c) || c == '_') {
        size_t st = e->pos;
        while (isalnum((unsigned char)e->s[e->pos]) || e->s[e->pos] == '_' || e->s[e->pos] == '[' || e->s[e->pos] == ']')
            e->pos++;
        size_t n = e->pos - st;
        if (n == 1 && (e->s[st] == '0' || e->s[st] == '1')) {
            emit(e, e->s[st] == '1' ? GATE_OP_ONE : GATE_OP_ZERO, 1);
        } else {
            int idx = -1;
            for (int i = 0; i < e->cell->npins; i++)
                if (strlen(e->cell->pins[i].name) == n && memcmp(e->cell->pins[i].name, e->s + st, n) == 0) idx = i;
            if (idx < 0) { e->bad = 2; return; }
            emit(e, GATE_OP_VAR, 1);
            emit(e, idx, 0);
        }
    } else {
        e->bad = 1;
        return;
    }
    while (epeek(e) == '\'') { e->pos++; emit(e, GATE_OP_NOT, 0); }
}

static void e_xor(eparser *e)
{
    e_primary(e);
    while (!e->bad && epeek(e) == '^') { e->pos++; e_primary(e); emit(e, GATE_OP_XOR, -1); }
}

static void e_and(eparser *e)
{
    e_xor(e);
    for (;;) {
        if (e->bad) return;
        int c = epeek(e);
        if (c == '&' || c == '*') { e->pos++; e_xor(e); emit(e, GATE_OP_AND, -1); }
        else if (starts_primary(c)) { e_xor(e); emit(e, GATE_OP_AND, -1); }
        else return;
    }
}

static void e_or(eparser *e)
{
    e_and(e);
    while (!e->bad && (epeek(e) == '|' || epeek(e) == '+')) { e->pos++; e_and(e); emit(e, GATE_OP_OR, -1); }
}

int16_t *gate_expr_compile(const char *text, const gate_cell *cell, const char *where)
{
    eparser e = { .s = text, .cell = cell };
    e_or(&e);
    if (!e.bad && epeek(&e) != 0) e.bad = 1;
    if (!e.bad && e.maxdepth > GATE_EXPR_STACK) e.bad = 3;
    if (e.bad) {
        free(e.prog);
        msg_error(ST_EFORMAT, "%s: %s in function '%s' of cell '%s'", where,
                  e.bad == 2 ? "unknown pin" : e.bad == 3 ? "expression too deep" : "syntax error", text, cell->name);
        return NULL;
    }
    emit(&e, GATE_OP_END, 0);
    return e.prog;
}

uint64_t gate_expr_eval(const int16_t *f, const uint64_t *pins)
{
    uint64_t st[GATE_EXPR_STACK];
    int sp = 0;
    for (;; f++) {
        switch (*f) {
        case GATE_OP_END: return st[0];
        case GATE_OP_VAR: st[sp++] = pins[*++f]; break;
        case GATE_OP_ZERO: st[sp++] = 0; break;
        case GATE_OP_ONE: st[sp++] = ~(uint64_t)0; break;
        case GATE_OP_NOT: st[sp - 1] = ~st[sp - 1]; break;
        case GATE_OP_AND: sp--; st[sp - 1] &= st[sp]; break;
        case GATE_OP_OR: sp--; st[sp - 1] |= st[sp]; break;
        case GATE_OP_XOR: sp--; st[sp - 1] ^= st[sp]; break;
        default: ASSERT(!"bad opcode");
        }
    }
}

/* ---- extraction ------------------------------------------------------------------------------ */

static double unit_scale(const char *v, const char *base, double def)
{
    /* "1ns", "10ps", "1nW" ...: number then prefix letter then the base unit */
    if (!v) return def;
    char *end;
    double num = strtod(v, &end);
    if (end == v) num = 1;
    while (*end == ' ') end++;
    double pre = 1;
    size_t bl = strlen(base);
    size_t l = strlen(end);
    if (l > bl && strcmp(end + l - bl, base) == 0) {
        switch (end[0]) {
        case 'f': pre = 1e-15; break;
        case 'p': pre = 1e-12; break;
        case 'n': pre = 1e-9; break;
        case 'u': pre = 1e-6; break;
        case 'm': pre = 1e-3; break;
        default: pre = 1;
        }
    }
    return num * pre;
}

static void power_free(gate_power *p, int n)
{
    for (int i = 0; i < n; i++) { table_free(p[i].rise); table_free(p[i].fall); }
    free(p);
}

static void cell_deinit(gate_cell *c)
{
    for (int i = 0; i < c->npins; i++) {
        gate_pin *p = &c->pins[i];
        free(p->name);
        free(p->func);
        power_free(p->pow, p->npow);
        for (int j = 0; j < p->narc; j++) { table_free(p->arcs[j].rise); table_free(p->arcs[j].fall); }
        free(p->arcs);
    }
    free(c->pins);
    free(c->name);
}

void gate_lib_free(gate_lib *lib)
{
    if (!lib) return;
    for (int i = 0; i < lib->ncells; i++) cell_deinit(&lib->cells[i]);
    free(lib->cells);
    free(lib->path);
    free(lib->name);
    free(lib->corner);
    free(lib->wire_load);
    free(lib->wl_fanout);
    free(lib->wl_length);
    free(lib);
}

static int read_cell(const lnode *g, const lnode *lib, const char *path, gate_cell *c)
{
    int err = 0;
    c->name = xstrdup(g->nargs ? g->args[0] : "");
    attr_num(g, "area", &c->area);
    attr_num(g, "cell_leakage_power", &c->leakage);
    for (const lnode *n = g->child; n; n = n->next) {
        if (!n->is_group) continue;
        if (!strcmp(n->name, "ff") || !strcmp(n->name, "latch") || !strcmp(n->name, "statetable") ||
            !strcmp(n->name, "ff_bank") || !strcmp(n->name, "latch_bank"))
            c->sequential = 1;
        if (strcmp(n->name, "pin") != 0) continue;
        for (int a = 0; a < n->nargs; a++) {
            c->pins = xrealloc(c->pins, (c->npins + 1) * sizeof *c->pins);
            gate_pin *p = &c->pins[c->npins++];
            memset(p, 0, sizeof *p);
            p->name = xstrdup(n->args[a]);
            const char *d = attr(n, "direction");
            p->dir = !d ? GATE_PIN_IN : !strcmp(d, "output") ? GATE_PIN_OUT : !strcmp(d, "inout") ? GATE_PIN_INOUT
                   : !strcmp(d, "input") ? GATE_PIN_IN : 0;
            attr_num(n, "capacitance", &p->cap);
        }
    }
    /* second pass: functions, power, arcs (need all pin names) */
    int pi = 0;
    for (const lnode *n = g->child; n; n = n->next) {
        if (!n->is_group || strcmp(n->name, "pin") != 0) continue;
        for (int a = 0; a < n->nargs; a++, pi++) {
            gate_pin *p = &c->pins[pi];
            const char *fn = attr(n, "function");
            if ((p->dir & GATE_PIN_OUT) && !c->sequential) {
                if (!fn) c->sequential = 1;
                else {
                    char *where = xasprintf("%s:%d:%d", path, n->line, n->col);
                    p->func = gate_expr_compile(fn, c, where);
                    free(where);
                    if (!p->func) return ST_EFORMAT;
                }
            }
            for (const lnode *s = n->child; s; s = s->next) {
                if (!s->is_group) continue;
                int isp = !strcmp(s->name, "internal_power"), ist = !strcmp(s->name, "timing");
                if (!isp && !ist) continue;
                const char *rp = attr(s, "related_pin");
                int rel = rp ? gate_cell_pin(c, rp) : -1;
                gate_table *rise = NULL, *fall = NULL;
                for (const lnode *t = s->child; t; t = t->next) {
                    if (!t->is_group) continue;
                    gate_table **slot = NULL;
                    if (isp && !strcmp(t->name, "rise_power")) slot = &rise;
                    else if (isp && !strcmp(t->name, "fall_power")) slot = &fall;
                    else if (ist && !strcmp(t->name, "rise_transition")) slot = &rise;
                    else if (ist && !strcmp(t->name, "fall_transition")) slot = &fall;
                    if (!slot || *slot) continue;
                    *slot = table_read(t, lib, path, &err);
                    if (!*slot) { table_free(rise); table_free(fall); return err; }
                }
                if (isp) {
                    p->pow = xrealloc(p->pow, (p->npow + 1) * sizeof *p->pow);
                    p->pow[p->npow++] = (gate_power){ rel, rise, fall };
                } else {
                    p->arcs = xrealloc(p->arcs, (p->narc + 1) * sizeof *p->arcs);
                    p->arcs[p->narc++] = (gate_arc){ rel, rise, fall };
                }
            }
        }
    }
    return ST_OK;
}

int gate_lib_parse(const char *text, const char *name, gate_lib **out)
{
    lparser p = { .s = text, .len = strlen(text), .line = 1, .path = name };
    lnode *root = parse_body(&p, 1);
    if (!p.err && peek(&p) == '}') perr(&p, "unexpected '}'");
    if (p.err) {
        lnode_free(root);
        return p.err;
    }
    const lnode *lg = NULL;
    for (const lnode *n = root; n; n = n->next)
        if (n->is_group && !strcmp(n->name, "library")) { lg = n; break; }
    if (!lg) {
        lnode_free(root);
        return msg_error(ST_EFORMAT, "%s:1:1: no 'library' group (an empty file or not Liberty)", name);
    }

    gate_lib *lib = xcalloc(1, sizeof *lib);
    lib->path = xstrdup(name);
    lib->name = xstrdup(lg->nargs ? lg->args[0] : "");
    lib->time_unit_ns = unit_scale(attr(lg, "time_unit"), "s", 1e-9) / 1e-9;
    double cap_f = 1e-12;  /* Liberty default capacitive_load_unit is 1 pF */
    const lnode *cu = find_child(lg, "capacitive_load_unit");
    if (cu && cu->nargs >= 2) {
        double v = strtod(cu->args[0], NULL);
        const char *u = cu->args[1];
        double pre = (u[0] == 'f' || u[0] == 'F') ? 1e-15 : (u[0] == 'p' || u[0] == 'P') ? 1e-12 : (u[0] == 'n') ? 1e-9 : 1;
        cap_f = v * pre;
    }
    lib->cap_unit_ff = cap_f / 1e-15;
    double volt_unit = unit_scale(attr(lg, "voltage_unit"), "V", 1);
    double leak_w = unit_scale(attr(lg, "leakage_power_unit"), "W", 1e-9);
    lib->voltage = NAN;
    double v;
    if (attr_num(lg, "nom_voltage", &v)) lib->voltage = v;
    const char *doc = attr(lg, "default_operating_conditions");
    if (doc) lib->corner = xstrdup(doc);
    for (const lnode *n = lg->child; n; n = n->next)
        if (n->is_group && !strcmp(n->name, "operating_conditions") && n->nargs && (!doc || !strcmp(n->args[0], doc))) {
            if (isnan(lib->voltage) && attr_num(n, "voltage", &v)) lib->voltage = v;
            if (!lib->corner) lib->corner = xstrdup(n->args[0]);
            break;
        }
    if (isnan(lib->voltage)) {
        int rc = msg_error(ST_EFORMAT, "%s:%d:%d: library '%s' has no nom_voltage nor operating_conditions voltage",
                           name, lg->line, lg->col, lg->nargs ? lg->args[0] : "");
        gate_lib_free(lib);
        lnode_free(root);
        return rc;
    }
    lib->voltage *= volt_unit;
    lib->energy_to_fj = cap_f * volt_unit * volt_unit / 1e-15;
    lib->leak_time_to_fj = leak_w * lib->time_unit_ns * 1e-9 / 1e-15;

    const char *wl = attr(lg, "default_wire_load");
    if (wl)
        for (const lnode *n = lg->child; n; n = n->next)
            if (n->is_group && !strcmp(n->name, "wire_load") && n->nargs && !strcmp(n->args[0], wl)) {
                lib->wire_load = xstrdup(wl);
                attr_num(n, "capacitance", &lib->wl_cap);
                attr_num(n, "slope", &lib->wl_slope);
                for (const lnode *f = n->child; f; f = f->next)
                    if (!strcmp(f->name, "fanout_length") && f->nargs >= 2) {
                        lib->wl_fanout = xrealloc(lib->wl_fanout, (lib->wl_n + 1) * sizeof *lib->wl_fanout);
                        lib->wl_length = xrealloc(lib->wl_length, (lib->wl_n + 1) * sizeof *lib->wl_length);
                        lib->wl_fanout[lib->wl_n] = atoi(f->args[0]);
                        lib->wl_length[lib->wl_n++] = strtod(f->args[1], NULL);
                    }
                break;
            }

    int ncell = 0;
    for (const lnode *n = lg->child; n; n = n->next)
        if (n->is_group && !strcmp(n->name, "cell")) ncell++;
    lib->cells = xcalloc(ncell ? ncell : 1, sizeof *lib->cells);
    for (const lnode *n = lg->child; n; n = n->next) {
        if (!n->is_group || strcmp(n->name, "cell") != 0) continue;
        int rc = read_cell(n, lg, name, &lib->cells[lib->ncells]);
        lib->ncells++;
        if (rc) { gate_lib_free(lib); lnode_free(root); return rc; }
    }
    lnode_free(root);
    *out = lib;
    return ST_OK;
}

int gate_lib_read(const char *path, gate_lib **out)
{
    size_t n = strlen(path);
    int gz = n > 3 && strcmp(path + n - 3, ".gz") == 0;
    char *buf;
    int rc;
    if (gz) {
        FILE *probe;
        if ((rc = afile_open_regular(path, &probe))) return rc;
        fclose(probe);
        char *q = xmalloc(4 * n + 32);
        char *o = q;
        o += sprintf(o, "gzip -dc '");
        for (const char *s = path; *s; s++) {
            if (*s == '\'') o += sprintf(o, "'\\''");
            else *o++ = *s;
        }
        sprintf(o, "'");
        FILE *f = popen(q, "r");
        free(q);
        if (!f) return msg_error(ST_EIO, "cannot open '%s': %s", path, strerror(errno));
        rc = afile_read_stream(f, path, &buf, NULL);
        int st = pclose(f);
        if (!rc && st != 0) {
            free(buf);
            rc = msg_error(ST_EIO, "cannot read '%s' (gzip -dc failed)", path);
        }
    } else {
        rc = afile_read_all(path, &buf, NULL);
    }
    if (rc) return rc;
    rc = gate_lib_parse(buf, path, out);
    free(buf);
    return rc;
}

int gate_lib_find(const gate_lib *lib, const char *name)
{
    for (int i = 0; i < lib->ncells; i++)
        if (!strcmp(lib->cells[i].name, name)) return i;
    return -1;
}

int gate_cell_pin(const gate_cell *c, const char *name)
{
    for (int i = 0; i < c->npins; i++)
        if (!strcmp(c->pins[i].name, name)) return i;
    return -1;
}
