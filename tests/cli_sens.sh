#!/bin/sh
# approxmap sensitivity on the tiny CNN problem (tests/data/cnn_tiny.yaml, filter granularity, bias
# compensation): the table's shape (a row per layer and per filter for each allowed multiplier, per
# kernel with --kernels), the exact multiplier's rows at zero error, the same bytes at 1 and 2 threads,
# YAML output, the heatmap files, --check's rank correlations, and clean failures on bad input.
# Skips (77) when the reference model or CIFAR-10 is absent from the data directory.
set -u
: "${BIN:?}" "${TOP_SRCDIR:?}"
data=${APPROXMAP_DATA:-$TOP_SRCDIR/data}
if [ ! -r "$data/models/resnet8_mlperf_float.onnx" ] || [ ! -r "$data/cifar10/cifar-10-batches-bin/test_batch.bin" ]; then
    echo "SKIP: reference model or CIFAR-10 absent under '$data'"; exit 77
fi
export APPROXMAP_DATA="$data"
T=$(mktemp -d /tmp/approxmap-sens-XXXXXX)
trap 'rm -rf "$T"' EXIT
fail=0
pass() { echo "PASS: $1"; }
bad() { echo "FAIL: $1"; fail=1; }
sed 's/^granularity: layer$/granularity: filter\ncompensate: bias/' "$TOP_SRCDIR/tests/data/cnn_tiny.yaml" >"$T/p.yaml"

"$BIN" sensitivity "$T/p.yaml" -o "$T/s.csv" --threads 1 2>"$T/err" || bad "sensitivity runs"
[ "$(head -n 1 "$T/s.csv")" = "layer,filter,kernel,multiplier,mean_error,noise_lsb,energy_saved" ] \
    && pass "CSV header" || bad "CSV header: $(head -n 1 "$T/s.csv")"
# ResNet-8: 10 layers, 346 filters; 7 allowed multipliers -> (10 + 346) * 7 rows
rows=$(($(wc -l <"$T/s.csv") - 1))
[ "$rows" = 2492 ] && pass "one row per layer and filter for each of 7 multipliers (2492)" || bad "rows: $rows"
nz=$(grep ',roup_k0_m0,' "$T/s.csv" | awk -F, '$6 != 0 || $7 != 0' | wc -l)
[ "$nz" = 0 ] && pass "the exact multiplier injects no error and saves nothing" || bad "$nz exact rows with error or saving"
agg=$(grep '^/conv2d_1/Conv,all,all,roup_k2_m6,' "$T/s.csv" | cut -d, -f6)
awk -v v="$agg" 'BEGIN { exit !(v > 1) }' && pass "roup_k2_m6 on a layer: $agg output steps RMS" || bad "roup_k2_m6 noise '$agg'"
[ -s "$T/s_heatmap.dat" ] && [ -s "$T/s_heatmap.gp" ] && [ "$(grep -vc '^#' "$T/s_heatmap.dat")" = 346 ] \
    && pass "heatmap data: one line per filter" || bad "heatmap data"
if command -v gnuplot >/dev/null 2>&1; then
    [ -s "$T/s_heatmap.png" ] && [ ! -e "$T/gnuplot.log" ] && pass "heatmap drawn" || bad "heatmap drawn"
fi
"$BIN" sensitivity "$T/p.yaml" --threads 2 >"$T/s2.csv" 2>/dev/null && cmp -s "$T/s.csv" "$T/s2.csv" \
    && pass "stdout at 2 threads: the same bytes as the file at 1" || bad "1 vs 2 threads differ"
"$BIN" sensitivity "$T/p.yaml" --kernels --format yaml -o "$T/s.yaml" --heatmap "$T/h" --mult roup_k1_m3 2>/dev/null \
    || bad "yaml with kernels"
# kernels: sum over layers of cout * cin = 11440, times 7, plus the 2492 rows above
[ "$(grep -c '^  - {layer: ' "$T/s.yaml")" = $((2492 + 11440 * 7)) ] && pass "YAML rows with --kernels" \
    || bad "YAML rows: $(grep -c '^  - {layer: ' "$T/s.yaml")"
grep -q '^compensated: true$' "$T/s.yaml" && grep -q 'under roup_k1_m3' "$T/h.dat" && pass "YAML header and --mult" \
    || bad "YAML header / --mult"
"$BIN" sensitivity "$T/p.yaml" --check 40 >"$T/check.txt" 2>/dev/null || bad "--check runs"
n=$(grep -c 'Spearman(estimate, ' "$T/check.txt")
[ "$n" = 5 ] && grep -q 'within each layer' "$T/check.txt" && pass "--check prints 5 rank correlations and the per-layer ones" \
    || { bad "--check output"; head -20 "$T/check.txt"; }

err() { # DESC PATTERN ARGS...
    d=$1 p=$2; shift 2
    out=$("$BIN" sensitivity "$@" 2>&1 >/dev/null); rc=$?
    if [ $rc -ne 0 ] && printf '%s' "$out" | grep -q -- "$p"; then pass "$d"; else bad "$d (exit $rc: $out)"; fi
}
err "unknown multiplier" "'roup_k9_m9' is not an allowed multiplier" "$T/p.yaml" --mult roup_k9_m9
err "not a CNN problem" "needs a CNN problem" "$TOP_SRCDIR/problems/zdt/zdt1.yaml"
err "missing problem file" "nope.yaml" "$T/nope.yaml"
err "bad format" "unknown format 'xml'" "$T/p.yaml" --format xml
err "no problem" "usage:"
exit $fail
