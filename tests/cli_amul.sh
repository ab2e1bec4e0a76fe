#!/bin/sh
# `approxmap multipliers`: the default library's table (values from docs/design.md, "Reference figures"), JSON output, name
# look-up, usage errors, and a user multiplier compiled into a shared object (c_function family; that
# part is skipped when no C compiler is found). One "PASS/FAIL: what" line per check; exit 1 on failure.
set -u
: "${BIN:?BIN must point at the approxmap binary}"
: "${TOP_SRCDIR:?TOP_SRCDIR must point at the source tree}"
fail=0
tmp=$(mktemp -d /tmp/approxmap-cli-amul.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
pass() { echo "PASS: $1"; }
bad() { echo "FAIL: $1"; fail=1; }
status() { # status DESCRIPTION EXPECTED COMMAND... (output kept in $tmp/out)
    desc=$1; want=$2; shift 2
    "$@" >"$tmp/out" 2>&1; got=$?
    if [ "$got" -eq "$want" ]; then pass "$desc"; else bad "$desc (exit $got, wanted $want)"; sed 's/^/    /' "$tmp/out"; fi
}
has() { # has DESCRIPTION FIXED-STRING (in $tmp/out)
    if grep -qF -- "$2" "$tmp/out"; then pass "$1"; else bad "$1: no '$2' in"; sed 's/^/    /' "$tmp/out"; fi
}

status "multipliers with the default library" 0 "$BIN" multipliers
has "21 multipliers listed" "(roup8): 21 multipliers"
# name, family, params, E_rel, E_fJ, mean_err, MED, NMED, MRED%, WCE, P_err
row=$(grep '^roup_k0_m1 ' "$tmp/out" | tr -s ' ')
[ "$row" = "roup_k0_m1 roup k=0 m=1 1.04 - -0.2500 32.000 0.00195 2.401 128 0.4980 yes" ] && pass "roup_k0_m1 row" || bad "roup_k0_m1 row: '$row'"
row=$(grep '^roup_k2_m6 ' "$tmp/out" | tr -s ' ')
[ "$row" = "roup_k2_m6 roup k=2 m=6 0.18 - -0.2500 1082.129 0.06605 48.684 4864 0.9915 yes" ] && pass "roup_k2_m6 row" || bad "roup_k2_m6 row: '$row'"
row=$(grep '^roup_k0_m0 ' "$tmp/out" | tr -s ' ')
[ "$row" = "roup_k0_m0 roup k=0 m=0 1.00 584 0.0000 0.000 0.00000 0.000 0 0.0000 exact" ] && pass "exact row" || bad "exact row: '$row'"
has "provenance printed" "not a published figure"

status "multipliers --format json" 0 "$BIN" multipliers --format json "$TOP_SRCDIR/problems/multipliers/roup8.yaml"
has "json names roup_k1_m3" '"name": "roup_k1_m3", "family": "roup", "k": 1, "m": 3'
has "json exact energy" '"energy_rel": 1, "energy_fj": 584'
if command -v python3 >/dev/null 2>&1; then
    n=$(python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(len(d["multipliers"]), round(d["multipliers"][20]["mred_pct"], 1))' "$tmp/out")
    [ "$n" = "21 48.7" ] && pass "json parses, 21 entries, k2_m6 MRED 48.7" || bad "json content: '$n'"
fi
status "a bare library name is looked up" 0 "$BIN" multipliers roup8
status "unknown format is a usage error" 2 "$BIN" multipliers --format xml
status "two libraries are a usage error" 2 "$BIN" multipliers a.yaml b.yaml
status "--help exits 0" 0 "$BIN" multipliers --help
status "a missing library fails" 1 "$BIN" multipliers "$tmp/none.yaml"
has "a missing library is named" "cannot open '$tmp/none.yaml'"

printf 'multipliers:\n  - {name: a, family: roup, k: 3, m: 0}\n' >"$tmp/bad.yaml"
status "a bad parameter fails" 1 "$BIN" multipliers "$tmp/bad.yaml"
has "a bad parameter has its position" "$tmp/bad.yaml:2:32: bad parameter k = 3 for roup (0..2)"

CC=${CC:-cc}
if command -v "$CC" >/dev/null 2>&1 && "$CC" -shared -fPIC -o "$tmp/plugin.so" "$TOP_SRCDIR/tests/mul_plugin.c" 2>"$tmp/cc.err"; then
    cat >"$tmp/user.yaml" <<'YAML'
library: user
multipliers:
  - {name: exact, family: exact, energy: {relative: 1}}
  - {name: plus_one, family: c_function, object: plugin.so, symbol: mul_plus_one, energy: {relative: 0.9, source: made up}}
YAML
    status "c_function library loads" 0 "$BIN" multipliers "$tmp/user.yaml"
    row=$(grep '^plus_one ' "$tmp/out" | tr -s ' ')
    # MRED = 100 * (sum over a != 0 of 1/|a|)^2 / 255^2 = 100 * (H(127) + H(128))^2 / 65025 = 0.181
    [ "$row" = "plus_one c_function mul_plus_one() 0.90 - 1.0000 1.000 0.00006 0.181 1 1.0000 no" ] && pass "c_function row" || bad "c_function row: '$row'"
    printf 'multipliers:\n  - {name: w, family: c_function, object: plugin.so, symbol: mul_too_wide}\n' >"$tmp/wide.yaml"
    status "a product outside int16 fails" 1 "$BIN" multipliers "$tmp/wide.yaml"
    has "a product outside int16 is explained" "$tmp/wide.yaml:2:43: function 'mul_too_wide' of '$tmp/plugin.so' returns 70000 for a = 127, w = 127, outside int16"
    printf 'multipliers:\n  - {name: w, family: c_function, object: plugin.so, symbol: nosuch}\n' >"$tmp/nosym.yaml"
    status "a missing symbol fails" 1 "$BIN" multipliers "$tmp/nosym.yaml"
    has "a missing symbol is explained" "$tmp/nosym.yaml:2:43: shared object '$tmp/plugin.so' has no function 'nosuch'"
else
    echo "SKIP: c_function checks (no working C compiler '$CC')"
fi
exit $fail
