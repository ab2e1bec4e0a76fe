#!/usr/bin/env python3
"""Run the malformed-input corpus (gen.py) against approxmap and classify every case:

  clean     the expected exit status and the expected message fragment on standard error
  crash     killed by a signal, or a sanitizer report (AddressSanitizer, LeakSanitizer, runtime error)
  hang      still running after the time limit
  silent    exit status 0 where an error was expected (the bad input was accepted)
  wrong     another exit status, or the fragment (file name, position, what) is missing
  xfail     a case marked expected-to-fail-for-now (gen.py's `xfail`); never counted as passing

    run.py --bin approxmap --top SRCDIR [--work DIR] [--data DIR] [--jobs 2] [--timeout S] [--only PREFIX] [-v]

Prints one line per case that is not clean, then the counts; exits 1 on any crash, hang, silent
accept or wrong message (an xfail case that passes is reported as such so its mark can go).
"""
import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor

HERE = os.path.dirname(os.path.abspath(__file__))
SAN_MARKS = ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:", "UndefinedBehaviorSanitizer",
             "AddressSanitizer:DEADLYSIGNAL", "Assertion failed", "internal error:")


def sanitizer_env():
    env = dict(os.environ)
    # a sanitizer report must end the process with a signal (abort_on_error), never exit 0 or 1
    env["ASAN_OPTIONS"] = "halt_on_error=1:abort_on_error=1:detect_leaks=1:allocator_may_return_null=0"
    env["UBSAN_OPTIONS"] = "halt_on_error=1:abort_on_error=1:print_stacktrace=1"
    env["LSAN_OPTIONS"] = "exitcode=23"
    env.pop("APPROXMAP_DATA", None)
    return env


def make_base(binary, top, work, data, env, timeout):
    """Real run directories that the checkpoint/archive/holdout cases edit."""
    zdt = os.path.join(work, "base-zdt")
    cnn = os.path.join(work, "base-cnn")
    zp = os.path.join(work, "zdt.yaml")
    with open(zp, "w") as f:
        f.write("type: zdt1\nvariables: 6\nga:\n  population: 8\n  generations: 3\n  seed: 3\n  threads: 1\n")
    r = subprocess.run([binary, "search", zp, "-o", zdt, "-q"], env=env, capture_output=True, timeout=timeout)
    if r.returncode != 0:
        sys.stderr.write("base ZDT run failed: %s\n" % r.stderr.decode(errors="replace"))
        zdt = None
    if data:
        cp = os.path.join(work, "cnn.yaml")
        with open(cp, "w") as f:
            f.write("type: cnn\nmodel: models/resnet8_mlperf_float.onnx\ndata:\n"
                    "  calibration: cifar10/cifar-10-batches-bin/data_batch_1.bin:0:8\n"
                    "  search: cifar10/cifar-10-batches-bin/test_batch.bin:0:16\n"
                    "  holdout: cifar10/cifar-10-batches-bin/test_batch.bin:16:16\n"
                    "library: roup8\nmultipliers: [roup_k0_m0, roup_k1_m3, roup_k2_m6]\ngranularity: layer\n"
                    "max_loss_pp: 50\nga:\n  population: 4\n  generations: 2\n  seed: 1\n  threads: 1\n")
        ok = subprocess.run([binary, "--data-dir", data, "search", cp, "-o", cnn, "-q"], env=env, capture_output=True,
                            timeout=timeout).returncode == 0
        # report measures the front's holdout and caches it in holdout.csv
        ok = ok and subprocess.run([binary, "--data-dir", data, "report", cnn, "-j", "1", "-q"], env=env,
                                   capture_output=True, timeout=timeout).returncode == 0
        if not ok or not os.path.exists(os.path.join(cnn, "holdout.csv")):
            sys.stderr.write("base CNN run failed or wrote no holdout.csv; holdout cases are left out\n")
            cnn = None
    else:
        cnn = None
    return zdt, cnn


def run_case(c, binary, top, cases_dir, data, env, timeout):
    d = os.path.join(cases_dir, c["name"])
    sub = lambda s: s.replace("{d}", d).replace("{top}", top).replace("{data}", data or "")
    argv = [binary] + ([] if not data else ["--data-dir", data]) + [sub(a) for a in c["argv"]]
    if c["argv"] and c["argv"][0] == "--data-dir":
        argv = [binary] + [sub(a) for a in c["argv"]]
    frag = sub(c["fragment"])
    t0 = time.time()
    try:
        p = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, env=env,
                             cwd=d if os.path.isdir(d) else cases_dir, start_new_session=True)
        try:
            _, err = p.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(p.pid, signal.SIGKILL)
            p.communicate()
            return "hang", "no exit after %g s" % timeout, time.time() - t0
    except OSError as e:
        return "wrong", str(e), 0
    err = err.decode("utf-8", "replace")
    rc = p.returncode
    if rc < 0 or rc >= 128 or any(m in err for m in SAN_MARKS):
        return "crash", "status %d: %s" % (rc, err.strip()[-600:]), time.time() - t0
    if rc == 0 and c["status"] != 0:
        return "silent", "accepted (status 0)", time.time() - t0
    if rc != c["status"] or frag not in err:
        return "wrong", "status %d (want %d), stderr %r (want fragment %r)" % (rc, c["status"], err.strip()[-400:], frag), \
            time.time() - t0
    return "clean", "", time.time() - t0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", required=True)
    ap.add_argument("--top", required=True)
    ap.add_argument("--work")
    ap.add_argument("--data", default=os.environ.get("APPROXMAP_DATA", ""))
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--timeout", type=float, default=30)
    ap.add_argument("--only", default="")
    ap.add_argument("-v", action="store_true")
    a = ap.parse_args()
    binary, top = os.path.abspath(a.bin), os.path.abspath(a.top)
    data = os.path.abspath(a.data) if a.data else ""
    have_data = bool(data) and os.path.exists(os.path.join(data, "models/resnet8_mlperf_float.onnx")) and \
        os.path.exists(os.path.join(data, "cifar10/cifar-10-batches-bin/test_batch.bin"))
    if not have_data:
        data = ""
    work = a.work or tempfile.mkdtemp(prefix="approxmap-corpus-")
    if os.path.exists(work):
        shutil.rmtree(work)
    os.makedirs(work)
    env = sanitizer_env()
    t0 = time.time()
    zdt, cnn = make_base(binary, top, work, data, env, 300)
    cases_dir = os.path.join(work, "cases")
    gen = [sys.executable, os.path.join(HERE, "gen.py"), cases_dir, "--data", data]
    if zdt:
        gen += ["--base-zdt", zdt]
    if cnn:
        gen += ["--base-cnn", cnn]
    subprocess.run(gen, check=True, stdout=subprocess.DEVNULL)
    cases = json.load(open(os.path.join(cases_dir, "manifest.json")))
    cases = [c for c in cases if c["name"].startswith(a.only)]
    have = {"data": have_data, "zdt": bool(zdt), "cnn": bool(cnn)}
    runnable = [c for c in cases if all(have[n] for n in c["needs"])]
    skipped = len(cases) - len(runnable)
    with ThreadPoolExecutor(max_workers=max(1, a.jobs)) as ex:
        results = list(ex.map(lambda c: (c, run_case(c, binary, top, cases_dir, data, env, a.timeout)), runnable))
    counts = {k: 0 for k in ("clean", "crash", "hang", "silent", "wrong")}
    xfail = xpass = 0
    kinds = {}
    for c, (kind, why, secs) in results:
        k = c["name"].split("/")[0]
        kinds[k] = kinds.get(k, 0) + 1
        if c["xfail"]:
            if kind == "clean":
                xpass += 1
                print("XPASS %s (marked: %s): remove its xfail mark" % (c["name"], c["xfail"]))
            else:
                xfail += 1
                if a.v or kind in ("crash", "hang"):
                    print("XFAIL %-40s %s: %s" % (c["name"], kind, why))
            if kind in ("crash", "hang"):
                counts[kind] += 1  # never tolerated, marked or not
            continue
        counts[kind] += 1
        if kind != "clean":
            print("%-6s %-40s %s" % (kind.upper(), c["name"], why))
        elif a.v:
            print("clean  %-40s %.2fs" % (c["name"], secs))
    n = len(results)
    print("corpus: %d cases (%s), %d skipped for missing data" %
          (n, ", ".join("%s %d" % kv for kv in sorted(kinds.items())), skipped))
    print("corpus: %d clean errors, %d crashes, %d hangs, %d silent accepts, %d wrong status or message, "
          "%d expected failures (not yet fixed), %d unexpected passes; %.0f s" %
          (counts["clean"], counts["crash"], counts["hang"], counts["silent"], counts["wrong"], xfail, xpass,
           time.time() - t0))
    if not a.work:
        shutil.rmtree(work, ignore_errors=True)
    bad = counts["crash"] + counts["hang"] + counts["silent"] + counts["wrong"]
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
