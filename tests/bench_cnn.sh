#!/bin/sh
# make bench: CNN search throughput (tests/bench_search.py): evaluations per second of a layer-level and a
# kernel-level ROUP search on ResNet-8 with 2,000 search images. Environment:
#   BENCH_BASELINE=/path/to/previous/approxmap   run the same searches with that binary too, interleaved,
#                                                and print the ratio (e.g. /work/base/build/approxmap)
#   BENCH_SEARCH_ROUNDS=N                        rounds per binary (default 1, 2 with a baseline)
#   BENCH_CACHE=1   also the activation cache on/off comparison (a kernel-level search, 500 images, twice)
set -u
B=${BIN:-./approxmap}
src=${TOP_SRCDIR:-$(cd "$(dirname "$0")/.." && pwd)}
data=${APPROXMAP_DATA:-$src/data}
if [ ! -r "$data/models/resnet8_mlperf_float.onnx" ]; then echo "bench_cnn: SKIP (no model under '$data')"; exit 0; fi
export APPROXMAP_DATA="$data"
if command -v python3 >/dev/null 2>&1; then
    python3 "$src/tests/bench_search.py" "$B" "$src" "${BENCH_BASELINE:-}" ${BENCH_SEARCH_ROUNDS:+"$BENCH_SEARCH_ROUNDS"} || exit 1
else
    echo "# search throughput skipped: no python3"
fi
[ "${BENCH_CACHE:-0}" = 1 ] || exit 0

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
printf '\nbench_cnn: kernel-level search, %s evaluations of 500 images each (whole runs, set-up included)\n' "$ev"
printf '  activation cache on : %7.1f s  %6.2f evaluations/s\n' "$on" "$(echo "$ev / $on" | bc -l)"
printf '  activation cache off: %7.1f s  %6.2f evaluations/s\n' "$off" "$(echo "$ev / $off" | bc -l)"
printf '  ratio on/off: %.2fx   fronts %s\n' "$(echo "$off / $on" | bc -l)" "$same"
grep -h "act-cache" "$T/on.err" 2>/dev/null | tail -n 1
