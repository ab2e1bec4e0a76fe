/* Gate-level netlists over a gate_lib: nets, primary inputs/outputs (single bits named "a[3]"), and
 * cell instances whose pins connect to nets. Net 0 is constant 0, net 1 constant 1.
 *
 * Invariants after gate_net_finish(): every net has at most one driver (a cell output pin or a primary
 * input or a constant), the instances are in topological order (every instance comes after the
 * drivers of its inputs), and no combinational loop exists. Only combinational cells are accepted.
 *
 * Sources: netlists are built in code (the ROUP generator, over a small built-in generic library) or
 * read from yosys BLIF (`write_blif` after `abc -liberty`: .model/.inputs/.outputs/.subckt/.gate,
 * `.names` only as constants and buffers, which become net aliases). */
#ifndef SRC_GATE_NET_H
#define SRC_GATE_NET_H

#include <stdio.h>

#include "gate_lib.h"

enum { GATE_NET_C0 = 0, GATE_NET_C1 = 1 };

typedef struct gate_inst {
    int cell;     /* index in the library */
    int *conn;    /* net of each cell pin (cell->npins entries), -1 when unconnected */
} gate_inst;

typedef struct gate_net {
    const gate_lib *lib;  /* borrowed */
    char *name;           /* module name */
    int nnets;
    char **net_names;     /* nnets entries (NULL for anonymous nets) */
    int nin, nout;
    int *in;              /* primary input nets */
    int *out;             /* primary output nets (may be constants or inputs) */
    char **out_names;     /* names of the outputs, in order */
    int ninst;
    gate_inst *inst;
    /* filled by gate_net_finish() */
    int *driver;          /* per net: instance index, -1 (constant / input / undriven) */
    int *fanout;          /* per net: number of connected cell input pins */
} gate_net;

/* Empty netlist (just the two constant nets). */
gate_net *gate_net_alloc(const gate_lib *lib, const char *name);
void gate_net_free(gate_net *n);

/* New net (name may be NULL; copied). Returns its index. */
int gate_net_add_net(gate_net *n, const char *name);

/* New primary input net named `name`; returns its index. */
int gate_net_add_input(gate_net *n, const char *name);

/* Declare `net` as primary output `name`. */
void gate_net_add_output(gate_net *n, const char *name, int net);

/* Instance of cell `cell` with nets for its pins in cell pin order (copied). Returns its index. */
int gate_net_add_inst(gate_net *n, int cell, const int *conn);

/* Check single drivers, compute fanout, sort instances topologically. Returns ST_OK or ST_EFORMAT
 * (reported, prefixed by `where`) on a multiply-driven net, an undriven used net, a sequential cell or a
 * combinational loop. */
int gate_net_finish(gate_net *n, const char *where);

/* Net of primary input / output `name` ("a[3]"), or -1. */
int gate_net_input(const gate_net *n, const char *name);
int gate_net_output(const gate_net *n, const char *name);

/* Total cell area and count of cell instances. */
double gate_net_area(const gate_net *n);

/* Read yosys BLIF over `lib`. Errors report "path:line: what" and return ST_EIO / ST_EPARSE /
 * ST_EFORMAT (unknown cell or pin, unsupported .names cover, ...). Caller frees with gate_net_free(). */
int gate_net_read_blif(const char *path, const gate_lib *lib, gate_net **out);

/* Write structural Verilog: one `assign` per instance using the output pin's Liberty function
 * rewritten as a Verilog expression; inputs and outputs are grouped into vectors by their base name
 * ("a[0]".."a[7]" -> input [7:0] a). Returns ST_OK or ST_EIO. */
int gate_net_write_verilog(const gate_net *n, FILE *f);

#endif
