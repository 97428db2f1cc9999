#!/usr/bin/env bash
# End-to-end load run: the sample host (Release) with its embedded local-folder sink, and in the same invocation a bare
# Kestrel endpoint that reads the body and answers 202 (benchmarks/Evothesis.Collector.Benchmarks.BareKestrel), driven
# by wrk over loopback. Every row prints its ratio to the bare endpoint's row of the same round and body.
#
#   benchmarks/load/run.sh                                   # the default rows, one round
#   ROUNDS=3 DURATION=20 benchmarks/load/run.sh              # alternate rounds: these 2-core machines swing by 30%
#   ROWS="bare:-:1:32 sample:Durable:1:32" benchmarks/load/run.sh
#
# A row is TARGET:ACKMODE:EVENTS:CONNECTIONS, TARGET being 'bare', 'sample', 'other' (the sample host built from
# another commit, at OTHER_DLL, for before/after rows in one run), 'pg' (the sample host with its PostgreSQL sink), or
# 'nats1' / 'nats3' (the sample host publishing to a NATS JetStream stream on one server / a three-node cluster with
# three replicas, started for the row; use ack mode Committed: the 202 waits for the stream's acknowledgement),
# EVENTS 1 (a ~1 KB page view, post-single.lua) or 10 (a ~1.6 KB batch of 10 clicks, post-batch.lua; for 'pg',
# post-batch-ids.lua, whose eventIds are all different). Needs wrk (apt-get install -y wrk). wrk and the server share
# the machine's cores: compare rows of one round, never across runs.
#
# PostgreSQL rows (the issue's PostgreSQL row, one command):
#
#   ROWS="pg:Durable:10:32 pg:Durable:10:256" benchmarks/load/run.sh
#
# start a throw-away PostgreSQL server (synchronous_commit=on, fsync=on, shared_buffers=256MB, max_wal_size=4GB, as
# the BenchmarkDotNet suites; on the same disk and cores), give each row a fresh database, and after each row:
# - "stored/s": rows the sink committed per second during the measured window (the table's count before and after);
# - waits until the table holds every acknowledged event (202 × 10, warm-up included), printing how long that took
#   after the load ended ("drain s") and what is missing ("missing", which must be 0) or stored twice ("dup");
# - exports those rows and loads them with one server-side binary COPY into a fresh database with the collector's
#   schema (docs/postgresql-schema.sql and the day's partition with its unique index): "raw COPY/s", and stored/s as a
#   share of it ("of raw COPY").
set -euo pipefail
REPO_ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
ROWS="${ROWS:-bare:-:1:32 sample:Enqueued:1:32 sample:Durable:1:32 bare:-:10:256 sample:Enqueued:10:256 sample:Durable:10:256}"
ROUNDS="${ROUNDS:-1}"
DURATION="${DURATION:-10}"
# The warm-up before each measured row: long enough for tiered compilation to finish (3 s left the sample host's code
# half-compiled, with the JIT taking 13-18% of its CPU during the measured window).
WARMUP="${WARMUP:-15}"
THREADS="${THREADS:-1}"
PORT="${PORT:-18080}"
EXTRA_ENV="${EXTRA_ENV:-}"
DRAIN_DEADLINE="${DRAIN_DEADLINE:-300}"

command -v wrk >/dev/null || { echo "wrk is missing: apt-get install -y wrk" >&2; exit 1; }
[ -n "${NO_BUILD:-}" ] || dotnet build -c Release "$REPO_ROOT/samples/Evothesis.Collector.Sample" -v q -nologo >/dev/null
dotnet build -c Release "$REPO_ROOT/benchmarks/Evothesis.Collector.Benchmarks.BareKestrel" -v q -nologo >/dev/null
sample_dll="$REPO_ROOT/samples/Evothesis.Collector.Sample/bin/Release/net10.0/Evothesis.Collector.Sample.dll"
bare_dll="$REPO_ROOT/benchmarks/Evothesis.Collector.Benchmarks.BareKestrel/bin/Release/net10.0/Evothesis.Collector.Benchmarks.BareKestrel.dll"

# The demo clients file carries demo salts, which the sample refuses outside Development: the load run uses a copy
# without them (its client is a standard one, which needs no salt).
clients="$(mktemp)"
PG_WORK=""
NATS_PIDS=()
NATS_WORK=""
stop_nats() {
  if [ "${#NATS_PIDS[@]}" -gt 0 ]; then
    kill "${NATS_PIDS[@]}" 2>/dev/null || true
    wait "${NATS_PIDS[@]}" 2>/dev/null || true
  fi
  NATS_PIDS=()
  [ -n "$NATS_WORK" ] && rm -rf "$NATS_WORK"
  NATS_WORK=""
}
cleanup() {
  stop_nats
  rm -f "$clients"
  if [ -n "$PG_WORK" ]; then
    "${AS[@]}" "$PG_BIN/pg_ctl" -D "$PG_WORK/data" -m fast -w stop >/dev/null 2>&1 || true
    rm -rf "$PG_WORK"
  fi
}
trap cleanup EXIT
python3 - "$REPO_ROOT/samples/Evothesis.Collector.Sample/clients.json" "$clients" <<'PY'
import json, sys
clients = json.load(open(sys.argv[1]))
json.dump({d: c for d, c in clients.items() if not c.get("ip_collection", {}).get("salt")}, open(sys.argv[2], "w"))
PY

# The PostgreSQL server of the 'pg' rows, started once for the invocation.
AS=()
PSQL=()
start_postgres() {
  # shellcheck source=../../build/prerequisites.sh
  source "$REPO_ROOT/build/prerequisites.sh"
  ensure_postgres >/dev/null
  PG_BIN="$(postgres_bindir)"
  PG_WORK="$(mktemp -d /tmp/evothesis-load-pg-XXXXXX)"
  mkdir -p "$PG_WORK/data" "$PG_WORK/socket"
  if [ "$(id -u)" -eq 0 ]; then
    chown -R postgres: "$PG_WORK"
    AS=(runuser -u postgres --)
  fi
  PG_PORT="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
  "${AS[@]}" "$PG_BIN/initdb" -D "$PG_WORK/data" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 --no-sync >/dev/null
  "${AS[@]}" "$PG_BIN/pg_ctl" -D "$PG_WORK/data" -l "$PG_WORK/postgres.log" -w -o "-p $PG_PORT -c listen_addresses=127.0.0.1 \
    -c unix_socket_directories=$PG_WORK/socket -c synchronous_commit=on -c fsync=on -c shared_buffers=256MB \
    -c max_wal_size=4GB" start >/dev/null
  PSQL=("$PG_BIN/psql" -h 127.0.0.1 -p "$PG_PORT" -U postgres -X -q -v ON_ERROR_STOP=1)
}
pg_count() { "${PSQL[@]}" -d "$1" -Atc "SELECT count(*) FROM events" 2>/dev/null || echo 0; }
COLUMNS_SQL="id, event_id, client_id, site_id, session_id, event_type, event_time, client_timestamp, received_at, page_data, event_data, custom_data, consent, ip, user_agent"

# Loads the rows of database $1 into a fresh database with the collector's schema with one server-side binary COPY;
# prints rows/s.
raw_copy_rate() {
  local source="$1" target="${1}_raw" rows file="$PG_WORK/rows.bin"
  "${PSQL[@]}" -d "$source" -c "COPY (SELECT $COLUMNS_SQL FROM events ORDER BY received_at, id) TO '$file' (FORMAT binary)"
  "${PSQL[@]}" -d postgres -c "CREATE DATABASE $target"
  "${PSQL[@]}" -d "$target" -f "$REPO_ROOT/docs/postgresql-schema.sql" >/dev/null
  # The days the rows span, each a partition with its unique index, as the collector creates them.
  "${PSQL[@]}" -d "$source" -Atc "SELECT DISTINCT to_char(d, 'YYYYMMDD YYYY-MM-DD ') || to_char(d + 1, 'YYYY-MM-DD')
    FROM (SELECT (received_at AT TIME ZONE 'UTC')::date AS d FROM events) days" |
  while read -r day date next; do
    "${PSQL[@]}" -d "$target" -c "CREATE TABLE events_p$day PARTITION OF events FOR VALUES FROM ('$date 00:00:00+00') TO ('$next 00:00:00+00');
      CREATE UNIQUE INDEX events_p${day}_event_id_key ON events_p$day (event_id, client_id) WHERE event_id IS NOT NULL;" >/dev/null
  done
  "${PSQL[@]}" -d "$target" -c "CHECKPOINT" >/dev/null
  rows="$(pg_count "$source")"
  "${PSQL[@]}" -d "$target" -At <<SQL | awk -v rows="$rows" '{ printf "%.0f\n", rows / $1 }'
SELECT extract(epoch FROM clock_timestamp()) AS t0 \gset
COPY events ($COLUMNS_SQL) FROM '$file' (FORMAT binary);
SELECT extract(epoch FROM clock_timestamp()) - :t0;
SQL
  rm -f "$file"
}
case " $ROWS " in *" pg:"*) start_postgres ;; esac

# A fresh NATS JetStream for a 'nats1' row (one server) or a 'nats3' row (a three-node cluster, the stream replicated
# three times), on free loopback ports, in a folder of its own on the same disk; sets NATS_URL.
free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
start_nats() {
  local nodes="$1" bin i ports=() cluster=() routes=""
  # shellcheck source=../../build/prerequisites.sh
  source "$REPO_ROOT/build/prerequisites.sh"
  ensure_nats_server >/dev/null
  bin="$(nats_server_path)"
  NATS_WORK="$(mktemp -d /tmp/evothesis-load-nats-XXXXXX)"
  for i in $(seq 1 "$nodes"); do ports+=("$(free_port)"); cluster+=("$(free_port)"); done
  for i in $(seq 0 $((nodes - 1))); do routes="${routes:+$routes,}nats://127.0.0.1:${cluster[$i]}"; done
  for i in $(seq 0 $((nodes - 1))); do
    local args=(-a 127.0.0.1 -p "${ports[$i]}" -n "n$i" -js -sd "$NATS_WORK/n$i")
    if [ "$i" -eq 0 ]; then NATS_MONITOR="$(free_port)"; args+=(-m "$NATS_MONITOR"); fi
    [ "$nodes" -gt 1 ] && args+=(--cluster_name c1 --cluster "nats://127.0.0.1:${cluster[$i]}" --routes "$routes")
    "$bin" "${args[@]}" >"$NATS_WORK/n$i.log" 2>&1 &
    NATS_PIDS+=($!)
  done
  NATS_URL=""
  for i in $(seq 0 $((nodes - 1))); do
    for _ in $(seq 1 100); do (echo >"/dev/tcp/127.0.0.1/${ports[$i]}") 2>/dev/null && break; sleep 0.1; done
    NATS_URL="${NATS_URL:+$NATS_URL,}nats://127.0.0.1:${ports[$i]}"
  done
  # The cluster elects its JetStream leader within about a second.
  [ "$nodes" -gt 1 ] && sleep 2
  return 0
}

echo "| round | target | ack mode | events/request | connections | requests/s | of bare | events/s | p50 ms | p99 ms | non-2xx | RSS MB | events written | spool | stored/s | raw COPY/s | of raw COPY | drain s | missing | dup |"
echo "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"
for round in $(seq 1 "$ROUNDS"); do
  declare -A bare_rps=()
  for row in $ROWS; do
    IFS=: read -r target mode events connections <<<"$row"
    script="$REPO_ROOT/benchmarks/load/post-single.lua"
    [ "$events" = "10" ] && script="$REPO_ROOT/benchmarks/load/post-batch.lua"
    [ "$events" = "10" ] && [ "$target" = "pg" ] && script="$REPO_ROOT/benchmarks/load/post-batch-ids.lua"
    data="$(mktemp -d)"
    log="$data/server.log"
    pg_env=()
    stored_rate="-"; raw_rate="-"; of_raw="-"; drain="-"; missing="-"; dup="-"
    case "$target" in
      nats1) start_nats 1; pg_env=("Evothesis__Nats__Url=$NATS_URL" "Evothesis__Nats__Replicas=1") ;;
      nats3) start_nats 3; pg_env=("Evothesis__Nats__Url=$NATS_URL" "Evothesis__Nats__Replicas=3") ;;
    esac
    if [ "$target" = "pg" ]; then
      database="load_${round}_$(echo "$row" | tr 'A-Z' 'a-z' | tr -c 'a-z0-9\n' '_')"
      "${PSQL[@]}" -d postgres -c "CREATE DATABASE $database"
      pg_env=("ConnectionStrings__Evothesis=Host=127.0.0.1;Port=$PG_PORT;Username=postgres;Database=$database")
    fi
    if [ "$target" = "bare" ]; then
      dotnet "$bare_dll" --urls "http://127.0.0.1:$PORT" >"$log" 2>&1 &
    else
      dll="$sample_dll"
      [ "$target" = "other" ] && dll="${OTHER_DLL:?OTHER_DLL names the other build of the sample host}"
      env "${pg_env[@]}" ASPNETCORE_ENVIRONMENT=Production \
        Logging__LogLevel__Default=Warning \
        Logging__LogLevel__Evothesis.Collector.Spool=Information \
        Evothesis__Storage__Path="$data/storage" \
        Evothesis__Batching__AckMode="$mode" \
        Evothesis__Authorization__ClientsFile="$clients" \
        $EXTRA_ENV \
        dotnet "$dll" --urls "http://127.0.0.1:$PORT" --contentRoot "$REPO_ROOT/samples/Evothesis.Collector.Sample" >"$log" 2>&1 &
    fi
    server=$!
    for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$PORT/health" >/dev/null 2>&1 && break; sleep 0.1; done
    warm="$(wrk -t"$THREADS" -c"$connections" -d"${WARMUP}s" -s "$script" "http://127.0.0.1:$PORT/collect" 2>/dev/null | grep '^RESULT' || true)"
    rss_start="$(awk '/^VmRSS/ { printf "%.0f", $2 / 1024 }' "/proc/$server/status" 2>/dev/null || echo -)"
    [ "$target" = "pg" ] && count0="$(pg_count "$database")"
    result="$(wrk -t"$THREADS" -c"$connections" -d"${DURATION}s" --latency -s "$script" "http://127.0.0.1:$PORT/collect" | grep '^RESULT')"
    # Resident memory after the warm-up and at the end of the measured window (MB): flat once warm.
    rss="$rss_start → $(awk '/^VmRSS/ { printf "%.0f", $2 / 1024 }' "/proc/$server/status" 2>/dev/null || echo -)"
    if [ "$target" = "pg" ]; then
      count1="$(pg_count "$database")"
      eval "$(echo "$warm" | sed 's/^RESULT //; s/\([a-z0-9_]*\)=/warm_\1=/g')"
      eval "$(echo "$result" | sed 's/^RESULT //; s/\([a-z0-9_]*\)=/run_\1=/g')"
      acknowledged=$(( (warm_requests - warm_non2xx + run_requests - run_non2xx) * events ))
      stored_rate="$(echo "($count1 - $count0) / $run_duration_s" | bc)"
      # The host keeps delivering what it acknowledged; wait for the table to hold all of it.
      drain_start="$(date +%s.%N)"
      while [ "$(pg_count "$database")" -lt "$acknowledged" ] && \
            [ "$(echo "$(date +%s.%N) - $drain_start < $DRAIN_DEADLINE" | bc)" = 1 ]; do sleep 0.2; done
      drain="$(echo "$(date +%s.%N) - $drain_start" | bc | xargs printf '%.1f')"
    fi
    kill -TERM "$server"; wait "$server" 2>/dev/null || true  # SIGTERM: graceful stop
    nats_written="-"
    case "$target" in
      nats1|nats3)
        # The events the stream holds (one node's count; every node holds all of them at R=3).
        nats_written="$(curl -s "http://127.0.0.1:$NATS_MONITOR/jsz" | python3 -c 'import json, sys; print(json.load(sys.stdin).get("messages", "-"))' 2>/dev/null || echo -)"
        stop_nats ;;
    esac
    if [ "$target" = "pg" ]; then
      in_table="$(pg_count "$database")"
      # Rows sharing an eventId (the unique index should make it 0). The privacy rules remove an eventId they find
      # personal data in, so a few rows may have none: they are not duplicates.
      dup="$("${PSQL[@]}" -d "$database" -Atc "SELECT count(event_id) - count(DISTINCT event_id) FROM events")"
      missing=$(( acknowledged > in_table ? acknowledged - in_table : 0 ))
      raw_rate="$(raw_copy_rate "$database")"
      of_raw="$(echo "scale=0; 100 * $stored_rate / $raw_rate" | bc)%"
    fi
    written="-"
    spool="-"
    if [ "$target" != "bare" ]; then
      written=$(find "$data/storage" -name '*.ndjson.gz' -not -path '*/spool/*' -exec zcat {} + 2>/dev/null | wc -l)
      [ "$target" = "pg" ] && written="$in_table"
      case "$target" in nats1|nats3) written="$nats_written" ;; esac
      spool="$(grep -o '[0-9.]* records per fsync, fsync [0-9.]* ms' "$log" | tail -n 1 || true)"
      spool="${spool:--}"
    fi
    rm -rf "$data"
    eval "$(echo "$result" | sed 's/^RESULT //')"
    if [ "$target" = "bare" ]; then
      bare_rps[$events]="$rps"
      ratio="100%"
    elif [ -n "${bare_rps[$events]:-}" ]; then
      ratio="$(echo "scale=0; 100 * $rps / ${bare_rps[$events]}" | bc)%"
    else
      ratio="-"
    fi
    printf '| %s | %s | %s | %s | %s | %.0f | %s | %.0f | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n' \
      "$round" "$target" "$mode" "$events" "$connections" "$rps" "$ratio" "$(echo "$rps * $events" | bc)" "$p50_ms" "$p99_ms" "$non2xx" "$rss" "$written" "$spool" \
      "$stored_rate" "$raw_rate" "$of_raw" "$drain" "$missing" "$dup"
  done
  unset bare_rps
done
