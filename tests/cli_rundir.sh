#!/bin/sh
# Run-directory files that pass their checksums but do not fit: resume refuses each with a message
# naming the file and the field, exit 1, no crash, and leaves every file as it was. The checkpoints
# are crafted with a valid CRC-32 (the IEEE CRC of gzip's trailer). ZDT1, a few seconds.
set -u
: "${BIN:?BIN must point at the approxmap binary}" "${TOP_SRCDIR:?}"
. "$TOP_SRCDIR/tests/cli_lib.sh" # T, fail, pass, bad, grep_out
cli_init cli-rundir

# put FILE OFFSET OCTAL-BYTES: overwrite bytes at OFFSET (printf octal escapes, e.g. '\000\070')
put() { printf "$3" | dd of="$1" bs=1 seek="$2" conv=notrunc 2>/dev/null; }
# recrc FILE: rewrite a checkpoint's CRC-32 (its last 4 bytes, over everything before them)
recrc() {
    n=$(wc -c <"$1")
    oct=$(head -c $((n - 4)) "$1" | gzip -c | tail -c 8 | head -c 4 | od -An -to1 | tr -s ' ' '\\' | sed 's/\\$//')
    put "$1" $((n - 4)) "$oct"
}
F64_999='\000\000\000\000\000\070\217\100'
F64_NAN='\000\000\000\000\000\000\370\177'
U64_0='\000\000\000\000\000\000\000\000'

# refused DESCRIPTION DIR MESSAGE: resume exits 1 with MESSAGE, without an assertion, and changes nothing
refused() {
    (cd "$2" && cksum checkpoint archive front.csv generations.csv) >"$T/before"
    "$BIN" resume "$2" --quiet >"$T/out" 2>&1; got=$?
    [ "$got" -eq 1 ] && pass "$1: exit 1" || { bad "$1: exit $got"; sed 's/^/    /' "$T/out"; }
    grep_out "$1: says which file and field" "$3"
    if grep -q -i "assert" "$T/out"; then bad "$1: an assertion"; fi
    (cd "$2" && cksum checkpoint archive front.csv generations.csv) >"$T/after"
    cmp -s "$T/before" "$T/after" && pass "$1: nothing written" || bad "$1: files changed"
}

cat >"$T/p.yaml" <<'YAML'
type: zdt1
variables: 12
ga:
  population: 20
  generations: 10
  seed: 7
YAML
"$BIN" search "$T/p.yaml" -o "$T/A" --quiet || bad "search"
"$BIN" search "$T/p.yaml" -o "$T/B" --quiet --seed 8 || bad "search with another seed"
"$BIN" search "$T/p.yaml" -o "$T/C" --quiet --generations 12 || bad "search of 12 generations"

# checkpoint layout: 20-byte header; payload: hash, genes, objectives (20 bytes), settings (15 x 8,
# population at file byte 40), counters (generation at 160), seconds, hypervolume, its generation,
# archive records (208), generations.csv bytes, RNG (16), population count (240), then rows of
# 12 genes + 2 objectives + violation (f64), rank (u32), crowding (f64) = 132 bytes from 248
row() { echo $((248 + ($1 - 1) * 132 + ($2 - 1) * 8)); } # row INDIVIDUAL GENE (1-based)

cp -r "$T/A" "$T/g999"; put "$T/g999/checkpoint" "$(row 7 3)" "$F64_999"; recrc "$T/g999/checkpoint"
refused "gene 999" "$T/g999" "$T/g999/checkpoint: gene 3 of individual 7 is 999, outside 0..1"

cp -r "$T/A" "$T/gnan"; put "$T/gnan/checkpoint" "$(row 2 12)" "$F64_NAN"; recrc "$T/gnan/checkpoint"
refused "gene NaN" "$T/gnan" "$T/gnan/checkpoint: gene 12 of individual 2 is nan, outside 0..1"

cp -r "$T/A" "$T/np0"; put "$T/np0/checkpoint" 240 "$U64_0"; recrc "$T/np0/checkpoint"
refused "population count 0" "$T/np0" \
    "$T/np0/checkpoint: population count is 0 at generation 10, where it must be the population size 20"

cp -r "$T/A" "$T/pop0"; put "$T/pop0/checkpoint" 40 "$U64_0"; recrc "$T/pop0/checkpoint"
refused "population size 0" "$T/pop0" "$T/pop0/checkpoint: population is 0, not an even number in 4..100000"

cp -r "$T/A" "$T/recs"; put "$T/recs/checkpoint" 208 '\001'; recrc "$T/recs/checkpoint"
refused "archive record count" "$T/recs" "$T/recs/checkpoint: archive records is"

# the archive of another run of the same problem (seed 8): same size, other genomes
cp -r "$T/A" "$T/arch"; cp "$T/B/archive" "$T/arch/archive"
refused "archive of another run" "$T/arch" \
    "'$T/arch/checkpoint' does not match '$T/arch/archive': individual 1 of the population is not in the archive (the two files are from different runs)"

# the checkpoint of another run: one whose record count fits the archive, one of a longer run
recs() { echo $(( ($(wc -c <"$1/archive") - 32) / 136 )); } # 32-byte header, 136-byte records
nA=$(recs "$T/A"); nB=$(recs "$T/B"); nC=$(recs "$T/C")
if [ "$nB" -le "$nA" ]; then X=B; else X=A; fi # the run whose checkpoint fits the other's archive
if [ "$X" = B ]; then Y=A; else Y=B; fi
cp -r "$T/$Y" "$T/ck"; cp "$T/$X/checkpoint" "$T/ck/checkpoint"
refused "checkpoint of another run" "$T/ck" \
    "'$T/ck/checkpoint' does not match '$T/ck/archive': individual 1 of the population is not in the archive (the two files are from different runs)"
cp -r "$T/A" "$T/ck12"; cp "$T/C/checkpoint" "$T/ck12/checkpoint"
refused "checkpoint of a longer run" "$T/ck12" \
    "'$T/ck12/archive' is truncated: $nA of $nC records (the count in field 'archive records' of '$T/ck12/checkpoint'): the archive is damaged, or the checkpoint is from another run"

# a truncated archive: inside the header, inside the records
cp -r "$T/A" "$T/th"; truncate -s 20 "$T/th/archive"
refused "archive cut inside its header" "$T/th" "'$T/th/archive' is truncated: 20 of the 32 header bytes"
cp -r "$T/A" "$T/tr"; truncate -s 1000 "$T/tr/archive"
refused "archive cut inside its records" "$T/tr" \
    "'$T/tr/archive' is truncated: 7 of $nA records (the count in field 'archive records' of '$T/tr/checkpoint')"

# archive records whose own CRC holds but whose contents cannot be: a NaN objective (record 3, its
# CRC rewritten), a genome repeated (record 0 copied over record 1)
cp -r "$T/A" "$T/rnan"; put "$T/rnan/archive" $((32 + 3 * 136 + 16)) "$F64_NAN"
oct=$(tail -c +$((32 + 3 * 136 + 16 + 1)) "$T/rnan/archive" | head -c 120 | gzip -c | tail -c 8 | head -c 4 | od -An -to1 | tr -s ' ' '\\' | sed 's/\\$//')
put "$T/rnan/archive" $((32 + 3 * 136 + 12)) "$oct"
refused "archive record with a NaN objective" "$T/rnan" "'$T/rnan/archive': record 3 (byte 440): objective 1 is NaN"
cp -r "$T/A" "$T/rdup"
head -c $((32 + 136)) "$T/A/archive" | tail -c 136 | dd of="$T/rdup/archive" bs=1 seek=$((32 + 136)) conv=notrunc 2>/dev/null
refused "archive record repeating another" "$T/rdup" "'$T/rdup/archive': record 1 (byte 168): its genome repeats record 0"

# the untouched run still resumes
"$BIN" resume "$T/A" --generations 11 --quiet && pass "the original run resumes" || bad "the original run resumes"
exit $fail
