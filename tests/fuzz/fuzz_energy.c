/* Per-layer energy models (energy_model_load) against ResNet-8's layers and the default library. */
#include "amap.h"
#include "amul.h"
#include "energy_model.h"
#include "fuzz.h"
#include "status.h"

FUZZ_ENTRY(energy)
{
    fuzz_quiet();
    int n;
    const amap_layer *layers = fuzz_layers(&n);
    const amul_lib *lib = fuzz_lib();
    const char *path = fuzz_write("energy.yaml", data, size);
    energy_model em;
    if (energy_model_load(path, lib, layers, n, &em) != ST_OK) return 0;
    fuzz_accepted++;
    energy_model_deinit(&em);
    return 0;
}
