#!/bin/sh
# scripts/slurm/search.sbatch under a real SLURM: starts a private single-node cluster on this machine
# (munged, slurmctld and slurmd on 127.0.0.1, own key, sockets, ports and state under a temporary
# directory; stopped at exit), submits a ZDT1 search, and ends it part-way twice: (1) `scontrol requeue`
# (SLURM kills the job and starts it again: the script resumes) and (2) the time-limit warning the script
# asks for (SIGUSR1 to the batch shell: approxmap saves, the script requeues itself). Each final front and
# archive must equal an uninterrupted run's. Skips (77) when not root or SLURM/munge are not installed
# (Debian: slurm-wlm munge).
set -u
: "${BIN:?}" "${TOP_SRCDIR:?}"
for p in munged slurmctld slurmd sbatch scontrol squeue scancel; do
    command -v $p >/dev/null 2>&1 || { echo "SKIP: $p not installed (Debian: slurm-wlm munge)"; exit 77; }
done
[ "$(id -u)" -eq 0 ] || { echo "SKIP: starting slurmd needs root"; exit 77; }

D=$(mktemp -d /tmp/approxmap-slurm-XXXXXX)
chmod 755 "$D"
fail=0
pass() { echo "PASS: $1"; }
bad() { echo "FAIL: $1"; fail=1; }
stop_all() {
    for f in slurmd slurmctld munged; do
        [ -f "$D/$f.pid" ] && kill "$(cat "$D/$f.pid")" 2>/dev/null
    done
    sleep 1
    for f in slurmd slurmctld munged; do
        [ -f "$D/$f.pid" ] && kill -9 "$(cat "$D/$f.pid")" 2>/dev/null
    done
    rm -rf "$D"
}
trap stop_all EXIT

mkdir -p "$D/state" "$D/spool" "$D/t"
dd if=/dev/urandom of="$D/munge.key" bs=128 count=1 2>/dev/null && chmod 400 "$D/munge.key"
munged --force --socket="$D/munge.sock" --key-file="$D/munge.key" --pid-file="$D/munged.pid" \
    --log-file="$D/munged.log" --seed-file="$D/munged.seed" || { bad "munged starts"; exit 1; }
port=$(( 20000 + $$ % 20000 ))
host=$(hostname -s)
cat >"$D/slurm.conf" <<EOF
ClusterName=approxmaptest
SlurmctldHost=$host(127.0.0.1)
SlurmctldPort=$port
SlurmdPort=$((port + 1))
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
AuthInfo=socket=$D/munge.sock
CredType=cred/munge
StateSaveLocation=$D/state
SlurmdSpoolDir=$D/spool
SlurmctldPidFile=$D/slurmctld.pid
SlurmdPidFile=$D/slurmd.pid
SlurmctldLogFile=$D/slurmctld.log
SlurmdLogFile=$D/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
SchedulerType=sched/builtin
ReturnToService=2
JobRequeue=1
KillWait=20
MpiDefault=none
NodeName=$host NodeAddr=127.0.0.1 CPUs=$(nproc) RealMemory=1000 State=UNKNOWN
PartitionName=test Nodes=$host Default=YES MaxTime=INFINITE State=UP
EOF
export SLURM_CONF="$D/slurm.conf"
slurmctld -c -i || { bad "slurmctld starts"; cat "$D/slurmctld.log"; exit 1; }
slurmd || { bad "slurmd starts"; cat "$D/slurmd.log"; exit 1; }
i=0
until sinfo -h -o %T 2>/dev/null | grep -q idle; do
    i=$((i + 1)); [ $i -le 60 ] || { bad "the node comes up"; tail "$D/slurmctld.log" "$D/slurmd.log"; exit 1; }
    sleep 0.5
done
pass "single-node SLURM on 127.0.0.1 is up"

T=$D/t
cat >"$T/p.yaml" <<'YAML'
type: zdt1
variables: 12
ga:
  population: 20
  generations: 150
  seed: 7
YAML
"$BIN" search "$T/p.yaml" -o "$T/ref" --quiet || bad "uninterrupted reference run"

wait_gens() { # wait_gens RUNDIR N: until generations.csv has more than N lines (at most 120 s)
    i=0
    while [ "$( (wc -l <"$1/generations.csv") 2>/dev/null || echo 0)" -le "$2" ]; do
        i=$((i + 1)); [ $i -le 1200 ] || return 1
        sleep 0.1
    done
}
wait_done() { # wait_done JOBID: until the job has left the queue (at most 240 s); a requeued job's
    # deferred start (SLURM holds it back for a while) is brought forward
    i=0
    while st=$(squeue -h -j "$1" -o %T 2>/dev/null) && [ -n "$st" ]; do
        [ "$st" = PENDING ] && scontrol update jobid="$1" starttime=now >/dev/null 2>&1
        i=$((i + 1)); [ $i -le 240 ] || return 1
        sleep 1
    done
}
run_case() { # run_case NAME HOW: submit, interrupt part-way by HOW, wait, compare
    name=$1; how=$2
    jid=$(cd "$T" && APPROXMAP="$BIN" sbatch --parsable -J "approxmap-$name" -o "$T/$name.out" \
        "$TOP_SRCDIR/scripts/slurm/search.sbatch" "$T/p.yaml" "$T/$name" --quiet) || { bad "$name: sbatch"; return; }
    wait_gens "$T/$name" 30 || { bad "$name: the job did not start"; cat "$T/$name.out"; return; }
    at=$(tail -n 1 "$T/$name/generations.csv" | cut -d, -f1)
    case $how in
    requeue) scontrol requeue "$jid" ;;
    timelimit) scancel --batch --signal=USR1 "$jid" ;;
    esac
    wait_done "$jid" || { bad "$name: job $jid did not finish"; cat "$T/$name.out"; return; }
    restarts=$(grep -c "resuming '$T/$name'" "$T/$name.out")
    gens=$(tail -n 1 "$T/$name/generations.csv" | cut -d, -f1)
    if [ "$restarts" -ge 1 ] && [ "$at" -lt 150 ] && [ "$gens" = 150 ]; then
        pass "$name: interrupted after generation $at, restarted $restarts time(s), finished at 150"
    else bad "$name: interrupted at $at, $restarts resumes, ended at generation $gens"; sed 's/^/    /' "$T/$name.out"; fi
    if cmp -s "$T/$name/front.csv" "$T/ref/front.csv" && cmp -s "$T/$name/archive" "$T/ref/archive"; then
        pass "$name: final front.csv and archive equal the uninterrupted run's"
    else bad "$name: final front differs from the uninterrupted run's"; fi
}
run_case requeue requeue
run_case timelimit timelimit
grep -q "requeueing job" "$T/timelimit.out" && pass "time-limit warning: the script requeued its own job" \
    || bad "time-limit warning: no self-requeue in the job output"
exit $fail
