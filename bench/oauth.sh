#!/usr/bin/env bash
# Janus OAuth token-endpoint benchmarks (issue 7), one command: bash bench/oauth.sh
#
# Measures, on this machine, in one run:
#   - the raw RS256 signing rate: `loadgen rs256`, janus_crypto::jwt on 2 threads (one per
#     core) signing a client_credentials-shaped claim set, nothing else: the ceiling, since a
#     client_credentials token is exactly one signature;
#   - client_credentials tokens/s at Janus's /oauth/<pool>/oauth2/token (client_secret_basic,
#     all of the client's custom scopes), bracketed by two raw RS256 runs; ratio = tokens/s over
#     the mean of the brackets;
#   - refresh_token grants/s at the same endpoint (public client, refresh tokens of USERS
#     users); each grant signs an ID token and an access token, so its signature rate is 2x;
#   - node oidc-provider (bench/package.json pins it; bench/oidc-provider-server.mjs: RS256 JWT
#     access tokens through resource indicators) on the same client_credentials load.
# Everything REPS times, in the same run; the summary gives medians (the machine is shared and
# noisy: medians of REPS, not best runs).
#
# Knobs (environment): JANUS_BIN (prebuilt janus; default: build this tree's, release),
# REPS=3, USERS=32, SECS=5, WARMUP=1, CLIENTS=16, RS_SECS=3, JANUS_PORT=19240, OP_PORT=19241.
# Everything it starts it stops (by pid) and its data dir is deleted on exit. Summary printed
# and written to bench/last-oauth.txt (raw lines in bench/last-oauth.log).
set -euo pipefail

REPS=${REPS:-3}
USERS=${USERS:-32}
SECS=${SECS:-5}
WARMUP=${WARMUP:-1}
CLIENTS=${CLIENTS:-16}
RS_SECS=${RS_SECS:-3}
JPORT=${JANUS_PORT:-19240}
OPORT=${OP_PORT:-19241}
PASSWORD='Bench-Passw0rd!'

source "$(dirname "$0")/lib.sh"

build_janus
build_loadgen
OP_VERSION=$(sed -n 's/.*"oidc-provider": *"\([^"]*\)".*/\1/p' "$BENCH/package.json")
if [[ "$(sed -n 's/.*"version": *"\([^"]*\)".*/\1/p' "$BENCH/node_modules/oidc-provider/package.json" 2>/dev/null)" != "$OP_VERSION" ]]; then
  say "== npm ci (oidc-provider $OP_VERSION)"
  (cd "$BENCH" && npm ci --no-audit --no-fund --loglevel=error >&2)
fi

WORK=$(mktemp -d "${BENCH_TMP:-${TMPDIR:-/tmp}}/janus-oauth.XXXXXX")
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

JURL=http://127.0.0.1:$JPORT
OURL=http://127.0.0.1:$OPORT
"$JANUS_BIN" serve --listen "127.0.0.1:$JPORT" --data-dir "$WORK/janus" >"$WORK/janus.out" 2>"$WORK/janus.err" &
JPID=$!
PIDS+=("$JPID")
(cd "$BENCH" && PORT=$OPORT exec node oidc-provider-server.mjs) >"$WORK/op.out" 2>"$WORK/op.err" &
OPID=$!
PIDS+=("$OPID")
"$LG" wait --url "$JURL/health" --timeout 30 >/dev/null
"$LG" wait --url "$OURL/.well-known/openid-configuration" --timeout 30 >/dev/null

LOG=$BENCH/last-oauth.log
: >"$LOG"
field() { sed -n "s/.* $1=\([^ ]*\).*/\1/p" <<<" $2" | head -1; }
cognito() { # cognito <Operation> <json>: a signed call to Janus with curl's SigV4
  curl -sf --aws-sigv4 "aws:amz:us-east-1:cognito-idp" \
    --user "$JANUS_ADMIN_ACCESS_KEY_ID:$JANUS_ADMIN_SECRET_ACCESS_KEY" \
    -H "X-Amz-Target: AWSCognitoIdentityProviderService.$1" -H "Content-Type: application/x-amz-json-1.1" \
    -d "$2" "$JURL/"
}
jget() { python3 -c "import json,sys; print(json.load(sys.stdin)$1)"; }

say "== set-up"
TOKENS=$WORK/tokens.txt
out=$("$LG" setup-signin --endpoint "$JURL" --name oauth-bench --users "$USERS" --password "$PASSWORD" --tokens-out "$TOKENS")
echo "janus $out" >>"$LOG"
POOL=$(field pool "$out")
CLIENT=$(field client "$out")
cognito CreateResourceServer "{\"UserPoolId\":\"$POOL\",\"Identifier\":\"https://api.example.com\",\"Name\":\"api\",\"Scopes\":[{\"ScopeName\":\"read\",\"ScopeDescription\":\"r\"}]}" >/dev/null
m2m=$(cognito CreateUserPoolClient "{\"UserPoolId\":\"$POOL\",\"ClientName\":\"m2m\",\"GenerateSecret\":true,\"AllowedOAuthFlowsUserPoolClient\":true,\"AllowedOAuthFlows\":[\"client_credentials\"],\"AllowedOAuthScopes\":[\"https://api.example.com/read\"]}")
M2M_ID=$(jget '["UserPoolClient"]["ClientId"]' <<<"$m2m")
M2M_SECRET=$(jget '["UserPoolClient"]["ClientSecret"]' <<<"$m2m")
TOKEN_PATH=/oauth/$POOL/oauth2/token

# Each measurement prints "<rate> <per CPU second>": the second, the work done per CPU second of
# the signer (raw) or of the server process, is what a shared machine's noise disturbs least.
rs256() {
  local r
  r=$("$LG" rs256 --threads 2 --duration "$RS_SECS" | tee -a "$LOG")
  python3 -c "import sys; n, c, rate = map(float, sys.argv[1:]); print(rate, n / c)" \
    "$(field signatures "$r")" "$(field cpu_s "$r")" "$(field signatures_s "$r")"
}
load() { # load <label> <url> <loadgen args...>: ops/s
  local label=$1 url=$2; shift 2
  local r
  r=$("$LG" run --endpoint "$url" --pool "$POOL" --clients "$CLIENTS" --duration "$SECS" --warmup "$WARMUP" "$@" | tee -a "$LOG" | grep '^RESULT')
  echo "$label $r" >>"$LOG"
  if [[ "$(field err "$r")" != 0 ]]; then say "errors in $label: $(grep '^ERROR' "$LOG" | tail -3)"; fi
  python3 -c "import sys; ok, c, rate = map(float, sys.argv[1:]); print(rate, ok / c)" \
    "$(field ok "$r")" "$(field server_cpu_s "$r")" "$(field ops_s "$r")"
}

ROWS=$WORK/rows.tsv
: >"$ROWS"
for rep in $(seq 1 "$REPS"); do
  say "== repetition $rep of $REPS"
  a=$(rs256)
  cc=$(load janus-cc "$JURL" --op oauth-cc --token-path "$TOKEN_PATH" --client-id "$M2M_ID" --secret "$M2M_SECRET" --server-pid "$JPID")
  b=$(rs256)
  rf=$(load janus-refresh "$JURL" --op oauth-refresh --token-path "$TOKEN_PATH" --client-id "$CLIENT" --tokens "$TOKENS" --server-pid "$JPID")
  c=$(rs256)
  op=$(load oidc-provider-cc "$OURL" --op oauth-cc --token-path /token --client-id bench --secret bench-secret-bench-secret-bench-secret --server-pid "$OPID")
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$rep" "$a" "$cc" "$b" "$rf" "$c" "$op" | tr ' ' '\t' >>"$ROWS"
  say "   rs256 $a | cc $cc | rs256 $b | refresh $rf | rs256 $c | oidc-provider cc $op  (rate, per CPU second)"
done

SUMMARY=$BENCH/last-oauth.txt
python3 - "$ROWS" "$JANUS_LABEL" "$OP_VERSION" "$CLIENTS" "$SECS" "$REPS" >"$SUMMARY" <<'PY'
import statistics as st, sys
rows = [list(map(float, l.split("\t")[1:])) for l in open(sys.argv[1]) if l.strip()]
label, opv, clients, secs, reps = sys.argv[2:]
med = lambda xs: st.median(xs)
# Columns: rs256, rs256/cpu, cc, cc/cpu, rs256, rs256/cpu, refresh, refresh/cpu, rs256, rs256/cpu, op, op/cpu.
rs = med([x for r in rows for x in (r[0], r[4], r[8])])
cc = med([r[2] for r in rows]); rf = med([r[6] for r in rows]); op = med([r[10] for r in rows])
cc_ratio = med([r[2] / ((r[0] + r[4]) / 2) for r in rows])
rf_ratio = med([2 * r[6] / ((r[4] + r[8]) / 2) for r in rows])
cc_cpu = med([r[3] / ((r[1] + r[5]) / 2) for r in rows])
rf_cpu = med([2 * r[7] / ((r[5] + r[9]) / 2) for r in rows])
vs_op = med([r[2] / r[10] for r in rows])
vs_op_cpu = med([r[3] / r[11] for r in rows])
print(f"janus: {label}; oidc-provider {opv}; {clients} clients, {secs} s per load, medians of {reps} repetitions")
print(f"raw RS256 signing (2 threads):         {rs:8.0f} signatures/s")
print(f"client_credentials (Janus):            {cc:8.0f} tokens/s   = {cc_ratio:.0%} of the raw signing rate; by CPU {cc_cpu:.0%}")
print(f"refresh_token grants (Janus):          {rf:8.0f} grants/s   = {2 * rf:.0f} signatures/s = {rf_ratio:.0%} of the raw rate; by CPU {rf_cpu:.0%}")
print(f"client_credentials (oidc-provider):    {op:8.0f} tokens/s   Janus/oidc-provider = {vs_op:.1f}x; by CPU {vs_op_cpu:.1f}x")
PY
cat "$SUMMARY"
