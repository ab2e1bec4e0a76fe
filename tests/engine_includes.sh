#!/bin/sh
# The include graph of src/engine: prints every "file -> header" edge between the engine's own files,
# then fails when the graph has a cycle or when a kernel file (the convolution contract, the
# requantizer, the multiplier hook, the kernels) includes the quantizer, the ONNX importer or the
# float model. Usage: engine_includes.sh [SRCDIR]   (default: the source tree of this script)
dir=${1:-${srcdir:-$(dirname "$0")/..}}/src/engine
[ -d "$dir" ] || { echo "engine_includes.sh: $dir: no such directory" >&2; exit 1; }
edges=$(for f in "$dir"/*.c "$dir"/*.h; do
    b=$(basename "$f")
    sed -n 's/^#include "\([^"]*\)".*/\1/p' "$f" | while read -r h; do
        [ -f "$dir/$h" ] && [ "$h" != "$b" ] && echo "$b $h"
    done
done | sort -u)
echo "$edges" | sed 's/ / -> /'
status=0
# kernels stay below the quantizer, the importer and the float model
for k in qnn_conv.h qnn_conv_ref.c qnn_requant.h qnn_mul.h qnn_kern.h qnn_kern_impl.h qnn_kern.c qnn_kern_avx2.c; do
    for bad in qnn_quant.h onnx_import.h qnn_model.h qnn_int8.h; do
        if echo "$edges" | grep -qx "$k $bad"; then
            echo "FAIL: kernel file $k includes $bad" >&2
            status=1
        fi
    done
done
# tsort reports a cycle on stderr
if ! cyc=$(echo "$edges" | tsort 2>&1 >/dev/null) || [ -n "$cyc" ]; then
    echo "FAIL: include cycle among src/engine: $cyc" >&2
    status=1
fi
[ $status -eq 0 ] && echo "PASS: no include cycle; kernels include no quantizer, importer, model or executor header"
exit $status
