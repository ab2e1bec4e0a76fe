#!/bin/sh
# Which folder may include which (docs/architecture.md, "Which folder may include which"): reads every
# `#include "..."` line of the library and CLI folders, maps the header to the folder that holds it,
# and fails on an include the table below does not allow; then checks that the modules of src/engine
# (a .c with its .h and its private _impl.h) form no include cycle. Also checks itself on a small tree with one forbidden
# include and one engine cycle, which it must reject. One "PASS/FAIL: what" line per check.
#   usage: check_layers.sh [--graph] [--root DIR]
#     --graph     print the engine's module include graph ("a -> b") and the folder graph
#     --root DIR  check DIR instead of the source tree (no self-check)
set -u
root=${TOP_SRCDIR:-.}
graph=0
self=1
while [ $# -gt 0 ]; do
    case $1 in
    --graph) graph=1 ;;
    --root) root=$2; self=0; shift ;;
    *) echo "usage: check_layers.sh [--graph] [--root DIR]" >&2; exit 2 ;;
    esac
    shift
done

folders="src/core src/engine search src/approx src/gate problems src/cli"
allowed() { # allowed FOLDER: the folders FOLDER may include (besides itself)
    case $1 in
    src/core) echo "" ;;
    src/engine) echo "src/core" ;;
    search) echo "src/core" ;;
    src/approx) echo "src/core src/engine" ;;
    src/gate) echo "src/core src/engine search src/approx" ;;
    problems) echo "src/core src/engine src/approx search" ;;
    src/cli) echo "src/core src/engine search src/approx src/gate problems" ;;
    esac
}

# check ROOT: prints one line per violation ("file:line: FOLDER may not include X (FOLDER2)") and per
# engine cycle ("engine include cycle: a b ..."); returns 1 if any.
check() {
    r=$1
    tmp=$(mktemp -d /tmp/approxmap-layers.XXXXXX)
    for f in $folders; do
        [ -d "$r/$f" ] || continue
        for h in "$r/$f"/*.h; do [ -f "$h" ] && echo "$(basename "$h") $f"; done
    done > "$tmp/owner"
    for f in $folders; do
        [ -d "$r/$f" ] || continue
        for src in "$r/$f"/*.c "$r/$f"/*.h; do
            [ -f "$src" ] || continue
            grep -n '^[[:space:]]*#[[:space:]]*include[[:space:]]*"' "$src" |
                sed 's/^\([0-9]*\):[^"]*"\([^"]*\)".*/\1 \2/' |
                while read -r line hdr; do echo "$f ${src#"$r"/} $line $hdr"; done
        done
    done > "$tmp/incs"
    # folder edges: FOLDER FILE LINE HEADER OWNER (headers of no folder, e.g. generated ones, skipped)
    awk 'NR == FNR { owner[$1] = $2; next } ($4 in owner) { print $0, owner[$4] }' "$tmp/owner" "$tmp/incs" > "$tmp/edges"
    bad=0
    while read -r f file line hdr g; do
        [ "$f" = "$g" ] && continue
        ok=0
        for a in $(allowed "$f"); do [ "$a" = "$g" ] && ok=1; done
        if [ $ok -eq 0 ]; then echo "$file:$line: $f may not include $hdr ($g)"; bad=1; fi
    done < "$tmp/edges"
    # engine modules: a.c, a.h and a_impl.h (a private header of a's files) are module a
    awk '$1 == "src/engine" && $5 == "src/engine" {
        n = split($2, p, "/"); m = p[n]; sub(/\.[ch]$/, "", m); sub(/_impl$/, "", m)
        h = $4; sub(/\.h$/, "", h); sub(/_impl$/, "", h)
        if (m != h) print m, h }' "$tmp/edges" | sort -u > "$tmp/engine"
    if [ -s "$tmp/engine" ] && ! tsort "$tmp/engine" > /dev/null 2> "$tmp/tsort"; then
        echo "engine include cycle:" $(sed -n 's/^tsort: \([^:]*\)$/\1/p' "$tmp/tsort" | grep -v ' ')
        bad=1
    fi
    if [ $graph -eq 1 ]; then
        echo "# src/engine modules (a -> b: a.c or a.h includes b.h)" >&2
        sed 's/ / -> /' "$tmp/engine" >&2
        echo "# folders (a -> b: a file of a includes a header of b)" >&2
        awk '$1 != $5 { print $1 " -> " $5 }' "$tmp/edges" | sort -u >&2
    fi
    rm -rf "$tmp"
    return $bad
}

fail=0
if [ $self -eq 1 ]; then
    t=$(mktemp -d /tmp/approxmap-layers-self.XXXXXX)
    mkdir -p "$t/src/core" "$t/src/engine" "$t/search"
    printf '#include "msg.h"\n' > "$t/src/core/msg.h"
    printf '#include "b.h"\n' > "$t/src/engine/a.h"
    printf '#include "msg.h"\n#include "a.h"\n' > "$t/src/engine/b.c"
    : > "$t/src/engine/b.h"
    printf '#include "msg.h"\n#include <stdio.h>\n  #  include "a.h"\n' > "$t/search/s.c"
    out=$(graph=0 check "$t")
    case $out in
    *"search/s.c:3: search may not include a.h (src/engine)"*"engine include cycle: "*) echo "PASS: the checker rejects a forbidden include and an engine cycle" ;;
    *) echo "FAIL: the checker missed a planted violation:"; echo "$out" | sed 's/^/    /'; fail=1 ;;
    esac
    rm -rf "$t"
fi
[ -d "$root/src/engine" ] || { echo "FAIL: no src/engine under '$root'"; exit 1; }
if out=$(check "$root"); then
    echo "PASS: every #include follows the layer table, no include cycle among src/engine modules"
else
    echo "FAIL: layer violations:"; echo "$out" | sed 's/^/    /'; fail=1
fi
exit $fail
