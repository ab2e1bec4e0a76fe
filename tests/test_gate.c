/* Gate-level module: Liberty reading and table look-up, BLIF reading, the ROUP generator on all
 * 65,536 pairs for all 21 configurations, and the energy estimator on hand-checkable circuits (an
 * inverter chain, a full-adder cell, a glitching XOR) whose figures are computed by hand below.
 * The synthesized-netlist checks (need yosys and the pdk) are in tests/cli_gate.sh. */
#include "tu.h"

#include "amul.h"
#include "gate_gen.h"
#include "gate_lib.h"
#include "gate_net.h"
#include "gate_sim.h"
#include "status.h"

/* Inverter with a 2-D rise table linear in the load (1.0 at 1 fF, 2.0 at 5 fF), constant fall 0.5,
 * input-pin energies 0.25 (rise) / 0.125 (fall), pin cap 2 fF; 1.0 V; a wire load for the wire test. */
static const char inv_lib[] =
    "library (hand) {\n"
    "  time_unit : \"1ns\";\n"
    "  voltage_unit : \"1V\";\n"
    "  leakage_power_unit : \"1nW\";\n"
    "  capacitive_load_unit (1, ff);\n"
    "  nom_voltage : 1.0;\n"
    "  default_wire_load : \"w\";\n"
    "  wire_load (\"w\") { capacitance : 0.5; slope : 3.0; fanout_length (1, 2.0); fanout_length (2, 4.0); }\n"
    "  power_lut_template (p2) { variable_1 : input_transition_time; variable_2 : total_output_net_capacitance;\n"
    "    index_1 (\"1, 2\"); index_2 (\"1, 2\"); }\n"
    "  /* a comment */\n"
    "  cell (INV) {\n"
    "    area : 1.5;\n"
    "    cell_leakage_power : 4.0;\n"
    "    pin (A) { direction : input; capacitance : 2.0;\n"
    "      internal_power () { rise_power (scalar) { values (\"0.25\"); } fall_power (scalar) { values (\"0.125\"); } } }\n"
    "    pin (Y) { direction : output; function : \"A'\";\n"
    "      internal_power () { related_pin : \"A\";\n"
    "        rise_power (p2) { index_1 (\"0.01, 0.1\"); index_2 (\"1, 5\");\n"
    "          values (\"1.0, 2.0\", \\\n"
    "                  \"1.0, 2.0\"); }\n"
    "        fall_power (p2) { index_1 (\"0.01, 0.1\"); index_2 (\"1, 5\"); values (\"0.5, 0.5\", \"0.5, 0.5\"); } } }\n"
    "  }\n"
    "  cell (XOR2) { area : 2; pin (A) { direction : input; capacitance : 1; } pin (B) { direction : input; capacitance : 1; }\n"
    "    pin (Y) { direction : output; function : \"(A ^ B)\"; } }\n"
    "  cell (DFF) { ff (IQ, IQN) { next_state : \"D\"; clocked_on : \"CK\"; }\n"
    "    pin (D) { direction : input; } pin (CK) { direction : input; }\n"
    "    pin (Q) { direction : output; function : \"IQ\"; } }\n"
    "}\n";

/* Full adder cell with two outputs; scalar output energies; 2.0 V; no wire load. */
static const char fa_lib[] =
    "library (fa) {\n"
    "  capacitive_load_unit (1, ff);\n"
    "  operating_conditions (tc) { voltage : 2.0; }\n"
    "  default_operating_conditions : tc;\n"
    "  cell (FA) { area : 10;\n"
    "    pin (A) { direction : input; capacitance : 1; }\n"
    "    pin (B) { direction : input; capacitance : 1; }\n"
    "    pin (CI) { direction : input; capacitance : 1; }\n"
    "    pin (S) { direction : output; function : \"A ^ B ^ CI\";\n"
    "      internal_power () { related_pin : \"A\"; rise_power (scalar) { values (\"3.0\"); }\n"
    "                                              fall_power (scalar) { values (\"1.0\"); } } }\n"
    "    pin (CO) { direction : output; function : \"(A B) + (CI * (A ^ B))\";\n"
    "      internal_power () { related_pin : \"A\"; rise_power (scalar) { values (\"2.0\"); }\n"
    "                                              fall_power (scalar) { values (\"1.0\"); } } }\n"
    "  }\n"
    "}\n";

static gate_lib *parse_or_die(const char *text)
{
    gate_lib *lib = NULL;
    ck_assert_int_eq(gate_lib_parse(text, "hand.lib", &lib), ST_OK);
    return lib;
}

START_TEST(liberty_units_cells_and_tables)
{
    gate_lib *lib = parse_or_die(inv_lib);
    ck_assert_int_eq(lib->ncells, 3);
    ck_assert_double_eq(lib->voltage, 1.0);
    ck_assert_double_eq_tol(lib->energy_to_fj, 1.0, 1e-12);
    ck_assert_double_eq_tol(lib->leak_time_to_fj, 1e-3, 1e-15);  /* nW * ns = 1e-3 fJ */
    ck_assert_str_eq(lib->wire_load, "w");
    ck_assert_int_eq(lib->wl_n, 2);
    int c = gate_lib_find(lib, "INV");
    ck_assert_int_eq(c, 0);
    const gate_cell *inv = &lib->cells[c];
    ck_assert_double_eq(inv->area, 1.5);
    ck_assert_int_eq(inv->npins, 2);
    ck_assert_double_eq(inv->pins[0].cap, 2.0);
    ck_assert_int_eq(inv->pins[1].npow, 1);
    ck_assert_int_eq(inv->pins[1].pow[0].related, 0);
    const gate_table *t = inv->pins[1].pow[0].rise;
    ck_assert_int_eq(t->n1, 2);
    ck_assert_int_eq(t->n2, 2);
    /* bilinear inside, linear extrapolation outside */
    ck_assert_double_eq_tol(gate_table_lookup(t, 0.05, 2.0), 1.25, 1e-12);
    ck_assert_double_eq_tol(gate_table_lookup(t, 0.05, 0.0), 0.75, 1e-12);
    ck_assert_double_eq_tol(gate_table_lookup(t, 0.05, 9.0), 3.0, 1e-12);
    ck_assert_double_eq_tol(gate_table_lookup(inv->pins[0].pow[0].rise, 7, 7), 0.25, 1e-12);
    ck_assert_int_eq(lib->cells[gate_lib_find(lib, "DFF")].sequential, 1);
    ck_assert_int_eq(lib->cells[gate_lib_find(lib, "XOR2")].sequential, 0);
    gate_lib_free(lib);
}
END_TEST

START_TEST(liberty_functions_evaluate)
{
    gate_lib *lib = parse_or_die(fa_lib);
    const gate_cell *fa = &lib->cells[0];
    uint64_t pins[5] = { 0xF0F0F0F0F0F0F0F0ull, 0xCCCCCCCCCCCCCCCCull, 0xAAAAAAAAAAAAAAAAull, 0, 0 };
    uint64_t s = gate_expr_eval(fa->pins[3].func, pins), co = gate_expr_eval(fa->pins[4].func, pins);
    ck_assert_uint_eq(s, pins[0] ^ pins[1] ^ pins[2]);
    ck_assert_uint_eq(co, (pins[0] & pins[1]) | (pins[0] & pins[2]) | (pins[1] & pins[2]));
    /* precedence: ^ binds tighter than &, & tighter than |; postfix ' and prefix ! both negate */
    int16_t *f = gate_expr_compile("A | B & !CI ^ A'", fa, "t");
    ck_assert_ptr_nonnull(f);
    ck_assert_uint_eq(gate_expr_eval(f, pins), pins[0] | (pins[1] & (~pins[2] ^ ~pins[0])));
    free(f);
    tu_capture_buf cap = { 0 };
    msg_set_sink(tu_capture, &cap);
    ck_assert_ptr_null(gate_expr_compile("A & Q", fa, "x.lib:3"));
    msg_set_sink(NULL, NULL);
    ck_assert_str_eq(cap.text, "x.lib:3: unknown pin in function 'A & Q' of cell 'FA'");
    gate_lib_free(lib);
}
END_TEST

START_TEST(liberty_hostile_inputs_are_refused_with_positions)
{
    tu_capture_buf cap = { 0 };
    gate_lib *lib = NULL;
    msg_set_sink(tu_capture, &cap);
    /* 64 nested groups parse (and lack a library voltage); the 65th level is refused where it opens,
     * and 100 000 levels are refused the same way instead of overflowing the stack */
    static const int depths[] = { 64, 65, 100000 };
    for (int k = 0; k < 3; k++) {
        int d = depths[k];
        char *text = xmalloc((size_t)d * 8 + 16);
        size_t o = 0;
        o += (size_t)sprintf(text, "library (x) {\n");
        for (int i = 1; i < d; i++) o += (size_t)sprintf(text + o, "g(){");
        for (int i = 1; i < d; i++) text[o++] = '}';
        o += (size_t)sprintf(text + o, "\n}\n");
        int rc = gate_lib_parse(text, "deep.lib", &lib);
        ck_assert_int_eq(rc, d == 64 ? ST_EFORMAT : ST_EPARSE);
        ck_assert_str_eq(cap.text, d == 64 ? "deep.lib:1:1: library 'x' has no nom_voltage nor operating_conditions voltage"
                                           : "deep.lib:2:256: groups nested deeper than 64");
        free(text);
    }
    ck_assert_int_eq(gate_lib_parse("", "empty.lib", &lib), ST_EFORMAT);
    ck_assert_str_eq(cap.text, "empty.lib:1:1: no 'library' group (an empty file or not Liberty)");
    ck_assert_int_eq(gate_lib_parse("\n\n  hello world\n", "junk.lib", &lib), ST_EPARSE);
    ck_assert_str_eq(cap.text, "junk.lib:3:9: expected ':' or '('");
    ck_assert_int_eq(gate_lib_parse("library (x) {\n  nom_voltage : \"1.8;\n}\n", "s.lib", &lib), ST_EPARSE);
    ck_assert_str_eq(cap.text, "s.lib:2:17: unterminated string");
    ck_assert_int_eq(gate_lib_parse("library (x) { nom_voltage : 1; }\n}\n", "c.lib", &lib), ST_EPARSE);
    ck_assert_str_eq(cap.text, "c.lib:2:1: unexpected '}'");
    ck_assert_int_eq(gate_lib_read("/dev/zero", &lib), ST_EIO);
    ck_assert_str_eq(cap.text, "cannot read '/dev/zero': not a regular file");
    msg_set_sink(NULL, NULL);
    ck_assert_ptr_null(lib);
    /* a function nested 100 000 deep is refused without exhausting the stack */
    gate_lib *fa = parse_or_die(fa_lib);
    char *deep = xmalloc(200002);
    memset(deep, '(', 100000);
    deep[100000] = 'A';
    memset(deep + 100001, ')', 100000);
    deep[200001] = 0;
    msg_set_sink(tu_capture, &cap);
    ck_assert_ptr_null(gate_expr_compile(deep, &fa->cells[0], "t"));
    ck_assert_ptr_nonnull(strstr(cap.text, "t: expression too deep in function '((("));
    memset(deep, '!', 100000);
    deep[100001] = 0;
    ck_assert_ptr_null(gate_expr_compile(deep, &fa->cells[0], "t"));
    msg_set_sink(NULL, NULL);
    ck_assert_ptr_nonnull(strstr(cap.text, "t: expression too deep in function '!!!"));
    free(deep);
    gate_lib_free(fa);
}
END_TEST

START_TEST(liberty_syntax_error_has_line)
{
    tu_capture_buf cap = { 0 };
    gate_lib *lib = NULL;
    msg_set_sink(tu_capture, &cap);
    int rc = gate_lib_parse("library (x) {\n  nom_voltage : 1;\n  cell (A) {\n   area ) 3;\n  }\n}\n", "bad.lib", &lib);
    msg_set_sink(NULL, NULL);
    ck_assert_int_eq(rc, ST_EPARSE);
    ck_assert_ptr_null(lib);
    ck_assert_str_eq(cap.text, "bad.lib:4:9: expected ':' or '('");
}
END_TEST

START_TEST(closed_form_matches_amul)
{
    for (int k = 0; k <= 2; k++)
        for (int m = 0; m <= 6; m++)
            for (int a = -128; a < 128; a++)
                for (int w = -128; w < 128; w++)
                    ck_assert_int_eq(gate_gen_roup_ref((int8_t)a, (int8_t)w, k, m), amul_roup_mul((int8_t)a, (int8_t)w, k, m));
    ck_assert_int_eq(gate_gen_roup_ref(127, 127, 1, 1), 128 * 128);
    ck_assert_int_eq(gate_gen_roup_ref(-128, -128, 0, 0), 16384);
    ck_assert_int_eq(gate_gen_roup_ref(-3, 5, 0, 1), -2 * 5);  /* R_1(-3) = (-2 + 1) * 2 = -2 */
}
END_TEST

/* All 21 generated designs equal the closed form on all 65,536 pairs. */
START_TEST(generated_designs_are_exact_models)
{
    gate_lib *g = gate_gen_lib();
    int cells_exact = 0;
    for (int k = 0; k <= 2; k++)
        for (int m = 0; m <= 6; m++) {
            gate_net *n = gate_gen_roup(g, k, m);
            int ba = 0, bw = 0;
            long bad = gate_gen_check(n, k, m, &ba, &bw);
            if (bad) ck_abort_msg("roup_k%d_m%d: %ld mismatches, first a=%d w=%d", k, m, bad, ba, bw);
            if (k == 0 && m == 0) cells_exact = n->ninst;
            else ck_assert_int_lt(n->ninst, cells_exact + 40); /* rounding adds at most a few XOR/AND per row */
            gate_net_free(n);
        }
    ck_assert_int_gt(cells_exact, 200);
    gate_lib_free(g);
}
END_TEST

/* A wrong design must be caught: the exact netlist checked as if it were k = 1. */
START_TEST(check_detects_a_wrong_design)
{
    gate_lib *g = gate_gen_lib();
    gate_net *n = gate_gen_roup(g, 0, 0);
    int ba = 99, bw = 99;
    long bad = gate_gen_check(n, 1, 0, &ba, &bw);
    /* k = 1 (R_2(w)) differs from the exact product exactly when w % 4 != 0 and a != 0; pairs are
     * visited in (uint8_t)a, (uint8_t)w order, so the first is a = 1, w = 1 */
    ck_assert_int_eq(bad, 192 * 255);
    ck_assert_int_eq(ba, 1);
    ck_assert_int_eq(bw, 1);
    gate_net_free(n);
    gate_lib_free(g);
}
END_TEST

START_TEST(verilog_has_ports_and_one_assign_per_cell)
{
    gate_lib *g = gate_gen_lib();
    gate_net *n = gate_gen_roup(g, 1, 3);
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    ck_assert_int_eq(gate_net_write_verilog(n, f), ST_OK);
    fclose(f);
    ck_assert_ptr_nonnull(strstr(buf, "module roup_k1_m3 (\n  input [7:0] a,\n  input [7:0] w,\n  output [15:0] p\n);"));
    ck_assert_ptr_nonnull(strstr(buf, "  assign p[0] = 1'b0;\n  assign p[1] = 1'b0;\n  assign p[2] = 1'b0;\n"));
    int assigns = 0;
    for (const char *q = buf; (q = strstr(q, "assign ")); q++) assigns++;
    ck_assert_int_eq(assigns, n->ninst + 16);
    free(buf);
    gate_net_free(n);
    gate_lib_free(g);
}
END_TEST

static gate_net *inv_chain(const gate_lib *lib)
{
    gate_net *n = gate_net_alloc(lib, "chain");
    int in = gate_net_add_input(n, "x"), prev = in;
    for (int i = 0; i < 3; i++) {
        int y = gate_net_add_net(n, NULL);
        int conn[2] = { prev, y };
        gate_net_add_inst(n, gate_lib_find(lib, "INV"), conn);
        prev = y;
    }
    gate_net_add_output(n, "y", prev);
    ck_assert_int_eq(gate_net_finish(n, "chain"), ST_OK);
    return n;
}

static double run_energy(const gate_net *n, const uint32_t *vec, size_t len, int glitch, int wire, gate_activity *act_out)
{
    gate_energy_opts o = { .input_slew = 0.05, .wire_model = wire };
    gate_energy e;
    gate_energy_setup(&e, n, &o);
    gate_sim *s = gate_sim_alloc(n);
    gate_activity act;
    gate_activity_init(&act, n->nnets);
    gate_sim_stream(s, vec, len, glitch, &act);
    double en = gate_energy_per_op(&e, &act);
    if (act_out) *act_out = act;
    else gate_activity_deinit(&act);
    gate_sim_free(s);
    gate_energy_deinit(&e);
    return en;
}

/* Hand computation (per transition, fJ; V = 1, 1/2 C V^2 = 1.0 for a net loaded by one 2 fF pin):
 *   x rises:  x  R: switch 1.0 + INV1.A rise 0.25                 = 1.25
 *             n1 F: INV1 fall 0.5 + INV2.A fall 0.125 + switch 1.0 = 1.625
 *             n2 R: INV2 rise 1.25 (load 2 fF) + 0.25 + 1.0        = 2.5
 *             y  F: INV3 fall 0.5 (no load)                        = 0.5     total 5.875
 *   x falls:  1.125 + 2.5 + 1.625 + INV3 rise at load 0 (0.75)               = 6.0
 * Stream 0,1,0,1,0: two of each, 23.75 / 4 = 5.9375 per transition. */
START_TEST(energy_of_inverter_chain_by_hand)
{
    gate_lib *lib = parse_or_die(inv_lib);
    gate_net *n = inv_chain(lib);
    const uint32_t vec[5] = { 0, 1, 0, 1, 0 };
    gate_activity act;
    ck_assert_double_eq_tol(run_energy(n, vec, 5, 0, 0, &act), 5.9375, 1e-12);
    ck_assert_uint_eq(act.transitions, 4);
    ck_assert_uint_eq(act.rise[n->out[0]], 2);
    ck_assert_uint_eq(act.fall[n->out[0]], 2);
    gate_activity_deinit(&act);
    /* no glitches in a chain: unit-delay gives the same figure */
    ck_assert_double_eq_tol(run_energy(n, vec, 5, 1, 0, NULL), 5.9375, 1e-12);
    /* wire load: fanout 1 -> 0.5 fF/um * 2 um = 1 fF on x, n1, n2: +0.5 fJ per toggle on three nets;
     * INV1 and INV2 now see 3 fF: rise 1.5 instead of 1.25 (one such rise per transition): +0.25 */
    ck_assert_double_eq_tol(run_energy(n, vec, 5, 0, 1, NULL), 5.9375 + 1.5 + 0.25, 1e-12);
    gate_net_free(n);
    gate_lib_free(lib);
}
END_TEST

/* Longer streams cross 64-lane words: 0,1,0,1,... over 1,000 vectors = 999 transitions. */
START_TEST(energy_stream_crosses_words)
{
    gate_lib *lib = parse_or_die(inv_lib);
    gate_net *n = inv_chain(lib);
    uint32_t vec[1000];
    for (int i = 0; i < 1000; i++) vec[i] = (uint32_t)(i & 1);
    /* 500 rising (odd i) transitions of 5.875 and 499 falling of 6.0 */
    double want = (500 * 5.875 + 499 * 6.0) / 999;
    ck_assert_double_eq_tol(run_energy(n, vec, 1000, 0, 0, NULL), want, 1e-12);
    ck_assert_double_eq_tol(run_energy(n, vec, 1000, 1, 0, NULL), want, 1e-12);
    gate_net_free(n);
    gate_lib_free(lib);
}
END_TEST

static char *write_temp(const char *text)
{
    return tu_tempfile(text, strlen(text));
}

/* Full adder cell read from BLIF (with a buffer alias and a constant output).
 * Vectors (bit0 A, bit1 B, bit2 CI): 0, 7, 6, 4, 1; S = 0,1,0,1,1; CO = 0,1,1,0,0. V = 2 so
 * 1/2 C V^2 = 2 fJ per toggle of an input net (1 fF); outputs unloaded.
 *   0->7: 3 input rises 6 + S rise 3 + CO rise 2 = 11;  7->6: A falls 2 + S fall 1 = 3
 *   6->4: B falls 2 + S rise 3 + CO fall 1 = 6;          4->1: A rises, CI falls 4   = 4
 * total 24 over 4 transitions = 6.0 */
START_TEST(energy_of_full_adder_by_hand)
{
    gate_lib *lib = parse_or_die(fa_lib);
    char *path = write_temp(
        "# yosys-like\n.model fa\n.inputs A B CI\n.outputs S CO Z\n.names $false\n.names $true\n1\n"
        ".subckt FA A=A B=B CI=CI S=s_int CO=CO\n.names s_int S\n1 1\n.names $false Z\n1 1\n.end\n");
    gate_net *n = NULL;
    ck_assert_int_eq(gate_net_read_blif(path, lib, &n), ST_OK);
    ck_assert_int_eq(n->nin, 3);
    ck_assert_int_eq(n->nout, 3);
    ck_assert_int_eq(gate_net_output(n, "Z"), GATE_NET_C0);
    ck_assert_int_eq(n->ninst, 1);
    const uint32_t vec[5] = { 0, 7, 6, 4, 1 };
    gate_activity act;
    ck_assert_double_eq_tol(run_energy(n, vec, 5, 0, 0, &act), 6.0, 1e-12);
    ck_assert_uint_eq(act.rise[gate_net_output(n, "S")], 2);
    ck_assert_uint_eq(act.fall[gate_net_output(n, "S")], 1);
    gate_activity_deinit(&act);
    ck_assert_double_eq_tol(run_energy(n, vec, 5, 1, 0, NULL), 6.0, 1e-12);
    unlink(path);
    free(path);
    gate_net_free(n);
    gate_lib_free(lib);
}
END_TEST

/* y = x ^ !x is constant in zero delay, but glitches (fall then rise) at every x toggle in unit delay. */
START_TEST(unit_delay_counts_glitches)
{
    gate_lib *lib = parse_or_die(inv_lib);
    gate_net *n = gate_net_alloc(lib, "glitch");
    int x = gate_net_add_input(n, "x"), nx = gate_net_add_net(n, NULL), y = gate_net_add_net(n, NULL);
    int c1[2] = { x, nx }, c2[3] = { x, nx, y };
    gate_net_add_inst(n, gate_lib_find(lib, "XOR2"), c2);
    gate_net_add_inst(n, gate_lib_find(lib, "INV"), c1);
    gate_net_add_output(n, "y", y);
    ck_assert_int_eq(gate_net_finish(n, "glitch"), ST_OK);
    ck_assert_int_eq(lib->cells[n->inst[0].cell].name[0], 'I');  /* sorted: INV before XOR2 */
    uint32_t vec[200];
    for (int i = 0; i < 200; i++) vec[i] = (uint32_t)((i / 3) & 1);  /* x toggles every third vector */
    gate_activity act;
    run_energy(n, vec, 200, 0, 0, &act);
    ck_assert_uint_eq(act.rise[y] + act.fall[y], 0);
    ck_assert_uint_eq(act.rise[x] + act.fall[x], 66);
    gate_activity_deinit(&act);
    run_energy(n, vec, 200, 1, 0, &act);
    ck_assert_uint_eq(act.rise[y], 66);
    ck_assert_uint_eq(act.fall[y], 66);
    ck_assert_uint_eq(act.rise[nx] + act.fall[nx], 66);
    gate_activity_deinit(&act);
    gate_net_free(n);
    gate_lib_free(lib);
}
END_TEST

START_TEST(blif_errors_have_positions)
{
    gate_lib *lib = parse_or_die(fa_lib);
    struct { const char *text, *want; } cases[] = {
        { ".model m\n.inputs A\n.outputs Y\n.subckt NAND9 A=A Y=Y\n.end\n", ":4: cell 'NAND9' is not in the library 'hand.lib'" },
        { ".model m\n.inputs A B CI\n.outputs S\n.subckt FA A=A B=B CI=CI Q=S\n", ":4: cell 'FA' has no pin 'Q'" },
        { ".model m\n.inputs A B\n.outputs S\n.names A B S\n11 1\n", ":5: unsupported .names cover (only constants and buffers)" },
        { ".model m\n.inputs A B CI\n.outputs S\n.subckt FA A=A B=B CI=S S=S\n", ": the netlist has a combinational loop" },
        { ".model m\n.inputs A B\n.outputs S\n.subckt FA A=A B=B CI=u S=S\n", ": net 'u' is used but not driven" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *path = write_temp(cases[i].text);
        tu_capture_buf cap = { 0 };
        gate_net *n = NULL;
        msg_set_sink(tu_capture, &cap);
        int rc = gate_net_read_blif(path, lib, &n);
        msg_set_sink(NULL, NULL);
        ck_assert_int_ne(rc, ST_OK);
        ck_assert_ptr_null(n);
        char *want = xasprintf("%s%s", path, cases[i].want);
        ck_assert_str_eq(cap.text, want);
        free(want);
        unlink(path);
        free(path);
    }
    gate_lib_free(lib);
}
END_TEST

/* The real sky130 library (when present): units, a known cell, and its energy convention. */
START_TEST(sky130_library_reads)
{
    char *path = datadir_resolve("pdk/sky130_fd_sc_hd__tt_025C_1v80.lib.gz");
    gate_lib *lib = NULL;
    ck_assert_int_eq(gate_lib_read(path, &lib), ST_OK);
    ck_assert_double_eq_tol(lib->voltage, 1.8, 1e-12);
    ck_assert_double_eq_tol(lib->cap_unit_ff, 1000, 1e-9);
    ck_assert_double_eq_tol(lib->energy_to_fj, 1000, 1e-9);
    ck_assert_str_eq(lib->corner, "tt_025C_1v80");
    int c = gate_lib_find(lib, "sky130_fd_sc_hd__nand2_1");
    ck_assert_int_ge(c, 0);
    const gate_cell *nd = &lib->cells[c];
    ck_assert_double_eq_tol(nd->area, 3.7536, 1e-9);
    int a = gate_cell_pin(nd, "A"), y = gate_cell_pin(nd, "Y");
    ck_assert_double_eq_tol(nd->pins[a].cap, 0.002315, 1e-12);
    ck_assert_int_eq(nd->pins[y].npow, 2);
    /* first grid point of the A -> Y rise_power table */
    ck_assert_double_eq_tol(gate_table_lookup(nd->pins[y].pow[0].rise, 0.01, 0.0005), 0.0037314, 1e-12);
    uint64_t pins[3] = { 0xC, 0xA, 0 };
    ck_assert_uint_eq(gate_expr_eval(nd->pins[y].func, pins) & 0xF, 0x7);
    gate_lib_free(lib);
    free(path);
}
END_TEST

static Suite *suite(int with_pdk)
{
    Suite *s = suite_create("gate");
    TCase *t = tcase_create("lib");
    tcase_add_test(t, liberty_units_cells_and_tables);
    tcase_add_test(t, liberty_functions_evaluate);
    tcase_add_test(t, liberty_syntax_error_has_line);
    tcase_add_test(t, liberty_hostile_inputs_are_refused_with_positions);
    tcase_add_test(t, blif_errors_have_positions);
    suite_add_tcase(s, t);
    t = tcase_create("gen");
    tcase_set_timeout(t, 120);
    tcase_add_test(t, closed_form_matches_amul);
    tcase_add_test(t, generated_designs_are_exact_models);
    tcase_add_test(t, check_detects_a_wrong_design);
    tcase_add_test(t, verilog_has_ports_and_one_assign_per_cell);
    suite_add_tcase(s, t);
    t = tcase_create("energy");
    tcase_add_test(t, energy_of_inverter_chain_by_hand);
    tcase_add_test(t, energy_stream_crosses_words);
    tcase_add_test(t, energy_of_full_adder_by_hand);
    tcase_add_test(t, unit_delay_counts_glitches);
    suite_add_tcase(s, t);
    if (with_pdk) {
        t = tcase_create("pdk");
        tcase_set_timeout(t, 120);
        tcase_add_test(t, sky130_library_reads);
        suite_add_tcase(s, t);
    }
    return s;
}

int main(void)
{
    char *p = datadir_resolve("pdk/sky130_fd_sc_hd__tt_025C_1v80.lib.gz");
    int with_pdk = access(p, R_OK) == 0;
    if (!with_pdk) printf("SKIP: '%s' is absent: the sky130 library test does not run\n", p);
    free(p);
    return tu_run(suite(with_pdk));
}
