## Generic multi-objective search: PCG32, NSGA-II, hypervolume, archive, checkpoint (owner: search).
search_libsearch_a_SOURCES += search/rng.h search/rng.c search/ckpt.h search/ckpt.c \
	search/nsga.h search/nsga.c search/hv.h search/hv.c \
	search/archive.h search/archive.c
check_PROGRAMS += tests/test_rng tests/test_ckpt tests/test_nsga
tests_test_rng_SOURCES = tests/test_rng.c tests/tu.h
tests_test_rng_CFLAGS = $(TEST_CFLAGS)
tests_test_rng_LDADD = $(TEST_LIBS)
tests_test_ckpt_SOURCES = tests/test_ckpt.c tests/tu.h
tests_test_ckpt_CFLAGS = $(TEST_CFLAGS)
tests_test_ckpt_LDADD = $(TEST_LIBS)
tests_test_nsga_SOURCES = tests/test_nsga.c tests/tu.h
tests_test_nsga_CFLAGS = $(TEST_CFLAGS)
tests_test_nsga_LDADD = $(TEST_LIBS)
EXTRA_PROGRAMS += tests/bench_nsga
BENCH_BINS += tests/bench_nsga
BENCH_RUNS += tests/bench_zdt.sh
EXTRA_DIST += tests/bench_zdt.sh
tests_bench_nsga_SOURCES = tests/bench_nsga.c
tests_bench_nsga_LDADD = $(CORE_LIBS)
CLEANFILES += tests/bench_nsga
