#!/bin/sh
# make bench: distributed evaluation. Evaluations per second of a layer-level and a kernel-level CNN
# search (ResNet-8, 500 search images) as 1 process x 1 thread, 1 process x 2 threads, and 2 MPI worker
# ranks x 1 thread (mpirun -np 3: rank 0 only dispatches), interleaved rounds, medians, ratios against
# 1 x 1 measured in the same run; the runs must agree byte for byte. Then the master's cost per
# evaluation on ZDT1 (whose evaluation costs nothing): the dispatcher's own time per genome, and the
# archive/front/checkpoint writes per generation, the inputs of the worker-count model in README.md.
set -u
B=${BIN:-./approxmap}
src=${TOP_SRCDIR:-$(dirname "$0")/..}
data=${APPROXMAP_DATA:-$src/data}
MPIRUN=${MPIRUN:-mpirun}
if [ "${WITH_MPI:-no}" != yes ] || ! command -v "$MPIRUN" >/dev/null 2>&1; then echo "bench_mpi: SKIP (built without MPI)"; exit 0; fi
if [ ! -r "$data/models/resnet8_mlperf_float.onnx" ]; then echo "bench_mpi: SKIP (no model under '$data')"; exit 0; fi
export APPROXMAP_DATA="$data" OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
ROUNDS=${BENCH_ROUNDS:-2}
T=$(mktemp -d /tmp/approxmap-bench-mpi-XXXXXX); trap 'rm -rf "$T"' EXIT
for g in layer kernel; do
    sed -e "s/granularity: kernel/granularity: $g/" -e 's/population: 24/population: 16/' \
        -e 's/generations: 4/generations: 3/' -e 's/cache_mb: 1024/cache_mb: 512/' \
        "$src/tests/data/bench_kernel.yaml" >"$T/$g.yaml"
done
# evaluations per second of the search loop (generations.csv: evaluations and seconds of the last row;
# the set-up, quantization and data loading, is not counted)
rate() { tail -n 1 "$1/generations.csv" | awk -F, '{ printf "%.4f", $2 / $6 }'; }
run() { # run NAME CONFIG PROBLEM
    case $2 in
    1x1) "$B" search "$3" -o "$T/$1" --force -t 1 2>"$T/$1.err" ;;
    1x2) "$B" search "$3" -o "$T/$1" --force -t 2 2>"$T/$1.err" ;;
    2r1) "$MPIRUN" --oversubscribe -np 3 "$B" search "$3" -o "$T/$1" --force -t 1 >"$T/$1.err" 2>&1 ;;
    esac || { echo "bench_mpi: $1 failed" >&2; exit 1; }
    rate "$T/$1"
}
median() { sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
echo "bench_mpi: evaluations/s of the search loop, ResNet-8, 500 search images, medians of $ROUNDS interleaved rounds"
for g in layer kernel; do
    : >"$T/1x1.r"; : >"$T/1x2.r"; : >"$T/2r1.r"
    for r in $(seq 1 "$ROUNDS"); do
        for c in 1x1 1x2 2r1; do run "$g-$c" $c "$T/$g.yaml" >>"$T/$c.r"; echo >>"$T/$c.r"; done
    done
    a=$(median <"$T/1x1.r"); b=$(median <"$T/1x2.r"); m=$(median <"$T/2r1.r")
    same=identical
    for c in 1x2 2r1; do cmp -s "$T/$g-1x1/front.csv" "$T/$g-$c/front.csv" && cmp -s "$T/$g-1x1/archive" "$T/$g-$c/archive" || same=DIFFERENT; done
    printf '  %-6s 1 x 1 thread %6.2f/s | 1 x 2 threads %6.2f/s (%.2fx) | 2 ranks x 1 thread %6.2f/s (%.2fx) | runs %s\n' \
        "$g" "$a" "$b" "$(echo "$b / $a" | bc -l)" "$m" "$(echo "$m / $a" | bc -l)" "$same"
    # activation-cache hit rates: one process against each worker rank (prefix-ordered dispatch)
    printf '    activation cache, 1 x 1: %s\n' "$(grep -h "act-cache" "$T/$g-1x1.err" | tail -n 1 | sed 's/^approxmap: //')"
    grep -h "rank [12]: act-cache" "$T/$g-2r1.err" | sed "s/^approxmap: /    activation cache, /"
done
# the master's cost: ZDT1, 100 individuals, 50 generations, 2 workers
cat >"$T/z.yaml" <<'YAML'
type: zdt1
variables: 30
ga: {population: 100, generations: 50, seed: 1}
YAML
"$B" search "$T/z.yaml" -o "$T/z1" --force --quiet -t 1
"$MPIRUN" --oversubscribe -np 3 "$B" search "$T/z.yaml" -o "$T/z3" --force -t 1 >"$T/z3.err" 2>&1
disp=$(sed -n 's/.*master \([0-9.]*\) us per genome.*/\1/p' "$T/z3.err")
plain=$(tail -n 1 "$T/z1/generations.csv" | awk -F, '{ printf "%.1f", 1e6 * $6 / $2 }')
mpi=$(tail -n 1 "$T/z3/generations.csv" | awk -F, '{ printf "%.1f", 1e6 * $6 / $2 }')
pergen=$(tail -n 1 "$T/z1/generations.csv" | awk -F, '{ printf "%.2f", 1e3 * $6 / $1 }')
echo "bench_mpi: master cost (ZDT1, 100 x 50): dispatch ${disp:-?} us per genome; whole loop without MPI ${plain} us"
echo "  per evaluation (NSGA-II, archive, front, checkpoint with fsync: ${pergen} ms per generation); with 2 workers ${mpi} us"
