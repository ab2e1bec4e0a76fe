/* Gate-level netlists: construction, topological ordering, yosys BLIF reading, Verilog writing.
 * See gate_net.h for the invariants. Net aliases from BLIF buffers are resolved with a union-find
 * whose roots prefer constants and primary inputs, so a port tied to an input stays that input. */
#include "gate_net.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "afile.h"
#include "msg.h"
#include "status.h"
#include "util.h"

gate_net *gate_net_alloc(const gate_lib *lib, const char *name)
{
    gate_net *n = xcalloc(1, sizeof *n);
    n->lib = lib;
    n->name = xstrdup(name);
    gate_net_add_net(n, "1'b0");
    gate_net_add_net(n, "1'b1");
    return n;
}

void gate_net_free(gate_net *n)
{
    if (!n) return;
    for (int i = 0; i < n->nnets; i++) free(n->net_names[i]);
    free(n->net_names);
    for (int i = 0; i < n->ninst; i++) free(n->inst[i].conn);
    free(n->inst);
    for (int i = 0; i < n->nout; i++) free(n->out_names[i]);
    free(n->out_names);
    free(n->in);
    free(n->out);
    free(n->driver);
    free(n->fanout);
    free(n->name);
    free(n);
}

int gate_net_add_net(gate_net *n, const char *name)
{
    if ((n->nnets & (n->nnets - 1)) == 0 || n->nnets < 2)
        n->net_names = xrealloc(n->net_names, (size_t)(n->nnets < 2 ? 2 : 2 * n->nnets) * sizeof *n->net_names);
    n->net_names[n->nnets] = name ? xstrdup(name) : NULL;
    return n->nnets++;
}

int gate_net_add_input(gate_net *n, const char *name)
{
    int id = gate_net_add_net(n, name);
    n->in = xrealloc(n->in, (n->nin + 1) * sizeof *n->in);
    n->in[n->nin++] = id;
    return id;
}

void gate_net_add_output(gate_net *n, const char *name, int net)
{
    n->out = xrealloc(n->out, (n->nout + 1) * sizeof *n->out);
    n->out_names = xrealloc(n->out_names, (n->nout + 1) * sizeof *n->out_names);
    n->out[n->nout] = net;
    n->out_names[n->nout++] = xstrdup(name);
}

int gate_net_add_inst(gate_net *n, int cell, const int *conn)
{
    ASSERT(cell >= 0 && cell < n->lib->ncells);
    int np = n->lib->cells[cell].npins;
    if ((n->ninst & (n->ninst - 1)) == 0)
        n->inst = xrealloc(n->inst, (size_t)(n->ninst ? 2 * n->ninst : 1) * sizeof *n->inst);
    gate_inst *g = &n->inst[n->ninst];
    g->cell = cell;
    g->conn = xmalloc((size_t)(np ? np : 1) * sizeof *g->conn);
    memcpy(g->conn, conn, (size_t)np * sizeof *conn);
    return n->ninst++;
}

static const char *net_label(const gate_net *n, int id, char *buf, size_t len)
{
    if (n->net_names[id]) return n->net_names[id];
    snprintf(buf, len, "n%d", id);
    return buf;
}

int gate_net_finish(gate_net *n, const char *where)
{
    char lb[32];
    free(n->driver);
    free(n->fanout);
    n->driver = xmalloc((size_t)n->nnets * sizeof *n->driver);
    n->fanout = xcalloc((size_t)n->nnets, sizeof *n->fanout);
    char *src = xcalloc((size_t)n->nnets, 1); /* 1: constant or input */
    for (int i = 0; i < n->nnets; i++) n->driver[i] = -1;
    src[GATE_NET_C0] = src[GATE_NET_C1] = 1;
    for (int i = 0; i < n->nin; i++) src[n->in[i]] = 1;
    int rc = ST_OK;
    for (int i = 0; i < n->ninst && !rc; i++) {
        const gate_cell *c = &n->lib->cells[n->inst[i].cell];
        if (c->sequential) { rc = msg_error(ST_EFORMAT, "%s: cell '%s' is not combinational", where, c->name); break; }
        for (int p = 0; p < c->npins; p++) {
            int net = n->inst[i].conn[p];
            if (net < 0) continue;
            if (c->pins[p].dir & GATE_PIN_OUT) {
                if (src[net] || n->driver[net] >= 0) {
                    rc = msg_error(ST_EFORMAT, "%s: net '%s' has more than one driver", where, net_label(n, net, lb, sizeof lb));
                    break;
                }
                n->driver[net] = i;
            } else {
                n->fanout[net]++;
            }
        }
    }
    /* every used net must be driven */
    for (int i = 0; i < n->ninst && !rc; i++) {
        const gate_cell *c = &n->lib->cells[n->inst[i].cell];
        for (int p = 0; p < c->npins && !rc; p++) {
            int net = n->inst[i].conn[p];
            if (c->pins[p].dir == GATE_PIN_IN && net < 0)
                rc = msg_error(ST_EFORMAT, "%s: pin '%s' of a '%s' instance is unconnected", where, c->pins[p].name, c->name);
            else if (c->pins[p].dir == GATE_PIN_IN && !src[net] && n->driver[net] < 0)
                rc = msg_error(ST_EFORMAT, "%s: net '%s' is used but not driven", where, net_label(n, net, lb, sizeof lb));
        }
    }
    for (int i = 0; i < n->nout && !rc; i++)
        if (!src[n->out[i]] && n->driver[n->out[i]] < 0)
            rc = msg_error(ST_EFORMAT, "%s: output '%s' is not driven", where, n->out_names[i]);
    if (rc) { free(src); return rc; }

    /* Kahn's algorithm over instances */
    int *pending = xcalloc((size_t)(n->ninst ? n->ninst : 1), sizeof *pending);
    int *order = xmalloc((size_t)(n->ninst ? n->ninst : 1) * sizeof *order);
    /* users[net] lists instances reading the net (CSR) */
    int *start = xcalloc((size_t)n->nnets + 1, sizeof *start);
    for (int i = 0; i < n->ninst; i++) {
        const gate_cell *c = &n->lib->cells[n->inst[i].cell];
        for (int p = 0; p < c->npins; p++)
            if (c->pins[p].dir == GATE_PIN_IN) {
                int net = n->inst[i].conn[p];
                start[net + 1]++;
                if (n->driver[net] >= 0) pending[i]++;
            }
    }
    for (int i = 0; i < n->nnets; i++) start[i + 1] += start[i];
    int *users = xmalloc((size_t)(start[n->nnets] ? start[n->nnets] : 1) * sizeof *users);
    int *fill = xmalloc((size_t)n->nnets * sizeof *fill);
    memcpy(fill, start, (size_t)n->nnets * sizeof *fill);
    for (int i = 0; i < n->ninst; i++) {
        const gate_cell *c = &n->lib->cells[n->inst[i].cell];
        for (int p = 0; p < c->npins; p++)
            if (c->pins[p].dir == GATE_PIN_IN) users[fill[n->inst[i].conn[p]]++] = i;
    }
    int head = 0, tail = 0;
    for (int i = 0; i < n->ninst; i++)
        if (pending[i] == 0) order[tail++] = i;
    while (head < tail) {
        int i = order[head++];
        const gate_cell *c = &n->lib->cells[n->inst[i].cell];
        for (int p = 0; p < c->npins; p++) {
            int net = n->inst[i].conn[p];
            if (!(c->pins[p].dir & GATE_PIN_OUT) || net < 0) continue;
            for (int u = start[net]; u < start[net + 1]; u++)
                if (--pending[users[u]] == 0) order[tail++] = users[u];
        }
    }
    if (tail != n->ninst) rc = msg_error(ST_EFORMAT, "%s: the netlist has a combinational loop", where);
    else {
        gate_inst *sorted = xmalloc((size_t)(n->ninst ? n->ninst : 1) * sizeof *sorted);
        for (int i = 0; i < n->ninst; i++) sorted[i] = n->inst[order[i]];
        free(n->inst);
        n->inst = sorted;
        for (int i = 0; i < n->nnets; i++) n->driver[i] = -1;
        for (int i = 0; i < n->ninst; i++) {
            const gate_cell *c = &n->lib->cells[n->inst[i].cell];
            for (int p = 0; p < c->npins; p++)
                if ((c->pins[p].dir & GATE_PIN_OUT) && n->inst[i].conn[p] >= 0) n->driver[n->inst[i].conn[p]] = i;
        }
    }
    free(pending); free(order); free(start); free(users); free(fill); free(src);
    return rc;
}

int gate_net_input(const gate_net *n, const char *name)
{
    for (int i = 0; i < n->nin; i++)
        if (n->net_names[n->in[i]] && !strcmp(n->net_names[n->in[i]], name)) return n->in[i];
    return -1;
}

int gate_net_output(const gate_net *n, const char *name)
{
    for (int i = 0; i < n->nout; i++)
        if (!strcmp(n->out_names[i], name)) return n->out[i];
    return -1;
}

double gate_net_area(const gate_net *n)
{
    double a = 0;
    for (int i = 0; i < n->ninst; i++) a += n->lib->cells[n->inst[i].cell].area;
    return a;
}

/* ---- BLIF ------------------------------------------------------------------------------------ */

typedef struct nametab {
    char **keys;
    int *vals;
    size_t cap, count;
} nametab;

static uint64_t hash_str(const char *s)
{
    return util_fnv1a(UTIL_FNV1A_INIT, s, strlen(s));
}

static int *nametab_slot(nametab *t, const char *key, int insert)
{
    if (insert && 2 * (t->count + 1) > t->cap) {
        size_t oc = t->cap;
        char **ok = t->keys;
        int *ov = t->vals;
        t->cap = oc ? 2 * oc : 1024;
        t->keys = xcalloc(t->cap, sizeof *t->keys);
        t->vals = xmalloc(t->cap * sizeof *t->vals);
        t->count = 0;
        for (size_t i = 0; i < oc; i++)
            if (ok[i]) {
                size_t j = hash_str(ok[i]) & (t->cap - 1);
                while (t->keys[j]) j = (j + 1) & (t->cap - 1);
                t->keys[j] = ok[i];
                t->vals[j] = ov[i];
                t->count++;
            }
        free(ok);
        free(ov);
    }
    if (!t->cap) return NULL;
    size_t j = hash_str(key) & (t->cap - 1);
    while (t->keys[j]) {
        if (!strcmp(t->keys[j], key)) return &t->vals[j];
        j = (j + 1) & (t->cap - 1);
    }
    if (!insert) return NULL;
    t->keys[j] = xstrdup(key);
    t->count++;
    t->vals[j] = -1;
    return &t->vals[j];
}

static void nametab_free(nametab *t)
{
    for (size_t i = 0; i < t->cap; i++) free(t->keys[i]);
    free(t->keys);
    free(t->vals);
}

static int net_of(gate_net *n, nametab *t, const char *name)
{
    if (!strcmp(name, "$false") || !strcmp(name, "$undef")) return GATE_NET_C0;
    if (!strcmp(name, "$true")) return GATE_NET_C1;
    int *slot = nametab_slot(t, name, 1);
    if (*slot < 0) *slot = gate_net_add_net(n, name);
    return *slot;
}

static int uf_find(int *parent, int x)
{
    while (parent[x] != x) x = parent[x] = parent[parent[x]];
    return x;
}

/* Split a line into whitespace-separated words in place. */
static int split_words(char *s, char ***words, int *cap)
{
    int n = 0;
    for (char *tok = strtok(s, " \t\r"); tok; tok = strtok(NULL, " \t\r")) {
        if (n == *cap) { *cap = *cap ? 2 * *cap : 16; *words = xrealloc(*words, (size_t)*cap * sizeof **words); }
        (*words)[n++] = tok;
    }
    return n;
}

int gate_net_read_blif(const char *path, const gate_lib *lib, gate_net **out)
{
    char *text;
    size_t len;
    int rrc = afile_read_all(path, &text, &len);
    if (rrc) return rrc;

    gate_net *n = gate_net_alloc(lib, "top");
    nametab tab = { 0 };
    int nalias = 0, acap = 0;
    int *alias = NULL; /* pairs (out, in): out := in */
    char **w = NULL;
    int wcap = 0, rc = ST_OK, line = 0, seen_model = 0;
    char **outs = NULL;
    int nouts = 0;
    int *connbuf = NULL;
    char *p = text;
    while (*p && !rc) {
        /* gather one logical line (joining backslash continuations) */
        char *st = p;
        int lines = 0;
        char *o = p;
        while (*p) {
            if (*p == '\\' && (p[1] == '\n' || (p[1] == '\r' && p[2] == '\n'))) { p += p[1] == '\n' ? 2 : 3; lines++; continue; }
            if (*p == '\n') { p++; lines++; break; }
            *o++ = *p++;
        }
        *o = 0;
        line += lines ? lines : 1;
        char *hash = strchr(st, '#');
        if (hash) *hash = 0;
        int nw = split_words(st, &w, &wcap);
        if (nw == 0) continue;
        if (!strcmp(w[0], ".model")) {
            if (seen_model) break; /* only the first model */
            seen_model = 1;
            free(n->name);
            n->name = xstrdup(nw > 1 ? w[1] : "top");
        } else if (!strcmp(w[0], ".inputs")) {
            for (int i = 1; i < nw; i++) {
                int *slot = nametab_slot(&tab, w[i], 1);
                if (*slot >= 0) { rc = msg_error(ST_EFORMAT, "%s:%d: input '%s' declared twice", path, line, w[i]); break; }
                *slot = gate_net_add_input(n, w[i]);
            }
        } else if (!strcmp(w[0], ".outputs")) {
            for (int i = 1; i < nw; i++) {
                outs = xrealloc(outs, (size_t)(nouts + 1) * sizeof *outs);
                outs[nouts++] = xstrdup(w[i]);
                net_of(n, &tab, w[i]);
            }
        } else if (!strcmp(w[0], ".subckt") || !strcmp(w[0], ".gate")) {
            if (nw < 2) { rc = msg_error(ST_EPARSE, "%s:%d: %s without a cell name", path, line, w[0]); break; }
            int c = gate_lib_find(lib, w[1]);
            if (c < 0) { rc = msg_error(ST_EFORMAT, "%s:%d: cell '%s' is not in the library '%s'", path, line, w[1], lib->path); break; }
            const gate_cell *cell = &lib->cells[c];
            connbuf = xrealloc(connbuf, (size_t)(cell->npins ? cell->npins : 1) * sizeof *connbuf);
            for (int i = 0; i < cell->npins; i++) connbuf[i] = -1;
            for (int i = 2; i < nw; i++) {
                char *eq = strchr(w[i], '=');
                if (!eq) { rc = msg_error(ST_EPARSE, "%s:%d: expected pin=net, got '%s'", path, line, w[i]); break; }
                *eq = 0;
                int pin = gate_cell_pin(cell, w[i]);
                if (pin < 0) { rc = msg_error(ST_EFORMAT, "%s:%d: cell '%s' has no pin '%s'", path, line, cell->name, w[i]); break; }
                connbuf[pin] = net_of(n, &tab, eq + 1);
            }
            if (!rc) gate_net_add_inst(n, c, connbuf);
        } else if (!strcmp(w[0], ".names")) {
            int nin = nw - 2;
            if (nin < 0) { rc = msg_error(ST_EPARSE, "%s:%d: .names without an output", path, line); break; }
            /* read the cover rows that follow */
            char rows[2][8] = { "", "" };
            int nrows = 0;
            while (*p && *p != '.') {
                char *rs = p;
                while (*p && *p != '\n') p++;
                if (*p) *p++ = 0;
                line++;
                char *hh = strchr(rs, '#');
                if (hh) *hh = 0;
                char *rw[3];
                int k = 0;
                for (char *tok = strtok(rs, " \t\r"); tok && k < 3; tok = strtok(NULL, " \t\r")) rw[k++] = tok;
                if (k == 0) continue;
                if (nrows < 2) snprintf(rows[nrows], sizeof rows[nrows], "%s%s%s", rw[0], k > 1 ? " " : "", k > 1 ? rw[1] : "");
                nrows++;
            }
            int outnet = net_of(n, &tab, w[nw - 1]);
            int src = -1;
            if (nin == 0 && nrows == 0) src = GATE_NET_C0;
            else if (nin == 0 && nrows == 1 && !strcmp(rows[0], "1")) src = GATE_NET_C1;
            else if (nin == 1 && nrows == 1 && !strcmp(rows[0], "1 1")) src = net_of(n, &tab, w[1]);
            if (src < 0) { rc = msg_error(ST_EFORMAT, "%s:%d: unsupported .names cover (only constants and buffers)", path, line); break; }
            if (outnet == GATE_NET_C0 || outnet == GATE_NET_C1) continue; /* $false / $true definitions */
            if (nalias + 1 > acap) { acap = acap ? 2 * acap : 16; alias = xrealloc(alias, (size_t)acap * 2 * sizeof *alias); }
            alias[2 * nalias] = outnet;
            alias[2 * nalias + 1] = src;
            nalias++;
        } else if (!strcmp(w[0], ".end")) {
            break;
        } else if (!strcmp(w[0], ".latch")) {
            rc = msg_error(ST_EFORMAT, "%s:%d: latches are not supported (combinational netlists only)", path, line);
        }
        /* other directives (.attr, .param, .cname) are ignored */
    }
    if (!rc && !seen_model) rc = msg_error(ST_EPARSE, "%s: no .model", path);
    if (!rc && nalias) {
        int *parent = xmalloc((size_t)n->nnets * sizeof *parent);
        char *fixed = xcalloc((size_t)n->nnets, 1);
        for (int i = 0; i < n->nnets; i++) parent[i] = i;
        fixed[GATE_NET_C0] = fixed[GATE_NET_C1] = 1;
        for (int i = 0; i < n->nin; i++) fixed[n->in[i]] = 1;
        for (int i = 0; i < nalias && !rc; i++) {
            int a = uf_find(parent, alias[2 * i]), b = uf_find(parent, alias[2 * i + 1]);
            if (a == b) continue;
            if (fixed[a] && fixed[b]) rc = msg_error(ST_EFORMAT, "%s: buffer joins two driven nets", path);
            else if (fixed[a]) parent[b] = a;
            else parent[a] = b;
        }
        for (int i = 0; i < n->ninst; i++) {
            const gate_cell *c = &lib->cells[n->inst[i].cell];
            for (int q = 0; q < c->npins; q++)
                if (n->inst[i].conn[q] >= 0) n->inst[i].conn[q] = uf_find(parent, n->inst[i].conn[q]);
        }
        for (int i = 0; i < nouts; i++) {
            int *slot = nametab_slot(&tab, outs[i], 0);
            if (slot) *slot = uf_find(parent, *slot);
        }
        free(parent);
        free(fixed);
    }
    for (int i = 0; i < nouts; i++) {
        if (!rc) {
            int *slot = nametab_slot(&tab, outs[i], 0);
            int net = !strcmp(outs[i], "$false") ? GATE_NET_C0 : !strcmp(outs[i], "$true") ? GATE_NET_C1 : *slot;
            gate_net_add_output(n, outs[i], net);
        }
        free(outs[i]);
    }
    free(outs);
    free(alias);
    free(w);
    free(connbuf);
    nametab_free(&tab);
    free(text);
    if (!rc) rc = gate_net_finish(n, path);
    if (rc) { gate_net_free(n); return rc; }
    *out = n;
    return ST_OK;
}

/* ---- Verilog --------------------------------------------------------------------------------- */

static void vname(const gate_net *n, int net, char *buf, size_t len)
{
    if (net == GATE_NET_C0) snprintf(buf, len, "1'b0");
    else if (net == GATE_NET_C1) snprintf(buf, len, "1'b1");
    else if (n->net_names[net]) snprintf(buf, len, "%s", n->net_names[net]);
    else snprintf(buf, len, "n%d", net);
}

/* Infix Verilog of a postfix program, with every operation parenthesised. Caller frees. */
static char *expr_verilog(const gate_net *n, const gate_inst *g, const int16_t *f)
{
    char *st[GATE_EXPR_STACK];
    int sp = 0;
    char b[128];
    for (;; f++) {
        switch (*f) {
        case GATE_OP_END: return st[0];
        case GATE_OP_VAR: vname(n, g->conn[*++f], b, sizeof b); st[sp++] = xstrdup(b); break;
        case GATE_OP_ZERO: st[sp++] = xstrdup("1'b0"); break;
        case GATE_OP_ONE: st[sp++] = xstrdup("1'b1"); break;
        case GATE_OP_NOT: { char *s = xasprintf("~%s", st[sp - 1]); free(st[sp - 1]); st[sp - 1] = s; break; }
        default: {
            const char *op = *f == GATE_OP_AND ? "&" : *f == GATE_OP_OR ? "|" : "^";
            sp--;
            char *s = xasprintf("(%s %s %s)", st[sp - 1], op, st[sp]);
            free(st[sp - 1]);
            free(st[sp]);
            st[sp - 1] = s;
        }
        }
    }
}

/* Group port names "base[i]" into vectors: writes declarations for consecutive runs of one base. */
static void write_ports(FILE *f, char **names, int count, const char *dir, int *first)
{
    int i = 0;
    while (i < count) {
        const char *br = strchr(names[i], '[');
        size_t bl = br ? (size_t)(br - names[i]) : strlen(names[i]);
        int hi = br ? atoi(br + 1) : -1, lo = hi;
        int j = i + 1;
        while (br && j < count && !strncmp(names[j], names[i], bl) && names[j][bl] == '[') {
            int b = atoi(names[j] + bl + 1);
            if (b > hi) hi = b;
            if (b < lo) lo = b;
            j++;
        }
        fprintf(f, "%s  %s ", *first ? "" : ",\n", dir);
        if (br) fprintf(f, "[%d:%d] ", hi, lo);
        fprintf(f, "%.*s", (int)bl, names[i]);
        *first = 0;
        i = j;
    }
}

int gate_net_write_verilog(const gate_net *n, FILE *f)
{
    char **in = xmalloc((size_t)(n->nin ? n->nin : 1) * sizeof *in);
    for (int i = 0; i < n->nin; i++) in[i] = n->net_names[n->in[i]];
    fprintf(f, "// generated by approxmap (gate_net_write_verilog): %d cells\n", n->ninst);
    fprintf(f, "module %s (\n", n->name);
    int first = 1;
    write_ports(f, in, n->nin, "input", &first);
    write_ports(f, n->out_names, n->nout, "output", &first);
    fprintf(f, "\n);\n");
    free(in);
    char *isname = xcalloc((size_t)n->nnets, 1);
    for (int i = 0; i < n->nin; i++) isname[n->in[i]] = 1;
    for (int i = 2; i < n->nnets; i++)
        if (!isname[i] && !n->net_names[i] && (n->driver ? n->driver[i] >= 0 : 1)) {
            char b[128];
            vname(n, i, b, sizeof b);
            fprintf(f, "  wire %s;\n", b);
        }
    for (int i = 0; i < n->ninst; i++) {
        const gate_inst *g = &n->inst[i];
        const gate_cell *c = &n->lib->cells[g->cell];
        for (int p = 0; p < c->npins; p++) {
            if (!(c->pins[p].dir & GATE_PIN_OUT) || g->conn[p] < 0) continue;
            char b[128];
            vname(n, g->conn[p], b, sizeof b);
            char *e = expr_verilog(n, g, c->pins[p].func);
            fprintf(f, "  assign %s = %s;\n", b, e);
            free(e);
        }
    }
    for (int i = 0; i < n->nout; i++) {
        char b[128];
        vname(n, n->out[i], b, sizeof b);
        fprintf(f, "  assign %s = %s;\n", n->out_names[i], b);
    }
    fprintf(f, "endmodule\n");
    free(isname);
    return ferror(f) ? msg_error(ST_EIO, "cannot write Verilog: %s", strerror(errno)) : ST_OK;
}
