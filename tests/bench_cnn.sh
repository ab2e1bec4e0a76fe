#!/bin/sh
# make bench: CNN search throughput (tests/bench_search.py): evaluations per second of a layer-level and a
# kernel-level ROUP search on ResNet-8 with 2,000 search images. Environment:
#   BENCH_BASELINE=/path/to/previous/approxmap   run the same searches with that binary too, interleaved,
#                                                and print the ratio (e.g. /work/base/build/approxmap)
#   BENCH_SEARCH_ROUNDS=N                        rounds per binary (default 1, 2 with a baseline)
#   BENCH_CACHE=1   also the activation cache on/off comparison (a kernel-level search, 500 images, twice);
#                   BENCH_CACHE=only: that comparison alone
#   BENCH_CACHE_PROBLEM=FILE   that comparison on this problem instead (its cache_mb is the "on" budget;
#                              e.g. a 20,000-image search, where the cache's memory traffic matters)
#   with BENCH_BASELINE, the comparison also runs the baseline binary with the cache on
set -u
B=${BIN:-./approxmap}
src=${TOP_SRCDIR:-$(cd "$(dirname "$0")/.." && pwd)}
data=${APPROXMAP_DATA:-$src/data}
if [ ! -r "$data/models/resnet8_mlperf_float.onnx" ]; then echo "bench_cnn: SKIP (no model under '$data')"; exit 0; fi
export APPROXMAP_DATA="$data"
if [ "${BENCH_CACHE:-0}" = only ]; then
    : # the cache comparison alone
elif command -v python3 >/dev/null 2>&1; then
    python3 "$src/tests/bench_search.py" "$B" "$src" "${BENCH_BASELINE:-}" ${BENCH_SEARCH_ROUNDS:+"$BENCH_SEARCH_ROUNDS"} || exit 1
else
    echo "# search throughput skipped: no python3"
fi
[ "${BENCH_CACHE:-0}" = 1 ] || [ "${BENCH_CACHE:-0}" = only ] || exit 0

T=$(mktemp -d /tmp/approxmap-bench-XXXXXX); trap 'rm -rf "$T"' EXIT
pb=${BENCH_CACHE_PROBLEM:-$src/tests/data/bench_kernel.yaml}
sed 's/^cache_mb: *[0-9]*/cache_mb: 0/' "$pb" >"$T/off.yaml"
grep -q '^cache_mb: 0' "$T/off.yaml" || { echo "bench_cnn: $pb: no cache_mb line" >&2; exit 1; }
run() { # NAME BINARY PROBLEM -> prints seconds; CPU seconds in $T/NAME.cpu
    t0=$(date +%s.%N)
    if [ -x /usr/bin/time ]; then # GNU time (Debian package time): CPU seconds too
        /usr/bin/time -f '%U %S' -o "$T/$1.cpu" "$2" search "$3" -o "$T/$1" --force 2>"$T/$1.err"
    else
        echo "nan nan" >"$T/$1.cpu"
        "$2" search "$3" -o "$T/$1" --force 2>"$T/$1.err"
    fi || { cat "$T/$1.err" >&2; exit 1; }
    t1=$(date +%s.%N)
    echo "$t1 - $t0" | bc -l
}
line() { # LABEL NAME SECONDS
    printf '  %-26s %7.1f s wall %7.1f CPU-s  %6.2f evaluations/s  %5.2f CPU-s/evaluation\n' "$1" "$3" \
        "$(awk '{print $1 + $2}' "$T/$2.cpu")" "$(echo "$ev / $3" | bc -l)" "$(awk -v e="$ev" '{print ($1 + $2) / e}' "$T/$2.cpu")"
}
on=$(run on "$B" "$pb"); off=$(run off "$B" "$T/off.yaml")
[ -n "${BENCH_BASELINE:-}" ] && base=$(run base "$BENCH_BASELINE" "$pb")
ev=$(tail -n 1 "$T/on/generations.csv" | cut -d, -f2)
cmp -s "$T/on/front.csv" "$T/off/front.csv" && same=identical || same=DIFFERENT
printf '\nbench_cnn: %s, %s evaluations (whole runs, set-up included)\n' "$(basename "$pb")" "$ev"
line "activation cache on" on "$on"
line "activation cache off" off "$off"
printf '  ratio on/off: %.2fx   fronts %s\n' "$(echo "$off / $on" | bc -l)" "$same"
grep -h "act-cache" "$T/on.err" 2>/dev/null | tail -n 1
if [ -n "${BENCH_BASELINE:-}" ]; then
    cmp -s "$T/on/front.csv" "$T/base/front.csv" && same=identical || same=DIFFERENT
    line "baseline, cache on" base "$base"
    printf '  ratio this/baseline (cache on): %.2fx   fronts %s\n' "$(echo "$base / $on" | bc -l)" "$same"
    grep -h "act-cache" "$T/base.err" 2>/dev/null | tail -n 1
fi
