## export / report of CNN search runs: run-directory reader, selection, holdout cache, map writers.
problems_libproblems_a_SOURCES += problems/export.h problems/export.c problems/report.h problems/report.c
TESTS += tests/cli_export.sh
EXTRA_DIST += tests/cli_export.sh
check_PROGRAMS += tests/test_export
tests_test_export_SOURCES = tests/test_export.c tests/tu.h
tests_test_export_CFLAGS = $(TEST_CFLAGS)
tests_test_export_LDADD = $(TEST_LIBS)
## The granularity study (issue 11): `make study` runs scripts/study.sh from the source tree with this
## build's binary (runs in STUDY_RUNS, results in STUDY_OUT; STUDY_FLAGS e.g. -j 2 or -g 2).
TESTS += tests/cli_study.sh
EXTRA_DIST += tests/cli_study.sh scripts/study.sh scripts/study_readme.py problems/study/layer.yaml \
	problems/study/filter.yaml problems/study/kernel.yaml problems/study/greedy-filter.yaml \
	problems/study/greedy-kernel.yaml problems/study-t5k/layer.yaml problems/study-t5k/filter.yaml \
	problems/study-t5k/kernel.yaml problems/study-t5k/greedy-filter.yaml problems/study-t5k/greedy-kernel.yaml \
	problems/study-v3/layer.yaml problems/study-v3/filter.yaml problems/study-v3/kernel.yaml \
	problems/study-v3/greedy-filter.yaml problems/study-v3/greedy-kernel.yaml problems/study-v4/layer.yaml \
	problems/study-v4/filter.yaml problems/study-v4/kernel.yaml problems/study-v4/greedy-filter.yaml \
	problems/study-v4/greedy-kernel.yaml
STUDY_RUNS = runs/study
STUDY_OUT = results/study
STUDY_FLAGS =
study: approxmap$(EXEEXT)
	cd '$(abs_top_srcdir)' && $(BASH) scripts/study.sh -b '$(abs_builddir)/approxmap$(EXEEXT)' -r '$(STUDY_RUNS)' \
	  -o '$(STUDY_OUT)' $(STUDY_FLAGS)
BASH = bash
.PHONY: study
