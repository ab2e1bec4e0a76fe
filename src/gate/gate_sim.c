/* Bit-parallel simulator and energy estimator (models in gate_sim.h). The netlist is flattened into
 * "eval nodes", one per connected cell output pin in topological order, each with its postfix function
 * and the nets of the cell's pins, so the inner loop is a table walk with no allocation. */
#include "gate_sim.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "msg.h"

typedef struct enode {
    const int16_t *func;
    int out;       /* output net */
    int first;     /* offset in pin_nets of the cell's pins */
    int npins;
} enode;

struct gate_sim {
    const gate_net *net;
    int nnets;
    int nnodes;
    enode *nodes;
    int *pin_nets;     /* per node: net per cell pin (unconnected -> constant 0) */
    uint64_t *val;     /* nnets */
    uint64_t *tmp;     /* nnets, unit-delay double buffer */
    uint64_t *last;    /* nnets, top lane of the previous block */
};

gate_sim *gate_sim_alloc(const gate_net *net)
{
    gate_sim *s = xcalloc(1, sizeof *s);
    s->net = net;
    s->nnets = net->nnets;
    int total = 0, nn = 0;
    for (int i = 0; i < net->ninst; i++) {
        const gate_cell *c = &net->lib->cells[net->inst[i].cell];
        for (int p = 0; p < c->npins; p++)
            if ((c->pins[p].dir & GATE_PIN_OUT) && net->inst[i].conn[p] >= 0) { nn++; total += c->npins; }
    }
    s->nodes = xmalloc((size_t)(nn ? nn : 1) * sizeof *s->nodes);
    s->pin_nets = xmalloc((size_t)(total ? total : 1) * sizeof *s->pin_nets);
    int off = 0;
    for (int i = 0; i < net->ninst; i++) {
        const gate_cell *c = &net->lib->cells[net->inst[i].cell];
        for (int p = 0; p < c->npins; p++) {
            if (!(c->pins[p].dir & GATE_PIN_OUT) || net->inst[i].conn[p] < 0) continue;
            enode *e = &s->nodes[s->nnodes++];
            e->func = c->pins[p].func;
            e->out = net->inst[i].conn[p];
            e->first = off;
            e->npins = c->npins;
            for (int q = 0; q < c->npins; q++) {
                int nq = net->inst[i].conn[q];
                s->pin_nets[off++] = nq < 0 ? GATE_NET_C0 : nq;
            }
        }
    }
    s->val = xcalloc((size_t)s->nnets, sizeof *s->val);
    s->tmp = xcalloc((size_t)s->nnets, sizeof *s->tmp);
    s->last = xcalloc((size_t)s->nnets, sizeof *s->last);
    s->val[GATE_NET_C1] = ~(uint64_t)0;
    return s;
}

void gate_sim_free(gate_sim *s)
{
    if (!s) return;
    free(s->nodes);
    free(s->pin_nets);
    free(s->val);
    free(s->tmp);
    free(s->last);
    free(s);
}

uint64_t *gate_sim_values(gate_sim *s)
{
    return s->val;
}

static inline uint64_t node_eval(const gate_sim *s, const enode *e, const uint64_t *val)
{
    uint64_t pins[32];
    ASSERT(e->npins <= 32);
    for (int q = 0; q < e->npins; q++) pins[q] = val[s->pin_nets[e->first + q]];
    return gate_expr_eval(e->func, pins);
}

void gate_sim_eval(gate_sim *s)
{
    s->val[GATE_NET_C0] = 0;
    s->val[GATE_NET_C1] = ~(uint64_t)0;
    for (int i = 0; i < s->nnodes; i++) s->val[s->nodes[i].out] = node_eval(s, &s->nodes[i], s->val);
}

void gate_activity_init(gate_activity *a, int nnets)
{
    a->nnets = nnets;
    a->rise = xcalloc((size_t)nnets, sizeof *a->rise);
    a->fall = xcalloc((size_t)nnets, sizeof *a->fall);
    a->transitions = 0;
}

void gate_activity_deinit(gate_activity *a)
{
    free(a->rise);
    free(a->fall);
    memset(a, 0, sizeof *a);
}

/* Load lanes: bit i of vec[base + lane] drives primary input i. */
static void load_inputs(gate_sim *s, const uint32_t *vec, size_t base, size_t count)
{
    const gate_net *n = s->net;
    for (int i = 0; i < n->nin; i++) {
        uint64_t wd = 0;
        for (size_t l = 0; l < count; l++) wd |= (uint64_t)((vec[base + l] >> i) & 1u) << l;
        s->val[n->in[i]] = wd;
    }
}

void gate_sim_stream(gate_sim *s, const uint32_t *vec, size_t n, int glitch, gate_activity *act)
{
    ASSERT(act->nnets == s->nnets);
    ASSERT(s->net->nin <= 32);
    if (n < 2) return;
    for (size_t base = 0; base < n; base += 64) {
        size_t count = n - base < 64 ? n - base : 64;
        /* lanes that hold a transition: lane l is vector base+l, its predecessor base+l-1 */
        uint64_t mask = count == 64 ? ~(uint64_t)0 : (((uint64_t)1 << count) - 1);
        if (base == 0) mask &= ~(uint64_t)1;
        if (!glitch) {
            load_inputs(s, vec, base, count);
            gate_sim_eval(s);
            for (int net = 2; net < s->nnets; net++) {
                uint64_t cur = s->val[net];
                uint64_t prev = (cur << 1) | (s->last[net] >> 63);
                uint64_t t = (cur ^ prev) & mask;
                act->rise[net] += (uint64_t)__builtin_popcountll(t & cur);
                act->fall[net] += (uint64_t)__builtin_popcountll(t & ~cur);
                s->last[net] = cur << (64 - count);
            }
        } else {
            /* settled state of the predecessors: inputs of vector base+l-1 in lane l */
            size_t pb = base == 0 ? 0 : base - 1;
            if (base == 0) {
                load_inputs(s, vec, 0, count);
                const gate_net *nt = s->net;
                for (int i = 0; i < nt->nin; i++) s->val[nt->in[i]] <<= 1; /* lane 0 is masked */
            } else {
                load_inputs(s, vec, pb, count);
            }
            gate_sim_eval(s);
            load_inputs(s, vec, base, count);  /* new inputs: count their toggles */
            const gate_net *nt = s->net;
            memcpy(s->tmp, s->val, (size_t)s->nnets * sizeof *s->tmp);
            /* the inputs already changed in val; count them against the settled predecessor */
            for (int i = 0; i < nt->nin; i++) {
                int net = nt->in[i];
                uint64_t prevw = 0;
                for (size_t l = 0; l < count; l++) {
                    size_t idx = base + l == 0 ? 0 : base + l - 1;
                    prevw |= (uint64_t)((vec[idx] >> i) & 1u) << l;
                }
                uint64_t t = (s->val[net] ^ prevw) & mask;
                act->rise[net] += (uint64_t)__builtin_popcountll(t & s->val[net]);
                act->fall[net] += (uint64_t)__builtin_popcountll(t & ~s->val[net]);
            }
            for (int step = 0; step <= s->nnodes + 1; step++) {
                int changed = 0;
                for (int i = 0; i < s->nnodes; i++) s->tmp[s->nodes[i].out] = node_eval(s, &s->nodes[i], s->val);
                for (int i = 0; i < s->nnodes; i++) {
                    int net = s->nodes[i].out;
                    uint64_t t = (s->tmp[net] ^ s->val[net]);
                    if (!t) continue;
                    changed = 1;
                    t &= mask;
                    act->rise[net] += (uint64_t)__builtin_popcountll(t & s->tmp[net]);
                    act->fall[net] += (uint64_t)__builtin_popcountll(t & ~s->tmp[net]);
                }
                for (int i = 0; i < s->nnodes; i++) s->val[s->nodes[i].out] = s->tmp[s->nodes[i].out];
                if (!changed) break;
            }
        }
        act->transitions += (uint64_t)__builtin_popcountll(mask);
    }
}

/* ---- energy ---------------------------------------------------------------------------------- */

static double wire_cap(const gate_lib *lib, int fanout)
{
    if (lib->wl_n == 0 || fanout <= 0) return 0;
    int best = -1;
    for (int i = 0; i < lib->wl_n; i++)
        if (lib->wl_fanout[i] == fanout) return lib->wl_cap * lib->wl_length[i];
    /* above the table: extrapolate from the largest fanout with the slope; inside: interpolate */
    int lo = -1, hi = -1;
    for (int i = 0; i < lib->wl_n; i++) {
        if (lib->wl_fanout[i] < fanout && (lo < 0 || lib->wl_fanout[i] > lib->wl_fanout[lo])) lo = i;
        if (lib->wl_fanout[i] > fanout && (hi < 0 || lib->wl_fanout[i] < lib->wl_fanout[hi])) hi = i;
    }
    double len;
    if (lo >= 0 && hi >= 0)
        len = lib->wl_length[lo] + (lib->wl_length[hi] - lib->wl_length[lo]) * (fanout - lib->wl_fanout[lo]) /
              (double)(lib->wl_fanout[hi] - lib->wl_fanout[lo]);
    else if (lo >= 0)
        len = lib->wl_length[lo] + lib->wl_slope * (fanout - lib->wl_fanout[lo]);
    else
        len = lib->wl_length[hi] * fanout / (double)lib->wl_fanout[hi];
    (void)best;
    return lib->wl_cap * len;
}

void gate_energy_setup(gate_energy *e, const gate_net *net, const gate_energy_opts *o)
{
    const gate_lib *lib = net->lib;
    int nn = net->nnets;
    e->nnets = nn;
    e->cap = xcalloc((size_t)nn, sizeof *e->cap);
    e->slew = xcalloc((size_t)nn, sizeof *e->slew);
    e->e_rise = xcalloc((size_t)nn, sizeof *e->e_rise);
    e->e_fall = xcalloc((size_t)nn, sizeof *e->e_fall);
    e->leakage_fj_per_ns = 0;
    e->area = gate_net_area(net);
    e->cells = net->ninst;
    for (int i = 0; i < net->ninst; i++) {
        const gate_cell *c = &lib->cells[net->inst[i].cell];
        e->leakage_fj_per_ns += c->leakage * lib->leak_time_to_fj / lib->time_unit_ns;
        for (int p = 0; p < c->npins; p++)
            if (c->pins[p].dir == GATE_PIN_IN && net->inst[i].conn[p] >= 0) e->cap[net->inst[i].conn[p]] += c->pins[p].cap;
    }
    if (o->wire_model)
        for (int i = 2; i < nn; i++) e->cap[i] += wire_cap(lib, net->fanout[i]);
    for (int i = 0; i < nn; i++) e->slew[i] = o->input_slew;
    /* drivers in topological order: slew, then output-pin internal energy */
    for (int i = 0; i < net->ninst; i++) {
        const gate_inst *g = &net->inst[i];
        const gate_cell *c = &lib->cells[g->cell];
        for (int p = 0; p < c->npins; p++) {
            int out = g->conn[p];
            if (!(c->pins[p].dir & GATE_PIN_OUT) || out < 0) continue;
            const gate_pin *pin = &c->pins[p];
            double load = e->cap[out];
            if (pin->narc > 0) {
                double sum = 0;
                for (int a = 0; a < pin->narc; a++) {
                    int rn = pin->arcs[a].related >= 0 ? g->conn[pin->arcs[a].related] : -1;
                    double tr = rn >= 0 ? e->slew[rn] : o->input_slew;
                    double r = gate_table_lookup(pin->arcs[a].rise, tr, load);
                    double f = gate_table_lookup(pin->arcs[a].fall, tr, load);
                    sum += 0.5 * (r + f);
                }
                e->slew[out] = sum / pin->narc;
            }
            if (pin->npow > 0) {
                double rs = 0, fs = 0;
                for (int a = 0; a < pin->npow; a++) {
                    int rn = pin->pow[a].related >= 0 ? g->conn[pin->pow[a].related] : -1;
                    double tr = rn >= 0 ? e->slew[rn] : o->input_slew;
                    rs += gate_table_lookup(pin->pow[a].rise, tr, load);
                    fs += gate_table_lookup(pin->pow[a].fall, tr, load);
                }
                e->e_rise[out] += rs / pin->npow * lib->energy_to_fj;
                e->e_fall[out] += fs / pin->npow * lib->energy_to_fj;
            }
        }
    }
    /* input-pin internal energy, charged to the net that drives the pin */
    for (int i = 0; i < net->ninst; i++) {
        const gate_inst *g = &net->inst[i];
        const gate_cell *c = &lib->cells[g->cell];
        for (int p = 0; p < c->npins; p++) {
            int in = g->conn[p];
            if (c->pins[p].dir != GATE_PIN_IN || in < 0 || c->pins[p].npow == 0) continue;
            const gate_pin *pin = &c->pins[p];
            double rs = 0, fs = 0;
            for (int a = 0; a < pin->npow; a++) {
                rs += gate_table_lookup(pin->pow[a].rise, e->slew[in], 0);
                fs += gate_table_lookup(pin->pow[a].fall, e->slew[in], 0);
            }
            e->e_rise[in] += rs / pin->npow * lib->energy_to_fj;
            e->e_fall[in] += fs / pin->npow * lib->energy_to_fj;
        }
    }
    double v2 = lib->voltage * lib->voltage;
    double cap_fj = lib->cap_unit_ff; /* fF * V^2 = fJ */
    for (int i = 2; i < nn; i++) {
        double sw = 0.5 * e->cap[i] * cap_fj * v2;
        e->e_rise[i] += sw;
        e->e_fall[i] += sw;
    }
}

void gate_energy_deinit(gate_energy *e)
{
    free(e->cap);
    free(e->slew);
    free(e->e_rise);
    free(e->e_fall);
    memset(e, 0, sizeof *e);
}

double gate_energy_per_op(const gate_energy *e, const gate_activity *act)
{
    ASSERT(e->nnets == act->nnets);
    if (act->transitions == 0) return 0;
    double sum = 0;
    for (int i = 2; i < e->nnets; i++) sum += (double)act->rise[i] * e->e_rise[i] + (double)act->fall[i] * e->e_fall[i];
    return sum / (double)act->transitions;
}
