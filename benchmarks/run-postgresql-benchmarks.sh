#!/usr/bin/env bash
# Reproduces benchmarks/README.md's PostgreSQL results: runs the BenchmarkDotNet suites against throw-away PostgreSQL
# servers (or the one in EVOTHESIS_BENCH_POSTGRES), then writes the chart and the results table from the JSON
# reports. Takes about 15 minutes on 2 cores. EVOTHESIS_BENCH_QUICK=1 turns it into a one-iteration smoke run.
set -euo pipefail
REPO_ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$REPO_ROOT"

# shellcheck source=../build/prerequisites.sh
source build/prerequisites.sh
ensure_postgres

artifacts="$REPO_ROOT/artifacts/benchmarks"
rm -rf "$artifacts"
dotnet run -c Release --project benchmarks/Evothesis.Collector.Benchmarks -- \
  --filter '*PostgreSqlPerEventInsertBenchmarks*' '*PostgreSqlSinkBenchmarks*' '*PostgreSqlInFlightBenchmarks*' '*PostgreSqlConsumerBenchmarks*' --artifacts "$artifacts" "$@"

dotnet run -c Release --project benchmarks/Evothesis.Collector.Benchmarks.Chart -- \
  "$artifacts/results" "$REPO_ROOT/benchmarks"
