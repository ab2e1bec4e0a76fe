#!/bin/sh
# make bench: NSGA-II on ZDT1 (the benchmark settings of problems/zdt/zdt1.yaml, 10 seeds) in
# process, then one run through the CLI with its per-generation checkpoints for comparison. Run from
# the build directory.
set -e
here=$(cd "$(dirname "$0")" && pwd)
./tests/bench_nsga "$here/../problems/zdt/zdt1.yaml" 10
run=$(mktemp -d /tmp/approxmap-bench-zdt-XXXXXX)
start=$(date +%s.%N)
./approxmap search "$here/../problems/zdt/zdt1.yaml" -o "$run/r" --force --quiet
end=$(date +%s.%N)
echo "approxmap search (seed 1, with run directory, fsync'd checkpoint every generation): $(echo "$end - $start" | bc) s, hypervolume $(tail -1 "$run/r/generations.csv" | cut -d, -f4)"
rm -rf "$run"
