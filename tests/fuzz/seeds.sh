#!/bin/sh
# Seed corpora for the harnesses, made from the project's own inputs (nothing binary is committed):
#   seeds.sh BIN MKONNX OUTDIR     -> OUTDIR/<harness>/...
# BIN: an approxmap binary (runs the checkpoint harness's search); MKONNX: tests/fuzz/mkonnx (the tiny
# valid ONNX model). Data under APPROXMAP_DATA (or the source tree's data/) adds the ResNet-8 model and
# CIFAR-10 records; yosys's Liberty files are used when installed.
set -eu
BIN=$1 MKONNX=$2 OUT=$3
src=$(cd "$(dirname "$0")/../.." && pwd)
data=${APPROXMAP_DATA:-$src/data}
rm -rf "$OUT"
for h in problem map library onnx onnx_fwd ckpt cifar front energy liberty; do mkdir -p "$OUT/$h"; done
n=0
add() { # add HARNESS FILE: copy under a unique name
    [ -r "$2" ] || return 0
    n=$((n + 1)); cp "$2" "$OUT/$1/$n-$(basename "$2")"
}
for f in "$src"/problems/*/*.yaml "$src"/tests/data/*.yaml "$src"/tests/fuzz/ckpt_problem.yaml \
         "$src"/results/search/*/problem.yaml; do
    case $f in */multipliers/*) add library "$f" ;; *) add problem "$f" ;; esac
done
for f in "$src"/results/search/*/*.yaml "$src"/tests/fuzz/seeds/map/*.yaml; do
    case $f in */problem.yaml) ;; *) add map "$f" ;; esac
done
for f in "$src"/results/search/*/front.csv; do add front "$f"; done
for f in "$src"/results/gate/layers_*.yaml; do add energy "$f"; done
for f in /usr/share/yosys/*.lib /usr/share/yosys/*/*.lib "$src"/tests/fuzz/seeds/liberty/*.lib; do add liberty "$f"; done
"$MKONNX" "$OUT/onnx_fwd/tiny.onnx"
cp "$OUT/onnx_fwd/tiny.onnx" "$OUT/onnx/tiny.onnx"
add onnx "$data/models/resnet8_mlperf_float.onnx"
b=$data/cifar10/cifar-10-batches-bin/test_batch.bin
if [ -r "$b" ]; then
    head -c $((3 * 3073)) "$b" >"$OUT/cifar/three.bin"
    head -c 3073 "$b" >"$OUT/cifar/one.bin"
else # one made-up record: label 3, then a gradient
    awk 'BEGIN { printf "%c", 3; for (i = 0; i < 3072; i++) printf "%c", (i * 7) % 251 + 1 }' >"$OUT/cifar/one.bin"
fi
# a real run of the checkpoint harness's problem: its checkpoint, and its front.csv for the front harness
t=$(mktemp -d /tmp/approxmap-seeds-XXXXXX)
"$BIN" search "$src/tests/fuzz/ckpt_problem.yaml" -o "$t/run" --quiet
cp "$t/run/checkpoint" "$OUT/ckpt/checkpoint"
cp "$t/run/front.csv" "$OUT/front/zdt-front.csv"
"$BIN" search "$src/problems/zdt/tnk.yaml" -o "$t/tnk" -g 3 --quiet 2>/dev/null && cp "$t/tnk/front.csv" "$OUT/front/tnk-front.csv" || true
rm -rf "$t"
for h in problem map library onnx onnx_fwd ckpt cifar front energy liberty; do
    echo "seeds: $h $(ls "$OUT/$h" | wc -l)"
done
