/* Bit-parallel gate-level simulation (64 vectors per machine word) and energy estimation.
 *
 * Zero-delay: every net settles once per vector; the transitions counted are those between
 * consecutive vectors of the stream (vector i-1 -> i, for i = 1..n-1), per net, rising and falling.
 * Unit-delay (glitch-inclusive upper bound): each transition starts from the settled state of vector
 * i-1, applies vector i to the inputs, and updates every cell output synchronously from the previous
 * step's values until nothing changes; every intermediate toggle is counted.
 *
 * Energy model (per net, in fJ; see gate_energy_setup for the electrical model):
 *   E = sum over nets of  R * e_rise + F * e_fall, where
 *   e_rise = driver output-pin internal rise energy + sum of sink input-pin internal rise energies
 *            + 1/2 C_net V^2 ; e_fall likewise with the fall tables;
 *   C_net = sum of sink pin capacitances + wire capacitance (the library's default wire_load:
 *           capacitance * fanout_length(fanout), extrapolated with its slope; 0 without a wire load).
 * A driver's internal energy is the mean, over the output pin's internal_power groups, of the table
 * value at (slew of the related pin's net, C_net). Net slews are propagated in topological order:
 * the mean over timing arcs of the mean of rise_transition and fall_transition at (related net slew,
 * C_net); primary inputs get `input_slew`. Primary outputs drive no external load. Leakage energy per
 * operation = sum of cell_leakage_power * clock period, reported separately. */
#ifndef SRC_GATE_SIM_H
#define SRC_GATE_SIM_H

#include <stddef.h>
#include <stdint.h>

#include "gate_net.h"

typedef struct gate_sim gate_sim;

/* Compile `net` (finished) for simulation; borrows `net`. Caller frees with gate_sim_free(). */
gate_sim *gate_sim_alloc(const gate_net *net);
void gate_sim_free(gate_sim *s);

/* Value words of all nets (nnets entries; the caller writes primary inputs, then calls eval). */
uint64_t *gate_sim_values(gate_sim *s);

/* Zero-delay evaluation of every cell on the current input words. */
void gate_sim_eval(gate_sim *s);

/* Per-net transition counts accumulated by the stream runs. */
typedef struct gate_activity {
    int nnets;
    uint64_t *rise;      /* nnets */
    uint64_t *fall;      /* nnets */
    uint64_t transitions;/* number of vector-to-vector transitions counted */
} gate_activity;

void gate_activity_init(gate_activity *a, int nnets);
void gate_activity_deinit(gate_activity *a);

/* A stream of input vectors, one word of `nin` bits per vector: bit i drives primary input i (in
 * gate_net order). Runs zero-delay (glitch = 0) or unit-delay (glitch = 1) simulation over all
 * n vectors and adds the transition counts to `act`. */
void gate_sim_stream(gate_sim *s, const uint32_t *vec, size_t n, int glitch, gate_activity *act);

/* Electrical figures of a netlist on its library. */
typedef struct gate_energy {
    int nnets;
    double *cap;       /* C_net, library cap unit */
    double *slew;      /* net slew, library time unit */
    double *e_rise;    /* fJ per rising transition of the net */
    double *e_fall;    /* fJ per falling transition */
    double leakage_fj_per_ns; /* sum of cell leakage, as fJ per ns */
    double area;
    int cells;
} gate_energy;

typedef struct gate_energy_opts {
    double input_slew;  /* primary input transition, library time unit */
    int wire_model;     /* 1: library default wire_load, 0: no wire capacitance */
} gate_energy_opts;

/* Compute the per-net energies of `net` (with its library's tables). Caller frees with
 * gate_energy_deinit(). */
void gate_energy_setup(gate_energy *e, const gate_net *net, const gate_energy_opts *o);
void gate_energy_deinit(gate_energy *e);

/* Dynamic energy in fJ per transition of `act` (total energy / act->transitions). */
double gate_energy_per_op(const gate_energy *e, const gate_activity *act);

#endif
