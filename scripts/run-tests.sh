#!/usr/bin/env bash
# Runs the built test suite (swift test --skip-build, extra arguments passed on) and fails when a test did not
# really run: skipped (a condition trait) or ended with a known issue (withKnownIssue). `make test` runs it with
# TOKENMETER_REQUIRE_ALL=1, under which the tests that need something from the machine fail instead of skipping
# (Sources/TokenMeterTestSupport/TestRequirement.swift); this check catches any skip that remains, so a passing
# `make test` means every test ran here. The output is matched on Swift Testing's words, not its symbols,
# which differ between platforms.
set -u -o pipefail
log=$(mktemp)
trap 'rm -f "$log"' EXIT

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
