#!/usr/bin/env bash
# The stores side by side (issue 14), one command: bash bench/postgres.sh
#
# Four set-ups of one region, measured in the same run, interleaved, REPS times:
#   sqlite — one node on the embedded store;
#   pg1    — one node on PostgreSQL (a throw-away cluster from scripts/postgres-for-tests,
#            fsync on, on this machine's disk);
#   pg1h   — the pg1 node alone behind HAProxy (the proxy's own cost);
#   pg2    — two nodes on that PostgreSQL behind HAProxy (round robin), the deployment of
#            deploy/; the load goes to HAProxy.
# Loads (loadgen, CLIENTS concurrent clients): AdminCreateUser/s (CREATES users into a fresh
# pool; "create4": the same spread over 4 fresh pools at once), AdminGetUser/s (SECS seconds, random users), USER_PASSWORD_AUTH/s and
# REFRESH_TOKEN_AUTH/s (SECS seconds, USERS users). The raw argon2id rate of this machine is
# measured beside them: USER_PASSWORD_AUTH is bounded by it.
# The summary gives medians and the medians of per-repetition ratios to sqlite; it is printed
# and written to bench/last-postgres.txt (raw loadgen lines: bench/last-postgres.log).
#
# Knobs: JANUS_BIN, REPS=3, CLIENTS=8, CREATES=2000, SECS=5, USERS=64, BENCH_TMP.
# Needs haproxy and PostgreSQL's server binaries (scripts/setup-test-env installs both).
set -euo pipefail

REPS=${REPS:-3}
CLIENTS=${CLIENTS:-8}
CREATES=${CREATES:-2000}
SECS=${SECS:-5}
USERS=${USERS:-64}
PASSWORD='Bench-Passw0rd!'

source "$(dirname "$0")/lib.sh"
build_janus
build_loadgen

WORK=$(mktemp -d "${BENCH_TMP:-${TMPDIR:-/tmp}}/janus-pgbench.XXXXXX")
chmod 755 "$WORK"
PIDS=()
cleanup() {
  local pid
  # Nodes are started inside $(…), a subshell: their pids come back through a file.
  [[ -f $WORK/node-pids ]] && mapfile -t -O "${#PIDS[@]}" PIDS <"$WORK/node-pids"
  for pid in "${PIDS[@]}"; do
    kill -TERM "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  "$ROOT/scripts/postgres-for-tests" stop "$WORK/pg" >/dev/null 2>&1 || true
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
field() { sed -n "s/.* $1=\([^ ]*\).*/\1/p" <<<" $2"; }

say "== starting PostgreSQL"
PG_ADMIN=$("$ROOT/scripts/postgres-for-tests" start "$WORK/pg")
PG_BASE=${PG_ADMIN%/*}

# node NAME STORE_ARGS... → starts janus, echoes its URL; pid appended to $WORK/node-pids
start_node() {
  local name=$1 port
  shift
  port=$(free_port)
  # One keyring unlock secret for every node of the region (the keyring is in its database).
  JANUS_KEYRING_KEY_FILE=$WORK/keyring.key "$JANUS_BIN" serve --listen "127.0.0.1:$port" --data-dir "$WORK/$name" "$@" \
    >"$WORK/$name.out" 2>"$WORK/$name.err" &
  echo "$!" >>"$WORK/node-pids"
  "$LG" wait --url "http://127.0.0.1:$port/health" --timeout 60 >/dev/null || { say "node $name did not start:"; tail -3 "$WORK/$name.err" >&2; exit 1; }
  echo "http://127.0.0.1:$port"
}

psql "$PG_ADMIN" -qc "CREATE DATABASE pg1" >/dev/null
psql "$PG_ADMIN" -qc "CREATE DATABASE pg2" >/dev/null
declare -A URL
URL[sqlite]=$(start_node sqlite) || exit 1
URL[pg1]=$(start_node pg1 --store "$PG_BASE/pg1") || exit 1
A=$(start_node pg2a --store "$PG_BASE/pg2") || exit 1
B=$(start_node pg2b --store "$PG_BASE/pg2") || exit 1
HPORT=$(free_port)
cat >"$WORK/haproxy.cfg" <<EOF
global
    maxconn 4096
defaults
    mode http
    timeout connect 5s
    timeout client 60s
    timeout server 60s
    option http-keep-alive
frontend janus
    bind 127.0.0.1:$HPORT
    default_backend nodes
backend nodes
    balance roundrobin
    option httpchk GET /health
    server a ${A#http://} check inter 1s
    server b ${B#http://} check inter 1s
EOF
haproxy -f "$WORK/haproxy.cfg" -db >"$WORK/haproxy.log" 2>&1 &
PIDS+=("$!")
# pg1h: the pg1 node alone behind the same proxy, so that pg2 against pg1h is the second
# node's own cost and pg1h against pg1 the proxy's hop.
H1PORT=$(free_port)
sed -e "s/bind 127.0.0.1:$HPORT/bind 127.0.0.1:$H1PORT/" -e "/server a /d" \
  -e "s|server b .*|server a ${URL[pg1]#http://} check inter 1s|" "$WORK/haproxy.cfg" >"$WORK/haproxy1.cfg"
haproxy -f "$WORK/haproxy1.cfg" -db >"$WORK/haproxy1.log" 2>&1 &
PIDS+=("$!")
URL[pg1h]=http://127.0.0.1:$H1PORT
URL[pg2]=http://127.0.0.1:$HPORT
"$LG" wait --url "${URL[pg2]}/health" --timeout 30 >/dev/null
"$LG" wait --url "${URL[pg1h]}/health" --timeout 30 >/dev/null
SETUPS=(sqlite pg1 pg1h pg2)

LOG=$BENCH/last-postgres.log
: >"$LOG"
RESULTS=$WORK/results.tsv # setup op rep ops_s p50 p99 err
: >"$RESULTS"

record() { # SETUP OP REP OUTPUT
  local line
  printf '%s %s rep=%s %s\n' "$1" "$2" "$3" "$4" >>"$LOG"
  line=$(grep '^RESULT' <<<"$4")
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "$(field ops_s "$line")" "$(field p50_ms "$line")" \
    "$(field p99_ms "$line")" "$(field err "$line")" >>"$RESULTS"
}

# AdminCreateUser spread over 4 fresh pools, CLIENTS/4 clients and CREATES/4 users each, at
# once: PostgreSQL serializes the writes of one pool (its lock), SQLite every write of the
# node. Prints one RESULT line: the rates summed, the worst p50/p99, the errors summed.
create_in_four_pools() { # SETUP REP URL
  local i pool pids=() per=$((CLIENTS / 4 > 0 ? CLIENTS / 4 : 1))
  for i in 1 2 3 4; do
    pool=$("$LG" create-pool --endpoint "$3" --name "bench4-$1-$2-$i")
    "$LG" run --endpoint "$3" --op create --pool "$pool" --clients "$per" --count $((CREATES / 4)) --prefix w >"$WORK/c4-$i" &
    pids+=("$!")
  done
  wait "${pids[@]}"
  grep -h '^RESULT' "$WORK"/c4-? | awk '{ for (i = 2; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
    ops += v["ops_s"]; err += v["err"]; if (v["p50_ms"] > p50) p50 = v["p50_ms"]; if (v["p99_ms"] > p99) p99 = v["p99_ms"] }
    END { printf "RESULT op=create4 ops_s=%.1f p50_ms=%s p99_ms=%s err=%d\n", ops, p50, p99, err }'
}

measure() { # SETUP REP
  local s=$1 rep=$2 url=${URL[$1]} pool out pool_s client tokens
  pool=$("$LG" create-pool --endpoint "$url" --name "bench-$s-$rep")
  out=$("$LG" run --endpoint "$url" --op create --pool "$pool" --clients "$CLIENTS" --count "$CREATES" --prefix u)
  record "$s" create "$rep" "$out"
  record "$s" create4 "$rep" "$(create_in_four_pools "$s" "$rep" "$url")"
  out=$("$LG" run --endpoint "$url" --op get --pool "$pool" --clients "$CLIENTS" --duration "$SECS" --warmup 1 --keys "$CREATES" --prefix u)
  record "$s" get "$rep" "$out"
  tokens=$WORK/tokens-$s-$rep
  out=$("$LG" setup-signin --endpoint "$url" --name "signin-$s-$rep" --users "$USERS" --password "$PASSWORD" --tokens-out "$tokens")
  pool_s=$(field pool "$out")
  client=$(field client "$out")
  for op in password refresh; do
    out=$("$LG" run --endpoint "$url" --op "$op" --clients "$CLIENTS" --duration "$SECS" --warmup 1 \
      --pool "$pool_s" --client-id "$client" --keys "$USERS" --password "$PASSWORD" --tokens "$tokens")
    record "$s" "$op" "$rep" "$out"
  done
}

ARGON=()
for rep in $(seq 1 "$REPS"); do
  # Rotate the order between repetitions, so no set-up always goes first.
  order=("${SETUPS[@]:$(((rep - 1) % ${#SETUPS[@]}))}" "${SETUPS[@]:0:$(((rep - 1) % ${#SETUPS[@]}))}")
  for s in "${order[@]}"; do
    say "== rep $rep: $s"
    measure "$s" "$rep"
  done
  a=$("$LG" argon2 --threads 2 --duration 3)
  ARGON+=("$(field hashes_s "$(grep '^ARGON2' <<<"$a")")")
done

median() { sort -g | awk '{ v[NR] = $1 } END { if (NR == 0) print "NA"; else if (NR % 2) print v[(NR + 1) / 2]; else printf "%.1f", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
value() { awk -F'\t' -v s="$1" -v o="$2" -v r="$3" '$1 == s && $2 == o && $3 == r { print $4 }' "$RESULTS"; }
ARGON_MED=$(printf '%s\n' "${ARGON[@]}" | median)

{
  echo "bench/postgres.sh — $JANUS_LABEL; REPS=$REPS CLIENTS=$CLIENTS CREATES=$CREATES SECS=$SECS USERS=$USERS"
  echo "raw argon2id (2 threads): median $ARGON_MED hashes/s (${ARGON[*]})"
  printf '%-10s %-8s %12s %10s %10s  %s\n' op setup "median/s" "x sqlite" "p99 ms" "reps"
  for op in create create4 get password refresh; do
    for s in "${SETUPS[@]}"; do
      vals=$(for r in $(seq 1 "$REPS"); do value "$s" "$op" "$r"; done)
      ratio=$(for r in $(seq 1 "$REPS"); do awk -v a="$(value "$s" "$op" "$r")" -v b="$(value sqlite "$op" "$r")" 'BEGIN { if (b > 0) printf "%.3f\n", a / b }'; done | median)
      p99=$(awk -F'\t' -v s="$s" -v o="$op" '$1 == s && $2 == o { print $6 }' "$RESULTS" | median)
      printf '%-10s %-8s %12s %10s %10s  %s\n' "$op" "$s" "$(median <<<"$vals")" "$ratio" "$p99" "$(tr '\n' ' ' <<<"$vals")"
    done
  done
  for s in "${SETUPS[@]}"; do
    pw=$(for r in $(seq 1 "$REPS"); do value "$s" password "$r"; done | median)
    awk -v p="$pw" -v a="$ARGON_MED" -v s="$s" 'BEGIN { printf "USER_PASSWORD_AUTH %s: %.0f%% of the raw argon2id rate\n", s, 100 * p / a }'
  done
  errs=$(awk -F'\t' '$7 > 0 { print $1, $2, "rep", $3, $7 " errors" }' "$RESULTS")
  [[ -z $errs ]] && echo "no errors" || echo "$errs"
} | tee "$BENCH/last-postgres.txt"
