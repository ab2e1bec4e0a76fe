#!/bin/sh
# scripts/study.sh end to end on tiny problems (tests/data/cnn_tiny.yaml: ResNet-8, 64 search and 64
# holdout images, 16 calibration images, population 8, 3 generations): the README's table agrees with the run files (the
# selected map is the cheapest feasible front map of the granularity's runs with search loss <= B; its
# holdout loss, b / c, CI and McNemar p are those of `approxmap eval --map` on the holdout records of the
# exported map), a second invocation is a no-op with identical output, and a run removed from the
# runs directory is redone to the same front and archive. Skips (77) without the data or python3.
set -u
: "${BIN:?}" "${TOP_SRCDIR:?}"
data=${APPROXMAP_DATA:-$TOP_SRCDIR/data}
if [ ! -r "$data/models/resnet8_mlperf_float.onnx" ] || [ ! -r "$data/cifar10/cifar-10-batches-bin/test_batch.bin" ]; then
    echo "SKIP: reference model or CIFAR-10 absent under '$data'"; exit 77
fi
command -v python3 >/dev/null 2>&1 || { echo "SKIP: python3 is absent"; exit 77; }
export APPROXMAP_DATA="$data"
T=$(mktemp -d /tmp/approxmap-study-XXXXXX)
trap 'rm -rf "$T"' EXIT
fail=0
pass() { echo "PASS: $1"; }
bad() { echo "FAIL: $1"; fail=1; }

# the study's five problem files, shrunk: tiny data and population, 3 generations, 2 shares
P=$T/problems
mkdir -p "$P"
# (the search subset written as a record list of two ranges: the same 64 images, and the README's pooled
# loss must count all of them)
tiny() { sed -e 's/^  generations: 6$/  generations: 3/' -e 's/^  seed: 7$/  seed: 1/' -e 's/data_batch_1.bin:0:50$/data_batch_1.bin:0:16/' \
    -e 's|^  search: cifar10/cifar-10-batches-bin/test_batch.bin:0:64$|  search: cifar10/cifar-10-batches-bin/test_batch.bin:0:40,cifar10/cifar-10-batches-bin/test_batch.bin:40:24|' \
    "$TOP_SRCDIR/tests/data/cnn_tiny.yaml"; }
{ tiny; echo "compensate: bias"; echo "early_reject: true"; } >"$P/layer.yaml"
# filter: ranked, seeded from the layer run; kernel (as problems/study-v3): direct, seeded from a list,
# the layer run and the kernel greedy, with per-gene mutation beside the run mutation
for g in filter kernel; do
    { tiny | sed "s/^granularity: layer$/granularity: $g/"
      printf '  crossover: {operator: block, block_run: 0.5}\n'
      if [ $g = filter ]; then
          printf '  mutation: {block_rate: 0.3}\n'
          printf 'encoding: ranked\nshares: 2\ncompensate: bias\nearly_reject: true\nseed_from: runs/study/layer-s1\n'
          printf 'seed_greedy: 2\n'
      else
          printf '  mutation: {block_rate: 0.3, int_rate: 0.01}\n'
          printf 'compensate: bias\nearly_reject: true\nseed_from: [runs/study/layer-s1, runs/study/greedy-kernel]\n'
      fi; } >"$P/$g.yaml"
    { tiny | sed "s/^granularity: layer$/granularity: $g/"; echo "compensate: bias"; } >"$P/greedy-$g.yaml"
done
grep -q '^  search: .*test_batch.bin:0:40,cifar10/cifar-10-batches-bin/test_batch.bin:40:24$' "$P/layer.yaml" "$P/kernel.yaml" \
    || bad "the tiny problems do not search on a record list"
R=$T/runs O=$T/out
VAL=cifar10/cifar-10-batches-bin/test_batch.bin:128:64 # the validation records (-v): neither search nor holdout
t0=$(date +%s)
bash "$TOP_SRCDIR/scripts/study.sh" -r "$R" -o "$O" -p "$P" -b "$BIN" -j 1 -s 0.05 -v "$VAL" 2>"$T/log1" && pass "study.sh runs the tiny study" \
    || { bad "study.sh failed"; cat "$T/log1"; exit 1; }
echo "# first invocation: $(($(date +%s) - t0)) s"
for n in layer-s1 layer-s2 filter-s1 filter-s2 kernel-s1 kernel-s2; do
    [ "$(tail -n 1 "$R/$n/generations.csv" | cut -d, -f1)" = 3 ] || bad "$n: not 3 generations"
    [ "$(wc -l <"$R/$n/study-times.txt")" = 1 ] || bad "$n: one invocation timed"
done
for n in layer2x-s1 layer2x-s2; do
    [ "$(tail -n 1 "$R/$n/generations.csv" | cut -d, -f1)" = 6 ] || bad "$n: not 6 generations"
done
# layer2x-s1 (layer-s1 continued to twice its generations) is the 6-generation run of layer-s1's problem
"$BIN" search "$R/layer-s1/problem.yaml" -o "$T/l6" --seed 1 --generations 6 --threads 1 --quiet 2>/dev/null \
    && cmp -s "$T/l6/front.csv" "$R/layer2x-s1/front.csv" && cmp -s "$T/l6/archive" "$R/layer2x-s1/archive" \
    && pass "layer2x-s1 = a 6-generation layer run from scratch (front and archive)" || bad "layer2x-s1 differs from a 6-generation run"
grep -q '^| layer2x-s2 | NSGA-II seed 2, layer, direct: `layer-s2` continued | as `layer-s2` | 6 |' "$O/README.md" \
    && pass "README: layer2x-s2 in the runs table" || bad "README: layer2x-s2 row"
grep -q "^seed_from: $R/layer-s2\$" "$R/filter-s2/problem.yaml" && pass "filter-s2 is seeded from layer-s2" \
    || bad "filter-s2's seed_from: $(grep seed_from "$R/filter-s2/problem.yaml")"
grep -q '^| filter-s1 | NSGA-II seed 1, filter, ranked, 2 shares | 2 sensitivity-greedy maps + `layer-s1` front + uniform maps | 3 |' "$O/README.md" \
    && pass "README: the runs table names the seeding" || bad "README runs table"
grep -q "^seed_from: \\[$R/layer-s2, $R/greedy-kernel\\]\$" "$R/kernel-s2/problem.yaml" \
    && pass "kernel-s2 is seeded from layer-s2 and greedy-kernel" || bad "kernel-s2's seed_from: $(grep seed_from "$R/kernel-s2/problem.yaml")"
grep -q '^| kernel-s1 | NSGA-II seed 1, kernel, direct | `layer-s1` front + `greedy-kernel` front + uniform maps | 3 |' "$O/README.md" \
    && pass "README: the runs table names both seed runs" || bad "README runs table (kernel-s1)"
grep -q "Problem files: \`$P/\`" "$O/README.md" && pass "README names the problem files' directory" \
    || bad "README: problem files line"
grep -q 'seeded from layer-sS.s front and the front of `greedy-kernel`, so their maps cost layer-sS.s evaluations, those of `greedy-kernel` plus' "$O/README.md" \
    && pass "README: the budget note counts the greedy that seeds kernel" || bad "README: budget note"

# the README's table against the run files, and the shipped maps against approxmap eval
python3 - "$R" "$O" "$BIN" <<'EOF' || fail=1
import csv, json, math, os, re, subprocess, sys
R, O, BIN = sys.argv[1:]
md = open(os.path.join(O, "README.md")).read()
rows = {}
# the search-loss table (the validation-loss table, checked below, comes after it)
for m in re.finditer(r"^\| (layer2x|layer|filter|kernel|greedy) \| ([0-9.]+) pp \| (.*)$",
                     md.split("## Energy saved at a validation-loss budget")[0], re.M):
    rows[(m.group(1), float(m.group(2)))] = m.group(3)
ok = True
def bad(msg):
    global ok
    ok = False
    print("FAIL: " + msg)
groups = {"layer": ["layer-s1", "layer-s2"], "layer2x": ["layer2x-s1", "layer2x-s2"], "filter": ["filter-s1", "filter-s2"], "kernel": ["kernel-s1", "kernel-s2"],
          "greedy": ["greedy-filter", "greedy-kernel"]}
checked = 0
evaluated = set()  # (run, id): one approxmap eval per distinct map
for g, names in groups.items():
    for b in (0, 0.5, 1, 2, 4):
        best = None
        for ri, n in enumerate(names):
            with open(os.path.join(R, n, "front.csv")) as f:
                for i, r in enumerate(csv.DictReader(f)):
                    if float(r["violation"]) > 0 or float(r["f2"]) > b:
                        continue
                    k = (float(r["f1"]), float(r["f2"]), ri, i)
                    if best is None or k < best[0]:
                        best = (k, n, i, int(r["id"]))
        cell = rows.get((g, b))
        if cell is None:
            bad("README has no row for %s at %g pp" % (g, b)); continue
        if best is None:
            if not cell.startswith("no map"): bad("%s %g: README selects a map, none qualifies" % (g, b))
            continue
        want = "%.1f %% | %s, %d (%d) | %.2f |" % (100 * (1 - best[0][0]), best[1], best[2], best[3], best[0][1])
        if not cell.startswith(want):
            bad("%s %g: README '%s', expected '%s'" % (g, b, cell[:60], want)); continue
        checked += 1
        if b not in (0, 1, 2, 4) or (best[1], best[3]) in evaluated:
            continue
        evaluated.add((best[1], best[3]))
        # the shipped map, measured by approxmap eval on the holdout records its reproduce line names
        y = os.path.join(O, g, "loss%g.yaml" % b)
        hint = [l for l in open(y) if l.startswith("#   approxmap eval") and "--first 64" in l][0][2:].split()
        lg, ex = os.path.join(R, "lg.csv"), os.path.join(R, "ex.csv")
        out = subprocess.run([BIN] + hint[1:] + ["--format", "json", "--no-float", "--threads", "1", "--logits", lg,
                             "--exact-logits", ex], capture_output=True, text=True, check=True).stdout
        e = json.loads(out)
        rd = lambda p: [int(r["prediction"]) == int(r["label"]) for r in csv.DictReader(open(p))]
        a, x = rd(lg), rd(ex)
        lost = sum(1 for i in range(len(a)) if x[i] and not a[i]); gained = sum(1 for i in range(len(a)) if a[i] and not x[i])
        m = lost + gained
        p = 1.0 if m == 0 else min(1.0, 2 * sum(math.comb(m, i) for i in range(min(lost, gained) + 1)) / 2 ** m)
        loss = 100.0 * (e["correct_int8"] - e["correct_approx"]) / 64
        cols = [c.strip() for c in cell.split("|")]
        hl = re.match(r"(-?[0-9.]+) \[(-?[0-9.]+), (-?[0-9.]+)\]", cols[3])
        # the README's p is GSL's, printed to 3 significant digits: within half a unit of the last digit of
        # the exact p (not string equality: at an exact tie such as 44/64 = 0.6875, GSL's value may fall
        # on either side of the half)
        pr = float(cols[4])
        p_ok = abs(pr - p) <= 0.5 * 10 ** (math.floor(math.log10(p)) - 2) * (1 + 1e-9) if p > 0 else pr == 0
        if "%.2f" % loss != hl.group(1) or not p_ok or "%d / %d" % (lost, gained) != cols[5]:
            bad("%s %g: README holdout '%s | %s | %s', eval gives %.2f, p %.3g, %d / %d" % (g, b, cols[3], cols[4], cols[5], loss, p, lost, gained))
        elif not float(hl.group(2)) - 0.005 <= loss <= float(hl.group(3)) + 0.005:
            bad("%s %g: the CI does not hold the loss" % (g, b))
        checked += 1
# hypervolume columns of the runs table (search, holdout, validation), recomputed: staircase area up to
# (1, max_loss_pp = 4)
def hv(pts):
    pts = sorted(p for p in pts if p[0] < 1 and p[1] < 4)
    a, lo = 0.0, 4.0
    for e, l in pts:
        if l < lo:
            a += (1 - e) * (lo - l); lo = l
    return a
for n in ("layer-s1", "layer2x-s2", "filter-s1", "kernel-s2", "greedy-kernel"):
    fr = [r for r in csv.DictReader(open(os.path.join(R, n, "front.csv"))) if float(r["violation"]) <= 0]
    ho = {r["id"]: float(r["loss_pp"]) for r in csv.DictReader(l for l in open(os.path.join(R, n, "holdout.csv")) if not l.startswith("#"))}
    va = {r["id"]: float(r["loss_pp"]) for r in csv.DictReader(l for l in open(os.path.join(R, n + ".val", "holdout.csv")) if not l.startswith("#"))}
    m = re.search(r"^\| %s \|.* \| ([0-9.]+) \| ([0-9.]+) \| ([0-9.]+) \|$" % n, md, re.M)
    want = ("%.4f" % hv([(float(r["f1"]), float(r["f2"])) for r in fr]), "%.4f" % hv([(float(r["f1"]), ho[r["id"]]) for r in fr]),
            "%.4f" % hv([(float(r["f1"]), va[r["id"]]) for r in fr]))
    if not m or m.groups() != want:
        bad("%s: README hypervolumes %s, recomputed %s" % (n, m.groups() if m else None, want))
    checked += 1
if ok: print("PASS: README table = the cheapest front map with search loss <= B; holdout figures = approxmap eval (%d checks)" % checked)
sys.exit(0 if ok else 1)
EOF
# the validation selection: RUN.val/holdout.csv measures the run's front on VAL (approxmap eval agrees),
# and the second table picks the cheapest feasible map with validation loss <= B; the third, the cheapest
# with pooled loss (search subset and VAL as one paired count) <= B; the fourth, the cheapest whose exact
# 95 % CI on VAL has its upper end <= B
python3 - "$R" "$O" "$BIN" "$VAL" <<'EOF' || fail=1
import csv, json, os, re, subprocess, sys
R, O, BIN, VAL = sys.argv[1:]
md = open(os.path.join(O, "README.md")).read()
ns = sum(int(r.split(":")[-1]) for r in [l for l in open(os.path.join(R, "layer-s1", "problem.yaml")) if l.startswith("  search:")][0].split(",")) # every range has a COUNT
assert ns == 64, ns
groups = {"layer": ["layer-s1", "layer-s2"], "layer2x": ["layer2x-s1", "layer2x-s2"], "filter": ["filter-s1", "filter-s2"],
          "kernel": ["kernel-s1", "kernel-s2"], "greedy": ["greedy-filter", "greedy-kernel"]}
def val_of(n):
    lines = open(os.path.join(R, n + ".val", "holdout.csv")).read().splitlines()
    assert lines[0].endswith(" holdout=" + VAL), lines[0]
    return {r["id"]: r for r in csv.DictReader(l for l in lines if not l.startswith("#"))}
def pooled(f2, v):  # the search subset's and VAL's (b - c) as one count, from the figures on file
    return 100.0 * (round(float(f2) * ns / 100.0) + int(v["lost"]) - int(v["gained"])) / (ns + int(v["n"]))
ok, checked, evald = True, 0, False
for title, prefix in (("validation-loss budget", "val-"), ("pooled-loss budget", "pool-"),
                      ("confident validation-loss budget", "conf-")):
  sec = md.split("## Energy saved at a " + title)[1].split("\n## ")[0]
  rows = {(m.group(1), float(m.group(2))): m.group(3)
          for m in re.finditer(r"^\| (layer2x|layer|filter|kernel|greedy) \| ([0-9.]+) pp \| (.*)$", sec, re.M)}
  evald = False
  for g, names in groups.items():
    for b in (0, 0.5, 1, 2, 4):
        best = None
        for ri, n in enumerate(names):
            va = val_of(n)
            for i, r in enumerate(csv.DictReader(open(os.path.join(R, n, "front.csv")))):
                v = float(va[r["id"]]["loss_pp"])
                key = (v if prefix == "val-" else pooled(r["f2"], va[r["id"]]) if prefix == "pool-"
                       else float(va[r["id"]]["ci_hi"]))
                if float(r["violation"]) > 0 or key > b:
                    continue
                k = (float(r["f1"]), key, ri, i)
                if best is None or k < best[0]:
                    best = (k, n, i, int(r["id"]), float(r["f2"]), v)
        cell = rows.get((g, b))
        want = "no map" if best is None else "%.1f %% | %s, %d (%d) | %.2f | %.2f |" % (
            100 * (1 - best[0][0]), best[1], best[2], best[3], best[4], best[5])
        if prefix in ("pool-", "conf-") and best is not None:
            want += " %.2f |" % best[0][1]
        if cell is None or not cell.startswith(want):
            ok = False; print("FAIL: %s table %s %g: '%s', expected '%s'" % (prefix, g, b, cell and cell[:80], want))
            continue
        checked += 1
        if best is not None and not evald and b in (1, 2, 4):
            # the shipped map measured by approxmap eval on VAL: the validation loss the table shows
            y = os.path.join(O, g, "%sloss%g.yaml" % (prefix, b))
            hint = [l for l in open(y) if l.startswith("#   approxmap eval") and "--first 64" in l][0][2:].split()
            first, count = VAL.split(":")[1:]
            hint[hint.index("--first") + 1] = first
            hint[hint.index("--count") + 1] = count
            e = json.loads(subprocess.run([BIN] + hint[1:] + ["--format", "json", "--no-float", "--threads", "1"],
                                          capture_output=True, text=True, check=True).stdout)
            loss = 100.0 * (e["correct_int8"] - e["correct_approx"]) / int(count)
            if "%.2f" % loss != "%.2f" % best[5]:
                ok = False; print("FAIL: %s: eval on %s gives loss %.2f, RUN.val/holdout.csv %.2f" % (y, VAL, loss, best[5]))
            evald = True
            checked += 1
  if not evald:
      ok = False; print("FAIL: no %s-selected map at 1, 2 or 4 pp to check against approxmap eval" % prefix)
if ok: print("PASS: validation, pooled and confident tables = the cheapest front map with that loss (or CI upper end) <= B; RUN.val = approxmap eval (%d checks)" % checked)
sys.exit(0 if ok else 1)
EOF
ls "$O"/layer/loss0.yaml "$O"/filter/loss4.yaml "$O"/kernel/loss4.yaml >/dev/null 2>&1 && grep -q 'bias_delta:' "$O/filter/loss4.yaml" \
    && pass "exported maps with bias_delta" || bad "exported maps missing"
ok=1
for y in "$O"/*/loss*.yaml "$O"/*/val-loss*.yaml "$O"/*/pool-loss*.yaml "$O"/*/conf-loss*.yaml; do
    [ "$(grep -c -- "--map $y " "$y")" = 2 ] || { ok=0; echo "$y: its reproduce lines name another file"; }
done
[ $ok = 1 ] && pass "every shipped map's reproduce lines name the map itself" || bad "reproduce lines"
# the README lists every shipped map and shows every heatmap it drew (a section written before them must not
# clobber what they are made from)
ok=1
for y in "$O"/*/*loss*.yaml; do
    rel=${y#"$O"/}
    grep -qF "| [$rel]($rel) |" "$O/README.md" || { ok=0; echo "README: no row for $rel"; }
done
for h in "$O"/heat_*.png; do
    [ -e "$h" ] || continue
    grep -qF "(${h#"$O"/})" "$O/README.md" || { ok=0; echo "README: no ${h#"$O"/}"; }
done
[ $ok = 1 ] && grep -q "^## How firmly the holdout decides the criterion" "$O/README.md" \
    && pass "README lists every shipped map and heatmap, beside the bootstrap section" || bad "README's shipped maps or heatmaps"
for f in fronts_search fronts_holdout heat_filter_loss4; do
    [ -s "$O/$f.dat" ] || [ -s "$O/fronts.dat" ] || bad "no data for $f"
done
if command -v gnuplot >/dev/null 2>&1; then
    [ "$(od -An -tx1 -N4 "$O/fronts_search.png" | tr -d ' ')" = 89504e47 ] && [ -s "$O/heat_kernel_loss4.png" ] \
        && pass "plots drawn" || bad "plots missing"
fi

# a second invocation changes nothing and runs nothing (also for a finished run the script did not mark
# as done, e.g. one made by hand: it is recognised from its checkpoint and generations.csv)
snap() { (cd "$1" && find . -type f ! -name 'lg.csv' ! -name 'ex.csv' -print0 | sort -z | xargs -0 md5sum); }
{ snap "$R"; snap "$O"; } >"$T/before"
rm "$R/layer-s2/study.done"
t0=$(date +%s)
bash "$TOP_SRCDIR/scripts/study.sh" -r "$R" -o "$O" -p "$P" -b "$BIN" -j 1 -s 0.05 -v "$VAL" 2>"$T/log2" || bad "second invocation failed"
echo "# second invocation: $(($(date +%s) - t0)) s"
{ snap "$R"; snap "$O"; } >"$T/after"
cmp -s "$T/before" "$T/after" && pass "second invocation: every file of the runs and the output identical" \
    || { bad "second invocation changed files"; diff "$T/before" "$T/after" | head; }
grep -q "searching\|resuming\|report" "$T/log2" && bad "second invocation ran something: $(cat "$T/log2")"
grep -q "layer-s2: finished outside the script" "$T/log2" && pass "a finished run without study.done is not resumed" \
    || bad "layer-s2 without study.done: $(grep layer-s2 "$T/log2")"

# a half-done study: a run whose directory is gone is done again, to the same front and archive
mv "$R/kernel-s2" "$T/k2"
mv "$R/layer-s2" "$T/l2" # and layer2x-s2's source
mv "$R/kernel-s1" "$T/k1" # so that no kernel run has finished
# -n: no run is started; the README is written from the finished runs and says the study is partial
bash "$TOP_SRCDIR/scripts/study.sh" -r "$R" -o "$O" -p "$P" -b "$BIN" -j 1 -s 0.05 -v "$VAL" -n 2>"$T/logn" || bad "-n invocation failed"
! grep -q "searching\|resuming" "$T/logn" && [ ! -e "$R/kernel-s2" ] && grep -q "kernel-s2: not finished (-n: not run)" "$T/logn" \
    && grep -q '^| kernel-s2 | | not finished |' "$O/README.md" && grep -q '^- \*\*Partial study:\*\* 7 of 10 runs finished' "$O/README.md" \
    && grep -q '^| kernel | | no finished run |' "$O/README.md" && grep -q '^| kernel | no finished run | | | | |$' "$O/README.md" \
    && grep -q "layer2x-s2: finished (generations 6; layer-s2 is not)" "$T/logn" && ! grep -q "error" "$T/logn" \
    && pass "-n runs nothing and writes a README marked partial" || { bad "-n"; cat "$T/logn"; }
mv "$T/l2" "$R/layer-s2" && mv "$T/k1" "$R/kernel-s1"
bash "$TOP_SRCDIR/scripts/study.sh" -r "$R" -o "$O" -p "$P" -b "$BIN" -j 1 -s 0.05 -v "$VAL" 2>"$T/log3" || bad "third invocation failed"
cmp -s "$R/kernel-s2/front.csv" "$T/k2/front.csv" && cmp -s "$R/kernel-s2/archive" "$T/k2/archive" \
    && [ "$(grep -c 'searching' "$T/log3")" = 1 ] && pass "a missing run is redone, identically; the others skipped" \
    || bad "redone kernel-s2 differs"
sed -n '/^## Energy saved/,/^## Runs/p' "$O/README.md" >"$T/t3"
mv "$R/kernel-s2" "$T/k2b" && mv "$T/k2" "$R/kernel-s2"
bash "$TOP_SRCDIR/scripts/study.sh" -r "$R" -o "$O" -p "$P" -b "$BIN" -j 1 -s 0.05 -v "$VAL" 2>/dev/null
sed -n '/^## Energy saved/,/^## Runs/p' "$O/README.md" | cmp -s - "$T/t3" && pass "the tables do not depend on the redo" \
    || bad "tables changed"

# -S: a third GA seed continues the same study (only seed 3's runs are new); the selections pool all three
# seeds, and the per-seed table shows each seed's holdout envelope and the median over the seeds
for bad_s in 0 1,1 "1, 2" x 1,,2; do
    bash "$TOP_SRCDIR/scripts/study.sh" -r "$R" -o "$O" -p "$P" -b "$BIN" -S "$bad_s" -n 2>"$T/logS"
    rc=$?
    [ $rc = 2 ] && grep -q -- "-S " "$T/logS" || bad "-S '$bad_s': exit $rc, $(cat "$T/logS")"
done
bash "$TOP_SRCDIR/scripts/study.sh" -r "$R" -o "$O" -p "$P" -b "$BIN" -j 1 -s 0.05 -v "$VAL" -S 1,2,3 2>"$T/log4" \
    || { bad "-S 1,2,3 failed"; cat "$T/log4"; }
[ "$(grep -c 'searching' "$T/log4")" = 3 ] && grep -q "layer2x-s3: resuming a copy of layer-s3" "$T/log4" \
    && grep -q "^seed_from: \\[$R/layer-s3, $R/greedy-kernel\\]\$" "$R/kernel-s3/problem.yaml" \
    && grep -q "^seed_from: $R/layer-s3\$" "$R/filter-s3/problem.yaml" \
    && pass "-S 1,2,3 runs seed 3's layer, filter, kernel and layer2x only, seeded from layer-s3" \
    || { bad "-S 1,2,3 runs"; cat "$T/log4"; }
grep -q "^Written by \`scripts/study.sh -r $R -o $O -p $P -v $VAL -S 1,2,3\`" "$O/README.md" \
    && grep -q "the final fronts of G's runs (GA seeds 1, 2, 3; for the greedy" "$O/README.md" \
    && [ "$(grep -c '^| [a-z2]*-s[0-9] | NSGA-II seed' "$O/README.md")" = 12 ] \
    && pass "README: the command, the seeds and 12 GA runs" || bad "README with three seeds"
python3 - "$R" "$O" <<'EOF2' || fail=1
import csv, os, re, statistics, sys
R, O = sys.argv[1:]
md = open(os.path.join(O, "README.md")).read()
sec = md.split("## Each seed's holdout envelope")[1].split("\n## ")[0]
if "### The same envelope on the validation records" not in sec:
    print("FAIL: no per-seed table on the validation records"); sys.exit(1)
ho_sec, val_sec = sec.split("### The same envelope on the validation records")
ok = True
# the holdout table from RUN/holdout.csv, the validation one from RUN.val/holdout.csv (the -v copies)
for sec, suffix, what in ((ho_sec, "", "holdout"), (val_sec, ".val", "validation")):
    med = {}
    if not re.search(r"^\| granularity \| seeds \| %s loss <= 0 pp \|" % what, sec, re.M):
        print("FAIL: per-seed %s table has no header" % what); ok = False
    for g in ("layer", "layer2x", "filter", "kernel"):
        m = re.search(r"^\| %s \| s1 / s2 / s3 \| (.*) \|$" % g, sec, re.M)
        if not m:
            print("FAIL: per-seed %s table has no %s row" % (what, g)); ok = False; continue
        cells = m.group(1).split(" | ")
        for b, cell in zip((0, 0.5, 1, 2, 4), cells):
            per = []
            for s in (1, 2, 3):
                n = os.path.join(R, "%s-s%d" % (g, s))
                ho = {r["id"]: float(r["loss_pp"]) for r in csv.DictReader(l for l in open(os.path.join(n + suffix, "holdout.csv")) if not l.startswith("#"))}
                per.append(max([100 * (1 - float(r["f1"])) for r in csv.DictReader(open(os.path.join(n, "front.csv")))
                                if float(r["violation"]) <= 0 and ho[r["id"]] <= b], default=0.0))
            med[(g, b)] = sorted(per)[1]
            want = "**%.1f** (%s)" % (med[(g, b)], " / ".join("%.1f" % x for x in per))
            if cell != want:
                print("FAIL: per-seed %s %s %g: '%s', expected '%s'" % (what, g, b, cell, want)); ok = False
    for f, c in (("filter", "layer2x"), ("kernel", "filter")):
        want = "| %s - %s | medians | %s |" % (f, c, " | ".join("%+.1f" % (med[(f, b)] - med[(c, b)]) for b in (0, 0.5, 1, 2, 4)))
        if want not in sec:
            print("FAIL: %s table has no row '%s'" % (what, want)); ok = False
if ok: print("PASS: per-seed envelopes and medians (holdout; validation records) recomputed from front.csv and holdout.csv")
# the optimism table: every GA row recomputed from the three seeds' files
opt = md.split("## How much the search loss flatters the front maps")[1].split("\n## ")[0] if "## How much the search loss flatters" in md else ""
if not re.search(r"^\| granularity \| maps, search loss < 1 pp \| holdout - search \(pp\) \| validation - search \(pp\) \| holdout CI half-width \(pp\) \| maps, search loss >= 1 pp \|", opt, re.M):
    print("FAIL: no optimism table"); sys.exit(1)
rd = lambda p: {r["id"]: r for r in csv.DictReader(l for l in open(p) if not l.startswith("#"))}
for g in ("layer", "layer2x", "filter", "kernel"):
    ps = []
    for s in (1, 2, 3):
        n = os.path.join(R, "%s-s%d" % (g, s))
        ho, va = rd(os.path.join(n, "holdout.csv")), rd(os.path.join(n + ".val", "holdout.csv"))
        ps += [(float(r["f2"]), float(ho[r["id"]]["loss_pp"]), float(va[r["id"]]["loss_pp"]),
                (float(ho[r["id"]]["ci_hi"]) - float(ho[r["id"]]["ci_lo"])) / 2)
               for r in csv.DictReader(open(os.path.join(n, "front.csv"))) if float(r["violation"]) <= 0]
    cells = []
    for band in ([p for p in ps if p[0] < 1], [p for p in ps if p[0] >= 1]):
        if not band:
            cells += ["0", "", "", ""]; continue
        cells += ["%d" % len(band), "%+.2f" % statistics.mean([p[1] - p[0] for p in band]),
                  "%+.2f" % statistics.mean([p[2] - p[0] for p in band]),
                  "%.2f" % statistics.mean([p[3] for p in band])]
    want = "| %s | %s |" % (g, " | ".join(cells))
    if not re.search("^" + re.escape(want) + "$", opt, re.M):
        print("FAIL: optimism row for %s is not '%s'" % (g, want)); ok = False
if ok: print("PASS: optimism table (holdout - search, validation - search, CI half-width) recomputed from the runs' files")
# the paired bootstrap: outcomes files for the compared runs only, and the table recomputed from them by the
# documented rule (random.Random(1), record floor(n u), 2000 replicates, medians of the three seeds)
import random
crit = ["%s-s%d" % (g, s) for g in ("layer2x", "filter", "kernel") for s in (1, 2, 3)]
if os.path.exists(os.path.join(R, "layer-s1", "holdout-outcomes.csv")) or \
        not all(os.path.exists(os.path.join(R, c, "holdout-outcomes.csv")) for c in crit):
    print("FAIL: holdout-outcomes.csv not exactly in the compared runs"); sys.exit(1)
maps = {}
for c in crit:
    lines = [l for l in open(os.path.join(R, c, "holdout-outcomes.csv")).read().splitlines() if not l.startswith("#")][1:]
    oc = {int(l.split(",")[0]): [[int(x) for x in f.split()] for f in l.split(",")[1:]] for l in lines}
    ho = rd(os.path.join(R, c, "holdout.csv"))
    maps[c] = []
    for r in csv.DictReader(open(os.path.join(R, c, "front.csv"))):
        lost, gained = oc[int(r["id"])]
        if (len(lost), len(gained)) != (int(ho[r["id"]]["lost"]), int(ho[r["id"]]["gained"])):
            print("FAIL: %s map %s: outcomes disagree with holdout.csv" % (c, r["id"])); ok = False
        if float(r["violation"]) <= 0:
            maps[c].append((100 * (1 - float(r["f1"])), lost, gained))
n = int(next(iter(rd(os.path.join(R, "kernel-s1", "holdout.csv")).values()))["n"])
B = (0, 0.5, 1, 2, 4)
def diffs(w):
    env = {}
    for c in crit:
        for b in B:
            env[(c, b)] = max([e for e, lo, ga in maps[c] if 100.0 * (sum(w[i] for i in lo) - sum(w[i] for i in ga)) / n <= b], default=0.0)
    med = {(g, b): sorted(env[("%s-s%d" % (g, s), b)] for s in (1, 2, 3))[1] for g in ("layer2x", "filter", "kernel") for b in B}
    return {(f, c, b): round(med[(f, b)] - med[(c, b)], 9) for f, c in (("filter", "layer2x"), ("kernel", "filter")) for b in B}
held = lambda d, b: d > 0 if b in (1, 4) else d >= 0
obs = diffs([1] * n)
rng = random.Random(1)
boot = []
for _ in range(2000):
    w = [0] * n
    for _ in range(n):
        w[int(rng.random() * n)] += 1
    boot.append(diffs(w))
bs = md.split("## How firmly the holdout decides the criterion")[1].split("\n## ")[0] if "## How firmly the holdout" in md else ""
for f, c in (("filter", "layer2x"), ("kernel", "filter")):
    cells = []
    for b in B:
        ds = sorted(x[(f, c, b)] for x in boot)
        cells.append("%+.1f [%+.1f, %+.1f]; holds in %.1f %%" % (obs[(f, c, b)], ds[50], ds[1949],
                                                                100.0 * sum(held(x[(f, c, b)], b) for x in boot) / 2000))
    want = "| %s - %s | %s |" % (f, c, " | ".join(cells))
    if not re.search("^" + re.escape(want) + "$", bs, re.M):
        print("FAIL: bootstrap row is not '%s'" % want); ok = False
    if "| %s - %s | medians | %s |" % (f, c, " | ".join("%+.1f" % obs[(f, c, b)] for b in B)) not in ho_sec:
        print("FAIL: bootstrap's observed differences are not the per-seed table's"); ok = False
whole = sum(all(held(x[k], k[2]) for k in x) for x in boot)
if not re.search(r"holds in %d of the 2000 replicates \(%.1f %%\)" % (whole, whole / 20.0), bs):
    print("FAIL: bootstrap: whole-criterion count is not %d" % whole); ok = False
if ok: print("PASS: paired bootstrap table recomputed from RUN/holdout-outcomes.csv (outcomes in the compared runs only, counts = holdout.csv)")
sys.exit(0 if ok else 1)
EOF2
# the outcomes name the images: one map's lost and gained records = those of `approxmap eval --logits`
python3 - "$R/kernel-s1" "$BIN" "$T" <<'EOF2' || fail=1
import csv, os, re, subprocess, sys
run, binary, T = sys.argv[1:]
lines = [l for l in open(os.path.join(run, "holdout-outcomes.csv")).read().splitlines() if not l.startswith("#")][1:]
mid, lost, gained = lines[0].split(",")
subprocess.run([binary, "export", run, "--id", mid, "--no-holdout", "-o", os.path.join(T, "one.yaml")], check=True,
               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
hold = re.search(r"^  holdout: (.*):(\d+):(\d+)$", open(os.path.join(run, "problem.yaml")).read(), re.M)
subprocess.run([binary, "eval", "--model", "models/resnet8_mlperf_float.onnx", "--calib", "cifar10/cifar-10-batches-bin/data_batch_1.bin:0:16",
                "--data", hold.group(1), "--first", hold.group(2), "--count", hold.group(3), "--no-float", "--threads", "1",
                "--map", os.path.join(T, "one.yaml"), "--logits", os.path.join(T, "a.csv"), "--exact-logits", os.path.join(T, "e.csv")],
               check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
a = list(csv.DictReader(open(os.path.join(T, "a.csv"))))
e = list(csv.DictReader(open(os.path.join(T, "e.csv"))))
want_l = [i for i, (x, y) in enumerate(zip(e, a)) if x["prediction"] == x["label"] and y["prediction"] != y["label"]]
want_g = [i for i, (x, y) in enumerate(zip(e, a)) if x["prediction"] != x["label"] and y["prediction"] == y["label"]]
if [int(x) for x in lost.split()] != want_l or [int(x) for x in gained.split()] != want_g or not want_l + want_g:
    print("FAIL: outcomes of map %s: lost %s gained %s, eval --logits: %s / %s" % (mid, lost, gained, want_l, want_g)); sys.exit(1)
print("PASS: holdout-outcomes.csv names the records approxmap eval --logits finds lost (%d) and gained (%d) by map %s" % (len(want_l), len(want_g), mid))
EOF2

# -T: the runs directory kept in one file; a new machine (here: the runs directory gone) unpacks it and
# carries on where the study stood, README byte for byte
mkdir "$R/my-copy-of-layer-s1" && echo x >"$R/my-copy-of-layer-s1/front.csv" && echo x >"$R/notes.txt"
bash "$TOP_SRCDIR/scripts/study.sh" -r "$R" -o "$O" -p "$P" -b "$BIN" -j 1 -v "$VAL" -S 1,2,3 -T "$T/state.tar.xz" -n \
    2>"$T/logT1" || { bad "-T: packing failed"; cat "$T/logT1"; }
! tar -tJf "$T/state.tar.xz" | grep -q 'my-copy\|notes' && tar -tJf "$T/state.tar.xz" | grep -q '^\./layer2x-s3\.log$' \
    && pass "-T packs the study's runs, not what else a user keeps in the runs directory" || bad "-T: packed a stray entry"
rm -rf "$R/my-copy-of-layer-s1" "$R/notes.txt"
cp "$O/README.md" "$T/readme.T"
[ -s "$T/state.tar.xz" ] && [ ! -e "$T/state.tar.xz.tmp" ] && tar -tJf "$T/state.tar.xz" | grep -q '^\./kernel-s3/archive$' \
    && pass "-T writes the runs directory into one file" || bad "-T: no state file"
tar -tJf "$T/state.tar.xz" | grep -q '\.val/front\.csv$' && ! tar -tJf "$T/state.tar.xz" | grep -q '\.val/archive$\|\.png$\|\.svg$' \
    && pass "-T leaves out what reports re-create: plots, the validation copies' archives" || bad "-T: state holds plots or copies"
st=$(stat -c '%i %Y %s' "$T/state.tar.xz")
mv "$R" "$R.gone"
bash "$TOP_SRCDIR/scripts/study.sh" -r "$R" -o "$O" -p "$P" -b "$BIN" -j 1 -v "$VAL" -S 1,2,3 -T "$T/state.tar.xz" -n \
    2>"$T/logT2" || { bad "-T: unpacking failed"; cat "$T/logT2"; }
[ "$(stat -c '%i %Y %s' "$T/state.tar.xz")" = "$st" ] && [ ! -e "$T/state.tar.xz.tmp" ] \
    && pass "-T leaves the state file untouched when nothing in it changed" || bad "-T: state rewritten with nothing new"
grep -q "unpacking $T/state.tar.xz into $R" "$T/logT2" && ! grep -q "searching\|resuming\|not finished\|report (holdout\|validation (every" "$T/logT2" \
    && cmp -s "$O/README.md" "$T/readme.T" && cmp -s "$R/kernel-s3/archive" "$R.gone/kernel-s3/archive" \
    && pass "-T on a runs directory that is gone: unpacked, nothing re-run or re-measured, README byte-identical" \
    || { bad "-T: unpack"; cat "$T/logT2"; }

# without -v: the README has no validation selection (and is still written)
bash "$TOP_SRCDIR/scripts/study.sh" -r "$R" -o "$T/out-nv" -p "$P" -b "$BIN" -j 1 -S 1,2,3 -n 2>"$T/logNV" \
    && grep -q '^## Energy saved at a search-loss budget' "$T/out-nv/README.md" \
    && ! grep -q 'validation-loss budget' "$T/out-nv/README.md" && [ -f "$T/out-nv/kernel/loss4.yaml" ] \
    && pass "without -v: README and maps written, no validation table" || { bad "study without -v"; cat "$T/logNV"; }

# a hierarchical study (problems/study-v10): kernel.yaml's seed_from names the filter run of its seed (here
# as {run, maps} items, with the kernel greedy); the script then also runs filter2x-sS, filter-sS continued
# to twice its generations, and the README compares kernel with it. The filter run uses the direct
# encoding: a direct kernel run cannot be seeded from a ranked one (its front holds share genes)
P2=$T/problems-hier R2=$T/runs-hier O2=$T/out-hier
mkdir -p "$P2"
cp "$P/layer.yaml" "$P/greedy-filter.yaml" "$P/greedy-kernel.yaml" "$P2/"
grep -v -e '^encoding: ranked$' -e '^shares: 2$' -e '^seed_greedy: 2$' "$P/filter.yaml" >"$P2/filter.yaml"
sed 's|^seed_from: .*|seed_from: [{run: runs/study/filter-s1, maps: 4}, {run: runs/study/greedy-kernel, maps: 4}]|' \
    "$P/kernel.yaml" >"$P2/kernel.yaml"
bash "$TOP_SRCDIR/scripts/study.sh" -r "$R2" -o "$O2" -p "$P2" -b "$BIN" -j 1 -s 0.05 -S 2 -T "$T/hier.tar.xz" 2>"$T/logH" \
    || { bad "hierarchical study failed"; cat "$T/logH"; }
grep -q "^seed_from: \\[{run: $R2/filter-s2, maps: 4}, {run: $R2/greedy-kernel, maps: 4}\\]\$" "$R2/kernel-s2/problem.yaml" \
    && pass "hierarchical: kernel-s2 is seeded from filter-s2 and greedy-kernel ({run, maps} items rewritten)" \
    || bad "hierarchical: kernel-s2's seed_from: $(grep seed_from "$R2/kernel-s2/problem.yaml")"
"$BIN" search "$R2/filter-s2/problem.yaml" -o "$T/f6" --seed 2 --generations 6 --threads 1 --quiet 2>/dev/null \
    && cmp -s "$T/f6/front.csv" "$R2/filter2x-s2/front.csv" && cmp -s "$T/f6/archive" "$R2/filter2x-s2/archive" \
    && pass "hierarchical: filter2x-s2 = a 6-generation filter run from scratch (front and archive)" \
    || bad "hierarchical: filter2x-s2 differs from a 6-generation filter run"
grep -q '^| filter2x-s2 | NSGA-II seed 2, filter, direct: `filter-s2` continued | as `filter-s2` | 6 |' "$O2/README.md" \
    && grep -q '^| kernel-s2 | NSGA-II seed 2, kernel, direct | `filter-s2` front (4 maps) + `greedy-kernel` front (4 maps) + uniform maps | 3 |' "$O2/README.md" \
    && grep -q '^| kernel - filter2x | medians |' "$O2/README.md" && ! grep -q '^| kernel - filter | medians |' "$O2/README.md" \
    && grep -q 'kernel against filter2x), before' "$O2/README.md" && grep -q '^| filter2x | 4 pp | ' "$O2/README.md" \
    && pass "hierarchical README: filter2x in the runs and selection tables, kernel compared with filter2x" \
    || bad "hierarchical README"
[ "$(tar -tJf "$T/hier.tar.xz" | grep -c '^\./filter2x-s2/front.csv$')" = 1 ] && pass "hierarchical: -T packs filter2x" \
    || bad "hierarchical: filter2x-s2 not in the state"

# Ctrl-C or SIGTERM to the study's process group: the running search saves its checkpoint, the script
# records the interrupted invocation, packs the state with that checkpoint and exits with 130
for sig in INT TERM; do
    setsid bash "$TOP_SRCDIR/scripts/study.sh" -r "$R" -o "$O" -p "$P" -b "$BIN" -j 1 -v "$VAL" -S 1,2,3 -g 999 \
        -T "$T/state.tar.xz" 2>"$T/logSig" &
    pid=$!
    g0=$(tail -n 1 "$R/layer-s1/generations.csv" | cut -d, -f1)
    i=0
    while [ $i -lt 600 ] && [ "$(tail -n 1 "$R/layer-s1/generations.csv" | cut -d, -f1)" -lt $((g0 + 3)) ]; do
        sleep 0.1; i=$((i + 1))
    done
    [ "$(ps -o pgid= -p $pid | tr -d ' ')" = $pid ] || bad "SIG$sig: the study is not its process group's leader"
    kill -s $sig -- -$pid
    wait $pid
    rc=$?
    [ $rc = 130 ] && grep -q '^study: layer-s1: interrupted; run the same command again to continue$' "$T/logSig" \
        && tar -xJOf "$T/state.tar.xz" ./layer-s1/checkpoint | cmp -s - "$R/layer-s1/checkpoint" \
        && [ "$(tail -n 1 "$R/layer-s1/generations.csv" | cut -d, -f1)" -gt $((g0 + 2)) ] \
        && tail -n 1 "$R/layer-s1/study-times.txt" | grep -q ' 130 resume$' && ! ls "$R" | grep -q '\.tmp$' \
        && pass "SIG$sig: search checkpointed, invocation timed, state packed with the checkpoint, exit 130" \
        || { bad "SIG$sig: exit $rc"; cat "$T/logSig"; }
done
exit $fail
