#!/usr/bin/env bash
# Janus user import benchmark (issue 19), one command: bash bench/import.sh   (ROWS=1000000: ~several minutes)
#
# One release `janus serve` on its embedded store. bench/import.py writes a CSV of ROWS users
# with bcrypt hashes (the pool's GetCSVHeader columns), uploads it to the job's pre-signed URL
# (one streamed PUT), starts the job and follows DescribeUserImportJob every second, reading the
# server's RSS from /proc. Figures: upload MB/s, rows/s over the whole job and per second, RSS
# before and at its peak (VmHWM).
#
# Knobs (environment): JANUS_BIN (a prebuilt janus; default: build this tree's, release),
# JANUS_LABEL, ROWS=1000000, PORT=19390, BENCH_TMP. Everything it starts it stops, and it deletes
# its data dir and CSV on exit. The summary is printed and written to bench/last-import.txt.
set -euo pipefail

ROWS=${ROWS:-1000000}
PORT=${PORT:-19390}

source "$(dirname "$0")/lib.sh"
PY=$ROOT/.venv/bin/python
[[ -x "$PY" ]] || { say "run scripts/setup-test-env first (bench/import.py uses .venv)"; exit 1; }

build_janus

JANUS_LOG=warn start_one_janus "$PORT"

{
  echo "Janus: $JANUS_LABEL"
  machine_line
  "$PY" "$BENCH/import.py" --url "http://127.0.0.1:$PORT" --pid "$PID" --rows "$ROWS" --csv "$WORK/users.csv"
  echo "Store on disk at the end: $(du -sh "$WORK/a" | cut -f1)"
  echo "Load average at end: $(cut -d' ' -f1-3 /proc/loadavg)"
} | tee "$BENCH/last-import.txt"
