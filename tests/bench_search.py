#!/usr/bin/env python3
"""Search throughput of `make bench` (run by tests/bench_cnn.sh from the build directory).

usage: bench_search.py APPROXMAP SRC_DIR [BASELINE_APPROXMAP] [ROUNDS]

Runs `approxmap search` on tests/data/bench_search_layer.yaml and tests/data/bench_search_kernel.yaml
(ResNet-8, 2,000 search images, layer- and kernel-level ROUP maps, 16 evaluations each) and prints
evaluations per second two ways:
  per CPU-second  evaluations / CPU time of the whole search process (user + system, all threads,
                  set-up included: import, quantization, calibration, data loading); robust on a
                  machine shared with other jobs;
  per wall-second  evaluations / wall time of the whole search process (set-up included, as for the
                  CPU figure); what a user waits for, but only meaningful on an idle machine;
and, for reference, per wall-second between the first and the last generation ("eval/s gen 2+":
generations.csv's evaluations and seconds columns, set-up and the first generation excluded).
Every rate is computed from the median time of the rounds (evaluations / median seconds; each run does
the same evaluations), so the rate columns equal the evaluations over the seconds columns printed.
With a BASELINE binary (the previous release, e.g. BENCH_BASELINE=/path/to/old/approxmap), each problem
runs with both binaries interleaved (new, old, new, old ... over ROUNDS rounds, default 2), reports the
median of each, the ratio new/old, and whether the two fronts are byte-identical (the same work done).
The last lines are "key value" pairs.
"""
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time


def run(binary, problem, out):
    r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    w0 = time.perf_counter()
    p = subprocess.run([binary, "search", problem, "-o", out, "--force"], stdout=subprocess.DEVNULL,
                       stderr=subprocess.PIPE, text=True)
    wall = time.perf_counter() - w0
    r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    if p.returncode != 0:
        raise RuntimeError(f"{binary} search {problem} failed ({p.returncode}): {p.stderr.strip()[-500:]}")
    cpu = (r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime)
    with open(os.path.join(out, "generations.csv")) as f:
        rows = [line.strip().split(",") for line in f if line.strip() and not line.startswith("generation")]
    evals = int(rows[-1][1])
    between = (int(rows[-1][1]) - int(rows[0][1])) / (float(rows[-1][5]) - float(rows[0][5])) if len(rows) > 1 else 0
    with open(os.path.join(out, "front.csv"), "rb") as f:
        front = f.read()
    return {"between": between, "evals": evals, "cpu_s": cpu, "wall_s": wall, "front": front}


def main():
    if len(sys.argv) < 3:
        print(__doc__.split("\n\n")[1], file=sys.stderr)
        return 2
    binary, src = sys.argv[1], sys.argv[2]
    base = sys.argv[3] if len(sys.argv) > 3 and sys.argv[3] else None
    rounds = int(sys.argv[4]) if len(sys.argv) > 4 else (2 if base else 1)
    data = os.environ.get("APPROXMAP_DATA", os.path.join(src, "data"))
    if not os.path.exists(os.path.join(data, "models", "resnet8_mlperf_float.onnx")):
        print(f"# search throughput skipped: no model under '{data}'")
        return 0
    if base and not os.access(base, os.X_OK):
        print(f"# BENCH_BASELINE '{base}' is not an executable: baseline skipped")
        base = None
    bins = [("new", os.path.abspath(binary))] + ([("baseline", os.path.abspath(base))] if base else [])
    tmp = tempfile.mkdtemp(prefix="approxmap-bench-search-")
    res = {}
    try:
        for level in ("layer", "kernel"):
            problem = os.path.join(src, "tests", "data", f"bench_search_{level}.yaml")
            for r in range(rounds):
                for name, b in bins:  # new, old, new, old ...
                    res.setdefault((level, name), []).append(run(b, problem, os.path.join(tmp, f"{level}-{name}-{r}")))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print(f"\n## search throughput: ResNet-8, 2,000 search images, 16 evaluations per search, median of {rounds} "
          f"run{'s' if rounds > 1 else ''}{' interleaved with the baseline' if base else ''}")
    if base:
        print(f"   new: {bins[0][1]}\n   baseline: {bins[1][1]}")
    print(f"{'search':<14} {'binary':<9} {'evals':>5} {'eval/CPU-s':>10} {'eval/s wall':>12} {'CPU s':>8} {'wall s':>8}"
          f" {'eval/s gen 2+':>13}{'   new/baseline (CPU, wall)   fronts' if base else ''}")
    kv = []
    for level in ("layer", "kernel"):
        med = {}
        for name, _ in bins:
            rs = res[(level, name)]
            evals = rs[0]["evals"]
            if any(x["evals"] != evals for x in rs):
                raise RuntimeError(f"{level}-level {name}: runs did different numbers of evaluations")
            m = {k: statistics.median(x[k] for x in rs) for k in ("cpu_s", "wall_s", "between")}
            m["cpu"], m["wall"] = evals / m["cpu_s"], evals / m["wall_s"]
            med[name] = m
            extra = ""
            if base and name == "baseline":
                same = all(x["front"] == y["front"] for x in res[(level, "new")] for y in rs)
                extra = (f"   {med['new']['cpu'] / m['cpu']:.2f}x, {med['new']['wall'] / m['wall']:.2f}x"
                         f"   {'identical' if same else 'DIFFERENT'}")
            print(f"{level + '-level':<14} {name:<9} {evals:5d} {m['cpu']:10.2f} {m['wall']:12.2f} {m['cpu_s']:8.1f} "
                  f"{m['wall_s']:8.1f} {m['between']:13.2f}{extra}")
            kv.append(f"search_{level}_{name}_evals_per_cpu_s {m['cpu']:.3f}")
            kv.append(f"search_{level}_{name}_evals_per_s {m['wall']:.3f}")
        if base:
            kv.append(f"search_{level}_ratio_cpu {med['new']['cpu'] / med['baseline']['cpu']:.3f}")
    if not base:
        print("(set BENCH_BASELINE=/path/to/previous/approxmap to run the same searches with that binary "
              "interleaved and print the ratio)")
    for line in kv:
        print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
