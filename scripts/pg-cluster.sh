#!/usr/bin/env bash
# A private PostgreSQL cluster for the tests, in a directory of its own, reached over TCP on 127.0.0.1:
#
#   pg-cluster.sh start DIR     initdb DIR/data if there is no cluster there yet, start it, wait until it accepts
#                               connections; the last line on stdout is its URL (postgres://postgres@127.0.0.1:PORT/postgres)
#   pg-cluster.sh stop DIR      stop it (nothing to do when it is not running); DIR stays, the caller deletes it
#   pg-cluster.sh restart DIR   stop it at once (-m immediate, as a crash would) and start it on the same port
#   pg-cluster.sh url DIR       its URL
#   pg-cluster.sh bin           the PostgreSQL bin directory it uses (exit status 1 when there is none)
#
# The first start picks a free port and writes it to DIR/port; later starts of the same DIR reuse it, so a client
# that reconnects after a restart finds the server where it was. DIR also holds the server's log (DIR/log), its
# Unix socket and initdb's output (DIR/initdb.log). The cluster is for tests only: trust authentication for the
# `postgres` user, fsync off.
set -euo pipefail

readonly max_wait=20    # seconds a start may take before we call it failed
readonly port_tries=5   # a freshly picked port can be taken by someone else before the server binds it

die() { echo "pg-cluster: $*" >&2; exit 1; }

# The newest PostgreSQL on the machine. Debian's packages keep the server programs out of PATH, in
# /usr/lib/postgresql/<major>/bin; PG_BIN overrides (another installation).
find_bin() {
    if [ -n "${PG_BIN:-}" ]; then
        printf '%s\n' "$PG_BIN"
        return
    fi
    local dirs
    dirs=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V) || true
    [ -n "$dirs" ] && printf '%s\n' "$dirs" | tail -n 1
}

pg_bin() {
    local bin tool
    bin=$(find_bin) || true
    [ -n "$bin" ] || die "PostgreSQL is not installed (no /usr/lib/postgresql/*/bin); install postgresql: apt-get install postgresql"
    for tool in initdb pg_ctl postgres pg_isready; do
        [ -x "$bin/$tool" ] || die "$bin/$tool is missing; install postgresql: apt-get install postgresql"
    done
    printf '%s\n' "$bin"
}

# initdb and the server refuse to run as root: as root they run as the `postgres` user that Debian's package
# creates, in DIR (their working directory must be one that user can enter).
as_owner() {
    if [ "$(id -u)" = 0 ]; then
        (cd "$dir" && runuser -u postgres -- "$@")
    else
        (cd "$dir" && "$@")
    fi
}

# The server outlives this script, and without this it would keep every descriptor the script inherited open
# for as long as it runs: a caller waiting for one to close never sees the script end. Foundation's Process
# is such a caller (it learns that its child exited when a socket it hands down closes), and so is any
# `$(pg-cluster.sh start DIR)` whose pipe reaches the server.
close_inherited_fds() {
    [ -d "/proc/$BASHPID/fd" ] || return 0
    local fd
    for fd in "/proc/$BASHPID/fd"/*; do
        fd=${fd##*/}
        if [ "$fd" -gt 2 ] && [ "$fd" != 255 ]; then
            eval "exec $fd>&-" 2>/dev/null || true
        fi
    done
}

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])' 2>/dev/null ||
        echo $((20000 + RANDOM % 40000))
}

url() { printf 'postgres://postgres@127.0.0.1:%s/postgres\n' "$(cat "$dir/port")"; }

is_running() { as_owner "$bin/pg_ctl" -D "$dir/data" status >/dev/null 2>&1; }

init_cluster() {
    mkdir -p "$dir"
    if [ "$(id -u)" = 0 ]; then
        id postgres >/dev/null 2>&1 || die "there is no postgres user to run PostgreSQL as (root cannot); install postgresql: apt-get install postgresql"
        chown postgres: "$dir"
        runuser -u postgres -- test -w "$dir" ||
            die "the postgres user cannot write $dir (is a directory above it closed to other users?); use a directory under /tmp"
    fi
    # --no-locale and UTF8: the same collation on every machine, and no dependence on the caller's LANG
    # naming a locale that is generated here.
    if ! as_owner "$bin/initdb" -D "$dir/data" -A trust -U postgres --no-locale -E UTF8 --no-sync >"$dir/initdb.log" 2>&1; then
        cat "$dir/initdb.log" >&2
        die "initdb -D $dir/data failed (output above)"
    fi
}

# Starts the server on $1; returns 2 when the port was taken (so the caller may pick another), 1 on other failures.
start_on() {
    local port=$1 log_start status=0 new_log deadline=$((SECONDS + max_wait))
    log_start=$(($(wc -c 2>/dev/null <"$dir/log" || echo 0) + 1))
    # fsync off: nothing here must survive a machine crash, and commits are much faster. 300 connections: tests
    # run several gateways, each with a pool. The socket lives in DIR, not /var/run/postgresql, which a
    # system cluster may own.
    (
        close_inherited_fds
        as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/log" -w -t "$max_wait" \
            -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=300 -c shared_buffers=64MB" \
            start
    ) </dev/null >"$dir/pg_ctl.out" 2>&1 || status=$?
    if [ "$status" != 0 ]; then
        new_log=$(tail -c +"$log_start" "$dir/log" 2>/dev/null || true)
        case "$new_log" in *'could not bind'*) return 2 ;; esac
        cat "$dir/pg_ctl.out" >&2
        printf '%s\n' "$new_log" | tail -n 20 >&2
        echo "pg-cluster: pg_ctl start of $dir/data on port $port failed (output and server log above)" >&2
        return 1
    fi
    # pg_ctl -w waits for the server to report itself ready; a client connecting over TCP is what the tests need.
    until "$bin/pg_isready" -q -h 127.0.0.1 -p "$port" -U postgres -d postgres; do
        if [ "$SECONDS" -ge "$deadline" ]; then
            tail -n 20 "$dir/log" >&2 || true
            echo "pg-cluster: the server in $dir/data started but does not accept connections on 127.0.0.1:$port after ${max_wait}s" >&2
            return 1
        fi
        sleep 0.1
    done
}

start() {
    [ -f "$dir/data/PG_VERSION" ] || init_cluster
    if is_running; then
        [ -f "$dir/port" ] || die "a server runs in $dir/data but $dir/port is missing"
        url
        return
    fi
    if [ -f "$dir/port" ]; then
        local status=0
        start_on "$(cat "$dir/port")" || status=$?
        [ "$status" = 2 ] && die "port $(cat "$dir/port") of $dir/data is taken by another process; it cannot start there again"
        [ "$status" = 0 ] || exit 1
    else
        local try port status
        for ((try = 1; ; try++)); do
            port=$(free_port)
            status=0
            start_on "$port" || status=$?
            [ "$status" = 0 ] && break
            [ "$status" = 2 ] && [ "$try" -lt "$port_tries" ] && continue
            [ "$status" = 2 ] && die "no free port after $port_tries tries (the last: $port)"
            exit 1
        done
        echo "$port" >"$dir/port"
    fi
    url
}

stop() {
    local mode=$1
    [ -f "$dir/data/PG_VERSION" ] || return 0
    is_running || return 0
    if ! as_owner "$bin/pg_ctl" -D "$dir/data" -m "$mode" -w -t "$max_wait" stop >"$dir/pg_ctl.out" 2>&1; then
        # A fast shutdown ends with a checkpoint, which a loaded machine can drag past the wait; an immediate
        # one does not write anything.
        if [ "$mode" != immediate ] && as_owner "$bin/pg_ctl" -D "$dir/data" -m immediate -w -t "$max_wait" stop >>"$dir/pg_ctl.out" 2>&1; then
            return 0
        fi
        cat "$dir/pg_ctl.out" >&2
        die "pg_ctl stop of $dir/data failed (output above)"
    fi
}

command=${1:-}
case "$command" in
    bin)
        bin=$(pg_bin)
        printf '%s\n' "$bin"
        exit 0
        ;;
    start | stop | restart | url) ;;
    *) die "usage: pg-cluster.sh start|stop|restart|url DIR, or pg-cluster.sh bin" ;;
esac
[ $# = 2 ] || die "usage: pg-cluster.sh $command DIR"
dir=$2
case "$dir" in
    /*) ;;
    *) dir=$PWD/$dir ;;  # as_owner changes into DIR; paths given to pg_ctl must not depend on the working directory
esac
# pg_ctl hands the server's options to a shell, and a Unix socket path has at most 107 bytes.
[[ "$dir" =~ ^[A-Za-z0-9/._-]+$ ]] || die "DIR may hold only letters, digits and / . _ - (not: $dir)"
[ ${#dir} -le 80 ] || die "DIR is too long for the server's Unix socket path (${#dir} > 80 characters): $dir"

bin=$(pg_bin)
case "$command" in
    start) start ;;
    stop) stop fast ;;
    restart)
        [ -f "$dir/port" ] || die "no cluster was started in $dir"
        stop immediate
        start
        ;;
    url)
        [ -f "$dir/port" ] || die "no cluster was started in $dir"
        url
        ;;
esac
