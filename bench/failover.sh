#!/usr/bin/env bash
# Issue 8's figures (bench/failover.py): RTO of automatic failover behind HAProxy over
# DRILLS kill -9 drills (default 10) with aggressive and default settings, sessions that
# needed a new sign-in, and RPO in asynchronous mode at 200 writes/s. Builds janus in
# release mode; needs haproxy (scripts/setup-test-env installs it) and the test venv.
# Settings: DRILLS=10 SESSIONS=20 SETTINGS="aggressive default" RPO_REPS=3, FAULT=kill (or
# stop: SIGSTOP, a hung primary that only timeouts and health checks notice).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup-test-env
cargo build --release --locked --bin janus
echo "load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
JANUS_BIN="${CARGO_TARGET_DIR:-$PWD/target}/release/janus" .venv/bin/python bench/failover.py | tee bench/last-failover.txt
echo "load average at end: $(cut -d' ' -f1-3 /proc/loadavg)" | tee -a bench/last-failover.txt
