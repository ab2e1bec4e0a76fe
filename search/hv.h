/* Hypervolume indicator (minimisation): the measure of the region dominated by a point set and
 * bounded by a reference point. Points not strictly better than the reference in every objective
 * contribute nothing. 2-D: exact sweep, O(n log n). 3-D: exact slicing along f3, O(n^2 log n)
 * (adequate for populations of a few hundred). */
#ifndef SEARCH_HV_H
#define SEARCH_HV_H

#include <stddef.h>

/* Doubles of workspace hv_compute() needs for n points of m objectives. */
size_t hv_work_size(size_t n, int m);

/* Hypervolume of the n points `pts` (n x m, row-major) against `ref` (m values), m = 2 or 3 (ASSERT).
 * `work` has hv_work_size(n, m) doubles, or is NULL to allocate internally. Duplicates and dominated
 * points are allowed. */
double hv_compute(const double *pts, size_t n, int m, const double *ref, double *work);

#endif
