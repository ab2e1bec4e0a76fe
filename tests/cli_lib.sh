# Helpers shared by the CLI test scripts (tests/cli_*.sh), sourced after BIN and TOP_SRCDIR are checked:
#     . "$TOP_SRCDIR/tests/cli_lib.sh"; cli_init NAME
# cli_init NAME     $T = a fresh directory /tmp/approxmap-NAME-XXXXXX, removed at exit; fail=0
# pass DESC         prints "PASS: DESC"
# bad DESC          prints "FAIL: DESC" and sets fail=1 (the script ends with `exit $fail`)
# check DESC STATUS COMMAND...   runs COMMAND (output in $T/out): PASS when it exits STATUS, else FAIL
#                   with the output
# grep_out DESC FIXED-STRING     the last check's output holds that string
# ckpt_same RUN_A RUN_B          two run directories' checkpoints are those of the same search (below)
#
# Two runs of the same search write the same checkpoint but for three fields that record the session
# rather than the search (problems/run.c save_ckpt, problems/rundir.c rundir_ckpt_write): the evaluation
# threads (8 bytes at offset 152), the seconds spent (f64 at 184) and the byte length of
# generations.csv (u64 at 216: its last column is wall-clock seconds, one character wider once a
# generation ends at 10 s or more), and the CRC over them (the last 4 bytes). ckpt_same masks exactly
# those, and checks the length field against each run's generations.csv, so a change of the checkpoint
# layout fails here instead of masking the wrong bytes.

cli_init() {
    T=$(mktemp -d "/tmp/approxmap-$1-XXXXXX") || exit 99
    trap 'rm -rf "$T"' EXIT
    fail=0
}
pass() { echo "PASS: $1"; }
bad() { echo "FAIL: $1"; fail=1; }
check() {
    desc=$1 want=$2
    shift 2
    "$@" >"$T/out" 2>&1
    got=$?
    if [ "$got" -eq "$want" ]; then pass "$desc"; else
        bad "$desc (exit $got, wanted $want)"
        sed 's/^/    /' "$T/out"
    fi
}
grep_out() {
    if grep -qF -- "$2" "$T/out"; then pass "$1"; else
        bad "$1: no '$2' in:"
        sed 's/^/    /' "$T/out"
    fi
}

CK_THREADS=152 CK_ELAPSED=184 CK_GENS=216
le64() { od -An -t u8 -j "$2" -N 8 "$1" | tr -d ' '; }
ckpt_same() {
    [ -f "$1/checkpoint" ] && [ -f "$2/checkpoint" ] || return 1
    ck_size=$(wc -c <"$1/checkpoint")
    [ "$ck_size" -eq "$(wc -c <"$2/checkpoint")" ] || return 1
    [ "$(le64 "$1/checkpoint" $CK_GENS)" = "$(wc -c <"$1/generations.csv" | tr -d ' ')" ] || return 1
    [ "$(le64 "$2/checkpoint" $CK_GENS)" = "$(wc -c <"$2/generations.csv" | tr -d ' ')" ] || return 1
    cmp -l "$1/checkpoint" "$2/checkpoint" | awk -v size="$ck_size" -v t=$CK_THREADS -v e=$CK_ELAPSED -v g=$CK_GENS '
        { off = $1 - 1
          if (off >= size - 4 || (off >= t && off < t + 8) || (off >= e && off < e + 8) || (off >= g && off < g + 8)) next
          bad = 1 }
        END { exit bad }'
}
