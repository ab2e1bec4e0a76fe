#!/bin/sh
# approxmap greedy (problems/greedy.h) on the tiny CNN problem (tests/data/cnn_tiny.yaml at filter
# granularity with bias compensation): the path starts at the exact map, its energies strictly
# decrease, it stops at the first map past max_loss_pp + margin; the same files at 1 and 2 threads and
# after a SIGKILL and a second run; report, export (holdout included) and seed_from read the run
# directory; other encodings (layer, ranked kernel) walk too. seed_greedy: K path maps open generation 1
# of a search, before the uniform maps, deterministically (threads, resume) and in the problem hash;
# seed_from takes a list of runs. Bad input fails cleanly.
# Skips (77) when the reference model or CIFAR-10 is absent from the data directory.
set -u
: "${BIN:?}" "${TOP_SRCDIR:?}"
data=${APPROXMAP_DATA:-$TOP_SRCDIR/data}
if [ ! -r "$data/models/resnet8_mlperf_float.onnx" ] || [ ! -r "$data/cifar10/cifar-10-batches-bin/test_batch.bin" ]; then
    echo "SKIP: reference model or CIFAR-10 absent under '$data'"; exit 77
fi
export APPROXMAP_DATA="$data"
P=$TOP_SRCDIR/tests/data/cnn_tiny.yaml
T=$(mktemp -d /tmp/approxmap-greedy-XXXXXX)
trap 'rm -rf "$T"' EXIT
fail=0
pass() { echo "PASS: $1"; }
bad() { echo "FAIL: $1"; fail=1; }
same() { # same DESC RUN_A RUN_B [FILES]
    d=""
    for f in ${4:-archive front.csv greedy.csv}; do cmp -s "$2/$f" "$3/$f" || d="$d $f"; done
    if [ -z "$d" ]; then pass "$1"; else bad "$1 (differ:$d)"; fi
}
# archive records: rec N -> "generation f1 f2 genes..." (layout: problems/rundir.h)
arc_n() { keyb=$(od -An -tu8 -j16 -N8 "$1" | tr -d ' '); rec=$((8 + 4 + 4 + 8 * 2 + 8 + keyb)); echo $(( ($(wc -c <"$1") - 32) / rec )); }
arc_rec() {
    keyb=$(od -An -tu8 -j16 -N8 "$1" | tr -d ' '); rec=$((8 + 4 + 4 + 8 * 2 + 8 + keyb)); o=$((32 + $2 * rec))
    echo "$(od -An -tu4 -j$((o + 8)) -N4 "$1") $(od -An -tf8 -j$((o + 16)) -N16 "$1") $(od -An -tu1 -v -j$((o + 40)) -N"$keyb" "$1")" | tr -s ' \n' '  ' | sed 's/^ //; s/ $//'
}

sed 's/^granularity: layer$/granularity: filter\ncompensate: bias/' "$P" >"$T/pf.yaml"
"$BIN" greedy "$T/pf.yaml" -o "$T/g1" --threads 1 2>"$T/g1.err" || { bad "greedy run"; cat "$T/g1.err"; }
for f in problem.yaml archive front.csv generations.csv greedy.csv; do [ -s "$T/g1/$f" ] || bad "greedy writes $f"; done
[ ! -e "$T/g1/checkpoint" ] && pass "greedy writes a run directory (problem.yaml, archive, front.csv, generations.csv, greedy.csv)"

# the path: point 0 is the exact map (energy 1, loss 0, 0 moves, every gene at the top value 6)
first=$(sed -n 2p "$T/g1/greedy.csv")
id0=$(echo "$first" | cut -d, -f5)
genes0=$(arc_rec "$T/g1/archive" "$id0" | cut -d' ' -f4- | tr ' ' '\n' | sort -u | tr '\n' ' ')
case $first in
0,0,1,0,*,1,0,0) [ "$genes0" = "6 " ] && pass "the path starts at the exact map (archive id $id0, every gene 6)" \
                    || bad "first map's genes: $genes0" ;;
*) bad "first path row: $first" ;;
esac
npts=$(($(wc -l <"$T/g1/greedy.csv") - 1))
awk -F, 'NR > 2 && !($6 < e && $3 < ee && $2 > m) {bad = 1} NR > 1 {e = $6; ee = $3; m = $2} END {exit bad}' "$T/g1/greedy.csv" \
    && pass "energies (measured and estimated) strictly decrease along the $npts points, moves increase" \
    || bad "energies along the path do not strictly decrease"
awk -F, 'NR > 1 && $6 != 0 {r = ($3 - $6) / $6; if (r > 1e-12 || r < -1e-12) bad = 1} END {exit bad}' "$T/g1/greedy.csv" \
    && pass "the estimate's energy is the search's energy objective (relative 1e-12)" || bad "estimated energy differs from the measured one"
# stop rule: the last point's loss exceeds max_loss_pp + margin = 5 pp, no earlier point's does
awk -F, 'NR > 1 {n++; l[n] = $7} END {for (i = 1; i < n; i++) if (l[i] > 5) exit 1; exit !(l[n] > 5)}' "$T/g1/greedy.csv" \
    && pass "stopped at the first map past max_loss_pp + margin ($(tail -n 1 "$T/g1/greedy.csv" | cut -d, -f7) pp at point $((npts - 1)))" \
    || bad "stop rule"
# every evaluation archived once: 10 calibration maps (generation 1) + the path (generation 2 + point)
n=$(arc_n "$T/g1/archive"); ev=$(tail -n 1 "$T/g1/generations.csv" | cut -d, -f2)
cal=0; i=0; while [ $i -lt "$n" ]; do [ "$(arc_rec "$T/g1/archive" $i | cut -d' ' -f1)" = 1 ] && cal=$((cal + 1)); i=$((i + 1)); done
[ "$n" = "$ev" ] && [ "$cal" = 10 ] && [ "$n" = $((cal + npts)) ] \
    && pass "$n evaluations archived: $cal calibration maps + $npts path maps" || bad "archive $n records, $ev evaluations, $cal calibration"
grep -q "stopped: the search loss exceeded max_loss_pp + margin; $n evaluations" "$T/g1.err" \
    && pass "the run reports its evaluations" || bad "summary line: $(tail -n 2 "$T/g1.err")"

"$BIN" greedy "$T/pf.yaml" -o "$T/g2" --threads 2 -q || bad "greedy with 2 threads"
same "2 threads give the same archive, front and path" "$T/g1" "$T/g2"
cut -d, -f1-5 "$T/g1/generations.csv" >"$T/a.csv"; cut -d, -f1-5 "$T/g2/generations.csv" >"$T/b.csv"
cmp -s "$T/a.csv" "$T/b.csv" && pass "generations.csv equal but for the seconds" || bad "generations.csv differs"

# SIGKILL during the path, then the same command: the same files
"$BIN" greedy "$T/pf.yaml" -o "$T/kill" -q & pid=$!
while kill -0 $pid 2>/dev/null && [ "$( (wc -l <"$T/kill/greedy.csv") 2>/dev/null || echo 0)" -lt 4 ]; do sleep 0.02; done
kill -9 $pid 2>/dev/null; wait $pid 2>/dev/null
k=$(($( (wc -l <"$T/kill/greedy.csv") 2>/dev/null || echo 1) - 1))
[ "$k" -lt "$npts" ] && pass "killed after $k of $npts path points" || echo "NOTE: the run finished before the kill"
"$BIN" greedy "$T/pf.yaml" -o "$T/kill" 2>"$T/kill.err" || bad "greedy after SIGKILL"
grep -q "continuing the run in '$T/kill'" "$T/kill.err" && pass "the second run continues from the archive" || bad "continue message"
same "SIGKILL then the same command gives the same files" "$T/g1" "$T/kill"
cut -d, -f1-5 "$T/kill/generations.csv" >"$T/b.csv"
cmp -s "$T/a.csv" "$T/b.csv" && pass "and the same generations.csv but for the seconds" || bad "generations.csv after resume"

# resume is not for greedy runs; the greedy command on the run's own problem.yaml continues it
out=$("$BIN" resume "$T/kill" 2>&1); rc=$?
[ $rc = 1 ] && printf '%s' "$out" | grep -qF "holds an 'approxmap greedy' run (it has no checkpoint): run 'approxmap greedy $T/kill/problem.yaml -o $T/kill' again" \
    && pass "resume points at the greedy command" || bad "resume of a greedy run (exit $rc: $out)"
"$BIN" greedy "$T/kill/problem.yaml" -o "$T/kill" -q && same "the greedy command on the run's problem.yaml gives the same files" "$T/g1" "$T/kill"

# readers of run directories
"$BIN" report "$T/g1" >/dev/null 2>&1 && [ -s "$T/g1/report.md" ] && pass "report reads a greedy run" || bad "report of a greedy run"
"$BIN" export "$T/g1" --max-loss 2 -o "$T/g1/l2.yaml" 2>"$T/exp.err" && grep -q '^# holdout ' "$T/g1/l2.yaml" \
    && ! grep -q recomputed "$T/exp.err" && pass "export (holdout included) agrees with the greedy run's figures" \
    || { bad "export of a greedy run"; cat "$T/exp.err"; }

# other encodings: layer genes, ranked kernel shares (uncompensated: filters' means couple the shares)
sed 's/^max_loss_pp: 4$/max_loss_pp: 2/' "$P" >"$T/pl.yaml"
sed 's/^granularity: layer$/granularity: kernel\nencoding: ranked\nshares: 3/' "$P" >"$T/pr.yaml"
for e in pl pr; do
    "$BIN" greedy "$T/$e.yaml" -o "$T/$e" --step 0.05 -q || bad "greedy on $e"
    awk -F, 'NR == 2 && $6 != 1 {bad = 1} NR > 2 && !($6 < e) {bad = 1} NR > 1 {e = $6} END {exit bad || NR < 3}' "$T/$e/greedy.csv" \
        && pass "$e: $(($(wc -l <"$T/$e/greedy.csv") - 1)) points from the exact map, energies strictly decreasing" || bad "$e path"
done
"$BIN" greedy "$T/pr.yaml" -o "$T/pr2" --step 0.05 --threads 2 -q && same "ranked: 2 threads give the same files" "$T/pr" "$T/pr2"

# seed_greedy: 4 path maps first in generation 1, then the uniform maps (exact first)
cp "$T/pf.yaml" "$T/ps.yaml"; echo "seed_greedy: 4" >>"$T/ps.yaml"
"$BIN" search "$T/ps.yaml" -o "$T/s1" --generations 3 -q || bad "search with seed_greedy"
"$BIN" search "$T/pf.yaml" -o "$T/s0" --generations 1 -q || bad "search without seed_greedy"
ok=1; prev=1
for i in 0 1 2 3; do
    r=$(arc_rec "$T/s1/archive" $i); set -- $r
    u=$(echo "$r" | cut -d' ' -f4- | tr ' ' '\n' | sort -u | wc -l)
    [ "$1" = 1 ] && [ "$u" -gt 1 ] && awk -v a="$2" -v b="$prev" 'BEGIN {exit !(a < b)}' || ok=0
    prev=$2
done
r=$(arc_rec "$T/s1/archive" 4 | cut -d' ' -f4- | tr ' ' '\n' | sort -u | tr '\n' ' ')
[ "$ok" = 1 ] && [ "$r" = "6 " ] && pass "generation 1 opens with 4 greedy maps (energies decreasing, mixed multipliers), then the exact map" \
    || bad "seed_greedy maps in generation 1"
for i in 0 1 2; do [ "$(arc_rec "$T/s1/archive" $((i + 4)))" = "$(arc_rec "$T/s0/archive" $i)" ] || ok=0; done
[ "$ok" = 1 ] && pass "the uniform maps follow unchanged" || bad "uniform maps after the greedy seeds"
h0=$(od -An -tx8 -j24 -N8 "$T/s0/archive"); h1=$(od -An -tx8 -j24 -N8 "$T/s1/archive")
[ "$h0" != "$h1" ] && pass "seed_greedy is part of the problem hash" || bad "seed_greedy leaves the hash"
"$BIN" search "$T/ps.yaml" -o "$T/s2" --generations 1 --threads 2 -q && "$BIN" resume "$T/s2" --generations 3 -q \
    || bad "seed_greedy: 2 threads, stop and resume"
same "seed_greedy: 2 threads, stopped after 1 of 3 generations and resumed, give the same front and archive" "$T/s1" "$T/s2" "archive front.csv"

# seed_from: a list of runs (the layer run expanded, then the greedy run's front)
"$BIN" search "$P" -o "$T/lay" --generations 2 -q || bad "layer search"
sed 's/^max_loss_pp: 4$/max_loss_pp: 4\nseed_from: ['"$(echo "$T/lay" | sed 's|/|\\/|g')"', '"$(echo "$T/g1" | sed 's|/|\\/|g')"']/' "$T/pf.yaml" >"$T/pm.yaml"
sed 's/^ga:$/seed_greedy: 0\nga:/; s/^  population: 8$/  population: 40/' "$T/pm.yaml" >"$T/pm2.yaml"
"$BIN" search "$T/pm2.yaml" -o "$T/sm" --generations 1 -q || bad "search seeded from two runs"
nl=$(($(wc -l <"$T/lay/front.csv") - 1)); ng=$(($(wc -l <"$T/g1/front.csv") - 1))
gf=$(sed -n 2p "$T/g1/front.csv" | cut -d, -f2)
r=$(arc_rec "$T/sm/archive" "$nl" | cut -d' ' -f2)
awk -v a="$r" -v b="$gf" 'BEGIN {exit !(a == b)}' && pass "seed_from list: $nl layer-front maps, then the greedy front ($ng maps) from record $nl" \
    || bad "seed_from list: record $nl has energy $r, want $gf"

# seed_from items {run: DIR, maps: K}: K maps of DIR's front spread evenly along it (rows
# round(i (n - 1) / (K - 1)), both ends kept), the runs in the order listed; and part of the problem hash
L=$(echo "$T/lay" | sed 's|/|\\/|g'); G=$(echo "$T/g1" | sed 's|/|\\/|g')
sed 's/^seed_from: .*/seed_from: [{run: '"$L"', maps: 2}, {maps: 3, run: '"$G"'}]/' "$T/pm2.yaml" >"$T/pk.yaml"
"$BIN" search "$T/pk.yaml" -o "$T/sk" --generations 1 -q || bad "search seeded from {run, maps} items"
want=""; got=""
for r in 1 "$nl"; do want="$want $(sed -n "$((r + 1))p" "$T/lay/front.csv" | cut -d, -f2)"; done
[ "$nl" -ge 2 ] || bad "layer front too small ($nl) for the {run, maps} check"
[ "$ng" -ge 4 ] || bad "greedy front too small ($ng) for the {run, maps} check"
for r in 1 $(((ng - 1 + 1) / 2 + 1)) "$ng"; do want="$want $(sed -n "$((r + 1))p" "$T/g1/front.csv" | cut -d, -f2)"; done
for i in 0 1 2 3 4; do got="$got $(arc_rec "$T/sk/archive" $i | cut -d' ' -f2)"; done
awk -v a="$got" -v b="$want" 'BEGIN {n = split(a, x, " "); m = split(b, y, " "); if (n != 5 || m != 5) exit 1
    for (i = 1; i <= n; i++) if (x[i] + 0 != y[i] + 0) exit 1}' \
    && pass "seed_from {run, maps}: layer front rows 1 and $nl, greedy front rows 1, $(((ng - 1 + 1) / 2 + 1)) and $ng, in order" \
    || bad "seed_from {run, maps}: energies$got, want$want"
h0=$(od -An -tx8 -j24 -N8 "$T/sm/archive"); h1=$(od -An -tx8 -j24 -N8 "$T/sk/archive")
[ "$h0" != "$h1" ] && pass "seed_from maps counts are part of the problem hash" || bad "seed_from maps leave the hash"

# bad input
check_err() { # DESC PATTERN ARGS...
    d=$1; pat=$2; shift 2
    out=$("$BIN" "$@" 2>&1); rc=$?
    if [ $rc -ne 0 ] && printf '%s' "$out" | grep -q -- "$pat"; then pass "$d"; else bad "$d (exit $rc: $out)"; fi
}
sed 's/^seed_greedy: 4$/seed_greedy: 9/' "$T/ps.yaml" >"$T/e1.yaml"
check_err "seed_greedy larger than the population" "e1.yaml:.*seed_greedy 9 exceeds the population (8)" search "$T/e1.yaml" -o "$T/e" -q
sed 's/^seed_greedy: 4$/seed_greedy: -1/' "$T/ps.yaml" >"$T/e2.yaml"
check_err "negative seed_greedy" "e2.yaml:[0-9]*:14:" search "$T/e2.yaml" -o "$T/e" -q
sed 's/^max_loss_pp: 4$/max_loss_pp: 4\nseed_from: []/' "$T/pf.yaml" >"$T/e3.yaml"
check_err "empty seed_from list" "e3.yaml:[0-9]*:[0-9]*: 'seed_from' must name at least one run directory" search "$T/e3.yaml" -o "$T/e" -q
sed 's/^seed_from: .*/seed_from: [{run: '"$L"', maps: 2, count: 3}]/' "$T/pm2.yaml" >"$T/e4.yaml"
check_err "unknown key in a seed_from item" "e4.yaml:[0-9]*:[0-9]*: unknown key 'count' in a seed_from item" search "$T/e4.yaml" -o "$T/e" -q
sed 's/^seed_from: .*/seed_from: [{run: '"$L"'}]/' "$T/pm2.yaml" >"$T/e5.yaml"
check_err "seed_from item without maps" "e5.yaml:[0-9]*:[0-9]*: a seed_from item needs 'maps: COUNT'" search "$T/e5.yaml" -o "$T/e" -q
sed 's/^seed_from: .*/seed_from: [{maps: 0, run: '"$L"'}]/' "$T/pm2.yaml" >"$T/e6.yaml"
check_err "seed_from maps 0" "e6.yaml:[0-9]*:[0-9]*:" search "$T/e6.yaml" -o "$T/e" -q
check_err "greedy on a non-cnn problem" "greedy needs a cnn problem" greedy "$TOP_SRCDIR/problems/zdt/zdt1.yaml" -o "$T/e" -q
check_err "greedy into a search run" "holds a search run" greedy "$T/pf.yaml" -o "$T/s0" -q
check_err "greedy into another problem's greedy run" "holds a run of another problem" greedy "$T/pl.yaml" -o "$T/g1" -q
check_err "--step 0" "--step wants a number" greedy "$T/pf.yaml" -o "$T/e" --step 0
cmp -s "$T/g1/front.csv" "$T/g2/front.csv" && pass "refused runs left the directory intact" || bad "a refused run changed files"
"$BIN" greedy --help | grep -q "max_loss_pp + MARGIN" && pass "greedy --help" || bad "greedy --help"
exit $fail
