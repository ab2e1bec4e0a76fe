/* Liberty cell libraries (gate_lib_parse: groups, attributes, tables, function expressions). */
#include <stdlib.h>

#include "fuzz.h"
#include "gate_lib.h"
#include "status.h"

FUZZ_ENTRY(liberty)
{
    fuzz_quiet();
    char *text = fuzz_strdup(data, size);
    gate_lib *lib = NULL;
    if (gate_lib_parse(text, "fuzz.lib", &lib) == ST_OK) {
        fuzz_accepted++;
        gate_lib_free(lib);
    }
    free(text);
    return 0;
}
