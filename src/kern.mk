## Optimized int8 kernels and their thread pool (owner: kernels).
src_libcore_a_SOURCES += src/qnn_kern.h src/qnn_kern.c src/qnn_mul.h
