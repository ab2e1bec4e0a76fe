#!/bin/sh
# `make bench` runner for the engine (run from the build directory by Makefile.am's bench-local):
#  1. tests/bench_kern: kernel GMAC/s on ResNet-8's shapes at 1 thread and all cores, exact and under random
#     kernel-level ROUP / table maps, and the in-register int8 MAC peaks (vpmaddwd; vpmaddubsw+vpmaddwd).
#  2. tests/bench_cmp.py: the whole quantized network side by side in one run, interleaved rounds, medians:
#     approxmap exact, a random kernel-level ROUP map and a random 7-table map (tests/bench_net), XNNPACK
#     int8 on the same quantized network (when configure found libxnnpack-dev, else a note), PyTorch int8
#     built from approxmap's quantized YAML and PyTorch float (tests/bench_torch.py, when python3 has torch,
#     onnx and yaml); images per CPU-second at one thread and wall images/s at all cores, batch 256, ratios
#     to approxmap exact and fractions of the vpmaddubsw peak measured in step 1.
# Environment: APPROXMAP_DATA (default: data/ in the source tree), BENCH_BATCH and BENCH_SECS (step 1),
# BENCH_ROUNDS (step 2, default 5), BENCH_NET_BATCH (step 2, default 256), BENCH_CPU_TIME=1 (step 1 measures
# process CPU time: use it when other jobs share the machine; the peaks are always CPU time),
# BENCH_NET_BEFORE=PATH (step 2: another build's tests/bench_net, e.g. of an earlier commit, measured in the
# same interleaved rounds as "approxmap exact, before").
set -e
here=$(cd "$(dirname "$0")" && pwd)
top=$(dirname "$here")
data=${APPROXMAP_DATA:-$top/data}
export APPROXMAP_DATA="$data"
out=$(mktemp /tmp/approxmap-bench-XXXXXX)
trap 'rm -f "$out"' EXIT
ncores=$(nproc 2>/dev/null || echo 1)

echo "== kernels and int8 MAC peak ($(date -u '+%Y-%m-%d %H:%M UTC'), load average $(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null))"
if [ "${BENCH_ONLY:-}" = net ]; then
  echo "# skipped (BENCH_ONLY=net)" >"$out"
else
  ./tests/bench_kern "${BENCH_BATCH:-64}" "${BENCH_SECS:-0.3}" | tee "$out"
fi
peak1=$(awk '$1 == "peak_maddubs_gmacs_1core" { print $2 }' "$out")
peakall=$(awk '$1 == "peak_maddubs_gmacs" { print $2 }' "$out")

echo
echo "== whole network: approxmap, XNNPACK, PyTorch ($(date -u '+%H:%M UTC'), load average $(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null))"
py=
for c in python3 /usr/bin/python3; do # prefer a python3 that has torch (the servers run with the same one)
  if command -v "$c" >/dev/null 2>&1 && "$c" -c 'import torch' >/dev/null 2>&1; then py=$c; break; fi
done
if [ -z "$py" ]; then
  for c in python3 /usr/bin/python3; do command -v "$c" >/dev/null 2>&1 && { py=$c; break; }; done
  [ -n "$py" ] && echo "# PyTorch columns will be skipped: no python3 with torch (Debian: python3-torch python3-onnx python3-yaml)"
fi
if [ -z "$py" ]; then
  echo "# whole-network comparison skipped: no python3"
else
  "$py" "$here/bench_cmp.py" . "$data" "$top" --rounds "${BENCH_ROUNDS:-5}" --batch "${BENCH_NET_BATCH:-256}" \
    --threads "$ncores" --peak1 "${peak1:-0}" --peakall "${peakall:-0}" ${BENCH_NET_BEFORE:+--before "$BENCH_NET_BEFORE"} ${BENCH_ENGINES:+--engines "$BENCH_ENGINES"}
fi
