/* Distributed evaluation over MPI: rank 0 runs the search driver (run.h) and owns the run directory;
 * ranks 1..N-1 load the problem once and score the genomes rank 0 sends them.
 *
 * The seam is prob.evaluate(): on rank 0 pmpi_wrap() replaces it with a dispatcher that hands genomes
 * to the workers (dynamic: the next genomes go to the worker that answers first; each worker receives
 * as many genomes per message as it has evaluation threads) and scatters the results back in batch
 * order. Since evaluate() is a pure function of each genome (prob.h), the driver sees exactly the
 * results a single process computes, so archive, checkpoint and front.csv are byte-identical for any
 * number of ranks and threads. Genomes are dispatched in lexicographic order and every worker walks
 * its own contiguous stretch of that order, so genomes that share a layer prefix tend to meet the same
 * worker and its activation cache.
 *
 * MPI is used only when the process was started by an MPI launcher (mpirun, or srun with PMIx): a
 * plain `approxmap search` never initialises it, and a build without MPI (configure --without-mpi)
 * keeps these functions as no-ops that report a size of 1.
 *
 * Faults: a worker that dies makes the launcher end the job (every rank gets SIGTERM: rank 0 keeps its
 * last checkpoint, which is written atomically); a worker that does not answer within the timeout
 * ends the job with a message naming its rank (MPI_Abort). SIGINT/SIGTERM: rank 0 stops after the
 * last finished generation as usual; workers finish or abandon their genomes and exit 130.
 *
 * Protocol (MPI_COMM_WORLD, tags below): worker -> 0 READY {int status, int threads} once; 0 -> worker
 * WORK (k x n_genes doubles); worker -> 0 RESULT (1 + k x (n_obj + 1) doubles: status, then per genome
 * its objectives and violation); 0 -> worker STOP; worker -> 0 STATS (text) and exit. */
#ifndef PROBLEMS_PROB_MPI_H
#define PROBLEMS_PROB_MPI_H

#include "prob.h"

/* Initialise MPI when launched by an MPI launcher. Returns ST_OK (also when MPI is not used), or
 * ST_EINVAL when the launcher asks for MPI but this build has none (reported). */
int pmpi_start(int *argc, char ***argv);

/* Rank and size (0 and 1 without MPI). */
int pmpi_rank(void);
int pmpi_size(void);

/* Seconds rank 0 waits for a busy worker before it gives up (0: wait forever; default 1800). */
void pmpi_set_timeout(double seconds);

/* run_opts.on_prob hook for rank 0: route p's evaluations to the workers (a no-op with one rank). */
void pmpi_wrap(prob *p, void *arg);

/* A worker's life: load the problem file, report ready, score genomes until STOP. threads: evaluation
 * threads (< 0: the file's). Returns the process exit status (0, 1 load failure, 130 signalled). */
int pmpi_worker(const char *problem_path, long threads);

/* Rank 0, after the run (whatever its result): stop the workers, print their counters unless quiet,
 * and finalise MPI. Other ranks: finalise. No-op without MPI. */
void pmpi_finish(int quiet);

/* Master-side counters of the last run (rank 0): genomes sent, messages, and seconds spent in the
 * dispatcher outside waiting for answers (packing, sending, receiving, scattering). */
typedef struct pmpi_stats {
    double genomes, messages, busy_seconds, wait_seconds;
} pmpi_stats;
void pmpi_get_stats(pmpi_stats *out);

#endif
