/* The sensitivity-ordered greedy (issue 11 items 4 and 2c): a non-GA baseline, `approxmap greedy`, and
 * the estimate-only path that seeds a search's initial population (`seed_greedy: K`).
 *
 * Estimated error of a map. From the sensitivity table (src/approx/sens.h, the calibration tap
 * distributions): every output channel (filter) f of layer l receives, from its kernels under their
 * multipliers, an error of mean S_mu(f) = sum of the kernels' means and variance S_var(f) = sum of their
 * variances; its power, in the output's quantization step squared, is
 *     e(f) = s_f^2 (S_var(f) + [no compensation] S_mu(f)^2)        (s_f: the requantization factor)
 * (bias compensation folds the mean into the bias). The map's estimate is E = sum_l g_l sum_f e(f),
 * where g_l scales layer l's figure to what reaches the logits (the sensitivity figure ignores how
 * error grows downstream). E is exact arithmetic on the table: no sampling, no randomness.
 *
 * The path. It starts from the map with every gene at the cheapest exact multiplier allowed (the most
 * expensive multiplier when none is exact: a library may hold costlier approximate designs, e.g.
 * roup_k0_m1 at 1.04) and repeatedly makes the single-gene move to a cheaper multiplier (any cheaper
 * value of any gene, in the problem's encoding: layer, filter, kernel, direct or ranked genes) with the
 * smallest increase of E per unit of energy saved; ties go to the lower gene index, then to the larger
 * saving. Energy is the search's objective (energy.h), additive over kernels, so the path's energies
 * strictly decrease. It ends when no cheaper value remains.
 *
 * `approxmap greedy` (greedy_run): calibrates g_l by measurement, then walks the path and evaluates a
 * map through the problem (the search's objectives) every time the estimated energy has dropped by
 * `step` since the last evaluated map. Calibration: for each layer, the map with only that layer's genes
 * at a reference multiplier (the cheaper allowed one whose estimated noise per output element is
 * closest to 1 LSB^2), measured on the search subset (its logits' mean squared deviation from the exact
 * network's); g_l = that figure / the estimate (a floor of one int8 unit squared on one logit keeps g_l
 * positive). Those L maps are evaluated through the problem too (archived, counted). The run stops at
 * the first path map whose search loss exceeds max_loss_pp + margin, or at the path's end. The path
 * does not use the measured losses otherwise: a fixed path makes batches of maps evaluable in parallel
 * and a run a pure function of the problem.
 *
 * Run directory (rundir.h): problem.yaml, archive (calibration maps = generation 1, path map i =
 * generation i + 2), generations.csv (one line per generation), front.csv (the first front of every
 * evaluated map, ids = archive records) and greedy.csv (the path). No checkpoint: running the same
 * command again on the directory continues the run, reusing the archive's evaluations, and gives the
 * same files byte for byte (generations.csv's seconds column aside).
 *
 * Seeding (greedy_seed_genomes): the estimate-only path yields K maps at the
 * estimated energies e_k = 1 - k (1 - e_end) / K, k = 1..K (the first path map at or below each),
 * where e_end is the energy of the first path map whose estimated error reaches that of the uniform map
 * of the allowed multiplier of median energy (the non-exact ones; the path's end when it never does):
 * the greedy spends that error budget where the estimate says it costs least. Duplicates are dropped.
 * Without a measurement, g_l = 1 / (layer l's filters): a layer's figure is its noise per output
 * element. Calibrated runs support that prior: on ResNet-8 (filter-comp) every reference map, chosen
 * at about 1 LSB^2 per element, gave a logit MSD of 24..35, so the measured g_l are 0.8..1.3 times
 * 25 / filters. */
#ifndef PROBLEMS_GREEDY_H
#define PROBLEMS_GREEDY_H

#include <stddef.h>

#include "prob.h"
#include "prob_cnn.h"

typedef struct greedy_opts {
    const char *problem_path;
    const char *dir;
    int threads;     /* evaluation threads (0: all cores) */
    double step;     /* energy drop between evaluated maps (fraction of the exact map's), > 0 */
    double margin;   /* stop once the search loss exceeds max_loss_pp + margin (pp) */
    int force;       /* overwrite a search run or another problem's greedy run in dir */
    int quiet;
} greedy_opts;

void greedy_opts_init(greedy_opts *o);

/* Run the greedy baseline into o->dir (see above). Returns ST_OK, ST_EINTR (SIGINT/SIGTERM: the files
 * hold the maps evaluated so far; the same command continues), or a reported error. */
int greedy_run(const greedy_opts *o);

/* Up to `k` maps (at most `max`) of the estimate-only path of the CNN problem `x`, as genomes of
 * n_genes doubles into genes; *n gets how many. Deterministic; no evaluation. */
int greedy_seed_genomes(cnn_ctx *x, size_t n_genes, int k, size_t max, double *genes, size_t *n);

#endif
