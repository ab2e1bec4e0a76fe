## Optimized int8 kernels and their thread pool (owner: kernels).
src_libcore_a_SOURCES += src/engine/qnn_requant.h src/engine/qnn_kern.h src/engine/qnn_kern.c src/engine/qnn_mul.h src/engine/qnn_kern_impl.h src/engine/qnn_kern_avx2.c
check_PROGRAMS += tests/test_kern
tests_test_kern_SOURCES = tests/test_kern.c tests/tu.h
tests_test_kern_CFLAGS = $(TEST_CFLAGS)
tests_test_kern_LDADD = $(TEST_LIBS)
# `make bench`: kernel GMAC/s on ResNet-8's shapes, whole-network images/s, MAC peak, PyTorch float.
EXTRA_PROGRAMS += tests/bench_kern
BENCH_BINS += tests/bench_kern
BENCH_RUNS += tests/bench.sh
tests_bench_kern_SOURCES = tests/bench_kern.c
tests_bench_kern_LDADD = $(CORE_LIBS)
EXTRA_DIST += tests/bench.sh tests/bench_torch.py tests/engine_includes.sh
# the include graph of src/engine: no cycle, kernels below the quantizer / importer / model
TESTS += tests/engine_includes.sh
