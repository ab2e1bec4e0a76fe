/* Standard-cell libraries read from Liberty (.lib, or .lib.gz through `gzip -dc`): the parts the
 * gate-level energy estimator needs, and nothing else.
 *
 * Kept per combinational cell: area, cell_leakage_power, pins (direction, capacitance), for each
 * output pin its Boolean `function` compiled to a small postfix program over the cell's pins, its
 * internal_power groups (related pin, rise_power / fall_power tables) and its timing groups
 * (rise_transition / fall_transition tables); for each input pin its internal_power tables (energy
 * per input transition, no related pin). Cells with ff / latch / statetable groups, or with an output
 * pin without function, are kept but marked `sequential` (the netlist reader refuses them).
 *
 * Units are those of the file: tables are indexed in time_unit and capacitive_load_unit; internal
 * power table values are energies per transition in cap_unit * voltage_unit^2 (the Liberty
 * convention the pdk README states); `energy_to_fj` converts that unit to femtojoules,
 * `leak_time_to_fj` converts leakage_power_unit * time_unit to femtojoules.
 *
 * Table look-up: bilinear interpolation between grid points, linear extrapolation outside the grid
 * (what static timing tools do), on the axes named by the table's template (input transition and
 * total output net capacitance, in either order). */
#ifndef SRC_GATE_LIB_H
#define SRC_GATE_LIB_H

#include <stdint.h>

/* A 0-, 1- or 2-dimensional look-up table. Axis 1 is always the input transition, axis 2 the output
 * load (swapped on reading when the template says otherwise). n1 == 0 means a scalar (vals[0]). */
typedef struct gate_table {
    int n1, n2;     /* grid sizes (n2 == 0: one-dimensional in the transition) */
    double *idx1;   /* n1 transitions */
    double *idx2;   /* n2 loads */
    double *vals;   /* n1 x max(n2, 1), row-major (transition-major) */
} gate_table;

/* Internal power of an output pin caused through one related input pin (or, for input pins, with
 * related == -1). Missing rise or fall tables are NULL (count as zero). */
typedef struct gate_power {
    int related;        /* index of the related pin in the cell, or -1 */
    gate_table *rise;   /* energy per rising transition of the pin */
    gate_table *fall;
} gate_power;

/* A timing arc's output transition tables (only these are kept). */
typedef struct gate_arc {
    int related;
    gate_table *rise;
    gate_table *fall;
} gate_arc;

enum { GATE_PIN_IN = 1, GATE_PIN_OUT = 2, GATE_PIN_INOUT = 3 };

/* Postfix program of a Boolean function: ops below; GATE_OP_VAR is followed by a pin index. */
enum { GATE_OP_END = 0, GATE_OP_VAR, GATE_OP_ZERO, GATE_OP_ONE, GATE_OP_NOT, GATE_OP_AND, GATE_OP_OR,
       GATE_OP_XOR };
enum { GATE_EXPR_STACK = 32 };

typedef struct gate_pin {
    char *name;
    int dir;             /* GATE_PIN_* */
    double cap;          /* input capacitance (cap unit) */
    int16_t *func;       /* output pins: postfix program, GATE_OP_END-terminated; else NULL */
    int npow;
    gate_power *pow;
    int narc;
    gate_arc *arcs;
} gate_pin;

typedef struct gate_cell {
    char *name;
    double area;
    double leakage;      /* cell_leakage_power (leakage unit) */
    int sequential;      /* not usable by the combinational simulator */
    int npins;
    gate_pin *pins;
} gate_cell;

typedef struct gate_lib {
    char *path;            /* file it came from (or "<builtin>") */
    char *name;            /* library (...) name */
    char *corner;          /* default_operating_conditions name, or NULL */
    double voltage;        /* nom_voltage, else the default operating conditions' voltage */
    double cap_unit_ff;    /* capacitive_load_unit in fF */
    double time_unit_ns;   /* time_unit in ns */
    double energy_to_fj;   /* cap_unit * V^2 in fJ */
    double leak_time_to_fj;/* leakage_power_unit * time_unit in fJ */
    /* default wire load (wire cap = wl_cap * length(fanout)); wl_n == 0: no wire model */
    char *wire_load;
    double wl_cap, wl_slope;
    int wl_n;
    int *wl_fanout;
    double *wl_length;
    int ncells;
    gate_cell *cells;
} gate_lib;

/* Read a Liberty file (".gz" files are decompressed through `gzip -dc`). On error reports
 * "path:line:col: what" (or the I/O cause) and returns ST_EIO / ST_EPARSE / ST_EFORMAT, leaving *out
 * untouched. Caller frees with gate_lib_free(). */
int gate_lib_read(const char *path, gate_lib **out);

/* Same from a NUL-terminated string; `name` is used in messages and as the path. */
int gate_lib_parse(const char *text, const char *name, gate_lib **out);

/* Free a library; NULL is a no-op. */
void gate_lib_free(gate_lib *lib);

/* Index of cell `name`, or -1. */
int gate_lib_find(const gate_lib *lib, const char *name);

/* Index of pin `name` of cell `c`, or -1. */
int gate_cell_pin(const gate_cell *c, const char *name);

/* Table value at input transition `tr` (time unit) and output load `load` (cap unit). NULL: 0. */
double gate_table_lookup(const gate_table *t, double tr, double load);

/* Evaluate a postfix function on 64 lanes; `pins[i]` is the word of cell pin i. */
uint64_t gate_expr_eval(const int16_t *func, const uint64_t *pins);

/* Compile a Liberty function string over `cell`'s pin names into a heap program (caller frees).
 * Returns NULL after msg_error() (prefixed by `where`) on a syntax error or unknown pin. */
int16_t *gate_expr_compile(const char *text, const gate_cell *cell, const char *where);

#endif
