#!/usr/bin/env python3
"""Malformed-input corpus for approxmap: every file type the tool reads, generated (no binary blobs).

    gen.py OUTDIR [--base-zdt RUNDIR] [--base-cnn RUNDIR] [--data DIR]

writes OUTDIR/<case>/... and OUTDIR/manifest.json, a list of cases:

    {"name": "map/unknown-key", "argv": [...], "status": 1, "fragment": "...", "needs": [...], "xfail": ""}

argv and fragment may hold {d} (the case's directory), {data} (the data directory) and {top} (the
source tree); the runner substitutes them. `status` is the expected exit status, `fragment` a piece
of the expected standard error (the file name and, for text formats, line:column). `needs` lists
what the case requires ("data": the CIFAR-10 files and the ResNet-8 model; "zdt"/"cnn": a base run
directory whose files the case mutates). `xfail` names why a case is expected to fail for now (a
fix owned elsewhere not landed yet); such cases never count as passing.

Run directories (checkpoint, archive, holdout cache) are mutated from real runs made by the runner
(--base-zdt, --base-cnn) and rewritten with valid CRCs, so each case reaches the field it breaks.
"""
import json
import os
import struct
import sys
import zlib

CASES = []
MODEL = "models/resnet8_mlperf_float.onnx"
TRAIN = "cifar10/cifar-10-batches-bin/data_batch_1.bin"
TEST = "cifar10/cifar-10-batches-bin/test_batch.bin"
CAL1 = TRAIN + ":0:1"


def at(text, needle, skip=0):
    """":line:col" (1-based) of the first occurrence of `needle` in `text` after `skip` earlier ones."""
    i = -1
    for _ in range(skip + 1):
        i = text.index(needle, i + 1)
    line = text.count("\n", 0, i) + 1
    return ":%d:%d" % (line, i - (text.rfind("\n", 0, i) + 1) + 1)


def case(name, argv, status, fragment, files=None, needs=(), xfail=""):
    CASES.append({"name": name, "argv": argv, "status": status, "fragment": fragment,
                  "files": files or {}, "needs": list(needs), "xfail": xfail})


# ------------------------------------------------------------------------------------------------
# problem files (search PROBLEM -o RUNDIR): YAML syntax, structure, values, data ranges

def problem_cases():
    def p(name, text, frag, status=1, needs=(), full=False):
        case("problem/" + name, ["search", "{d}/p.yaml", "-o", "{d}/run", "-q"], status,
             frag if full else "{d}/p.yaml" + frag, {"p.yaml": text}, needs)

    p("empty", "", ":1:1: empty problem file")
    p("comment-only", "# nothing\n", ":1:1: empty problem file")
    p("unknown-key", "type: zdt1\nvariabels: 30\n", ":2:1: unknown key 'variabels'")
    p("unknown-type", "type: zdt9\n", ":1:7: unknown problem type 'zdt9'")
    p("missing-type", "ga: {population: 10}\n", ":1:1: missing key 'type'")
    p("type-list", "type: [zdt1]\n", ":1:7:")
    p("not-mapping", "- type: zdt1\n", ":1:1: a problem file must be a mapping")
    p("scalar-root", "zdt1\n", ":1:1: a problem file must be a mapping")
    p("dup-key", "type: zdt1\nga: {}\nga: {}\n", ":3:1: duplicate key 'ga'")
    p("ga-scalar", "type: zdt1\nga: 5\n", ":2:5: 'ga' must be a mapping")
    p("pop-text", "type: zdt1\nga:\n  population: abc\n", ":3:15: 'population' must be an integer")
    p("pop-odd", "type: zdt1\nga:\n  population: 51\n", ":3:15: 'population' must be even")
    p("pop-small", "type: zdt1\nga:\n  population: 2\n", ":3:15: 'population' must be between")
    p("pop-huge", "type: zdt1\nga:\n  population: 99999999999999999999999\n", ":3:15: 'population' must be an integer")
    p("pop-list", "type: zdt1\nga:\n  population: [1, 2]\n", ":3:15: 'population' must be an integer")
    p("gens-zero", "type: zdt1\nga:\n  generations: 0\n", ":3:16: 'generations' must be between")
    p("threads-neg", "type: zdt1\nga:\n  threads: -1\n", ":3:12: 'threads' must be between")
    p("prob-range", "type: zdt1\nga:\n  crossover:\n    probability: 1.5\n", ":4:18: 'probability' must be between")
    p("eta-text", "type: zdt1\nga:\n  crossover: {eta: fast}\n", ":3:20: 'eta' must be a number")
    p("rate-nan", "type: zdt1\nga:\n  mutation: {rate: nan}\n", ":3:20: 'rate' must be a number")
    p("rate-inf", "type: zdt1\nga:\n  mutation: {rate: .inf}\n", ":3:20: 'rate' must be a number")
    p("time-limit", "type: zdt1\nga:\n  time_limit: 8 hours\n", ":3:15: 'time_limit' must be a duration")
    p("vars-one", "type: zdt1\nvariables: 1\n", ":2:12: 'variables' must be between")
    p("tnk-vars", "type: tnk\nvariables: 3\n", ":2:1: 'variables' is fixed at 2")
    p("reference-scalar", "type: zdt1\nreference: 1.1\n", ":2:12: 'reference' must be a list of numbers")
    p("reference-text", "type: zdt1\nreference: [1.1, x]\n", ":2:18: 'reference' must be a number")
    p("bad-indent", "type: zdt1\nga:\n  population: 10\n   seed: 3\n", ":4:8: mapping values are not allowed")
    p("unclosed-flow", "type: [zdt1\n", ":2:1: did not find expected ',' or ']'")
    p("unclosed-quote", "type: \"zdt1\n", ":2:1: found unexpected end of stream")
    p("tab-indent", "type: zdt1\nga:\n\tpopulation: 10\n", ":3:1: found character that cannot start any token")
    p("bad-utf8", b"type: zdt1\ndescription: \xff\xfe\n", ":2:14: invalid leading UTF-8 octet")
    p("nul-byte", b"type: zdt1\n\x01\n", ":2:1: control characters are not allowed")
    p("two-docs", "type: zdt1\n---\ntype: zdt2\n", ":2:1: a second YAML document")
    p("two-docs-empty", "type: zdt1\n...\n---\n", ":3:1: a second YAML document")
    p("deep-flow-20k", "type: zdt1\nreference: " + "[" * 20000 + "]" * 20000 + "\n", ":2:75: nesting deeper than 64")
    p("deep-map-200k", "type: zdt1\nx: " + "{a: " * 200000 + "1" + "}" * 200000 + "\n",
      ":2:" + str(4 + 4 * 63) + ": nesting deeper than 64")
    p("deep-block", "type: zdt1\nx:\n" + "".join("  " * i + "- \n" for i in range(70)).replace("- \n", "-\n"),
      ":66:127: nesting deeper than 64")
    # aliases: no format needs one, and '&a [*a]' makes a node its own child; refused where the alias is
    AL = ": YAML alias '*%s': aliases are not accepted (write the value out)"
    p("alias-cycle", "type: zdt1\nreference: &a [*a]\n", ":2:16" + AL % "a")
    p("alias-undefined", "type: zdt1\nreference: *nope\n", ":2:12" + AL % "nope")
    p("alias-scalar", "type: zdt1\nvariables: &v 12\nga:\n  population: *v\n", ":4:15" + AL % "v")
    p("alias-merge", "type: zdt1\nga: &g {seed: 3}\nreference:\n  <<: *g\n", ":4:7" + AL % "g")
    p("alias-key", "type: zdt1\n*k : 3\n", ":2:1" + AL % "k")
    p("anchor-bomb", "type: zdt1\na: &a [x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
      "c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: [*c, *c, *c, *c, *c, *c, *c, *c, *c]\n", ":3:8" + AL % "a")
    p("anchor-only", "type: zdt1\nga: &g {population: 3}\n", ":2:21: 'population' must be")
    p("long-key", "type: zdt1\n" + "k" * 100000 + ": 1\n", ":2:100001: could not find expected ':'")
    # CNN problem files: the data ranges and the files they name
    cnn = "type: cnn\nmodel: " + MODEL + "\nlibrary: roup8\nmax_loss_pp: 4\ngranularity: layer\ndata:\n"
    p("range-abc", cnn + "  calibration: " + TRAIN + ":0:50\n  search: " + TEST + ":abc\n",
      ":8:11: bad range '" + TEST + ":abc' in 'data.search'")
    p("range-neg", cnn + "  calibration: " + TRAIN + ":0:50\n  search: " + TEST + ":5:-1\n",
      ":8:11: bad range")
    p("range-3", cnn + "  calibration: " + TRAIN + ":0:50\n  search: " + TEST + ":1:2:3\n", ":8:11: bad range")
    p("calib-count-0", cnn + "  calibration: " + TRAIN + ":0:0\n  search: " + TEST + ":0:8\n",
      ":7:16: bad range '" + TRAIN + ":0:0' in 'data.calibration': COUNT is 0")
    p("range-no-file", cnn + "  calibration: \":0:5\"\n  search: " + TEST + ":0:8\n", ":7:16: 'calibration' must be FILE")
    p("data-key", cnn + "  train: x.bin\n", ":7:3: unknown key 'data.train'")
    p("granularity", "type: cnn\ngranularity: pixel\n", ":2:14:")
    p("max-loss-neg", "type: cnn\nmax_loss_pp: -1\n", ":2:14:")
    p("multipliers-scalar", "type: cnn\nmultipliers: roup_k0_m0\n", ":2:14: 'multipliers' must be a list")
    p("cnn-model-missing", cnn.replace(MODEL, "models/nope.onnx") + "  calibration: " + TRAIN + ":0:5\n  search: "
      + TEST + ":0:8\n", "cannot open '{data}/models/nope.onnx'", needs=("data",), full=True)
    p("cnn-model-devzero", cnn.replace(MODEL, "/dev/zero") + "  calibration: " + TRAIN + ":0:5\n  search: "
      + TEST + ":0:8\n", "cannot read '/dev/zero': not a regular file", needs=("data",), full=True)
    p("cnn-search-beyond", cnn + "  calibration: " + TRAIN + ":0:5\n  search: " + TEST + ":9990:100\n",
      "{data}/" + TEST + ": records 9990..10089 requested but the file holds 10000", needs=("data",), full=True)
    p("cnn-unknown-mult", cnn.replace("library: roup8\n", "library: roup8\nmultipliers: [roup_k9_m9]\n")
      + "  calibration: " + TRAIN + ":0:5\n  search: " + TEST + ":0:8\n", ":4:15: multiplier 'roup_k9_m9' is not in library",
      needs=("data",))  # checked after the model's layers are read
    # the problem path itself
    case("problem/missing-file", ["search", "{d}/nope.yaml", "-o", "{d}/run"], 1, "cannot open '{d}/nope.yaml'")
    case("problem/directory", ["search", "{d}", "-o", "{d}/run"], 1, "cannot read '{d}': is a directory")
    case("problem/dev-zero", ["search", "/dev/zero", "-o", "{d}/run"], 1, "cannot read '/dev/zero': not a regular file")


# ------------------------------------------------------------------------------------------------
# approximation maps (eval --map): the model's layers are needed to check them

def map_cases():
    def m(name, text, frag, status=1):
        case("map/" + name, ["eval", "--map", "{d}/m.yaml", "--count", "1", "--calib", CAL1, "--no-float", "-j", "1"],
             status, "{d}/m.yaml" + frag, {"m.yaml": text}, ("data",))

    L0 = '"/conv2d/Conv"'
    m("empty", "", ":1:1: empty document")
    m("scalar", "roup8\n", ":1:1:")
    m("list", "- library: roup8\n", ":1:1:")
    m("unknown-key", "library: roup8\nlayer: {}\n", ":2:1: unknown key 'layer'")
    m("dup-key", "library: roup8\nlibrary: roup8\n", ":2:1: duplicate key 'library'")
    m("unknown-layer", "library: roup8\nlayers:\n  \"/nope/Conv\": roup_k0_m0\n", ":3:3:")
    m("unknown-mult", "library: roup8\nlayers:\n  " + L0 + ": roup_k7_m0\n", ":3:19:")
    m("layer-key", "library: roup8\nlayers:\n  " + L0 + ": {defualt: roup_k0_m0}\n", ":3:20: unknown key 'defualt'")
    t = "library: roup8\nlayers:\n  " + L0 + ": {default: roup_k0_m0, filters: [roup_k0_m0]}\n"
    m("filters-short", t, at(t, "[roup") + ": 'filters' list has 1 entries, layer '/conv2d/Conv' has 16 filters")
    t = "library: roup8\nlayers:\n  " + L0 + ": {default: roup_k0_m0, filters: 3}\n"
    m("filters-scalar", t, at(t, "3}") + ": 'filters' must be a mapping")
    t = "library: roup8\nlayers:\n  " + L0 + ": {default: roup_k0_m0, kernels: [[roup_k0_m0]]}\n"
    m("kernels-rows", t, at(t, "[[") + ": 'kernels' list has 1 rows, layer '/conv2d/Conv' has 16 filters")
    t = "library: roup8\nlayers:\n  " + L0 + ": {roup_k0_m0}\n"
    m("layer-set", t, at(t, "roup_k0_m0}") + ": unknown key 'roup_k0_m0'")
    t = "library: roup8\nlayers:\n  " + L0 + ": {default: roup_k0_m0, bias_delta: [1, 2]}\n"
    m("bias-short", t, at(t, "[1, 2]") + ": 'bias_delta' has 2 entries, layer '/conv2d/Conv' has 16 filters")
    m("bias-text", "library: roup8\nlayers:\n  " + L0 + ": {default: roup_k0_m0, bias_delta: [" +
      ", ".join(["x"] * 16) + "]}\n", ":3:")
    m("layers-list", "library: roup8\nlayers: [a, b]\n", ":2:9:")
    m("library-other", "library: nolib\n", ":1:1: layer '/conv2d/Conv' has no multiplier")
    m("two-docs", "library: roup8\n---\nlibrary: roup8\n", ":2:1: a second YAML document")
    m("deep", "library: roup8\nlayers: " + "[" * 5000 + "]" * 5000 + "\n", ":2:" + str(9 + 63) + ": nesting deeper than 64")
    m("syntax", "library: roup8\nlayers: {a: [}\n", ":2:")
    t = "library: roup8\nlayers:\n  " + L0 + ": &m {default: roup_k0_m0}\n  \"/conv2d_1/Conv\": *m\n"
    m("alias", t, at(t, "*m") + ": YAML alias '*m': aliases are not accepted")
    t = "library: roup8\nlayers: &l {" + L0 + ": *l}\n"
    m("alias-cycle", t, at(t, "*l") + ": YAML alias '*l': aliases are not accepted")
    m("binary", bytes(range(256)) * 4, ":")
    case("map/dev-zero", ["eval", "--map", "/dev/zero", "--count", "1", "--calib", CAL1, "--no-float"], 1,
         "cannot read '/dev/zero': not a regular file", needs=("data",))
    case("map/missing", ["eval", "--map", "{d}/nope.yaml", "--count", "1", "--calib", CAL1, "--no-float"], 1,
         "'{d}/nope.yaml'", needs=("data",))


# ------------------------------------------------------------------------------------------------
# multiplier libraries (multipliers LIB) and the table files they name

def library_cases():
    def l(name, text, frag, files=None, status=1):
        f = {"lib.yaml": text}
        f.update(files or {})
        case("library/" + name, ["multipliers", "{d}/lib.yaml"], status, frag.replace("@", "{d}/lib.yaml"), f)

    head = "library: t\nmultipliers:\n"
    l("empty", "", "@:1:1: empty document")
    l("scalar", "t\n", "@:1:1:")
    l("unknown-top", "library: t\nmultiplers: []\n", "@:2:1: unknown key 'multiplers'")
    l("no-mults", "library: t\n", "@:1:1:")
    l("mults-scalar", "library: t\nmultipliers: 3\n", "@:2:14:")
    l("empty-list", "library: t\nmultipliers: []\n", "@:2:14:")
    def la(name, text, needle, frag, skip=0):
        l(name, text, "@" + at(text, needle, skip) + frag)

    la("family", head + "  - {name: a, family: booth9}\n", "booth9", ": unknown multiplier family 'booth9'")
    la("roup-k", head + "  - {name: a, family: roup, k: 3, m: 0}\n", "3,", ": bad parameter k = 3 for roup")
    la("roup-m", head + "  - {name: a, family: roup, k: 0, m: 9}\n", "9}", ": bad parameter m = 9 for roup")
    la("roup-k-text", head + "  - {name: a, family: roup, k: x, m: 0}\n", "x,", ":")
    la("dup-name", head + "  - {name: a, family: exact}\n  - {name: a, family: exact}\n", "a,", ": duplicate multiplier name 'a'", 1)
    la("no-name", head + "  - {family: exact}\n", "{family", ":")
    la("name-list", head + "  - {name: [a], family: exact}\n", "[a]", ": name must be a scalar")
    la("unknown-mult-key", head + "  - {name: a, family: exact, colour: red}\n", "colour", ": unknown key 'colour'")
    l("energy-neg", head + "  - {name: a, family: exact, energy: {relative: -1}}\n", "@:3:")
    l("energy-text", head + "  - {name: a, family: exact, energy: {relative: lots}}\n", "@:3:")
    la("energy-key", head + "  - {name: a, family: exact, energy: {joules: 1}}\n", "joules", ": unknown key 'joules'")
    l("param-mismatch", head + "  - {name: a, family: exact, k: 1}\n", "@:3:")
    l("two-docs", head + "  - {name: a, family: exact}\n---\nlibrary: u\n", "@:4:1: a second YAML document")
    l("deep", "library: t\ndescription: " + "[" * 100 + "]" * 100 + "\n", "@:2:" + str(14 + 63) + ": nesting deeper than 64")
    la("alias", head + "  - &e {name: a, family: exact}\n  - *e\n", "*e", ": YAML alias '*e': aliases are not accepted")
    l("provenance-key", "library: t\nprovenance: {author: x}\nmultipliers:\n  - {name: a, family: exact}\n",
      "@:2:14: unknown key 'author'")
    # table files
    t = head + "  - {name: a, family: table, file: t.bin%s}\n"
    l("table-missing", t % "", "t.bin", {})
    l("table-short", t % "", "has 100 bytes, expected 131072", {"t.bin": b"\0" * 100})
    l("table-empty", t % "", "has 0 bytes, expected 131072", {"t.bin": b""})
    l("table-long", t % "", "has 131073 bytes", {"t.bin": b"\0" * 131073})
    l("table-int32-size", t % ", format: int32", "expected 262144", {"t.bin": b"\0" * 131072})
    big = struct.pack("<i", 40000) + b"\0" * (4 * 65535)
    l("table-int32-range", t % ", format: int32", "entry [0][0] = 40000 is outside int16", {"t.bin": big})
    l("table-format", t % ", format: int8", "@:3:")
    l("table-no-file", head + "  - {name: a, family: table}\n", "@:3:")
    l("table-dir", t.replace("t.bin", "sub") % "", "sub", {"sub/x": b""})
    l("table-devzero", t.replace("t.bin", "/dev/zero") % "", "/dev/zero")
    l("cfunc-missing", head + "  - {name: a, family: c_function, object: nope.so, symbol: f}\n", "nope.so")
    case("library/dev-zero", ["multipliers", "/dev/zero"], 1, "cannot read '/dev/zero': not a regular file")
    case("library/directory", ["multipliers", "{d}"], 1, "'{d}'")
    case("library/unknown-name", ["multipliers", "no_such_library"], 1, "no_such_library")


# ------------------------------------------------------------------------------------------------
# energy models (eval --energy FILE)

def energy_cases():
    def e(name, text, frag, status=1):
        case("energy/" + name, ["eval", "--uniform", "roup_k1_m2", "--energy", "{d}/e.yaml", "--count", "1", "--calib",
                                CAL1, "--no-float", "-j", "1"], status, "{d}/e.yaml" + frag, {"e.yaml": text}, ("data",))

    layers = ["/conv2d/Conv", "/conv2d_1/Conv", "/conv2d_2/Conv", "/conv2d_3/Conv", "/conv2d_4/Conv", "/conv2d_5/Conv",
              "/conv2d_6/Conv", "/conv2d_7/Conv", "/conv2d_8/Conv", "/dense/Gemm"]
    lay = "layers:\n" + "".join("  - {name: %s}\n" % n for n in layers)
    e("empty", "", ":1:1: empty document")
    e("unknown-key", "layerz: []\n", ":1:1: unknown key 'layerz'")
    e("no-mults", lay, ":1:1: an energy model needs 'layers' and 'multipliers'")
    e("layers-scalar", "layers: 3\nmultipliers: []\n", ":1:9:")
    t = "layers:\n  - {name: /nope}\nmultipliers: []\n"
    e("unknown-layer", t, at(t, "/nope") + ": unknown layer '/nope'")
    t = "layers:\n  - {name: /conv2d/Conv}\n  - {name: /conv2d/Conv}\nmultipliers: []\n"
    e("dup-layer", t, at(t, "/conv2d", 1) + ": duplicate layer '/conv2d/Conv'")
    t = "layers:\n  - {name: /conv2d/Conv, macs: 5}\nmultipliers: []\n"
    e("macs-wrong", t, at(t, "5}") + ": layer '/conv2d/Conv' has 442368 MACs per image in the model, not 5")
    t = "layers:\n  - {name: /conv2d/Conv}\nmultipliers: []\n"
    e("layer-missing", t, at(t, "- {") + ": layer '/conv2d_1/Conv' of the model has no entry")
    e("layer-no-name", "layers:\n  - {macs: 5}\nmultipliers: []\n", ":2:5: layer entry without 'name'")
    e("fj-short", lay + "multipliers:\n  - {name: roup_k1_m2, fj: [1, 2]}\n", ":13:")
    e("fj-text", lay + "multipliers:\n  - {name: roup_k1_m2, fj: [a, b, c, d, e, f, g, h, i, j]}\n", ":13:")
    e("mult-unknown", lay + "multipliers:\n  - {name: nope, fj: [1, 1, 1, 1, 1, 1, 1, 1, 1, 1]}\n", ":13:")
    e("two-docs", lay + "multipliers: []\n---\n", ":13:1: a second YAML document")
    e("deep", "layers: " + "[" * 70 + "]" * 70 + "\n", ":1:" + str(9 + 63) + ": nesting deeper than 64")
    t = lay + "multipliers:\n  - {name: roup_k1_m2, fj: &f [1, 1, 1, 1, 1, 1, 1, 1, 1, 1]}\n  - {name: roup_k0_m0, fj: *f}\n"
    e("alias", t, at(t, "*f") + ": YAML alias '*f': aliases are not accepted")
    case("energy/dev-zero", ["eval", "--uniform", "roup_k1_m2", "--energy", "/dev/zero", "--count", "1", "--calib", CAL1,
                             "--no-float"], 1, "cannot read '/dev/zero': not a regular file", needs=("data",))


# ------------------------------------------------------------------------------------------------
# CIFAR-10 binary files (eval --data FILE)

def cifar_cases():
    rec = 3073

    def c(name, blob, frag, extra=()):
        case("cifar/" + name, ["eval", "--data", "{d}/c.bin", "--calib", CAL1, "--no-float", "-j", "1"] + list(extra), 1,
             frag, {"c.bin": blob}, ("data",))

    good = bytes([3]) + bytes(3072)
    c("empty", b"", "{d}/c.bin: no records to evaluate from record 0 on")
    c("truncated", good + b"\0" * 100, "{d}/c.bin: truncated record 1")
    c("short", b"\0" * 3072, "{d}/c.bin: truncated record 0")
    c("label-10", bytes([10]) + bytes(3072), "{d}/c.bin")
    c("label-255", good + bytes([255]) + bytes(3072), "{d}/c.bin")
    c("first-beyond", good * 2, "{d}/c.bin", ("--first", "5"))
    c("count-beyond", good * 2, "{d}/c.bin", ("--count", "5"))
    case("cifar/dev-zero", ["eval", "--data", "/dev/zero", "--calib", CAL1, "--no-float"], 1,
         "'/dev/zero' is not a regular file", needs=("data",))
    case("cifar/directory", ["eval", "--data", "{d}", "--calib", CAL1, "--no-float"], 1, "'{d}'", needs=("data",))
    case("cifar/missing", ["eval", "--data", "{d}/nope.bin", "--calib", CAL1, "--no-float"], 1, "'{d}/nope.bin'",
         needs=("data",))
    case("cifar/calib-devzero", ["eval", "--calib", "/dev/zero:0:1", "--no-float", "--count", "1"], 1,
         "'/dev/zero' is not a regular file", needs=("data",))


# ------------------------------------------------------------------------------------------------
# Liberty cell libraries (characterize --liberty FILE); all fail before synthesis

def liberty_cases():
    def lb(name, text, frag, extra=()):
        case("liberty/" + name, ["characterize", "--liberty", "{d}/x.lib", "--config", "0,1", "-o", "{d}/out.yaml"]
             + list(extra), 1, "{d}/x.lib" + frag, {"x.lib": text})

    lb("empty", "", ":1:1: no 'library' group")
    lb("garbage", "\n\n  hello world\n", ":3:9: expected ':' or '('")
    lb("binary", bytes(range(1, 256)) * 8, ":2:1: expected ':' or '('")
    lb("no-voltage", "library (x) {\n  time_unit : \"1ns\" ;\n}\n", ":1:1: library 'x' has no nom_voltage")
    lb("unterminated-group", "library (x) {\n  nom_voltage : 1.8;\n  cell (A) {\n", ":4:1: missing '}'")
    lb("unterminated-string", "library (x) {\n  nom_voltage : \"1.8;\n}\n", ":2:17: unterminated string")
    lb("unterminated-args", "library (x", ":1:11: unterminated argument list")
    lb("bad-arg", "library (x, {) {}\n", ":1:13: bad argument")
    lb("no-value", "library (x) {\n  nom_voltage : ;\n}\n", ":2:17: expected a value")
    lb("stray-close", "library (x) { nom_voltage : 1; }\n}\n", ":2:1: unexpected '}'")
    lb("deep-groups", "library (x) {\n" + "g(){" * 100 + "}" * 100 + "\n}\n", ":2:256: groups nested deeper than 64")
    lb("deep-groups-100k", "library (x) {\n" + "g(){" * 100000 + "}" * 100000 + "\n}\n",
       ":2:256: groups nested deeper than 64")
    cellhead = "library (x) {\n  nom_voltage : 1.8;\n  cell (C) {\n    pin (A) { direction : input; }\n"
    lb("func-unknown-pin", cellhead + "    pin (Y) { direction : output; function : \"A & Q\"; }\n  }\n}\n",
       ":5:5: unknown pin in function 'A & Q'")
    lb("func-syntax", cellhead + "    pin (Y) { direction : output; function : \"A &\"; }\n  }\n}\n",
       ":5:5: syntax error in function")
    lb("func-deep", cellhead + "    pin (Y) { direction : output; function : \"" + "(" * 50000 + "A" + ")" * 50000
       + "\"; }\n  }\n}\n", ":5:5: expression too deep")
    lb("func-deep-not", cellhead + "    pin (Y) { direction : output; function : \"" + "!" * 50000 + "A\"; }\n  }\n}\n",
       ":5:5: expression too deep")
    tab = cellhead + ("    pin (Y) { direction : output; function : \"A\";\n"
                      "      internal_power () { related_pin : \"A\";\n        rise_power (t) { %s }\n      }\n    }\n  }\n}\n")
    lb("table-no-values", tab % "index_1 (\"1, 2\");", ":7:9: table 'rise_power' has no values")
    lb("table-bad-number", tab % "values (\"1, x\");", ":7:26: bad number in values")
    lb("table-size", tab % "index_1 (\"1, 2\"); index_2 (\"1, 2\"); values (\"1, 2, 3\");",
       ":7:9: table 'rise_power' has 3 values for a 2 x 2 grid")
    lb("table-bad-index", tab % "index_1 (\"1, q\"); values (\"1, 2\");", ":7:9: bad index")
    case("liberty/dev-zero", ["characterize", "--liberty", "/dev/zero", "--config", "0,1", "-o", "{d}/o.yaml"], 1,
         "cannot read '/dev/zero': not a regular file")
    case("liberty/missing", ["characterize", "--liberty", "{d}/nope.lib", "--config", "0,1", "-o", "{d}/o.yaml"], 1,
         "'{d}/nope.lib'")
    case("liberty/gz-garbage", ["characterize", "--liberty", "{d}/x.lib.gz", "--config", "0,1", "-o", "{d}/o.yaml"], 1,
         "cannot read '{d}/x.lib.gz' (gzip -dc failed)", {"x.lib.gz": b"not gzip at all\n"})
    minimal = "library (x) {\n  nom_voltage : 1.8;\n}\n"
    for name, blob, frag in (("odd", b"\1\2\3", "a stream file holds int8 pairs"),
                             ("empty", b"", "a stream file holds int8 pairs")):
        case("liberty/stream-" + name, ["characterize", "--liberty", "{d}/x.lib", "--stream", "{d}/s.bin", "--config",
                                        "0,1", "-o", "{d}/o.yaml"], 1, "'{d}/s.bin': " + frag,
             {"x.lib": minimal, "s.bin": blob})
    case("liberty/stream-devzero", ["characterize", "--liberty", "{d}/x.lib", "--stream", "/dev/zero", "--config", "0,1",
                                    "-o", "{d}/o.yaml"], 1, "cannot read '/dev/zero': not a regular file",
         {"x.lib": minimal})


# ------------------------------------------------------------------------------------------------
# ONNX models (info MODEL): a tiny model built field by field, and the real ResNet-8 edited

def pb_varint(n):
    if n < 0:
        n += 1 << 64
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        out.append(b | (0x80 if n else 0))
        if not n:
            return bytes(out)


def pb_field(num, wt, val):
    key = pb_varint(num << 3 | wt)
    if wt == 0:
        return key + pb_varint(val)
    if wt == 2:
        return key + pb_varint(len(val)) + val
    if wt == 5:
        return key + val
    raise ValueError(wt)


def pb_str(num, s):
    return pb_field(num, 2, s.encode() if isinstance(s, str) else s)


def pb_parse(buf):
    """Top-level fields of a message: [(num, wiretype, value)] (value: int or bytes)."""
    out, pos = [], 0
    while pos < len(buf):
        key, pos = _varint(buf, pos)
        num, wt = key >> 3, key & 7
        if wt == 0:
            v, pos = _varint(buf, pos)
        elif wt == 2:
            n, pos = _varint(buf, pos)
            v = buf[pos:pos + n]
            pos += n
        elif wt == 5:
            v = buf[pos:pos + 4]
            pos += 4
        elif wt == 1:
            v = buf[pos:pos + 8]
            pos += 8
        else:
            raise ValueError("wire type %d" % wt)
        out.append((num, wt, v))
    return out


def _varint(buf, pos):
    v, shift = 0, 0
    while True:
        b = buf[pos]
        pos += 1
        v |= (b & 0x7F) << shift
        shift += 7
        if not b & 0x80:
            return v, pos


def pb_build(fields):
    out = bytearray()
    for num, wt, v in fields:
        if wt == 1:
            out += pb_varint(num << 3 | 1) + v
        else:
            out += pb_field(num, wt, v)
    return bytes(out)


def t_tensor(name, dims, vals=None, dtype=1, raw=None, name_field=True):
    f = b"".join(pb_field(1, 0, d) for d in dims) + pb_field(2, 0, dtype)
    if name_field and name is not None:
        f += pb_str(8, name)
    if raw is not None:
        f += pb_str(9, raw)
    elif vals is not None:
        f += pb_str(4, struct.pack("<%df" % len(vals), *vals))
    return f


def t_attr(name, type_, **kw):
    f = b"" if name is None else pb_str(1, name)
    if "i" in kw:
        f += pb_field(3, 0, kw["i"])
    if "f" in kw:
        f += pb_field(2, 5, struct.pack("<f", kw["f"]))
    if "ints" in kw:
        f += b"".join(pb_field(8, 0, v) for v in kw["ints"])
    if "s" in kw:
        f += pb_str(4, kw["s"])
    if "t" in kw:
        f += pb_str(5, kw["t"])
    if type_ is not None:
        f += pb_field(20, 0, type_)
    return f


def t_node(op, ins, outs, name=None, attrs=()):
    f = b"".join(pb_str(1, i) for i in ins) + b"".join(pb_str(2, o) for o in outs)
    if name:
        f += pb_str(3, name)
    f += pb_str(4, op) + b"".join(pb_str(5, a) for a in attrs)
    return f


def t_value(name, dims, elem=1):
    shape = b"".join(pb_str(1, pb_field(1, 0, d) if d >= 0 else pb_str(2, "N")) for d in dims)
    tt = pb_field(1, 0, elem) + pb_str(2, shape)
    f = b"" if name is None else pb_str(1, name)
    return f + pb_str(2, pb_str(1, tt))


def t_model(nodes, inits, ins, outs, opset=13):
    g = b"".join(pb_str(1, n) for n in nodes) + pb_str(2, "g") + b"".join(pb_str(5, t) for t in inits)
    g += b"".join(pb_str(11, v) for v in ins) + b"".join(pb_str(12, v) for v in outs)
    return pb_field(1, 0, 7) + pb_str(8, pb_str(1, "") + pb_field(2, 0, opset)) + pb_str(7, g)


INT, FLOAT, STRING, TENSOR, INTS = 2, 1, 3, 4, 7


def tiny(mut=None):
    """Conv 3x3 (3->4) + Relu + GlobalAveragePool + Flatten + Gemm (4->10) on a 3x8x8 input."""
    w1 = [0.01 * ((i * 7) % 11 - 5) for i in range(4 * 3 * 9)]
    w2 = [0.1 * ((i * 3) % 7 - 3) for i in range(40)]
    m = mut or {}
    conv_attrs = m.get("conv_attrs", [t_attr("kernel_shape", INTS, ints=[3, 3]), t_attr("pads", INTS, ints=[1, 1, 1, 1])])
    gemm_attrs = m.get("gemm_attrs", [t_attr("transB", INT, i=1)])
    nodes = m.get("nodes", [
        t_node("Conv", m.get("conv_ins", ["x", "w1", "b1"]), ["c"], "conv", conv_attrs),
        t_node("Relu", ["c"], ["r"], "relu"),
        t_node("GlobalAveragePool", ["r"], ["p"], "gap"),
        t_node("Flatten", ["p"], ["f"], "flat"),
        t_node("Gemm", ["f", "w2", "b2"], ["y"], "fc", gemm_attrs),
    ])
    inits = m.get("inits", [t_tensor("w1", [4, 3, 3, 3], w1), t_tensor("b1", [4], [0.1, -0.2, 0.3, 0]),
                            t_tensor("w2", [10, 4], w2), t_tensor("b2", [10], [0.0] * 10)])
    ins = m.get("ins", [t_value("x", [-1, 3, 8, 8])])
    outs = m.get("outs", [t_value("y", [-1, 10])])
    return t_model(nodes + m.get("extra_nodes", []), inits, ins, outs)


def onnx_cases(data_dir):
    def o(name, blob, frag, status=1):
        case("onnx/" + name, ["info", "{d}/m.onnx"], status, "{d}/m.onnx" + frag, {"m.onnx": blob})

    w1 = [0.0] * 108
    case("onnx/tiny-valid", ["info", "{d}/m.onnx"], 0, "", {"m.onnx": tiny()})
    o("issue-9-bytes", b"\x3a\x07\x2a\x03\x42\x01\x61\x5a\x00", ": graph input 1 has no name")
    o("empty", b"", ": the model has no graph")
    o("garbage", b"this is not a model\n", ": not a valid ONNX model")
    o("truncated", tiny()[:200], ": not a valid ONNX model")
    o("input-no-name", tiny({"ins": [t_value(None, [-1, 3, 8, 8])]}), ": graph input 1 has no name")
    o("output-no-name", tiny({"outs": [t_value(None, [-1, 10])]}), ": graph output 1 has no name")
    o("two-outputs", tiny({"outs": [t_value("y", [-1, 10]), t_value("c", [-1, 4, 8, 8])]}), ": the graph has 2 outputs")
    o("no-input", tiny({"ins": []}), ": the graph has no input")
    o("input-3d", tiny({"ins": [t_value("x", [-1, 3, 8])]}), ": input 'x' has 3 dimensions")
    o("input-int", tiny({"ins": [t_value("x", [-1, 3, 8, 8], elem=6)]}), ": input 'x' has element type 6")
    o("input-dim-0", tiny({"ins": [t_value("x", [-1, 3, 0, 8])]}), ": input 'x': dimension 3 must be")
    o("attr-no-name-conv", tiny({"conv_attrs": [t_attr(None, INTS, ints=[3, 3])]}),
      ": node 1 ('conv'): attribute 1 has no name")
    o("attr-no-name-gemm", tiny({"gemm_attrs": [t_attr(None, INT, i=1)]}), ": node 5 ('fc'): attribute 1 has no name")
    o("attr-twice", tiny({"gemm_attrs": [t_attr("transB", INT, i=1), t_attr("transB", INT, i=1)]}),
      ": node 5 ('fc'): attribute 'transB' is given twice")
    o("attr-type-int-as-float", tiny({"gemm_attrs": [t_attr("transB", FLOAT, f=1.0)]}),
      ": node 'fc' (op Gemm): attribute 'transB' must be an integer")
    o("attr-type-ints-as-int", tiny({"conv_attrs": [t_attr("kernel_shape", INT, i=3)]}),
      ": node 'conv' (op Conv): attribute 'kernel_shape' must be a list of integers")
    o("attr-kernel-3", tiny({"conv_attrs": [t_attr("kernel_shape", INTS, ints=[3, 3, 3])]}),
      ": node 'conv' (op Conv): attribute 'kernel_shape' must have 2 values")
    o("attr-kernel-mismatch", tiny({"conv_attrs": [t_attr("kernel_shape", INTS, ints=[5, 5])]}),
      ": node 'conv' (op Conv): kernel_shape [5, 5] does not match")
    o("attr-pads-neg", tiny({"conv_attrs": [t_attr("pads", INTS, ints=[-1, 0, 0, 0])]}), ": node 'conv' (op Conv): invalid pads")
    o("attr-strides-0", tiny({"conv_attrs": [t_attr("strides", INTS, ints=[0, 1])]}), ": node 'conv' (op Conv): invalid strides")
    o("attr-pads-huge", tiny({"conv_attrs": [t_attr("pads", INTS, ints=[60000, 0, 0, 0])]}),
      ": node 'conv' (op Conv): pads [60000, 0, 0, 0] must be smaller than the 3x3 kernel")
    o("attr-auto-pad", tiny({"conv_attrs": [t_attr("auto_pad", STRING, s="SAME_UPPER")]}), ": node 'conv' (op Conv): unsupported attribute 'auto_pad' = 'SAME_UPPER'")
    o("attr-auto-pad-int", tiny({"conv_attrs": [t_attr("auto_pad", INT, i=1)]}), ": node 'conv' (op Conv): attribute 'auto_pad' must be a string")
    o("attr-group", tiny({"conv_attrs": [t_attr("group", INT, i=2)]}), ": node 'conv' (op Conv): unsupported attribute 'group' = 2")
    o("attr-unknown", tiny({"conv_attrs": [t_attr("colour", INT, i=2)]}), ": node 'conv' (op Conv): unsupported attribute 'colour'")
    o("attr-many", tiny({"conv_attrs": [t_attr("a%d" % i, INT, i=1) for i in range(40)]}), ": node 1 ('conv') has 3 inputs and 40 attributes")
    o("conv-4-inputs", tiny({"conv_ins": ["x", "w1", "b1", "b1"]}), ": node 'conv' (op Conv): expects 2 to 3 inputs, not 4")
    o("conv-1-input", tiny({"conv_ins": ["x"]}), ": node 'conv' (op Conv): expects 2 to 3 inputs, not 1")
    o("conv-empty-input", tiny({"conv_ins": ["", "w1"]}), ": node 'conv' (op Conv): input 1 is missing")
    o("conv-w-unknown", tiny({"conv_ins": ["x", "nope"]}), ": node 'conv' (op Conv): input 'nope' is not produced")
    o("conv-w-computed", tiny({"conv_ins": ["x", "x"]}), ": node 'conv' (op Conv): input 'x' must be a constant")
    o("init-no-name", tiny({"inits": [t_tensor(None, [4, 3, 3, 3], w1)]}), ": initializer 1 has no name")
    o("init-duplicate", tiny({"inits": [t_tensor("w1", [4, 3, 3, 3], w1), t_tensor("w1", [4, 3, 3, 3], w1)]}),
      ": initializers 1 and 2 are both named 'w1'")
    base_inits = lambda w: [w, t_tensor("b1", [4], [0] * 4), t_tensor("w2", [10, 4], [0] * 40), t_tensor("b2", [10], [0] * 10)]
    o("init-raw-short", tiny({"inits": base_inits(t_tensor("w1", [4, 3, 3, 3], raw=b"\0" * 17))}),
      ": node 'conv' (op Conv): constant 'w1': data size does not match its shape")
    o("init-float-short", tiny({"inits": base_inits(t_tensor("w1", [4, 3, 3, 3], [0.0] * 100))}),
      ": node 'conv' (op Conv): constant 'w1': data size does not match its shape")
    o("init-int32", tiny({"inits": base_inits(t_tensor("w1", [4, 3, 3, 3], raw=b"\0" * 432, dtype=6))}),
      ": node 'conv' (op Conv): constant 'w1' has data type 6")
    o("init-dims-neg", tiny({"inits": base_inits(t_tensor("w1", [4, 3, -3, 3], w1))}), ": node 'conv' (op Conv): weights have an invalid shape")
    o("init-dims-huge", tiny({"inits": base_inits(t_tensor("w1", [1 << 40, 3, 3, 3], w1))}), ": node 'conv' (op Conv): weights have an invalid shape")
    o("init-dims-3d", tiny({"inits": base_inits(t_tensor("w1", [4, 27, 1], w1))}), ": node 'conv' (op Conv): weights must be 4-d")
    o("init-cin", tiny({"inits": base_inits(t_tensor("w1", [4, 2, 3, 3], [0.0] * 72))}), ": node 'conv' (op Conv): weights expect 2 input channels")
    o("relu-2-inputs", tiny({"nodes": [t_node("Conv", ["x", "w1", "b1"], ["c"], "conv",
                                              [t_attr("pads", INTS, ints=[1, 1, 1, 1])]),
                                       t_node("Relu", ["c", "c"], ["y"], "relu")],
                             "outs": [t_value("y", [-1, 4, 8, 8])]}), ": node 'relu' (op Relu): expects 1 input, not 2")
    o("unsupported-op", tiny({"extra_nodes": [t_node("Softmax", ["y"], ["z"], "sm")]}), ": node 'sm' (op Softmax): unsupported operator")
    o("op-missing", tiny({"extra_nodes": [pb_str(1, "y") + pb_str(2, "z")]}), ": node 'z' (op ): unsupported operator")
    o("output-defined-twice", tiny({"extra_nodes": [t_node("Relu", ["y"], ["c"], "again")]}), ": node 'again' (op Relu): output 'c' is defined twice")
    o("output-not-computed", tiny({"outs": [t_value("zz", [-1, 10])]}), ": output 'zz' is not computed by the graph")
    o("constant-no-value", tiny({"extra_nodes": [t_node("Constant", [], ["k"], "k", [t_attr("value", INT, i=3)])]}),
      ": node 'k' (op Constant): only a tensor 'value' is supported")
    o("domain", tiny({"extra_nodes": [t_node("Relu", ["y"], ["z"], "r2") + pb_str(7, "com.example")]}),
      ": node 'r2' (op Relu): unsupported operator (domain 'com.example')")
    # nesting: graph -> node -> attribute -> graph ..., refused before protobuf-c's recursive unpack
    deep = b""
    for _ in range(30000):
        deep = pb_str(1, pb_str(5, pb_str(6, deep)))
    o("nesting-90k", pb_str(7, deep), ": protobuf messages nested deeper than 32")
    deep = b""
    for _ in range(12):
        deep = pb_str(1, pb_str(5, pb_str(6, deep)))
    o("nesting-36", pb_str(7, deep), ": protobuf messages nested deeper than 32")
    many = [t_node("Relu", ["y"], ["y%d" % i], "r%d" % i) for i in range(10001)]
    o("nodes-10001", tiny({"extra_nodes": many}), ": the graph has 10006 nodes")
    # the real model, edited at the wire level
    real = os.path.join(data_dir, MODEL) if data_dir else ""
    if real and os.path.exists(real):
        raw = open(real, "rb").read()
        top = pb_parse(raw)

        def edit_graph(fn):
            out = []
            for num, wt, v in top:
                if num == 7:
                    v = pb_build(fn(pb_parse(v)))
                out.append((num, wt, v))
            return pb_build(out)

        def strip_name(fields, which):
            out, seen = [], 0
            for num, wt, v in fields:
                if num == which and seen == 0:
                    v = pb_build([f for f in pb_parse(v) if f[0] != 1])
                    seen = 1
                out.append((num, wt, v))
            return out

        def dup_init(fields):
            inits = [f for f in fields if f[0] == 5]
            return fields + [inits[0]]

        def attr_noname(fields):
            out, done = [], 0
            for num, wt, v in fields:
                if num == 1 and not done:
                    nf = pb_parse(v)
                    if any(f[0] == 5 for f in nf):
                        nf2 = []
                        for f in nf:
                            if f[0] == 5 and not done:
                                f = (5, 2, pb_build([a for a in pb_parse(f[2]) if a[0] != 1]))
                                done = 1
                            nf2.append(f)
                        v = pb_build(nf2)
                out.append((num, wt, v))
            return out

        o("resnet8-output-no-name", edit_graph(lambda f: strip_name(f, 12)), ": graph output 1 has no name")
        o("resnet8-input-no-name", edit_graph(lambda f: strip_name(f, 11)), ": graph input 1 has no name")
        o("resnet8-dup-initializer", edit_graph(dup_init), ": initializers 1 and 21 are both named 'layers.conv2d.weight'")
        o("resnet8-attr-no-name", edit_graph(attr_noname), ": node 1 ('/conv2d/Conv'): attribute 1 has no name")
        o("resnet8-truncated", raw[:len(raw) // 2], ": not a valid ONNX model")
        o("resnet8-no-nodes", edit_graph(lambda f: [x for x in f if x[0] != 1]), ":")
    case("onnx/dev-zero", ["info", "/dev/zero"], 1, "cannot read '/dev/zero': not a regular file")
    case("onnx/directory", ["info", "{d}"], 1, "cannot read '{d}': is a directory")
    case("onnx/missing", ["info", "{d}/nope.onnx"], 1, "cannot open '{d}/nope.onnx'")


# ------------------------------------------------------------------------------------------------
# run directories: checkpoint, archive, holdout cache (resume / export / report)

def crc32(b):
    return zlib.crc32(b) & 0xFFFFFFFF


def ckpt_split(blob):
    magic, ver, plen = blob[:8], struct.unpack("<I", blob[8:12])[0], struct.unpack("<Q", blob[12:20])[0]
    return magic, ver, bytearray(blob[20:20 + plen])


def ckpt_join(magic, ver, payload):
    body = magic + struct.pack("<IQ", ver, len(payload)) + bytes(payload)
    return body + struct.pack("<I", crc32(body))


# payload offsets (problems/run.c save_ckpt): hash u64, n_genes u64, n_obj u32, pop_size u64, pc, eta_c, eta_m,
# pm_real, pm_int, creep, swap (f64), max_gen, max_evals i64, max_seconds f64, stall_gens i64, stall_tol f64,
# seed u64, threads i64, gen, evals, hits i64, elapsed, hv_best f64, hv_best_gen i64, arc_saved, gens_bytes u64,
# rng state 16 bytes, n_pop u64, then per individual: genes f64..., objectives f64..., cv f64, rank u32, crowd f64
OFF = {"hash": 0, "n_genes": 8, "n_obj": 16, "pop": 20, "pc": 28, "eta_c": 36, "eta_m": 44, "pm_real": 52,
       "pm_int": 60, "creep": 68, "swap": 76, "max_gen": 84, "max_evals": 92, "max_seconds": 100, "stall": 108,
       "stall_tol": 116, "seed": 124, "threads": 132, "gen": 140, "evals": 148, "hits": 156, "elapsed": 164,
       "hv_best": 172, "hv_best_gen": 180, "arc_saved": 188, "gens_bytes": 196, "rng": 204, "n_pop": 220,
       "indiv": 228}



def run_cases(base_zdt, base_cnn):
    if base_zdt and os.path.exists(os.path.join(base_zdt, "checkpoint")):
        files = {}
        for n in os.listdir(base_zdt):
            p = os.path.join(base_zdt, n)
            if os.path.isfile(p):
                files[n] = open(p, "rb").read()
        magic, ver, pay = ckpt_split(files["checkpoint"])
        n_genes = struct.unpack_from("<Q", pay, OFF["n_genes"])[0]

        def ck(name, edit, frag, argv=None, xfail="", raw=None, status=1, extra_files=None):
            p = bytearray(pay)
            if edit:
                edit(p)
            f = dict(files)
            f["checkpoint"] = raw if raw is not None else ckpt_join(magic, ver, p)
            f.update(extra_files or {})
            case("checkpoint/" + name, argv or ["resume", "{d}", "-q"], status, frag, f, ("zdt",), xfail)

        put = lambda fmt, off, v: (lambda p: struct.pack_into(fmt, p, off, v))
        cp = "{d}/checkpoint"
        ck("crc-flip", None, "'" + cp + "' is corrupt (checksum mismatch)",
           raw=files["checkpoint"][:-1] + bytes([files["checkpoint"][-1] ^ 1]))
        ck("truncated", None, "'" + cp + "' is truncated or damaged", raw=files["checkpoint"][:100])
        ck("empty", None, "'" + cp + "' is not a checkpoint file", raw=b"")
        ck("magic", None, "'" + cp + "' is not a checkpoint file", raw=b"XXXXXXXX" + files["checkpoint"][8:])
        ck("version", None, "'" + cp + "' has checkpoint format version 99",
           raw=ckpt_join(magic, 99, pay))
        ck("hash", put("<Q", OFF["hash"], 12345), "'" + cp + "' was written for a different problem")
        ck("n-genes", put("<Q", OFF["n_genes"], n_genes + 1), "'" + cp + "' was written for a different problem")
        ck("pop-zero", put("<Q", OFF["pop"], 0), cp + ": population is 0, not an even number in 4..100000")
        ck("pop-odd", put("<Q", OFF["pop"], 7), cp + ": population is 7, not an even number in 4..100000")
        ck("pc-2", put("<d", OFF["pc"], 2.0), cp + ": crossover probability is 2, outside 0..1")
        ck("pc-nan", put("<d", OFF["pc"], float("nan")), cp + ": crossover probability is nan, outside 0..1")
        ck("gen-neg", put("<q", OFF["gen"], -5), cp + ": generation is -5, outside")
        ck("rng-even", put("<Q", OFF["rng"] + 8, 2), cp + ": random generator state is invalid")
        ck("n-pop-big", put("<Q", OFF["n_pop"], 1 << 40),
           cp + ": population count is 1099511627776 at generation 3, where it must be the population size 8")
        ck("n-pop-zero", lambda p: (struct.pack_into("<Q", p, OFF["n_pop"], 0), p.__delitem__(slice(OFF["indiv"], None))),
           cp + ": population count is 0 at generation 3, where it must be the population size 8")
        ck("gene-nan", put("<d", OFF["indiv"], float("nan")), cp + ": gene 1 of individual 1 is nan, outside 0..1")
        ck("gene-999", put("<d", OFF["indiv"], 999.0), cp + ": gene 1 of individual 1 is 999, outside 0..1")
        n_obj = struct.unpack_from("<I", pay, OFF["n_obj"])[0]
        ck("rank-huge", put("<I", OFF["indiv"] + 8 * (n_genes + n_obj + 1), 0xFFFFFFFF),
           cp + ": rank of individual 1 is 4294967295, outside")
        ck("extra-bytes", lambda p: p.extend(b"\0" * 8), cp + ": ")  # trailing bytes: any field-naming refusal
        ck("arc-saved-huge", put("<Q", OFF["arc_saved"], 1 << 50),
           cp + ": archive records is 1125899906842624, but evaluations is 23")
        ck("gens-bytes-huge", put("<Q", OFF["gens_bytes"], 1 << 50),
           "'{d}/generations.csv' is missing or shorter than the checkpoint records")
        # archive
        arch = files["archive"]

        def ar(name, blob, frag, argv=None, xfail=""):
            f = dict(files)
            f["archive"] = blob
            case("archive/" + name, argv or ["resume", "{d}", "-q"], 1, frag, f, ("zdt",), xfail)

        ap = "{d}/archive"
        ar("empty", b"", "'" + ap + "' is not an archive file")
        ar("magic", b"XXXXXXXX" + arch[8:], "'" + ap + "' is not an archive file")
        ar("version", arch[:8] + struct.pack("<I", 99) + arch[12:], "'" + ap + "' has archive format version 99")
        ar("hash", arch[:24] + struct.pack("<Q", 1) + arch[32:], "'" + ap + "' belongs to a different problem")
        ar("truncated", arch[:len(arch) - 5], "'" + ap + "' is truncated")
        hdr = 32
        rec = bytearray(arch)
        if len(rec) > hdr + 20:
            rec[hdr + 20] ^= 0xFF
        ar("record-crc", bytes(rec), "'" + ap + "' is corrupt: record 0 (byte 32) fails its checksum")
        ar("header-only", arch[:hdr], "'" + ap + "' is truncated: 0 of")
    if base_cnn and os.path.exists(os.path.join(base_cnn, "holdout.csv")):
        files = {}
        for n in os.listdir(base_cnn):
            p = os.path.join(base_cnn, n)
            if os.path.isfile(p) and not n.endswith((".png", ".svg", ".md")):
                files[n] = open(p, "rb").read()
        h = files["holdout.csv"].decode()
        # front.csv (export reads it)
        def fr(name, text, frag, xfail=""):
            f = dict(files)
            f["front.csv"] = text
            case("front/" + name, ["export", "{d}", "--knee", "--no-holdout"], 1, frag, f, ("cnn", "data"), xfail)

        fr("empty", b"", "{d}/front.csv")
        fr("garbage", b"a,b\n1,2\n", "{d}/front.csv")

        # report reads the holdout cache: a cache without a valid checksum is not believed but measured
        # again, with a warning naming the file
        def ho(name, text, frag, xfail="", status=0):
            f = dict(files)
            f["holdout.csv"] = text
            case("holdout/" + name, ["report", "{d}", "-j", "1"], status, frag, f, ("cnn", "data"), xfail)

        lines = h.splitlines(True)
        changed = "".join(lines[:1] + [l.replace("1", "2", 1) for l in lines[1:]])
        ho("changed-figure", changed, "{d}/holdout.csv")
        ho("truncated", h[:len(h) // 2], "{d}/holdout.csv")
        ho("garbage", "x" * 100, "{d}/holdout.csv")
        ho("binary", bytes(range(256)).decode("latin-1"), "{d}/holdout.csv")


# ------------------------------------------------------------------------------------------------
# command-line options

def cli_cases():
    def c(name, argv, status, frag, needs=()):
        case("cli/" + name, argv, status, frag, needs=needs)

    c("no-command", [], 2, "usage: approxmap")
    c("unknown-command", ["frobnicate"], 2, "frobnicate")
    c("info-no-model", ["info", "--format", "xml", "{d}/m.onnx"], 2, "xml")
    c("info-extra", ["info", "a.onnx", "b.onnx"], 2, "")
    c("eval-count-text", ["eval", "--count", "abc"], 2, "abc")
    c("eval-count-neg", ["eval", "--count", "-3"], 2, "-3")
    c("eval-first-text", ["eval", "--first", "1x"], 2, "1x")
    c("eval-threads-text", ["eval", "--threads", "many"], 2, "many")
    c("eval-format", ["eval", "--format", "xml"], 2, "xml")
    c("eval-percentile", ["eval", "--percentile", "200"], 2, "200")
    c("eval-calib-method", ["eval", "--calib-method", "median"], 2, "median")
    c("eval-map-and-uniform", ["eval", "--map", "a.yaml", "--uniform", "b"], 2, "")
    c("eval-library-alone", ["eval", "--library", "roup8"], 2, "library")
    c("eval-compensate", ["eval", "--uniform", "roup_k0_m0", "--compensate", "magic"], 2, "magic")
    c("eval-unknown-option", ["eval", "--frobnicate"], 2, "frobnicate")
    c("eval-missing-arg", ["eval", "--map"], 2, "map")
    # --calib ranges are checked as a problem file's data ranges are, and named
    c("eval-calib-range", ["eval", "--calib", TRAIN + ":abc", "--no-float", "--count", "1"], 2,
      "approxmap eval: --calib: bad range '" + TRAIN + ":abc': FIRST and COUNT must be non-negative integers")
    c("eval-calib-count-0", ["eval", "--calib", TRAIN + ":0:0", "--no-float", "--count", "1"], 2,
      "approxmap eval: --calib: bad range '" + TRAIN + ":0:0': COUNT is 0 (no records)")
    c("eval-calib-no-file", ["eval", "--calib", ":0:5", "--no-float", "--count", "1"], 2,
      "approxmap eval: --calib: bad range ':0:5': no file name")
    c("sweep-calib-count-0", ["sweep", "--calib", TRAIN + ":5:0", "--count", "1"], 2,
      "approxmap sweep: --calib: bad range '" + TRAIN + ":5:0': COUNT is 0 (no records)")
    c("quantize-calib-count-0", ["quantize", "--calib", TRAIN + ":0:0", "-o", "{d}/q.yaml"], 2,
      "approxmap quantize: --calib: bad range '" + TRAIN + ":0:0': COUNT is 0 (no records)")
    c("characterize-calib-count-0", ["characterize", "--layers", "--calib", TRAIN + ":0:0"], 2,
      "approxmap characterize: --calib: bad range '" + TRAIN + ":0:0': COUNT is 0 (no records)")
    c("search-no-output", ["search", "{top}/problems/zdt/zdt1.yaml"], 2, "missing -o RUNDIR")
    c("search-gens-zero", ["search", "{top}/problems/zdt/zdt1.yaml", "-o", "{d}/r", "-g", "0"], 2, "0")
    c("search-seed-text", ["search", "{top}/problems/zdt/zdt1.yaml", "-o", "{d}/r", "-s", "x"], 2, "x")
    c("search-time-limit", ["search", "{top}/problems/zdt/zdt1.yaml", "-o", "{d}/r", "--time-limit", "soon"], 2, "soon")
    c("search-threads-neg", ["search", "{top}/problems/zdt/zdt1.yaml", "-o", "{d}/r", "-t", "-2"], 2, "-2")
    c("search-output-file", ["search", "{top}/problems/zdt/zdt1.yaml", "-o", "/dev/null", "-q"], 1,
      "'/dev/null' exists and is not a directory")
    c("resume-not-run", ["resume", "{d}"], 1, "{d}")
    c("resume-missing", ["resume", "{d}/nope"], 1, "{d}/nope")
    c("resume-gens-text", ["resume", "{d}", "-g", "ten"], 2, "ten")
    c("export-not-run", ["export", "{d}", "--knee"], 1, "{d}")
    c("export-two-selectors", ["export", "{d}", "--knee", "--all"], 2, "")
    c("export-index-text", ["export", "{d}", "--index", "x"], 2, "x")
    c("export-format", ["export", "{d}", "--knee", "--format", "pdf"], 2, "pdf")
    c("report-not-run", ["report", "{d}", "--no-holdout"], 1, "{d}")
    c("multipliers-format", ["multipliers", "--format", "xml"], 2, "xml")
    c("characterize-config", ["characterize", "--config", "9,9"], 2, "bad --config '9,9'")
    c("characterize-pairs", ["characterize", "--pairs", "1"], 2, "bad --pairs '1'")
    c("characterize-clock", ["characterize", "--clock", "-1"], 2, "bad --clock '-1'")
    c("characterize-slew", ["characterize", "--input-slew", "x"], 2, "bad --input-slew 'x'")
    c("quantize-no-output", ["quantize", "--threads", "x"], 2, "x")
    c("sweep-multipliers", ["sweep", "--multipliers", "nope", "--count", "1", "--calib", CAL1], 2,
      "unknown multiplier 'nope' in library",
      needs=("data",))
    c("data-dir-missing", ["--data-dir", "{d}/nope", "info", "models/x.onnx"], 1, "{d}/nope")


def main(argv):
    out = argv[1]
    opts = dict(zip(argv[2::2], argv[3::2]))
    problem_cases()
    map_cases()
    library_cases()
    energy_cases()
    cifar_cases()
    liberty_cases()
    onnx_cases(opts.get("--data", ""))
    run_cases(opts.get("--base-zdt"), opts.get("--base-cnn"))
    cli_cases()
    names = set()
    manifest = []
    for c in CASES:
        assert c["name"] not in names, c["name"]
        names.add(c["name"])
        d = os.path.join(out, c["name"])
        os.makedirs(d, exist_ok=True)
        for rel, blob in c.pop("files").items():
            p = os.path.join(d, rel)
            os.makedirs(os.path.dirname(p), exist_ok=True)
            with open(p, "wb") as f:
                f.write(blob.encode("utf-8", "surrogateescape") if isinstance(blob, str) else blob)
        manifest.append(c)
    with open(os.path.join(out, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=0)
    print("%d cases" % len(manifest))


if __name__ == "__main__":
    main(sys.argv)
