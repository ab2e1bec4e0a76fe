/* CIFAR-10 binary batches (cifar_count, cifar_load of every record, and a FILE:FIRST:COUNT range). */
#include <stdio.h>

#include "cifar.h"
#include "fuzz.h"
#include "status.h"

FUZZ_ENTRY(cifar)
{
    fuzz_quiet();
    const char *path = fuzz_write("batch.bin", data, size);
    int32_t n;
    if (cifar_count(path, &n) != ST_OK) return 0;
    cifar_set s;
    if (cifar_load(path, 0, n, &s) == ST_OK) {
        fuzz_accepted += n > 0;
        cifar_set_deinit(&s);
    }
    char spec[300];
    snprintf(spec, sizeof spec, "%s:%d:%d", path, n > 1 ? 1 : 0, n > 1 ? n - 1 : n);
    if (cifar_load_range(spec, &s) == ST_OK) cifar_set_deinit(&s);
    return 0;
}
