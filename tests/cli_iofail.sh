#!/bin/sh
# Failures at every file-system call of a small search, through the LD_PRELOAD shim tests/iofail.so
# (it counts write, pwrite, fflush/fclose of files open for writing, fsync, fdatasync and rename):
#   fail  the k-th call fails (ENOSPC for odd k, EIO for even k): one message naming the file and the
#         cause (one error line), exit 1, no '*.tmp.*' left; resume (or search --force when no checkpoint was written
#         yet) then ends identical to an uninterrupted run;
#   kill  SIGKILL at the k-th call: the recovery ends identical, and the finished run directory holds no
#         '*.tmp.*' file (resume and search --force remove the stale ones);
#   term  SIGTERM at the k-th call (SIGINT at some): exit 130 with a message, during set-up too;
#         recovery identical.
# Identical: front.csv and archive byte for byte, generations.csv but its time column, checkpoint but
# the fields that record the session (seconds spent, generations.csv's length, whose time column
# varies in width, evaluation threads) and the CRC over them (ckpt_same in tests/cli_lib.sh).
# k runs from 1 until the run no longer reaches k, for `search` and for
# `resume` from generation 2. With data/ present, tests/data/cnn_tiny.yaml over 2 generations too:
# fail and kill at five chosen calls of search; with IOFAIL_CNN=1 at every call, search and resume,
# fail, kill and term (minutes; IOFAIL_CNN_ACTIONS and IOFAIL_CNN_MODES narrow it, e.g. "fail" and
# "search"). Summary lines "iofail: ...".
set -u
: "${BIN:?BIN must point at the approxmap binary}"
: "${TOP_SRCDIR:?}" "${TOP_BUILDDIR:?}"
SHIM=$TOP_BUILDDIR/tests/iofail.so
[ -f "$SHIM" ] || { echo "SKIP: $SHIM not built"; exit 77; }
. "$TOP_SRCDIR/tests/cli_lib.sh" # T, fail, pass, bad, ckpt_same
cli_init cli-iofail
# a sanitizer build wants its runtime first among the loaded libraries; the shim only wraps libc calls
ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0"; export ASAN_OPTIONS
quiet=--quiet

no_tmp() { # no_tmp DIR: no afile temporary left
    left=$(ls -A "$1" 2>/dev/null | grep '\.tmp\.' || true)
    [ -z "$left" ]
}
same_run() { # same_run A B
    cmp -s "$1/front.csv" "$2/front.csv" && cmp -s "$1/archive" "$2/archive" && ckpt_same "$1" "$2" &&
        [ "$(cut -d, -f1-5 "$1/generations.csv")" = "$(cut -d, -f1-5 "$2/generations.csv")" ]
}
shim() { # shim K ACTION ERRNO COMMAND...: run under the shim, output in $W/out, hits in $W/log
    rm -f "$W/log"
    s_k=$1 s_a=$2 s_e=$3; shift 3
    IOFAIL_AT=$s_k IOFAIL_ACTION=$s_a IOFAIL_ERRNO=$s_e IOFAIL_LOG="$W/log" LD_PRELOAD="$SHIM" "$@" $quiet >"$W/out" 2>&1
}
recover() { # recover DIR PROBLEM GENS: resume when a checkpoint exists, else start again
    if [ -f "$1/checkpoint" ]; then "$BIN" resume "$1" -g "$3" --quiet >"$W/rout" 2>&1
    else "$BIN" search "$2" -o "$1" -g "$3" --force --quiet >"$W/rout" 2>&1; fi
}

# sweep NAME PROBLEM GENS REF ACTION MODE [KS]: for k = 1, 2, ... until the run no longer reaches k;
# with KS, for each k of that list and then a k past the end (the run must finish untouched).
# MODE search: `search PROBLEM -g GENS`; MODE resume: `resume` of a copy of $T/half (GENS/2 done).
# Runs in its own directory $W; prints its PASS/FAIL line.
sweep() {
    name=$1 prob=$2 gens=$3 ref=$4 act=$5 mode=$6 kl=${7:-} every=1
    [ -n "$kl" ] && every=0
    W=$T/$act-$mode; mkdir -p "$W"
    quiet=--quiet; [ $act = term ] && quiet= # the interruption message is checked (--quiet drops it)
    k=0 n=0 ok=0 errs="" tmps=0
    while :; do
        if [ $every = 1 ]; then k=$((k + 1))
        elif [ -n "$kl" ]; then k=${kl%% *}; case $kl in *' '*) kl=${kl#* } ;; *) kl="" ;; esac
        else k=1000000; fi
        en=ENOSPC; [ $((k % 2)) -eq 0 ] && en=EIO
        a=$act; [ "$act" = term ] && [ $((k % 5)) -eq 0 ] && a=int
        R=$W/run; rm -rf "$R"
        if [ "$mode" = resume ]; then
            cp -r "$T/half" "$R"
            shim $k $a $en "$BIN" resume "$R" -g "$gens"; got=$?
        else
            shim $k $a $en "$BIN" search "$prob" -o "$R" -g "$gens"; got=$?
        fi
        if ! grep -q '^hit ' "$W/log" 2>/dev/null; then
            # past the last call: the run finished untouched
            if [ $got -eq 0 ] && same_run "$ref" "$R"; then :; else errs="$errs k=$k:unhit-exit-$got"; fi
            break
        fi
        n=$((n + 1))
        e=""
        case $act in
        fail)
            msg="No space left on device"; [ $en = EIO ] && msg="Input/output error"
            [ $got -eq 1 ] || e="$e exit-$got"
            grep -q "^approxmap: error: cannot write '.*': $msg" "$W/out" || e="$e no-message"
            nerr=$(grep -c "^approxmap: error" "$W/out")
            [ "$nerr" -eq 1 ] || e="$e $nerr-errors"
            no_tmp "$R" || e="$e tmp-left"
            ;;
        kill)
            [ $got -eq 137 ] || e="$e exit-$got"
            no_tmp "$R" || tmps=$((tmps + 1))
            ;;
        term)
            # SIGTERM/SIGINT during set-up (before the first checkpoint) or between generations: 130 and a
            # message; in the last generation the run completes (0) and says so
            if [ $got -eq 130 ]; then
                grep -q "^approxmap: interrupted" "$W/out" || e="$e no-message"
            elif [ $got -ne 0 ] || ! same_run "$ref" "$R"; then e="$e exit-$got"; fi
            ;;
        esac
        if ! recover "$R" "$prob" "$gens"; then e="$e recover-failed"; sed 's/^/    /' "$W/rout"; fi
        same_run "$ref" "$R" || e="$e differs"
        no_tmp "$R" || e="$e tmp-after-recovery"
        if [ -n "$e" ]; then errs="$errs k=$k($(sed -n 's/^hit [0-9]* //p' "$W/log")):$e"; sed 's/^/    /' "$W/out"; else ok=$((ok + 1)); fi
    done
    which="every call"; [ $every = 0 ] && which="calls ${7:-}"
    echo "iofail: $name $act at $which of $mode: $n calls hit, $ok recovered identically" \
        "$([ $act = kill ] && echo "($tmps kills left a temporary file, removed by the recovery)")"
    if [ -z "$errs" ] && [ $n -ge 5 ]; then pass "$name: $act at each of the $n calls of $mode"; else
        bad "$name: $act at each call of $mode:${errs:- only $n calls}"; fi
}

run_problem() { # run_problem NAME PROBLEM GENS [ACTIONS [MODES [KS]]]
    name=$1 prob=$2 gens=$3 acts=${4:-fail kill term} modes=${5:-search resume} ks=${6:-}
    "$BIN" search "$prob" -o "$T/ref" -g "$gens" --quiet || { bad "$name: reference search"; return; }
    case " $modes " in *" resume "*)
        "$BIN" search "$prob" -o "$T/half" -g $((gens / 2)) --quiet || { bad "$name: half search"; return; } ;;
    esac
    # the sweeps wait mostly on fsync: three at a time, each in its own directory, reported in order
    for mode in $modes; do
        for act in $acts; do
            sweep "$name" "$prob" "$gens" "$T/ref" $act $mode "$ks" >"$T/sweep-$act-$mode.txt" 2>&1 &
        done
        wait
        for act in $acts; do cat "$T/sweep-$act-$mode.txt"; done
    done
    rm -rf "$T/ref" "$T/half" "$T"/fail-* "$T"/kill-* "$T"/term-*
}

# set-up signals and stale temporary files, shown once plainly
W=$T/setup; mkdir -p "$W"
shim 1 term ENOSPC "$BIN" search "$TOP_SRCDIR/problems/zdt/zdt1.yaml" -o "$W/run" -g 4; got=$?
[ $got -eq 130 ] && pass "SIGTERM during set-up exits 130" || bad "SIGTERM during set-up: exit $got"
want="approxmap: interrupted by SIGTERM during set-up, before the first checkpoint: nothing to resume; start the search again (with --force if '$W/run' already holds files)"
grep -qxF "$want" "$W/out" && pass "and says so" || { bad "no '$want' in:"; sed 's/^/    /' "$W/out"; }
ls "$W/run" | grep -q '^problem\.yaml\.tmp\.[0-9]*$' && pass "the interrupted write left its temporary file" ||
    bad "no problem.yaml.tmp.PID: $(ls "$W/run")"
"$BIN" search "$TOP_SRCDIR/problems/zdt/zdt1.yaml" -o "$W/run" -g 4 >"$W/out" 2>&1; got=$?
[ $got -eq 0 ] && grep -q "^approxmap: removed 1 stale temporary file of an interrupted write ('$W/run/problem.yaml.tmp." "$W/out" &&
    no_tmp "$W/run" && pass "search again in that directory removes the stale temporary file and says so" ||
    { bad "search again: exit $got, $(ls "$W/run")"; sed 's/^/    /' "$W/out"; }
: >"$W/run/archive.tmp.4194304"
"$BIN" search "$TOP_SRCDIR/problems/zdt/zdt1.yaml" -o "$W/run" -g 4 --force --quiet >"$W/out" 2>&1; got=$?
[ $got -eq 0 ] && no_tmp "$W/run" && pass "search --force removes stale temporary files" ||
    { bad "search --force: exit $got, $(ls "$W/run")"; sed 's/^/    /' "$W/out"; }
"$BIN" search "$TOP_SRCDIR/problems/zdt/zdt1.yaml" -o "$W/r2" -g 2 --quiet
: >"$W/r2/front.csv.tmp.4194304"; : >"$W/r2/checkpoint.tmp.$$"
"$BIN" resume "$W/r2" -g 4 >"$W/out" 2>&1; got=$?
[ $got -eq 0 ] && grep -q "^approxmap: removed 1 stale temporary file" "$W/out" && [ -e "$W/r2/checkpoint.tmp.$$" ] &&
    [ ! -e "$W/r2/front.csv.tmp.4194304" ] && pass "resume removes a dead process's temporary file, not a live one's" ||
    { bad "resume and stale files: exit $got, $(ls "$W/r2")"; sed 's/^/    /' "$W/out"; }
# the comparison itself: a run whose clock jumps 100 s (a stalled machine) has a wider seconds column and
# so a longer generations.csv; it is the same run (same front, archive, population), and a checkpoint
# that differs elsewhere is not
"$BIN" search "$TOP_SRCDIR/problems/zdt/zdt1.yaml" -o "$W/fast" -g 4 --quiet
shim 17 clock ENOSPC "$BIN" search "$TOP_SRCDIR/problems/zdt/zdt1.yaml" -o "$W/slow" -g 4
if [ "$(wc -c <"$W/slow/generations.csv")" -gt "$(wc -c <"$W/fast/generations.csv")" ] && same_run "$W/fast" "$W/slow"; then
    pass "a run 100 s slower (generations.csv $(wc -c <"$W/fast/generations.csv") -> $(wc -c <"$W/slow/generations.csv") bytes) compares as the same run"
else bad "a run 100 s slower: $(tail -n1 "$W/slow/generations.csv"), not the same run as $(tail -n1 "$W/fast/generations.csv")"; fi
cp -r "$W/slow" "$W/other"
size=$(wc -c <"$W/other/checkpoint")
printf '\377' | dd of="$W/other/checkpoint" bs=1 seek=$((size - 20)) conv=notrunc 2>/dev/null
same_run "$W/fast" "$W/other" && bad "a checkpoint with a changed population byte compares as the same run" ||
    pass "a checkpoint with a changed population byte does not"
# set-up that takes a while (ResNet-8 loading and calibration): SIGINT/SIGTERM 0.3 s into search and
# resume; 130 and a message (the set-up one, or the run driver's if set-up was already over). The runs
# ask for 1000 generations so that they cannot have finished by then, however fast the engine gets
# (with -g 1 and 2 they did, in under 0.3 s, once calibration and the kernels got faster).
if [ -n "${APPROXMAP_DATA:-}" ] && [ -r "$APPROXMAP_DATA/models/resnet8_mlperf_float.onnx" ]; then
    for sig in TERM INT; do
        "$BIN" search "$TOP_SRCDIR/tests/data/cnn_tiny.yaml" -o "$W/cnn$sig" -g 1000 >"$W/out" 2>&1 &
        pid=$!; sleep 0.3; kill -$sig $pid; wait $pid; got=$?
        [ $got -eq 130 ] && grep -q "^approxmap: interrupted" "$W/out" &&
            pass "SIG$sig 0.3 s into a CNN search: 130, '$(grep '^approxmap: interrupted' "$W/out" | cut -c1-60)...'" ||
            { bad "SIG$sig 0.3 s into a CNN search: exit $got"; sed 's/^/    /' "$W/out"; }
    done
    "$BIN" search "$TOP_SRCDIR/tests/data/cnn_tiny.yaml" -o "$W/cnn" -g 1 --quiet
    "$BIN" resume "$W/cnn" -g 1000 >"$W/out" 2>&1 &
    pid=$!; sleep 0.3; kill -INT $pid; wait $pid; got=$?
    [ $got -eq 130 ] && grep -q "^approxmap: interrupted" "$W/out" &&
        pass "SIGINT 0.3 s into a CNN resume: 130, '$(grep '^approxmap: interrupted' "$W/out" | cut -c1-60)...'" ||
        { bad "SIGINT 0.3 s into a CNN resume: exit $got"; sed 's/^/    /' "$W/out"; }
fi
rm -rf "$W"

run_problem zdt1 "$TOP_SRCDIR/problems/zdt/zdt1.yaml" 4
if [ -n "${APPROXMAP_DATA:-}" ] && [ -r "$APPROXMAP_DATA/models/resnet8_mlperf_float.onnx" ]; then
    if [ "${IOFAIL_CNN:-0}" = 1 ]; then
        run_problem cnn_tiny "$TOP_SRCDIR/tests/data/cnn_tiny.yaml" 2 "${IOFAIL_CNN_ACTIONS:-fail kill term}" \
            "${IOFAIL_CNN_MODES:-search resume}"
    else
        # by default five of its 36 calls: problem.yaml's first write (nothing to resume: search --force
        # starts again), the set-up archive's rename, the first checkpoint's rename, generation 1's
        # front.csv rename and the last checkpoint's rename
        run_problem cnn_tiny "$TOP_SRCDIR/tests/data/cnn_tiny.yaml" 2 "fail kill" search "1 8 16 22 36"
    fi
else
    echo "iofail: no data/: the CNN sweep is skipped"
fi
grep -q '^FAIL' "$T"/sweep-*.txt && fail=1
exit $fail
