# Shared by Benchmarks/server.sh and Benchmarks/soak.sh (sourced, not run): builds the release binaries and
# starts the three parties of the gateway benchmark as separate processes: the paced test upstream
# (tokenmeter-bench-upstream), the real `tokenmeter serve` routed to it through a YAML configuration with a
# user and key made by the CLI, and (in the caller) the load generator (tokenmeter-loadgen).
# Sets UPSTREAM_PID UPSTREAM_PORT GATEWAY_PID GATEWAY_PORT KEY WORK BIN.

BIN=.build/release
GATEWAY_BIN=${GATEWAY_BIN:-$BIN/tokenmeter}   # another build of `tokenmeter` to compare (e.g. a copy of main's)
TOKENS=${TOKENS:-32}
INTERVAL_MS=${INTERVAL_MS:-20}
UPSTREAM_THREADS=${UPSTREAM_THREADS:-1}

build_release() {
    for product in tokenmeter tokenmeter-bench-upstream tokenmeter-loadgen; do
        swift build -c release --static-swift-stdlib --product "$product" >&2
    done
}

wait_for_line() {  # file pattern: prints the first line matching pattern (waits up to 30 s)
    for _ in $(seq 300); do
        line=$(grep -m1 -E "$2" "$1" 2>/dev/null) && { echo "$line"; return 0; }
        sleep 0.1
    done
    echo "timed out waiting for '$2' in $1" >&2; cat "$1" >&2; return 1
}

start_processes() {
    WORK=$(mktemp -d /tmp/tokenmeter-bench.XXXXXX)
    trap 'stop_processes' EXIT
    "$BIN/tokenmeter-bench-upstream" --port 0 --tokens "$TOKENS" --interval-ms "$INTERVAL_MS" \
        --threads "$UPSTREAM_THREADS" >"$WORK/upstream.log" 2>&1 &
    UPSTREAM_PID=$!
    UPSTREAM_PORT=$(wait_for_line "$WORK/upstream.log" '^listening ' | awk '{print $2}')

    "$BIN/tokenmeter" users add bench --db "$WORK/ledger.sqlite" >/dev/null
    KEY=$("$BIN/tokenmeter" keys create bench --db "$WORK/ledger.sqlite" | grep -o 'tm_[A-Za-z0-9_]*' | head -1)
    cat >"$WORK/tokenmeter.yaml" <<YAML
listen: { host: 127.0.0.1, port: 0 }
database: $WORK/ledger.sqlite
upstreams:
  - name: bench
    provider: openai
    base_url: http://127.0.0.1:$UPSTREAM_PORT/v1
    api_key: sk-bench
YAML
    "$GATEWAY_BIN" serve --config "$WORK/tokenmeter.yaml" >"$WORK/gateway.log" 2>&1 &
    GATEWAY_PID=$!
    GATEWAY_PORT=$(wait_for_line "$WORK/gateway.log" 'serving on http' | sed -E 's|.*serving on http://[^:]+:([0-9]+)/v1.*|\1|')
    echo "upstream pid $UPSTREAM_PID port $UPSTREAM_PORT ($TOKENS tokens, one every $INTERVAL_MS ms);" \
         "gateway pid $GATEWAY_PID port $GATEWAY_PORT; work dir $WORK" >&2
}

stop_processes() {
    [ -n "${GATEWAY_PID:-}" ] && kill "$GATEWAY_PID" 2>/dev/null && wait "$GATEWAY_PID" 2>/dev/null
    [ -n "${UPSTREAM_PID:-}" ] && kill "$UPSTREAM_PID" 2>/dev/null && wait "$UPSTREAM_PID" 2>/dev/null
    GATEWAY_PID=; UPSTREAM_PID=
}

loadgen() {  # target(direct|gateway) label concurrency requests [extra args]
    local target=$1 label=$2 c=$3 n=$4; shift 4
    local url key
    if [ "$target" = direct ]; then url=http://127.0.0.1:$UPSTREAM_PORT/v1; key=sk-bench
    else url=http://127.0.0.1:$GATEWAY_PORT/v1; key=$KEY; fi
    "$BIN/tokenmeter-loadgen" --url "$url" --key "$key" --label "$label" -c "$c" --requests "$n" \
        --pid "gateway=$GATEWAY_PID" --pid "upstream=$UPSTREAM_PID" "$@"
}
