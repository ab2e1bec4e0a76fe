#!/bin/sh
# Synthesize a combinational Verilog module onto a standard-cell Liberty library with yosys + ABC
# and write BLIF (cells as .subckt) for approxmap's gate-level energy estimator.
#
#   scripts/synth.sh [-d DONT_USE_REGEX] LIBERTY IN.v TOP OUT.blif
#
# LIBERTY may be gzipped (.gz). Cells whose name matches DONT_USE_REGEX (awk ERE; default
# 'lpflow_' : sky130's power-gating / isolation cells, which ABC otherwise picks as plain AND/OR
# gates) are marked dont_use in a temporary copy of the library, which ABC honours. No flip-flop
# mapping: the designs are combinational. Prints yosys' version on stdout; exit status 0 on success.
set -eu
dont_use='lpflow_'
if [ "${1:-}" = "-d" ]; then dont_use=$2; shift 2; fi
if [ $# -ne 4 ]; then
    echo "usage: synth.sh [-d DONT_USE_REGEX] LIBERTY IN.v TOP OUT.blif" >&2
    exit 2
fi
lib=$1; src=$2; top=$3; out=$4
command -v yosys >/dev/null 2>&1 || { echo "synth.sh: yosys not found" >&2; exit 1; }
tmp=$(mktemp -d "${TMPDIR:-/tmp}/approxmap-synth.XXXXXX")
trap 'rm -rf "$tmp"' EXIT INT TERM
case $lib in
    *.gz) gzip -dc "$lib" ;;
    *) cat "$lib" ;;
esac | awk -v pat="$dont_use" '
    { print }
    pat != "" && $0 ~ /^[ \t]*cell[ \t]*\(/ && $0 ~ pat { print "        dont_use : true;" }' > "$tmp/lib.lib"
yosys -q -l "$tmp/yosys.log" -p "read_verilog $src; synth -flatten -top $top; abc -liberty $tmp/lib.lib; \
opt_clean -purge; write_blif $out" >/dev/null || { cat "$tmp/yosys.log" >&2; exit 1; }
yosys -V
