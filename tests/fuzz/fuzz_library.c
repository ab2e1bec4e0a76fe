/* Multiplier libraries (amul_lib_load: YAML, ROUP and table entries, metrics). Plugin entries (`cfunc`)
 * would load whatever shared object a mutated path names, so inputs that mention one are skipped. */
#define _GNU_SOURCE /* memmem */
#include <string.h>

#include "amul.h"
#include "fuzz.h"
#include "status.h"

FUZZ_ENTRY(library)
{
    fuzz_quiet();
    if (memmem(data, size, "cfunc", 5) || memmem(data, size, ".so", 3)) return 0;
    const char *path = fuzz_write("lib.yaml", data, size);
    amul_lib lib;
    if (amul_lib_load(&lib, path) != ST_OK) return 0;
    fuzz_accepted++;
    amul_lib_deinit(&lib);
    return 0;
}
