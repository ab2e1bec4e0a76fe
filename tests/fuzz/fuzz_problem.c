/* Problem files (prob_load: YAML, every type's keys and cross-key checks; prob_create for the types
 * that build without data, so the settings reach the instance). */
#include <string.h>

#include "fuzz.h"
#include "prob.h"
#include "status.h"

FUZZ_ENTRY(problem)
{
    fuzz_quiet();
    const char *path = fuzz_write("problem.yaml", data, size);
    prob_spec spec;
    if (prob_load(&spec, path) != ST_OK) return 0;
    fuzz_accepted++;
    if (strcmp(spec.type->name, "cnn") != 0) { /* a cnn instance loads the model and CIFAR-10: not per input */
        prob *p = NULL;
        if (prob_create(&spec, &p) == ST_OK) prob_free(p);
    }
    prob_spec_deinit(&spec);
    return 0;
}
