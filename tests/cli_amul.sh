#!/bin/sh
# `approxmap multipliers`: the default library's table (values from docs/design.md, "Reference figures"), JSON output, name
# look-up, usage errors, and a user multiplier compiled into a shared object (c_function family; that
# part is skipped when no C compiler is found). One "PASS/FAIL: what" line per check; exit 1 on failure.
set -u
: "${BIN:?BIN must point at the approxmap binary}"
: "${TOP_SRCDIR:?TOP_SRCDIR must point at the source tree}"
. "$TOP_SRCDIR/tests/cli_lib.sh" # T, fail, pass, bad, check, grep_out
cli_init cli-amul

check "multipliers with the default library" 0 "$BIN" multipliers
grep_out "21 multipliers listed" "(roup8): 21 multipliers"
# name, family, params, E_rel, E_fJ, mean_err, MED, NMED, MRED%, WCE, P_err
row=$(grep '^roup_k0_m1 ' "$T/out" | tr -s ' ')
[ "$row" = "roup_k0_m1 roup k=0 m=1 1.04 - -0.2500 32.000 0.00195 2.401 128 0.4980 yes" ] && pass "roup_k0_m1 row" || bad "roup_k0_m1 row: '$row'"
row=$(grep '^roup_k2_m6 ' "$T/out" | tr -s ' ')
[ "$row" = "roup_k2_m6 roup k=2 m=6 0.18 - -0.2500 1082.129 0.06605 48.684 4864 0.9915 yes" ] && pass "roup_k2_m6 row" || bad "roup_k2_m6 row: '$row'"
row=$(grep '^roup_k0_m0 ' "$T/out" | tr -s ' ')
[ "$row" = "roup_k0_m0 roup k=0 m=0 1.00 584 0.0000 0.000 0.00000 0.000 0 0.0000 exact" ] && pass "exact row" || bad "exact row: '$row'"
grep_out "provenance printed" "not a published figure"

check "multipliers --format json" 0 "$BIN" multipliers --format json "$TOP_SRCDIR/problems/multipliers/roup8.yaml"
grep_out "json names roup_k1_m3" '"name": "roup_k1_m3", "family": "roup", "k": 1, "m": 3'
grep_out "json exact energy" '"energy_rel": 1, "energy_fj": 584'
if command -v python3 >/dev/null 2>&1; then
    n=$(python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(len(d["multipliers"]), round(d["multipliers"][20]["mred_pct"], 1))' "$T/out")
    [ "$n" = "21 48.7" ] && pass "json parses, 21 entries, k2_m6 MRED 48.7" || bad "json content: '$n'"
fi
check "a bare library name is looked up" 0 "$BIN" multipliers roup8
check "unknown format is a usage error" 2 "$BIN" multipliers --format xml
check "two libraries are a usage error" 2 "$BIN" multipliers a.yaml b.yaml
check "--help exits 0" 0 "$BIN" multipliers --help
check "a missing library fails" 1 "$BIN" multipliers "$T/none.yaml"
grep_out "a missing library is named" "cannot open '$T/none.yaml'"

printf 'multipliers:\n  - {name: a, family: roup, k: 3, m: 0}\n' >"$T/bad.yaml"
check "a bad parameter fails" 1 "$BIN" multipliers "$T/bad.yaml"
grep_out "a bad parameter has its position" "$T/bad.yaml:2:32: bad parameter k = 3 for roup (0..2)"

CC=${CC:-cc}
if command -v "$CC" >/dev/null 2>&1 && "$CC" -shared -fPIC -o "$T/plugin.so" "$TOP_SRCDIR/tests/mul_plugin.c" 2>"$T/cc.err"; then
    cat >"$T/user.yaml" <<'YAML'
library: user
multipliers:
  - {name: exact, family: exact, energy: {relative: 1}}
  - {name: plus_one, family: c_function, object: plugin.so, symbol: mul_plus_one, energy: {relative: 0.9, source: made up}}
YAML
    check "c_function library loads" 0 "$BIN" multipliers "$T/user.yaml"
    row=$(grep '^plus_one ' "$T/out" | tr -s ' ')
    # MRED = 100 * (sum over a != 0 of 1/|a|)^2 / 255^2 = 100 * (H(127) + H(128))^2 / 65025 = 0.181
    [ "$row" = "plus_one c_function mul_plus_one() 0.90 - 1.0000 1.000 0.00006 0.181 1 1.0000 no" ] && pass "c_function row" || bad "c_function row: '$row'"
    printf 'multipliers:\n  - {name: w, family: c_function, object: plugin.so, symbol: mul_too_wide}\n' >"$T/wide.yaml"
    check "a product outside int16 fails" 1 "$BIN" multipliers "$T/wide.yaml"
    grep_out "a product outside int16 is explained" "$T/wide.yaml:2:43: function 'mul_too_wide' of '$T/plugin.so' returns 70000 for a = 127, w = 127, outside int16"
    printf 'multipliers:\n  - {name: w, family: c_function, object: plugin.so, symbol: nosuch}\n' >"$T/nosym.yaml"
    check "a missing symbol fails" 1 "$BIN" multipliers "$T/nosym.yaml"
    grep_out "a missing symbol is explained" "$T/nosym.yaml:2:43: shared object '$T/plugin.so' has no function 'nosuch'"
    # weight tuning needs a weight transform: a table-only multiplier keeps the layers' weights, so
    # bias+weights gives bias's figures (and runs: the table path cannot take tuned weights)
    data=${APPROXMAP_DATA:-$TOP_SRCDIR/data}
    if [ -r "$data/models/resnet8_mlperf_float.onnx" ] && [ -r "$data/cifar10/cifar-10-batches-bin/test_batch.bin" ]; then
        for c in bias bias+weights; do
            APPROXMAP_DATA=$data "$BIN" eval --uniform plus_one --library "$T/user.yaml" --compensate $c --count 20 \
                --calib cifar10/cifar-10-batches-bin/data_batch_1.bin:0:20 --no-float --format json >"$T/e-$c.json" 2>"$T/e-$c.err" \
                || { bad "eval of a c_function map with --compensate $c"; cat "$T/e-$c.err"; }
        done
        a=$(sed 's/.*"correct_approx": \([0-9]*\).*/\1/' "$T/e-bias.json") b=$(sed 's/.*"correct_approx": \([0-9]*\).*/\1/' "$T/e-bias+weights.json")
        [ -n "$a" ] && [ "$a" = "$b" ] && pass "bias+weights on a table-only multiplier: weights kept, the figures of bias ($a right)" \
            || bad "bias+weights on a table-only multiplier: $a vs $b right"
        # one table-only filter in a ROUP layer: that layer runs on tables with its own weights, the others tuned
        printf '  - {name: roup_k2_m0, family: roup, k: 2, m: 0, energy: {relative: 0.44}}\n' >>"$T/user.yaml"
        printf 'default: roup_k2_m0\nlayers:\n  /conv2d_1/Conv:\n    default: roup_k2_m0\n    filters: {0: plus_one}\n' >"$T/mixed.yaml"
        for c in bias bias+weights; do
            APPROXMAP_DATA=$data "$BIN" eval --map "$T/mixed.yaml" --library "$T/user.yaml" --compensate $c --count 500 \
                --calib cifar10/cifar-10-batches-bin/data_batch_1.bin:0:20 --no-float --format json >"$T/m-$c.json" 2>"$T/m-$c.err" \
                || { bad "eval of a mixed table/ROUP map with --compensate $c"; cat "$T/m-$c.err"; }
        done
        a=$(sed 's/.*"correct_approx": \([0-9]*\).*/\1/' "$T/m-bias.json") b=$(sed 's/.*"correct_approx": \([0-9]*\).*/\1/' "$T/m-bias+weights.json")
        [ -n "$a" ] && [ -n "$b" ] && [ "$b" -gt "$a" ] && pass "a layer with a table-only filter keeps its weights; the tuned rest gains ($a -> $b right of 500)" \
            || bad "mixed table/ROUP map: $a vs $b right"
    else
        echo "SKIP: bias+weights on a c_function map (reference model or CIFAR-10 absent)"
    fi
else
    echo "SKIP: c_function checks (no working C compiler '$CC')"
fi
exit $fail
