#!/usr/bin/env bash
# Where a call's server CPU goes: bash bench/profile.sh OP [OP ...]
#   OP: get (AdminGetUser), create (AdminCreateUser), getuser (GetUser), refresh
#   (REFRESH_TOKEN_AUTH), srp (USER_SRP_AUTH, both round trips), password (USER_PASSWORD_AUTH).
#
# Starts one Janus (a release build of this tree, or JANUS_BIN) on a fresh data dir, sets up a
# pool with USERS users and their tokens, then for each OP runs CLIENTS clients for SECS seconds
# while `perf record` samples the server (F samples/s, call graphs when CALLGRAPH=1). Prints the
# top TOP symbols of each profile (self time, `perf report --no-children`) and leaves the full
# data in bench/profile-OP.data (git-ignored) for `perf report -i`.
# Knobs: JANUS_BIN, USERS=64, CLIENTS=8, SECS=8, F=999, TOP=40, CALLGRAPH=0, JANUS_PORT=19239.
set -euo pipefail

USERS=${USERS:-64}
CLIENTS=${CLIENTS:-8}
SECS=${SECS:-8}
F=${F:-999}
TOP=${TOP:-40}
JPORT=${JANUS_PORT:-19239}
PASSWORD='Bench-Passw0rd!'
source "$(dirname "$0")/lib.sh"
command -v perf >/dev/null || { say "perf is not installed (Debian: linux-perf)"; exit 1; }
build_janus
build_loadgen

WORK=$(mktemp -d "${BENCH_TMP:-${TMPDIR:-/tmp}}/janus-profile.XXXXXX")
JPID=
cleanup() {
  [[ -n $JPID ]] && { kill -TERM "$JPID" 2>/dev/null || true; wait "$JPID" 2>/dev/null || true; }
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

JURL=http://127.0.0.1:$JPORT
"$JANUS_BIN" serve --listen "127.0.0.1:$JPORT" --data-dir "$WORK/janus" >"$WORK/janus.out" 2>"$WORK/janus.err" &
JPID=$!
"$LG" wait --url "$JURL/health" --timeout 30 >/dev/null
field() { sed -n "s/.* $1=\([^ ]*\).*/\1/p" <<<" $2"; }
out=$("$LG" setup-signin --endpoint "$JURL" --name profile --users "$USERS" --password "$PASSWORD" --tokens-out "$WORK/tokens")
POOL=$(field pool "$out")
CLIENT=$(field client "$out")
START=$USERS # `create` makes users after the signed-in ones

graph=()
[[ ${CALLGRAPH:-0} == 1 ]] && graph=(--call-graph dwarf,32768)
for op in "$@"; do
  data=$BENCH/profile-$op.data
  perf record -q -F "$F" "${graph[@]}" -p "$JPID" -o "$data" -- sleep "$((SECS + 1))" 2>/dev/null &
  ppid=$!
  start=0
  [[ $op == create ]] && start=$START
  out=$("$LG" run --endpoint "$JURL" --op "$op" --clients "$CLIENTS" --duration "$SECS" --warmup 1 \
    --pool "$POOL" --client-id "$CLIENT" --keys "$USERS" --prefix u --start "$start" \
    --password "$PASSWORD" --tokens "$WORK/tokens" --server-pid "$JPID")
  wait "$ppid" || true
  grep '^ERROR' <<<"$out" | head -3 >&2 || true
  line=$(grep '^RESULT' <<<"$out")
  ok=$(field ok "$line")
  START=$((START + ok + 100000))
  printf '== %s: %s ops/s, server CPU %s µs/op\n' "$op" "$(field ops_s "$line")" \
    "$(awk -v c="$(field server_cpu_s "$line")" -v n="$ok" 'BEGIN { printf "%.0f", c * 1e6 / n }')"
  perf report -i "$data" --no-children --sort symbol --percent-limit 0.4 --stdio 2>/dev/null |
    grep -v '^#' | grep -v '^$' | sed 's/ \{2,\}- .*$//' | head -n "$TOP" || true
done
