#!/usr/bin/env bash
# Gateway benchmark with three separate processes (see Benchmarks/server-processes.sh): added time to first
# token and inter-chunk delay of `tokenmeter serve` over calling the same upstream directly, at 1, 50, 200 and 500
# concurrent closed-loop streams, direct and gateway back to back in one run; the most streams per second;
# RSS per idle open stream; CPU per 1,000 streamed tokens; CPU, RSS, FDs and threads of every process.
# The load generator's users start spread over a second (its --ramp-ms), so the streams are not in step;
# 500 streams are also run started all at once ("c=500 in step"), where every token interval brings one
# burst of 500 chunks.
#
#   make bench-server          # or: Benchmarks/server.sh [results.jsonl]
#   TOKENS=50 INTERVAL_MS=20 REQ1=60 REQ50=1500 REQ200=4000 REQ500=5000 Benchmarks/server.sh
#   BASELINE_BIN=/path/to/older/tokenmeter Benchmarks/server.sh   # before and after side by side
#   BENCH_BUDGET_USD=100000 HOLD_SLICE_TOKENS=8 Benchmarks/server.sh   # a budgeted user; holds grow every 8 tokens
#   BENCH_POSTGRES=1 Benchmarks/server.sh   # also the same gateway on a PostgreSQL ledger ("postgres"), beside SQLite
#   BENCH_RESPONSES=1 Benchmarks/server.sh  # also POST /v1/responses at 1 and 50 streams, translated and native
#   BENCH_RESPONSES=only Benchmarks/server.sh   # only chat beside the Responses API, at 1 and 50 streams
#   BENCH_HISTORY=only Benchmarks/server.sh     # only a 100k-token conversation re-sent with one new message, at 1
#                                               # and 10 streams: direct, the gateway, the gateway without its count cache
#
# Prints the machine, the load average before the run, one JSON line per phase, and a markdown summary.
set -euo pipefail
cd "$(dirname "$0")/.."
# 50 tokens a stream, as issue 21 states its CPU bar ("200 streams of 50 tokens"): the per-request costs (admission,
# ledger writes) are spread over the tokens a stream carries.
TOKENS=${TOKENS:-50}
. Benchmarks/server-processes.sh

REQ1=${REQ1:-60}; REQ50=${REQ50:-1500}; REQ200=${REQ200:-4000}; REQ500=${REQ500:-5000}; REQFAST=${REQFAST:-4000}
OUT=${1:-/tmp/tokenmeter-server-bench-$(date -u +%Y%m%dT%H%M%SZ).jsonl}
SKIP_BUILD=${SKIP_BUILD:-0}

[ "$SKIP_BUILD" = 1 ] || build_release
{
    echo "# $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'),"
    echo "# load average before: $(cut -d' ' -f1-3 /proc/loadavg); commit $(git rev-parse --short HEAD)$(git diff --quiet || echo +changes)"
    echo "# upstream: $TOKENS tokens, one every $INTERVAL_MS ms; gateway binary: $GATEWAY_BIN${BASELINE_BIN:+, baseline binary: $BASELINE_BIN}"
    echo "# user budget: ${BENCH_BUDGET_USD:-none} USD a month; hold slices: ${HOLD_SLICE_TOKENS:-by the budget}"
    if [ "${BENCH_POSTGRES:-0}" = 1 ]; then
        echo "# ledgers: SQLite (gateway${BASELINE_BIN:+, baseline}), $("$(scripts/pg-cluster.sh bin)/postgres" --version) (postgres, a private cluster on 127.0.0.1)"
    fi
} | tee "$OUT.txt" >&2
start_processes
: >"$OUT"
run() {
    local db
    [ "$1" != postgres ] || db=$(database_cpu)
    loadgen "$@" | tee -a "$OUT"
    # The database server's CPU over the phase, warm-up requests included (the summary scales it to the counted ones).
    if [ "$1" = postgres ]; then
        echo "{\"database_cpu\":\"$2\",\"cpu_s\":$(awk -v a="$db" -v b="$(database_cpu)" 'BEGIN { printf "%.2f", b - a }')}" | tee -a "$OUT"
    fi
    echo "# load $(cut -d' ' -f1-3 /proc/loadavg) after $2" | tee -a "$OUT" >&2
}
GATEWAYS=gateway; [ -n "${BASELINE_BIN:-}" ] && GATEWAYS="baseline gateway"
[ "${BENCH_POSTGRES:-0}" = 1 ] && GATEWAYS="$GATEWAYS postgres"
for g in $GATEWAYS; do run "$g" "warmup-$g" 50 500 --warmup 0 >/dev/null; done
# Memory per idle open stream first, after the warm-up at 50 streams: later runs at 500 leave the allocator
# holding that much memory, which would hide the growth.
responses_phases() {  # concurrency requests: the Responses API beside chat (the gateway alone)
    run direct "direct responses c=$1" "$1" "$2" --api responses
    run gateway "gateway responses c=$1" "$1" "$2" --api responses
    run gateway "gateway responses-native c=$1" "$1" "$2" --api responses --model "$NATIVE_RESPONSES_MODEL"
}
if [ "${BENCH_HISTORY:-}" = only ]; then
    HISTORY_TOKENS=${HISTORY_TOKENS:-100000}
    for c in 1 10; do
        n=$((c == 1 ? 60 : 300))
        for g in direct gateway nocache; do
            run "$g" "$g history c=$c" "$c" "$n" --history-tokens "$HISTORY_TOKENS"
        done
    done
    echo "# load average after: $(cut -d' ' -f1-3 /proc/loadavg)" | tee -a "$OUT.txt" >&2
    python3 Benchmarks/server-summary.py "$OUT" | tee -a "$OUT.txt"
    echo "results: $OUT, $OUT.txt" >&2
    exit 0
fi
if [ "${BENCH_RESPONSES:-}" = only ]; then
    for c in 1 50; do
        n_var=REQ$c; n=${!n_var}
        run gateway "warmup-responses c=$c" "$c" "$c" --api responses >/dev/null
        run direct "direct c=$c" "$c" "$n"
        run gateway "gateway c=$c" "$c" "$n"
        responses_phases "$c" "$n"
    done
    echo "# load average after: $(cut -d' ' -f1-3 /proc/loadavg)" | tee -a "$OUT.txt" >&2
    python3 Benchmarks/server-summary.py "$OUT" | tee -a "$OUT.txt"
    echo "results: $OUT, $OUT.txt" >&2
    exit 0
fi
for g in $GATEWAYS; do run "$g" "$g hold 500" 500 0 --hold --model gpt-4o-mini-2024-01-01; done
for c in 1 50 200 500; do
    n_var=REQ$c; n=${!n_var}
    run direct "direct c=$c" "$c" "$n"
    for g in $GATEWAYS; do run "$g" "$g c=$c" "$c" "$n"; done
    if [ -n "${BENCH_RESPONSES:-}" ] && [ "$c" -lt 200 ]; then responses_phases "$c" "$n"; fi
done
run direct "direct c=500 in step" 500 "$REQ500" --ramp-ms 0
for g in $GATEWAYS; do run "$g" "$g c=500 in step" 500 "$REQ500" --ramp-ms 0; done
run direct "direct fast c=50" 50 "$REQFAST" --model gpt-4o-mini-2024-01-02
for g in $GATEWAYS; do
    run "$g" "$g fast c=50" 50 "$REQFAST" --model gpt-4o-mini-2024-01-02
    run "$g" "$g fast c=200" 200 "$REQFAST" --model gpt-4o-mini-2024-01-02
done
echo "# load average after: $(cut -d' ' -f1-3 /proc/loadavg)" | tee -a "$OUT.txt" >&2
python3 Benchmarks/server-summary.py "$OUT" | tee -a "$OUT.txt"
echo "results: $OUT, $OUT.txt" >&2
