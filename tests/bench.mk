## `make bench` (never part of `make check`; owner: bench). tests/bench.sh: kernel GMAC/s on ResNet-8's
## shapes and the int8 MAC peaks (bench_kern), then the whole quantized network side by side in one run
## (tests/bench_cmp.py driving bench_net servers: approxmap exact / random ROUP map / random 7-table map,
## XNNPACK int8 when configure found it, PyTorch int8 and float); tests/bench_cnn.sh: search throughput.
## Parts alone (from the build directory): `make bench BENCH_RUNS=tests/bench_cnn.sh` (search throughput;
## BENCH_BASELINE=/work/base/build/approxmap for the ratio), `make bench BENCH_RUNS=tests/bench.sh
## BENCH_ONLY=net BENCH_ENGINES=roup,xnnpack` (the whole network, only those engines beside exact).
EXTRA_PROGRAMS += tests/bench_kern tests/bench_net
BENCH_BINS += tests/bench_kern tests/bench_net
BENCH_RUNS += tests/bench.sh tests/bench_cnn.sh
tests_bench_kern_SOURCES = tests/bench_kern.c
tests_bench_kern_LDADD = $(CORE_LIBS)
tests_bench_net_SOURCES = tests/bench_net.c
tests_bench_net_LDADD = $(CORE_LIBS) $(XNNPACK_LIBS)
EXTRA_DIST += tests/bench.sh tests/bench_cmp.py tests/bench_torch.py tests/bench_cnn.sh tests/bench_search.py tests/data/bench_kernel.yaml tests/data/bench_filter20k.yaml \
	tests/data/bench_search_layer.yaml tests/data/bench_search_kernel.yaml
