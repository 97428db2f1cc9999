#!/usr/bin/env bash
# Where PostgreSQL's time goes when it ingests the collector's rows. Starts a throw-away server with the benchmarks'
# settings, makes 200,000 rows of the benchmarks' shape, and loads them with a server-side binary COPY (no client,
# no network) into variants of the events table: as the collector creates it, without each of its indexes, with
# json or text instead of jsonb, with two COPYs at once, and into a day partition that already holds a million rows
# (after a checkpoint, so that full-page images are written) with and without wal_compression. Prints a Markdown
# table: rows/s, CPU time of the server process(es) per row and WAL bytes per row, medians of ROUNDS rounds
# (default 3). Takes 4 to 6 minutes on 2 cores. Usage: benchmarks/postgresql-ingest-breakdown.sh [ROUNDS]
# VARIANTS=REGEX runs only the variants whose name matches (grep -E), e.g. VARIANTS='eventId|unique' for the cost of
# deduplication: the per-day unique index as the collector creates it, none, a 16-byte hash of the key instead of the
# key, and time-ordered (UUIDv7) eventIds instead of random ones, each in an empty partition and in one that already
# holds a million rows.
set -euo pipefail
REPO_ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$REPO_ROOT"
ROUNDS="${1:-3}"
VARIANTS="${VARIANTS:-.}"

# shellcheck source=../build/prerequisites.sh
source build/prerequisites.sh
ensure_postgres >/dev/null
BIN="$(postgres_bindir)"

WORK="$(mktemp -d /tmp/evothesis-breakdown-XXXXXX)"
mkdir -p "$WORK/data" "$WORK/socket"
AS=()
if [ "$(id -u)" -eq 0 ]; then
  chown -R postgres: "$WORK"
  AS=(runuser -u postgres --)
fi
PORT="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
cleanup() {
  "${AS[@]}" "$BIN/pg_ctl" -D "$WORK/data" -m fast -w stop >/dev/null 2>&1 || true
  rm -rf "$WORK"
}
trap cleanup EXIT

"${AS[@]}" "$BIN/initdb" -D "$WORK/data" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 --no-sync >/dev/null
# The benchmarks' settings (durable commits, room for WAL between checkpoints); autovacuum off so that it does not
# land in some rounds and not in others.
"${AS[@]}" "$BIN/pg_ctl" -D "$WORK/data" -l "$WORK/postgres.log" -w -o "-p $PORT -c listen_addresses=127.0.0.1 \
  -c unix_socket_directories=$WORK/socket -c synchronous_commit=on -c fsync=on -c shared_buffers=256MB \
  -c max_wal_size=4GB -c autovacuum=off" start >/dev/null

PSQL=("$BIN/psql" -h 127.0.0.1 -p "$PORT" -U postgres -d postgres -X -q -v ON_ERROR_STOP=1)
COLUMNS_SQL="id, event_id, client_id, site_id, session_id, event_type, event_time, client_timestamp, received_at, page_data, event_data, custom_data, consent, ip, user_agent"

echo "Making 200,000 rows (PostgreSQL $("${PSQL[@]}" -Atc 'SHOW server_version'), port $PORT)..." >&2
# The rows of PostgreSqlBenchmarkBase.NextBatch: UUIDv7-like ids (500 events per received_at, 10 ms apart), UUID
# eventIds and session ids, the tracking script's page_data and event_data, consent on half the events.
"${PSQL[@]}" <<'SQL'
CREATE UNLOGGED TABLE source AS
SELECT
  i AS n,
  (lpad(to_hex((extract(epoch FROM date_trunc('day', now()) + interval '1 hour') * 1000)::bigint + (i / 500) * 10), 12, '0')
    || '7' || substr(md5(i::text), 1, 3) || '8' || substr(md5(i::text), 4, 15))::uuid AS id,
  gen_random_uuid()::text AS event_id,
  -- What a tracking script generating UUIDv7 eventIds would send: the browser's clock when the event happened (up to
  -- 5 s before it is sent), with one session in ten on a clock several minutes off.
  (lpad(to_hex((extract(epoch FROM date_trunc('day', now()) + interval '1 hour') * 1000)::bigint + (i / 500) * 10
      - (random() * 5000)::bigint + CASE WHEN (i / 20) % 10 = 0 THEN ((i / 20) * 7919) % 600000 - 300000 ELSE 0 END), 12, '0')
    || '7' || substr(md5('v' || i::text), 1, 3) || '8' || substr(md5('v' || i::text), 4, 15))::uuid::text AS event_id_v7,
  CASE WHEN i % 3 = 0 THEN 'client_acme_corp' ELSE 'client_test' END AS client_id,
  'shop.acme.com' AS site_id,
  md5((i / 20)::text)::uuid::text AS session_id,
  CASE i % 4 WHEN 0 THEN 'click' WHEN 1 THEN 'scroll' ELSE 'pageview' END AS event_type,
  date_trunc('day', now()) + interval '1 hour' + (i / 500) * interval '10 ms' - interval '850 ms' AS event_time,
  '2026-11-26T11:59:58.123Z' AS client_timestamp,
  date_trunc('day', now()) + interval '1 hour' + (i / 500) * interval '10 ms' AS received_at,
  '{"url":"https://shop.acme.com/catalog/shoes?utm_source=newsletter","path":"/catalog/shoes","title":"Running shoes - Catalog","referrer":"https://www.google.com/"}'::text AS page_data,
  CASE i % 4 WHEN 0 THEN '{"element":"button","id":"add-to-cart","classes":"btn btn-primary","text":"Add to cart"}'
             WHEN 1 THEN '{"depth":50}' ELSE '{"viewport":"1440x900","language":"en-US"}' END AS event_data,
  NULL::text AS custom_data,
  CASE WHEN i % 2 = 0 THEN '"granted"' END AS consent,
  '5f2b9c1e8a7d4c3b2a1908f7e6d5c4b3a29180f7e6d5c4b3a2918f7e6d5c4b3a' AS ip,
  'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36' AS user_agent
FROM generate_series(1, 200000) i;
SQL
export_rows() { # file, payload type, where, [event_id column]
  "${PSQL[@]}" -c "COPY (SELECT id, ${4:-event_id}, client_id, site_id, session_id, event_type, event_time, client_timestamp, received_at,
    page_data::$2, event_data::$2, custom_data::$2, consent::$2, ip, user_agent FROM source WHERE $3 ORDER BY received_at, id)
    TO '$WORK/$1' (FORMAT binary)"
}
export_rows jsonb.bin jsonb true
export_rows json.bin json true # json's binary form is its text, which also loads into text columns
export_rows half0.bin jsonb "n % 2 = 0"
export_rows half1.bin jsonb "n % 2 = 1"
export_rows v7.bin jsonb true event_id_v7

# The collector's DDL (PostgreSqlSchema), with switches for the variants.
ddl() { # pk unique by_client payload_type [unique_columns]
  local pk="" by_client="" unique="" unique_columns="${5:-event_id, client_id}"
  [ "$1" = 1 ] && pk=", CONSTRAINT events_pkey PRIMARY KEY (received_at, id)"
  [ "$3" = 1 ] && by_client="CREATE INDEX events_client_id_received_at_idx ON events (client_id, received_at);"
  [ "$2" = 1 ] && unique="CREATE UNIQUE INDEX events_today_event_id_key ON events_today ($unique_columns) WHERE event_id IS NOT NULL;"
  [ "$2" = 1 ] && [ "$unique_columns" = hash ] && unique="CREATE UNIQUE INDEX events_today_event_id_key ON events_today ((md5(client_id || '/' || event_id)::uuid)) WHERE event_id IS NOT NULL;"
  cat <<SQL
DROP TABLE IF EXISTS events;
CREATE TABLE events (
  id uuid NOT NULL, event_id text, client_id text NOT NULL, site_id text NOT NULL, session_id text,
  event_type text NOT NULL, event_time timestamptz NOT NULL, client_timestamp text, received_at timestamptz NOT NULL,
  page_data $4, event_data $4, custom_data $4, consent $4, ip text, user_agent text $pk
) PARTITION BY RANGE (received_at);
$by_client
CREATE TABLE events_today PARTITION OF events
  FOR VALUES FROM (date_trunc('day', now())) TO (date_trunc('day', now()) + interval '1 day');
$unique
SQL
}

# One COPY session: prints "seconds cpu_ticks" (CPU of its server process, from /proc).
copy_session() { # file
  local out
  out="$("${PSQL[@]}" -At <<SQL
SELECT pg_backend_pid() AS pid \gset
\setenv PGPID :pid
\! awk '{print \$14 + \$15}' /proc/\$PGPID/stat
SELECT extract(epoch FROM clock_timestamp()) AS t0 \gset
COPY events ($COLUMNS_SQL) FROM '$WORK/$1' (FORMAT binary);
SELECT extract(epoch FROM clock_timestamp()) - :t0;
\! awk '{print \$14 + \$15}' /proc/\$PGPID/stat
SQL
)"
  # lines: cpu0, seconds, cpu1
  echo "$out" | awk 'NR == 1 {c0 = $1} NR == 2 {s = $1} NR == 3 {print s, $1 - c0}'
}

TICKS="$(getconf CLK_TCK)"
RESULTS="$WORK/results.txt"
: > "$RESULTS"
run() { # name setup_sql settings streams [file]
  local name="$1" setup="$2" settings="$3" streams="$4" file="${5:-jsonb.bin}" lsn0 wal t0 t1 cpu=0
  echo "$name" | grep -Eq -- "$VARIANTS" || return 0
  "${PSQL[@]}" -c "$setup" >/dev/null
  [ -n "$settings" ] && "${PSQL[@]}" -c "ALTER SYSTEM SET $settings" -c "SELECT pg_reload_conf()" >/dev/null
  "${PSQL[@]}" -c "CHECKPOINT"
  lsn0="$("${PSQL[@]}" -Atc "SELECT pg_current_wal_lsn()")"
  t0="$(date +%s.%N)"
  if [ "$streams" = 2 ]; then
    copy_session half0.bin > "$WORK/s0" & copy_session half1.bin > "$WORK/s1" & wait
    cpu="$(cat "$WORK/s0" "$WORK/s1" | awk '{c += $2} END {print c}')"
  else
    copy_session "$file" > "$WORK/s0"
    cpu="$(awk '{print $2}' "$WORK/s0")"
  fi
  t1="$(date +%s.%N)"
  wal="$("${PSQL[@]}" -Atc "SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), '$lsn0')")"
  [ -n "$settings" ] && "${PSQL[@]}" -c "ALTER SYSTEM RESET ${settings%% *}" -c "SELECT pg_reload_conf()" >/dev/null
  local rows
  rows="$("${PSQL[@]}" -Atc "SELECT count(*) FROM events")"
  awk -v n="$name" -v t0="$t0" -v t1="$t1" -v cpu="$cpu" -v wal="$wal" -v ticks="$TICKS" -v rows="$rows" -v load="$(cut -d' ' -f1 /proc/loadavg)" \
    'BEGIN { printf "%s\t%.0f\t%.2f\t%.0f\t%s\t%s\n", n, 200000 / (t1 - t0), cpu / ticks * 1e6 / 200000, wal / 200000, rows, load }' >> "$RESULTS"
  tail -1 "$RESULTS" >&2
}

# A day partition that already holds a million events (a few hours of traffic), then a checkpoint: every index page
# the COPY touches first is written whole to the WAL (full_page_writes), as in steady operation.
preload="$(ddl 1 1 1 jsonb)
INSERT INTO events ($COLUMNS_SQL) SELECT gen_random_uuid(), gen_random_uuid()::text, client_id, site_id, session_id, event_type,
  event_time - interval '30 minutes', client_timestamp, received_at - interval '30 minutes' + g * interval '1 microsecond',
  page_data::jsonb, event_data::jsonb, custom_data::jsonb, consent::jsonb, ip, user_agent FROM source, generate_series(1, 5) g;"
preload_with() { # the unique index's columns or 'hash', the preloaded rows' eventIds as an SQL expression
  echo "$(ddl 1 1 1 jsonb "$1")
INSERT INTO events ($COLUMNS_SQL) SELECT gen_random_uuid(), $2, client_id, site_id, session_id, event_type,
  event_time - interval '30 minutes', client_timestamp, received_at - interval '30 minutes' + g * interval '1 microsecond',
  page_data::jsonb, event_data::jsonb, custom_data::jsonb, consent::jsonb, ip, user_agent FROM source, generate_series(1, 5) g;"
}
# Time-ordered eventIds of the preloaded rows: 30 minutes earlier than the loaded ones, as the collector's own ids are.
V7_EARLIER="(lpad(to_hex(('x' || substr(replace(event_id_v7, '-', ''), 1, 12))::bit(48)::bigint - 1800000 + g), 12, '0') || substr(replace(event_id_v7, '-', ''), 13))::uuid::text"

for round in $(seq 1 "$ROUNDS"); do
  echo "Round $round of $ROUNDS" >&2
  run "The collector's table (3 B-tree indexes, jsonb)" "$(ddl 1 1 1 jsonb)" "" 1
  run "Without the primary key (received_at, id)" "$(ddl 0 1 1 jsonb)" "" 1
  run "Without the unique (event_id, client_id)" "$(ddl 1 0 1 jsonb)" "" 1
  run "Without (client_id, received_at)" "$(ddl 1 1 0 jsonb)" "" 1
  run "No indexes" "$(ddl 0 0 0 jsonb)" "" 1
  run "Unique index as (client_id, event_id), as before" "$(ddl 1 1 1 jsonb "client_id, event_id")" "" 1
  run "The collector's table, json instead of jsonb" "$(ddl 1 1 1 json)" "" 1 json.bin
  run "The collector's table, text instead of jsonb" "$(ddl 1 1 1 text)" "" 1 json.bin
  run "The collector's table, two COPYs at once" "$(ddl 1 1 1 jsonb)" "" 2
  run "A million rows already, after a checkpoint" "$preload" "" 1
  run "A million rows already, wal_compression = lz4" "$preload" "wal_compression = lz4" 1
  run "eventId dedup: unique (event_id, client_id), random eventIds" "$(ddl 1 1 1 jsonb)" "" 1
  run "eventId dedup: none" "$(ddl 1 0 1 jsonb)" "" 1
  run "eventId dedup: unique md5 hash of the key (uuid)" "$(ddl 1 1 1 jsonb hash)" "" 1
  run "eventId dedup: unique (event_id, client_id), UUIDv7 eventIds" "$(ddl 1 1 1 jsonb)" "" 1 v7.bin
  run "eventId dedup, a million rows already: unique, random eventIds" "$(preload_with "event_id, client_id" "gen_random_uuid()::text")" "" 1
  run "eventId dedup, a million rows already: none" "$(preload_with "event_id, client_id" "gen_random_uuid()::text" | sed '/CREATE UNIQUE INDEX/d')" "" 1
  run "eventId dedup, a million rows already: unique md5 hash" "$(preload_with hash "gen_random_uuid()::text")" "" 1
  run "eventId dedup, a million rows already: unique, UUIDv7 eventIds" "$(preload_with "event_id, client_id" "$V7_EARLIER")" "" 1 v7.bin
done

echo >&2
echo "| Variant (200,000 rows, server-side binary COPY) | rows/s | server CPU µs/row | WAL bytes/row |"
echo "|---|---:|---:|---:|"
awk -F'\t' '
  { n[$1]++; r[$1, n[$1]] = $2; c[$1, n[$1]] = $3; w[$1, n[$1]] = $4; if (!($1 in seen)) { seen[$1] = 1; order[++k] = $1 } }
  function median(a, name, cnt,   i, j, t, v) {
    for (i = 1; i <= cnt; i++) v[i] = a[name, i] + 0
    for (i = 1; i <= cnt; i++) for (j = i + 1; j <= cnt; j++) if (v[j] < v[i]) { t = v[i]; v[i] = v[j]; v[j] = t }
    return cnt % 2 ? v[(cnt + 1) / 2] : (v[cnt / 2] + v[cnt / 2 + 1]) / 2
  }
  END { for (i = 1; i <= k; i++) { m = order[i]; printf "| %s | %d | %.1f | %d |\n", m, median(r, m, n[m]), median(c, m, n[m]), median(w, m, n[m]) } }
' "$RESULTS"
echo
echo "Load average during the run: $(cut -d' ' -f1-3 /proc/loadavg) (now); per run in the log above."
