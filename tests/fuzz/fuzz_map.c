/* Approximation maps (amap_read) for ResNet-8's layers and the default library; a map that reads is
 * written back and read again, and must give the same kernels. */
#include <stdlib.h>
#include <string.h>

#include "amap.h"
#include "amul.h"
#include "fuzz.h"
#include "msg.h"
#include "status.h"

FUZZ_ENTRY(map)
{
    fuzz_quiet();
    int n;
    const amap_layer *layers = fuzz_layers(&n);
    const amul_lib *lib = fuzz_lib();
    const char *path = fuzz_write("map.yaml", data, size);
    amap m;
    if (amap_read(&m, path, lib, layers, n) != ST_OK) return 0;
    fuzz_accepted++;
    char *again = xasprintf("%s/map2.yaml", fuzz_dir());
    if (amap_write(&m, again, lib, layers) != ST_OK) msg_abort(__FILE__, __LINE__, "a map that reads must write");
    amap m2;
    if (amap_read(&m2, again, lib, layers, n) != ST_OK) msg_abort(__FILE__, __LINE__, "a written map must read");
    ASSERT(m.n_layers == m2.n_layers && m.offset[m.n_layers] == m2.offset[m2.n_layers]);
    for (int l = 0; l < m.n_layers; l++) {
        size_t k = m.offset[l + 1] - m.offset[l];
        ASSERT(!memcmp(amap_layer_mults(&m, l), amap_layer_mults(&m2, l), k * sizeof(uint16_t)));
    }
    amap_deinit(&m2);
    amap_deinit(&m);
    free(again);
    return 0;
}
