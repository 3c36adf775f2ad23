#!/usr/bin/env bash
# The hub load benchmark (rollcall-load) against HUBS hubs sharing one store and one broker:
# a throwaway PostgreSQL cluster (its server as nobody when run as root; fsync on, as in
# production) or, with `sqlite`, one hub on SQLite; a plain Mosquitto on loopback that
# accepts any login, the hubs in mode = "external" (or, with BROKER=embedded, one hub's own
# broker, each door unit logged in with its secret). Figures in docs/PERFORMANCE.md.
#
#   cargo build --release -p rollcall-hub -p rollcall-e2e --bin rollcall-hub --bin rollcall-load
#   scripts/district-load.sh 3 postgres --devices 200 --rate 3000 --duration 30 --teachers 6
#
# After the load it counts the records in the database (each exactly once, whatever the door
# units resent) and the acks the hubs could not queue (logged `cannot queue a publish`, or by
# the embedded broker `message dropped`); on
# PostgreSQL it also prints where the write path spends its statements and time
# (pg_stat_statements): round trips per record, commits, the writers' lock.
#
# SCHOOLS=N (PostgreSQL, one hub per school): N schools share the database, each in a schema
# of its own (`[store] schema`) with its own hub, door units, teachers and generator, all at
# once; each generator gets the arguments given, so N times --rate is offered in all. The
# figures are each school's, then their sum.
#
# HUB_CPUS and LOAD_CPUS (taskset lists, e.g. 0 and 1) pin the hubs and the load generator
# to CPUs of their own, so that the generator cannot take the hubs' time when it offers more
# than they carry.
#
# Everything runs in a fresh directory under /tmp, removed at the end (kept, with the logs,
# when KEEP is set).
set -euo pipefail
hubs=${1:?usage: district-load.sh HUBS sqlite|postgres [rollcall-load arguments]}
store=${2:?usage: district-load.sh HUBS sqlite|postgres [rollcall-load arguments]}
shift 2
[ "$store" = sqlite ] && [ "$hubs" != 1 ] && { echo "SQLite serves one hub" >&2; exit 2; }
schools=${SCHOOLS:-1}
if [ "$schools" != 1 ] && { [ "$store" != postgres ] || [ "$hubs" != 1 ]; }; then
    echo "SCHOOLS shares one PostgreSQL database between schools of one hub each" >&2; exit 2
fi
bin=$(realpath "${CARGO_TARGET_DIR:-target}/release")
work=$(mktemp -d /tmp/rollcall-district.XXXXXX)
chmod 755 "$work"
pids=()
cleanup() {
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    wait 2>/dev/null || true
    if [ -n "${KEEP:-}" ]; then echo "kept $work" >&2; else rm -rf "$work"; fi
}
trap cleanup EXIT
# `taskset -c LIST` when LIST is set, nothing otherwise.
pinned() { [ -n "$1" ] && echo taskset -c "$1"; return 0; }
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
wait_port() { for _ in $(seq 300); do (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return; sleep 0.1; done; echo "nothing on port $1" >&2; exit 1; }

store_config=""
if [ "$store" = postgres ]; then
    pg=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
    as_server=()
    mkdir "$work/pg"
    if [ "$(id -u)" = 0 ]; then
        chown nobody "$work/pg"
        as_server=(setpriv --reuid 65534 --regid 65534 --clear-groups)
    fi
    pg_port=$(free_port)
    "${as_server[@]}" "$pg/initdb" -D "$work/pg/data" -U rollcall --auth=trust --locale=C -E UTF8 >/dev/null
    "${as_server[@]}" "$pg/postgres" -D "$work/pg/data" -p "$pg_port" -k "$work/pg" \
        -c listen_addresses=127.0.0.1 -c max_connections=200 \
        -c shared_preload_libraries=pg_stat_statements -c pg_stat_statements.track=all \
        >"$work/postgres.log" 2>&1 &
    pids+=($!)
    wait_port "$pg_port"
    until "$pg/pg_isready" -q -h 127.0.0.1 -p "$pg_port"; do sleep 0.1; done
    "$pg/psql" -X -q -h 127.0.0.1 -p "$pg_port" -U rollcall -d postgres -c 'CREATE DATABASE rollcall'
    sql() { "$pg/psql" -X -q -At -h 127.0.0.1 -p "$pg_port" -U rollcall -d rollcall "$@"; }
    sql -c 'CREATE EXTENSION pg_stat_statements'
    store_config="[store]
url = \"postgres://rollcall@127.0.0.1:$pg_port/rollcall\""
fi

mqtt_port=$(free_port)
# BROKER=embedded: no Mosquitto, the hub's own broker on that port (one hub only).
broker=${BROKER:-mosquitto}
case $broker in
    mosquitto) mqtt_config="[mqtt]
mode = \"external\"
broker = \"127.0.0.1:$mqtt_port\"" ;;
    embedded)
        [ "$hubs" = 1 ] || { echo "the embedded broker serves one hub" >&2; exit 2; }
        mqtt_config="[mqtt.embedded]
listen = \"127.0.0.1:$mqtt_port\"" ;;
    *) echo "BROKER must be mosquitto or embedded, not $broker" >&2; exit 2 ;;
esac
# What the broker holds for a hub that reads no more (its intake waits for the ingest): with
# the hub's own bounded channel, the limit on how long a record waits past saturation. A
# record beyond it is not taken, and its door unit publishes it again. The in-flight window is
# Mosquitto's default too (20): a larger one only lengthens the wait (docs/PERFORMANCE.md).
queue=${MOSQUITTO_QUEUE:-1000}
printf 'listener %s 127.0.0.1\nset_tcp_nodelay true\nallow_anonymous true\npersistence false\nmax_queued_messages %s\nmax_inflight_messages 20\n' \
    "$mqtt_port" "$queue" >"$work/mosquitto.conf"
if [ "$broker" = mosquitto ]; then
    /usr/sbin/mosquitto -c "$work/mosquitto.conf" >"$work/mosquitto.log" 2>&1 &
    pids+=($!)
    wait_port "$mqtt_port"
fi

echo -n "load admin password" >"$work/pw"
apis=()
hub_pids=()
# Hub $1 of school $2 (site `school` alone, `school-N` with SCHOOLS).
start_hub() {
    local i=$1 school=$2 site=school schema_line="" http_port
    if [ "$schools" != 1 ]; then site="school-$school"; schema_line="schema = \"school_$school\""; fi
    http_port=$(free_port)
    cat >"$work/hub-$i.toml" <<EOF
site = "$site"
data_dir = "$work/hub-$i"
[http]
listen = "127.0.0.1:$http_port"
$mqtt_config
[faces]
enabled = false
# The load is Unknown records (the largest kind): kept, as a school that reviews them would.
[privacy]
unknown_faces = "keep"
$store_config
$schema_line
EOF
    if [ "$i" = 1 ] || [ "$schools" != 1 ]; then
        "$bin/rollcall-hub" init --config "$work/hub-$i.toml" --admin-user admin \
            --admin-password-file "$work/pw" >/dev/null
    else
        mkdir -m 700 "$work/hub-$i"
        # The hubs of one database share its keys: sign-in tokens and the faces' key.
        cp "$work/hub-1/jwt.key" "$work/hub-1/faces.key" "$work/hub-$i/"
    fi
    $(pinned "${HUB_CPUS:-}") "$bin/rollcall-hub" serve --config "$work/hub-$i.toml" >"$work/hub-$i.log" 2>&1 &
    pids+=($!)
    hub_pids+=(--hub-pid $!)
    wait_port "$http_port"
    apis+=("http://127.0.0.1:$http_port/api/v1")
}
if [ "$schools" = 1 ]; then
    for i in $(seq "$hubs"); do start_hub "$i" 1; done
else
    for s in $(seq "$schools"); do start_hub "$s" "$s"; done
fi
echo "$hubs hub(s) on $store, broker $broker, $schools school(s), load average $(cut -d' ' -f1-3 /proc/loadavg)"
[ "$store" = postgres ] && sql -c 'SELECT pg_stat_statements_reset()' >/dev/null
if [ "$schools" = 1 ]; then
    others=()
    for api in "${apis[@]:1}"; do others+=(--other-api "$api"); done
    $(pinned "${LOAD_CPUS:-}") "$bin/rollcall-load" --api "${apis[0]}" "${others[@]}" --mqtt-port "$mqtt_port" \
        --admin-password-file "$work/pw" "${hub_pids[@]}" "$@"
else
    loads=()
    for s in $(seq "$schools"); do
        $(pinned "${LOAD_CPUS:-}") "$bin/rollcall-load" --api "${apis[$((s - 1))]}" --mqtt-port "$mqtt_port" \
            --site "school-$s" --admin-password-file "$work/pw" "${hub_pids[@]:$((2 * s - 2)):2}" "$@" \
            >"$work/load-$s.log" 2>&1 &
        loads+=($!)
    done
    for s in $(seq "$schools"); do
        wait "${loads[$((s - 1))]}" || { echo "school $s's generator failed:" >&2; cat "$work/load-$s.log" >&2; exit 1; }
        sed "s/^/school $s: /" "$work/load-$s.log"
    done
    cat "$work"/load-*.log | awk '/^sustained/ { sum += $2 } END { printf "all schools: %.0f acked records/s after warm-up\n", sum }'
fi
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
dropped=$(cat "$work"/hub-*.log | grep -c 'cannot queue a publish\|message dropped' || true)
# The records table of each school, as SQL.
if [ "$schools" = 1 ]; then
    all_records="(SELECT count(*) FROM records)"
else
    all_records="(SELECT 0$(for s in $(seq "$schools"); do printf ' + (SELECT count(*) FROM school_%s.records)' "$s"; done))"
fi
if [ "$store" = postgres ]; then
    records=$(sql -c "SELECT $all_records")
else
    records=$(python3 -c 'import sqlite3, sys; print(sqlite3.connect(sys.argv[1]).execute("SELECT count(*) FROM records").fetchone()[0])' "$work/hub-1/hub.sqlite3")
fi
echo "in the database: $records records | acks the hubs could not queue: $dropped"
if [ "$store" = postgres ]; then
    echo "PostgreSQL during the load (pg_stat_statements): calls per stored record, ms per call, share of statement time"
    sql -F ' | ' -c "WITH s AS (SELECT calls, total_exec_time, regexp_replace(left(query, 90), '\\s+', ' ', 'g') AS q FROM pg_stat_statements WHERE dbid = (SELECT oid FROM pg_database WHERE datname = 'rollcall')), t AS (SELECT sum(total_exec_time) AS all_ms, sum(calls) AS all_calls FROM s), n AS (SELECT greatest($all_records, 1) AS records)
        SELECT round(calls::numeric / n.records, 2), round((total_exec_time / greatest(calls, 1))::numeric, 3), round((100 * total_exec_time / greatest(t.all_ms, 1))::numeric, 1) || ' %', q
        FROM s, t, n ORDER BY total_exec_time DESC LIMIT 12"
    sql -F ' | ' -c "SELECT 'statements per record ' || round(sum(calls)::numeric / greatest($all_records, 1), 1) FROM pg_stat_statements WHERE dbid = (SELECT oid FROM pg_database WHERE datname = 'rollcall')"
fi
