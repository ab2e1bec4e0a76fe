## Core services: diagnostics, atomic files, data directory, conv contract (owner: integration).
src_libcore_a_SOURCES += src/core/status.h src/core/msg.h src/core/msg.c src/core/afile.h src/core/afile.c src/core/yload.h src/core/yload.c \
	src/core/datadir.h src/core/datadir.c src/core/util.h src/core/util.c src/core/sigexit.h src/core/sigexit.c src/engine/qnn_conv.h src/engine/qnn_conv_ref.c
check_PROGRAMS += tests/test_core
tests_test_core_SOURCES = tests/test_core.c tests/tu.h
tests_test_core_CFLAGS = $(TEST_CFLAGS)
tests_test_core_LDADD = $(TEST_LIBS)
