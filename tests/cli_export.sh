#!/bin/sh
# approxmap export / report on a small synthetic CNN run (problem.yaml with a 40-image search subset and
# a 40-image holdout, a hand-written front.csv and generations.csv): row selection (--knee, --max-loss,
# --index, --id, --all), each format (YAML read back by amap_read is covered by tests/test_export.c; here
# the C header must compile and the JSON must parse), the holdout cache, report.md and plots (PNG + SVG
# when gnuplot exists, scripts and data without it), and clear errors for missing or malformed runs.
# Prints one PASS/FAIL line per check; exit 1 on failure, 77 when CIFAR-10 or the model is absent (after
# the checks that need no data).
set -u
: "${BIN:?BIN must point at the approxmap binary}"
T=$(mktemp -d /tmp/approxmap-cli-export-XXXXXX)
trap 'rm -rf "$T"' EXIT
fail=0
pass() { echo "PASS: $1"; }
bad() { echo "FAIL: $1"; fail=1; }
check() { # check DESCRIPTION EXPECTED_STATUS COMMAND...
    desc=$1; want=$2; shift 2
    "$@" >"$T/out" 2>"$T/err"; got=$?
    if [ "$got" -eq "$want" ]; then pass "$desc"; else
        bad "$desc (exit $got, wanted $want)"; sed 's/^/    /' "$T/out" "$T/err" | head -20; fi
}
has() { # has DESCRIPTION FILE FIXED-STRING
    if grep -qF -- "$3" "$2"; then pass "$1"; else bad "$1: no '$3' in $2:"; sed 's/^/    /' "$2" | head -20; fi
}

# --- usage errors and runs that are not CNN runs (no data needed) ---
check "export without RUNDIR is a usage error" 2 "$BIN" export
check "unknown format is a usage error" 2 "$BIN" export "$T" --format xml
check "two choices are a usage error" 2 "$BIN" export "$T" --knee --all
check "--index must be a number" 2 "$BIN" export "$T" --index x
check "report without RUNDIR is a usage error" 2 "$BIN" report
check "missing directory fails" 1 "$BIN" export "$T/nothere"
has "missing directory: message" "$T/err" "$T/nothere: not a run directory"
mkdir "$T/empty"
check "directory without front.csv fails" 1 "$BIN" export "$T/empty"
has "no front.csv: message" "$T/err" "$T/empty: not a run directory (no front.csv)"
check "report of a directory without front.csv fails" 1 "$BIN" report "$T/empty"
has "report, no front.csv: message" "$T/err" "$T/empty: not a run directory (no front.csv)"
mkdir "$T/nop" && echo "id,f1,f2" >"$T/nop/front.csv"
check "directory without problem.yaml fails" 1 "$BIN" export "$T/nop"
has "no problem.yaml: message" "$T/err" "not a run directory (no problem.yaml)"
mkdir "$T/zdt" && printf 'type: zdt1\nvariables: 3\n' >"$T/zdt/problem.yaml" && echo "id,f1,f2,x1,x2,x3" >"$T/zdt/front.csv"
check "a ZDT run is refused" 1 "$BIN" export "$T/zdt"
has "ZDT run: message" "$T/err" "a 'zdt1' run; export and report read CNN approximation runs"

D=${APPROXMAP_DATA:-}
if [ -z "$D" ] || [ ! -r "$D/models/resnet8_mlperf_float.onnx" ] || [ ! -r "$D/cifar10/cifar-10-batches-bin/test_batch.bin" ] \
    || [ ! -r "$D/cifar10/cifar-10-batches-bin/data_batch_1.bin" ]; then
    echo "SKIP: CIFAR-10 or the ResNet-8 model is absent (set APPROXMAP_DATA)"
    [ "$fail" -eq 0 ] && exit 77
    exit 1
fi

# --- a synthetic run: genes are positions in the allowed list sorted by energy:
#     0 = roup_k2_m6 (0.18), 1 = roup_k1_m2 (0.68), 2 = roup_k0_m0 (1.00) ---
R=$T/run
mkdir "$R"
cat >"$R/problem.yaml" <<'YAML'
type: cnn
model: models/resnet8_mlperf_float.onnx
data:
  calibration: cifar10/cifar-10-batches-bin/data_batch_1.bin:0:20
  search: cifar10/cifar-10-batches-bin/test_batch.bin:0:40
  holdout: cifar10/cifar-10-batches-bin/test_batch.bin:40:40
library: roup8
multipliers: [roup_k0_m0, roup_k1_m2, roup_k2_m6]
granularity: layer
max_loss_pp: 4
chunk: 40
ga: {population: 8, generations: 3}
YAML
# knee by hand: feasible rows 1..4, A = row 1 (0.30, 3.5), B = row 4 (1, 0); normalized (x, y) of rows 2
# and 3 are (0.214, 0.286) and (0.543, 0.143): distances to x + y = 1 toward the origin 0.354 and 0.222
cat >"$R/front.csv" <<'CSV'
id,f1,f2,violation,x1,x2,x3,x4,x5,x6,x7,x8,x9,x10
11,0.18,9,5,0,0,0,0,0,0,0,0,0,0
12,0.30,3.5,0,0,0,0,0,0,1,1,1,1,1
13,0.45,1,0,1,1,1,1,1,0,0,0,0,0
14,0.68,0.5,0,1,1,1,1,1,1,1,1,1,1
15,1,0,0,2,2,2,2,2,2,2,2,2,2
CSV
cat >"$R/generations.csv" <<'CSV'
generation,evaluations,cache_hits,hypervolume,best_f1,seconds
1,8,0,0,nan,1.5
2,15,1,0.5,0.68,3.0
3,21,3,0.875,0.30,4.5
CSV
first_line() { head -1 "$T/out"; }
sel() { # sel DESCRIPTION EXPECTED-ROW ARGS...: export --no-holdout ARGS picks front.csv row EXPECTED-ROW
    desc=$1; row=$2; shift 2
    "$BIN" export "$R" --no-holdout "$@" >"$T/out" 2>"$T/err"; got=$?
    if [ "$got" -eq 0 ] && first_line | grep -qF "front.csv row $row ("; then pass "$desc"; else
        bad "$desc (exit $got)"; sed 's/^/    /' "$T/out" "$T/err" | head -5; fi
}
sel "--knee picks the point farthest from the extremes' line" 2 --knee
has "recomputed energy differs from the synthetic f1: warning" "$T/err" "front.csv:4: energy 0.450000 recomputed as"
sel "--max-loss 2 picks the cheapest feasible map with loss <= 2" 2 --max-loss 2
sel "--max-loss 10 skips the infeasible row 0" 1 --max-loss 10
sel "--index 3" 3 --index 3
sel "--id 15 is row 4" 4 --id 15
check "--max-loss -1: no map qualifies" 1 "$BIN" export "$R" --no-holdout --max-loss -1
has "--max-loss -1: message" "$T/err" "no feasible map has a search loss <= -1 pp"
check "--index beyond the front" 1 "$BIN" export "$R" --no-holdout --index 5
has "--index 5: message" "$T/err" "no row 5 (the front has 5 rows, 0..4)"
check "--id not on the front" 1 "$BIN" export "$R" --no-holdout --id 99
check "--all yaml" 0 "$BIN" export "$R" --no-holdout --all
[ "$(grep -c '^---$' "$T/out")" -eq 4 ] && pass "--all yaml: 5 documents" || bad "--all yaml: $(grep -c '^---$' "$T/out") separators"

# --- formats with the holdout ---
check "export --index 3 yaml to a file" 0 "$BIN" export "$R" --index 3 -o "$T/m.yaml"
[ ! -s "$T/out" ] && pass "-o: nothing on stdout" || bad "-o: stdout not empty"
has "yaml: the search figures" "$T/m.yaml" "search subset cifar10/cifar-10-batches-bin/test_batch.bin:0:40 (40 images): exact int8"
has "yaml: the holdout figures" "$T/m.yaml" "holdout cifar10/cifar-10-batches-bin/test_batch.bin:40:40 (40 images): exact int8"
has "yaml: the confidence interval" "$T/m.yaml" "95 % CI of the holdout loss ["
has "yaml: uniform roup_k1_m2 layers" "$T/m.yaml" '"/conv2d/Conv": roup_k1_m2'
has "yaml: energy 0.68" "$T/m.yaml" "energy: 0.680000 of the all-exact map"
# the holdout loss equals 100 x (exact - map) / 40 from the counts printed beside it
awk '/^# holdout/ { split($0, a, "[()]"); split(a[4], e, "/"); split(a[6], m, "/");
       split($0, l, "loss "); loss = l[2] + 0; want = 100 * (e[1] - m[1]) / 40;
       if (loss - want < 0.006 && want - loss < 0.006) ok = 1 }
     END { exit !ok }' "$T/m.yaml" && pass "yaml: holdout loss = 100 x (exact - map) / n" || bad "yaml: holdout loss inconsistent"

# `approxmap eval --map` on the exported file reproduces the figures in its comments exactly
if "$BIN" eval --help 2>/dev/null | grep -q -- '--map'; then
    for part in "search subset" "holdout"; do
        cmd=$(grep -A2 '^# reproduce with:' "$T/m.yaml" | grep -F -- "--first $([ "$part" = holdout ] && echo 40 || echo 0) " | sed 's/^#  *//')
        want=$(grep "^# $part " "$T/m.yaml" | sed 's/.*this map \([0-9.]* % ([0-9]*\/[0-9]*)\).*/\1/')
        # shellcheck disable=SC2086
        set -- $cmd
        shift # 'approxmap'
        "$BIN" "$@" --no-float --threads 2 >"$T/out" 2>"$T/err" || true
        has "eval --map reproduces the $part accuracy ($want)" "$T/out" "int8 accuracy (approximate): $want"
    done
fi
check "export --format json" 0 "$BIN" export "$R" --index 2 --format json
if command -v python3 >/dev/null 2>&1; then
    python3 -c 'import json, sys; d = json.load(open(sys.argv[1])); assert d["row"] == 2 and d["id"] == 13; \
assert len(d["layers"]) == 10 and d["layers"][0]["multiplier"] == "roup_k1_m2" and d["layers"][9]["multiplier"] == "roup_k2_m6"; \
h = d["holdout"]; assert h["images"] == 40 and abs(h["loss_pp"] - 100.0 * (h["exact_correct"] - h["correct"]) / 40) < 1e-9; \
assert h["ci95_pp"][0] <= h["loss_pp"] <= h["ci95_pp"][1]; \
assert h["lost"] - h["gained"] == h["exact_correct"] - h["correct"] and 0 < h["p_mcnemar"] <= 1; \
from math import comb; b, c = h["lost"], h["gained"]; m = b + c; \
assert abs(h["p_mcnemar"] - min(1, 2 * sum(comb(m, i) for i in range(min(b, c) + 1)) / 2 ** m)) < 1e-12' \
    "$T/out" && pass "json parses with the expected figures (McNemar p summed exactly)" \
        || bad "json content"
fi
check "export --all --format json" 0 "$BIN" export "$R" --no-holdout --all --format json
if command -v python3 >/dev/null 2>&1; then
    python3 -c 'import json, sys; d = json.load(open(sys.argv[1])); assert [m["id"] for m in d] == [11, 12, 13, 14, 15]' \
        "$T/out" && pass "json --all: an array of 5 maps" || bad "json --all content"
fi

# --- record lists: the same 40 + 40 images written as lists give the same figures, and the list's
#     reproduce line (eval --data LIST) gives the holdout accuracy again ---
L=$T/list
mkdir "$L"
cp "$R/front.csv" "$R/generations.csv" "$L/"
sed -e 's|search: .*|search: cifar10/cifar-10-batches-bin/test_batch.bin:0:25,cifar10/cifar-10-batches-bin/test_batch.bin:25:15|' \
    -e 's|holdout: .*|holdout: cifar10/cifar-10-batches-bin/test_batch.bin:60:20,cifar10/cifar-10-batches-bin/test_batch.bin:40:20|' \
    "$R/problem.yaml" >"$L/problem.yaml"
# the single-range reference for the reordered holdout: same images, so the same counts
check "export --index 3 with record lists" 0 "$BIN" export "$L" --index 3 -o "$T/l.yaml"
figs() { grep -E '^# (search subset|holdout) ' "$1" | sed 's/^# \(search subset\|holdout\) [^ ]* /\1 /'; }
if [ -n "$(figs "$T/m.yaml")" ] && [ "$(figs "$T/m.yaml")" = "$(figs "$T/l.yaml")" ]; then
    pass "record lists: the same search and holdout figures as the single ranges"
else
    bad "record lists: figures differ"; figs "$T/m.yaml"; figs "$T/l.yaml"
fi
cmd=$(grep -A2 '^# reproduce with:' "$T/l.yaml" | grep -F -- "test_batch.bin:60:20,cifar10" | sed 's/^#  *//')
want=$(grep "^# holdout " "$T/l.yaml" | sed 's/.*this map \([0-9.]* % ([0-9]*\/[0-9]*)\).*/\1/')
# shellcheck disable=SC2086
set -- $cmd
shift # 'approxmap'
"$BIN" "$@" --no-float --threads 2 >"$T/out" 2>"$T/err" || true
has "eval --data LIST reproduces the holdout accuracy of a list ($want)" "$T/out" "int8 accuracy (approximate): $want"
check "eval: --first with a record list is a usage error" 2 "$BIN" eval --data "$(echo "$cmd" | sed 's/.*--data \([^ ]*\).*/\1/')" --first 3 --no-float
has "eval: --first with a record list: message" "$T/err" "--first and --count do not apply to a record list"
sed 's|search: .*|search: cifar10/cifar-10-batches-bin/test_batch.bin:0:25,,cifar10/cifar-10-batches-bin/test_batch.bin|' \
    "$R/problem.yaml" >"$L/problem.yaml"
check "a record list with an empty range is refused" 1 "$BIN" export "$L"
has "empty range in a list: path:line:col message" "$T/err" \
    "problem.yaml:5:11: bad range 'cifar10/cifar-10-batches-bin/test_batch.bin:0:25,,cifar10/cifar-10-batches-bin/test_batch.bin' in 'data.search': an empty range in the list"

check "export --format c" 0 "$BIN" export "$R" --index 1 --format c -o "$T/map.h"
has "c: include guard from the file name" "$T/map.h" "#ifndef APPROXMAP_MAP_H"
has "c: a cout x cin table" "$T/map.h" "static const uint8_t amap_l1[16][16] = {"
has "c: ROUP parameters" "$T/map.h" '{"roup_k1_m2", "roup", 1, 2, 0.68000000000000005},'
CC=${CC:-cc}
if command -v "$CC" >/dev/null 2>&1; then
    cat >"$T/use.c" <<'C'
#include <stdio.h>
#include "map.h"
#include "map.h"
int main(void)
{
    const approxmap_layer *L = &amap_layers[1];
    /* row 1: genes 0 (roup_k2_m6, library index 20) for layers 0..4, 1 (roup_k1_m2, index 9) after */
    printf("%d %s %d %d %u %u %s\n", AMAP_N_LAYERS, L->name, L->cout, L->cin, L->mult[0],
           amap_layers[9].mult[0], amap_multipliers[amap_layers[9].mult[0]].name);
    return 0;
}
C
    if "$CC" -std=c99 -Wall -Wextra -Werror -I"$T" -o "$T/use" "$T/use.c" 2>"$T/err"; then
        pass "c header compiles (twice included, -Wall -Wextra -Werror)"
        [ "$("$T/use")" = "10 /conv2d_1/Conv 16 16 20 9 roup_k1_m2" ] && pass "c header tables" \
            || bad "c header tables: $("$T/use")"
    else
        bad "c header does not compile"; sed 's/^/    /' "$T/err" | head
    fi
fi
check "c --all: prefixed maps" 0 "$BIN" export "$R" --no-holdout --all --format c --prefix hw
has "c --all: row 4 symbols" "$T/out" "static const approxmap_layer hw_r4_layers[10]"
check "unwritable output fails" 1 "$BIN" export "$R" --no-holdout -o "$T/nodir/x.yaml"
[ ! -e "$T/nodir" ] && pass "unwritable output leaves nothing" || bad "unwritable output left files"

# --- malformed fronts ---
mkdir "$T/bad"
cp "$R/problem.yaml" "$T/bad/"
echo "id,f1,f2,violation,x1,x2,x3" >"$T/bad/front.csv"
check "front with the wrong gene count" 1 "$BIN" export "$T/bad"
has "wrong gene count: message" "$T/err" "front.csv:1:1: 3 gene columns, but this run's problem has 10 genes"
head -1 "$R/front.csv" >"$T/bad/front.csv"
echo "7,0.5,x,0,1,1,1,1,1,1,1,1,1,1" >>"$T/bad/front.csv"
check "front with a malformed number" 1 "$BIN" export "$T/bad"
has "malformed number: message" "$T/err" "front.csv:2:7: malformed number 'x'"
head -1 "$R/front.csv" >"$T/bad/front.csv"
echo "7,0.5,1,0,1,1,1,1,1,1,1,1,1,3" >>"$T/bad/front.csv"
check "front with a gene out of range" 1 "$BIN" export "$T/bad"
has "gene out of range: message" "$T/err" "front.csv:2: gene x10 = 3 is not a multiplier index 0..2"
head -1 "$R/front.csv" >"$T/bad/front.csv"
check "empty front" 1 "$BIN" export "$T/bad"
has "empty front: message" "$T/err" "the front is empty"

# --- report ---
check "report" 0 "$BIN" report "$R"
has "report.md: exact baseline" "$R/report.md" "## Exact int8 baseline"
has "report.md: 5 maps measured" "$R/report.md" "Holdout: 5 maps measured now, 0 reused"
has "report.md: knee row" "$R/report.md" "| 2 (knee) | 13 | 0.4500 | 1.00 |"
has "report.md: budget table" "$R/report.md" "| 4 pp |"
has "report.md: hypervolume table" "$R/report.md" "| 3 | 21 | 3 | 0.875000 | 0.3000 | 4.5 |"
has "report.md: knee layer use" "$R/report.md" "| \`/conv2d/Conv\` | 3.54 % | 0.6800 | roup_k1_m2 100.0 % |"
[ "$(grep -c '^[0-9a-f]\{16\},' "$R/holdout.csv")" -eq 5 ] && pass "holdout.csv: 5 rows" || bad "holdout.csv rows"
for f in front.dat hv.dat knee_layers.dat front.gp hv.gp knee_layers.gp; do
    [ -s "$R/$f" ] || bad "report wrote no $f"
done
if command -v gnuplot >/dev/null 2>&1; then
    ok=1
    for p in front hv knee_layers; do
        [ "$(od -An -tx1 -N4 "$R/$p.png" 2>/dev/null | tr -d ' ')" = "89504e47" ] || ok=0
        grep -q '<svg' "$R/$p.svg" 2>/dev/null || ok=0
    done
    [ "$ok" -eq 1 ] && pass "gnuplot: PNG and SVG of the 3 plots" || bad "gnuplot plots missing"
    has "report.md links the plots" "$R/report.md" "![front](front.png)"
fi
check "report again" 0 "$BIN" report "$R"
has "second report reuses the holdout cache" "$R/report.md" "Holdout: 0 maps measured now, 5 reused"
# a changed front: row 0 gone, a new map added: only the new one is measured
{ head -1 "$R/front.csv"; sed -n '3,6p' "$R/front.csv"; echo "16,0.6,0.8,0,1,1,1,1,1,2,2,2,2,2"; } >"$T/f" && mv "$T/f" "$R/front.csv"
check "report after the front changed" 0 "$BIN" report "$R"
has "changed front: one new map measured" "$R/report.md" "Holdout: 1 maps measured now, 4 reused"
[ "$(grep -c '^[0-9a-f]\{16\},' "$R/holdout.csv")" -eq 5 ] && pass "holdout.csv follows the front" || bad "holdout.csv rows after the change"
# a cache written for another int8 model (other exact hits on the search subset) is not used
sed -i '1s/search_exact=\([0-9]*\)/search_exact=9\1/' "$R/holdout.csv"
check "report with a stale holdout cache" 0 "$BIN" report "$R"
has "stale cache: every map measured again" "$R/report.md" "Holdout: 5 maps measured now, 0 reused"
# the cache ends with the CRC-32 of its other lines: a changed figure is not believed but measured again;
# with the checksum made to match, the tag still decides (another search_exact: measured again)
tail -n 1 "$R/holdout.csv" | grep -q '^# crc32 [0-9a-f]\{8\}$' && pass "holdout.csv ends with its checksum" \
    || bad "holdout.csv has no checksum line"
crc_fix() { # rewrite holdout.csv's checksum line for its other lines (gzip's trailer holds their CRC-32)
    head -n -1 "$1" >"$T/body"
    { cat "$T/body"; printf '# crc32 %08x\n' "0x$(gzip -c <"$T/body" | tail -c 8 | head -c 4 | od -An -tx4 | tr -d ' ')"; } >"$1"
}
cp "$R/holdout.csv" "$T/cache"
crc_fix "$R/holdout.csv"
cmp -s "$T/cache" "$R/holdout.csv" && pass "the test's CRC-32 equals the cache's" || bad "the test computes another CRC-32"
sed -i '3s/^\([^,]*,[^,]*,[^,]*,[^,]*,[^,]*,\)[^,]*/\1-50/' "$R/holdout.csv"
check "report with a changed holdout figure" 0 "$BIN" report "$R"
has "changed figure: every map measured again" "$R/report.md" "Holdout: 5 maps measured now, 0 reused"
has "changed figure: said on stderr" "$T/err" "holdout.csv: no valid checksum"
cmp -s "$T/cache" "$R/holdout.csv" && pass "the cache is rewritten as it was" || bad "the cache differs after re-measuring"
sed -i '1s/search_exact=\([0-9]*\)/search_exact=9\1/' "$R/holdout.csv"
crc_fix "$R/holdout.csv"
check "report with a checksummed stale cache" 0 "$BIN" report "$R"
has "checksummed stale cache: every map measured again" "$R/report.md" "Holdout: 5 maps measured now, 0 reused"
rm -f "$R"/*.png "$R"/*.svg
check "report without gnuplot" 0 env APPROXMAP_GNUPLOT="$T/no-gnuplot" "$BIN" report "$R" --no-holdout
has "no gnuplot: how to plot" "$R/report.md" "gnuplot front.gp hv.gp knee_layers.gp"
has "no gnuplot: said on stderr" "$T/err" "gnuplot not found"
[ ! -e "$R/front.png" ] && pass "no gnuplot: no PNG" || bad "no gnuplot: a PNG appeared"

# --- a filter-level run: non-uniform layers, the filter heatmap, eval --map on a non-uniform map ---
F=$T/frun
mkdir "$F"
sed 's/granularity: layer/granularity: filter/' "$R/problem.yaml" >"$F/problem.yaml"
awk 'BEGIN { n = 346; printf "id,f1,f2,violation"; for (i = 1; i <= n; i++) printf ",x%d", i; print "";
      for (r = 0; r < 2; r++) { printf "%d,%g,%g,0", r, 0.5 + r / 2, 2 - 2 * r;
          for (i = 1; i <= n; i++) printf ",%d", (i * 7 + r) % 3; print "" } }' >"$F/front.csv"
check "report of a filter-level run" 0 "$BIN" report "$F" --no-holdout
[ "$(grep -c '^[0-9]' "$F/knee_filters.dat")" -eq 346 ] && pass "knee_filters.dat: one line per filter (346)" \
    || bad "knee_filters.dat lines"
# filter 1 of layer 0: gene (2 * 7 + 0) % 3 = 2 = roup_k0_m0, energy 1
grep -q '^0 1 1.000000$' "$F/knee_filters.dat" && pass "knee_filters.dat: filter (0, 1) exact" || bad "knee_filters.dat (0, 1)"
if command -v gnuplot >/dev/null 2>&1; then
    [ "$(od -An -tx1 -N4 "$F/knee_filters.png" 2>/dev/null | tr -d ' ')" = "89504e47" ] && grep -q '<svg' "$F/knee_filters.svg" \
        && pass "filter heatmap: PNG and SVG" || bad "filter heatmap missing"
fi
check "export of a filter map" 0 "$BIN" export "$F" --index 0 --no-holdout -o "$T/f.yaml"
has "filter map: per-filter overrides" "$T/f.yaml" "    filters:"
if "$BIN" eval --help 2>/dev/null | grep -q -- '--map'; then
    cmd=$(grep -A1 '^# reproduce with:' "$T/f.yaml" | tail -1 | sed 's/^#  *//')
    want=$(grep "^# search subset " "$T/f.yaml" | sed 's/.*this map \([0-9.]* % ([0-9]*\/[0-9]*)\).*/\1/')
    # shellcheck disable=SC2086
    set -- $cmd
    shift
    "$BIN" "$@" --no-float --threads 2 >"$T/out" 2>"$T/err" || true
    has "eval --map reproduces the filter map's accuracy ($want)" "$T/out" "int8 accuracy (approximate): $want"
fi

# --- a per-layer energy model (problem key energy:): the export's energy and eval hint follow it ---
if [ -r "${TOP_SRCDIR:-.}/results/gate/layers_sky130.yaml" ]; then
    E=$T/erun
    mkdir "$E"
    sed -e 's/^library: roup8$/library: roup8_sky130/' -e 's|^granularity: layer$|granularity: layer\nenergy: results/gate/layers_sky130.yaml|' \
        "$R/problem.yaml" >"$E/problem.yaml"
    cp "$R/front.csv" "$E/"
    check "export with a per-layer energy model" 0 "$BIN" export "$E" --index 1 --no-holdout -o "$T/e.yaml"
    has "energy model named in the figures" "$T/e.yaml" "energy per multiplication of per-layer model '"
    has "energy model in the eval hint" "$T/e.yaml" "--energy "
    if "$BIN" eval --help 2>/dev/null | grep -q -- '--energy'; then
        cmd=$(grep -A1 '^# reproduce with:' "$T/e.yaml" | tail -1 | sed 's/^#  *//')
        want=$(sed -n 's/^# energy: \([0-9.]*\) .*/\1/p' "$T/e.yaml" | awk '{ printf "%.4f", $1 }')
        # shellcheck disable=SC2086
        set -- $cmd
        shift
        "$BIN" "$@" --no-float --threads 2 >"$T/out" 2>"$T/err" || true
        has "eval --energy reproduces the exported energy ($want)" "$T/out" "relative energy: $want ("
    fi
fi

[ "$fail" -eq 0 ] || exit 1
exit 0
