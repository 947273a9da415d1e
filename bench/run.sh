#!/usr/bin/env bash
# Janus benchmarks, one command: bash bench/run.sh   (sign-in benchmarks: bash bench/run.sh signin)
#
# Measures, on this machine:
#   1. AdminCreateUser/s and AdminGetUser/s with 1, 8 and 64 concurrent clients, for Janus and
#      for cognito-local (bench/package.json pins it) in the same run, interleaved, REPS times;
#      the table gives medians and the median of the per-repetition Janus/cognito-local ratios.
#      Each create measurement makes CREATE_COUNT users in a fresh pool (cognito-local rewrites
#      a pool's whole JSON file on every write, so its create rate depends on the pool's size:
#      both servers get exactly the same work); each get measurement reads random users of that
#      pool for GET_SECS seconds.
#   2. Janus's store size per 100k users: LOAD_USERS users (64 clients) into a fresh data dir,
#      sized after a clean shutdown (SIGTERM) and again after a WAL checkpoint.
#   3. Idle RSS (fresh, right after that load, restarted on the loaded store) and the time
#      from exec to the first 200 on /health (median of STARTUP_RUNS, fresh and loaded).
#
# Knobs (environment): JANUS_BIN (a prebuilt janus; default: build this tree's), REPS=3,
# CREATE_COUNT=2000, GET_SECS=5, LOAD_USERS=100000, STARTUP_RUNS=10, JANUS_PORT=19229,
# COGNITO_PORT=19230, BENCH_TMP (where data dirs go; default $TMPDIR or /tmp).
# Everything it starts it stops (by pid), and it deletes its data dirs on exit. The summary is
# printed and also written to bench/last-run.txt (the raw loadgen lines to bench/last-run.log).
set -euo pipefail

# `bash bench/run.sh signin` / `oauth`: the sign-in or OAuth benchmarks instead (bench/signin.sh, oauth.sh).
if [[ "${1:-}" == oauth ]]; then
  exec bash "$(dirname "$0")/oauth.sh"
fi
if [[ "${1:-}" == signin ]]; then
  exec bash "$(dirname "$0")/signin.sh"
fi

REPS=${REPS:-3}
CREATE_COUNT=${CREATE_COUNT:-2000}
GET_SECS=${GET_SECS:-5}
LOAD_USERS=${LOAD_USERS:-100000}
STARTUP_RUNS=${STARTUP_RUNS:-10}
JPORT=${JANUS_PORT:-19229}
CPORT=${COGNITO_PORT:-19230}
CLIENTS=(1 8 64)

source "$(dirname "$0")/lib.sh"

# ---- build and install -------------------------------------------------------------------
build_janus
build_loadgen
install_cognito_local

# ---- processes and cleanup ---------------------------------------------------------------
WORK=$(mktemp -d "${BENCH_TMP:-${TMPDIR:-/tmp}}/janus-bench.XXXXXX")
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

forget() { # drop a pid from PIDS
  local keep=() p
  for p in "${PIDS[@]}"; do [[ "$p" == "$1" ]] || keep+=("$p"); done
  PIDS=("${keep[@]}")
}
stop() { kill -TERM "$1" 2>/dev/null || true; wait "$1" 2>/dev/null || true; forget "$1"; }

JURL=http://127.0.0.1:$JPORT
CURL=http://127.0.0.1:$CPORT
for url in "$JURL" "$CURL"; do
  if "$LG" wait --url "$url/health" --timeout 0.2 >/dev/null 2>&1; then
    say "something already answers on $url: set JANUS_PORT / COGNITO_PORT"; exit 1
  fi
done

JPID=
start_janus() { # DATA_DIR
  "$JANUS_BIN" serve --listen "127.0.0.1:$JPORT" --data-dir "$1" >>"$WORK/janus.out" 2>>"$WORK/janus.err" &
  JPID=$!
  PIDS+=("$JPID")
  "$LG" wait --url "$JURL/health" --timeout 30 >/dev/null
}
CPID=
start_cognito() { # DIR (its cwd; data in DIR/.cognito)
  mkdir -p "$1/.cognito"
  cognito_config "$1"
  (cd "$1" && PORT=$CPORT HOST=127.0.0.1 exec node "$CL_START") >>"$WORK/cognito.out" 2>>"$WORK/cognito.err" &
  CPID=$!
  PIDS+=("$CPID")
  "$LG" wait --url "$CURL/health" --timeout 60 >/dev/null
}
# cognito-local's default config makes every new pool use email addresses as usernames
# (UserPoolDefaults.UsernameAttributes = ["email"]), unlike Cognito and Janus, and then
# rejects Username "u123" ("Username should be an email."). Its documented config file
# turns that off, so both servers get identical requests.
cognito_config() { printf '{"UserPoolDefaults":{"UsernameAttributes":[]}}\n' >"$1/.cognito/config.json"; }

rss_mib() { awk '/^VmRSS/ { printf "%.1f", $2 / 1024 }' "/proc/$1/status"; }
field() { sed -n "s/.* $1=\([^ ]*\).*/\1/p" <<<"$2"; }

LOG=$BENCH/last-run.log
: >"$LOG"
RESULTS=$WORK/results.tsv
ERRORS=$WORK/errors.txt
: >"$RESULTS"
: >"$ERRORS"

# run_load SYSTEM URL PID REP CLIENTS OP ARGS... → a row of results.tsv
run_load() {
  local sys=$1 url=$2 pid=$3 rep=$4 clients=$5 op=$6
  shift 6
  local out line
  out=$("$LG" run --endpoint "$url" --op "$op" --clients "$clients" --server-pid "$pid" "$@")
  printf '%s rep=%s %s\n' "$sys" "$rep" "$out" >>"$LOG"
  line=$(grep '^RESULT' <<<"$out")
  grep '^ERROR' <<<"$out" | sed "s/^/$sys $op clients=$clients rep=$rep: /" >>"$ERRORS" || true
  local ok cpu
  ok=$(field ok "$line")
  cpu=$(field server_cpu_s "$line")
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$sys" "$op" "$clients" "$rep" "$(field ops_s "$line")" \
    "$(field p50_ms "$line")" "$(field p99_ms "$line")" "$(field err "$line")" \
    "$(awk -v c="$cpu" -v n="$ok" 'BEGIN { if (n > 0 && c != "NA") printf "%.0f", c * 1e6 / n; else print "NA" }')" >>"$RESULTS"
  say "   $sys $op c=$clients rep=$rep: $(field ops_s "$line") ops/s, p50 $(field p50_ms "$line") ms, p99 $(field p99_ms "$line") ms, errors $(field err "$line")"
}

LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)
T_START=$(date +%s)

# ---- 1. throughput, Janus vs cognito-local -----------------------------------------------
say "== throughput: $REPS reps x clients {${CLIENTS[*]}}: $CREATE_COUNT creates into a fresh pool, then ${GET_SECS}s of gets"
start_janus "$WORK/janus-tp"
start_cognito "$WORK/cognito-tp"
JANUS_TP_PID=$JPID
COGNITO_TP_PID=$CPID
measure() { # SYSTEM REP CLIENTS
  local sys=$1 rep=$2 c=$3 url pid pool
  if [[ $sys == janus ]]; then url=$JURL pid=$JANUS_TP_PID; else url=$CURL pid=$COGNITO_TP_PID; fi
  pool=$("$LG" create-pool --endpoint "$url" --name "bench-$rep-$c")
  run_load "$sys" "$url" "$pid" "$rep" "$c" create --pool "$pool" --count "$CREATE_COUNT"
  run_load "$sys" "$url" "$pid" "$rep" "$c" get --pool "$pool" --keys "$CREATE_COUNT" --duration "$GET_SECS" --warmup 0.5
}
for rep in $(seq 1 "$REPS"); do
  for c in "${CLIENTS[@]}"; do
    # Alternate which system goes first, so a drift in the machine's load hits both alike.
    if ((rep % 2)); then order=(janus cognito-local); else order=(cognito-local janus); fi
    for sys in "${order[@]}"; do measure "$sys" "$rep" "$c"; done
  done
done
TP_JANUS_RSS=$(rss_mib "$JANUS_TP_PID")
TP_COGNITO_RSS=$(rss_mib "$COGNITO_TP_PID")
stop "$JANUS_TP_PID"
stop "$COGNITO_TP_PID"

# ---- 3a. fresh start: startup time and idle RSS ------------------------------------------
say "== startup, fresh data dir ($STARTUP_RUNS runs each)"
STARTUP_FRESH=$("$LG" startup --url "$JURL/health" --runs "$STARTUP_RUNS" --reset "$WORK/janus-startup" -- \
  "$JANUS_BIN" serve --listen "127.0.0.1:$JPORT" --data-dir "$WORK/janus-startup")
echo "janus fresh $STARTUP_FRESH" >>"$LOG"
mkdir -p "$WORK/cognito-startup/.cognito"
cognito_config "$WORK/cognito-startup"
STARTUP_COGNITO=$(cd "$WORK/cognito-startup" && PORT=$CPORT HOST=127.0.0.1 "$LG" startup --url "$CURL/health" \
  --runs "$STARTUP_RUNS" --reset "$WORK/cognito-startup/.cognito/db" -- node "$CL_START")
echo "cognito-local fresh $STARTUP_COGNITO" >>"$LOG"
start_janus "$WORK/janus-idle"
sleep 2
IDLE_FRESH=$(rss_mib "$JPID")
stop "$JPID"
start_cognito "$WORK/cognito-idle"
sleep 2
IDLE_COGNITO=$(rss_mib "$CPID")
stop "$CPID"

# ---- 2. 100k users: load rate, store size ------------------------------------------------
say "== loading $LOAD_USERS users into a fresh Janus store (64 clients)"
DATA=$WORK/janus-100k
start_janus "$DATA"
pool=$("$LG" create-pool --endpoint "$JURL" --name bench-load)
LOAD_OUT=$("$LG" run --endpoint "$JURL" --op create --pool "$pool" --clients 64 --count "$LOAD_USERS" --server-pid "$JPID")
echo "janus load $LOAD_OUT" >>"$LOG"
grep '^ERROR' <<<"$LOAD_OUT" | sed "s/^/janus load of $LOAD_USERS: /" >>"$ERRORS" || true
LOAD_LINE=$(grep '^RESULT' <<<"$LOAD_OUT")
LOADED=$(field ok "$LOAD_LINE")
say "   $(field ops_s "$LOAD_LINE") creates/s, $LOADED users, $(field err "$LOAD_LINE") errors"
sleep 2
IDLE_AFTER_LOAD=$(rss_mib "$JPID")
stop "$JPID"
size_of() { stat -c %s "$1" 2>/dev/null || echo 0; }
DB_BYTES=$(size_of "$DATA/janus.db")
WAL_BYTES=$(size_of "$DATA/janus.db-wal")
SHM_BYTES=$(size_of "$DATA/janus.db-shm")
DIR_BYTES=$(du -sb "$DATA" | cut -f1)
CKPT_BYTES=NA
BREAKDOWN="NA (no python3 with sqlite3)"
if python3 -c 'import sqlite3' 2>/dev/null; then
  # A separate copy, so the startup runs below see the store exactly as Janus left it.
  cp -a "$DATA" "$WORK/ckpt"
  BREAKDOWN=$(python3 - "$WORK/ckpt/janus.db" "$LOADED" <<'EOF'
import sqlite3, sys
c = sqlite3.connect(sys.argv[1])
c.execute("PRAGMA wal_checkpoint(TRUNCATE)")
scale = 100000 / max(1, int(sys.argv[2])) / 1048576
try:
    rows = c.execute("SELECT name, SUM(pgsize) FROM dbstat GROUP BY name ORDER BY 2 DESC").fetchall()
    print(", ".join(f"{name} {size * scale:.1f}" for name, size in rows if size * scale >= 0.5) + f" (+ {sum(s for _, s in rows if s * scale < 0.5) * scale:.1f} in the rest)")
except sqlite3.Error as e:  # dbstat is compiled into most, not all, SQLite builds
    print(f"NA ({e})")
c.close()
EOF
)
  CKPT_BYTES=$(( $(size_of "$WORK/ckpt/janus.db") + $(size_of "$WORK/ckpt/janus.db-wal") ))
  rm -rf "$WORK/ckpt"
fi

# ---- 3b. loaded start: startup time and idle RSS -----------------------------------------
say "== startup with the $LOADED-user store ($STARTUP_RUNS runs)"
STARTUP_LOADED=$("$LG" startup --url "$JURL/health" --runs "$STARTUP_RUNS" -- \
  "$JANUS_BIN" serve --listen "127.0.0.1:$JPORT" --data-dir "$DATA")
echo "janus loaded $STARTUP_LOADED" >>"$LOG"
start_janus "$DATA"
sleep 2
IDLE_LOADED=$(rss_mib "$JPID")
stop "$JPID"

# ---- summary -----------------------------------------------------------------------------
LOAD_END=$(cut -d' ' -f1-3 /proc/loadavg)
T_END=$(date +%s)
per100k() { awk -v b="$1" -v n="$LOADED" 'BEGIN { if (b == "NA" || n == 0) print "NA"; else printf "%.1f MiB", b * 100000 / n / 1048576 }'; }
mib() { awk -v b="$1" 'BEGIN { if (b == "NA") print "NA"; else printf "%.1f MiB", b / 1048576 }'; }
{
  echo "Janus: $JANUS_LABEL; cognito-local $CL_VERSION on node $(node --version)"
  echo "Machine: $(nproc) cores ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')), $(awk '/MemTotal/ { printf "%.0f GiB", $2/1048576 }' /proc/meminfo), $(uname -sr); data dirs on $(df -T "$WORK" | awk 'NR==2 { print $2 }')"
  echo "Load average (1/5/15 min) at start: $LOAD_START, at end: $LOAD_END; measuring took $((T_END - T_START)) s"
  echo "Settings: REPS=$REPS CREATE_COUNT=$CREATE_COUNT GET_SECS=$GET_SECS LOAD_USERS=$LOAD_USERS STARTUP_RUNS=$STARTUP_RUNS"
  echo
  echo "Throughput (median of $REPS; ratio = median of the per-repetition Janus/cognito-local ratios):"
  echo
  awk -F'\t' -v reps="$REPS" '
    function median(s,   a, n, i, j, t) {
      n = split(s, a, " ")
      for (i = 2; i <= n; i++) { t = a[i] + 0; for (j = i - 1; j >= 1 && a[j] + 0 > t; j--) a[j + 1] = a[j]; a[j + 1] = t }
      return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
    }
    function add(k, v) { if (k in vals) v = vals[k] " " v; vals[k] = v }
    function runs(s,   a, n, i, out) { n = split(s, a, " "); out = ""; for (i = 1; i <= n; i++) out = out (i > 1 ? ", " : "") sprintf("%.0f", a[i]); return out }
    { k = $2 SUBSEP $3; add("ops" SUBSEP $1 SUBSEP k, $5); add("p50" SUBSEP $1 SUBSEP k, $6); add("p99" SUBSEP $1 SUBSEP k, $7)
      add("cpu" SUBSEP $1 SUBSEP k, $9); errs[$1 SUBSEP k] += $8; ops[$1 SUBSEP k SUBSEP $4] = $5 }
    END {
      print "| operation | clients | Janus ops/s | Janus p50 / p99 ms | cognito-local ops/s | cognito-local p50 / p99 ms | Janus / cognito-local | server CPU µs/op (Janus / c-l) | errors (J / c-l) |"
      print "|---|---:|---:|---:|---:|---:|---:|---:|---:|"
      split("create get", opsl, " "); split("1 8 64", cl, " ")
      for (o = 1; o <= 2; o++) for (c = 1; c <= 3; c++) {
        k = opsl[o] SUBSEP cl[c]; r = ""
        for (i = 1; i <= reps; i++) {
          a = ops["janus" SUBSEP k SUBSEP i]; b = ops["cognito-local" SUBSEP k SUBSEP i]
          if (b > 0) r = r " " a / b
        }
        name = opsl[o] == "create" ? "AdminCreateUser" : "AdminGetUser"
        printf "| %s | %s | %.0f (%s) | %.2f / %.2f | %.0f (%s) | %.2f / %.2f | **%.1f×** | %s / %s | %d / %d |\n", name, cl[c],
          median(vals["ops" SUBSEP "janus" SUBSEP k]), runs(vals["ops" SUBSEP "janus" SUBSEP k]),
          median(vals["p50" SUBSEP "janus" SUBSEP k]), median(vals["p99" SUBSEP "janus" SUBSEP k]),
          median(vals["ops" SUBSEP "cognito-local" SUBSEP k]), runs(vals["ops" SUBSEP "cognito-local" SUBSEP k]),
          median(vals["p50" SUBSEP "cognito-local" SUBSEP k]), median(vals["p99" SUBSEP "cognito-local" SUBSEP k]),
          median(r), median(vals["cpu" SUBSEP "janus" SUBSEP k]), median(vals["cpu" SUBSEP "cognito-local" SUBSEP k]),
          errs["janus" SUBSEP k], errs["cognito-local" SUBSEP k]
      }
    }' "$RESULTS"
  echo
  echo "Janus alone:"
  echo
  echo "| measure | value |"
  echo "|---|---:|"
  echo "| AdminCreateUser/s loading $LOADED users into a fresh store, 64 clients | $(field ops_s "$LOAD_LINE") (p50 $(field p50_ms "$LOAD_LINE") ms, p99 $(field p99_ms "$LOAD_LINE") ms, $(field err "$LOAD_LINE") errors) |"
  echo "| store per 100k users, as left after SIGTERM (janus.db + -wal + -shm) | $(per100k "$DIR_BYTES") (db $(mib "$DB_BYTES"), wal $(mib "$WAL_BYTES"), shm $(mib "$SHM_BYTES")) |"
  echo "| store per 100k users, after PRAGMA wal_checkpoint(TRUNCATE) | $(per100k "$CKPT_BYTES") |"
  echo "| of which, by table and index (MiB per 100k users) | $BREAKDOWN |"
  echo "| idle RSS, fresh start | $IDLE_FRESH MiB |"
  echo "| idle RSS, right after the $LOADED-user load | $IDLE_AFTER_LOAD MiB |"
  echo "| idle RSS, restarted on the $LOADED-user store | $IDLE_LOADED MiB |"
  echo "| RSS right after the throughput runs, last load 64 clients (Janus / cognito-local) | $TP_JANUS_RSS / $TP_COGNITO_RSS MiB |"
  echo "| exec → first 200 on /health, fresh data dir (median of $STARTUP_RUNS) | $(field median_ms " $STARTUP_FRESH") ms (min $(field min_ms " $STARTUP_FRESH"), max $(field max_ms " $STARTUP_FRESH")) |"
  echo "| exec → first 200 on /health, $LOADED-user store (median of $STARTUP_RUNS) | $(field median_ms " $STARTUP_LOADED") ms (min $(field min_ms " $STARTUP_LOADED"), max $(field max_ms " $STARTUP_LOADED")) |"
  echo
  echo "cognito-local for reference: idle RSS $IDLE_COGNITO MiB fresh; exec → first 200 on /health $(field median_ms " $STARTUP_COGNITO") ms (median of $STARTUP_RUNS, fresh)."
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
} | tee "$BENCH/last-run.txt"
