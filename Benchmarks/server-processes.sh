# Shared by Benchmarks/server.sh and Benchmarks/soak.sh (sourced, not run): builds the release binaries and
# starts the three parties of the gateway benchmark as separate processes: the paced test upstream
# (tokenmeter-bench-upstream), the real `tokenmeter serve` routed to it through a YAML configuration with a
# user and key made by the CLI, and (in the caller) the load generator (tokenmeter-loadgen).
# With BASELINE_BIN set, a second gateway (another build, e.g. main's) runs beside it on the same upstream,
# so before and after are measured in one run. Sets UPSTREAM_PID UPSTREAM_PORT GATEWAY_PID GATEWAY_PORT KEY
# WORK BIN (and PID_baseline PORT_baseline KEY_baseline).
# BENCH_BUDGET_USD gives the benchmark user a monthly budget (default: none), so every request holds budget;
# HOLD_SLICE_TOKENS bounds the slices of the gateway's growing holds (`holds.max_slice_tokens`; not given to
# the baseline, whose configuration may not know the key), so every stream extends its hold as it streams.

BIN=.build/release                    # tokenmeter (the root package)
BENCH_BIN=Benchmarks/.build/release   # the benchmark package's executables
GATEWAY_BIN=${GATEWAY_BIN:-$BIN/tokenmeter}   # another build of `tokenmeter` to compare (e.g. a copy of main's)
TOKENS=${TOKENS:-32}
INTERVAL_MS=${INTERVAL_MS:-20}
UPSTREAM_THREADS=${UPSTREAM_THREADS:-1}

build_release() {
    swift build -c release --static-swift-stdlib --product tokenmeter >&2
    for product in tokenmeter-bench-upstream tokenmeter-loadgen; do
        swift build --package-path Benchmarks -c release --static-swift-stdlib --product "$product" >&2
    done
}

wait_for_line() {  # file pattern: prints the first line matching pattern (waits up to 30 s)
    for _ in $(seq 300); do
        line=$(grep -m1 -E "$2" "$1" 2>/dev/null) && { echo "$line"; return 0; }
        sleep 0.1
    done
    echo "timed out waiting for '$2' in $1" >&2; cat "$1" >&2; return 1
}

start_gateway() {  # tag binary: its own ledger, user, key and config; sets PID_<tag> PORT_<tag> KEY_<tag>
    local tag=$1 bin=$2 key port
    "$BIN/tokenmeter" users add bench --db "$WORK/$tag.sqlite" ${BENCH_BUDGET_USD:+--monthly-usd "$BENCH_BUDGET_USD"} >/dev/null
    key=$("$BIN/tokenmeter" keys create bench --db "$WORK/$tag.sqlite" | grep -o 'tm_[A-Za-z0-9_]*' | head -1)
    cat >"$WORK/$tag.yaml" <<YAML
listen: { host: 127.0.0.1, port: 0 }
database: $WORK/$tag.sqlite
upstreams:
  - name: bench
    provider: openai
    base_url: http://127.0.0.1:$UPSTREAM_PORT/v1
    api_key: sk-bench
YAML
    if [ -n "${HOLD_SLICE_TOKENS:-}" ] && [ "$tag" != baseline ]; then
        printf 'holds:\n  max_slice_tokens: %s\n' "$HOLD_SLICE_TOKENS" >>"$WORK/$tag.yaml"
    fi
    "$bin" serve --config "$WORK/$tag.yaml" >"$WORK/$tag.log" 2>&1 &
    eval "PID_$tag=$!"
    port=$(wait_for_line "$WORK/$tag.log" 'serving on http' | sed -E 's|.*serving on http://[^:]+:([0-9]+)/v1.*|\1|')
    eval "PORT_$tag=$port; KEY_$tag=$key"
    echo "$tag: $bin, pid $(eval echo \$PID_$tag), port $port" >&2
}

start_processes() {
    WORK=$(mktemp -d /tmp/tokenmeter-bench.XXXXXX)
    trap 'rc=$?; stop_processes; exit $rc' EXIT
    "$BENCH_BIN/tokenmeter-bench-upstream" --port 0 --tokens "$TOKENS" --interval-ms "$INTERVAL_MS" \
        --threads "$UPSTREAM_THREADS" >"$WORK/upstream.log" 2>&1 &
    UPSTREAM_PID=$!
    UPSTREAM_PORT=$(wait_for_line "$WORK/upstream.log" '^listening ' | awk '{print $2}')

    start_gateway gateway "$GATEWAY_BIN"
    GATEWAY_PID=$PID_gateway; GATEWAY_PORT=$PORT_gateway; KEY=$KEY_gateway
    if [ -n "${BASELINE_BIN:-}" ]; then start_gateway baseline "$BASELINE_BIN"; fi
    echo "upstream pid $UPSTREAM_PID port $UPSTREAM_PORT ($TOKENS tokens, one every $INTERVAL_MS ms);" \
         "gateway pid $GATEWAY_PID port $GATEWAY_PORT; work dir $WORK" >&2
}

stop_processes() {
    [ -n "${PID_baseline:-}" ] && kill "$PID_baseline" 2>/dev/null && wait "$PID_baseline" 2>/dev/null || true
    PID_baseline=
    [ -n "${GATEWAY_PID:-}" ] && kill "$GATEWAY_PID" 2>/dev/null && wait "$GATEWAY_PID" 2>/dev/null || true
    [ -n "${UPSTREAM_PID:-}" ] && kill "$UPSTREAM_PID" 2>/dev/null && wait "$UPSTREAM_PID" 2>/dev/null || true
    GATEWAY_PID=; UPSTREAM_PID=
    return 0
}

loadgen() {  # target(direct|gateway) label concurrency requests [extra args]
    local target=$1 label=$2 c=$3 n=$4; shift 4
    local url key pids=(--pid "gateway=$GATEWAY_PID" --pid "upstream=$UPSTREAM_PID")
    [ -n "${PID_baseline:-}" ] && pids+=(--pid "baseline=$PID_baseline")
    case $target in
        direct) url=http://127.0.0.1:$UPSTREAM_PORT/v1; key=sk-bench ;;
        baseline) url=http://127.0.0.1:$PORT_baseline/v1; key=$KEY_baseline ;;
        *) url=http://127.0.0.1:$GATEWAY_PORT/v1; key=$KEY ;;
    esac
    "$BENCH_BIN/tokenmeter-loadgen" --url "$url" --key "$key" --label "$label" -c "$c" --requests "$n" "${pids[@]}" "$@"
}
