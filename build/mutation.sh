#!/usr/bin/env bash
# Mutation testing of the core library with Stryker.NET, one capability folder at a time.
#
#   build/mutation.sh              # every folder (Spool only when src/Evothesis.Collector/Spool exists)
#   build/mutation.sh Privacy      # one: Privacy, Redaction, Ingestion, Authorization, Batching, Sinks or Spool
#
# Reports: artifacts/mutation/<folder>/reports/mutation-report.{html,json}; a score table at the end.
# Each folder runs only the test classes that cover it and need no external server: a filter that pulls
# in PostgreSQL- or S3-backed tests makes Stryker's initial test run fail. Too slow for ./test.sh
# (about 2 s per mutant on a 2-core machine); run it when changing the core or its tests.
# MUTATION_CONCURRENCY (default 1) sets how many test runners Stryker starts in parallel.
set -uo pipefail
REPO_ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$REPO_ROOT"

# Redaction is the PII-detection engine inside Privacy/, run apart because it alone holds more mutants
# than the rest of the core's rules together.
readonly ALL_FOLDERS=(Privacy Redaction Ingestion Authorization Batching Sinks Spool)
readonly REDACTION_FILES=(JsonRedactor TextRedactor PiiPatterns PiiKind KeyNameMatcher NameClassifier IbanRegistry RedactionScratch RedactionRecorder)
readonly TESTS="Evothesis.Collector.Tests"

# The files mutated per folder (globs relative to the repository), and the tests run against them.
# Log declarations ([LoggerMessage] partial methods) are left out: they hold nothing a test should pin.
mutate_patterns() {
  case "$1" in
    Privacy)
      # Consent, IP policy, audit trail, options and the processors that apply the rules.
      echo "**/Privacy/**/*.cs"
      echo "!**/Privacy/Internal/PrivacyLog.cs"
      for file in "${REDACTION_FILES[@]}"; do echo "!**/Privacy/Internal/$file.cs"; done ;;
    Redaction)
      for file in "${REDACTION_FILES[@]}"; do echo "**/Privacy/Internal/$file.cs"; done ;;
    Ingestion)
      # The parser and the limits; the pipeline's orchestration is covered by the endpoint tests.
      echo "**/Ingestion/Internal/CollectRequestParser.cs"
      echo "**/Ingestion/Internal/RequestBodyReader.cs"
      echo "**/Ingestion/RequestLimitsOptions.cs" ;;
    Authorization)
      # Domain normalisation and the authorizers' cache rules.
      echo "**/Authorization/DomainName.cs"
      echo "**/Authorization/DomainAuthorization.cs"
      echo "**/Authorization/Internal/HttpDomainAuthorizer.cs"
      echo "**/Authorization/Internal/ClientsFileDomainAuthorizer.cs"
      echo "**/Authorization/Internal/PixelManagementUri.cs" ;;
    Batching)
      echo "**/Batching/EventBatcher.cs"
      echo "**/Batching/BatchingOptions.cs" ;;
    Sinks)
      # The sinks' pure parts; the writers themselves are tested against real servers.
      echo "**/Sinks/ObjectStorage/Internal/ObjectKeyLayout.cs"
      echo "**/Sinks/ObjectStorage/Internal/GzipNdjson.cs"
      echo "**/Sinks/SinkSet.cs"
      echo "**/Sinks/Recent/InMemoryRecentEventStore.cs" ;;
    Spool)
      # The record format and the cursors: the whole folder holds too many mutants to run in one sitting, so the
      # spool's engine (WriteAheadSpool.cs, the reader, the parked-record file) is left out; its recovery of
      # segments and consumer cursors from checkpoints is in.
      echo "**/Spool/Internal/SpoolFormat.cs"
      echo "**/Spool/Internal/SpoolEventCodec.cs"
      echo "**/Spool/Internal/WriteAheadSpool.Recovery.cs" ;;
  esac
}

test_filter() {
  local ns="FullyQualifiedName~$TESTS"
  case "$1" in
    Privacy) echo "$ns.Privacy.|$ns.Ingestion.CollectorPipelinePrivacyTests|$ns.Sinks.ObjectStorage.ObjectStorageAuditSinkTests" ;;
    Redaction) echo "$ns.Privacy." ;;
    Ingestion) echo "$ns.Ingestion.|$ns.AspNetCore." ;;
    Authorization) echo "$ns.Authorization." ;;
    Batching) echo "$ns.Batching." ;;
    Sinks) echo "$ns.Sinks.ObjectStorage.ObjectKeyLayoutTests|$ns.Sinks.SinkSetTests|$ns.Sinks.Recent.|$ns.Sinks.ObjectStorage.LocalFolderObjectStoreTests|$ns.Sinks.ObjectStorage.ObjectStorageEventSinkTests" ;;
    # SpoolProcessTests drive the sample host as a separate process, which runs the unmutated build.
    Spool) echo "$ns.Spool.SpoolFormatTests|$ns.Spool.SpoolEventCodecTests|$ns.Spool.WriteAheadSpool|$ns.Spool.SpoolOptionsValidatorTests" ;;
  esac
}

folder_exists() {
  [ "$1" != Spool ] || [ -d "$REPO_ROOT/src/Evothesis.Collector/Spool" ]
}

# Prints "score killed survived no-coverage timeout total-tested" from a Stryker JSON report.
summarize() {
  jq -r '[.files[].mutants[].status] as $s
    | ($s | map(select(. == "Killed")) | length) as $k
    | ($s | map(select(. == "Timeout")) | length) as $t
    | ($s | map(select(. == "Survived")) | length) as $v
    | ($s | map(select(. == "NoCoverage")) | length) as $n
    | (($k + $t + $v + $n)) as $d
    | "\(if $d == 0 then "n/a" else ((($k + $t) * 1000 / $d | floor) / 10 | tostring) + "%" end) \($k) \($v) \($n) \($t) \($d)"' "$1"
}

folders=("${ALL_FOLDERS[@]}")
if [ $# -gt 0 ]; then
  case " ${ALL_FOLDERS[*]} " in
    *" $1 "*) folders=("$1") ;;
    *) echo "usage: $0 [${ALL_FOLDERS[*]}]" >&2; exit 2 ;;
  esac
fi

dotnet tool restore >/dev/null || { echo "error: could not restore the local tools (.config/dotnet-tools.json)" >&2; exit 1; }

status=0
ran=()
for folder in "${folders[@]}"; do
  if ! folder_exists "$folder"; then
    echo "== $folder: src/Evothesis.Collector/$folder does not exist, skipped"
    continue
  fi
  out="$REPO_ROOT/artifacts/mutation/$folder"
  rm -rf "$out"
  mutate_args=()
  while IFS= read -r pattern; do mutate_args+=(--mutate "$pattern"); done < <(mutate_patterns "$folder")
  echo "== $folder"
  (
    cd "tests/$TESTS" &&
      dotnet tool run dotnet-stryker -- \
        --project Evothesis.Collector.csproj \
        --concurrency "${MUTATION_CONCURRENCY:-1}" \
        --test-case-filter "$(test_filter "$folder")" \
        "${mutate_args[@]}" \
        --reporter progress --reporter html --reporter json \
        --output "$out" \
        --skip-version-check
  ) || { echo "error: Stryker failed for $folder" >&2; status=1; continue; }
  ran+=("$folder")
done

echo
printf '%-14s %7s %7s %9s %11s %8s %7s\n' Folder Score Killed Survived NoCoverage Timeout Tested
for folder in "${ran[@]}"; do
  report="$REPO_ROOT/artifacts/mutation/$folder/reports/mutation-report.json"
  if [ -f "$report" ]; then
    read -r score killed survived nocov timeout total < <(summarize "$report")
    printf '%-14s %7s %7s %9s %11s %8s %7s\n' "$folder" "$score" "$killed" "$survived" "$nocov" "$timeout" "$total"
  else
    printf '%-14s %7s\n' "$folder" "no report"
  fi
done
exit "$status"
