/* Exhaustive error metrics of a product table against the exact product (see amul_metrics in amul.h).
 * Error sums are exact int64; the relative-error sum is a double accumulated in a fixed order (a
 * outer, w inner), so the figures are reproducible bit for bit. */
#include <stdlib.h>

#include "amul.h"

void amul_metrics_compute(const int16_t *lut, amul_metrics *out)
{
    int64_t sum_e = 0, sum_abs = 0, n_err = 0, n_nonzero = 0;
    int32_t wce = 0;
    double sum_rel = 0.0;
    for (int a = -128; a < 128; a++)
        for (int w = -128; w < 128; w++) {
            int32_t p = a * w;
            int32_t e = lut[(uint8_t)a * 256 + (uint8_t)w] - p;
            int32_t ae = abs(e);
            sum_e += e;
            sum_abs += ae;
            if (ae > wce) wce = ae;
            if (e) n_err++;
            if (p) {
                n_nonzero++;
                sum_rel += (double)ae / abs(p);
            }
        }
    out->mean_err = (double)sum_e / AMUL_LUT_SIZE;
    out->med = (double)sum_abs / AMUL_LUT_SIZE;
    out->nmed = out->med / 16384.0;
    out->mred_pct = n_nonzero ? 100.0 * sum_rel / (double)n_nonzero : 0.0;
    out->wce = wce;
    out->err_prob = (double)n_err / AMUL_LUT_SIZE;
}
