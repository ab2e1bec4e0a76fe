#!/bin/sh
# The malformed-input corpus: tests/corpus/gen.py generates ~300 broken inputs across every file type
# approxmap reads (problem, map, library, table, checkpoint, archive, holdout cache, front.csv, ONNX,
# CIFAR-10, Liberty, energy model, command-line options), each with its expected exit status and a
# message fragment (the file and, for text formats, line:column); tests/corpus/run.py runs them all
# (2 at a time, a time limit each, sanitizer reports made fatal) and prints the counts of clean
# errors, crashes, hangs, silent accepts and wrong messages. Fails on any crash, hang, silent accept
# or wrong message. Cases that need CIFAR-10 and the model are skipped when the data is absent.
set -u
: "${BIN:?BIN must point at the approxmap binary}"
: "${TOP_SRCDIR:?TOP_SRCDIR must point at the source tree}"
if ! command -v python3 >/dev/null 2>&1; then
    echo "SKIP: python3 is absent"
    exit 77
fi
exec python3 "$TOP_SRCDIR/tests/corpus/run.py" --bin "$BIN" --top "$TOP_SRCDIR" --data "${APPROXMAP_DATA:-}" \
    --jobs 2 --timeout 120
