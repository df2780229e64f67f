#!/usr/bin/env bash
# Runs the built test suite (swift test --skip-build, extra arguments passed on) and fails when a test did not
# really run: skipped (a condition trait) or ended with a known issue (withKnownIssue). `make test` runs it with
# TOKENMETER_REQUIRE_ALL=1, under which the tests that need something from the machine fail instead of skipping
# (Sources/TokenMeterTestSupport/TestRequirement.swift); this check catches any skip that remains, so a passing
# `make test` means every test ran here. The output is matched on Swift Testing's words, not its symbols,
# which differ between platforms.
#
# The PostgreSQL ledger tests get a private cluster (scripts/pg-cluster.sh) in a temporary directory, started
# here and passed on as TOKENMETER_TEST_POSTGRES (its URL) and TOKENMETER_TEST_POSTGRES_BIN (psql's directory);
# it is stopped and deleted when this script ends, however it ends. A TOKENMETER_TEST_POSTGRES already set
# names a server to use instead, and none is started.
set -u -o pipefail
here=$(cd "$(dirname "$0")" && pwd)
log=$(mktemp)
pgdir=""
cleanup() {
    rm -f "$log"
    if [ -n "$pgdir" ]; then
        "$here/pg-cluster.sh" stop "$pgdir" || echo "run-tests: could not stop the PostgreSQL cluster in $pgdir" >&2
        rm -rf "$pgdir"
    fi
}
trap cleanup EXIT
# The EXIT trap runs when the script exits, and these make Ctrl-C and kill end it through exit.
trap 'exit 130' INT
trap 'exit 143' TERM

pgbin=$("$here/pg-cluster.sh" bin 2>/dev/null)
if [ -n "$pgbin" ] && [ -z "${TOKENMETER_TEST_POSTGRES_BIN:-}" ]; then
    export TOKENMETER_TEST_POSTGRES_BIN=$pgbin
fi
if [ -z "${TOKENMETER_TEST_POSTGRES:-}" ]; then
    if [ -n "$pgbin" ]; then
        pgdir=$(mktemp -d)
        url=$("$here/pg-cluster.sh" start "$pgdir") || { echo "run-tests: could not start PostgreSQL (above)" >&2; exit 1; }
        export TOKENMETER_TEST_POSTGRES=${url##*$'\n'}
        echo "run-tests: PostgreSQL for the tests at $TOKENMETER_TEST_POSTGRES ($pgdir)"
    elif [ "${TOKENMETER_REQUIRE_ALL:-}" = 1 ]; then
        "$here/pg-cluster.sh" bin >/dev/null  # says what is missing
        echo "run-tests: the PostgreSQL tests need PostgreSQL: apt-get install postgresql (make test-deps)," >&2
        echo "or TOKENMETER_TEST_POSTGRES=postgres://… naming a server to use" >&2
        exit 1
    fi
fi

"${SWIFT:-swift}" test --skip-build "$@" 2>&1 | tee "$log"
status=$?

skipped=$(grep -E '^[^ ]+ (Test|Suite) .* skipped(: .*|\.)$' "$log")
known=$(grep -E '^[^ ]+ Test .* (passed|failed) after .* with [0-9]+ known issues?\.$' "$log" | grep -vE '^[^ ]+ Test run with ')
if [ -n "$skipped$known" ]; then
    echo
    echo "run-tests: these tests did not run on this machine (skipped, or a known issue); install what they need"
    echo "(make test-deps) and run again:"
    [ -n "$skipped" ] && printf '%s\n' "$skipped"
    [ -n "$known" ] && printf '%s\n' "$known"
    exit 1
fi
exit "$status"
