#!/usr/bin/env python3
"""The second half of scripts/study.sh: from the finished run directories (front.csv, holdout.csv written
by `approxmap report`, generations.csv, study-times.txt), choose each granularity's map per budget on the
search subset, export the chosen maps (`approxmap export`), draw the plots (gnuplot) and write
OUT/README.md. Every figure in the README is read from those files. Files whose content would not change
are not rewritten and gnuplot runs only for changed plot data, so a second invocation is a no-op.

Selection rule (documented in the README): for granularity G and budget B, among the feasible maps on the
final fronts of G's runs (every GA seed; for the greedy, both its runs), the one with the lowest energy
whose search-subset loss is <= B pp; ties: lower search loss, then the run listed first, then the lower
front row. The holdout only reports.

With --validation SPEC (study.sh -v), every run also has RUN.val/holdout.csv: its front maps measured on
the validation records SPEC (neither searched on nor in the holdout). A second selection then uses the
validation loss in place of the search loss (same rule and ties otherwise); its maps ship as
GRANULARITY/val-lossB.yaml. A third selection uses the pooled loss on the search subset and the validation
records together, 100 ((b - c) on the search subset + (b - c) on the validation records) / (n_search + n_val);
its maps ship as GRANULARITY/pool-lossB.yaml. A fourth, the confident selection, uses the upper end of
the exact 95 % CI of the validation loss: the cheapest map that keeps the budget even at that end (maps
chosen at a budget by their point loss lose more on fresh images, since the cheapest map under a budget is
the one whose loss its images underestimated most); its maps ship as GRANULARITY/conf-lossB.yaml. All
leave the holdout to report.

The per-seed table (the criterion declared for issue 11's first acceptance line before seed 3 of study v5
was read): for each GA granularity and seed, the energy saved by the cheapest feasible front map of that
seed's run whose holdout loss is <= B (0 % when none: the all-exact map meets every budget), and the median
over the seeds, so that no single map decides a granularity's figure."""
import argparse
import csv
import hashlib
import json
import math
import os
import random
import re
import statistics
import subprocess
import sys

def run_list(seeds, hier=False):
    """(name, granularity group, map granularity, GA seed or None for the greedy) of every run, in the order
    of the README's *Runs* table (the selection's tie-break order); hier: a hierarchical study (kernel-sS
    seeded from filter-sS), which adds filter2x-sS (filter-sS continued to twice its generations)."""
    out = [("layer-s%d" % s, "layer", "layer", s) for s in seeds]
    out += [("greedy-filter", "greedy", "filter", None), ("greedy-kernel", "greedy", "kernel", None)]
    for g in ("filter", "filter2x", "kernel") if hier else ("filter", "kernel"):
        out += [("%s-s%d" % (g, s), g, g.replace("2x", ""), s) for s in seeds]
    return out + [("layer2x-s%d" % s, "layer2x", "layer", s) for s in seeds]


# the granularity groups (main adds filter2x for a hierarchical study)
GA_GROUPS = ["layer", "layer2x", "filter", "kernel"]
GROUPS = ["layer", "layer2x", "filter", "kernel", "greedy"]
BUDGETS = [0, 0.5, 1, 2, 4]
BOOT_REPLICATES = 2000  # the paired bootstrap of the criterion over the holdout images
BOOT_SEED = 1
EXPORTED = [0, 1, 2, 4]


def bname(b):
    return ("%g" % b).replace(".", "_")


def write_if_changed(path, text):
    """Write text to path (via a temp file and rename) unless it already holds exactly that; 1 if written."""
    try:
        with open(path, encoding="utf-8") as f:
            if f.read() == text:
                return 0
    except OSError:
        pass
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(text)
    os.replace(tmp, path)
    return 1


def read_front(path):
    rows = []
    with open(path, newline="") as f:
        rd = csv.reader(f)
        head = next(rd)
        iv = head.index("violation") if "violation" in head else None
        for i, r in enumerate(rd):
            rows.append({"row": i, "id": int(r[0]), "f1": float(r[1]), "f2": float(r[2]),
                         "feasible": iv is None or float(r[iv]) <= 0})
    return rows


def read_holdout(path, records=None):
    """holdout.csv v3 rows in file order (they follow front.csv's order), or None when absent; with
    records, None also when the cache measured other records."""
    if not os.path.exists(path):
        return None
    out = []
    with open(path) as f:
        text = f.read().splitlines()
    if records is not None and (not text or not text[0].endswith(" holdout=" + records)):
        return None
    lines = [ln for ln in text if ln and not ln.startswith("#")]
    head = lines[0].split(",")
    need = ["id", "n", "exact", "correct", "loss_pp", "ci_lo", "ci_hi", "lost", "gained", "p_mcnemar"]
    if any(k not in head for k in need):
        sys.exit("study: %s has no exact paired columns (an older approxmap wrote it); run report again" % path)
    for ln in lines[1:]:
        v = dict(zip(head, ln.split(",")))
        out.append({"id": int(v["id"]), "n": int(v["n"]), "exact": int(v["exact"]), "correct": int(v["correct"]),
                    "loss": float(v["loss_pp"]), "lo": float(v["ci_lo"]), "hi": float(v["ci_hi"]),
                    "lost": int(v["lost"]), "gained": int(v["gained"]), "p": float(v["p_mcnemar"])})
    return out


def outcomes_key(run):
    """The first line of RUN/holdout-outcomes.csv up to ' holdout=': the format and a hash of the front.csv
    it was measured for (scripts/study_outcomes.py writes it, read_outcomes checks it)."""
    with open(os.path.join(run, "front.csv"), "rb") as f:
        return "# approxmap holdout outcomes v1 front=%s" % hashlib.sha256(f.read()).hexdigest()[:16]


def read_outcomes(run):
    """{id: (lost, gained)} (lists of holdout record offsets) from RUN/holdout-outcomes.csv
    (scripts/study_outcomes.py), or None when absent or written for another front.csv."""
    try:
        key = outcomes_key(run)
        with open(os.path.join(run, "holdout-outcomes.csv")) as f:
            lines = f.read().splitlines()
    except OSError:
        return None
    if not lines or not lines[0].startswith(key + " holdout="):
        return None
    out = {}
    for ln in lines[1:]:
        if ln.startswith("#") or ln.startswith("id,"):
            continue
        i, lost, gained = ln.split(",")
        out[int(i)] = ([int(x) for x in lost.split()], [int(x) for x in gained.split()])
    return out


def read_gens(path):
    if not os.path.exists(path):
        return None
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    return rows[-1] if rows else None


def read_times(path):
    """Sums of wall, user + sys over the recorded invocations, their count, and whether the script started
    the run (its first invocation a search or greedy, not a resume of a run begun elsewhere)."""
    if not os.path.exists(path):
        return None
    wall = cpu = 0.0
    n = 0
    whole = None
    with open(path) as f:
        for ln in f:
            p = ln.split()
            if len(p) == 5:
                wall += float(p[0])
                cpu += float(p[1]) + float(p[2])
                n += 1
                if whole is None:
                    whole = p[4] != "resume"
    return wall, cpu, n, whole


def seed_items(keys):
    """(run name, maps taken or None for the whole front) of each run a problem's seed_from names: one path,
    or a [a, b] list of paths and {run: PATH, maps: K} items."""
    sf = keys.get("seed_from", "")
    if not sf:
        return []
    if "{" in sf:
        out = []
        for item in re.findall(r"\{[^}]*\}|[^,\[\]{}\s][^,\[\]{}]*", sf):
            if item.startswith("{"):
                run = re.search(r"run:\s*([^,}\s]+)", item).group(1)
                maps = re.search(r"maps:\s*(\d+)", item)
                out.append((os.path.basename(run.rstrip("/")), int(maps.group(1)) if maps else None))
            else:
                out.append((os.path.basename(item.strip().rstrip("/")), None))
        return out
    return [(os.path.basename(x.strip().rstrip("/")), None) for x in sf.strip("[]").split(",")]


def seed_runs(keys):
    """The run names (directory basenames) a problem's seed_from names."""
    return [n for n, _ in seed_items(keys)]


def problem_keys(path):
    """Scalar keys of a problem.yaml that the README quotes: top-level ones, and block ones as PARENT.KEY."""
    keys = {}
    parent = None
    with open(path) as f:
        for ln in f:
            body = ln.split(" #", 1)[0].rstrip()
            if not body.strip() or body.lstrip().startswith("#") or ":" not in body:
                continue
            k, v = body.split(":", 1)
            if not ln.startswith(" "):
                parent = k.strip() if not v.strip() else None
                keys[k.strip()] = v.strip()
            elif parent and ln.startswith("  ") and not ln.startswith("   "):
                keys[parent + "." + k.strip()] = v.strip()
    return keys


def range_images(spec):
    """Records in a record range or list, FILE[:FIRST[:COUNT]][,...], counted as approxmap loads them:
    COUNT when given, else the rest of FILE (its size / 3073; FILE under $APPROXMAP_DATA, else data/
    in the source tree, as the binary resolves it)."""
    total = 0
    for part in spec.split(","):
        fields = part.split(":")
        nums = []
        while len(nums) < 2 and len(fields) > 1 and fields[-1].isdigit():
            nums.insert(0, int(fields.pop()))
        if len(nums) == 2:
            total += nums[1]
            continue
        path = ":".join(fields)
        if not os.path.isabs(path):
            base = os.environ.get("APPROXMAP_DATA") or os.path.join(
                os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "data")
            path = os.path.join(base, path)
        total += os.path.getsize(path) // 3073 - (nums[0] if nums else 0)
    return total


def hypervolume(points, ref_loss):
    """Area dominated by (energy, loss) points, both minimised, up to the reference point (1, ref_loss);
    points at or beyond it count nothing."""
    area, prev, best = 0.0, ref_loss, ref_loss
    for e, l in sorted(p for p in points if p[0] < 1 and p[1] < ref_loss):
        if l < best:
            area += (1 - e) * (prev - l)
            prev = best = l
    return area


def hms(s):
    s = int(round(s))
    return "%d:%02d:%02d" % (s // 3600, s // 60 % 60, s % 60)


def run(cmd):
    r = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    if r.returncode:
        sys.exit("study: %s failed (exit %d):\n%s" % (" ".join(cmd), r.returncode, r.stderr))


def first_line(path):
    try:
        with open(path) as f:
            return f.readline()
    except OSError:
        return ""


def bootstrap_section(md, runs, nseeds, pairs, n):
    """Append to md the paired bootstrap of the criterion over the n holdout images: for each (fine, coarse)
    pair and budget, the difference of the seed medians of the runs' holdout envelopes as measured, its 95 %
    bootstrap interval and the share of replicates in which the criterion's cell holds. Needs every compared
    run finished (nseeds of each granularity) with RUN/holdout-outcomes.csv for its present front; says so
    when an outcomes file is missing."""
    cgroups = [g for pr in pairs for g in pr]
    crit = [r for r in runs if r["group"] in cgroups and r["done"]]
    if not all(len([r for r in crit if r["group"] == g]) == nseeds for g in cgroups):
        return
    md.append("## How firmly the holdout decides the criterion (paired bootstrap over its images)\n")
    outc = {r["name"]: read_outcomes(r["dir"]) for r in crit}
    missing = sorted(n for n, o in outc.items() if o is None)
    if missing:
        md.append("Not computed: %s %s no per-image holdout outcomes for its present front "
                  "(`scripts/study.sh` writes them, `RUN/holdout-outcomes.csv`).\n"
                  % (", ".join("`%s`" % n for n in missing), "has" if len(missing) == 1 else "have"))
    else:
        maps = {}
        for r in crit:
            ms = []
            for p in r["front"]:
                if not p["feasible"]:
                    continue
                lost, gained = outc[r["name"]][p["id"]]
                if (len(lost), len(gained)) != (p["ho"]["lost"], p["ho"]["gained"]):
                    sys.exit("study: %s/holdout-outcomes.csv disagrees with holdout.csv on map %d"
                             % (r["dir"], p["id"]))
                ms.append((100 * (1 - p["f1"]), lost, gained))
            maps[r["name"]] = ms

        def differences(w):
            """(fine - coarse difference of seed medians) per pair and budget under image weights w."""
            env = {}
            for r in crit:
                losses = [(e, 100.0 * (sum(map(w.__getitem__, lo)) - sum(map(w.__getitem__, ga))) / n)
                          for e, lo, ga in maps[r["name"]]]
                for b in BUDGETS:
                    env[(r["name"], b)] = max([e for e, l in losses if l <= b], default=0.0)
            med = {(g, b): statistics.median(env[(r["name"], b)] for r in crit if r["group"] == g)
                   for g in cgroups for b in BUDGETS}
            return {(f, c, b): round(med[(f, b)] - med[(c, b)], 9) for f, c in pairs for b in BUDGETS}

        def holds(d, b):
            return d > 0 if b in (1, 4) else d >= 0

        observed = differences([1] * n)
        rnd = random.Random(BOOT_SEED)
        boot = []
        for _ in range(BOOT_REPLICATES):
            w = [0] * n
            for i in [int(rnd.random() * n) for _ in range(n)]:
                w[i] += 1
            boot.append(differences(w))
        lo_i, hi_i = BOOT_REPLICATES // 40, BOOT_REPLICATES - 1 - BOOT_REPLICATES // 40
        md.append("The criterion's differences of medians (table above) recomputed %d times on the holdout "
                  "images resampled with replacement (%d of the %d records per replicate, the same draw for "
                  "every map of every run, so the maps stay paired as on the real holdout; Python's "
                  "`random.Random(%d)`, record floor(%d u)): each map's loss is 100 (weight of the images it "
                  "loses - weight of those it gains) / %d, each run's envelope and each granularity's median "
                  "over the seeds as above. The seeds' runs stay fixed, so this measures what the choice of "
                  "holdout images decides, not what another GA seed would. Interval: replicates %d and %d of the "
                  "%d in ascending order (95 %%; a bootstrap of envelopes, which are maxima, is rough in the "
                  "tails). *Cell holds*: the share of replicates in which the difference is >= 0 (> 0 at 1 "
                  "and 4 pp), as the criterion asks. A share far from 0 and 100 %% is a cell that the draw of "
                  "%d test images decides.\n"
                  % (BOOT_REPLICATES, n, n, BOOT_SEED, n, n, lo_i + 1, hi_i + 1, BOOT_REPLICATES, n))
        md.append("| comparison | " + " | ".join("holdout loss <= %g pp" % b for b in BUDGETS) + " |")
        md.append("|---|" + "---|" * len(BUDGETS))
        for f, c in pairs:
            cells = []
            for b in BUDGETS:
                ds = sorted(x[(f, c, b)] for x in boot)
                share = sum(holds(x[(f, c, b)], b) for x in boot)
                cells.append("%+.1f [%+.1f, %+.1f]; holds in %.1f %%" % (observed[(f, c, b)], ds[lo_i], ds[hi_i],
                                                                        100.0 * share / BOOT_REPLICATES))
            md.append("| %s - %s | %s |" % (f, c, " | ".join(cells)))
        whole = sum(all(holds(x[(f, c, b)], b) for f, c in pairs for b in BUDGETS) for x in boot)
        md.append("\nEach cell: the difference of medians on the holdout as it is [95 %% bootstrap interval]; "
                  "the share of replicates in which the cell holds. The whole criterion (every cell of both "
                  "rows) holds in %d of the %d replicates (%.1f %%); on the holdout as it is, it %s.\n"
                  % (whole, BOOT_REPLICATES, 100.0 * whole / BOOT_REPLICATES,
                     "holds" if all(holds(observed[(f, c, b)], b) for f, c in pairs for b in BUDGETS)
                     else "does not hold"))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--bin", required=True)
    ap.add_argument("--threads")
    ap.add_argument("--greedy", type=int, default=1)
    ap.add_argument("--validation")
    ap.add_argument("--problems", default="problems/study")
    ap.add_argument("--seeds", default="1,2")
    ap.add_argument("--hier", type=int, default=0)  # study.sh: kernel.yaml seeds from the filter runs
    a = ap.parse_args()
    seeds = [int(x) for x in a.seeds.split(",")]
    # hierarchical (study.sh decides): the kernel GA is seeded from the filter GA of its seed, and compared
    # with filter2x
    hier = bool(a.hier)
    global GROUPS, GA_GROUPS
    if hier:
        GA_GROUPS = ["layer", "layer2x", "filter", "filter2x", "kernel"]
        GROUPS = ["layer", "layer2x", "filter", "filter2x", "kernel", "greedy"]
    kcoarse = "filter2x" if hier else "filter"  # what kernel is compared with at the same budget
    thr = ["--threads", a.threads] if a.threads else []
    work = os.path.join(a.runs, "study-maps")
    os.makedirs(work, exist_ok=True)

    # --- the runs ---------------------------------------------------------------------------------
    runs = []
    for name, group, gran, seed in run_list(seeds, hier):
        d = os.path.join(a.runs, name)
        if not os.path.exists(os.path.join(d, "study.done")):
            runs.append({"name": name, "group": group, "gran": gran, "seed": seed, "dir": d, "done": False})
            continue
        front = read_front(os.path.join(d, "front.csv"))
        ho = read_holdout(os.path.join(d, "holdout.csv"))
        if ho is None or len(ho) != len(front) or any(h["id"] != r["id"] for h, r in zip(ho, front)):
            sys.exit("study: %s/holdout.csv does not follow its front.csv; run `approxmap report %s`" % (d, d))
        for r, h in zip(front, ho):
            r["ho"] = h
        if a.validation:
            va = read_holdout(os.path.join(d + ".val", "holdout.csv"), a.validation)
            if va is None or len(va) != len(front) or any(h["id"] != r["id"] for h, r in zip(va, front)):
                sys.exit("study: %s.val/holdout.csv is not this front on %s; run scripts/study.sh -v again"
                         % (d, a.validation))
            for r, h in zip(front, va):
                r["val"] = h
        keys = problem_keys(os.path.join(d, "problem.yaml"))
        runs.append({"name": name, "group": group, "gran": gran, "seed": seed, "dir": d, "done": True,
                     "front": front, "gens": read_gens(os.path.join(d, "generations.csv")),
                     "times": read_times(os.path.join(d, "study-times.txt")), "keys": keys})
    done = [r for r in runs if r["done"]]
    if a.validation and done:
        # the pooled loss: search subset and validation records, as one paired count
        ns = range_images(done[0]["keys"].get("data.search", ""))
        for r in done:
            for p in r["front"]:
                v = p["val"]
                p["pool"] = 100.0 * (round(p["f2"] * ns / 100.0) + v["lost"] - v["gained"]) / (ns + v["n"])
    finished = {r["group"] for r in done}  # granularities with at least one finished run
    if not done:
        sys.exit("study: no finished run under %s" % a.runs)
    lib = done[0]["keys"].get("library", "roup8")
    ref = dict(done[0]["front"][0]["ho"], val=done[0]["front"][0].get("val"))
    for r in done:
        for p in r["front"]:
            if (p["ho"]["n"], p["ho"]["exact"]) != (ref["n"], ref["exact"]):
                sys.exit("study: %s measures another holdout than %s" % (r["name"], done[0]["name"]))

    # --- selection on the search subset -----------------------------------------------------------
    def pick(group, b, key, only=None):
        """The selection rule over G's finished runs (with only: that run alone); None when no map qualifies."""
        best = None
        for ri, r in enumerate(runs):
            if r["group"] != group or not r["done"] or (only is not None and r is not only):
                continue
            for p in r["front"]:
                if not p["feasible"] or not key(p) <= b:
                    continue
                k = (p["f1"], key(p), ri, p["row"])
                if best is None or k < best[0]:
                    best = (k, r, p)
        return None if best is None else (best[1], best[2])

    chosen = {(g, b): pick(g, b, lambda p: p["f2"]) for g in GROUPS for b in BUDGETS}
    vchosen = ({(g, b): pick(g, b, lambda p: p["val"]["loss"]) for g in GROUPS for b in BUDGETS}
               if a.validation else {})
    pchosen = ({(g, b): pick(g, b, lambda p: p["pool"]) for g in GROUPS for b in BUDGETS}
               if a.validation else {})
    cchosen = ({(g, b): pick(g, b, lambda p: p["val"]["hi"]) for g in GROUPS for b in BUDGETS}
               if a.validation else {})
    holdout_loss = lambda p: p["ho"]["loss"]
    envelope = {(g, b): pick(g, b, holdout_loss) for g in GROUPS for b in BUDGETS}

    # --- exports of the chosen maps (YAML with bias_delta and holdout figures; JSON for the plots) ----
    mults_path = os.path.join(work, "multipliers.json")
    if not os.path.exists(mults_path):
        with open(mults_path + ".tmp", "w") as f:
            subprocess.run([a.bin, "multipliers", "--format", "json", lib], stdout=f, check=True)
        os.replace(mults_path + ".tmp", mults_path)
    with open(mults_path) as f:
        energy = {m["name"]: m["energy_rel"] for m in json.load(f)["multipliers"]}
    def export_set(chosen, prefix):
        maps = {}
        for g in GROUPS:
            first = {}  # (run, id) -> the budget file exported for it (one export per distinct map)
            for b in EXPORTED:
                yml = os.path.join(a.out, g, "%sloss%s.yaml" % (prefix, bname(b)))
                c = chosen.get((g, b))
                if c is None:
                    if os.path.exists(yml):
                        os.remove(yml)
                    continue
                r, p = c
                os.makedirs(os.path.join(a.out, g), exist_ok=True)
                js = os.path.join(work, "%s-%d.json" % (r["name"], p["id"]))
                tag = "# approxmap export of run '%s': front.csv row %d (archive id %d)" % (r["dir"], p["row"], p["id"])
                if not first_line(yml).startswith(tag):
                    src = first.get((r["name"], p["id"]))
                    if src is None:
                        run([a.bin, "export", r["dir"], "--id", str(p["id"]), "-o", yml] + thr)
                    else:
                        # the same map as an earlier budget's file: that export, with this file's path in its
                        # `approxmap eval --map` lines
                        with open(src) as f:
                            write_if_changed(yml, f.read().replace(" --map %s " % src, " --map %s " % yml))
                first.setdefault((r["name"], p["id"]), yml)
                try:
                    with open(js) as f:
                        m = json.load(f)
                    fresh = m["run"] == r["dir"] and m["id"] == p["id"]
                except (OSError, ValueError, KeyError):
                    fresh = False
                if not fresh:
                    run([a.bin, "export", r["dir"], "--id", str(p["id"]), "--no-holdout", "--format", "json", "-o", js]
                        + thr)
                    with open(js) as f:
                        m = json.load(f)
                maps[(g, b)] = m

        # the holdout figures in each shipped YAML are the ones of holdout.csv (measured twice, same engine)
        for (g, b), m in maps.items():
            p = chosen[(g, b)][1]
            want = "(%d/%d), loss %.2f pp" % (p["ho"]["correct"], p["ho"]["n"], p["ho"]["loss"])
            with open(os.path.join(a.out, g, "%sloss%s.yaml" % (prefix, bname(b)))) as f:
                text = f.read()
            if want not in text:
                sys.exit("study: %s/%s/%sloss%s.yaml disagrees with holdout.csv (%s)"
                         % (a.out, g, prefix, bname(b), want))
        return maps

    maps = export_set(chosen, "")
    vmaps = export_set(vchosen, "val-")
    pmaps = export_set(pchosen, "pool-")
    cmaps = export_set(cchosen, "conf-")

    # --- plots --------------------------------------------------------------------------------------
    term = ("if (strstrt(GPVAL_TERMINALS, 'pngcairo') > 0) { set terminal pngcairo noenhanced size 960,640 } "
            "else { set terminal png noenhanced size 960,640 }\n")
    plots = []  # (base, data text, script text)
    dat = "# energy search_loss_pp holdout_loss_pp ci_lo_pp ci_hi_pp feasible; one block per run (index i)\n"
    titles = []
    for r in done:
        dat += "# %s\n" % r["name"]
        for p in r["front"]:
            h = p["ho"]
            dat += "%.10g %.10g %.10g %.10g %.10g %d\n" % (p["f1"], p["f2"], h["loss"], h["lo"], h["hi"], p["feasible"])
        dat += "\n\n"
        titles.append(r["name"])
    for base, what, col in (("fronts_search", "search-subset loss (what the runs optimised)", "1:2"),
                            ("fronts_holdout", "holdout loss, exact 95 % CI (not seen by the search)", "1:3:4:5")):
        gp = "# approxmap study: fronts of every run, energy against %s (data: fronts.dat)\nreset\n%s" % (what, term)
        gp += "set output '%s.png'\nset grid\nset key top right\nset title 'fronts: energy against %s'\n" % (base, what)
        gp += "set xlabel 'energy relative to the all-exact map'\nset ylabel 'accuracy loss vs exact int8 (pp)'\n"
        style = "with linespoints" if col == "1:2" else "with yerrorbars"
        gp += "plot " + ", \\\n     ".join("'fronts.dat' index %d using %s %s pt %d title '%s'" % (i, col, style, 7 + i % 6, t)
                                           for i, t in enumerate(titles)) + "\n"
        plots.append((base, "fronts.dat", dat, gp))
    for (g, b), m in sorted(maps.items(), key=lambda kv: (GROUPS.index(kv[0][0]), kv[0][1])):
        base = "heat_%s_loss%s" % (g, bname(b))
        maxc = max(L["cout"] for L in m["layers"])
        d = "# layer output_channel mean_relative_energy_per_multiplication (%s, loss <= %g pp map)\n" % (g, b)
        for co in range(maxc):
            for li, L in enumerate(m["layers"]):
                if co >= L["cout"]:
                    continue
                if "multiplier" in L:
                    e = energy[L["multiplier"]]
                else:
                    row = L["kernels"][co]
                    e = sum(energy[k] for k in row) / len(row)
                d += "%d %d %.6f\n" % (li, co, e)
        gp = "# approxmap study: the %s map chosen at search loss <= %g pp (data: %s.dat)\nreset\n%s" % (g, b, base, term)
        gp += "set output '%s.png'\n" % base
        gp += ("set title '%s, search loss <= %g pp: relative energy per multiplication of each filter'\n"
               "set xlabel 'layer'\nset ylabel 'output channel'\nset cblabel 'relative energy'\n"
               "set xrange [-0.5:%d.5]\nset yrange [-0.5:%d.5]\nset cbrange [0:1]\nset palette rgb 33,13,10\n"
               "set xtics 1\nplot '%s.dat' using 1:2:(0.5):(0.5):3 with boxxyerror fc palette fs solid notitle\n"
               % (g, b, len(m["layers"]) - 1, maxc - 1, base))
        plots.append((base, base + ".dat", d, gp))
    drawn = 1
    for base, dname, d, gp in plots:
        changed = write_if_changed(os.path.join(a.out, dname), d)
        changed |= write_if_changed(os.path.join(a.out, base + ".gp"), gp)
        if changed or not os.path.exists(os.path.join(a.out, base + ".png")):
            r = subprocess.run([os.environ.get("APPROXMAP_GNUPLOT", "gnuplot"), base + ".gp"], cwd=a.out,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            if r.returncode:
                drawn = 0
                if os.path.exists(os.path.join(a.out, base + ".png")):
                    os.remove(os.path.join(a.out, base + ".png"))
    drawn = drawn and all(os.path.exists(os.path.join(a.out, b + ".png")) for b, _, _, _ in plots)

    # --- README ---------------------------------------------------------------------------------------
    k0 = done[0]["keys"]
    top = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    probdir = os.path.relpath(os.path.abspath(a.problems), top)
    if probdir.startswith(".."): probdir = a.problems
    ml = k0.get("multipliers", "").split("#")[0].strip().strip("[]")
    mults = "all" if not ml else "%d (%s)" % (len(ml.split(",")), ", ".join("`%s`" % m.strip() for m in ml.split(",")))
    # greedy runs that seed the filter / kernel GAs (a seed_from list), in the order the runs table lists them
    greedy_seeds = sorted({b for r in done if r["group"] in ("filter", "kernel") for b in seed_runs(r["keys"])
                           if b.startswith("greedy-")})
    md = ["# Granularity study: layer, filter, kernel and greedy maps at one evaluation budget\n",
          "Written by `scripts/study.sh -r %s -o %s -p %s` (do not edit: running it again regenerates this file "
          "byte for byte from the run directories). Every figure below is read from files the script "
          "produced: each run's `front.csv`, `generations.csv`, `holdout.csv` (written by `approxmap report`) "
          "and `study-times.txt`, and the exported maps in this directory.\n"
          % (a.runs, a.out, probdir + (" -v " + a.validation if a.validation else "")
             + (" -S " + a.seeds if a.seeds != "1,2" else "")),
          "## Set-up\n",
          *(["- **Partial study:** %d of %d runs finished (table *Runs*); every table below uses the finished "
             "ones only. Running the same command again (without `-n`) continues the others."
             % (len(done), len(runs))] if len(done) < len(runs) else []),
          "- Model `%s`, library `%s` (relative energies; allowed multipliers: %s), compensation `%s`, early "
          "rejection `%s`, constraint search loss <= %s pp; calibration `%s` (training images)."
          % (k0.get("model", "?"), lib, mults, k0.get("compensate", "none"), k0.get("early_reject", "false"),
             k0.get("max_loss_pp", "?"), k0.get("data.calibration", "?")),
          "- Search subset `%s`: what every run scored and what selection uses. Holdout `%s`: %d images never "
          "seen by a search; exact int8 gets %d right (%.2f %%). Loss in pp against the exact int8 model on "
          "the same images." % (k0.get("data.search", "?"), k0.get("data.holdout", "?"), ref["n"], ref["exact"],
                                100.0 * ref["exact"] / ref["n"]),
          "- Runs and the evaluations each spent: table *Runs* below. Problem files: `%s/` (each run "
          "holds its copy, `problem.yaml`, with `seed_from` pointing into the runs directory)." % probdir,
          "- **Selection (search subset only):** for granularity G and budget B, among the feasible maps on "
          "the final fronts of G's runs (%s; for the greedy, its filter and kernel runs), the "
          "lowest-energy map whose search-subset loss is <= B pp (ties: lower search loss, then the run "
          "listed first in *Runs*, then the lower front row). Its holdout loss is then reported, not used."
          % ("both GA seeds" if len(seeds) == 2 else "GA seeds %s" % ", ".join(map(str, seeds))),
          *(["- **Selection on validation records (second table):** the same rule with the loss on `%s` in "
             "place of the search loss: %s, neither searched on nor in the holdout. The search loss of a front "
             "map is optimistic, because the front keeps the maps whose loss the search images happened to "
             "underestimate; the validation loss measures the same maps on images no search chose them on."
             % (a.validation, "test records, from the holdout's distribution" if "test_batch" in a.validation
                else "records from the search subset's distribution")]
            if a.validation else []),
          *(["- **Selection on the pooled loss (third table):** the same rule with the loss on the "
             "search subset and the validation records together (%d + %d images): 100 ((b - c) on the search "
             "subset + (b - c) on the validation records) / %d. The search loss alone is optimistic (above) and "
             "the validation loss alone rests on fewer images; the pooled loss dilutes the first and steadies "
             "the second." % (ns, ref["val"]["n"], ns + ref["val"]["n"])] if a.validation else []),
          *(["- **Confident selection on validation records (fourth table):** the same rule with the upper "
             "end of the map's exact 95 % CI on the validation records (below) in place of the loss: the "
             "cheapest map whose validation loss stays <= B pp at that end. The cheapest map whose point loss "
             "is <= B is the one whose loss its images underestimated most, and it loses more on fresh "
             "images; the upper end asks the validation records for a margin as wide as their own noise."]
            if a.validation else []),
          ("- **Same evaluation budget:** filter-sS and kernel-sS are seeded from layer-sS's front%s, so their "
           "maps cost layer-sS's evaluations%s plus their own. *layer2x* is the layer search given that budget "
           "(layer-sS continued to twice its generations); compare filter and kernel against layer2x, and "
           "layer against the others only as the cheaper run it is%s." % (
               (" and the front of %s" % " / ".join("`%s`" % g for g in greedy_seeds),
                ", those of %s" % " / ".join("`%s`" % g for g in greedy_seeds),
                " (plus the greedy's few evaluations, counted in *Runs*, which layer2x does not get)")
               if greedy_seeds else ("", "", ""))) if not hier else
          ("- **Same evaluation budget (hierarchical study):** filter-sS is seeded from layer-sS's front%s, so "
           "its maps cost layer-sS's evaluations plus its own; *layer2x* is the layer search given that budget "
           "(layer-sS continued to twice its generations), and filter is compared with it. kernel-sS is seeded "
           "from filter-sS's final front%s, so its maps cost layer-sS's, filter-sS's and its own evaluations; "
           "*filter2x* is the filter search given that budget (filter-sS continued to twice its "
           "generations), and kernel is compared with it%s." % (
               " and `greedy-filter`'s" if "greedy-filter" in greedy_seeds else "",
               " and `greedy-kernel`'s" if "greedy-kernel" in greedy_seeds else "",
               " (plus the greedy's few evaluations, counted in *Runs*, which filter2x does not get)"
               if "greedy-kernel" in greedy_seeds else "")),
          "- **Holdout statistics (exact, paired):** b = holdout images the exact int8 model gets right and "
          "the map wrong, c = the reverse; loss = 100 (b - c) / n. The 95 % CI is the Clopper-Pearson "
          "interval of b / (b + c), conditional on b + c, mapped to the loss; p is the two-sided exact "
          "McNemar test (b ~ Binomial(b + c, 1/2)). Both through GSL (`approx_paired_exact`, src/approx/approx.h).\n"]

    val_col = ("validation loss (pp)", lambda p: p["val"]["loss"])

    def budget_table(title, what, ch, extra=()):
        """The table of the maps ch selected at each budget; extra: (header, figure of a map) columns after
        the search loss."""
        vh = "".join(" %s |" % w for w, _ in extra)
        md.append(title)
        md.append("| granularity | %s loss <= | energy saved | run, front row (id) | search loss (pp) |%s "
                  "holdout loss (pp) [95 %% CI] | McNemar p | b / c |" % (what, vh))
        md.append("|---|---:|---:|---|---:|%s---|---:|---:|" % ("---:|" * len(extra)))
        blank = " |" * (5 + len(extra))
        for g in GROUPS:
            if g not in finished:
                md.append("| %s | | no finished run |%s" % (g, blank))
                continue
            for b in BUDGETS:
                c = ch[(g, b)]
                if c is None:
                    md.append("| %s | %g pp | no map |%s" % (g, b, blank))
                    continue
                r, p = c
                h = p["ho"]
                md.append("| %s | %g pp | %.1f %% | %s, %d (%d) | %.2f |%s %.2f [%.2f, %.2f] | %.3g | %d / %d |"
                          % (g, b, 100 * (1 - p["f1"]), r["name"], p["row"], p["id"], p["f2"],
                             "".join(" %.2f |" % f(p) for _, f in extra), h["loss"], h["lo"], h["hi"], h["p"],
                             h["lost"], h["gained"]))

    budget_table("## Energy saved at a search-loss budget (selected on the search subset; holdout reported)\n",
                 "search", chosen)
    md.append("\nA small p says the map's accuracy differs from the exact model's on the holdout; with p large "
              "the holdout cannot tell them apart.\n")
    if a.validation:
        budget_table("## Energy saved at a validation-loss budget (selected on `%s`; holdout reported)\n"
                     % a.validation, "validation", vchosen, [val_col])
        md.append("")
        budget_table("## Energy saved at a pooled-loss budget (selected on the search subset and `%s` "
                     "together; holdout reported)\n" % a.validation, "pooled", pchosen,
                     [val_col, ("pooled loss (pp)", lambda p: p["pool"])])
        md.append("")
        budget_table("## Energy saved at a confident validation-loss budget (selected on the upper end of the "
                     "exact 95 %% CI on `%s`; holdout reported)\n" % a.validation, "validation CI upper end",
                     cchosen, [val_col, ("validation CI upper end (pp)", lambda p: p["val"]["hi"])])
        md.append("")

    md.append("## For reference only: the front envelope on the holdout (HOLDOUT-SELECTED, biased)\n")
    md.append("Energy saved by the cheapest front map whose *holdout* loss is <= B. Choosing on the holdout "
              "uses it twice, so these figures flatter the maps; the table above is the honest one.\n")
    md.append("| granularity | " + " | ".join("holdout loss <= %g pp" % b for b in BUDGETS) + " |")
    md.append("|---|" + "---:|" * len(BUDGETS))
    for g in GROUPS:
        if g not in finished:
            md.append("| %s | no finished run |%s" % (g, " |" * (len(BUDGETS) - 1)))
            continue
        cells = []
        for b in BUDGETS:
            c = envelope[(g, b)]
            cells.append("none" if c is None else "%.1f %% (%.2f)" % (100 * (1 - c[1]["f1"]), c[1]["ho"]["loss"]))
        md.append("| %s | %s |" % (g, " | ".join(cells)))
    md.append("\nIn brackets: the holdout loss (pp) of that map.\n")

    # each GA seed's holdout envelope and the median over the seeds (0 % when no map qualifies: the
    # all-exact map meets every budget)
    def seed_table(key):
        """Rows of the per-seed envelope under loss key (holdout or validation) and the median differences."""
        md.append("| granularity | seeds | " + " | ".join("%s loss <= %g pp" % (key, b) for b in BUDGETS) + " |")
        md.append("|---|---|" + "---:|" * len(BUDGETS))
        loss = holdout_loss if key == "holdout" else (lambda p: p["val"]["loss"])
        med = {}
        for g in GA_GROUPS:
            rs = [r for r in runs if r["group"] == g and r["done"]]
            if len(rs) < len(seeds):
                md.append("| %s | %d of %d finished | %s" % (g, len(rs), len(seeds), " |" * len(BUDGETS)))
                continue
            cells = []
            for b in BUDGETS:
                per = [0.0 if c is None else 100 * (1 - c[1]["f1"])
                       for c in (pick(g, b, loss, r) for r in rs)]
                med[(g, b)] = statistics.median(per)
                cells.append("**%.1f** (%s)" % (med[(g, b)], " / ".join("%.1f" % x for x in per)))
            md.append("| %s | %s | %s |" % (g, " / ".join("s%d" % r["seed"] for r in rs), " | ".join(cells)))
        for fine, coarse in (("filter", "layer2x"), ("kernel", kcoarse)):
            if all((g, b) in med for g in (fine, coarse) for b in BUDGETS):
                md.append("| %s - %s | medians | %s |" % (fine, coarse, " | ".join(
                    "%+.1f" % (med[(fine, b)] - med[(coarse, b)]) for b in BUDGETS)))

    md.append("## Each seed's holdout envelope, and the median over the seeds\n")
    md.append("Energy saved (%%) by the cheapest feasible front map of run G-sS whose holdout loss is <= B, for "
              "GA seeds %s (0.0 when no map qualifies: the all-exact map, which saves nothing, meets every budget), "
              "and the median over the seeds. Like the envelope above it chooses on the holdout, but a "
              "granularity's median does not rest on one map. This is the criterion declared for issue 11's "
              "first acceptance line (finer at least as good as coarser at every budget, strictly better at 1 "
              "and 4 pp, at the same evaluation budget: filter against layer2x, kernel against %s), "
              "before the third seed of study v5 was read.\n" % (", ".join(map(str, seeds)), kcoarse))
    seed_table("holdout")
    md.append("\nBold: the median over the seeds; in brackets, each seed's figure. The last rows: the "
              "difference of the medians in points of energy saved (>= 0 at every budget and > 0 at 1 and 4 pp "
              "is what the criterion asks).\n")
    if a.validation:
        md.append("### The same envelope on the validation records\n")
        md.append("The table above computed with the loss on `%s` in place of the holdout loss: the same front "
                  "maps measured on a second image set that no search chose them on, so a second sample of the "
                  "criterion (not a replacement for it: these are training images, the holdout is test images). "
                  "Where a difference of medians changes sign between the two tables, it is smaller than what "
                  "one image set of this size resolves.\n" % a.validation)
        seed_table("validation")
        md.append("")

    # how firmly the holdout decides the criterion: a paired bootstrap over the holdout images
    bootstrap_section(md, runs, len(seeds), (("filter", "layer2x"), ("kernel", kcoarse)), ref["n"])

    # how optimistic each granularity's search loss is, and how finely the holdout measures one map
    md.append("## How much the search loss flatters the front maps\n")
    md.append("Mean over the feasible final-front maps of G's finished runs (all seeds; for the greedy, its "
              "runs) of the holdout loss minus the search loss%s, split at a search loss of 1 pp; and the mean "
              "half-width of the maps' exact 95 %% holdout CI. A search keeps the maps whose loss its images "
              "happened to underestimate, so the difference is the selection's optimism. The same optimism in "
              "every granularity means the finer searches do not overfit more; a half-width as large as the "
              "steps between front maps at a budget means the holdout envelope at that budget is decided by "
              "which of those maps its images favour.\n" % (" (and the validation loss minus the search loss)"
                                                              if a.validation else ""))
    bands = (("< 1 pp", lambda s: s < 1), (">= 1 pp", lambda s: s >= 1))
    figures = 3 if a.validation else 2  # columns after a band's map count
    md.append("| granularity | " + " | ".join(
        "maps, search loss %s | holdout - search (pp)%s | holdout CI half-width (pp)"
        % (bn, " | validation - search (pp)" if a.validation else "") for bn, _ in bands) + " |")
    md.append("|---|" + "---:|" * ((1 + figures) * len(bands)))
    for g in GROUPS:
        if g not in finished:
            continue
        cells = []
        for _, inband in bands:
            ps = [p for r in runs if r["group"] == g and r["done"] for p in r["front"]
                  if p["feasible"] and inband(p["f2"])]
            if not ps:
                cells += ["0"] + [""] * figures
                continue
            cells.append("%d" % len(ps))
            cells.append("%+.2f" % statistics.mean(p["ho"]["loss"] - p["f2"] for p in ps))
            if a.validation:
                cells.append("%+.2f" % statistics.mean(p["val"]["loss"] - p["f2"] for p in ps))
            cells.append("%.2f" % statistics.mean((p["ho"]["hi"] - p["ho"]["lo"]) / 2 for p in ps))
        md.append("| %s | %s |" % (g, " | ".join(cells)))
    md.append("")

    md.append("## Runs\n")
    ref_loss = float(k0.get("max_loss_pp", "4"))
    md.append("| run | kind | seeded from | generations | evaluations | search wall time | wall time "
              "(all invocations) | CPU time (all invocations) | invocations | hypervolume, search | "
              "hypervolume, holdout |" + (" hypervolume, validation |" if a.validation else ""))
    md.append("|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|" + ("---:|" if a.validation else ""))
    for r in runs:
        if not r["done"]:
            why = "not available in this binary" if r["group"] == "greedy" and not a.greedy else "not finished"
            md.append("| %s | | %s | | | | | | | | |%s" % (r["name"], why, " |" if a.validation else ""))
            continue
        k = r["keys"]
        if r["seed"] is None:
            with open(os.path.join(r["dir"], "study.done")) as f:
                step = f.read().split()[-1]
            kind, src = "greedy, %s, direct, step %s" % (r["gran"], step), "none (sensitivity order)"
        elif r["group"] in ("layer2x", "filter2x"):
            base = "%s-s%d" % (r["gran"], r["seed"])
            kind = "NSGA-II seed %d, %s, %s: `%s` continued" % (r["seed"], r["gran"], k.get("encoding", "direct"), base)
            src = "as `%s`" % base
        else:
            enc = k.get("encoding", "direct")
            kind = "NSGA-II seed %d, %s, %s%s" % (r["seed"], r["gran"], enc,
                                                  ", %s shares" % k.get("shares", "4") if enc == "ranked" else "")
            src = []
            if k.get("seed_greedy") and k["seed_greedy"] != "0":
                src.append("%s sensitivity-greedy maps" % k["seed_greedy"])
            if seed_runs(k):
                src.append(" + ".join("`%s` front%s" % (b, " (%d maps)" % m if m else "") for b, m in seed_items(k)))
            src.append("uniform maps")
            src = " + ".join(src)
        gl = r["gens"]
        t = r["times"]
        fe = [p for p in r["front"] if p["feasible"]]
        md.append("| %s | %s | %s | %s | %s | %s | %s | %s | %s | %.4f | %.4f |"
                  % (r["name"], kind, src, gl["generation"] if gl else "", gl["evaluations"] if gl else "",
                     hms(float(gl["seconds"])) if gl else "",
                     (hms(t[0]) + ("" if t[3] else " (+ runs before)")) if t else "not recorded",
                     (hms(t[1]) + ("" if t[3] else " (+ runs before)")) if t else "not recorded", t[2] if t else "",
                     hypervolume([(p["f1"], p["f2"]) for p in fe], ref_loss),
                     hypervolume([(p["f1"], p["ho"]["loss"]) for p in fe], ref_loss))
                  + (" %.4f |" % hypervolume([(p["f1"], p["val"]["loss"]) for p in fe], ref_loss)
                     if a.validation else ""))
    md.append("\nEvaluations: maps scored on the search subset by that run (generations.csv). A seeded run's "
              "budget does not include the run it was seeded from: filter-sS and kernel-sS start from "
              "%s, so they have spent %s plus their own; layer2x-sS is layer-sS "
              "continued to twice its generations, the layer search at that same budget%s (the "
              "sensitivity-greedy seeds come from the estimate alone and cost no evaluation; the greedy runs' "
              "evaluations include their per-layer calibration maps). Search wall time: "
              "the run's own clock (generations.csv, all sessions); wall and CPU time: every invocation the "
              "script made (set-up included, user + system CPU of all threads); \"+ runs before\": the run was "
              "started outside the script, whose figures then miss those sessions. Hypervolume: the area "
              "that the run's feasible final front dominates in (relative energy, loss in pp) up to the "
              "reference point (1, %g pp), with the search-subset loss and with the holdout loss of the same "
              "maps: the holdout column compares the fronts without any selection%s.\n"
              % ((("layer-sS's front", "layer-sS's evaluations", "") if not hier else
                 ("layer-sS's and filter-sS's fronts", "layer-sS's evaluations (and kernel-sS filter-sS's)",
                  ", and filter2x-sS is filter-sS continued likewise, the filter search at kernel-sS's budget")
                 ) + (ref_loss, "; the validation column does the same on the validation records, a second "
                 "image set no run chose its maps on" if a.validation else "")))

    md.append("## Shipped maps\n")
    md.append("`approxmap export` of the maps chosen above (search loss <= B), with their `bias_delta`; "
              "`approxmap eval --map FILE` reproduces their figures (the reproduce lines are in each file).\n")
    md.append("| map | energy saved | holdout loss (pp) | layers using >= 2 multipliers |")
    md.append("|---|---:|---:|---:|")
    for prefix, ms, ch in (("", maps, chosen), ("val-", vmaps, vchosen), ("pool-", pmaps, pchosen),
                           ("conf-", cmaps, cchosen)):
        for g in GROUPS:
            for b in EXPORTED:
                if (g, b) not in ms:
                    continue
                m = ms[(g, b)]
                p = ch[(g, b)][1]
                multi = sum(1 for L in m["layers"]
                            if "kernels" in L and len({x for row in L["kernels"] for x in row}) >= 2)
                f = "%s/%sloss%s.yaml" % (g, prefix, bname(b))
                md.append("| [%s](%s) | %.1f %% | %.2f | %d of %d |"
                          % (f, f, 100 * (1 - p["f1"]), p["ho"]["loss"], multi, len(m["layers"])))
    if vmaps:
        md.append("\n`val-lossB.yaml`: the maps of the validation-loss selection; `pool-lossB.yaml`: those of the "
                  "pooled selection; `conf-lossB.yaml`: those of the confident selection.")
    md.append("")

    md.append("## Plots\n")
    if not drawn:
        md.append("Some plots were not drawn (gnuplot missing or failing); the data (`*.dat`) and scripts "
                  "(`*.gp`) are here: `cd %s && gnuplot *.gp`.\n" % a.out)
    md.append("![fronts, search subset](fronts_search.png)\n\nFronts of every run, search-subset loss.\n")
    md.append("![fronts, holdout](fronts_holdout.png)\n\nThe same maps on the holdout, exact 95 % CI.\n")
    md.append("Maps chosen at each budget: mean relative energy per multiplication of every filter "
              "(layer by output channel; 1 = exact).\n")
    for g in GROUPS:
        have = [b for b in EXPORTED if (g, b) in maps]
        if not have:
            continue
        md.append("| %s | %s |" % (g, " | ".join("<= %g pp" % b for b in have)))
        md.append("|---|" + "---|" * len(have))
        md.append("| | %s |" % " | ".join("![%s %g](heat_%s_loss%s.png)" % (g, b, g, bname(b)) for b in have))
        md.append("")
    write_if_changed(os.path.join(a.out, "README.md"), "\n".join(md).rstrip("\n") + "\n")


if __name__ == "__main__":
    main()
