## Approximate evaluation (owner: approx): the shared CNN set-up, the map evaluator, eval/sweep glue,
## per-layer energy models, bias error compensation, and the sweep command.
approxmap_SOURCES += src/cli/cmd_sweep.c
src_libcore_a_SOURCES += src/approx/approx.h src/approx/approx.c src/approx/energy_model.h src/approx/energy_model.c \
	src/approx/approx_comp.h src/approx/approx_comp.c src/approx/approx_sweep.h src/approx/approx_sweep.c \
	src/approx/approx_cnn.h src/approx/approx_cnn.c src/approx/approx_eval.h src/approx/approx_eval.c
check_PROGRAMS += tests/test_approx
tests_test_approx_SOURCES = tests/test_approx.c tests/tu.h
tests_test_approx_CFLAGS = $(TEST_CFLAGS)
tests_test_approx_LDADD = $(TEST_LIBS)
TESTS += tests/cli_approx.sh
EXTRA_DIST += tests/cli_approx.sh
## Sensitivity estimates and the ranked encoding (owner: sensitivity).
approxmap_SOURCES += src/cli/cmd_sensitivity.c
src_libcore_a_SOURCES += src/approx/sens.h src/approx/sens.c
check_PROGRAMS += tests/test_sens
tests_test_sens_SOURCES = tests/test_sens.c tests/tu.h
tests_test_sens_CFLAGS = $(TEST_CFLAGS)
tests_test_sens_LDADD = $(TEST_LIBS)
TESTS += tests/cli_sens.sh
EXTRA_DIST += tests/cli_sens.sh
