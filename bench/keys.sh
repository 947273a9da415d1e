#!/usr/bin/env bash
# The cost of encryption at rest (issue 5), one command: bash bench/keys.sh
#
# Measures, on this machine, in the same run:
#   - USER_PASSWORD_AUTH sign-ins/s and REFRESH_TOKEN_AUTH/s at CLIENTS clients against two Janus
#     processes from the same binary: one with the built-in keyring (secrets encrypted under each
#     pool's data key, the default) and one with JANUS_KEY_PROVIDER=none (secrets stored in the
#     clear). Each repetition makes a fresh pool in each and alternates which goes first; the
#     summary gives the medians and the median of the per-repetition ratios on/off.
#   - the time a CMK rotation takes to re-wrap the data keys of POOLS pools
#     (crates/janus-core/examples/rewrap.rs: pools made through the services in a temporary
#     store, then `rotate_key`, which re-wraps every DEK in one transaction per pool).
#
# Knobs (environment): JANUS_BIN (a prebuilt janus; default: build this tree's release),
# LOADGEN (a prebuilt loadgen; default: build release), REWRAP_PROFILE (release|dev, default
# release), REPS=5, USERS=32, SECS=5, WARMUP=1, CLIENTS=8, POOLS=10000, ON_PORT=19241,
# OFF_PORT=19242. Everything it starts it stops (by pid). The summary is printed and written to
# bench/last-keys.txt.
set -euo pipefail

REPS=${REPS:-5}
USERS=${USERS:-32}
SECS=${SECS:-5}
WARMUP=${WARMUP:-1}
CLIENTS=${CLIENTS:-8}
POOLS=${POOLS:-10000}
PASSWORD='Bench-Passw0rd!'

source "$(dirname "$0")/lib.sh"

build_janus
if [[ -n "${LOADGEN:-}" ]]; then LG=$(realpath "$LOADGEN"); else build_loadgen; fi

WORK=$(mktemp -d "${BENCH_TMP:-${TMPDIR:-/tmp}}/janus-keys.XXXXXX")
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

field() { sed -n "s/.*\b$1=\([^ ]*\).*/\1/p" <<<"$2" | head -1; }
median() { sort -g | awk '{ v[NR] = $1 } END { if (NR == 0) print "NA"; else if (NR % 2) print v[(NR + 1) / 2]; else printf "%.3f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

declare -A URL PID
start() {
  local mode=$1 port=$2
  JANUS_KEY_PROVIDER=$([[ $mode == on ]] && echo keyring || echo none) \
    "$JANUS_BIN" serve --listen "127.0.0.1:$port" --data-dir "$WORK/$mode" >"$WORK/$mode.out" 2>"$WORK/$mode.err" &
  PID[$mode]=$!
  PIDS+=("${PID[$mode]}")
  URL[$mode]=http://127.0.0.1:$port
  "$LG" wait --url "${URL[$mode]}/health" --timeout 30 >/dev/null
}
start on "${ON_PORT:-19241}"
start off "${OFF_PORT:-19242}"

RESULTS=$WORK/results.tsv
: >"$RESULTS"
say "== $REPS reps, $CLIENTS clients, ${SECS}s per load, $USERS users per pool; binary: $JANUS_LABEL"
for rep in $(seq 1 "$REPS"); do
  if ((rep % 2)); then order=(on off); else order=(off on); fi
  for mode in "${order[@]}"; do
    tokens=$WORK/tokens-$mode-$rep
    out=$("$LG" setup-signin --endpoint "${URL[$mode]}" --name "keys-$mode-$rep" --users "$USERS" \
      --password "$PASSWORD" --tokens-out "$tokens")
    pool=$(field pool "$out") client=$(field client "$out")
    for op in password refresh; do
      line=$("$LG" run --endpoint "${URL[$mode]}" --op "$op" --clients "$CLIENTS" --duration "$SECS" \
        --warmup "$WARMUP" --pool "$pool" --client-id "$client" --keys "$USERS" --password "$PASSWORD" \
        --tokens "$tokens" --server-pid "${PID[$mode]}" | grep '^RESULT')
      printf '%s\t%s\t%s\t%s\t%s\n' "$rep" "$mode" "$op" "$(field ops_s "$line")" "$(field err "$line")" >>"$RESULTS"
      say "   rep $rep encryption $mode $op: $(field ops_s "$line") ops/s, p50 $(field p50_ms "$line") ms, errors $(field err "$line")"
    done
  done
done

say "== re-wrapping the data keys of $POOLS pools (CMK rotation)"
profile=${REWRAP_PROFILE:-release}
REWRAP=$(cargo run --quiet $([[ $profile == release ]] && echo --release) -p janus-core --example rewrap -- "$POOLS" | grep '^rewrap')

{
  echo "bench/keys.sh — $(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores, binary: $JANUS_LABEL"
  echo "command: REPS=$REPS USERS=$USERS SECS=$SECS CLIENTS=$CLIENTS POOLS=$POOLS bash bench/keys.sh"
  for op in password refresh; do
    on=$(awk -v op="$op" '$2 == "on" && $3 == op { print $4 }' "$RESULTS" | median)
    off=$(awk -v op="$op" '$2 == "off" && $3 == op { print $4 }' "$RESULTS" | median)
    ratio=$(awk -v op="$op" '$3 == op { r[$1, $2] = $4 } END { for (k in r) { split(k, p, SUBSEP); if (p[2] == "on" && r[p[1], "off"] > 0) print r[k] / r[p[1], "off"] } }' "$RESULTS" | median)
    errs=$(awk -v op="$op" '$3 == op { e += $5 } END { print e + 0 }' "$RESULTS")
    printf '%-9s encryption on %s ops/s, off %s ops/s (medians of %s); on/off median ratio %s (cost %s%%); errors %s\n' \
      "$op" "$on" "$off" "$REPS" "$ratio" "$(awk -v r="$ratio" 'BEGIN { printf "%.1f", (1 - r) * 100 }')" "$errs"
  done
  echo "re-wrap ($profile build): $REWRAP"
} | tee "$BENCH/last-keys.txt"
