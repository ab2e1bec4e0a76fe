/* Generator of gate-level ROUP multipliers (signed 8x8 radix-4 Booth, perforation k, rounding m).
 *
 * Architecture (Leon et al., IEEE Micro 2018, PR|k,m; docs/design.md, "ROUP multipliers"):
 *  - weight w Booth-encoded into digits d_j = -2 w(2j+1) + w(2j) + w(2j-1), j = 0..3, w(-1) = 0; the
 *    k least-significant digits (partial products) are perforated: no encoder, no row, no correction;
 *  - activation a rounded at bit m without an incrementer: the multiplicand is X = a >> m (8-m bits),
 *    extended below by X(-1) = a(m-1) (so the "times 2" row selects (2X + a(m-1)) instead of 2X), and
 *    the Booth negation bit of each row becomes s_j* = s_j xor a(m-1) (gated to 0 when d_j = 0): row j
 *    then adds exactly d_j * (X + a(m-1)) = d_j * R_m(a) / 2^m;
 *  - rows are (8-m+1)-bit two's-complement numbers, each ro: sel1 = |d|==1, sel2 = |d|==2,
 *    bit i = ((sel1 & X(i)) | (sel2 & X(i-1))) xor neg; sign extension by the "inverted sign bit plus
 *    constant" method (one constant word for all rows);
 *  - partial-product bits reduced column-wise by a Wallace tree of full and half adders, then a
 *    ripple-carry adder; the m low product bits are constant 0.
 * Product = R_m(a) * R_2k(w) exactly, modulo 2^16 (it lies in -16384..16384).
 *
 * Netlists use the generic library gate_gen_lib() (INV, AND2, OR2, XOR2; no power data), with
 * primary inputs a[0..7], w[0..7] and outputs p[0..15]; constants are folded while building. */
#ifndef SRC_GATE_GEN_H
#define SRC_GATE_GEN_H

#include <stdint.h>

#include "gate_lib.h"
#include "gate_net.h"

/* The built-in generic cell library (parsed once per call; caller frees with gate_lib_free()). */
gate_lib *gate_gen_lib(void);

/* Build ROUP(k, m) over `generic` (from gate_gen_lib()); k in 0..2, m in 0..6 (asserted).
 * Module name "roup_k<k>_m<m>". Caller frees with gate_net_free(). */
gate_net *gate_gen_roup(const gate_lib *generic, int k, int m);

/* The closed form R_m(a) * R_2k(w) (independent of the generator). */
int32_t gate_gen_roup_ref(int8_t a, int8_t w, int k, int m);

/* Pack operand pairs into simulator input vectors for `net` (inputs named a[0..7] and w[0..7], in
 * any order): bit i of vec[t] is the value of net->in[i] for pair t. Returns ST_OK, or ST_EFORMAT
 * (reported) when an input is not one of those 16 names or one is missing. */
int gate_gen_pack(const gate_net *net, const int8_t *a, const int8_t *w, size_t n, uint32_t *vec);

/* Simulate `net` (zero-delay) on all 65,536 (a, w) pairs and compare outputs p[0..15] (as int16)
 * with gate_gen_roup_ref(a, w, k, m). Returns the number of mismatching pairs (first one in *bad_a,
 * *bad_w when not NULL), or -1 after msg_error() when the ports are not a/w/p. */
long gate_gen_check(const gate_net *net, int k, int m, int *bad_a, int *bad_w);

#endif
