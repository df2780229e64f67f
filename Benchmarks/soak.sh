#!/usr/bin/env bash
# Soak: 20,000 streamed requests at 50 concurrent through `tokenmeter serve` (three processes, see
# Benchmarks/server-processes.sh). Prints the gateway's RSS, open FDs, threads and CPU every 1,000 requests
# (from /proc/PID), and once more after 10 s idle (libdispatch retires idle worker threads after about 5 s),
# and fails (exit 1) if any request failed: the soak upstream never fails a request.
#
#   make soak      # or: SOAK_REQUESTS=20000 SOAK_CONCURRENCY=50 TOKENS=16 INTERVAL_MS=10 Benchmarks/soak.sh
set -euo pipefail
cd "$(dirname "$0")/.."
TOKENS=${TOKENS:-16}
INTERVAL_MS=${INTERVAL_MS:-10}
. Benchmarks/server-processes.sh
N=${SOAK_REQUESTS:-20000}; C=${SOAK_CONCURRENCY:-50}; EVERY=${SOAK_SAMPLE_EVERY:-1000}
OUT=${1:-/tmp/tokenmeter-soak-$(date -u +%Y%m%dT%H%M%SZ).jsonl}

[ "${SKIP_BUILD:-0}" = 1 ] || build_release
echo "# soak $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg);" \
     "$N requests at $C concurrent, upstream $TOKENS tokens one every $INTERVAL_MS ms" >&2
start_processes
loadgen gateway soak "$C" "$N" --sample-every "$EVERY" | tee "$OUT"
sleep 10
echo "{\"idle_after_s\":10,\"gateway\":{\"rss_kb\":$(awk '/^VmRSS/{print $2}' /proc/$GATEWAY_PID/status),\"fds\":$(ls /proc/$GATEWAY_PID/fd | wc -l),\"threads\":$(awk '/^Threads/{print $2}' /proc/$GATEWAY_PID/status)}}" | tee -a "$OUT"
echo "# load average after: $(cut -d' ' -f1-3 /proc/loadavg)" >&2
python3 - "$OUT" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.startswith("{")]
samples = [r for r in rows if "completed" in r]
final = next(r for r in rows if r.get("label") == "soak")
print("| requests done | gateway RSS MiB | FDs | threads | gateway CPU s (cumulative) |")
print("|---:|---:|---:|---:|---:|")
for s in samples:
    g = s["processes"]["gateway"]
    print(f"| {s['completed']} | {g['rss_kb'] / 1024:.1f} | {g['fds']} | {g['threads']} | {g['cpu_s']:.1f} |")
idle = next((r["gateway"] for r in rows if "idle_after_s" in r), None)
if idle:
    print(f"| idle 10 s | {idle['rss_kb'] / 1024:.1f} | {idle['fds']} | {idle['threads']} | |")
print(f"\n{final['ok']} ok, {final['failures']} failed {final['errors']}; TTFT p50 {final['ttft_ms']['p50']} ms, "
      f"p99 {final['ttft_ms']['p99']} ms; {final['streams_per_s']} streams/s")
sys.exit(1 if final["failures"] else 0)
PY
