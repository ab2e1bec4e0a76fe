#!/bin/bash
# `make fuzz`: run each libFuzzer harness for SECONDS, JOBS at a time, from its seed corpus (seeds.sh)
# and the corpus earlier runs grew (BUILD/fuzz-corpus/<harness>, kept). Crashes go to
# BUILD/fuzz-crashes/<harness>-crash-*, logs to BUILD/fuzz-logs/<harness>.log. One summary line per
# harness ("fuzz: NAME: N executions in S s, ...") and the exit status 1 when any crashed.
#   run.sh BUILD SECONDS JOBS HARNESS...
set -u
B=$1 S=$2 J=$3
shift 3
src=$(cd "$(dirname "$0")/../.." && pwd)
mkdir -p "$B/fuzz-logs" "$B/fuzz-crashes"
sh "$src/tests/fuzz/seeds.sh" "$B/approxmap" "$B/tests/fuzz/mkonnx" "$B/fuzz-seeds" >"$B/fuzz-logs/seeds.log" 2>&1 ||
    { echo "fuzz: cannot make the seed corpora:"; cat "$B/fuzz-logs/seeds.log"; exit 1; }
export ASAN_OPTIONS=${ASAN_OPTIONS:-abort_on_error=1:detect_leaks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1}
one() {
    h=$1
    mkdir -p "$B/fuzz-corpus/$h"
    "$B/tests/fuzz/fuzz_$h" -max_total_time="$S" -timeout=30 -rss_limit_mb=2560 -print_final_stats=1 \
        -artifact_prefix="$B/fuzz-crashes/$h-" "$B/fuzz-corpus/$h" "$B/fuzz-seeds/$h" >"$B/fuzz-logs/$h.log" 2>&1
    echo $? >"$B/fuzz-logs/$h.rc"
}
running=0
for h in "$@"; do
    one "$h" &
    running=$((running + 1))
    if [ $running -ge "$J" ]; then wait -n; running=$((running - 1)); fi
done
wait
bad=0
for h in "$@"; do
    log=$B/fuzz-logs/$h.log
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
    secs=$(sed -n 's/^Done [0-9]* runs in \([0-9]*\) second.*/\1/p' "$log" | tail -n 1)
    cov=$(grep -o 'cov: [0-9]*' "$log" | tail -n 1)
    rc=$(cat "$B/fuzz-logs/$h.rc")
    crashes=$(ls "$B/fuzz-crashes" | grep -c "^$h-" || true)
    echo "fuzz: $h: ${execs:-?} executions in ${secs:-?} s, ${cov:-cov: ?}, corpus $(ls "$B/fuzz-corpus/$h" | wc -l), exit $rc, crash files $crashes"
    if [ "$rc" -ne 0 ]; then
        bad=1
        grep -E '^==[0-9]+==ERROR|SUMMARY|runtime error|^artifact_prefix|Test unit written' "$log" | head -n 8 | sed 's/^/    /'
    fi
done
[ $bad -eq 0 ] && echo "fuzz: $# harnesses, no crash" || echo "fuzz: crashes found (see $B/fuzz-crashes, $B/fuzz-logs)"
exit $bad
