#!/bin/sh
# CLI tests of approximate evaluation: `eval --uniform/--map [--library] [--energy] [--compensate]` and
# `sweep`. Exact values: the exact multiplier loses 0 pp at energy 1; a uniform map read from YAML gives
# the same figures as --uniform; a uniform map's energy is the multiplier's relative energy (0.68 for
# roup_k1_m2 in roup8) and, with the sky130 per-layer model, the network_relative figure that
# characterize wrote for it (0.4725); --compensate reports the plain run's accuracy beside its own;
# --logits writes the evaluated map's logits (their hits = its correct count), --exact-logits the exact ones;
# sweep's exact row has loss 0 everywhere; malformed flags exit 2. Few images (100), 50 calibration
# images. Prints one PASS/FAIL line per check; exit 77 when the model or CIFAR-10 is absent.
set -u
: "${BIN:?BIN must point at the approxmap binary}"
: "${TOP_SRCDIR:?TOP_SRCDIR must point at the source tree}"
DATA=${APPROXMAP_DATA:-$TOP_SRCDIR/data}
if [ ! -r "$DATA/models/resnet8_mlperf_float.onnx" ] || [ ! -r "$DATA/cifar10/cifar-10-batches-bin/test_batch.bin" ]; then
    echo "SKIP: model or CIFAR-10 absent under '$DATA'"; exit 77
fi
export APPROXMAP_DATA="$DATA"
T=${TMPDIR:-/tmp}/approxmap-cli-approx.$$
mkdir -p "$T"
trap 'rm -rf "$T"' EXIT
fail=0
ok() { echo "PASS: $1"; }
ko() { echo "FAIL: $1"; fail=1; }
check() { # check DESCRIPTION EXPECTED_STATUS COMMAND...
    desc=$1; want=$2; shift 2
    "$@" >"$T/out" 2>&1; got=$?
    if [ "$got" -eq "$want" ]; then ok "$desc"; else
        ko "$desc (exit $got, wanted $want)"; sed 's/^/    /' "$T/out"; fi
}
# field FILE KEY: the value of the first "KEY": in a JSON output (scalar values only)
field() { tr ',{' '\n\n' < "$1" | sed -n "s/^ *\"$2\": \([^]}]*\).*/\1/p" | head -n 1; }
same() { # same DESCRIPTION A B
    if [ "$2" = "$3" ] && [ -n "$2" ]; then ok "$1 ($2)"; else ko "$1 ('$2' vs '$3')"; fi
}
near() { # near DESCRIPTION VALUE WANT TOL
    if awk -v v="$2" -v w="$3" -v t="$4" 'BEGIN { d = v - w; if (d < 0) d = -d; exit !(v != "" && d <= t) }'; then
        ok "$1 ($2)"; else ko "$1 ('$2', wanted $3 +- $4)"; fi
}

COMMON="--count 100 --calib cifar10/cifar-10-batches-bin/data_batch_1.bin:0:50 --no-float --threads 2"
SCOMMON="--count 100 --calib cifar10/cifar-10-batches-bin/data_batch_1.bin:0:50 --threads 2"

# --- usage errors (exit 2, before any work) ---
check "eval: --map and --uniform together" 2 "$BIN" eval --map m.yaml --uniform roup_k0_m0
check "eval: --library without a map" 2 "$BIN" eval --library roup8
check "eval: --energy without a map" 2 "$BIN" eval --energy x.yaml
check "eval: --compensate without a map" 2 "$BIN" eval --compensate bias
check "eval: unknown compensation" 2 "$BIN" eval --uniform roup_k0_m0 --compensate median
check "sweep: unknown format" 2 "$BIN" sweep --format xml
check "sweep: --count 0" 2 "$BIN" sweep --count 0
check "sweep: negative --first" 2 "$BIN" sweep --first -1
check "sweep: --count not a number" 2 "$BIN" sweep --count ten
check "sweep: unknown compensation" 2 "$BIN" sweep --compensate median
check "sweep: unexpected argument" 2 "$BIN" sweep extra
check "sweep: unknown option" 2 "$BIN" sweep --frob
check "sweep: unknown multiplier in --multipliers" 2 "$BIN" sweep --multipliers roup_k0_m0,roup_k9_m9
grep -q "unknown multiplier 'roup_k9_m9'" "$T/out" && ok "sweep: the unknown multiplier is named" || ko "sweep: the unknown multiplier is named"
check "sweep --help exits 0" 0 "$BIN" sweep --help

# --- eval ---
check "eval --uniform roup_k0_m0" 0 "$BIN" eval $COMMON --uniform roup_k0_m0 --format json
cp "$T/out" "$T/exact.json"
same "exact map: loss 0 pp" "$(field "$T/exact.json" loss_pp)" "0.0000"
same "exact map: energy 1" "$(field "$T/exact.json" energy_rel)" "1.000000"
same "exact map: same accuracy as exact int8" "$(field "$T/exact.json" accuracy_approx)" "$(field "$T/exact.json" accuracy_int8)"
grep -q '"energy_layers": \[{"name": "/conv2d/Conv", "macs": 442368, "energy_rel": 1.000000' "$T/exact.json" \
    && ok "per-layer energy breakdown" || ko "per-layer energy breakdown"

printf 'library: roup8\ndefault: roup_k1_m2\n' > "$T/uniform.yaml"
check "eval --map (uniform roup_k1_m2)" 0 "$BIN" eval $COMMON --map "$T/uniform.yaml" --format json
cp "$T/out" "$T/map.json"
check "eval --uniform roup_k1_m2 --compensate bias" 0 "$BIN" eval $COMMON --uniform roup_k1_m2 --compensate bias --format json
cp "$T/out" "$T/comp.json"
same "map file = --uniform: accuracy" "$(field "$T/map.json" accuracy_approx)" "$(field "$T/comp.json" accuracy_uncompensated)"
same "map file = --uniform: loss" "$(field "$T/map.json" loss_pp)" "$(field "$T/comp.json" loss_pp_uncompensated)"
same "uniform energy = the multiplier's relative energy" "$(field "$T/map.json" energy_rel)" "0.680000"
same "compensation keeps the exact int8 reference" "$(field "$T/comp.json" accuracy_int8)" "$(field "$T/map.json" accuracy_int8)"
same "compensated run has the same energy" "$(field "$T/comp.json" energy_rel)" "0.680000"
if awk -v a="$(field "$T/comp.json" loss_pp)" -v b="$(field "$T/comp.json" loss_pp_uncompensated)" 'BEGIN { exit !(a + 0 < b + 0) }'; then
    ok "bias compensation lowers the loss of roup_k1_m2"; else ko "bias compensation lowers the loss of roup_k1_m2"; fi

# --logits writes the logits of what is evaluated (the map's, compensated when it is), --exact-logits
# the exact network's; without a map --logits is the exact network's
check "eval --uniform roup_k1_m2 --compensate bias --logits --exact-logits" 0 "$BIN" eval $COMMON --uniform roup_k1_m2 \
    --compensate bias --format json --logits "$T/approx.csv" --exact-logits "$T/exact.csv"
cp "$T/out" "$T/comp_logits.json"
check "eval --logits without a map" 0 "$BIN" eval $COMMON --logits "$T/exact_only.csv"
cmp -s "$T/exact.csv" "$T/exact_only.csv" && ok "eval: --exact-logits = --logits without a map" \
    || ko "eval: --exact-logits = --logits without a map"
hits() { awk -F, 'NR > 1 && $2 == $3 { n++ } END { print n + 0 }' "$1"; }
same "eval: --logits rows = the map's correct answers" "$(hits "$T/approx.csv")" "$(field "$T/comp_logits.json" correct_approx)"
same "eval: --exact-logits rows = exact int8 correct answers" "$(hits "$T/exact.csv")" "$(field "$T/comp_logits.json" correct_int8)"
nd=$(paste -d';' "$T/approx.csv" "$T/exact.csv" | awk -F';' 'NR > 1 && $1 != $2 { n++ } END { print n + 0 }')
if [ "$nd" -gt 0 ]; then ok "eval: the map's logits differ from the exact ones ($nd of 100 rows)"; else
    ko "eval: the map's logits differ from the exact ones"; fi
same "eval: --logits has a header and 100 rows" "$(wc -l < "$T/approx.csv" | tr -d ' ')" "101"

check "eval --energy layers_sky130.yaml" 0 "$BIN" eval $COMMON --uniform roup_k1_m2 --library roup8_sky130 \
    --energy "$TOP_SRCDIR/results/gate/layers_sky130.yaml" --format json
near "per-layer model: network_relative of roup_k1_m2" "$(field "$T/out" energy_rel)" 0.4725 0.00005
same "per-layer model: accuracy does not depend on the energy model" "$(field "$T/out" accuracy_approx)" "$(field "$T/map.json" accuracy_approx)"
check "eval: unknown --uniform multiplier fails" 1 "$BIN" eval $COMMON --uniform roup_k3_m0
grep -q "unknown multiplier 'roup_k3_m0'" "$T/out" && ok "eval: the unknown multiplier is named" || ko "eval: the unknown multiplier is named"

# --- sweep ---
check "sweep (two multipliers, compensated)" 0 "$BIN" sweep $SCOMMON --multipliers roup_k0_m0,roup_k1_m2 --compensate bias
cp "$T/out" "$T/sweep.txt"
grep -q "^whole network" "$T/sweep.txt" && grep -q "^one layer at a time (others exact): loss" "$T/sweep.txt" \
    && grep -q "^one layer at a time: energy saved" "$T/sweep.txt" && ok "sweep prints both tables" || ko "sweep prints both tables"
# whole-network exact row: loss 0, energy 1, compensated loss 0
grep -Eq '^roup_k0_m0 +[0-9.]+ +0\.00 +1\.000 +[0-9.]+ +0\.00$' "$T/sweep.txt" && ok "sweep: exact row of the whole-network table" \
    || ko "sweep: exact row of the whole-network table"
# the per-layer loss table's exact row: ten zeros
n0=$(sed -n '/^one layer at a time (others exact)/,/^$/p' "$T/sweep.txt" | grep '^roup_k0_m0' | tr -s ' ' '\n' | grep -c '^0\.00$')
same "sweep: exact row of the per-layer table is all zero" "$n0" "10"
# roup_k1_m2's whole-network row agrees with eval (same images, same calibration)
acc=$(field "$T/map.json" accuracy_approx); comp=$(field "$T/comp.json" accuracy_approx)
grep -Eq "^roup_k1_m2 +$acc +[0-9.]+ +0\.680 +$comp " "$T/sweep.txt" && ok "sweep row = eval (plain $acc, compensated $comp)" \
    || { ko "sweep row = eval"; grep '^roup_k1_m2' "$T/sweep.txt" | head -n 1; }
check "sweep --format json" 0 "$BIN" sweep $SCOMMON --multipliers roup_k0_m0 --format json
grep -q '"loss_pp": \[0.0000, 0.0000, 0.0000, 0.0000, 0.0000, 0.0000, 0.0000, 0.0000, 0.0000, 0.0000\]' "$T/out" \
    && ok "sweep json: exact per-layer losses" || ko "sweep json: exact per-layer losses"
same "sweep json: exact whole-network energy" "$(field "$T/out" energy_rel)" "1.000000"
exit $fail
