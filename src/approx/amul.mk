## Multiplier libraries, metrics, approximation maps, energy (owner: multipliers).
approxmap_SOURCES += src/cli/cmd_multipliers.c
src_libcore_a_SOURCES += src/approx/amul.h src/approx/amul.c src/approx/amul_metrics.c src/approx/amul_lib.c \
	src/approx/amul_yaml.h src/approx/amul_yaml.c
nobase_dist_pkgdata_DATA += problems/multipliers/roup8.yaml
EXTRA_DIST += problems/multipliers/README.md
# Where `approxmap multipliers` finds its default library once installed.
BUILT_SOURCES += src/amul_paths.h
CLEANFILES += src/amul_paths.h
# (rewritten only when its text changes, so edits to other fragments do not rebuild the loader)
src/amul_paths.h: Makefile
	@$(MKDIR_P) src && \
	echo '#define AMUL_PKGDATADIR "$(pkgdatadir)"' > $@.tmp && \
	if cmp -s $@.tmp $@; then rm -f $@.tmp; else echo "  GEN      $@"; mv $@.tmp $@; fi
check_PROGRAMS += tests/test_amul
tests_test_amul_SOURCES = tests/test_amul.c tests/tu.h
tests_test_amul_CFLAGS = $(TEST_CFLAGS)
tests_test_amul_LDADD = $(TEST_LIBS)
src_libcore_a_SOURCES += src/approx/amap.h src/approx/amap.c src/approx/energy.h src/approx/energy.c
check_PROGRAMS += tests/test_amap
tests_test_amap_SOURCES = tests/test_amap.c tests/tu.h
tests_test_amap_CFLAGS = $(TEST_CFLAGS)
tests_test_amap_LDADD = $(TEST_LIBS)
TESTS += tests/cli_amul.sh
EXTRA_DIST += tests/cli_amul.sh tests/mul_plugin.c
