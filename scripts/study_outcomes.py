#!/usr/bin/env python3
"""Per-image holdout outcomes of every front map of a finished run, for the study README's paired bootstrap:

    study_outcomes.py --bin APPROXMAP RUN [RUN ...] [--jobs J]   (J: evaluations at once; 0 or default: cores)

For each RUN (a finished `approxmap search` or `greedy` run whose `approxmap report` wrote RUN/holdout.csv),
exports every front map (`approxmap export --all --no-holdout`), measures it on the run's holdout records
with `approxmap eval --map --logits` (the exact network's predictions once, with --exact-logits) and writes
RUN/holdout-outcomes.csv: per map id, the holdout records (offsets from the first holdout record) that the
exact int8 model gets right and the map wrong ("lost", b) and the reverse ("gained", c). Every map's b and c
are checked against the `lost` and `gained` columns of RUN/holdout.csv, which `approxmap report` counted
from the same paired outcomes; a difference is an error. The file names the front.csv it belongs to (a hash
of its bytes), so a run whose front changed is measured again; otherwise it is left alone. Written through
a temporary file and a rename. Data paths resolve as the binary resolves them ($APPROXMAP_DATA).
Exit status: 0 done, 1 failure."""
import argparse
import concurrent.futures
import os
import re
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from study_readme import outcomes_key, problem_keys, read_holdout  # noqa: E402  (one reader of each file)


def predictions(path):
    """(label, prediction) per record of an --logits CSV, in record order."""
    out = []
    with open(path) as f:
        next(f)
        for ln in f:
            p = ln.split(",", 3)
            out.append((int(p[1]), int(p[2])))
    return out


def evaluate(binary, common, doc, tmp, i):
    """The (label, prediction) pairs of one exported map (YAML text) on the holdout."""
    mp = os.path.join(tmp, "map%d.yaml" % i)
    lg = os.path.join(tmp, "logits%d.csv" % i)
    with open(mp, "w") as f:
        f.write(doc)
    r = subprocess.run([binary, "eval"] + common + ["--map", mp, "--logits", lg],
                       stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    if r.returncode:
        sys.exit("study_outcomes: approxmap eval of %s failed (exit %d):\n%s" % (mp, r.returncode, r.stderr))
    return predictions(lg)


def one_run(binary, run, jobs):
    k = problem_keys(os.path.join(run, "problem.yaml"))
    spec = k.get("data.holdout", "")
    ho = read_holdout(os.path.join(run, "holdout.csv"), spec)
    if ho is None:
        sys.exit("study_outcomes: %s: no holdout.csv for the holdout %s; run approxmap report first" % (run, spec))
    counts = {h["id"]: (h["lost"], h["gained"]) for h in ho}
    out = os.path.join(run, "holdout-outcomes.csv")
    head = "%s holdout=%s" % (outcomes_key(run), spec)
    try:
        with open(out) as f:
            if f.readline().rstrip("\n") == head:
                return 0
    except OSError:
        pass
    fields = spec.split(":")
    if len(fields) < 3:
        sys.exit("study_outcomes: %s: holdout %s is not FILE:FIRST:COUNT" % (run, spec))
    common = ["--model", k["model"], "--calib", k["data.calibration"], "--data", ":".join(fields[:-2]),
              "--first", fields[-2], "--count", fields[-1], "--threads", "1", "--no-float"]
    lib = ["--library", k.get("library", "roup8")]
    with tempfile.TemporaryDirectory(prefix="outcomes.") as tmp:
        allmaps = os.path.join(tmp, "all.yaml")
        r = subprocess.run([binary, "export", run, "--all", "--no-holdout", "--threads", str(jobs), "-o", allmaps],
                           stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        if r.returncode:
            sys.exit("study_outcomes: approxmap export %s --all failed (exit %d):\n%s" % (run, r.returncode, r.stderr))
        with open(allmaps) as f:
            docs = [d for d in re.split(r"(?m)^---\n", f.read()) if d.strip()]
        ids = []
        for d in docs:
            m = re.search(r"archive id (\d+)", d)
            if not m:
                sys.exit("study_outcomes: %s: an exported map names no archive id" % run)
            ids.append(int(m.group(1)))
        ex = os.path.join(tmp, "exact.csv")
        r = subprocess.run([binary, "eval"] + common + ["--exact-logits", ex],
                           stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        if r.returncode:
            sys.exit("study_outcomes: approxmap eval (exact) failed (exit %d):\n%s" % (r.returncode, r.stderr))
        exact = [lab == pred for lab, pred in predictions(ex)]
        with concurrent.futures.ThreadPoolExecutor(max_workers=jobs) as pool:
            preds = list(pool.map(lambda a: evaluate(binary, common + lib, a[1], tmp, a[0]), enumerate(docs)))
    lines = [head, "# %d records, exact int8 right on %d; lost: exact right and map wrong (b); gained: the reverse (c)"
             % (len(exact), sum(exact)), "id,lost,gained"]
    for mid, p in zip(ids, preds):
        if len(p) != len(exact):
            sys.exit("study_outcomes: %s: map %d measured %d records, the exact network %d" % (run, mid, len(p), len(exact)))
        lost = [str(i) for i, (e, (lab, pred)) in enumerate(zip(exact, p)) if e and pred != lab]
        gained = [str(i) for i, (e, (lab, pred)) in enumerate(zip(exact, p)) if not e and pred == lab]
        if mid not in counts or counts[mid] != (len(lost), len(gained)):
            sys.exit("study_outcomes: %s: map %d loses %d and gains %d holdout images here, but holdout.csv says %s"
                     % (run, mid, len(lost), len(gained), counts.get(mid)))
        lines.append("%d,%s,%s" % (mid, " ".join(lost), " ".join(gained)))
    if len(ids) != len(counts):
        sys.exit("study_outcomes: %s: %d exported maps, %d in holdout.csv" % (run, len(ids), len(counts)))
    tmpf = out + ".tmp"
    with open(tmpf, "w") as f:
        f.write("\n".join(lines) + "\n")
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmpf, out)
    return 1


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--bin", required=True)
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    ap.add_argument("runs", nargs="+")
    a = ap.parse_args()
    for run in a.runs:
        if one_run(a.bin, run, a.jobs if a.jobs > 0 else os.cpu_count() or 1):
            print("study_outcomes: %s: holdout-outcomes.csv written" % run, file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
