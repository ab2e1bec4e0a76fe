## Core services: diagnostics, atomic files, data directory, conv contract (owner: integration).
src_libcore_a_SOURCES += src/status.h src/msg.h src/msg.c src/afile.h src/afile.c \
	src/datadir.h src/datadir.c src/qnn_conv.h src/qnn_conv_ref.c
check_PROGRAMS += tests/test_core
tests_test_core_SOURCES = tests/test_core.c tests/tu.h
tests_test_core_CFLAGS = $(TEST_CFLAGS)
tests_test_core_LDADD = $(TEST_LIBS)
