#!/usr/bin/env bash
# Janus device sign-in benchmark (issue 19), one command: bash bench/devices.sh  (about a minute)
#
# One `janus serve` (release) on this machine, a pool that remembers devices, SAMPLES users each
# with a confirmed device (ConfirmDevice with pycognito's verifier). bench/devices.py then signs
# each user in twice, interleaved, one call at a time: USER_SRP_AUTH without the device
# (InitiateAuth + PASSWORD_VERIFIER) and with it (… + DEVICE_SRP_AUTH + DEVICE_PASSWORD_VERIFIER,
# the remembered-device sign-in amazon-cognito-identity-js and Amplify make). Only the HTTP calls
# are timed (the client's SRP math in Python is not): the figures are what the server and the
# loopback add. The summary gives p50 and p99 per sign-in and per call.
#
# Knobs (environment): JANUS_BIN (a prebuilt janus; default: build this tree's, release),
# JANUS_LABEL, SAMPLES=200, PORT=19380, BENCH_TMP. Everything it starts it stops, and it deletes
# its data dir on exit. The summary is printed and written to bench/last-devices.txt.
set -euo pipefail

SAMPLES=${SAMPLES:-200}
PORT=${PORT:-19380}

source "$(dirname "$0")/lib.sh"
PY=$ROOT/.venv/bin/python
[[ -x "$PY" ]] || { say "run scripts/setup-test-env first (bench/devices.py uses .venv)"; exit 1; }

build_janus

start_one_janus "$PORT"

{
  echo "Janus: $JANUS_LABEL"
  machine_line
  "$PY" "$BENCH/devices.py" --url "http://127.0.0.1:$PORT" --samples "$SAMPLES"
  echo "Load average at end: $(cut -d' ' -f1-3 /proc/loadavg)"
} | tee "$BENCH/last-devices.txt"
