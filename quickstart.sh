#!/bin/sh
# approxmap quick start.
#   ./quickstart.sh          set up (packages, build, data link) and run the main job on the default problem
#   ./quickstart.sh test     same set-up, then the test suite (make check)
#   ./quickstart.sh bench    same set-up, then the benchmarks (make bench)
# Environment: BUILD_DIR (default build), CONFIGURE_FLAGS (extra ./configure flags, e.g. CC=clang), JOBS,
# EXTRA_PKGS (more Debian packages to install when missing, e.g. clang for CI's clang build).
set -eu
cd "$(dirname "$0")"
top=$(pwd)
mode=${1:-run}
BUILD_DIR=${BUILD_DIR:-build}
JOBS=${JOBS:-$(nproc 2>/dev/null || echo 2)}

# 1. Debian packages (installed only when missing).
PKGS="build-essential autoconf automake autoconf-archive pkg-config libgsl-dev libyaml-dev check
      libprotobuf-c-dev protobuf-c-compiler libonnx-dev gnuplot-nox yosys bc libopenmpi-dev openmpi-bin python3
      libxnnpack-dev libpthreadpool-dev xz-utils ${EXTRA_PKGS:-}"
# `make bench` also compares with PyTorch (float and int8): large, so only for ./quickstart.sh bench.
[ "$mode" != bench ] || PKGS="$PKGS python3-numpy python3-torch python3-onnx python3-yaml"
missing=
for p in $PKGS; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || missing="$missing $p"
done
if [ -n "$missing" ]; then
    echo "quickstart: installing:$missing"
    SUDO=; [ "$(id -u)" -eq 0 ] || SUDO=sudo
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $missing
fi

# 2. Data: link data/ to ../shared when it exists.
if [ ! -e data ]; then
    if [ -d ../shared/cifar10 ] && [ -d ../shared/models ]; then
        ln -s ../shared data
        echo "quickstart: data/ -> ../shared"
    else
        cat <<'MSG'
quickstart: no data directory. Put (or link) these under data/, or set APPROXMAP_DATA:
  data/cifar10/cifar-10-batches-bin/{data_batch_1..5,test_batch}.bin   CIFAR-10 binary version
      (https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz)
  data/models/resnet8_mlperf_float.onnx   MLPerf Tiny ResNet-8 converted to ONNX (see README.md)
Tests that need them are skipped.
MSG
    fi
fi

# 3. Build (out of tree, in $BUILD_DIR).
if [ ! -x configure ] || [ configure.ac -nt configure ]; then ./bootstrap; fi
mkdir -p "$BUILD_DIR"
if [ ! -f "$BUILD_DIR/Makefile" ]; then (cd "$BUILD_DIR" && "$top/configure" ${CONFIGURE_FLAGS:-}); fi
make -C "$BUILD_DIR" -j"$JOBS" >/dev/null

summary() { # one plain "N passed, N failed" line from automake's test-suite.log
    log="$BUILD_DIR/test-suite.log"
    [ -f "$log" ] || { echo "0 passed, 1 failed"; return; }
    p=$(sed -n 's/^# PASS: *//p' "$log"); f=$(sed -n 's/^# FAIL: *//p' "$log")
    e=$(sed -n 's/^# ERROR: *//p' "$log"); s=$(sed -n 's/^# SKIP: *//p' "$log")
    x=$(sed -n 's/^# XPASS: *//p' "$log")
    echo "${p:-0} passed, $(( ${f:-0} + ${e:-0} + ${x:-0} )) failed, ${s:-0} skipped"
}

case "$mode" in
test)
    rc=0
    make -C "$BUILD_DIR" -j"$JOBS" check || rc=$?
    [ $rc -eq 0 ] || cat "$BUILD_DIR/test-suite.log" 2>/dev/null | tail -n 80
    summary
    exit $rc
    ;;
bench)
    make -C "$BUILD_DIR" bench
    ;;
run)
    # The main job: a small layer-level search on ResNet-8 (problems/resnet8-cifar10/demo.yaml), its
    # report and plots, and the knee of its front exported and checked by eval.
    if [ ! -r data/models/resnet8_mlperf_float.onnx ] && [ -z "${APPROXMAP_DATA:-}" ]; then
        echo "quickstart: the main job needs the model and CIFAR-10 (see above)" >&2
        exit 1
    fi
    B=$BUILD_DIR/approxmap
    $B search problems/resnet8-cifar10/demo.yaml -o runs/demo --force
    $B report runs/demo
    $B export runs/demo --knee -o runs/demo/knee.yaml
    $B eval --model models/resnet8_mlperf_float.onnx --calib cifar10/cifar-10-batches-bin/data_batch_1.bin:0:500 \
        --data cifar10/cifar-10-batches-bin/test_batch.bin --first 2000 --count 2000 --map runs/demo/knee.yaml
    echo "quickstart: run directory runs/demo (report.md, plots, front.csv); the knee map is runs/demo/knee.yaml"
    ;;
*)
    echo "usage: ./quickstart.sh [test|bench]" >&2
    exit 2
    ;;
esac
