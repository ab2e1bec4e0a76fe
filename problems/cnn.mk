## The CNN approximation problem: problem type, activation cache, seeding (owner: integration).
problems_libproblems_a_SOURCES += problems/prob_cnn.h problems/prob_cnn.c problems/prob_cnn_cache.c
TESTS += tests/cli_cnn.sh
EXTRA_DIST += tests/cli_cnn.sh tests/data/cnn_tiny.yaml
# Exact early rejection (early_reject: true) against the full evaluation on random maps.
check_PROGRAMS += tests/test_early
tests_test_early_SOURCES = tests/test_early.c tests/tu.h
tests_test_early_CFLAGS = $(TEST_CFLAGS)
tests_test_early_LDADD = $(TEST_LIBS)
# The sensitivity-ordered greedy baseline (approxmap greedy) and the greedy seeds (seed_greedy).
problems_libproblems_a_SOURCES += problems/greedy.h problems/greedy.c
approxmap_SOURCES += src/cli/cmd_greedy.c
TESTS += tests/cli_greedy.sh
EXTRA_DIST += tests/cli_greedy.sh
