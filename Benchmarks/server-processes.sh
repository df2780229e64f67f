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
# BENCH_POSTGRES=1 adds a gateway tagged "postgres": the same binary as "gateway", its ledger a database on a
# private PostgreSQL cluster (scripts/pg-cluster.sh) instead of a SQLite file, so the two ledgers are measured
# in one run. Sets PG_DIR PG_URL (and PID_postgres PORT_postgres KEY_postgres).
# BENCH_HISTORY (any value) adds a gateway tagged "nocache": the same binary with `prompt_count_cache_mib: 0`, for
# conversations re-sent with a long history counted without the message-count cache.
# BENCH_RESPONSES (any value) gives the gateway a second upstream entry for the same test upstream, called with
# its Responses API (`responses: native`), for the model NATIVE_RESPONSES_MODEL.

BIN=.build/release                    # tokenmeter (the root package)
BENCH_BIN=Benchmarks/.build/release   # the benchmark package's executables
GATEWAY_BIN=${GATEWAY_BIN:-$BIN/tokenmeter}   # another build of `tokenmeter` to compare (e.g. a copy of main's)
TOKENS=${TOKENS:-32}
INTERVAL_MS=${INTERVAL_MS:-20}
UPSTREAM_THREADS=${UPSTREAM_THREADS:-1}
# With BENCH_RESPONSES: the model the gateway routes to the upstream's own Responses API (any other model's
# Responses requests are translated to chat completions).
NATIVE_RESPONSES_MODEL=gpt-4o-mini-2024-01-03

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

start_gateway() {  # tag binary [ledger]: its own ledger (default: a SQLite file), user, key and config; sets PID_<tag> PORT_<tag> KEY_<tag>
    local tag=$1 bin=$2 db=${3:-$WORK/$1.sqlite} key port
    "$BIN/tokenmeter" users add bench --db "$db" ${BENCH_BUDGET_USD:+--monthly-usd "$BENCH_BUDGET_USD"} >/dev/null
    key=$("$BIN/tokenmeter" keys create bench --db "$db" | grep -o 'tm_[A-Za-z0-9_]*' | head -1)
    cat >"$WORK/$tag.yaml" <<YAML
listen: { host: 127.0.0.1, port: 0 }
database: $db
upstreams:
  - name: bench
    provider: openai
    base_url: http://127.0.0.1:$UPSTREAM_PORT/v1
    api_key: sk-bench
YAML
    if [ -n "${BENCH_RESPONSES:-}" ] && [ "$tag" != baseline ]; then
        # The same upstream once more, called with its own Responses API, for the one model routed to it.
        cat >>"$WORK/$tag.yaml" <<YAML
  - name: bench-native
    provider: openai
    base_url: http://127.0.0.1:$UPSTREAM_PORT/v1
    api_key: sk-bench
    responses: native
routes:
  - { model: $NATIVE_RESPONSES_MODEL, upstream: bench-native }
YAML
    fi
    if [ "$tag" = nocache ]; then echo "prompt_count_cache_mib: 0" >>"$WORK/$tag.yaml"; fi
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
    if [ -n "${BENCH_HISTORY:-}" ]; then start_gateway nocache "$GATEWAY_BIN"; fi
    if [ "${BENCH_POSTGRES:-0}" = 1 ]; then
        # A directory of its own outside WORK: as root the cluster runs as the postgres user, and mktemp -d
        # makes WORK closed to others.
        PG_DIR=$(mktemp -d /tmp/tokenmeter-bench-pg.XXXXXX)
        PG_URL=$(scripts/pg-cluster.sh start "$PG_DIR" | tail -n 1)
        psql -q "$PG_URL" -c 'CREATE DATABASE bench'
        start_gateway postgres "$GATEWAY_BIN" "${PG_URL%/*}/bench"
        echo "postgres ledger: ${PG_URL%/*}/bench, cluster in $PG_DIR" >&2
    fi
    echo "upstream pid $UPSTREAM_PID port $UPSTREAM_PORT ($TOKENS tokens, one every $INTERVAL_MS ms);" \
         "gateway pid $GATEWAY_PID port $GATEWAY_PORT; work dir $WORK" >&2
}

stop_processes() {
    [ -n "${PID_baseline:-}" ] && kill "$PID_baseline" 2>/dev/null && wait "$PID_baseline" 2>/dev/null || true
    [ -n "${PID_postgres:-}" ] && kill "$PID_postgres" 2>/dev/null && wait "$PID_postgres" 2>/dev/null || true
    [ -n "${PID_nocache:-}" ] && kill "$PID_nocache" 2>/dev/null && wait "$PID_nocache" 2>/dev/null || true
    PID_baseline=; PID_postgres=; PID_nocache=
    # After its gateway, which closes its ledger on the way out. The data goes (tens of MB a run); the server's
    # log stays in PG_DIR beside the gateways' logs in WORK.
    if [ -n "${PG_DIR:-}" ]; then
        scripts/pg-cluster.sh stop "$PG_DIR" || true
        rm -rf "$PG_DIR/data"
        PG_DIR=
    fi
    [ -n "${GATEWAY_PID:-}" ] && kill "$GATEWAY_PID" 2>/dev/null && wait "$GATEWAY_PID" 2>/dev/null || true
    [ -n "${UPSTREAM_PID:-}" ] && kill "$UPSTREAM_PID" 2>/dev/null && wait "$UPSTREAM_PID" 2>/dev/null || true
    GATEWAY_PID=; UPSTREAM_PID=
    return 0
}

loadgen() {  # target(direct|gateway|baseline|postgres) label concurrency requests [extra args]
    local target=$1 label=$2 c=$3 n=$4; shift 4
    local url key pids=(--pid "gateway=$GATEWAY_PID" --pid "upstream=$UPSTREAM_PID")
    [ -n "${PID_baseline:-}" ] && pids+=(--pid "baseline=$PID_baseline")
    [ -n "${PID_postgres:-}" ] && pids+=(--pid "postgres=$PID_postgres")
    [ -n "${PID_nocache:-}" ] && pids+=(--pid "nocache=$PID_nocache")
    case $target in
        direct) url=http://127.0.0.1:$UPSTREAM_PORT/v1; key=sk-bench ;;
        baseline) url=http://127.0.0.1:$PORT_baseline/v1; key=$KEY_baseline ;;
        postgres) url=http://127.0.0.1:$PORT_postgres/v1; key=$KEY_postgres ;;
        nocache) url=http://127.0.0.1:$PORT_nocache/v1; key=$KEY_nocache ;;
        *) url=http://127.0.0.1:$GATEWAY_PORT/v1; key=$KEY ;;
    esac
    "$BENCH_BIN/tokenmeter-loadgen" --url "$url" --key "$key" --label "$label" -c "$c" --requests "$n" "${pids[@]}" "$@"
}

# The PostgreSQL server's work is outside the gateway's process, where SQLite's is inside: CPU seconds so far
# of the cluster's processes (the postmaster, the backends serving the gateway's pool, the background
# workers, and children that have ended), from /proc.
database_cpu() {
    local pm; pm=$(head -n 1 "$PG_DIR/data/postmaster.pid")
    # A process may end between pgrep and cat; comm may hold spaces, so fields count from after ")".
    { cat "/proc/$pm/stat" $(pgrep -P "$pm" | sed 's|.*|/proc/&/stat|') 2>/dev/null || true; } |
        awk -v tck="$(getconf CLK_TCK)" '{ sub(/.*\) /, ""); t += $12 + $13 + $14 + $15 } END { printf "%.2f\n", t / tck }'
}
