#!/usr/bin/env bash
# Installs what the test suite needs when it is missing, as on a fresh Debian machine with the .NET SDK:
# the PostgreSQL server binaries, the pinned S3 test server (s3rver, from npm), nats-server (JetStream) and Chromium.
# The tests start and stop their own server instances; this script only makes sure the programs exist.
# Sourced by test.sh; can also be run on its own.

_apt_updated=0

# The repository holding this script, wherever it is sourced from (s3rver is pinned under build/).
_PREREQUISITES_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

_as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; elif command -v sudo >/dev/null 2>&1; then sudo "$@"; else
    echo "error: '$*' needs root and sudo is not available" >&2; return 1; fi
}

_apt_install() {
  if [ "$_apt_updated" -eq 0 ]; then
    echo "Updating the Debian package lists..."
    _as_root apt-get update -qq
    _apt_updated=1
  fi
  echo "Installing $*..."
  _as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

postgres_bindir() {
  local dir
  if command -v pg_config >/dev/null 2>&1; then
    dir="$(pg_config --bindir)"
    [ -x "$dir/initdb" ] && { echo "$dir"; return 0; }
  fi
  for dir in /usr/lib/postgresql/*/bin; do
    [ -x "$dir/initdb" ] && { echo "$dir"; return 0; }
  done
  return 1
}

ensure_postgres() {
  if ! postgres_bindir >/dev/null; then
    _apt_install postgresql
  fi
  # The tests run initdb as the 'postgres' OS user when they run as root (initdb refuses root).
  if [ "$(id -u)" -eq 0 ] && ! id postgres >/dev/null 2>&1; then
    _apt_install postgresql
  fi
  echo "PostgreSQL: $(postgres_bindir)"
}

ensure_s3rver() {
  local dir="$_PREREQUISITES_ROOT/build/s3rver"
  if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
    _apt_install nodejs npm
  fi
  if [ ! -f "$dir/node_modules/s3rver/bin/s3rver.js" ]; then
    echo "Installing s3rver (pinned in build/s3rver/package-lock.json)..."
    (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
  fi
  echo "s3rver: $dir/node_modules/s3rver/bin/s3rver.js"
}

nats_server_path() {
  command -v nats-server 2>/dev/null && return 0
  local dir
  for dir in /usr/sbin /usr/bin /usr/local/bin; do
    [ -x "$dir/nats-server" ] && { echo "$dir/nats-server"; return 0; }
  done
  return 1
}

ensure_nats_server() {
  if ! nats_server_path >/dev/null; then
    _apt_install nats-server
  fi
  echo "nats-server: $(nats_server_path) ($("$(nats_server_path)" --version 2>/dev/null))"
}

ensure_chromium() {
  if ! command -v chromium >/dev/null 2>&1; then
    _apt_install chromium
  fi
  echo "Chromium: $(command -v chromium)"
}

ensure_test_prerequisites() {
  ensure_postgres
  ensure_s3rver
  ensure_nats_server
  ensure_chromium
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
  set -euo pipefail
  ensure_test_prerequisites
fi
