#!/usr/bin/env bash
# Runs the whole test suite. Installs what the tests need when it is missing (PostgreSQL, the S3 test
# server, nats-server, Chromium); the tests start their own PostgreSQL, S3 and NATS servers on free loopback ports.
# Extra arguments go to 'dotnet test' (for example: ./test.sh --filter "FullyQualifiedName~Batching").
set -uo pipefail
REPO_ROOT="$(cd "$(dirname "$0")" && pwd)"
cd "$REPO_ROOT"

# shellcheck source=build/prerequisites.sh
source build/prerequisites.sh
ensure_test_prerequisites || { echo "error: could not install the test prerequisites" >&2; exit 1; }

results="$REPO_ROOT/artifacts/test-results"
rm -rf "$results"
mkdir -p "$results"

dotnet test Evothesis.Collector.sln --logger trx --results-directory "$results" "$@"
status=$?

# 'dotnet test' prints no overall summary line; add one from the TRX files.
passed=0; failed=0; skipped=0
for trx in "$results"/*.trx; do
  [ -f "$trx" ] || continue
  counters="$(grep -o '<Counters [^>]*>' "$trx" | head -n 1)"
  get() { echo "$counters" | grep -o " $1=\"[0-9]*\"" | grep -o '[0-9]*' || echo 0; }
  total=$(get total); executed=$(get executed)
  passed=$((passed + $(get passed)))
  failed=$((failed + $(get failed) + $(get error) + $(get timeout) + $(get aborted)))
  skipped=$((skipped + total - executed))
done
if [ "$status" -ne 0 ] && [ "$failed" -eq 0 ]; then
  # The build failed or a test host crashed: no TRX counted the failure.
  failed=1
fi
echo "Tests: $passed passed, $failed failed, $skipped skipped"
exit "$status"
