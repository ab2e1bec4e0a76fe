/* ROUP multiplier generator: Booth encoders, partial-product rows with XOR-built rounding, a Wallace
 * tree and a ripple-carry adder (see gate_gen.h for the architecture and why each row is exact).
 * Signals are net indices; 0 and 1 are the constant nets, and every gate constructor folds
 * constants, so perforated rows and the constant sign-extension word cost no gates of their own. */
#include "gate_gen.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gate_sim.h"
#include "msg.h"
#include "status.h"

static const char generic_lib[] =
    "library (approxmap_generic) {\n"
    "  nom_voltage : 1.0;\n"
    "  capacitive_load_unit (1, ff);\n"
    "  cell (INV) { area : 1; pin (A) { direction : input; } pin (Y) { direction : output; function : \"!A\"; } }\n"
    "  cell (AND2) { area : 1; pin (A) { direction : input; } pin (B) { direction : input; }\n"
    "    pin (Y) { direction : output; function : \"A & B\"; } }\n"
    "  cell (OR2) { area : 1; pin (A) { direction : input; } pin (B) { direction : input; }\n"
    "    pin (Y) { direction : output; function : \"A | B\"; } }\n"
    "  cell (XOR2) { area : 1; pin (A) { direction : input; } pin (B) { direction : input; }\n"
    "    pin (Y) { direction : output; function : \"A ^ B\"; } }\n"
    "}\n";

gate_lib *gate_gen_lib(void)
{
    gate_lib *lib = NULL;
    int rc = gate_lib_parse(generic_lib, "<builtin>", &lib);
    ASSERT(rc == ST_OK);
    return lib;
}

typedef struct builder {
    gate_net *net;
    int inv, and2, or2, xor2; /* cell indices */
} builder;

static int gate2(builder *b, int cell, int x, int y)
{
    int y_net = gate_net_add_net(b->net, NULL);
    int conn[3] = { x, y, y_net };
    gate_net_add_inst(b->net, cell, conn);
    return y_net;
}

static int g_not(builder *b, int x)
{
    if (x == GATE_NET_C0) return GATE_NET_C1;
    if (x == GATE_NET_C1) return GATE_NET_C0;
    int y = gate_net_add_net(b->net, NULL);
    int conn[2] = { x, y };
    gate_net_add_inst(b->net, b->inv, conn);
    return y;
}

static int g_and(builder *b, int x, int y)
{
    if (x == GATE_NET_C0 || y == GATE_NET_C0) return GATE_NET_C0;
    if (x == GATE_NET_C1) return y;
    if (y == GATE_NET_C1) return x;
    if (x == y) return x;
    return gate2(b, b->and2, x, y);
}

static int g_or(builder *b, int x, int y)
{
    if (x == GATE_NET_C1 || y == GATE_NET_C1) return GATE_NET_C1;
    if (x == GATE_NET_C0) return y;
    if (y == GATE_NET_C0) return x;
    if (x == y) return x;
    return gate2(b, b->or2, x, y);
}

static int g_xor(builder *b, int x, int y)
{
    if (x == GATE_NET_C0) return y;
    if (y == GATE_NET_C0) return x;
    if (x == GATE_NET_C1) return g_not(b, y);
    if (y == GATE_NET_C1) return g_not(b, x);
    if (x == y) return GATE_NET_C0;
    return gate2(b, b->xor2, x, y);
}

/* Full adder: sum = x ^ y ^ z, carry = (x & y) | (z & (x ^ y)). */
static void full_add(builder *b, int x, int y, int z, int *sum, int *carry)
{
    int t = g_xor(b, x, y);
    *sum = g_xor(b, t, z);
    *carry = g_or(b, g_and(b, x, y), g_and(b, z, t));
}

enum { PCOLS = 16, PMAX = 64 };

typedef struct columns {
    int n[PCOLS];
    int bit[PCOLS][PMAX];
} columns;

static void col_push(columns *c, int col, int sig)
{
    if (col >= PCOLS || sig == GATE_NET_C0) return;
    ASSERT(c->n[col] < PMAX);
    c->bit[col][c->n[col]++] = sig;
}

gate_net *gate_gen_roup(const gate_lib *generic, int k, int m)
{
    ASSERT(k >= 0 && k <= 2 && m >= 0 && m <= 6);
    char name[32];
    snprintf(name, sizeof name, "roup_k%d_m%d", k, m);
    builder b = { .net = gate_net_alloc(generic, name) };
    b.inv = gate_lib_find(generic, "INV");
    b.and2 = gate_lib_find(generic, "AND2");
    b.or2 = gate_lib_find(generic, "OR2");
    b.xor2 = gate_lib_find(generic, "XOR2");
    ASSERT(b.inv >= 0 && b.and2 >= 0 && b.or2 >= 0 && b.xor2 >= 0);

    int a[8], w[8];
    char pn[16];
    for (int i = 0; i < 8; i++) { snprintf(pn, sizeof pn, "a[%d]", i); a[i] = gate_net_add_input(b.net, pn); }
    for (int i = 0; i < 8; i++) { snprintf(pn, sizeof pn, "w[%d]", i); w[i] = gate_net_add_input(b.net, pn); }

    /* multiplicand X = a >> m (nx bits, signed), X(-1) = rounding bit r = a(m-1) */
    int nx = 8 - m;
    int r = m > 0 ? a[m - 1] : GATE_NET_C0;
    int X[10];  /* X[i + 1] holds X(i), i = -1..nx */
    X[0] = r;
    for (int i = 0; i < nx; i++) X[i + 1] = a[i + m];
    X[nx + 1] = a[7]; /* sign extension X(nx) */

    /* Columns are in units of 2^m: column c holds weight 2^(c + m); 16 - m columns kept. */
    int ncols = 16 - m;
    columns cols;
    memset(&cols, 0, sizeof cols);
    uint32_t constant = 0; /* sum of -2^(sign position) over rows, modulo 2^ncols */
    for (int j = k; j < 4; j++) {
        int b_hi = w[2 * j + 1], b_mid = w[2 * j], b_lo = j > 0 ? w[2 * j - 1] : GATE_NET_C0;
        /* Booth encoder: sel1 = b_mid ^ b_lo; sel2 = (b_hi ^ b_mid) & !(b_mid ^ b_lo) */
        int sel1 = g_xor(&b, b_mid, b_lo);
        int sel2 = g_and(&b, g_xor(&b, b_hi, b_mid), g_not(&b, sel1));
        int neg = b_hi;                        /* row inverted when the digit's sign bit is set */
        int nz = g_or(&b, sel1, sel2);         /* digit != 0 */
        int shift = 2 * j;
        /* row bits i = 0..nx (nx + 1 bits, two's complement, sign at i = nx) */
        for (int i = 0; i <= nx; i++) {
            int v = g_or(&b, g_and(&b, sel1, X[i + 1]), g_and(&b, sel2, X[i]));
            v = g_xor(&b, v, neg);
            if (i == nx) v = g_not(&b, v);     /* sign bit inverted; -2^(pos) goes to the constant */
            col_push(&cols, shift + i, v);
        }
        constant -= (uint32_t)1 << (shift + nx);
        /* negation / rounding correction s_j* = (s_j xor r), gated by d_j != 0 (for d_j = 0 the row is
         * all-zero or all-ones and needs exactly s_j, which is 0 or 1 with the row -1, see below) */
        int corr;
        if (m == 0) corr = neg;                /* exact Booth: +1 completes the inversion */
        else corr = g_xor(&b, neg, g_and(&b, nz, r));
        col_push(&cols, shift, corr);
    }
    for (int c = 0; c < ncols; c++)
        if ((constant >> c) & 1) col_push(&cols, c, GATE_NET_C1);

    /* Wallace reduction: each stage takes groups of three bits of a column into a full adder and a
     * remaining pair into a half adder, until every column has at most two bits. */
    for (;;) {
        int maxh = 0;
        for (int c = 0; c < ncols; c++) if (cols.n[c] > maxh) maxh = cols.n[c];
        if (maxh <= 2) break;
        columns next;
        memset(&next, 0, sizeof next);
        for (int c = 0; c < ncols; c++) {
            int i = 0, h = cols.n[c];
            for (; i + 3 <= h; i += 3) {
                int s, cy;
                full_add(&b, cols.bit[c][i], cols.bit[c][i + 1], cols.bit[c][i + 2], &s, &cy);
                col_push(&next, c, s);
                if (c + 1 < ncols) col_push(&next, c + 1, cy);
            }
            if (h - i == 2 && h > 2) {
                int s = g_xor(&b, cols.bit[c][i], cols.bit[c][i + 1]);
                int cy = g_and(&b, cols.bit[c][i], cols.bit[c][i + 1]);
                col_push(&next, c, s);
                if (c + 1 < ncols) col_push(&next, c + 1, cy);
                i += 2;
            }
            for (; i < h; i++) col_push(&next, c, cols.bit[c][i]);
        }
        cols = next;
    }
    /* ripple-carry adder over the two remaining rows */
    int p[16];
    int carry = GATE_NET_C0;
    for (int c = 0; c < ncols; c++) {
        int x = cols.n[c] > 0 ? cols.bit[c][0] : GATE_NET_C0;
        int y = cols.n[c] > 1 ? cols.bit[c][1] : GATE_NET_C0;
        int s, cy;
        full_add(&b, x, y, carry, &s, &cy);
        p[c] = s;
        carry = cy;
    }
    /* the last carry is dropped (arithmetic modulo 2^16) */
    for (int i = 0; i < 16; i++) {
        snprintf(pn, sizeof pn, "p[%d]", i);
        gate_net_add_output(b.net, pn, i < m ? GATE_NET_C0 : p[i - m]);
    }
    int rc = gate_net_finish(b.net, name);
    ASSERT(rc == ST_OK);
    return b.net;
}

static int32_t round_at(int32_t x, int t)
{
    if (t == 0) return x;
    return ((x >> t) + ((x >> (t - 1)) & 1)) * (1 << t);
}

int32_t gate_gen_roup_ref(int8_t a, int8_t w, int k, int m)
{
    return round_at(a, m) * round_at(w, 2 * k);
}

/* Bit of operand pair for each primary input: 0..7 -> a, 8..15 -> w; -1 when unknown. */
static int input_roles(const gate_net *net, int *role)
{
    unsigned seen = 0;
    for (int i = 0; i < net->nin; i++) {
        const char *nm = net->net_names[net->in[i]];
        int bit = -1;
        char op = 0, close = 0;
        if (!nm || sscanf(nm, "%c[%d%c", &op, &bit, &close) != 3 || close != ']' || (op != 'a' && op != 'w') ||
            bit < 0 || bit > 7)
            return msg_error(ST_EFORMAT, "netlist '%s': unexpected input '%s' (want a[0..7], w[0..7])", net->name,
                             nm ? nm : "?");
        role[i] = (op == 'w' ? 8 : 0) + bit;
        seen |= 1u << role[i];
    }
    if (seen != 0xffffu) return msg_error(ST_EFORMAT, "netlist '%s': inputs a[0..7], w[0..7] incomplete", net->name);
    return ST_OK;
}

int gate_gen_pack(const gate_net *net, const int8_t *a, const int8_t *w, size_t n, uint32_t *vec)
{
    int role[32];
    if (net->nin > 32) return msg_error(ST_EFORMAT, "netlist '%s': too many inputs", net->name);
    int rc = input_roles(net, role);
    if (rc) return rc;
    for (size_t t = 0; t < n; t++) {
        uint32_t ops = (uint32_t)(uint8_t)a[t] | ((uint32_t)(uint8_t)w[t] << 8), v = 0;
        for (int i = 0; i < net->nin; i++) v |= ((ops >> role[i]) & 1u) << i;
        vec[t] = v;
    }
    return ST_OK;
}

long gate_gen_check(const gate_net *net, int k, int m, int *bad_a, int *bad_w)
{
    int role[32], outn[16];
    if (net->nin > 32 || input_roles(net, role)) return -1;
    for (int i = 0; i < 16; i++) {
        char pn[16];
        snprintf(pn, sizeof pn, "p[%d]", i);
        outn[i] = gate_net_output(net, pn);
        if (outn[i] < 0) { msg_error(ST_EFORMAT, "netlist '%s': no output '%s'", net->name, pn); return -1; }
    }
    gate_sim *s = gate_sim_alloc(net);
    uint64_t *val = gate_sim_values(s);
    long bad = 0;
    for (int base = 0; base < 65536; base += 64) {
        /* lane l: pair index base + l = (uint8_t)a * 256 + (uint8_t)w */
        for (int i = 0; i < net->nin; i++) {
            uint64_t wd = 0;
            for (int l = 0; l < 64; l++) {
                uint32_t ops = (uint32_t)((base + l) >> 8) | ((uint32_t)((base + l) & 255) << 8);
                wd |= (uint64_t)((ops >> role[i]) & 1u) << l;
            }
            val[net->in[i]] = wd;
        }
        gate_sim_eval(s);
        for (int l = 0; l < 64; l++) {
            uint16_t p = 0;
            for (int b = 0; b < 16; b++) p |= (uint16_t)(((val[outn[b]] >> l) & 1u) << b);
            int8_t av = (int8_t)(uint8_t)((base + l) >> 8), wv = (int8_t)(uint8_t)((base + l) & 255);
            if ((int16_t)p != gate_gen_roup_ref(av, wv, k, m)) {
                if (bad == 0) {
                    if (bad_a) *bad_a = av;
                    if (bad_w) *bad_w = wv;
                }
                bad++;
            }
        }
    }
    gate_sim_free(s);
    return bad;
}
