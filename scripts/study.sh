#!/bin/bash
# The granularity study of issue 11 in one command (results/study/README.md is its output):
#
#   scripts/study.sh [-r RUNS] [-o OUT] [-p PROBLEMS] [-b APPROXMAP] [-j THREADS] [-g GENERATIONS] [-s STEP]
#                    [-v VALIDATION] [-S SEEDS] [-T STATE] [-n]
#
# runs, each into RUNS/NAME (a run that is already finished is skipped, a run that was stopped or killed is
# resumed from its checkpoint, so a half-done study continues exactly); the first GA seed's runs first
# (layer-s1, the greedy runs, filter-s1, kernel-s1, [filter2x-s1,] layer2x-s1), then the next seed's (default
# seeds 1, 2):
#   layer-sS                  approxmap search PROBLEMS/layer.yaml --seed S
#   greedy-filter, -kernel    approxmap greedy PROBLEMS/greedy-filter.yaml / greedy-kernel.yaml
#                             (skipped, and said so in the README, when the binary has no `greedy`)
#   filter-sS, kernel-sS      approxmap search PROBLEMS/filter.yaml / kernel.yaml --seed S, seed_from
#                             layer-sS (a seed_from list may also name greedy-filter / greedy-kernel, and
#                             kernel.yaml may name filter-sS instead of layer-sS: a hierarchical study)
#   filter2x-sS               in a hierarchical study only (kernel.yaml's seed_from names a filter-s run):
#                             a copy of finished filter-sS resumed to twice its generations, the filter
#                             search given the budget kernel-sS spent (layer-sS's, filter-sS's and its own
#                             evaluations), to which the README then compares kernel-sS
#   layer2x-sS                a copy of finished layer-sS resumed to twice its generations: the layer
#                             search given the budget that filter-sS and kernel-sS spent (layer-sS's
#                             evaluations, which seeded them, plus their own), so that granularities are
#                             compared at the same evaluation budget
# then `approxmap report` on every run (holdout figures of every front map with the exact 95 % interval
# and McNemar p, cached in RUN/holdout.csv; front and knee plots), and scripts/study_readme.py: the
# selection on the search subset, `approxmap export` of the chosen maps to OUT/GRANULARITY/lossB.yaml,
# the plots and OUT/README.md (before it, scripts/study_outcomes.py records the per-image holdout outcomes of
# the front maps of the runs the README's paired bootstrap compares, in RUN/holdout-outcomes.csv). Running
# it again on finished runs rewrites nothing (README byte-identical).
# With -v, every front map is also measured on a validation subset (RUNS/NAME.val: a copy of the run
# whose problem names that subset as its holdout, reported the same way), and the README gets a second
# selection, on the validation loss, with its maps in OUT/GRANULARITY/val-lossB.yaml.
#
#   -r RUNS        run directories (default runs/study; keep them outside results/)
#   -o OUT         the study's results (default results/study)
#   -p PROBLEMS    the problem files (default problems/study beside this script; problems/study-t5k is the
#                  same study scored on 5,000 training images instead of 2,000 test images)
#   -b APPROXMAP   the binary (default $APPROXMAP, else build/approxmap, else approxmap in PATH)
#   -j THREADS     evaluation threads (default: the problem files', 0 = all cores); never changes results
#   -g N           generations of every GA run instead of the problem files' (smoke tests; a finished run
#                  is extended to N by resume)
#   -s STEP        the greedy's --step (energy drop between evaluated maps; default the greedy's, 0.01)
#   -v VALIDATION  records FILE:FIRST:COUNT (data paths as in the problem files) neither searched on nor in
#                  the holdout, for the second selection (problems/study-t5k used test records 0..1999;
#                  problems/study-v3 uses training records data_batch_4 0..9999, from the search subset's
#                  distribution: on v2's fronts the search loss underestimated their loss on those by
#                  0.6 pp, and their holdout loss was 0.3 pp below it)
#   -S SEEDS       the GA seeds, comma-separated (default 1,2): every seed S adds layer-sS, filter-sS,
#                  kernel-sS and layer2x-sS (and filter2x-sS in a hierarchical study); the README's
#                  selections pool the fronts of all of them, and its per-seed table shows each seed's
#                  holdout envelope and the median over the seeds
#   -T STATE       keep the runs directory in one file as well, so that a study outlives its machine:
#                  STATE (tar.xz of RUNS) is rewritten atomically (temporary file, fsync, rename) after
#                  every run that finishes, when a run is interrupted (Ctrl-C, or SIGINT or SIGTERM to
#                  the process group) and at the end; when RUNS holds
#                  no run yet and STATE exists, RUNS is first unpacked from it. Unpack to the same -r path
#                  (run directories name it, and so do the exported maps). Put STATE inside the source
#                  tree and commit it at every stop: only what is committed outlives the machine (study
#                  v7's STATE lay in the runs' scratch folder and was lost with it)
#   -n             start or resume no run: report the finished ones and write the README from them (the
#                  others are listed as not finished), e.g. for a study that spans several sessions
#
# Runs already made in RUNS/NAME by hand (e.g. `approxmap search PROBLEMS/layer.yaml -o RUNS/layer-s1
# --seed 1` with a frozen binary) are used as they are: a finished one is not touched, an unfinished one
# is resumed with APPROXMAP (which must then accept its checkpoint). Stop the script with Ctrl-C (or
# SIGINT/SIGTERM to its whole process group): the running search saves its state and the next
# invocation continues it.
# Every run's PROBLEMS file is copied to RUNS/NAME.yaml with seed_from pointing into RUNS. Wall and CPU
# time of every invocation go to RUNS/NAME/study-times.txt (a killed invocation records nothing);
# RUNS/NAME/study.done marks a finished run (with its generation count). Exit status: 0 done, 1 failure,
# 2 usage error, 130 interrupted (run the same command again to continue).
set -u
here=$(cd "$(dirname "$0")" && pwd)
top=$(dirname "$here")
RUNS=runs/study OUT=results/study PROBLEMS=$top/problems/study BIN=${APPROXMAP:-} THREADS= GENS= STEP= VALID= NORUN=0 STATE=
SEEDS=1,2
usage() { sed -n '2,/^set -u/p' "$0" | sed -e '/^set -u/d' -e 's/^# \{0,1\}//'; }
while getopts "r:o:p:b:j:g:s:v:S:T:nh" opt; do
    case $opt in
    r) RUNS=$OPTARG ;; o) OUT=$OPTARG ;; p) PROBLEMS=$OPTARG ;; b) BIN=$OPTARG ;;
    j) THREADS=$OPTARG ;; g) GENS=$OPTARG ;; s) STEP=$OPTARG ;; v) VALID=$OPTARG ;; S) SEEDS=$OPTARG ;; T) STATE=$OPTARG ;; n) NORUN=1 ;;
    h) usage; exit 0 ;; *) usage >&2; exit 2 ;;
    esac
done
shift $((OPTIND - 1))
[ $# -eq 0 ] || { echo "study.sh: unexpected argument '$1'" >&2; exit 2; }
if [ -z "$BIN" ]; then
    if [ -x "$top/build/approxmap" ]; then BIN=$top/build/approxmap; else BIN=$(command -v approxmap || true); fi
fi
[ -n "$BIN" ] && [ -x "$BIN" ] || { echo "study.sh: no approxmap binary (give -b or build it)" >&2; exit 1; }
for f in layer filter kernel greedy-filter greedy-kernel; do
    [ -r "$PROBLEMS/$f.yaml" ] || { echo "study.sh: '$PROBLEMS/$f.yaml' is missing" >&2; exit 1; }
done
case $GENS in '' | [1-9] | [1-9][0-9] | [1-9][0-9][0-9]) ;; *) echo "study.sh: -g wants a positive integer" >&2; exit 2 ;; esac
case $VALID in '' | *.bin:[0-9]*:[1-9]*) ;; *) echo "study.sh: -v wants FILE:FIRST:COUNT, not '$VALID'" >&2; exit 2 ;; esac
[[ $SEEDS =~ ^[1-9][0-9]{0,8}(,[1-9][0-9]{0,8})*$ ]] || { echo "study.sh: -S wants seeds like 1,2,3, not '$SEEDS'" >&2; exit 2; }
IFS=, read -r -a seeds <<<"$SEEDS"
[ "$(printf '%s\n' "${seeds[@]}" | sort -u | wc -l)" = ${#seeds[@]} ] || { echo "study.sh: -S names a seed twice ('$SEEDS')" >&2; exit 2; }
# a hierarchical study: the kernel GA is seeded from the filter GA's front (and compared with filter2x)
HIER=0
grep -Eq '^seed_from:.*/filter-s[0-9]+' "$PROBLEMS/kernel.yaml" && HIER=1
# every run, in the order the README's *Runs* table lists them (its tie-break order)
names=()
kinds="layer greedy filter kernel layer2x"
[ $HIER = 1 ] && kinds="layer greedy filter filter2x kernel layer2x"
for k in $kinds; do
    if [ $k = greedy ]; then names+=(greedy-filter greedy-kernel); continue; fi
    for s in "${seeds[@]}"; do names+=("$k-s$s"); done
done
mkdir -p "$RUNS" "$OUT" || exit 1
RUNS_ABS=$(cd "$RUNS" && pwd)
if [ -n "$STATE" ] && [ -f "$STATE" ] && ! compgen -G "$RUNS/*/checkpoint" >/dev/null &&
    ! compgen -G "$RUNS/*/study.done" >/dev/null; then
    echo "study: unpacking $STATE into $RUNS" >&2
    tar -xJf "$STATE" -C "$RUNS" || { echo "study.sh: cannot unpack '$STATE'" >&2; exit 1; }
fi
has_greedy=0
"$BIN" greedy --help >/dev/null 2>&1 && has_greedy=1

say() { echo "study: $*" >&2; }

# Ctrl-C, or SIGINT / SIGTERM to the process group: the signal also reaches the running approxmap, which
# saves its state and exits with 130; the script notes it here (it would otherwise die of SIGTERM at once,
# before packing), and stops at the next step with `interrupted`
stop=0
trap 'stop=1' INT TERM
interrupted() { say "$1: interrupted; run the same command again to continue"; pack; exit 130; }

# timed NAME CMD...: run CMD, append "wall user sys status subcommand" (seconds) to
# RUNS/NAME/study-times.txt. CMD is a direct child of this shell (no pipeline, no command substitution):
# on SIGINT to the process group, approxmap saves its checkpoint and exits with 130, and bash, whose child
# exited rather than died of the signal, carries on to finish (which packs) instead of dying with a subshell
timed() {
    local name=$1 tf=$RUNS/$1.time.tmp rc
    shift
    mkdir -p "$RUNS/$name"
    { TIMEFORMAT='%R %U %S'; time "$@" 2>>"$RUNS/$name.log" 1>&2; } 2>"$tf"
    rc=$?
    # `time` reports after the command, also when it failed or was interrupted; a killed script records nothing
    [ -s "$tf" ] && echo "$(tail -n 1 "$tf") $rc $2" >>"$RUNS/$name/study-times.txt"
    rm -f "$tf"
    return $rc
}

# pack: with -T, RUNS into STATE (a temporary file beside it, flushed, then renamed over it). Left out, as
# `approxmap report` and the validation step re-create them: the plots, and the validation copies' archive
# and checkpoint. The members are the study's own entries of RUNS (runs, their .val copies, .yaml and
# .log; not "." itself, whose time changes on every invocation, nor anything else a user keeps there, such
# as an analysis copy of a run), in name order, so STATE is left untouched when nothing in it would change.
pack() {
    [ -n "$STATE" ] || return 0
    local -a members
    mapfile -t members < <(cd "$RUNS" && shopt -s nullglob && for f in *; do
        [[ $f =~ ^((layer|layer2x|filter|filter2x|kernel)-s[0-9]+|greedy-(filter|kernel))(\.val|\.yaml|\.log)?$ ]] &&
            printf './%s\n' "$f"; done)
    [ ${#members[@]} -gt 0 ] || return 0
    tar -cJf "$STATE.tmp" -C "$RUNS" --sort=name --exclude='*.png' --exclude='*.svg' \
        --exclude='./*.val/archive' --exclude='./*.val/checkpoint' -- "${members[@]}" ||
        { say "cannot write $STATE"; rm -f "$STATE.tmp"; exit 1; }
    if [ -f "$STATE" ] && cmp -s <(xz -dc "$STATE.tmp") <(xz -dc "$STATE"); then
        rm -f "$STATE.tmp"
        return 0
    fi
    sync "$STATE.tmp" && mv "$STATE.tmp" "$STATE" || { say "cannot write $STATE"; rm -f "$STATE.tmp"; exit 1; }
}

# finish NAME STATUS DONE: after a run's invocation, mark it finished (RUNS/NAME/study.done holds DONE),
# or stop the script: 130 when it was interrupted, 1 when it failed
finish() {
    case $2 in
    0) echo "$3" >"$RUNS/$1/study.done"; pack; [ $stop = 0 ] || interrupted "$1" ;;
    130) interrupted "$1" ;;
    *) [ $stop = 0 ] || interrupted "$1"; say "$1: failed (exit $2; see $RUNS/$1.log)"; exit 1 ;;
    esac
}

# norun NAME: with -n, say NAME is not finished and succeed (the caller then returns without running it)
norun() { [ $NORUN = 1 ] && say "$1: not finished (-n: not run)"; }

# ga NAME PROBLEM SEED [SEEDED]: a GA run, started, resumed or skipped; SEEDED (any word): PROBLEM's
# seed_from names runs of the study
ga() {
    local name=$1 prob=$2 seed=$3 seeded=${4:-} want
    local dir=$RUNS/$name
    want=${GENS:-$(sed -n 's/^ *generations: *\([0-9]*\).*/\1/p' "$prob" | head -n 1)}
    if [ -f "$dir/study.done" ] && [ "$(cat "$dir/study.done")" = "generations $want" ]; then
        say "$name: finished ($want generations)"
        return 0
    fi
    # a run made outside the script (e.g. with another binary) that has finished: its checkpoint, written
    # after the last generations.csv line, holds generation $want; nothing to run (its times are unknown)
    if [ ! -f "$dir/study.done" ] && [ -f "$dir/checkpoint" ] && [ ! "$dir/generations.csv" -nt "$dir/checkpoint" ] &&
        [ "$(tail -n 1 "$dir/generations.csv" | cut -d, -f1)" = "$want" ]; then
        say "$name: finished outside the script ($want generations)"
        echo "generations $want" >"$dir/study.done"
        return 0
    fi
    norun "$name" && return 0
    local opts=(--quiet)
    [ -n "$THREADS" ] && opts+=(--threads "$THREADS")
    [ -n "$GENS" ] && opts+=(--generations "$GENS")
    if [ -f "$dir/checkpoint" ]; then
        say "$name: resuming"
        timed "$name" "$BIN" resume "$dir" "${opts[@]}"
    else
        if [ -n "$seeded" ]; then
            # seed_from: a path or a list (of paths or {run: PATH, maps: K} items); the layer and filter
            # runs in it become those of this GA seed, and every path (layer-sS, filter-sS, greedy-filter,
            # greedy-kernel) points into RUNS
            sed -E "/^seed_from:/{s#[^][ ,]*/(layer|filter)-s[0-9]+#$RUNS_ABS/\1-s$seed#g; s#[^][ ,]*/(greedy-[a-z]+)#$RUNS_ABS/\1#g}" \
                "$prob" >"$RUNS/$name.yaml"
        else
            cp "$prob" "$RUNS/$name.yaml"
        fi
        say "$name: searching"
        # --force: a directory without a checkpoint holds nothing to resume (killed before generation 1)
        timed "$name" "$BIN" search "$RUNS/$name.yaml" -o "$dir" --seed "$seed" --force "${opts[@]}"
    fi
    finish "$name" $? "generations $want"
}

# twice NAME FROM: RUNS/FROM (a finished GA run) copied to RUNS/NAME and resumed to twice FROM's
# generations; started, resumed or skipped like ga
twice() {
    local name=$1 from=$2 gens
    local dir=$RUNS/$name src=$RUNS/$from
    # FROM unfinished: only with -n (without it FROM has just run, or the script has stopped)
    if [ ! -f "$src/study.done" ]; then
        if [ -f "$dir/study.done" ]; then say "$name: finished ($(cat "$dir/study.done"); $from is not)"
        else say "$name: not finished ($from is not)"; fi
        return 0
    fi
    gens=$(($(sed 's/^generations //' "$src/study.done") * 2))
    if [ -f "$dir/study.done" ] && [ "$(cat "$dir/study.done")" = "generations $gens" ]; then
        say "$name: finished ($gens generations)"
        return 0
    fi
    norun "$name" && return 0
    if [ ! -f "$dir/checkpoint" ]; then
        # the run state resume reads (checkpoint, archive, problem copy) and its outputs so far; the
        # copy goes to a temporary directory first, so a killed copy leaves no half run behind
        rm -rf "$dir.tmp" && mkdir -p "$dir.tmp" &&
            cp -p "$src/archive" "$src/checkpoint" "$src/front.csv" "$src/generations.csv" "$src/problem.yaml" "$dir.tmp/" &&
            rm -rf "$dir" && mv "$dir.tmp" "$dir" || { say "$name: cannot copy $src"; exit 1; }
    fi
    local opts=(--quiet --generations "$gens")
    [ -n "$THREADS" ] && opts+=(--threads "$THREADS")
    say "$name: resuming a copy of $from to $gens generations"
    timed "$name" "$BIN" resume "$dir" "${opts[@]}"
    finish "$name" $? "generations $gens"
}

# greedy NAME PROBLEM: the greedy baseline (running it again continues it)
greedy() {
    local name=$1 prob=$2
    local dir=$RUNS/$name
    if [ $has_greedy = 0 ]; then
        say "$name: skipped ('$BIN' has no greedy command)"
        return 0
    fi
    if [ -f "$dir/study.done" ]; then
        say "$name: finished"
        return 0
    fi
    norun "$name" && return 0
    cp "$prob" "$RUNS/$name.yaml"
    local opts=(--quiet)
    [ -n "$THREADS" ] && opts+=(--threads "$THREADS")
    [ -n "$STEP" ] && opts+=(--step "$STEP")
    say "$name: greedy"
    timed "$name" "$BIN" greedy "$RUNS/$name.yaml" -o "$dir" "${opts[@]}"
    finish "$name" $? "greedy step ${STEP:-0.01}"
}

# one seed's runs after the other: a study stopped halfway already compares every granularity on the first
# seed (the greedy runs come before the GA runs that may seed from them)
for s in "${seeds[@]}"; do
    ga "layer-s$s" "$PROBLEMS/layer.yaml" "$s"
    if [ "$s" = "${seeds[0]}" ]; then
        greedy greedy-filter "$PROBLEMS/greedy-filter.yaml"
        greedy greedy-kernel "$PROBLEMS/greedy-kernel.yaml"
    fi
    ga "filter-s$s" "$PROBLEMS/filter.yaml" "$s" seeded
    ga "kernel-s$s" "$PROBLEMS/kernel.yaml" "$s" seeded
    [ $HIER = 1 ] && twice "filter2x-s$s" "filter-s$s"
    twice "layer2x-s$s" "layer-s$s"
done
[ $stop = 0 ] || interrupted study

# holdout figures and plots of every finished run (again only when its front changed)
for name in "${names[@]}"; do
    dir=$RUNS/$name
    [ -f "$dir/study.done" ] || continue
    if [ -f "$dir/report.md" ] && [ "$dir/report.md" -nt "$dir/front.csv" ]; then continue; fi
    say "$name: report (holdout of every front map)"
    ropts=(--quiet)
    [ -n "$THREADS" ] && ropts+=(--threads "$THREADS")
    "$BIN" report "$dir" "${ropts[@]}" 2>>"$RUNS/$name.log" ||
        { [ $stop = 0 ] || interrupted "$name"; say "$name: report failed (see $RUNS/$name.log)"; exit 1; }
done

# validation figures (-v): the same report on RUNS/NAME.val, a copy of the finished run whose problem names
# the validation records as its holdout (redone only when the front or the records changed)
if [ -n "$VALID" ]; then
    for name in "${names[@]}"; do
        dir=$RUNS/$name val=$RUNS/$name.val
        [ -f "$dir/study.done" ] || continue
        sed "s|^  holdout: .*|  holdout: $VALID|" "$dir/problem.yaml" >"$RUNS/$name.val.yaml" || exit 1
        grep -q "^  holdout: $VALID\$" "$RUNS/$name.val.yaml" || { say "$name: its problem has no holdout line"; exit 1; }
        if [ -f "$val/report.md" ] && cmp -s "$dir/front.csv" "$val/front.csv" && cmp -s "$RUNS/$name.val.yaml" "$val/problem.yaml"; then
            rm -f "$RUNS/$name.val.yaml"
            continue
        fi
        mkdir -p "$val" || exit 1
        rm -f "$val/report.md"
        for f in front.csv generations.csv greedy.csv checkpoint archive; do
            if [ -f "$dir/$f" ]; then cp -p "$dir/$f" "$val/" || exit 1; fi
        done
        mv "$RUNS/$name.val.yaml" "$val/problem.yaml" || exit 1
        say "$name: validation (every front map on $VALID)"
        ropts=(--quiet)
        [ -n "$THREADS" ] && ropts+=(--threads "$THREADS")
        "$BIN" report "$val" "${ropts[@]}" 2>>"$RUNS/$name.log" ||
            { [ $stop = 0 ] || interrupted "$name"; say "$name: validation report failed (see $RUNS/$name.log)"; exit 1; }
    done
fi

# per-image holdout outcomes of the front maps of every run that issue 11's criterion compares (the README's
# paired bootstrap): RUN/holdout-outcomes.csv, checked against RUN/holdout.csv and kept while the front stays
outs=()
for name in "${names[@]}"; do
    [[ $name =~ ^(layer2x|filter|filter2x|kernel)-s[0-9]+$ ]] && [ -f "$RUNS/$name/study.done" ] && outs+=("$RUNS/$name")
done
if [ ${#outs[@]} -gt 0 ]; then
    python3 "$here/study_outcomes.py" --bin "$BIN" ${THREADS:+--jobs "$THREADS"} "${outs[@]}" 2>>"$RUNS/outcomes.log" ||
        { [ $stop = 0 ] || interrupted study; say "per-image holdout outcomes failed (see $RUNS/outcomes.log)"; exit 1; }
fi

[ $stop = 0 ] || interrupted study
python3 "$here/study_readme.py" --runs "$RUNS" --out "$OUT" --bin "$BIN" ${THREADS:+--threads "$THREADS"} \
    --problems "$PROBLEMS" --greedy "$has_greedy" --hier "$HIER" ${VALID:+--validation "$VALID"} --seeds "$SEEDS" || exit 1
pack
say "wrote $OUT/README.md"
