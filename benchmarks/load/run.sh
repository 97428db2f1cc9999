#!/usr/bin/env bash
# End-to-end load run: the sample host (Release) with its embedded file sink, driven by wrk over loopback.
# Each request is a 10-event batch (~1.6 KB). Prints one markdown row per configuration.
#
#   benchmarks/load/run.sh                      # the flush-interval sweep used for the default
#   CONNECTIONS="32 256" INTERVALS="0.05" DURATION=20 benchmarks/load/run.sh
#
# Needs wrk (apt-get install -y wrk). wrk and the server share the machine's cores: compare rows of one run.
set -euo pipefail
REPO_ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
INTERVALS="${INTERVALS:-0.005 0.02 0.05 0.2 1}"
CONNECTIONS="${CONNECTIONS:-32 256}"
ACK_MODES="${ACK_MODES:-Durable}"
DURATION="${DURATION:-10}"
THREADS="${THREADS:-1}"
PORT="${PORT:-18080}"

command -v wrk >/dev/null || { echo "wrk is missing: apt-get install -y wrk" >&2; exit 1; }
dotnet build -c Release "$REPO_ROOT/samples/Evothesis.Collector.Sample" -v q -nologo >/dev/null
dll="$REPO_ROOT/samples/Evothesis.Collector.Sample/bin/Release/net10.0/Evothesis.Collector.Sample.dll"

# Production refuses the sample's demo clients file (its salts are published): the load run brings its own, with
# the client the wrk script sends for.
clients="$(mktemp --suffix=.json)"
trap 'rm -f "$clients"' EXIT
cat >"$clients" <<'JSON'
{"localhost":{"client_id":"client_test","privacy_level":"standard","ip_collection":{"enabled":true,"hash_required":false},"consent":{"required":false,"default_behavior":"opt_in"}}}
JSON

echo "| ack mode | flush interval | connections | requests/s | events/s | p50 ms | p99 ms | non-2xx | events written |"
echo "| --- | --- | --- | --- | --- | --- | --- | --- | --- |"
for mode in $ACK_MODES; do
  for interval in $INTERVALS; do
    for connections in $CONNECTIONS; do
      data="$(mktemp -d)"
      ASPNETCORE_ENVIRONMENT=Production \
      Logging__LogLevel__Default=Warning \
      Evothesis__Storage__Path="$data" \
      Evothesis__Batching__AckMode="$mode" \
      Evothesis__Batching__FlushInterval="00:00:$(printf '%09.6f' "$interval")" \
      Evothesis__Authorization__ClientsFile="$clients" \
        dotnet "$dll" --urls "http://127.0.0.1:$PORT" --contentRoot "$REPO_ROOT/samples/Evothesis.Collector.Sample" >/dev/null 2>&1 &
      server=$!
      for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$PORT/health" >/dev/null 2>&1 && break; sleep 0.1; done
      wrk -t"$THREADS" -c"$connections" -d3s -s "$REPO_ROOT/benchmarks/load/post-batch.lua" "http://127.0.0.1:$PORT/collect" >/dev/null 2>&1 || true
      result="$(wrk -t"$THREADS" -c"$connections" -d"${DURATION}s" --latency -s "$REPO_ROOT/benchmarks/load/post-batch.lua" "http://127.0.0.1:$PORT/collect" | grep '^RESULT')"
      kill -TERM "$server"; wait "$server" 2>/dev/null || true  # SIGTERM: graceful stop, the queue drains
      written=$(find "$data" -name '*.ndjson.gz' -exec zcat {} + | wc -l)
      rm -rf "$data"
      eval "$(echo "$result" | sed 's/^RESULT //')"
      printf '| %s | %s s | %s | %.0f | %.0f | %s | %s | %s | %s |\n' "$mode" "$interval" "$connections" "$rps" "$(echo "$rps * 10" | bc)" "$p50_ms" "$p99_ms" "$non2xx" "$written"
    done
  done
done
