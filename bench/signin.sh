#!/usr/bin/env bash
# Janus sign-in benchmarks (issue 3), one command: bash bench/signin.sh  (or: bash bench/run.sh signin)
#
# Measures, on this machine, at Janus's default argon2id parameters (m=19456 KiB, t=2, p=1):
#   - the raw argon2id rate: `loadgen argon2`, janus_crypto::PasswordHasher on 2 threads (one
#     per core) doing exactly what a sign-in does (verify), nothing else: the physical limit;
#   - USER_PASSWORD_AUTH sign-ins/s at 8 and 64 clients, each run bracketed by two raw argon2
#     runs; its ratio to the raw rate is sign-ins/s over the mean of the two brackets;
#   - USER_SRP_AUTH sign-ins/s (InitiateAuth + RespondToAuthChallenge, with the client's SRP
#     math), REFRESH_TOKEN_AUTH/s and GetUser/s at 8 and 64 clients;
#   - cognito-local (bench/package.json pins it) under the same USER_PASSWORD_AUTH, refresh and
#     GetUser loads, interleaved with Janus, which one goes first alternating between reps.
# Everything REPS times; the summary gives medians and the medians of per-repetition ratios.
#
# Set-up: per repetition, one fresh Janus pool with an app client (no secret; USER_PASSWORD,
# USER_SRP and REFRESH_TOKEN flows) and USERS users (AdminCreateUser SUPPRESS, then
# AdminSetUserPassword Permanent), each signed in once for its tokens. Every cognito-local
# measurement gets such a pool of its own: cognito-local appends every refresh token it issues
# to the user's record and rewrites the pool's whole JSON file, so its pools grow with use.
#
# Knobs (environment): JANUS_BIN (a prebuilt janus; default: build this tree's), JANUS_LABEL,
# REPS=3, USERS=64, SECS=5 (measured seconds per load), WARMUP=1, ARGON2_SECS=3,
# JANUS_PORT=19229, COGNITO_PORT=19230, BENCH_TMP (where data dirs go; default $TMPDIR or /tmp).
# Everything it starts it stops (by pid), and it deletes its data dirs on exit. The summary is
# printed and also written to bench/last-signin.txt (the raw loadgen lines to
# bench/last-signin.log).
set -euo pipefail

REPS=${REPS:-3}
USERS=${USERS:-64}
SECS=${SECS:-5}
WARMUP=${WARMUP:-1}
ARGON2_SECS=${ARGON2_SECS:-3}
JPORT=${JANUS_PORT:-19229}
CPORT=${COGNITO_PORT:-19230}
CLIENTS=(8 64)
PASSWORD='Bench-Passw0rd!'

source "$(dirname "$0")/lib.sh"

# ---- build and install -------------------------------------------------------------------
build_janus
build_loadgen
install_cognito_local

# ---- processes and cleanup ---------------------------------------------------------------
WORK=$(mktemp -d "${BENCH_TMP:-${TMPDIR:-/tmp}}/janus-signin.XXXXXX")
PIDS=()
cleanup() {
  local pid
  cp "$WORK/janus.err" "$BENCH/last-signin-janus.log" 2>/dev/null || true
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

"$JANUS_BIN" serve --listen "127.0.0.1:$JPORT" --data-dir "$WORK/janus" >"$WORK/janus.out" 2>"$WORK/janus.err" &
JPID=$!
PIDS+=("$JPID")
"$LG" wait --url "$JURL/health" --timeout 30 >/dev/null
RSS_FRESH=$(awk '/^VmRSS/ { printf "%.1f", $2 / 1024 }' "/proc/$JPID/status")
# cognito-local's default config makes new pools use email addresses as usernames; its
# documented config file turns that off, so both servers get identical requests (as in run.sh).
mkdir -p "$WORK/cognito/.cognito"
printf '{"UserPoolDefaults":{"UsernameAttributes":[]}}\n' >"$WORK/cognito/.cognito/config.json"
(cd "$WORK/cognito" && PORT=$CPORT HOST=127.0.0.1 exec node "$CL_START") >"$WORK/cognito.out" 2>"$WORK/cognito.err" &
CPID=$!
PIDS+=("$CPID")
"$LG" wait --url "$CURL/health" --timeout 60 >/dev/null

field() { sed -n "s/.* $1=\([^ ]*\).*/\1/p" <<<" $2"; }
per_op_us() { awk -v c="$1" -v n="$2" 'BEGIN { if (n > 0 && c != "NA") printf "%.0f", c * 1e6 / n; else print "NA" }'; }

LOG=$BENCH/last-signin.log
: >"$LOG"
RESULTS=$WORK/results.tsv # sys op clients rep ops_s p50 p99 err server_cpu_us/op loadgen_cpu_us/op server_sys_us/op server_minflt/op
RATIOS=$WORK/ratios.tsv   # kind clients rep value
ERRORS=$WORK/errors.txt
RSS=$WORK/rss.tsv         # rep op clients janus_rss_mib (right after each Janus load)
: >"$RSS"
: >"$RESULTS"
: >"$RATIOS"
: >"$ERRORS"

# setup SYSTEM NAME → sets POOL, CLIENT, TOKENS
setup() {
  local sys=$1 name=$2 url out
  if [[ $sys == janus ]]; then url=$JURL; else url=$CURL; fi
  TOKENS=$WORK/tokens-$sys-$name
  out=$("$LG" setup-signin --endpoint "$url" --name "$name" --users "$USERS" --password "$PASSWORD" --tokens-out "$TOKENS") ||
    died "$sys set-up $name"
  echo "$sys $out" >>"$LOG"
  POOL=$(field pool "$out")
  CLIENT=$(field client "$out")
}

# After a failed loadgen call: say whether the servers are still up, and stop.
died() {
  local rc pid
  for pid in "$JPID" "$CPID"; do
    if ! kill -0 "$pid" 2>/dev/null; then
      rc=0; wait "$pid" || rc=$?
      say "!! $([[ $pid == "$JPID" ]] && echo janus || echo cognito-local) (pid $pid) is gone: exit status $rc$( ((rc > 128)) && echo " (signal $((rc - 128)))")"
    fi
  done
  say "!! $1 failed; Janus's log is in bench/last-signin-janus.log"
  exit 1
}

# load SYSTEM OP CLIENTS REP → a row of results.tsv; LAST_OPS_S, LAST_SRV_US are its figures
load() {
  local sys=$1 op=$2 c=$3 rep=$4 url pid out line ok
  if [[ $sys == janus ]]; then url=$JURL pid=$JPID; else url=$CURL pid=$CPID; fi
  out=$("$LG" run --endpoint "$url" --op "$op" --clients "$c" --duration "$SECS" --warmup "$WARMUP" \
    --pool "$POOL" --client-id "$CLIENT" --keys "$USERS" --password "$PASSWORD" --tokens "$TOKENS" --server-pid "$pid") ||
    died "$sys $op c=$c rep=$rep"
  printf '%s rep=%s %s\n' "$sys" "$rep" "$out" >>"$LOG"
  line=$(grep '^RESULT' <<<"$out")
  grep '^ERROR' <<<"$out" | sed "s/^/$sys $op clients=$c rep=$rep: /" >>"$ERRORS" || true
  ok=$(field ok "$line")
  LAST_OPS_S=$(field ops_s "$line")
  LAST_SRV_US=$(per_op_us "$(field server_cpu_s "$line")" "$ok")
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$sys" "$op" "$c" "$rep" "$LAST_OPS_S" \
    "$(field p50_ms "$line")" "$(field p99_ms "$line")" "$(field err "$line")" "$LAST_SRV_US" \
    "$(per_op_us "$(field client_cpu_s "$line")" "$ok")" "$(per_op_us "$(field server_sys_s "$line")" "$ok")" \
    "$(awk -v f="$(field server_minflt "$line")" -v n="$ok" 'BEGIN { if (n > 0 && f != "NA") printf "%.0f", f / n; else print "NA" }')" >>"$RESULTS"
  if [[ $sys == janus ]]; then
    printf '%s\t%s\t%s\t%s\n' "$rep" "$op" "$c" "$(awk '/^VmRSS/ { printf "%.1f", $2 / 1024 }' "/proc/$JPID/status")" >>"$RSS"
  fi
  say "   $sys $op c=$c rep=$rep: $LAST_OPS_S ops/s, p50 $(field p50_ms "$line") ms, p99 $(field p99_ms "$line") ms, server CPU ${LAST_SRV_US} µs/op, errors $(field err "$line")"
}

# raw REP → RAW_S (hashes/s), RAW_US (CPU µs per hash); a row of results.tsv
raw() {
  local out
  out=$("$LG" argon2 --threads 2 --duration "$ARGON2_SECS" --warmup-hashes 16) || died "raw argon2id"
  echo "raw rep=$1 $out" >>"$LOG"
  RAW_S=$(field hashes_s "$out")
  RAW_US=$(per_op_us "$(field cpu_s "$out")" "$(field ok "$out")")
  printf 'raw\targon2\t2\t%s\t%s\tNA\tNA\t0\t%s\tNA\tNA\t%s\n' "$1" "$RAW_S" "$RAW_US" \
    "$(awk -v f="$(field minflt "$out")" -v n="$(field ok "$out")" 'BEGIN { if (n > 0 && f != "NA") printf "%.0f", f / n; else print "NA" }')" >>"$RESULTS"
  say "   raw argon2id rep=$1: $RAW_S hashes/s, $RAW_US µs CPU per hash"
}

LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)
T_START=$(date +%s)

use_janus() { POOL=$J_POOL CLIENT=$J_CLIENT TOKENS=$J_TOKENS; }

# ---- measure -----------------------------------------------------------------------------
say "== $REPS reps, clients {${CLIENTS[*]}}, ${SECS}s per load after ${WARMUP}s of warm-up, $USERS users per pool"
for rep in $(seq 1 "$REPS"); do
  if ((rep % 2)); then order=(janus cognito-local); else order=(cognito-local janus); fi
  say "== rep $rep (first: ${order[0]})"
  setup janus "signin-$rep"
  J_POOL=$POOL J_CLIENT=$CLIENT J_TOKENS=$TOKENS
  if ((rep == 1)); then RSS_AFTER_SETUP=$(awk '/^VmRSS/ { printf "%.1f", $2 / 1024 }' "/proc/$JPID/status"); fi
  for op in password refresh getuser; do
    for c in "${CLIENTS[@]}"; do
      for sys in "${order[@]}"; do
        if [[ $sys == janus ]]; then
          use_janus
          if [[ $op == password ]]; then
            raw "$rep"
            before_s=$RAW_S before_us=$RAW_US
          fi
          load janus "$op" "$c" "$rep"
          j_ops=$LAST_OPS_S j_us=$LAST_SRV_US
          if [[ $op == password ]]; then
            raw "$rep"
            awk -v s="$j_ops" -v a="$before_s" -v b="$RAW_S" 'BEGIN { printf "limit\t'"$c"'\t'"$rep"'\t%.4f\n", s / ((a + b) / 2) }' >>"$RATIOS"
            awk -v u="$j_us" -v a="$before_us" -v b="$RAW_US" 'BEGIN { if (u != "NA" && u > 0 && a != "NA" && b != "NA") printf "cpu\t'"$c"'\t'"$rep"'\t%.4f\n", ((a + b) / 2) / u }' >>"$RATIOS"
          fi
        else
          setup cognito-local "signin-$rep-$op-$c"
          load cognito-local "$op" "$c" "$rep"
        fi
      done
    done
  done
  use_janus
  for c in "${CLIENTS[@]}"; do load janus srp "$c" "$rep"; done
done
JANUS_RSS=$(awk '/^VmRSS/ { printf "%.1f", $2 / 1024 }' "/proc/$JPID/status")
COGNITO_RSS=$(awk '/^VmRSS/ { printf "%.1f", $2 / 1024 }' "/proc/$CPID/status")

# ---- summary -----------------------------------------------------------------------------
LOAD_END=$(cut -d' ' -f1-3 /proc/loadavg)
T_END=$(date +%s)
{
  echo "Janus: $JANUS_LABEL; cognito-local $CL_VERSION on node $(node --version)"
  echo "Machine: $(nproc) cores ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')), $(awk '/MemTotal/ { printf "%.0f GiB", $2/1048576 }' /proc/meminfo), $(uname -sr)"
  echo "Load average (1/5/15 min) at start: $LOAD_START, at end: $LOAD_END; measuring took $((T_END - T_START)) s"
  echo "Settings: REPS=$REPS USERS=$USERS SECS=$SECS WARMUP=$WARMUP ARGON2_SECS=$ARGON2_SECS; argon2id m=19456 KiB t=2 p=1 (Janus's defaults)"
  echo
  awk -F'\t' -v reps="$REPS" -v ratios="$RATIOS" '
    function median(s,   a, n, i, j, t) {
      n = split(s, a, " ")
      if (n == 0) return "NA"
      for (i = 2; i <= n; i++) { t = a[i] + 0; for (j = i - 1; j >= 1 && a[j] + 0 > t; j--) a[j + 1] = a[j]; a[j + 1] = t }
      return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
    }
    function add(k, v) { if (k in vals) v = vals[k] " " v; vals[k] = v }
    function runs(s, fmt,   a, n, i, out) { n = split(s, a, " "); out = ""; for (i = 1; i <= n; i++) out = out (i > 1 ? ", " : "") sprintf(fmt, a[i]); return out }
    function ms(us) { return us == "NA" ? "NA" : sprintf("%.2f", us / 1000) }
    BEGIN {
      while ((getline line < ratios) > 0) { split(line, f, "\t"); add("ratio" SUBSEP f[1] SUBSEP f[2], f[4]) }
    }
    { k = $1 SUBSEP $2 SUBSEP $3
      add("ops" SUBSEP k, $5); add("p50" SUBSEP k, $6); add("p99" SUBSEP k, $7); add("srv" SUBSEP k, $9); add("cli" SUBSEP k, $10); add("sys" SUBSEP k, $11); add("flt" SUBSEP k, $12)
      errs[k] += $8; ops[k SUBSEP $4] = $5 }
    END {
      k = "raw" SUBSEP "argon2" SUBSEP 2
      printf "Raw argon2id, janus_crypto::PasswordHasher::verify on 2 threads, %d runs over the whole run: median %.1f hashes/s (min %.1f, max %.1f), %.1f ms CPU and %s page faults per hash\n\n",
        split(vals["ops" SUBSEP k], tmp, " "), median(vals["ops" SUBSEP k]), minv(vals["ops" SUBSEP k]), maxv(vals["ops" SUBSEP k]), median(vals["srv" SUBSEP k]) / 1000, median(vals["flt" SUBSEP k])
      print "| operation | clients | Janus ops/s | Janus p50 / p99 ms | Janus server CPU ms/op (of which kernel) | Janus page faults/op | loadgen CPU ms/op | cognito-local ops/s | cognito-local p50 / p99 ms | Janus / cognito-local | errors (J / c-l) |"
      print "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
      split("password srp refresh getuser", opsl, " "); split("8 64", cl, " ")
      names["password"] = "USER_PASSWORD_AUTH"; names["srp"] = "USER_SRP_AUTH (2 round trips)"; names["refresh"] = "REFRESH_TOKEN_AUTH"; names["getuser"] = "GetUser"
      for (o = 1; o <= 4; o++) for (c = 1; c <= 2; c++) {
        j = "janus" SUBSEP opsl[o] SUBSEP cl[c]; g = "cognito-local" SUBSEP opsl[o] SUBSEP cl[c]; r = ""
        for (i = 1; i <= reps; i++) { a = ops[j SUBSEP i]; b = ops[g SUBSEP i]; if (b > 0) r = r " " a / b }
        has_cl = (("ops" SUBSEP g) in vals)
        printf "| %s | %s | %.1f (%s) | %.1f / %.1f | %s (%s) | %s | %s | %s | %s | %s | %d / %s |\n", names[opsl[o]], cl[c],
          median(vals["ops" SUBSEP j]), runs(vals["ops" SUBSEP j], "%.1f"),
          median(vals["p50" SUBSEP j]), median(vals["p99" SUBSEP j]),
          ms(median(vals["srv" SUBSEP j])), ms(median(vals["sys" SUBSEP j])), median(vals["flt" SUBSEP j]), ms(median(vals["cli" SUBSEP j])),
          has_cl ? sprintf("%.1f (%s)", median(vals["ops" SUBSEP g]), runs(vals["ops" SUBSEP g], "%.1f")) : "—",
          has_cl ? sprintf("%.1f / %.1f", median(vals["p50" SUBSEP g]), median(vals["p99" SUBSEP g])) : "—",
          (has_cl && r != "") ? sprintf("**%.2f×**", median(r)) : "—",
          errs[j], has_cl ? errs[g] : "—"
      }
      print ""
      print "USER_PASSWORD_AUTH against the physical limit (per rep: sign-ins/s over the mean of the raw runs just before and after; median of reps):"
      print ""
      print "| clients | sign-ins/s ÷ raw hashes/s | raw CPU per hash ÷ Janus server CPU per sign-in |"
      print "|---:|---:|---:|"
      for (c = 1; c <= 2; c++)
        printf "| %s | **%.3f** (%s) | %.3f (%s) |\n", cl[c], median(vals["ratio" SUBSEP "limit" SUBSEP cl[c]]), runs(vals["ratio" SUBSEP "limit" SUBSEP cl[c]], "%.3f"),
          median(vals["ratio" SUBSEP "cpu" SUBSEP cl[c]]), runs(vals["ratio" SUBSEP "cpu" SUBSEP cl[c]], "%.3f")
    }
    function minv(s,   a, n, i, m) { n = split(s, a, " "); m = a[1] + 0; for (i = 2; i <= n; i++) if (a[i] + 0 < m) m = a[i] + 0; return m }
    function maxv(s,   a, n, i, m) { n = split(s, a, " "); m = a[1] + 0; for (i = 2; i <= n; i++) if (a[i] + 0 > m) m = a[i] + 0; return m }
  ' "$RESULTS"
  echo
  echo "Janus RSS right after each load of rep 1 (MiB): $(awk -F'\t' '$1 == 1 { printf "%s%s c=%s %s", (n++ ? ", " : ""), $2, $3, $4 }' "$RSS"); at start $RSS_FRESH, after rep 1's set-up $RSS_AFTER_SETUP"
  echo "RSS at the end: Janus $JANUS_RSS MiB, cognito-local $COGNITO_RSS MiB"
  echo
  if [[ -s "$ERRORS" ]]; then
    echo "Error responses:"
    sed 's/^/  /' "$ERRORS"
  else
    echo "Error responses: none."
  fi
  warnings=$(grep -E 'WARN|ERROR|panick' "$WORK/janus.err" | sed -E 's/\x1b\[[0-9;]*m//g; s/^[0-9T:.-]+Z +//' | sort | uniq -c | sort -rn | head -20 || true)
  if [[ -n "$warnings" ]]; then
    echo "Janus log lines at WARN or ERROR (count, line):"
    echo "$warnings"
  else
    echo "Janus log: no WARN or ERROR lines."
  fi
} | tee "$BENCH/last-signin.txt"
