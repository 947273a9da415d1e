#!/usr/bin/env bash
# Janus MFA benchmark (issue 6), one command: bash bench/mfa.sh     (about 1–2 minutes)
#
# Two `janus serve` processes on this machine, us-east-1 (primary) and us-west-2 (an ACTIVE
# replica of the pool), replicating over loopback. bench/mfa.py (the repo's .venv: boto3 for the
# set-up, pyotp for codes, one keep-alive HTTP connection per region for the timed calls) measures,
# one call at a time (no concurrency, so these are latencies, not throughput):
#   - password-only sign-in: InitiateAuth USER_PASSWORD_AUTH → tokens, for users without MFA;
#   - the MFA step: RespondToAuthChallenge SOFTWARE_TOKEN_MFA → tokens, on the primary and on
#     the secondary (where it also asks the primary whether the code was used);
#   - used-code propagation: a code used on the primary, then (a) how long the secondary takes
#     to refuse it (its first attempt, right after) and (b) how long until the primary's
#     used-code mark is in the secondary's store (read from its SQLite file every 1 ms).
# Each figure is over SAMPLES sign-ins by distinct users (a TOTP code is good once, so each
# user signs in with MFA once). The summary gives p50 (the median) and p99.
#
# Knobs (environment): JANUS_BIN (a prebuilt janus; default: build this tree's, release),
# JANUS_LABEL, SAMPLES=200, PORT_BASE=19360, BENCH_TMP. Everything it starts it stops (by
# pid) and it deletes its data dirs on exit. The summary is printed and written to
# bench/last-mfa.txt.
set -euo pipefail

SAMPLES=${SAMPLES:-200}
PORT_BASE=${PORT_BASE:-19360}

source "$(dirname "$0")/lib.sh"
export JANUS_REPLICATION_SECRET=bench-replication-secret
export JANUS_REPLICA_REQUIRES_CMK=false  # these figures use pools with the shared AWS owned key
PY=$ROOT/.venv/bin/python
[[ -x "$PY" ]] || { say "run scripts/setup-test-env first (bench/mfa.py uses .venv)"; exit 1; }

build_janus

WORK=$(mktemp -d "${BENCH_TMP:-${TMPDIR:-/tmp}}/janus-mfa-bench.XXXXXX")
PIDS=()
cleanup() {
  local pid
  for pid in "${PIDS[@]}"; do
    kill -TERM "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

PA=$PORT_BASE PB=$((PORT_BASE + 1))
AURL=http://127.0.0.1:$PA BURL=http://127.0.0.1:$PB
for port in $PA $PB; do
  if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then say "port $port is taken: set PORT_BASE"; exit 1; fi
done
"$JANUS_BIN" serve --region us-east-1 --listen "127.0.0.1:$PA" --data-dir "$WORK/a" --peer "us-west-2=$BURL" \
  >"$WORK/a.log" 2>&1 &
PIDS+=($!)
"$JANUS_BIN" serve --region us-west-2 --listen "127.0.0.1:$PB" --data-dir "$WORK/b" --peer "us-east-1=$AURL" \
  >"$WORK/b.log" 2>&1 &
PIDS+=($!)

LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)
{
  echo "Janus: $JANUS_LABEL"
  echo "Machine: $(nproc) cores ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')), $(uname -sr); load average at start: $LOAD_START"
  "$PY" "$BENCH/mfa.py" --primary "$AURL" --secondary "$BURL" --secondary-db "$WORK/b/janus.db" --samples "$SAMPLES"
  echo "Load average at end: $(cut -d' ' -f1-3 /proc/loadavg)"
  warnings=$(grep -hE 'WARN|ERROR|panick' "$WORK/a.log" "$WORK/b.log" | sed -E 's/\x1b\[[0-9;]*m//g; s/^[0-9T:.-]+Z +//' | sort | uniq -c | sort -rn | head -10 || true)
  if [[ -n "$warnings" ]]; then echo "Janus log lines at WARN or ERROR (count, line):"; echo "$warnings"; else echo "Janus logs: no WARN or ERROR lines."; fi
} | tee "$BENCH/last-mfa.txt"
