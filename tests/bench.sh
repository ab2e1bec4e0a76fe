#!/bin/sh
# `make bench` runner for the kernels (run from the build directory by Makefile.am's bench-local):
# tests/bench_kern (kernel GMAC/s on ResNet-8's shapes, whole-network images/s at 1 thread and all
# cores, exact and under random kernel-level ROUP / table maps, the in-register MAC peak), then the
# same network's float inference in PyTorch (tests/bench_torch.py) at all cores, and the ratio of
# the two. PyTorch is skipped with a note when no python3 with torch and onnx is found.
# Environment: APPROXMAP_DATA (default: data/ in the source tree), BENCH_BATCH, BENCH_SECS,
# BENCH_CPU_TIME=1 (bench_kern measures process CPU time: use it when other jobs share the machine;
# the PyTorch figure stays wall time).
set -e
here=$(cd "$(dirname "$0")" && pwd)
top=$(dirname "$here")
data=${APPROXMAP_DATA:-$top/data}
out=$(mktemp /tmp/approxmap-bench-XXXXXX)
trap 'rm -f "$out"' EXIT
ncores=$(nproc 2>/dev/null || echo 1)

echo "== kernels and int8 network ($(date -u '+%Y-%m-%d %H:%M UTC'), load average $(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null))"
./tests/bench_kern "${BENCH_BATCH:-64}" "${BENCH_SECS:-0.3}" | tee "$out"

echo
echo "== PyTorch float reference"
py=
for c in python3 /usr/bin/python3; do
  if command -v "$c" >/dev/null 2>&1 && "$c" -c 'import torch, onnx' >/dev/null 2>&1; then py=$c; break; fi
done
if [ -z "$py" ]; then
  echo "# pytorch comparison skipped: no python3 with torch and onnx (Debian: python3-torch python3-onnx)"
else
  "$py" "$here/bench_torch.py" "$data" "$ncores" 2048 | tee -a "$out" || true
fi

ours=$(awk '$1 == "net_exact_images_per_s" { print $2 }' "$out")
what="whole int8 network"
if [ -z "$ours" ]; then
  ours=$(awk '$1 == "kern_exact_images_per_s" { print $2 }' "$out")
  what="int8 kernels only (network data absent)"
fi
torch=$(awk '$1 == "torch_images_per_s" { print $2 }' "$out")
echo
if [ -n "$ours" ] && [ -n "$torch" ]; then
  awk -v o="$ours" -v t="$torch" -v w="$what" -v n="$ncores" 'BEGIN {
    printf "exact %s at %d cores: %.0f images/s; PyTorch float at %d threads: %.0f images/s; ratio %.2fx\n",
           w, n, o, n, t, o / t }'
fi
