/* Replay driver: runs a harness (compiled with FUZZ_REPLAY) over files, with the normal compiler and
 * no libFuzzer, for `make check`: seed corpora and kept crash reproducers must run cleanly.
 *   usage: fuzz_replay HARNESS FILE... ; prints "replayed N inputs through HARNESS". */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "afile.h"
#include "fuzz.h"
#include "status.h"

int fuzz_problem(const uint8_t *data, size_t size);
int fuzz_map(const uint8_t *data, size_t size);
int fuzz_library(const uint8_t *data, size_t size);
int fuzz_onnx(const uint8_t *data, size_t size);
int fuzz_onnx_fwd(const uint8_t *data, size_t size);
int fuzz_ckpt(const uint8_t *data, size_t size);
int fuzz_cifar(const uint8_t *data, size_t size);
int fuzz_front(const uint8_t *data, size_t size);
int fuzz_energy(const uint8_t *data, size_t size);
int fuzz_liberty(const uint8_t *data, size_t size);

static const struct {
    const char *name;
    int (*fn)(const uint8_t *, size_t);
} harnesses[] = {
    {"problem", fuzz_problem}, {"map", fuzz_map},     {"library", fuzz_library}, {"onnx", fuzz_onnx},
    {"onnx_fwd", fuzz_onnx_fwd}, {"ckpt", fuzz_ckpt}, {"cifar", fuzz_cifar},     {"front", fuzz_front},
    {"energy", fuzz_energy},   {"liberty", fuzz_liberty},
};

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: fuzz_replay HARNESS FILE...\n");
        return 2;
    }
    int (*fn)(const uint8_t *, size_t) = NULL;
    for (size_t i = 0; i < sizeof harnesses / sizeof harnesses[0]; i++)
        if (!strcmp(argv[1], harnesses[i].name)) fn = harnesses[i].fn;
    if (!fn) {
        fprintf(stderr, "fuzz_replay: no harness '%s'\n", argv[1]);
        return 2;
    }
    for (int i = 2; i < argc; i++) {
        char *data;
        size_t len;
        if (afile_read_all(argv[i], &data, &len) != ST_OK) return 1;
        fn((const uint8_t *)data, len);
        free(data);
    }
    printf("replayed %d inputs through %s, %ld accepted\n", argc - 2, argv[1], fuzz_accepted);
    return 0;
}
