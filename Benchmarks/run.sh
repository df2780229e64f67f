#!/usr/bin/env bash
# Every benchmark that has an anchor, in one run, and their figures written into BENCHMARKS.md:
# the tokenizer beside tiktoken and quicktok (Benchmarks/tokenizer.sh), the gateway beside its upstream called
# directly (Benchmarks/server.sh: 1, 50, 200 and 500 streams, paced and without pauses), and a long conversation
# re-sent (BENCH_HISTORY=only Benchmarks/server.sh). Benchmarks/write-benchmarks.py then replaces the section
# "Current figures" of BENCHMARKS.md with this run's bars and tables; the rest of the page is left alone.
#
#   make bench-all             # or: Benchmarks/run.sh [run-dir]
#   pip install tiktoken quicktok-v1 first (reference tools, not product dependencies)
#
# About 10 minutes on 2 cores. Nothing else should run meanwhile: every figure is CPU time or latency.
set -euo pipefail
cd "$(dirname "$0")/.."
RUN=${1:-/tmp/tokenmeter-bench-$(date -u +%Y%m%dT%H%M%SZ)}
mkdir -p "$RUN"
echo "results in $RUN" >&2
Benchmarks/tokenizer.sh 2>"$RUN/tokenizer.err" | tee "$RUN/tokenizer.txt"
Benchmarks/server.sh "$RUN/server.jsonl"
SKIP_BUILD=1 BENCH_HISTORY=only Benchmarks/server.sh "$RUN/history.jsonl"
python3 Benchmarks/write-benchmarks.py "$RUN" BENCHMARKS.md
