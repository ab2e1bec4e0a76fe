#!/bin/sh
# Distributed evaluation under mpirun (problems/prob_mpi.h): the same run directory for 1, 2 and 3 ranks
# and any thread count as without MPI (ZDT1 and, when the data are present, the tiny CNN problem); a run
# made under MPI resumes without it and the other way round; a worker killed with SIGKILL or hanging ends
# the job cleanly and `resume` (with and without MPI) finishes with the uninterrupted front; SIGTERM to
# the job checkpoints and every rank exits 130. Skips (77) when approxmap was built without MPI or
# mpirun is absent. Prints one PASS/FAIL line per check.
#
# "Same run directory": front.csv and archive byte for byte; the checkpoint byte for byte except the
# three fields that record the session rather than the search (evaluation threads, seconds spent, the
# length of generations.csv) and the CRC over them: ckpt_same in tests/cli_lib.sh. Any two runs differ
# there, with or without MPI.
set -u
: "${BIN:?}" "${TOP_SRCDIR:?}"
. "$TOP_SRCDIR/tests/cli_lib.sh" # T, fail, pass, bad, ckpt_same
if [ "${WITH_MPI:-no}" != yes ] || [ -z "${MPIRUN:-}" ] || ! command -v "$MPIRUN" >/dev/null 2>&1; then
    echo "SKIP: approxmap built without MPI or mpirun absent (configure --with-mpi; Debian: libopenmpi-dev openmpi-bin)"
    exit 77
fi
# As root (CI) Open MPI wants an explicit opt-in. Sanitizer builds: Open MPI's own allocations are not
# ours to report.
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_rmaps_base_oversubscribe=1
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0"
cli_init mpi
mpi() { # mpi NP ARGS...: approxmap under mpirun with NP ranks
    np=$1; shift
    "$MPIRUN" --oversubscribe -np "$np" "$BIN" "$@"
}
same() { # same DESC RUN_A RUN_B
    if cmp -s "$2/front.csv" "$3/front.csv" && cmp -s "$2/archive" "$3/archive" && ckpt_same "$2" "$3"
    then pass "$1"; else bad "$1"; cmp "$2/front.csv" "$3/front.csv"; cmp "$2/archive" "$3/archive"
        cmp "$2/checkpoint" "$3/checkpoint"; fi
}
rank_pid() { # rank_pid MPIRUN_PID RANK: the pid of that rank (from its environment)
    for c in $(pgrep -P "$1"); do
        r=$(tr '\0' '\n' <"/proc/$c/environ" 2>/dev/null | sed -n 's/^OMPI_COMM_WORLD_RANK=//p')
        [ "$r" = "$2" ] && { echo "$c"; return; }
    done
}
wait_gens() { # wait_gens RUNDIR N PID: until generations.csv has N generations or PID ended
    while kill -0 "$3" 2>/dev/null && [ "$( (wc -l <"$1/generations.csv") 2>/dev/null || echo 0)" -le "$2" ]; do
        sleep 0.02
    done
}

cat >"$T/z.yaml" <<'YAML'
type: zdt1
variables: 12
ga:
  population: 20
  generations: 40
  seed: 7
YAML

"$BIN" search "$T/z.yaml" -o "$T/z" --quiet || bad "ZDT1 without MPI"
for np in 1 2 3; do
    mpi $np search "$T/z.yaml" -o "$T/z$np" --quiet >"$T/out" 2>&1 || { bad "ZDT1 under mpirun -np $np"; cat "$T/out"; }
    same "ZDT1, mpirun -np $np: front.csv, archive and checkpoint as without MPI" "$T/z" "$T/z$np"
done

# the shipped problem file (30 of its 250 generations)
Z=$TOP_SRCDIR/problems/zdt/zdt1.yaml
"$BIN" search "$Z" -o "$T/zs" --generations 30 --quiet || bad "problems/zdt/zdt1.yaml without MPI"
for np in 2 3; do
    mpi $np search "$Z" -o "$T/zs$np" --generations 30 --quiet >"$T/out" 2>&1 || { bad "zdt1.yaml under -np $np"; cat "$T/out"; }
    same "problems/zdt/zdt1.yaml (30 generations), mpirun -np $np: same run directory" "$T/zs" "$T/zs$np"
done

# a run made under MPI resumes without it, and a plain run resumes under MPI with another rank count
mpi 3 search "$T/z.yaml" -o "$T/zr" --generations 15 --quiet && "$BIN" resume "$T/zr" --generations 40 --quiet \
    && same "stopped at 15 under -np 3, resumed without MPI" "$T/z" "$T/zr" || bad "MPI run resumed without MPI"
"$BIN" search "$T/z.yaml" -o "$T/zp" --generations 10 --quiet && mpi 2 resume "$T/zp" --generations 25 --quiet \
    && mpi 3 resume "$T/zp" --generations 40 --quiet && same "plain run resumed under -np 2, then -np 3" "$T/z" "$T/zp" \
    || bad "plain run resumed under MPI"

# a worker killed with SIGKILL mid-run: the job fails, the checkpoint is intact, resume finishes exactly
sed 's/generations: 40/generations: 150/' "$T/z.yaml" >"$T/long.yaml"
"$BIN" search "$T/long.yaml" -o "$T/long" --quiet || bad "long ZDT1 without MPI"
for how in plain mpi; do
    "$MPIRUN" --oversubscribe -np 3 "$BIN" search "$T/long.yaml" -o "$T/k$how" --quiet >"$T/out" 2>&1 & mp=$!
    wait_gens "$T/k$how" 20 $mp
    w=$(rank_pid $mp 1)
    [ -n "$w" ] && kill -9 "$w"
    wait $mp; rc=$?
    at=$(tail -n 1 "$T/k$how/generations.csv" | cut -d, -f1)
    if [ $rc -ne 0 ] && [ "${at:-150}" -lt 150 ]; then pass "worker SIGKILL after generation $at ends the job (mpirun exit $rc)"
    else bad "worker SIGKILL ends the job (exit $rc, generation $at)"; sed 's/^/    /' "$T/out"; fi
    if [ $how = plain ]; then "$BIN" resume "$T/k$how" --quiet; else mpi 2 resume "$T/k$how" --quiet; fi \
        || bad "resume ($how) after the worker was killed"
    same "resume ($how) after a killed worker finishes with the uninterrupted front" "$T/long" "$T/k$how"
done

# a hanging worker (SIGSTOP): rank 0 gives up after --worker-timeout with a message naming the rank
"$MPIRUN" --oversubscribe -np 3 "$BIN" search "$T/long.yaml" -o "$T/hang" --quiet --worker-timeout 2s >"$T/out" 2>&1 & mp=$!
wait_gens "$T/hang" 10 $mp
w=$(rank_pid $mp 2)
[ -n "$w" ] && kill -STOP "$w"
wait $mp; rc=$?
[ -n "$w" ] && kill -CONT "$w" 2>/dev/null
if [ $rc -ne 0 ] && grep -q "worker rank 2 has not answered" "$T/out"; then pass "a hanging worker ends the job with a message naming it"
else bad "hanging worker (exit $rc)"; sed 's/^/    /' "$T/out"; fi
"$BIN" resume "$T/hang" --quiet && same "resume after the hang finishes with the uninterrupted front" "$T/long" "$T/hang" \
    || bad "resume after the hang"

# SIGTERM to every process of the job (what a batch scheduler sends at a time limit; mpirun itself
# would follow its own SIGTERM with SIGKILL): rank 0 checkpoints, every rank exits 130
cat >"$T/rank.sh" <<EOF
#!/bin/sh
trap '' TERM
"$BIN" search "$T/long.yaml" -o "$T/term" --quiet
echo "rank \$OMPI_COMM_WORLD_RANK exit \$?" >>"$T/ranks"
EOF
chmod +x "$T/rank.sh"
"$MPIRUN" --oversubscribe -np 3 "$T/rank.sh" >"$T/out" 2>&1 & mp=$!
wait_gens "$T/term" 15 $mp
pids=
for r in 0 1 2; do sh_pid=$(rank_pid $mp $r); [ -n "$sh_pid" ] && pids="$pids $(pgrep -P "$sh_pid")"; done
kill -TERM $pids # at once, as a scheduler does
wait $mp
n130=$(grep -c ' exit 130$' "$T/ranks" 2>/dev/null)
if [ "${n130:-0}" = 3 ]; then pass "SIGTERM: all 3 ranks exit 130"; else bad "SIGTERM: ranks exited: $(cat "$T/ranks" 2>/dev/null)"; fi
"$BIN" resume "$T/term" --quiet && same "resume after SIGTERM finishes with the uninterrupted front" "$T/long" "$T/term" \
    || bad "resume after SIGTERM"

# the tiny CNN problem: 1..3 ranks and 2 threads per rank give the single-process run directory
data=${APPROXMAP_DATA:-$TOP_SRCDIR/data}
if [ -r "$data/models/resnet8_mlperf_float.onnx" ] && [ -r "$data/cifar10/cifar-10-batches-bin/test_batch.bin" ]; then
    export APPROXMAP_DATA="$data"
    P=$TOP_SRCDIR/tests/data/cnn_tiny.yaml
    "$BIN" search "$P" -o "$T/c" --quiet || bad "tiny CNN without MPI"
    for np in 1 2 3; do
        mpi $np search "$P" -o "$T/c$np" --quiet >"$T/out" 2>&1 || { bad "tiny CNN under -np $np"; cat "$T/out"; }
        same "tiny CNN, mpirun -np $np: same run directory as without MPI" "$T/c" "$T/c$np"
    done
    mpi 2 search "$P" -o "$T/ct" --threads 2 --quiet >"$T/out" 2>&1 || bad "tiny CNN, -np 2 x 2 threads"
    same "tiny CNN, 2 ranks x 2 threads: same run directory" "$T/c" "$T/ct"
else
    echo "NOTE: CNN part skipped: reference model or CIFAR-10 absent under '$data'"
fi
exit $fail
