#!/usr/bin/env bash
# The hot paths (issue 23), one command: bash bench/hot.sh
#
# For AdminGetUser, GetUser, REFRESH_TOKEN_AUTH, AdminCreateUser and USER_SRP_AUTH (both round
# trips) at CLIENTS concurrent clients: throughput, Janus's server CPU µs per call, and the
# ratio of that CPU to the call's floor, the raw cost of the cryptography it cannot avoid,
# measured in the same run on one thread (`loadgen floor`: one RS256 verification for GetUser,
# two RS256 signatures for a refresh, the server's SRP math plus two signatures for SRP, the
# SigV4 HMAC chain for AdminGetUser); and cognito-local (bench/package.json pins it) under the
# same loads, interleaved, which one goes first alternating between reps. Idle RSS of Janus at
# the start and after the loads. Medians of REPS reps, and the medians of per-rep ratios.
#
# Set-up: one Janus pool with an app client and USERS users signed in once (`loadgen
# setup-signin`); AdminCreateUser writes new users into a fresh pool per measurement. Every
# cognito-local measurement gets a fresh pool of its own (its pools grow with use).
#
# Knobs: JANUS_BIN (a prebuilt janus; default: build this tree's), REPS=3, USERS=64, SECS=5,
# WARMUP=1, CLIENTS=8, JANUS_PORT=19229, COGNITO_PORT=19230, BENCH_TMP. Everything it starts it
# stops (by pid) and it deletes its data dirs. The summary goes to stdout and
# bench/last-hot.txt, the raw loadgen lines to bench/last-hot.log.
set -euo pipefail

REPS=${REPS:-3}
USERS=${USERS:-64}
SECS=${SECS:-5}
WARMUP=${WARMUP:-1}
CLIENTS=${CLIENTS:-8}
JPORT=${JANUS_PORT:-19229}
CPORT=${COGNITO_PORT:-19230}
PASSWORD='Bench-Passw0rd!'
OPS=(get getuser refresh create srp)

source "$(dirname "$0")/lib.sh"
build_janus
build_loadgen
install_cognito_local

WORK=$(mktemp -d "${BENCH_TMP:-${TMPDIR:-/tmp}}/janus-hot.XXXXXX")
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
CURL=http://127.0.0.1:$CPORT
for url in "$JURL" "$CURL"; do
  if "$LG" wait --url "$url/health" --timeout 0.2 >/dev/null 2>&1; then
    say "something already answers on $url: set JANUS_PORT / COGNITO_PORT"; exit 1
  fi
done
rss() { awk '/^VmRSS/ { printf "%.1f", $2 / 1024 }' "/proc/$1/status"; }
field() { sed -n "s/.* $1=\([^ ]*\).*/\1/p" <<<" $2"; }

"$JANUS_BIN" serve --listen "127.0.0.1:$JPORT" --data-dir "$WORK/janus" >"$WORK/janus.out" 2>"$WORK/janus.err" &
JPID=$!
PIDS+=("$JPID")
"$LG" wait --url "$JURL/health" --timeout 30 >/dev/null
sleep 1
RSS_FRESH=$(rss "$JPID")
mkdir -p "$WORK/cognito/.cognito"
printf '{"UserPoolDefaults":{"UsernameAttributes":[]}}\n' >"$WORK/cognito/.cognito/config.json"
(cd "$WORK/cognito" && PORT=$CPORT HOST=127.0.0.1 exec node "$CL_START") >"$WORK/cognito.out" 2>"$WORK/cognito.err" &
CPID=$!
PIDS+=("$CPID")
"$LG" wait --url "$CURL/health" --timeout 60 >/dev/null

LOG=$BENCH/last-hot.log
: >"$LOG"
RESULTS=$WORK/results.tsv # sys op rep ops_s server_us_per_op err
: >"$RESULTS"
FLOORS=$WORK/floors.tsv   # rep verify sign srp sigv4
: >"$FLOORS"

# setup SYS NAME → POOL CLIENT TOKENS (a pool with signed-in users)
setup() {
  local url=$JURL out
  [[ $1 == cognito-local ]] && url=$CURL
  TOKENS=$WORK/tokens-$1-$2
  out=$("$LG" setup-signin --endpoint "$url" --name "$2" --users "$USERS" --password "$PASSWORD" --tokens-out "$TOKENS")
  echo "$1 $out" >>"$LOG"
  POOL=$(field pool "$out") CLIENT=$(field client "$out")
}

# load SYS OP REP: one measurement, a row of results.tsv
load() {
  local sys=$1 op=$2 rep=$3 url=$JURL pid=$JPID pool=$POOL prefix=u out line ok
  [[ $sys == cognito-local ]] && url=$CURL pid=$CPID
  if [[ $op == create ]]; then
    pool=$("$LG" create-pool --endpoint "$url" --name "hot-create-$rep") prefix=c
  fi
  out=$("$LG" run --endpoint "$url" --op "$op" --clients "$CLIENTS" --duration "$SECS" --warmup "$WARMUP" \
    --pool "$pool" --client-id "$CLIENT" --keys "$USERS" --password "$PASSWORD" --tokens "$TOKENS" \
    --prefix "$prefix" --server-pid "$pid")
  printf '%s rep=%s %s\n' "$sys" "$rep" "$out" >>"$LOG"
  line=$(grep '^RESULT' <<<"$out")
  ok=$(field ok "$line")
  printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$sys" "$op" "$rep" "$(field ops_s "$line")" \
    "$(awk -v c="$(field server_cpu_s "$line")" -v n="$ok" 'BEGIN { if (n > 0 && c != "NA") printf "%.1f", c * 1e6 / n; else print "NA" }')" \
    "$(field err "$line")" >>"$RESULTS"
  say "   $sys $op rep=$rep: $(field ops_s "$line") ops/s, errors $(field err "$line")"
}

LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)
T_START=$(date +%s)
setup janus hot
J_POOL=$POOL J_CLIENT=$CLIENT J_TOKENS=$TOKENS
for rep in $(seq 1 "$REPS"); do
  say "== rep $rep"
  out=$("$LG" floor --rounds 3 --secs 0.5)
  echo "floor rep=$rep $out" >>"$LOG"
  printf '%s\t%s\t%s\t%s\t%s\n' "$rep" "$(field verify_us "$out")" "$(field sign_us "$out")" "$(field srp_us "$out")" "$(field sigv4_us "$out")" >>"$FLOORS"
  for op in "${OPS[@]}"; do
    if ((rep % 2)); then order=(janus cognito-local); else order=(cognito-local janus); fi
    for sys in "${order[@]}"; do
      if [[ $sys == janus ]]; then
        POOL=$J_POOL CLIENT=$J_CLIENT TOKENS=$J_TOKENS
        load janus "$op" "$rep"
      elif [[ $op != srp ]]; then # cognito-local has no SRP
        setup cognito-local "hot-$rep-$op"
        load cognito-local "$op" "$rep"
      fi
    done
  done
done
sleep 2
RSS_AFTER=$(rss "$JPID")
LOAD_END=$(cut -d' ' -f1-3 /proc/loadavg)
T_END=$(date +%s)

{
  echo "Janus: $JANUS_LABEL; cognito-local $CL_VERSION on node $(node --version)"
  echo "Machine: $(nproc) cores ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')), $(uname -sr)"
  echo "Load average (1/5/15 min) at start: $LOAD_START, at end: $LOAD_END; measuring took $((T_END - T_START)) s"
  echo "Settings: REPS=$REPS CLIENTS=$CLIENTS USERS=$USERS SECS=$SECS WARMUP=$WARMUP"
  echo
  awk -F'\t' -v floors="$FLOORS" -v reps="$REPS" '
    function median(s,   a, n, i, j, t) {
      n = split(s, a, " "); if (n == 0) return "NA"
      for (i = 2; i <= n; i++) { t = a[i] + 0; for (j = i - 1; j >= 1 && a[j] + 0 > t; j--) a[j + 1] = a[j]; a[j + 1] = t }
      return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
    }
    function add(k, v) { vals[k] = (k in vals) ? vals[k] " " v : v }
    BEGIN {
      while ((getline line < floors) > 0) {
        split(line, f, "\t"); r = f[1]
        fl["get" SUBSEP r] = f[5]; fl["getuser" SUBSEP r] = f[2]; fl["refresh" SUBSEP r] = 2 * f[3]
        fl["srp" SUBSEP r] = f[4] + 2 * f[3]; fl["create" SUBSEP r] = "NA"
        add("verify", f[2]); add("sign", f[3]); add("srp", f[4]); add("sigv4", f[5])
      }
    }
    { ops[$1 SUBSEP $2 SUBSEP $3] = $4; us[$1 SUBSEP $2 SUBSEP $3] = $5; errs[$1 SUBSEP $2] += $6 }
    END {
      printf "Floors (one thread, median of reps): RS256 verify %.1f µs, RS256 sign %.1f µs, server SRP math %.1f µs, SigV4 HMAC chain %.2f µs\n\n",
        median(vals["verify"]), median(vals["sign"]), median(vals["srp"]), median(vals["sigv4"])
      print "| call | Janus ops/s | Janus server CPU µs/call | floor µs (what) | floor ÷ CPU | cognito-local ops/s | Janus / cognito-local | errors (J / c-l) |"
      print "|---|---:|---:|---:|---:|---:|---:|---:|"
      split("get getuser refresh create srp", names, " ")
      label["get"] = "AdminGetUser"; label["getuser"] = "GetUser"; label["refresh"] = "REFRESH_TOKEN_AUTH"; label["create"] = "AdminCreateUser"; label["srp"] = "USER_SRP_AUTH (2 round trips)"
      what["get"] = "SigV4"; what["getuser"] = "1 verify"; what["refresh"] = "2 signs"; what["create"] = "—"; what["srp"] = "SRP + 2 signs"
      for (i = 1; i <= 5; i++) {
        op = names[i]; jo = ""; ju = ""; co = ""; rat = ""; fr = ""; ff = ""
        for (r = 1; r <= reps; r++) {
          j = "janus" SUBSEP op SUBSEP r; c = "cognito-local" SUBSEP op SUBSEP r
          jo = jo " " ops[j]; ju = ju " " us[j]
          if (c in ops) { co = co " " ops[c]; if (ops[c] > 0) rat = rat " " ops[j] / ops[c] }
          if (fl[op SUBSEP r] != "NA" && us[j] > 0) { fr = fr " " fl[op SUBSEP r] / us[j]; ff = ff " " fl[op SUBSEP r] }
        }
        printf "| %s | %.0f | %.0f | %s | %s | %s | %s | %d / %s |\n", label[op], median(jo), median(ju),
          ff == "" ? "—" : sprintf("%.0f (%s)", median(ff), what[op]), fr == "" ? "—" : sprintf("**%.2f**", median(fr)),
          co == "" ? "—" : sprintf("%.0f", median(co)), rat == "" ? "—" : sprintf("**%.1f×**", median(rat)),
          errs["janus" SUBSEP op], co == "" ? "—" : errs["cognito-local" SUBSEP op]
      }
    }
  ' "$RESULTS"
  echo
  echo "Janus idle RSS: $RSS_FRESH MiB fresh, $RSS_AFTER MiB after the loads"
} | tee "$BENCH/last-hot.txt"
