/* Shared by the libFuzzer harnesses (tests/fuzz/fuzz_*.c; README.md in this folder). Each harness
 * defines its entry with FUZZ_ENTRY(name): LLVMFuzzerTestOneInput in a libFuzzer build, or
 * fuzz_<name>() when compiled into the replay driver (FUZZ_REPLAY), which `make check` runs over the
 * seed corpora and the kept crash reproducers with the normal compiler. Inputs a reader takes by path
 * are written to a per-process scratch directory. Diagnostics go to a sink that drops them. */
#ifndef TESTS_FUZZ_H
#define TESTS_FUZZ_H

#include <stddef.h>
#include <stdint.h>

#ifdef FUZZ_REPLAY
#define FUZZ_ENTRY(name)                                                                                     \
    int fuzz_##name(const uint8_t *data, size_t size);                                                       \
    int fuzz_##name(const uint8_t *data, size_t size)
#else
#define FUZZ_ENTRY(name)                                                                                     \
    int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);                                            \
    int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
#endif

/* Inputs the reader accepted (counted by each harness; the replay driver reports it). */
extern long fuzz_accepted;

/* Drop diagnostics (the first call installs the sink; FUZZ_VERBOSE=1 keeps them on stderr). */
void fuzz_quiet(void);

/* The scratch directory of this process (created on first use; removed at exit). */
const char *fuzz_dir(void);

/* Write `size` bytes to fuzz_dir()/name and return that path (static storage per name slot). */
const char *fuzz_write(const char *name, const void *data, size_t size);

/* `size` bytes as a NUL-terminated heap string (caller frees). */
char *fuzz_strdup(const uint8_t *data, size_t size);

/* ResNet-8's approximable layers (from data/models/resnet8_mlperf_float.onnx under APPROXMAP_DATA or
 * the source tree's data/), else two small stand-in layers; and the default multiplier library. */
typedef struct amap_layer amap_layer;
typedef struct amul_lib amul_lib;
const amap_layer *fuzz_layers(int *n);
const amul_lib *fuzz_lib(void);

#endif
