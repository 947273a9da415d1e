#!/usr/bin/env bash
# Issue 14's takeover figure (bench/takeover.py): two secondary-region nodes on one
# PostgreSQL; DRILLS times the node pulling a replicated pool is killed with SIGKILL, and the
# time until the other node holds the puller lease and until the replica follows again is
# measured. Builds janus in release mode; starts a throw-away PostgreSQL
# (scripts/postgres-for-tests) and stops it on exit. Settings: DRILLS=10, JANUS_BIN (a prebuilt
# janus; default: build this tree's).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup-test-env
[[ -n "${JANUS_BIN:-}" ]] || cargo build --release --locked --bin janus
pg_dir=$(mktemp -d "${TMPDIR:-/tmp}/janus-takeover-pg.XXXXXX")
trap 'scripts/postgres-for-tests stop "$pg_dir" >/dev/null 2>&1 || true; rm -rf "$pg_dir"' EXIT
JANUS_TEST_PG=$(scripts/postgres-for-tests start "$pg_dir")
export JANUS_TEST_PG
echo "load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
JANUS_BIN="${JANUS_BIN:-${CARGO_TARGET_DIR:-$PWD/target}/release/janus}" .venv/bin/python bench/takeover.py | tee bench/last-takeover.txt
echo "load average at end: $(cut -d' ' -f1-3 /proc/loadavg)" | tee -a bench/last-takeover.txt
