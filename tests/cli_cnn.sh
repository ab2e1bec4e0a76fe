#!/bin/sh
# End-to-end CNN search on a tiny problem (tests/data/cnn_tiny.yaml): resume after a stop or a SIGKILL
# is byte-identical to an uninterrupted run, results do not depend on the thread count, no map is
# evaluated twice (also across resumes), compensated searches (compensate: bias) are deterministic and
# export maps with bias deltas that eval reproduces, weight-tuned ones (bias+weights, and sequentially
# corrected: bias+weights+seq) likewise with their weights, block operators are deterministic and resumable,
# ranked-encoding searches (encoding: ranked) too, and malformed CNN problem files fail cleanly.
# Skips (77) when the reference model or CIFAR-10 is absent from the data directory.
set -u
: "${BIN:?}" "${TOP_SRCDIR:?}"
data=${APPROXMAP_DATA:-$TOP_SRCDIR/data}
if [ ! -r "$data/models/resnet8_mlperf_float.onnx" ] || [ ! -r "$data/cifar10/cifar-10-batches-bin/test_batch.bin" ]; then
    echo "SKIP: reference model or CIFAR-10 absent under '$data'"; exit 77
fi
export APPROXMAP_DATA="$data"
P=$TOP_SRCDIR/tests/data/cnn_tiny.yaml
. "$TOP_SRCDIR/tests/cli_lib.sh" # T, fail, pass, bad, ckpt_same
cli_init cnn
same() { # same DESC RUN_A RUN_B: front.csv and archive byte for byte, the same checkpoint (ckpt_same)
    if cmp -s "$2/front.csv" "$3/front.csv" && cmp -s "$2/archive" "$3/archive" && ckpt_same "$2" "$3"; then pass "$1"
    else bad "$1"; diff "$2/front.csv" "$3/front.csv" | head -5; cmp "$2/archive" "$3/archive"; cmp "$2/checkpoint" "$3/checkpoint"; fi
}

"$BIN" search "$P" -o "$T/full" --quiet || bad "uninterrupted search"
[ -s "$T/full/front.csv" ] && pass "search writes front.csv" || bad "search writes front.csv"
gens=$(tail -n 1 "$T/full/generations.csv" | cut -d, -f1)
[ "$gens" = 6 ] && pass "six generations logged" || bad "six generations logged (got '$gens')"

"$BIN" search "$P" -o "$T/half" --generations 3 --quiet && "$BIN" resume "$T/half" --generations 6 --quiet \
    || bad "stop at 3 and resume"
same "resume after 3 of 6 generations is byte-identical" "$T/full" "$T/half"

"$BIN" search "$P" -o "$T/t2" --threads 2 --quiet || bad "search with 2 threads"
same "2 threads give the same front and archive as 1" "$T/full" "$T/t2"

# SIGKILL at an arbitrary moment (after the first checkpoint exists), then resume
"$BIN" search "$P" -o "$T/kill" --quiet & pid=$!
# wait (without a time cap: a loaded machine can be slow) until generation 1 is checkpointed, then kill
# a fraction of a generation later
while kill -0 $pid 2>/dev/null && [ "$( (wc -l <"$T/kill/generations.csv") 2>/dev/null || echo 0)" -lt 2 ]; do sleep 0.02; done
sleep 0.$(( $$ % 5 + 1 ))
kill -9 $pid 2>/dev/null; wait $pid 2>/dev/null
killed_at=$(tail -n 1 "$T/kill/generations.csv" | cut -d, -f1)
if [ "${killed_at:-0}" -lt 6 ]; then pass "killed after generation $killed_at of 6"
else echo "NOTE: this machine finished the run before the kill; the resume check below then only re-reads it"; fi
"$BIN" resume "$T/kill" --quiet || bad "resume after SIGKILL"
same "SIGKILL then resume is byte-identical" "$T/full" "$T/kill"

# no genome twice in the archive (the archive is the cache, also across resumes)
hdr=32; keyb=$(od -An -tu8 -j16 -N8 "$T/half/archive" | tr -d ' ')
rec=$((8 + 4 + 4 + 8 * 2 + 8 + keyb))
n=$(( ($(wc -c <"$T/half/archive") - hdr) / rec ))
dups=$(od -An -tx1 -v -w$rec -j$hdr "$T/half/archive" | cut -c2-24 | sort | uniq -d | wc -l)
evals=$(tail -n 1 "$T/half/generations.csv" | cut -d, -f2)
[ "$n" = "$evals" ] && [ "$dups" = 0 ] && pass "resumed run evaluated $n distinct maps, none twice" \
    || bad "archive holds $n records for $evals evaluations with $dups repeated genomes"

# a checkpoint whose CRC-32 holds but whose integer gene is 999 (individual 7, gene 3): refused with
# the file and the field, before anything is evaluated or written (the CRC is gzip's trailer's)
cp -r "$T/full" "$T/g999"
L=$(od -An -tu8 -j28 -N8 "$T/g999/checkpoint" | tr -d ' ')
off=$((248 + 6 * (8 * (L + 4) + 4) + 2 * 8))
printf '\000\000\000\000\000\070\217\100' | dd of="$T/g999/checkpoint" bs=1 seek=$off conv=notrunc 2>/dev/null
sz=$(wc -c <"$T/g999/checkpoint")
crc=$(head -c $((sz - 4)) "$T/g999/checkpoint" | gzip -c | tail -c 8 | head -c 4 | od -An -to1 | tr -s ' ' '\\' | sed 's/\\$//')
printf "$crc" | dd of="$T/g999/checkpoint" bs=1 seek=$((sz - 4)) conv=notrunc 2>/dev/null
"$BIN" resume "$T/g999" --generations 7 --quiet >"$T/out" 2>&1; st=$?
if [ "$st" = 1 ] && grep -qF "$T/g999/checkpoint: gene 3 of individual 7 is 999, outside 0..6" "$T/out" \
    && cmp -s "$T/full/archive" "$T/g999/archive" && cmp -s "$T/full/front.csv" "$T/g999/front.csv"; then
    pass "a checksummed checkpoint with gene 999 is refused, nothing written"
else bad "checkpoint with gene 999 (exit $st)"; cat "$T/out"; fi

# a per-layer energy model from gate-level characterization replaces the library's figures
if [ -r "$TOP_SRCDIR/results/gate/layers_sky130.yaml" ]; then
    sed -e 's/^library: roup8$/library: roup8_sky130/' -e 's|^granularity: layer$|granularity: layer\nenergy: results/gate/layers_sky130.yaml|' "$P" >"$T/pe.yaml"
    "$BIN" search "$T/pe.yaml" -o "$T/energy" --generations 1 --quiet || bad "search with a per-layer energy model"
    # generation 1 holds every uniform map; roup_k1_m3 everywhere costs 0.333 of exact with sky130's
    # per-layer streams (0.523 with uniform operands): its row must carry the per-layer figure
    keyb=$(od -An -tu8 -j16 -N8 "$T/energy/archive" | tr -d ' '); rec=$((8 + 4 + 4 + 8 * 2 + 8 + keyb))
    nrec=$(( ($(wc -c <"$T/energy/archive") - 32) / rec )); f1=; i=0
    while [ $i -lt $nrec ]; do
        v=$(od -An -tf8 -j$((32 + i * rec + 16)) -N8 "$T/energy/archive" | tr -d ' ')
        case $v in 0.332*) f1=$v ;; esac
        i=$((i + 1))
    done
    [ -n "$f1" ] && pass "energy model: uniform roup_k1_m3 scored $f1 (per-layer sky130)" || bad "energy model figures not used"
fi

# error compensation in the search: the same front at 1 and 2 threads, maps that carry bias_delta,
# an export that `approxmap eval --map` reproduces exactly, and the deltas in the C header
sed 's/^granularity: layer$/granularity: filter\ncompensate: bias/' "$P" >"$T/pc.yaml"
"$BIN" search "$T/pc.yaml" -o "$T/comp" --generations 3 --quiet || bad "compensated search"
"$BIN" search "$T/pc.yaml" -o "$T/comp2" --generations 3 --threads 2 --quiet || bad "compensated search, 2 threads"
same "compensated search: 2 threads give the same front and archive as 1" "$T/comp" "$T/comp2"
sed 's/^granularity: layer$/granularity: filter/' "$P" >"$T/pf.yaml"
"$BIN" search "$T/pf.yaml" -o "$T/nocomp" --generations 3 --quiet || bad "uncompensated filter search"
cmp -s "$T/comp/front.csv" "$T/nocomp/front.csv" && bad "compensation changed nothing" \
    || pass "compensation changes the front of the same search"
"$BIN" export "$T/comp" --knee -o "$T/comp/knee.yaml" 2>"$T/comp/export.err" || bad "export of the compensated knee"
grep -q 'recomputed' "$T/comp/export.err" && bad "export recomputed other figures than the search's" \
    || pass "export agrees with the compensated search's figures"
grep -q '^    bias_delta: \[' "$T/comp/knee.yaml" && pass "exported map carries bias_delta" || bad "exported map has no bias_delta"
grep -q '^# error compensation: bias' "$T/comp/knee.yaml" && pass "export names the compensation" \
    || bad "export does not name the compensation"
"$BIN" report "$T/comp" --no-holdout >/dev/null 2>&1 && grep -q '^| error compensation | bias: ' "$T/comp/report.md" \
    && pass "report names the compensation" || bad "report does not name the compensation"
# reproduces RUN WHAT: the exported knee's reproduce lines (search subset, holdout), run, print the accuracy
# its header states, applying "the map's WHAT"
reproduces() {
    run=$1 what=$2
    for first in 0 64; do
        cmd=$(grep -A2 '^# reproduce with:' "$run/knee.yaml" | grep -F -- "--first $first " | sed 's/^#  *//')
        part=$([ $first = 0 ] && echo "search subset" || echo holdout)
        want=$(grep "^# $part " "$run/knee.yaml" | sed 's/.*this map \([0-9.]* % ([0-9]*\/[0-9]*)\).*/\1/')
        # shellcheck disable=SC2086
        set -- $cmd
        shift
        "$BIN" "$@" --no-float >"$T/eval.out" 2>&1
        if grep -qF "int8 accuracy (approximate, the map's $what): $want" "$T/eval.out"; then
            pass "eval --map with $what reproduces the $part accuracy ($want)"
        else bad "eval --map with $what: $part"; sed 's/^/    /' "$T/eval.out" | head; fi
    done
}
reproduces "$T/comp" "bias_delta"
"$BIN" eval --map "$T/comp/knee.yaml" --compensate bias --count 10 --no-float >/dev/null 2>"$T/comp/e2" \
    && bad "--compensate on a map with bias_delta is accepted" \
    || { grep -q 'carries its own bias_delta' "$T/comp/e2" && pass "--compensate on a map with bias_delta is refused" \
         || bad "--compensate on a map with bias_delta: message"; }
"$BIN" export "$T/comp" --knee --no-holdout --format c -o "$T/comp/map.h" && grep -q 'static const int32_t amap_b0\[16\]' "$T/comp/map.h" \
    && pass "C export carries the bias deltas" || bad "C export carries the bias deltas"
sed 's/^compensate: bias$/compensate: mean/' "$T/pc.yaml" >"$T/p7.yaml"

# weight tuning (compensate: bias+weights): deterministic at 1 and 2 threads and across a resume, another
# front than bias alone, and its exported maps carry the tuned weights, which eval --map runs to the
# search's own figures (YAML) and the C header carries
sed 's/^granularity: layer$/granularity: kernel\ncompensate: bias+weights/' "$P" >"$T/pw.yaml"
"$BIN" search "$T/pw.yaml" -o "$T/wt" --generations 4 --quiet || bad "weight-tuned search"
"$BIN" search "$T/pw.yaml" -o "$T/wt2" --generations 2 --threads 2 --quiet && "$BIN" resume "$T/wt2" --generations 4 --quiet \
    || bad "weight-tuned search at 2 threads, stopped and resumed"
same "bias+weights: 2 threads, stopped after 2 of 4 generations and resumed, give the same front and archive" "$T/wt" "$T/wt2"
sed 's/^compensate: bias+weights$/compensate: bias/' "$T/pw.yaml" >"$T/pwb.yaml"
"$BIN" search "$T/pwb.yaml" -o "$T/wtb" --generations 4 --quiet || bad "kernel search, bias only"
cmp -s "$T/wt/front.csv" "$T/wtb/front.csv" && bad "weight tuning changed nothing" || pass "weight tuning changes the front"
"$BIN" export "$T/wt" --knee -o "$T/wt/knee.yaml" 2>"$T/wt/export.err" && ! grep -q 'recomputed' "$T/wt/export.err" \
    && grep -q '^    weights: "[0-9a-f]*"$' "$T/wt/knee.yaml" && grep -q '^# error compensation: bias+weights' "$T/wt/knee.yaml" \
    && pass "export of a weight-tuned map: its figures, with weights" || { bad "export of a weight-tuned map"; cat "$T/wt/export.err"; }
reproduces "$T/wt" "bias_delta and weights"
# the same map without its weights is another map (they are what eval runs)
sed '/^    weights: /d' "$T/wt/knee.yaml" >"$T/wt/now.yaml"
"$BIN" eval --map "$T/wt/now.yaml" --first 0 --count 64 --format json --no-float >"$T/wt/now.json" 2>/dev/null \
    && "$BIN" eval --map "$T/wt/knee.yaml" --first 0 --count 64 --format json --no-float >"$T/wt/w.json" 2>/dev/null \
    && ! cmp -s "$T/wt/now.json" "$T/wt/w.json" && pass "a map's weights change what eval runs" || bad "eval ignores a map's weights"
"$BIN" export "$T/wt" --knee --no-holdout --format c -o "$T/wt/map.h" && grep -q 'static const int8_t amap_w[0-9]*\[[0-9]*\] = {' "$T/wt/map.h" \
    && pass "C export carries the tuned weights" || bad "C export carries the tuned weights"
awk '/^    weights: "/ && !d { sub(/"[0-9a-f][0-9a-f]/, "\"zz"); d = 1 } { print }' "$T/wt/knee.yaml" >"$T/wt/bad.yaml"
"$BIN" eval --map "$T/wt/bad.yaml" --count 10 --no-float >/dev/null 2>"$T/wt/bad.err" \
    && bad "a map with a malformed weights string is accepted" \
    || { grep -q "bad.yaml:[0-9]*:[0-9]*: .*'weights' has 'z'" "$T/wt/bad.err" && pass "malformed weights: path:line:col error" \
         || { bad "malformed weights: message"; cat "$T/wt/bad.err"; }; }
# what tuning is for: uniform roup_k2_m0 (weights rounded to multiples of 16) loses far less with it
lw=$("$BIN" eval --uniform roup_k2_m0 --compensate bias+weights --count 500 --format json --no-float 2>/dev/null | sed 's/.*"loss_pp": \([-0-9.]*\).*/\1/')
lb=$("$BIN" eval --uniform roup_k2_m0 --compensate bias --count 500 --format json --no-float 2>/dev/null | sed 's/.*"loss_pp": \([-0-9.]*\).*/\1/')
awk -v w="$lw" -v b="$lb" 'BEGIN { exit !(w != "" && b != "" && w + 2 < b) }' \
    && pass "uniform roup_k2_m0, 500 test images: $lw pp with weight tuning, $lb pp with bias alone" \
    || bad "weight tuning does not help uniform roup_k2_m0 ($lw vs $lb pp)"

# sequential correction (compensate: bias+weights+seq): deterministic at 1 and 2 threads and across a
# resume, another front than bias+weights, named by export, and eval --map reproduces its figures
sed 's/^compensate: bias+weights$/compensate: bias+weights+seq/' "$T/pw.yaml" >"$T/ps.yaml"
"$BIN" search "$T/ps.yaml" -o "$T/sq" --generations 4 --quiet || bad "sequentially corrected search"
"$BIN" search "$T/ps.yaml" -o "$T/sq2" --generations 2 --threads 2 --quiet && "$BIN" resume "$T/sq2" --generations 4 --quiet \
    || bad "sequentially corrected search at 2 threads, stopped and resumed"
same "bias+weights+seq: 2 threads, stopped after 2 of 4 generations and resumed, give the same front and archive" "$T/sq" "$T/sq2"
cmp -s "$T/wt/front.csv" "$T/sq/front.csv" && bad "sequential correction changed nothing" \
    || pass "sequential correction changes the front"
"$BIN" export "$T/sq" --knee -o "$T/sq/knee.yaml" 2>"$T/sq/export.err" && ! grep -q 'recomputed' "$T/sq/export.err" \
    && grep -q '^# error compensation: bias+weights.*; +seq: ' "$T/sq/knee.yaml" \
    && pass "export of a sequentially corrected map: its figures, named" || { bad "export of a sequentially corrected map"; cat "$T/sq/export.err"; }
reproduces "$T/sq" "bias_delta and weights"
# what it is for: perforation's activation-dependent error shifts the next layers' inputs; uniform
# roup_k0_m4 loses far less when those shifts are cancelled
ls=$("$BIN" eval --uniform roup_k0_m4 --compensate bias+weights+seq --count 500 --format json --no-float 2>/dev/null | sed 's/.*"loss_pp": \([-0-9.]*\).*/\1/')
lt=$("$BIN" eval --uniform roup_k0_m4 --compensate bias+weights --count 500 --format json --no-float 2>/dev/null | sed 's/.*"loss_pp": \([-0-9.]*\).*/\1/')
awk -v s="$ls" -v t="$lt" 'BEGIN { exit !(s != "" && t != "" && s + 5 < t) }' \
    && pass "uniform roup_k0_m4, 500 test images: $ls pp with sequential correction, $lt pp without" \
    || bad "sequential correction does not help uniform roup_k0_m4 ($ls vs $lt pp)"

# ranked encoding (sens.h): 3 genes per layer, each the multiplier of a third of the layer's kernels in
# order of estimated sensitivity; the same front and archive at 1 and 2 threads and across a resume
sed 's/^granularity: layer$/granularity: kernel\nencoding: ranked\nshares: 3\ncompensate: bias/' "$P" >"$T/pr.yaml"
"$BIN" search "$T/pr.yaml" -o "$T/rk" --generations 4 --quiet || bad "ranked search"
head -n 1 "$T/rk/front.csv" | grep -q ',x30$' && pass "ranked genome: 3 genes for each of 10 layers" \
    || bad "ranked genome length: $(head -n 1 "$T/rk/front.csv")"
"$BIN" search "$T/pr.yaml" -o "$T/rk2" --generations 2 --threads 2 --quiet && "$BIN" resume "$T/rk2" --generations 4 --quiet \
    || bad "ranked search at 2 threads, stopped and resumed"
same "ranked: 2 threads, stopped after 2 of 4 generations and resumed, give the same front and archive" "$T/rk" "$T/rk2"
"$BIN" export "$T/rk" --knee --no-holdout -o "$T/rk/knee.yaml" 2>"$T/rk/export.err" && ! grep -q 'recomputed' "$T/rk/export.err" \
    && pass "export agrees with the ranked search's figures" || bad "export of the ranked knee"
# uncompensated ranked filter search seeded from a layer run (each share starts at the layer's gene)
sed -e 's/^granularity: layer$/granularity: filter\nencoding: ranked\nshares: 2/' -e "s|^max_loss_pp: 4$|max_loss_pp: 4\nseed_from: $T/full|" "$P" >"$T/pr2.yaml"
"$BIN" search "$T/pr2.yaml" -o "$T/rk3" --generations 1 --quiet && head -n 1 "$T/rk3/front.csv" | grep -q ',x20$' \
    && pass "ranked filter search seeded from a layer run" || bad "ranked filter search seeded from a layer run"
# block operators on a ranked genome: one block per layer = its shares
cp "$T/pr.yaml" "$T/prb.yaml"
printf '  crossover: {operator: block, block_run: 0.5}\n  mutation: {block_rate: 0.3}\n' >>"$T/prb.yaml"
"$BIN" search "$T/prb.yaml" -o "$T/rkb" --generations 2 --quiet && [ -s "$T/rkb/front.csv" ] \
    && pass "ranked search with block operators" || bad "ranked search with block operators"
sed 's/^granularity: filter$/granularity: layer/' "$T/pr2.yaml" >"$T/p8.yaml"
sed 's/^encoding: ranked$/encoding: sorted/' "$T/pr2.yaml" >"$T/p9.yaml"

"$BIN" search "$P" -o "$T/new/parent/run" --generations 1 --quiet && [ -s "$T/new/parent/run/front.csv" ] \
    && pass "search creates missing parent directories" || bad "search creates missing parent directories"

# malformed CNN problems fail cleanly with positions
check_err() { # DESC PATTERN FILE
    out=$("$BIN" search "$3" -o "$T/err" --force --quiet 2>&1); rc=$?
    if [ $rc -ne 0 ] && printf '%s' "$out" | grep -q -- "$2"; then pass "$1"; else bad "$1 (exit $rc: $out)"; fi
}
sed 's/roup_k0_m4,/roup_k9_m4,/' "$P" >"$T/p1.yaml"
check_err "unknown multiplier is named with its position" "p1.yaml:9:39: multiplier 'roup_k9_m4' is not in library" "$T/p1.yaml"
sed 's/granularity: layer/granularity: neuron/' "$P" >"$T/p2.yaml"
check_err "unknown granularity" "p2.yaml:10:14: unknown granularity 'neuron'" "$T/p2.yaml"
sed 's|models/resnet8_mlperf_float.onnx|models/missing.onnx|' "$P" >"$T/p3.yaml"
check_err "missing model" "missing.onnx" "$T/p3.yaml"
sed '/^model:/d' "$P" >"$T/p4.yaml"
check_err "missing key" "missing key 'model'" "$T/p4.yaml"
sed 's/max_loss_pp: 4/max_loss_pp: -1/' "$P" >"$T/p5.yaml"
check_err "out-of-range constraint" "p5.yaml:11:14:" "$T/p5.yaml"
sed 's|search: cifar10|search: cifar10/nope|' "$P" >"$T/p6.yaml"
check_err "missing data file" "nope" "$T/p6.yaml"
check_err "unknown compensation" "p7.yaml:11:13: unknown compensation 'mean'" "$T/p7.yaml"
check_err "ranked encoding needs filters or kernels" "p8.yaml:.*encoding 'ranked' needs granularity filter or kernel" "$T/p8.yaml"
check_err "unknown encoding" "p9.yaml:11:11: unknown encoding 'sorted'" "$T/p9.yaml"
# block operators (ga: crossover operator: block, block_run; mutation block_rate) on the filter-level
# problem: used (another front than uniform crossover and 1/L mutation), written into the checkpoint
# (24 bytes after the population), and as deterministic: resume and 2 threads are byte-identical
cp "$T/pf.yaml" "$T/pb.yaml"
printf '  crossover: {operator: block, block_run: 0.5}\n  mutation: {block_rate: 0.3}\n' >>"$T/pb.yaml"
"$BIN" search "$T/pb.yaml" -o "$T/blk" --quiet || bad "search with block operators"
"$BIN" search "$T/pb.yaml" -o "$T/blkh" --generations 3 --quiet || bad "block operators: 3 generations"
cmp -s "$T/blkh/front.csv" "$T/nocomp/front.csv" && bad "block operators changed nothing" \
    || pass "block operators give another front than the default operators"
sz_b=$(wc -c <"$T/blkh/checkpoint"); sz_u=$(wc -c <"$T/nocomp/checkpoint")
[ $((sz_b - sz_u)) = 24 ] && pass "the checkpoint carries the block settings (24 bytes)" \
    || bad "checkpoint sizes $sz_b (block) vs $sz_u (default)"
"$BIN" resume "$T/blkh" --generations 6 --quiet || bad "block operators: resume"
same "block operators: resume after 3 of 6 generations is byte-identical" "$T/blk" "$T/blkh"
"$BIN" search "$T/pb.yaml" -o "$T/blk2" --threads 2 --quiet || bad "block operators: 2 threads"
same "block operators: 2 threads give the same front and archive as 1" "$T/blk" "$T/blk2"
# per-gene mutation beside the run mutation (int_rate with block_rate, as problems/study-v3): another
# front than the run mutation alone, and as deterministic
cp "$T/pf.yaml" "$T/pbi.yaml"
printf '  crossover: {operator: block, block_run: 0.5}\n  mutation: {block_rate: 0.3, int_rate: 0.05}\n' >>"$T/pbi.yaml"
"$BIN" search "$T/pbi.yaml" -o "$T/bi" --quiet || bad "search with block_rate and int_rate"
cmp -s "$T/bi/front.csv" "$T/blk/front.csv" && cmp -s "$T/bi/archive" "$T/blk/archive" && bad "int_rate beside block_rate changed nothing" \
    || pass "int_rate beside block_rate gives another run than block_rate alone"
"$BIN" search "$T/pbi.yaml" -o "$T/bih" --generations 3 --quiet && "$BIN" resume "$T/bih" --generations 6 --quiet \
    || bad "block_rate + int_rate: stop and resume"
same "block_rate + int_rate: resume after 3 of 6 generations is byte-identical" "$T/bi" "$T/bih"
"$BIN" search "$T/pbi.yaml" -o "$T/bi2" --threads 2 --quiet || bad "block_rate + int_rate: 2 threads"
same "block_rate + int_rate: 2 threads give the same front and archive as 1" "$T/bi" "$T/bi2"
# exact early rejection (early_reject: true, chunks of 8 so that maps stop part-way): as deterministic,
# resume and 2 threads byte-identical, and the run says what it skipped
sed -e 's/^chunk: 32/chunk: 8/' -e 's/^max_loss_pp: 4/max_loss_pp: 1/' "$P" >"$T/pe.yaml"
echo "early_reject: true" >>"$T/pe.yaml"
"$BIN" search "$T/pe.yaml" -o "$T/er" 2>"$T/er.err" || bad "search with early rejection"
grep -q "early rejection: [1-9][0-9]* of [0-9]* maps" "$T/er.err" && pass "early rejection stopped some maps: $(grep -o 'early rejection: [^;]*' "$T/er.err" | tail -n 1)" \
    || { bad "early rejection reported"; cat "$T/er.err"; }
"$BIN" search "$T/pe.yaml" -o "$T/erh" --generations 3 --quiet && "$BIN" resume "$T/erh" --generations 6 --quiet \
    || bad "early rejection: stop and resume"
same "early rejection: resume after 3 of 6 generations is byte-identical" "$T/er" "$T/erh"
"$BIN" search "$T/pe.yaml" -o "$T/er2" --threads 2 --quiet || bad "early rejection: 2 threads"
same "early rejection: 2 threads give the same front and archive as 1" "$T/er" "$T/er2"
# a run directory from another problem is refused by resume
sed 's/max_loss_pp: 4/max_loss_pp: 3/' "$T/half/problem.yaml" >"$T/half/problem.yaml.new" && mv "$T/half/problem.yaml.new" "$T/half/problem.yaml"
out=$("$BIN" resume "$T/half" --generations 7 --quiet 2>&1); rc=$?
[ $rc -ne 0 ] && printf '%s' "$out" | grep -qi "problem" && pass "resume refuses a run of another problem" \
    || bad "resume refuses a run of another problem (exit $rc: $out)"
cmp -s "$T/full/front.csv" "$T/half/front.csv" && pass "refused resume left the front intact" || bad "refused resume left the front intact"
exit $fail
