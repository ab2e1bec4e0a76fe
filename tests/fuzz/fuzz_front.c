/* front.csv (export_front_read), with the gene count taken from the input's own header line so that
 * mutated rows are parsed in full; a front that reads is picked from as export does. */
#define _GNU_SOURCE /* memmem */
#include <string.h>

#include "export.h"
#include "fuzz.h"
#include "status.h"

FUZZ_ENTRY(front)
{
    fuzz_quiet();
    size_t cols = 1, i = 0;
    for (; i < size && data[i] != '\n'; i++) cols += data[i] == ',';
    int viol = memmem(data, i, ",violation", 10) != NULL;
    size_t fixed = 3 + (size_t)viol;
    size_t n_genes = cols > fixed ? cols - fixed : 0;
    const char *path = fuzz_write("front.csv", data, size);
    export_front f;
    if (export_front_read(path, n_genes, &f) != ST_OK) return 0;
    fuzz_accepted++;
    (void)export_pick_knee(&f);
    (void)export_pick_max_loss(&f, 1.0);
    for (size_t r = 0; r < f.n_rows; r++) (void)export_row_key(&f, r);
    export_front_deinit(&f);
    return 0;
}
