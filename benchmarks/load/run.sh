#!/usr/bin/env bash
# End-to-end load run: the sample host (Release) with its embedded local-folder sink, and in the same invocation a bare
# Kestrel endpoint that reads the body and answers 202 (benchmarks/Evothesis.Collector.Benchmarks.BareKestrel), driven
# by wrk over loopback. Every row prints its ratio to the bare endpoint's row of the same round and body.
#
#   benchmarks/load/run.sh                                   # the default rows, one round
#   ROUNDS=3 DURATION=20 benchmarks/load/run.sh              # alternate rounds: these 2-core machines swing by 30%
#   ROWS="bare:-:1:32 sample:Durable:1:32" benchmarks/load/run.sh
#
# A row is TARGET:ACKMODE:EVENTS:CONNECTIONS, TARGET being 'bare', 'sample' or 'other' (the sample host built from
# another commit, at OTHER_DLL, for before/after rows in one run), EVENTS 1 (a ~1 KB page view,
# post-single.lua) or 10 (a ~1.6 KB batch of 10 clicks, post-batch.lua). Needs wrk (apt-get install -y wrk). wrk and the
# server share the machine's cores: compare rows of one round, never across runs.
set -euo pipefail
REPO_ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
ROWS="${ROWS:-bare:-:1:32 sample:Enqueued:1:32 sample:Durable:1:32 bare:-:10:256 sample:Enqueued:10:256 sample:Durable:10:256}"
ROUNDS="${ROUNDS:-1}"
DURATION="${DURATION:-10}"
THREADS="${THREADS:-1}"
PORT="${PORT:-18080}"
EXTRA_ENV="${EXTRA_ENV:-}"

command -v wrk >/dev/null || { echo "wrk is missing: apt-get install -y wrk" >&2; exit 1; }
[ -n "${NO_BUILD:-}" ] || dotnet build -c Release "$REPO_ROOT/samples/Evothesis.Collector.Sample" -v q -nologo >/dev/null
dotnet build -c Release "$REPO_ROOT/benchmarks/Evothesis.Collector.Benchmarks.BareKestrel" -v q -nologo >/dev/null
sample_dll="$REPO_ROOT/samples/Evothesis.Collector.Sample/bin/Release/net10.0/Evothesis.Collector.Sample.dll"
bare_dll="$REPO_ROOT/benchmarks/Evothesis.Collector.Benchmarks.BareKestrel/bin/Release/net10.0/Evothesis.Collector.Benchmarks.BareKestrel.dll"

# The demo clients file carries demo salts, which the sample refuses outside Development: the load run uses a copy
# without them (its client is a standard one, which needs no salt).
clients="$(mktemp)"
trap 'rm -f "$clients"' EXIT
python3 - "$REPO_ROOT/samples/Evothesis.Collector.Sample/clients.json" "$clients" <<'PY'
import json, sys
clients = json.load(open(sys.argv[1]))
json.dump({d: c for d, c in clients.items() if not c.get("ip_collection", {}).get("salt")}, open(sys.argv[2], "w"))
PY

echo "| round | target | ack mode | events/request | connections | requests/s | of bare | events/s | p50 ms | p99 ms | non-2xx | events written | spool |"
echo "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"
for round in $(seq 1 "$ROUNDS"); do
  declare -A bare_rps=()
  for row in $ROWS; do
    IFS=: read -r target mode events connections <<<"$row"
    script="$REPO_ROOT/benchmarks/load/post-single.lua"
    [ "$events" = "10" ] && script="$REPO_ROOT/benchmarks/load/post-batch.lua"
    data="$(mktemp -d)"
    log="$data/server.log"
    if [ "$target" = "bare" ]; then
      dotnet "$bare_dll" --urls "http://127.0.0.1:$PORT" >"$log" 2>&1 &
    else
      dll="$sample_dll"
      [ "$target" = "other" ] && dll="${OTHER_DLL:?OTHER_DLL names the other build of the sample host}"
      env ASPNETCORE_ENVIRONMENT=Production \
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
    wrk -t"$THREADS" -c"$connections" -d3s -s "$script" "http://127.0.0.1:$PORT/collect" >/dev/null 2>&1 || true
    result="$(wrk -t"$THREADS" -c"$connections" -d"${DURATION}s" --latency -s "$script" "http://127.0.0.1:$PORT/collect" | grep '^RESULT')"
    kill -TERM "$server"; wait "$server" 2>/dev/null || true  # SIGTERM: graceful stop
    written="-"
    spool="-"
    if [ "$target" != "bare" ]; then
      written=$(find "$data/storage" -name '*.ndjson.gz' -not -path '*/spool/*' -exec zcat {} + 2>/dev/null | wc -l)
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
    printf '| %s | %s | %s | %s | %s | %.0f | %s | %.0f | %s | %s | %s | %s | %s |\n' \
      "$round" "$target" "$mode" "$events" "$connections" "$rps" "$ratio" "$(echo "$rps * $events" | bc)" "$p50_ms" "$p99_ms" "$non2xx" "$written" "$spool"
  done
  unset bare_rps
done
