#!/usr/bin/env bash
# Janus under a memory-exhaustion attack (issue 13), one command: bash bench/limits.sh
#
# bench/limits.py starts each binary on a fresh data directory, opens 2,500 connections that
# each send a nearly complete 1 MiB body (never finished), and keeps one ordinary boto3 client
# calling ListUserPools throughout; it prints peak RSS, RSS after, and the ordinary client's
# median latency before and during, medians over RUNS=3 runs. Give BEFORE=/path/to/old/janus
# to measure an older build side by side in the same run.
#
# Knobs: JANUS_BIN (default: this tree's release build), BEFORE, RUNS.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
PY=$ROOT/.venv/bin/python
[[ -x "$PY" ]] || { say "run scripts/setup-test-env first (bench/limits.py uses .venv)"; exit 1; }
build_janus
args=()
[[ -n "${BEFORE:-}" ]] && args+=("before=$BEFORE")
args+=("this tree=$JANUS_BIN")
"$PY" "$BENCH/limits.py" "${args[@]}" | tee "$BENCH/last-limits.txt"
