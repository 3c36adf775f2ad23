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
# SCHOOLS=N (PostgreSQL): a district of N schools sharing the database, each in a schema of
# its own, and every hub serving all of them (`[[schools]]`, each school at its host name
# school-K.load.test, which the generator takes to be 127.0.0.1). Each school has the door
# units, teachers, students and --rate given, so N times --rate is offered in all; the
# figures are the district's.
#
# BROKER=nats: a three-node NATS cluster (JetStream, its MQTT listener on each node) instead
# of one Mosquitto, the door units spread over its nodes and the hubs given all three. Its
# MQTT consumers are kept in memory on one node, as docs/DISTRICT.md advises;
# NATS_CONSUMERS="" leaves NATS's defaults (on disk, on three nodes).
#
# CHAOS=1: while the load runs, one hub is killed (SIGKILL) and started again, then (with
# BROKER=nats) one broker node, then PostgreSQL is stopped and started; the counts after the
# drain say whether anything was lost or stored twice. Needs --duration 60 or more.
#
# HUB_CPUS and LOAD_CPUS (taskset lists, e.g. 0 and 1) pin the hubs, and the load generator
# with Mosquitto, to CPUs of their own, so that the generator cannot take the hubs' time when
# it offers more than they carry.
#
# Everything runs in a fresh directory under /tmp, removed at the end (kept, with the logs,
# when KEEP is set).
set -euo pipefail
hubs=${1:?usage: district-load.sh HUBS sqlite|postgres [rollcall-load arguments]}
store=${2:?usage: district-load.sh HUBS sqlite|postgres [rollcall-load arguments]}
shift 2
[ "$store" = sqlite ] && [ "$hubs" != 1 ] && { echo "SQLite serves one hub" >&2; exit 2; }
schools=${SCHOOLS:-1}
if [ "$schools" != 1 ] && [ "$store" != postgres ]; then
    echo "SCHOOLS share one PostgreSQL database" >&2; exit 2
fi
bin=$(realpath "${CARGO_TARGET_DIR:-target}/release")
work=$(mktemp -d /tmp/rollcall-district.XXXXXX)
chmod 755 "$work"
pids=()
cleanup() {
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    # What CHAOS started again, from a subshell of its own.
    pkill -f -- "$work/" 2>/dev/null || true
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
    start_postgres() {
        "${as_server[@]}" "$pg/postgres" -D "$work/pg/data" -p "$pg_port" -k "$work/pg" \
            -c listen_addresses=127.0.0.1 -c max_connections=200 \
            -c shared_preload_libraries=pg_stat_statements -c pg_stat_statements.track=all \
            >>"$work/postgres.log" 2>&1 &
        pg_pid=$!
        pids+=($!)
        wait_port "$pg_port"
        until "$pg/pg_isready" -q -h 127.0.0.1 -p "$pg_port"; do sleep 0.1; done
    }
    start_postgres
    "$pg/psql" -X -q -h 127.0.0.1 -p "$pg_port" -U rollcall -d postgres -c 'CREATE DATABASE rollcall'
    sql() { "$pg/psql" -X -q -At -h 127.0.0.1 -p "$pg_port" -U rollcall -d rollcall "$@"; }
    sql -c 'CREATE EXTENSION pg_stat_statements'
    store_config="[store]
url = \"postgres://rollcall@127.0.0.1:$pg_port/rollcall\""
fi

mqtt_port=$(free_port)
mqtt_ports=$mqtt_port
# BROKER=embedded: no Mosquitto, the hub's own broker on that port (one hub only).
broker=${BROKER:-mosquitto}
case $broker in
    mosquitto) mqtt_config="[mqtt]
mode = \"external\"
broker = \"127.0.0.1:$mqtt_port\"" ;;
    embedded)
        [ "$hubs" = 1 ] && [ "$schools" = 1 ] || { echo "the embedded broker serves one hub of one school" >&2; exit 2; }
        mqtt_config="[mqtt.embedded]
listen = \"127.0.0.1:$mqtt_port\"" ;;
    nats)
        nats_mqtt=("$mqtt_port" "$(free_port)" "$(free_port)")
        nats_routes=("$(free_port)" "$(free_port)" "$(free_port)")
        mqtt_ports=$(IFS=,; echo "${nats_mqtt[*]}")
        mqtt_config="[mqtt]
mode = \"external\"
broker = \"127.0.0.1:${nats_mqtt[0]}\"
other_nodes = [\"127.0.0.1:${nats_mqtt[1]}\", \"127.0.0.1:${nats_mqtt[2]}\"]" ;;
    *) echo "BROKER must be mosquitto, nats or embedded, not $broker" >&2; exit 2 ;;
esac
# What the broker holds for a hub that reads no more (its ingest's hold and queue are full).
# A record beyond it is not taken, and its door unit publishes it again. Each unit has at
# most 32 records in flight, and may send a copy of one whose ack is late: 64 a unit turns
# none away (hub/README.md, "An external broker"). The in-flight window is Mosquitto's
# default (20): 200 or 1,000 carried no more (docs/PERFORMANCE.md).
devices=200
previous=""
for arg in "$@"; do
    case $arg in --devices=*) devices=${arg#--devices=} ;; esac
    [ "$previous" = --devices ] && devices=$arg
    previous=$arg
done
[[ $devices =~ ^[1-9][0-9]*$ ]] || { echo "--devices must be a number of door units, not '$devices'" >&2; exit 2; }
queue=${MOSQUITTO_QUEUE:-$((devices * schools * 64))}
printf 'listener %s 127.0.0.1\nset_tcp_nodelay true\nallow_anonymous true\npersistence false\nmax_queued_messages %s\nmax_inflight_messages 20\n' \
    "$mqtt_port" "$queue" >"$work/mosquitto.conf"
if [ "$broker" = mosquitto ]; then
    $(pinned "${LOAD_CPUS:-}") /usr/sbin/mosquitto -c "$work/mosquitto.conf" >"$work/mosquitto.log" 2>&1 &
    pids+=($!)
    wait_port "$mqtt_port"
fi
# NATS node $1 (1 to 3): JetStream on its own store, routes to the other two, MQTT for all.
nats_pids=()
start_nats() {
    local n=$1 routes=""
    for r in "${nats_routes[@]}"; do routes+="nats-route://127.0.0.1:$r, "; done
    mkdir -p "$work/nats-$n"
    cat >"$work/nats-$n.conf" <<EOF
server_name: n$n
listen: 127.0.0.1:-1
jetstream { store_dir: "$work/nats-$n" }
cluster { name: rollcall, listen: "127.0.0.1:${nats_routes[$((n - 1))]}", routes: [${routes%, }] }
mqtt {
  listen: "127.0.0.1:${nats_mqtt[$((n - 1))]}"
  ${NATS_CONSUMERS-consumer_memory_storage: true, consumer_replicas: 1}
}
EOF
    /usr/sbin/nats-server -c "$work/nats-$n.conf" >>"$work/nats-$n.log" 2>&1 &
    nats_pids[$n]=$!
    pids+=($!)
}
if [ "$broker" = nats ]; then
    for n in 1 2 3; do start_nats "$n"; done
    for p in "${nats_mqtt[@]}"; do wait_port "$p"; done
    # JetStream elects its leaders before the MQTT gateway takes sessions.
    sleep 5
fi

echo -n "load admin password" >"$work/pw"
apis=()
hub_pids=()
hub_ports=()
# The schools every hub serves, as `[[schools]]` (none with one school).
schools_config=""
if [ "$schools" != 1 ]; then
    for s in $(seq "$schools"); do
        schools_config+="
[[schools]]
site = \"school-$s\"
schema = \"school_$s\"
hosts = [\"school-$s.load.test\"]"
    done
fi
# Hub $1, serving every school.
start_hub() {
    local i=$1 http_port
    http_port=$(free_port)
    hub_ports[$i]=$http_port
    cat >"$work/hub-$i.toml" <<EOF
site = "school"
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
$schools_config
EOF
    if [ "$i" = 1 ]; then
        if [ "$schools" = 1 ]; then
            "$bin/rollcall-hub" init --config "$work/hub-1.toml" --admin-user admin \
                --admin-password-file "$work/pw" >/dev/null
        else
            for s in $(seq "$schools"); do
                "$bin/rollcall-hub" init --config "$work/hub-1.toml" --school "school-$s" \
                    --admin-user admin --admin-password-file "$work/pw" >/dev/null
            done
        fi
    else
        mkdir -m 700 "$work/hub-$i"
        # The hubs of one database share its keys: sign-in tokens and the faces' key.
        cp "$work/hub-1/jwt.key" "$work/hub-1/faces.key" "$work/hub-$i/"
    fi
    serve_hub "$i"
}
# Starts (or starts again) hub $1's process.
serve_hub() {
    local i=$1
    $(pinned "${HUB_CPUS:-}") "$bin/rollcall-hub" serve --config "$work/hub-$i.toml" >>"$work/hub-$i.log" 2>&1 &
    pids+=($!)
    hub_pids[$i]=$!
    wait_port "${hub_ports[$i]}"
}
for i in $(seq "$hubs"); do start_hub "$i"; done
# Each school's API on each hub: by its host name when the hubs serve several.
api() { # school, hub
    if [ "$schools" = 1 ]; then echo "http://127.0.0.1:${hub_ports[$2]}/api/v1"
    else echo "http://school-$1.load.test:${hub_ports[$2]}/api/v1"; fi
}
echo "$hubs hub(s) on $store, broker $broker, $schools school(s), load average $(cut -d' ' -f1-3 /proc/loadavg)"
[ "$store" = postgres ] && sql -c 'SELECT pg_stat_statements_reset()' >/dev/null
sampled=()
for i in $(seq "$hubs"); do sampled+=(--hub-pid "${hub_pids[$i]}"); done
others=()
for i in $(seq 2 "$hubs"); do others+=(--other-api "$(api '{school}' "$i")"); done
site=school
[ "$schools" != 1 ] && site='school-{school}'
# CHAOS: what is killed and when, counted from the publishing's start (the generator takes a
# few seconds to set up first).
chaos() {
    local t0=$SECONDS
    at() { sleep $(( $1 - (SECONDS - t0) > 0 ? $1 - (SECONDS - t0) : 0 )); echo "chaos at +$((SECONDS - t0)) s: $2"; }
    at 10 "hub 2 killed (SIGKILL)"; kill -9 "${hub_pids[2]}"
    at 20 "hub 2 started again"; serve_hub 2
    if [ "$broker" = nats ]; then
        at 25 "broker node 2 killed (SIGKILL)"; kill -9 "${nats_pids[2]}"
        at 35 "broker node 2 started again"; start_nats 2
    fi
    if [ "$store" = postgres ]; then
        at 40 "PostgreSQL stopped (fast shutdown)"; kill -INT "$pg_pid"
        while kill -0 "$pg_pid" 2>/dev/null; do sleep 0.1; done
        at 43 "PostgreSQL started again"; start_postgres
    fi
}
if [ -n "${CHAOS:-}" ] && [ "$hubs" -lt 2 ]; then echo "CHAOS kills one of several hubs" >&2; exit 2; fi
# One generator for every school (each school's figures are its arguments; the totals N times).
$(pinned "${LOAD_CPUS:-}") "$bin/rollcall-load" --api "$(api '{school}' 1)" "${others[@]}" \
    --schools "$schools" --site "$site" --mqtt-port "$mqtt_ports" --admin-password-file "$work/pw" \
    "${sampled[@]}" "$@" >"$work/load.log" 2>&1 &
load_pid=$!
if [ -n "${CHAOS:-}" ]; then
    until grep -q 'devices connected in all' "$work/load.log" 2>/dev/null; do
        kill -0 "$load_pid" 2>/dev/null || break
        sleep 0.5
    done
    chaos &
    chaos_pid=$!
fi
wait "$load_pid" || { echo "the generator failed:" >&2; cat "$work/load.log" >&2; exit 1; }
[ -n "${chaos_pid:-}" ] && wait "$chaos_pid"
grep -v ': registered\|: .* devices connected$' "$work/load.log"
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
    if [ -n "${DETAIL:-}" ]; then
        echo "PostgreSQL statements by calls per record (DETAIL)"
        sql -F ' | ' -c "SELECT round(calls::numeric / greatest($all_records, 1), 2), round(total_exec_time::numeric, 0), regexp_replace(left(query, 100), '\s+', ' ', 'g') FROM pg_stat_statements ORDER BY calls DESC LIMIT 25"
    fi
    # What switching a pooled connection from one school's schema to another's costs.
    sql -F ' | ' -c "SELECT 'commits per record ' || round((SELECT xact_commit FROM pg_stat_database WHERE datname = 'rollcall')::numeric / greatest($all_records, 1), 2) || ' | search_path switches per record ' || round(coalesce(sum(calls), 0)::numeric / greatest($all_records, 1), 2) || ', ' || round(coalesce(sum(total_exec_time), 0)::numeric, 0) || ' ms in all' FROM pg_stat_statements WHERE query ILIKE 'SET search_path%'"
fi
