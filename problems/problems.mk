## Problem files, genome encodings, evaluation glue, and the run driver (owner: search + integration).
approxmap_SOURCES += src/cli/cmd_search.c src/cli/cmd_resume.c src/cli/cmd_export.c src/cli/cmd_report.c
problems_libproblems_a_SOURCES += problems/prob.h problems/prob.c problems/prob_registry.c problems/prob_zdt.c
problems_libproblems_a_SOURCES += problems/run.h problems/run.c problems/rundir.h problems/rundir.c
problems_libproblems_a_SOURCES += problems/prob_mpi.h problems/prob_mpi.c
check_PROGRAMS += tests/test_prob
tests_test_prob_SOURCES = tests/test_prob.c tests/tu.h
tests_test_prob_CFLAGS = $(TEST_CFLAGS)
tests_test_prob_LDADD = $(TEST_LIBS)
EXTRA_DIST += problems/README.md problems/zdt/zdt1.yaml problems/zdt/zdt2.yaml problems/zdt/zdt3.yaml \
	problems/zdt/zdt4.yaml problems/zdt/zdt6.yaml problems/zdt/tnk.yaml problems/zdt/constr.yaml
EXTRA_DIST += problems/resnet8-cifar10/demo.yaml problems/resnet8-cifar10/layer.yaml \
	problems/resnet8-cifar10/filter.yaml problems/resnet8-cifar10/kernel.yaml \
	problems/resnet8-cifar10/layer-comp.yaml problems/resnet8-cifar10/filter-comp.yaml \
	problems/resnet8-cifar10/kernel-comp.yaml \
	problems/resnet8-cifar10/filter-ranked.yaml problems/resnet8-cifar10/kernel-ranked.yaml
TESTS += tests/cli_search.sh tests/cli_rundir.sh
EXTRA_DIST += tests/cli_search.sh tests/cli_rundir.sh
## Distributed evaluation under mpirun (problems/prob_mpi.h); skipped without MPI.
TESTS += tests/cli_mpi.sh
EXTRA_DIST += tests/cli_mpi.sh
## The SLURM batch script, under a private single-node SLURM (skipped without slurm-wlm/munge or root).
TESTS += tests/cli_slurm.sh
EXTRA_DIST += tests/cli_slurm.sh scripts/slurm/search.sbatch
# make bench: evaluations/s with 1 x 1, 1 x 2 and 2 MPI ranks x 1 thread, and the master's cost per evaluation.
BENCH_RUNS += tests/bench_mpi.sh
EXTRA_DIST += tests/bench_mpi.sh
