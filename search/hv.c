/* Hypervolume in two and three objectives: see hv.h.
 * 2-D: sort by f1 (then f2); each point that lowers the running f2 adds the rectangle
 * [f1, ref1] x [f2, previous f2]. 3-D: sort by f3; the slab between consecutive f3 values is the
 * 2-D hypervolume of the points at or below it times the slab height. */
#include "hv.h"

#include <stdlib.h>
#include <string.h>

#include "msg.h"

size_t hv_work_size(size_t n, int m) { return 3 * n * (size_t)m + 4; }

/* Stable sort of n rows of w doubles by column c, then column c2 (bottom-up merge sort, tmp has n x w). */
static int row_less(const double *a, const double *b, int c, int c2)
{
    if (a[c] != b[c]) return a[c] < b[c];
    return a[c2] < b[c2];
}

static void sort_rows(double *rows, size_t n, int w, int c, int c2, double *tmp)
{
    double *src = rows, *dst = tmp;
    for (size_t width = 1; width < n; width *= 2) {
        for (size_t lo = 0; lo < n; lo += 2 * width) {
            size_t mid = lo + width < n ? lo + width : n;
            size_t hi = lo + 2 * width < n ? lo + 2 * width : n;
            size_t i = lo, j = mid, k = lo;
            while (i < mid && j < hi) {
                const double *pick = row_less(src + j * w, src + i * w, c, c2) ? src + (j++) * w : src + (i++) * w;
                memcpy(dst + (k++) * w, pick, (size_t)w * sizeof *pick);
            }
            while (i < mid) memcpy(dst + (k++) * w, src + (i++) * w, (size_t)w * sizeof *src);
            while (j < hi) memcpy(dst + (k++) * w, src + (j++) * w, (size_t)w * sizeof *src);
        }
        double *t = src;
        src = dst;
        dst = t;
    }
    if (src != rows) memcpy(rows, src, n * (size_t)w * sizeof *rows);
}

/* 2-D sweep over rows of width w already sorted by (f1, f2). */
static double hv2_sorted(const double *rows, size_t n, int w, const double *ref)
{
    double hv = 0, prev = ref[1];
    for (size_t i = 0; i < n; i++) {
        const double *p = rows + i * (size_t)w;
        if (p[1] < prev) {
            hv += (ref[0] - p[0]) * (prev - p[1]);
            prev = p[1];
        }
    }
    return hv;
}

double hv_compute(const double *pts, size_t n, int m, const double *ref, double *work)
{
    ASSERT(m == 2 || m == 3);
    double *own = NULL;
    if (!work) work = own = xmalloc(hv_work_size(n, m) * sizeof *work);
    double *rows = work, *tmp = work + n * (size_t)m;
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        const double *p = pts + i * (size_t)m;
        int inside = 1;
        for (int j = 0; j < m; j++) inside &= p[j] < ref[j];
        if (inside) memcpy(rows + (k++) * (size_t)m, p, (size_t)m * sizeof *p);
    }
    double hv = 0;
    if (m == 2) {
        sort_rows(rows, k, 2, 0, 1, tmp);
        hv = hv2_sorted(rows, k, 2, ref);
    } else {
        sort_rows(rows, k, 3, 2, 0, tmp);
        /* slab i spans [z_i, z_{i+1}); the points 0..i are inside it */
        double *slab = tmp + k * 3;
        for (size_t i = 0; i < k; i++) {
            double z0 = rows[i * 3 + 2], z1 = i + 1 < k ? rows[(i + 1) * 3 + 2] : ref[2];
            if (z1 <= z0) continue;
            memcpy(slab, rows, (i + 1) * 3 * sizeof *rows);
            sort_rows(slab, i + 1, 3, 0, 1, tmp);
            hv += hv2_sorted(slab, i + 1, 3, ref) * (z1 - z0);
        }
    }
    free(own);
    return hv;
}
