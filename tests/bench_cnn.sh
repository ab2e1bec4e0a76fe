#!/bin/sh
# make bench: evaluations per second of a kernel-level CNN search with the activation cache on and off,
# measured side by side in one run, printed as a ratio (the runs must also agree byte for byte).
set -u
B=${BIN:-./approxmap}
src=${TOP_SRCDIR:-$(dirname "$0")/..}
data=${APPROXMAP_DATA:-$src/data}
if [ ! -r "$data/models/resnet8_mlperf_float.onnx" ]; then echo "bench_cnn: SKIP (no model under '$data')"; exit 0; fi
export APPROXMAP_DATA="$data"
T=$(mktemp -d /tmp/approxmap-bench-XXXXXX); trap 'rm -rf "$T"' EXIT
sed 's/cache_mb: 1024/cache_mb: 0/' "$src/tests/data/bench_kernel.yaml" >"$T/off.yaml"
run() { # NAME PROBLEM -> prints seconds
    t0=$(date +%s.%N)
    "$B" search "$2" -o "$T/$1" --force 2>"$T/$1.err" || { cat "$T/$1.err" >&2; exit 1; }
    t1=$(date +%s.%N)
    echo "$t1 - $t0" | bc -l
}
on=$(run on "$src/tests/data/bench_kernel.yaml"); off=$(run off "$T/off.yaml")
ev=$(tail -n 1 "$T/on/generations.csv" | cut -d, -f2)
cmp -s "$T/on/front.csv" "$T/off/front.csv" && same=identical || same=DIFFERENT
printf 'bench_cnn: kernel-level search, %s evaluations of 500 images each (whole runs, set-up included)\n' "$ev"
printf '  activation cache on : %7.1f s  %6.2f evaluations/s\n' "$on" "$(echo "$ev / $on" | bc -l)"
printf '  activation cache off: %7.1f s  %6.2f evaluations/s\n' "$off" "$(echo "$ev / $off" | bc -l)"
printf '  ratio on/off: %.2fx   fronts %s\n' "$(echo "$off / $on" | bc -l)" "$same"
grep -h "act-cache" "$T/on.err" 2>/dev/null | tail -n 1
