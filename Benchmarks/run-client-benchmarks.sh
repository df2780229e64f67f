#!/bin/sh
# Runs the streaming client's full-size measurements (release build) and writes BENCHMARKS-client.md.
# Usage: Benchmarks/run-client-benchmarks.sh [slow-consumer-chunks (default 10000)]
set -eu
cd "$(dirname "$0")/.."
swift build -c release --product TokenMeterClientStress
{
    ./.build/release/TokenMeterClientStress "${1:-10000}"
    echo "Run on $(date -u +%Y-%m-%d) with \`Benchmarks/run-client-benchmarks.sh\`."
} > BENCHMARKS-client.md
cat BENCHMARKS-client.md
