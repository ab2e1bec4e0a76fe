## Gate-level generation, Liberty/netlist reading and energy estimation (owner: gate-level).
approxmap_SOURCES += src/cli/cmd_characterize.c
src_libcore_a_SOURCES += src/gate/gate_lib.h src/gate/gate_lib.c src/gate/gate_net.h src/gate/gate_net.c \
	src/gate/gate_gen.h src/gate/gate_gen.c src/gate/gate_sim.h src/gate/gate_sim.c \
	src/gate/gate_char.h src/gate/gate_char.c
EXTRA_DIST += scripts/synth.sh
check_PROGRAMS += tests/test_gate
tests_test_gate_SOURCES = tests/test_gate.c tests/tu.h
tests_test_gate_CFLAGS = $(TEST_CFLAGS)
tests_test_gate_LDADD = $(TEST_LIBS)
TESTS += tests/cli_gate.sh
EXTRA_DIST += tests/cli_gate.sh
# Libraries and per-layer figures measured by `approxmap characterize` (results/gate/README.md).
nobase_dist_pkgdata_DATA += problems/multipliers/roup8_sky130.yaml problems/multipliers/roup8_nangate45.yaml
EXTRA_DIST += results/gate/README.md results/gate/layers_sky130.yaml results/gate/layers_nangate45.yaml \
	results/gate/characterize_sky130.txt results/gate/characterize_nangate45.txt
