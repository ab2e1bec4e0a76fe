#!/bin/sh
# approxmap search / resume on a small ZDT1: resume exactness (stop at N/2, SIGINT, SIGKILL at random
# moments), thread-count independence, refusals (existing run, other problem, corrupt or foreign
# checkpoint, truncated archive) and usage errors. Prints one PASS/FAIL line per check; exit 1 on failure.
set -u
: "${BIN:?BIN must point at the approxmap binary}" "${TOP_SRCDIR:?}"
. "$TOP_SRCDIR/tests/cli_lib.sh" # T, fail, pass, bad, check, grep_out, ckpt_same
cli_init cli-search
same() { # same DESCRIPTION RUN_A RUN_B: byte-identical front.csv and archive, the same checkpoint (ckpt_same)
    if cmp -s "$2/front.csv" "$3/front.csv" && cmp -s "$2/archive" "$3/archive" && ckpt_same "$2" "$3"; then pass "$1"; else
        bad "$1"; cmp "$2/front.csv" "$3/front.csv"; cmp "$2/archive" "$3/archive"; cmp "$2/checkpoint" "$3/checkpoint"; fi
}
rand_ms() { # a random delay in [lo, hi) milliseconds, printed as seconds for sleep
    r=$(od -An -N2 -tu2 /dev/urandom | tr -d ' ')
    ms=$(( $1 + r % ($2 - $1) ))
    printf '%d.%03d' $((ms / 1000)) $((ms % 1000))
}

cat >"$T/p.yaml" <<'YAML'
type: zdt1
variables: 12
ga:
  population: 20
  generations: 40
  seed: 7
YAML

check "search runs to completion" 0 "$BIN" search "$T/p.yaml" -o "$T/A" --quiet
head -1 "$T/A/front.csv" | grep -q '^id,f1,f2,x1,x2,.*,x12$' && pass "front.csv header" || bad "front.csv header"
[ "$(wc -l <"$T/A/generations.csv")" -eq 41 ] && pass "generations.csv has 40 rows" || bad "generations.csv rows"
[ "$(wc -l <"$T/A/front.csv")" -gt 5 ] && pass "front.csv has a front" || bad "front.csv is nearly empty"
# 32-byte header + records of 16 + 8*2 + 8 + 12*8 = 136 bytes
recs=$(( ($(wc -c <"$T/A/archive") - 32) / 136 ))
evals=$(tail -1 "$T/A/generations.csv" | cut -d, -f2)
[ "$recs" -eq "$evals" ] && pass "archive holds every evaluation ($recs)" || bad "archive $recs records, $evals evaluations"

check "search of 20 generations" 0 "$BIN" search "$T/p.yaml" -o "$T/B" --generations 20 --quiet
check "resume to 40 generations" 0 "$BIN" resume "$T/B" --generations 40 --quiet
same "20 + resume 20 = 40 generations, byte for byte" "$T/A" "$T/B"
check "resume of a finished run does nothing" 0 "$BIN" resume "$T/B" --quiet
same "finished run unchanged by resume" "$T/A" "$T/B"

check "search with 2 threads" 0 "$BIN" search "$T/p.yaml" -o "$T/C" --threads 2 --quiet
same "1 thread = 2 threads" "$T/A" "$T/C"

# SIGINT: exit 130 with the state saved; resume finishes identically
"$BIN" search "$T/p.yaml" -o "$T/D" --quiet >"$T/out" 2>&1 &
pid=$!
sleep "$(rand_ms 200 900)"
kill -INT $pid
wait $pid; got=$?
if [ "$got" -eq 130 ]; then pass "SIGINT exits 130"; elif [ "$got" -eq 0 ]; then pass "SIGINT arrived after the end (exit 0)"; else
    bad "SIGINT exit $got"; cat "$T/out"; fi
check "resume after SIGINT" 0 "$BIN" resume "$T/D" --quiet
same "SIGINT + resume = uninterrupted" "$T/A" "$T/D"

# SIGKILL at 20 random moments of the search (spread over its duration, measured on run A), then resume to
# the end (search --force when the kill came before the first checkpoint); every third resume is itself
# killed once more. Each must end identical to A, with no '*.tmp.*' left in the finished run directory.
now_ms() { echo $(( $(date +%s%N) / 1000000 )); }
t0=$(now_ms); "$BIN" search "$T/p.yaml" -o "$T/E0" --quiet; dur=$(( $(now_ms) - t0 + 50 ))
kills=0 ok=0 early=0 errs=""
while [ $kills -lt 20 ]; do
    kills=$((kills + 1))
    rm -rf "$T/E"
    "$BIN" search "$T/p.yaml" -o "$T/E" --quiet >/dev/null 2>&1 &
    pid=$!
    d=$(rand_ms 1 "$dur"); sleep "$d"; kill -KILL $pid 2>/dev/null; wait $pid 2>/dev/null
    desc="$d s"
    if [ -f "$T/E/checkpoint" ] && [ $((kills % 3)) -eq 0 ]; then
        "$BIN" resume "$T/E" --quiet >/dev/null 2>&1 &
        pid=$!
        d=$(rand_ms 1 "$dur"); sleep "$d"; kill -KILL $pid 2>/dev/null; wait $pid 2>/dev/null
        desc="$desc, resume killed at $d s"
    fi
    if [ -f "$T/E/checkpoint" ]; then "$BIN" resume "$T/E" --quiet >"$T/out" 2>&1; got=$?
    else early=$((early + 1)); "$BIN" search "$T/p.yaml" -o "$T/E" --force --quiet >"$T/out" 2>&1; got=$?; fi
    left=$(ls -A "$T/E" | grep '\.tmp\.' || true)
    if [ $got -eq 0 ] && cmp -s "$T/A/front.csv" "$T/E/front.csv" && cmp -s "$T/A/archive" "$T/E/archive" && [ -z "$left" ]; then
        ok=$((ok + 1))
    else
        errs="$errs [kill $kills at $desc: exit $got${left:+, left $left}]"; sed 's/^/    /' "$T/out"
    fi
done
echo "SIGKILL at $kills random moments of a ${dur} ms search ($early before the first checkpoint): $ok resumed identically"
[ $ok -eq 20 ] && pass "SIGKILL at 20 random moments + resume = uninterrupted, no temporary file left" ||
    bad "SIGKILL + resume:$errs"

# a crash after generation 21's archive and log appends but before its checkpoint, made deterministic:
# keep the checkpoint of generation 20 over files that already hold generation 21, then resume
"$BIN" search "$T/p.yaml" -o "$T/M" --generations 20 --quiet
cp "$T/M/checkpoint" "$T/ck20"
"$BIN" resume "$T/M" --generations 21 --quiet
cp "$T/ck20" "$T/M/checkpoint"
printf 'torn record' >>"$T/M/archive"
check "resume over appends the checkpoint does not cover" 0 "$BIN" resume "$T/M" --generations 40 --quiet
same "stale appends are truncated and redone identically" "$T/A" "$T/M"
[ "$(wc -l <"$T/M/generations.csv")" -eq 41 ] && pass "generations.csv truncated too" || bad "generations.csv rows after truncation"

# refusals
check "an existing run is not overwritten" 1 "$BIN" search "$T/p.yaml" -o "$T/A" --quiet
grep_out "says why" "already holds a run; resume it, or use --force to overwrite it"
cp -r "$T/A" "$T/F"
check "--force overwrites" 0 "$BIN" search "$T/p.yaml" -o "$T/F" --force --quiet
same "forced run equals a fresh one" "$T/A" "$T/F"

cp -r "$T/A" "$T/G"
sed -i 's/variables: 12/variables: 13/' "$T/G/problem.yaml"
check "resume refuses another problem" 1 "$BIN" resume "$T/G" --quiet
grep_out "names the cause" "$T/G/checkpoint' was written for a different problem than '$T/G/problem.yaml'"

cp -r "$T/A" "$T/H"
printf '\001' | dd of="$T/H/checkpoint" bs=1 seek=100 conv=notrunc 2>/dev/null
check "resume refuses a corrupt checkpoint" 1 "$BIN" resume "$T/H" --quiet
grep_out "names the cause" "$T/H/checkpoint' is corrupt (checksum mismatch)"

cp -r "$T/A" "$T/I"
printf '\002' | dd of="$T/I/checkpoint" bs=1 seek=8 conv=notrunc 2>/dev/null
check "resume refuses another checkpoint version" 1 "$BIN" resume "$T/I" --quiet
grep_out "names the version" "$T/I/checkpoint' has checkpoint format version 2; this program reads version 1"

cp -r "$T/A" "$T/J"
truncate -s 1000 "$T/J/archive"
check "resume refuses a truncated archive" 1 "$BIN" resume "$T/J" --quiet
grep_out "names the cause" "$T/J/archive' is truncated: 7 of $recs records"

check "resume of a missing run fails" 1 "$BIN" resume "$T/nope" --quiet
printf 'type: zdt1\nga:\n  populaton: 20\n' >"$T/bad.yaml"
check "a bad problem file fails" 1 "$BIN" search "$T/bad.yaml" -o "$T/K" --quiet
grep_out "with its position" "$T/bad.yaml:3:3: unknown key 'populaton' in 'ga'"
[ ! -e "$T/K" ] && pass "nothing created for a bad problem file" || bad "run directory created for a bad file"

# usage
check "search without -o is a usage error" 2 "$BIN" search "$T/p.yaml"
check "bad --generations is a usage error" 2 "$BIN" search "$T/p.yaml" -o "$T/L" --generations 0
check "bad --time-limit is a usage error" 2 "$BIN" search "$T/p.yaml" -o "$T/L" --time-limit 8x
check "resume without a directory is a usage error" 2 "$BIN" resume
check "search --help" 0 "$BIN" search --help
check "resume --help" 0 "$BIN" resume --help
exit $fail
