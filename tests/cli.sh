#!/bin/sh
# CLI behaviour: dispatcher, help texts and exit codes. Module-specific CLI tests live in
# tests/cli_*.sh. Prints one "PASS/FAIL: what" line per check; exits 1 on any failure.
set -u
: "${BIN:?BIN must point at the approxmap binary}"
fail=0
check() { # check DESCRIPTION EXPECTED_STATUS COMMAND...
    desc=$1; want=$2; shift 2
    "$@" >/tmp/approxmap-cli.$$ 2>&1; got=$?
    if [ "$got" -eq "$want" ]; then echo "PASS: $desc"; else
        echo "FAIL: $desc (exit $got, wanted $want)"; sed 's/^/    /' /tmp/approxmap-cli.$$; fail=1; fi
}
check "--help exits 0" 0 "$BIN" --help
check "--version exits 0" 0 "$BIN" --version
check "no command is a usage error" 2 "$BIN"
check "unknown command is a usage error" 2 "$BIN" frobnicate
check "unknown global option is a usage error" 2 "$BIN" --frob info
"$BIN" frobnicate 2>&1 | grep -q "'frobnicate' is not a command" && echo "PASS: unknown command named" || { echo "FAIL: unknown command named"; fail=1; }
rm -f /tmp/approxmap-cli.$$
exit $fail
