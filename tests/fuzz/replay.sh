#!/bin/sh
# make check: every harness over its seed corpus (made by seeds.sh from the project's inputs) and its
# kept crash reproducers (tests/fuzz/regress/<harness>/), through the replay driver built with the
# normal compiler (and the sanitizers in the sanitizer build). One PASS/FAIL line per harness.
set -u
: "${BIN:?}" "${TOP_SRCDIR:?}" "${TOP_BUILDDIR:?}"
R=$TOP_BUILDDIR/tests/fuzz/fuzz_replay
T=$(mktemp -d /tmp/approxmap-fuzz-replay-XXXXXX)
trap 'rm -rf "$T"' EXIT
fail=0
if ! sh "$TOP_SRCDIR/tests/fuzz/seeds.sh" "$BIN" "$TOP_BUILDDIR/tests/fuzz/mkonnx" "$T/seeds" >"$T/out" 2>&1; then
    echo "FAIL: seed corpora"; sed 's/^/    /' "$T/out"; exit 1
fi
# seeds every reader must accept in full (the others: at least one; e.g. a map for the stand-in layers
# is refused when ResNet-8 is present, and not every Liberty file of yosys is complete)
all="problem library onnx onnx_fwd ckpt cifar front energy"
data=${APPROXMAP_DATA:-$TOP_SRCDIR/data}
# without ResNet-8 the energy files (written for its layers) cannot match the stand-in layers
[ -r "$data/models/resnet8_mlperf_float.onnx" ] || all="problem library onnx onnx_fwd ckpt cifar front"
for h in problem map library onnx onnx_fwd ckpt cifar front energy liberty; do
    set -- "$T/seeds/$h"/*
    [ -e "$1" ] || { echo "FAIL: $h: no seeds"; fail=1; continue; }
    if ! "$R" "$h" "$@" >"$T/out" 2>&1; then
        echo "FAIL: $h: seeds (exit $?)"; sed 's/^/    /' "$T/out" | tail -n 30; fail=1; continue
    fi
    acc=$(sed -n 's/.*, \([0-9]*\) accepted$/\1/p' "$T/out")
    want=1; case " $all " in *" $h "*) want=$# ;; esac
    [ $h = energy ] && [ ! -r "$data/models/resnet8_mlperf_float.onnx" ] && want=0
    [ "${acc:-0}" -ge "$want" ] && pass=yes || pass=no
    set --
    for f in "$TOP_SRCDIR/tests/fuzz/regress/$h"/*; do [ -f "$f" ] && set -- "$@" "$f"; done
    if [ $# -gt 0 ] && ! "$R" "$h" "$@" >"$T/out2" 2>&1; then
        echo "FAIL: $h: reproducers (exit $?)"; sed 's/^/    /' "$T/out2" | tail -n 30; fail=1; continue
    fi
    if [ $pass = yes ]; then echo "PASS: $h: $(tail -n 1 "$T/out") (at least $want), $# crash reproducers replayed"
    else echo "FAIL: $h: $(tail -n 1 "$T/out"), wanted at least $want accepted"; fail=1; fi
done
exit $fail
