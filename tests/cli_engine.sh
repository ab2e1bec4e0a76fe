#!/bin/sh
# CLI behaviour of the engine commands (info, eval, quantize): usage errors, clear failures for
# missing or malformed inputs, and, with the data present, the reference model's figures.
# Prints one "PASS/FAIL: what" line per check; exits 1 on any failure, 77 when the data is absent.
set -u
: "${BIN:?BIN must point at the approxmap binary}"
fail=0
tmp=$(mktemp -d /tmp/approxmap-cli-engine.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
check() { # check DESCRIPTION EXPECTED_STATUS COMMAND...
    desc=$1; want=$2; shift 2
    "$@" >"$tmp/out" 2>"$tmp/err"; got=$?
    if [ "$got" -eq "$want" ]; then echo "PASS: $desc"; else
        echo "FAIL: $desc (exit $got, wanted $want)"; sed 's/^/    /' "$tmp/out" "$tmp/err"; fail=1; fi
}
has() { # has DESCRIPTION FILE FIXED-STRING
    if grep -qF -- "$3" "$2"; then echo "PASS: $1"; else echo "FAIL: $1 (no '$3' in output)"; sed 's/^/    /' "$2"; fail=1; fi
}

check "info --help exits 0" 0 "$BIN" info --help
check "eval --help exits 0" 0 "$BIN" eval --help
check "quantize --help exits 0" 0 "$BIN" quantize --help
check "info without a model is a usage error" 2 "$BIN" info
check "info with an unknown format is a usage error" 2 "$BIN" info --format xml m.onnx
check "eval with a bad --count is a usage error" 2 "$BIN" eval --count ten
check "eval with an unknown calibration method is a usage error" 2 "$BIN" eval --calib-method mean
check "quantize without -o is a usage error" 2 "$BIN" quantize
check "info on a missing model fails" 1 "$BIN" info "$tmp/none.onnx"
has "missing model named" "$tmp/err" "cannot open '$tmp/none.onnx'"
printf 'not a protobuf at all\377\377' >"$tmp/junk.onnx"
check "info on a malformed model fails" 1 "$BIN" info "$tmp/junk.onnx"
has "malformed model explained" "$tmp/err" "$tmp/junk.onnx: not a valid ONNX model (protobuf parse failed)"

model=models/resnet8_mlperf_float.onnx
test_batch=cifar10/cifar-10-batches-bin/test_batch.bin
calib=cifar10/cifar-10-batches-bin/data_batch_1.bin:0:100
data=${APPROXMAP_DATA:-$TOP_SRCDIR/data}
if [ ! -r "$data/$model" ] || [ ! -r "$data/$test_batch" ]; then
    echo "SKIP: reference model or CIFAR-10 absent under '$data'"
    [ $fail -eq 0 ] && exit 77
    exit 1
fi

check "info on the reference model" 0 "$BIN" info "$model"
has "10 approximable layers" "$tmp/out" "approximable layers: 10 (9 conv + 1 dense)"
has "12,501,632 MACs" "$tmp/out" "MACs per image: 12,501,632 (padding taps included)"
has "346 filters" "$tmp/out" "filters: 346"
has "11,440 kernels" "$tmp/out" "kernels: 11,440"
has "genome sizes" "$tmp/out" "genome sizes: layer 10, filter 346, kernel 11,440"
check "info --format json" 0 "$BIN" info --format json "$model"
has "json totals" "$tmp/out" '"layers": 10, "conv_layers": 9, "dense_layers": 1, "macs": 12501632, "filters": 346, "kernels": 11440'
has "json genome" "$tmp/out" '"genome": {"layer": 10, "filter": 346, "kernel": 11440}'

check "eval 100 images as json" 0 "$BIN" eval --count 100 --calib "$calib" --format json --threads 2
has "eval images" "$tmp/out" '"images": 100'
has "eval float accuracy" "$tmp/out" '"accuracy_float": 88.00'
has "eval int8 accuracy" "$tmp/out" '"accuracy_int8": 86.00'
check "eval is independent of the thread count" 0 "$BIN" eval --count 100 --calib "$calib" --format json --threads 1 --no-float
has "eval int8 accuracy, one thread" "$tmp/out" '"accuracy_int8": 86.00'

head -c 6246 "$data/$test_batch" >"$tmp/short.bin"
printf 'xyz' >>"$tmp/short.bin"
check "eval on a truncated CIFAR-10 file fails" 1 "$BIN" eval --data "$tmp/short.bin" --calib "$calib"
has "truncation explained" "$tmp/err" "$tmp/short.bin: truncated record 2 (file size 6249 is not a multiple of 3073)"
head -c 6146 "$data/$test_batch" >"$tmp/two.bin"
check "eval beyond the end of the file fails" 1 "$BIN" eval --data "$tmp/two.bin" --first 5 --count 1 --calib "$calib"
has "range explained" "$tmp/err" "$tmp/two.bin: records 5..5 requested but the file holds 2"

check "quantize writes YAML" 0 "$BIN" quantize --calib "$calib" -o "$tmp/q.yaml"
has "yaml documented" "$tmp/q.yaml" "# approxmap quantized model (format approxmap-int8-model, version 1)"
has "yaml layer count" "$tmp/q.yaml" "layers: 10"
has "yaml dense layer" "$tmp/q.yaml" "op: dense"
if command -v python3 >/dev/null 2>&1 && python3 -c 'import yaml' 2>/dev/null; then
    if python3 -c 'import sys, yaml; d = yaml.safe_load(open(sys.argv[1])); assert d["version"] == 1 and len(d["ops"]) == 14 and sum(o["op"] in ("conv", "dense") for o in d["ops"]) == 10 and all(len(o["weights"]) == len(o["bias"]) for o in d["ops"] if "weights" in o)' "$tmp/q.yaml"; then
        echo "PASS: yaml parses with 14 ops and 10 layers"; else echo "FAIL: yaml does not parse as expected"; fail=1; fi
    # an independent executor that knows only the documented format gives the same int8 logits
    check "eval --logits" 0 "$BIN" eval --count 3 --calib "$calib" --no-float --logits "$tmp/c.csv"
    check "python executes the yaml" 0 python3 "$TOP_SRCDIR/tests/qnn_yaml_ref.py" "$tmp/q.yaml" "$data/$test_batch" 0 3
    if cmp -s "$tmp/out" "$tmp/c.csv"; then echo "PASS: yaml executed elsewhere is bit-exact (3 images)"; else
        echo "FAIL: yaml executed elsewhere differs"; diff "$tmp/out" "$tmp/c.csv" | sed 's/^/    /'; fail=1; fi
fi
exit $fail
