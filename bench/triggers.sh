#!/usr/bin/env bash
# Lambda trigger benchmark (issue 16), one command: bash bench/triggers.sh
#
# What a trigger round trip adds to a sign-in, and sign-ins/s with PreTokenGeneration on.
# One Janus (release build, default argon2id parameters) calls its triggers through
# serverless-offline (conformance/lambda: the real Lambda Invoke API host the trigger tests use)
# on loopback; the function is the tests' V2_0 PreTokenGeneration handler in Node.js
# (conformance/lambda/handlers/tokenv2.js: claims on both tokens, a scope added).
# Per repetition, two fresh pools with USERS users each: `plain` (no trigger) and `trigger`
# (PreTokenGenerationConfig V2_0), measured back to back, which goes first alternating:
#   - USER_PASSWORD_AUTH with 1 client (latency: p50/p99 per sign-in, the trigger's share);
#   - USER_PASSWORD_AUTH with 8 clients (sign-ins/s);
#   - REFRESH_TOKEN_AUTH with 8 clients (no argon2: the trigger's cost shows in full).
# The summary gives medians over REPS and the median of per-repetition differences / ratios.
#
# Knobs: JANUS_BIN, REPS=3, USERS=32, SECS=5, WARMUP=1, JANUS_PORT=19239, LAMBDA_PORT=19240.
# Everything it starts it stops; the summary also goes to bench/last-triggers.txt (raw
# loadgen lines: bench/last-triggers.log).
set -euo pipefail

REPS=${REPS:-3}
USERS=${USERS:-32}
SECS=${SECS:-5}
WARMUP=${WARMUP:-1}
JPORT=${JANUS_PORT:-19239}
LPORT=${LAMBDA_PORT:-19240}
PASSWORD='Bench-Passw0rd!'

source "$(dirname "$0")/lib.sh"
build_janus
build_loadgen
scripts/setup-test-env >/dev/null

WORK=$(mktemp -d "${BENCH_TMP:-${TMPDIR:-/tmp}}/janus-triggers.XXXXXX")
PIDS=()
cleanup() {
  local pid
  for pid in "${PIDS[@]}"; do
    kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

JURL=http://127.0.0.1:$JPORT
LURL=http://127.0.0.1:$LPORT
(cd conformance/lambda && LAMBDA_PORT=$LPORT LAMBDA_HTTP_PORT=$((LPORT + 1)) JANUS_TEST_EVENTS=/dev/null \
  SLS_TELEMETRY_DISABLED=1 SLS_NOTIFICATIONS_MODE=off SLS_DEPRECATION_DISABLE='*' \
  AWS_ACCESS_KEY_ID=offline AWS_SECRET_ACCESS_KEY=offline setsid node_modules/.bin/serverless offline start) \
  >"$WORK/serverless.log" 2>&1 &
PIDS+=("$!")
for _ in $(seq 1 300); do
  code=$(curl -s -o /dev/null -w '%{http_code}' -X POST -d '{}' "$LURL/2015-03-31/functions/none/invocations" || true)
  [[ $code == 404 ]] && break
  sleep 0.2
done
[[ $code == 404 ]] || { say "serverless-offline did not start"; cat "$WORK/serverless.log" >&2; exit 1; }

JANUS_LAMBDA_ENDPOINT=$LURL "$JANUS_BIN" serve --listen "127.0.0.1:$JPORT" --data-dir "$WORK/janus" \
  >"$WORK/janus.out" 2>"$WORK/janus.err" &
JPID=$!
PIDS+=("$JPID")
"$LG" wait --url "$JURL/health" --timeout 30 >/dev/null

field() { sed -n "s/.* $1=\([^ ]*\).*/\1/p" <<<" $2"; }
LOG=$BENCH/last-triggers.log
: >"$LOG"
RESULTS=$WORK/results.tsv # kind op clients rep ops_s p50 p99 err
: >"$RESULTS"
FN=arn:aws:lambda:us-east-1:123456789012:function:janus-triggers-test-tokenv2
LAMBDA_CONFIG="{\"PreTokenGenerationConfig\":{\"LambdaVersion\":\"V2_0\",\"LambdaArn\":\"$FN\"}}"

setup() { # KIND REP → POOL CLIENT TOKENS
  local extra=()
  [[ $1 == trigger ]] && extra=(--lambda-config "$LAMBDA_CONFIG")
  TOKENS=$WORK/tokens-$1-$2
  out=$("$LG" setup-signin --endpoint "$JURL" --name "$1-$2" --users "$USERS" --password "$PASSWORD" \
    --tokens-out "$TOKENS" "${extra[@]}")
  echo "$1 $out" >>"$LOG"
  POOL=$(field pool "$out") CLIENT=$(field client "$out")
}

load() { # KIND OP CLIENTS REP
  out=$("$LG" run --endpoint "$JURL" --op "$2" --clients "$3" --duration "$SECS" --warmup "$WARMUP" \
    --pool "$POOL" --client-id "$CLIENT" --keys "$USERS" --password "$PASSWORD" --tokens "$TOKENS" --server-pid "$JPID")
  printf '%s rep=%s %s\n' "$1" "$4" "$out" >>"$LOG"
  line=$(grep '^RESULT' <<<"$out")
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "$4" "$(field ops_s "$line")" "$(field p50_ms "$line")" \
    "$(field p99_ms "$line")" "$(field err "$line")" >>"$RESULTS"
  say "   $1 $2 c=$3 rep=$4: $(field ops_s "$line") ops/s, p50 $(field p50_ms "$line") ms, p99 $(field p99_ms "$line") ms, errors $(field err "$line")"
}

LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)
for rep in $(seq 1 "$REPS"); do
  if ((rep % 2)); then order=(plain trigger); else order=(trigger plain); fi
  say "== rep $rep (first: ${order[0]})"
  declare -A P C T
  for kind in plain trigger; do setup "$kind" "$rep"; P[$kind]=$POOL C[$kind]=$CLIENT T[$kind]=$TOKENS; done
  for spec in "password 1" "password 8" "refresh 8"; do
    read -r op c <<<"$spec"
    for kind in "${order[@]}"; do
      POOL=${P[$kind]} CLIENT=${C[$kind]} TOKENS=${T[$kind]}
      load "$kind" "$op" "$c" "$rep"
    done
  done
done
LOAD_END=$(cut -d' ' -f1-3 /proc/loadavg)

SUMMARY=$BENCH/last-triggers.txt
python3 - "$RESULTS" >"$SUMMARY" <<'PY'
import statistics, sys
rows = [l.split("\t") for l in open(sys.argv[1]).read().splitlines()]
med = statistics.median
def get(kind, op, c, col):
    return [float(r[col]) for r in rows if r[0] == kind and r[1] == op and r[2] == c and r[col] != "NA"]
def per_rep(op, c, col, f):
    reps = sorted({r[3] for r in rows})
    out = []
    for rep in reps:
        a = [float(r[col]) for r in rows if r[0] == "plain" and r[1] == op and r[2] == c and r[3] == rep]
        b = [float(r[col]) for r in rows if r[0] == "trigger" and r[1] == op and r[2] == c and r[3] == rep]
        if a and b:
            out.append(f(a[0], b[0]))
    return med(out) if out else float("nan")
print("| load | plain | with PreTokenGeneration V2 | added (median of per-rep differences) |")
print("|---|---|---|---|")
for op, c in (("password", "1"), ("password", "8"), ("refresh", "8")):
    for col, name, unit in ((5, "p50", "ms"), (6, "p99", "ms"), (4, "ops/s", "")):
        a, b = get("plain", op, c, col), get("trigger", op, c, col)
        if col == 4:
            d = per_rep(op, c, col, lambda x, y: y / x)
            added = f"× {d:.3f}"
        else:
            d = per_rep(op, c, col, lambda x, y: y - x)
            added = f"+{d:.2f} {unit}"
        print(f"| {op} c={c} {name} | {med(a):.2f} | {med(b):.2f} | {added} |")
errs = sum(int(r[7]) for r in rows if r[7].isdigit())
print(f"\nerrors in all loads: {errs}")
PY
{
  echo "janus: $JANUS_LABEL; reps=$REPS users=$USERS secs=$SECS; load before $LOAD_START, after $LOAD_END"
  cat "$SUMMARY"
} | tee "$SUMMARY.tmp" >&2
mv "$SUMMARY.tmp" "$SUMMARY"
