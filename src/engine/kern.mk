## Optimized int8 kernels and their thread pool (owner: kernels).
src_libcore_a_SOURCES += src/engine/qnn_requant.h src/engine/qnn_kern.h src/engine/qnn_kern.c src/engine/qnn_mul.h src/engine/qnn_kern_impl.h src/engine/qnn_kern_avx2.c src/engine/qnn_kern_u8.c
check_PROGRAMS += tests/test_kern
tests_test_kern_SOURCES = tests/test_kern.c tests/tu.h
tests_test_kern_CFLAGS = $(TEST_CFLAGS)
tests_test_kern_LDADD = $(TEST_LIBS)
EXTRA_DIST += tests/engine_includes.sh
# the include graph of src/engine: no cycle, kernels below the quantizer / importer / model
TESTS += tests/engine_includes.sh
