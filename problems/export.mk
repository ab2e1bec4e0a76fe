## export / report of CNN search runs: run-directory reader, selection, holdout cache, map writers.
problems_libproblems_a_SOURCES += problems/export.h problems/export.c problems/report.h problems/report.c
TESTS += tests/cli_export.sh
EXTRA_DIST += tests/cli_export.sh
check_PROGRAMS += tests/test_export
tests_test_export_SOURCES = tests/test_export.c tests/tu.h
tests_test_export_CFLAGS = $(TEST_CFLAGS)
tests_test_export_LDADD = $(TEST_LIBS)
