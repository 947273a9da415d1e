# Shared set-up of the bench scripts (run.sh, signin.sh, replication.sh): sourced, not run.
# After it: $BENCH, $ROOT (the working directory), the admin credentials in the environment,
# say, and the helpers that build janus / loadgen and install cognito-local.

BENCH=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(dirname "$BENCH")
cd "$ROOT"

export JANUS_ADMIN_ACCESS_KEY_ID=AKIABENCHBENCHBENCH1
export JANUS_ADMIN_SECRET_ACCESS_KEY=BenchBenchBenchBenchBenchBenchBenchBench
unset JANUS_LISTEN JANUS_DATA_DIR JANUS_REGION JANUS_LOG_FORMAT JANUS_PEERS JANUS_ADVERTISE_URL

say() { printf '%s\n' "$*" >&2; }

# Sets JANUS_BIN and JANUS_LABEL: a release build of this tree, or the prebuilt $JANUS_BIN.
build_janus() {
  if [[ -z "${JANUS_BIN:-}" ]]; then
    say "== building janus (release)"
    cargo build --release --quiet --bin janus
    JANUS_BIN=$ROOT/target/release/janus
    JANUS_LABEL="this tree, $(git -C "$ROOT" describe --always --dirty 2>/dev/null || echo unknown)"
  else
    JANUS_BIN=$(realpath "$JANUS_BIN")
    JANUS_LABEL=${JANUS_LABEL:-"prebuilt $JANUS_BIN"}
  fi
}

# Sets LG: the release loadgen binary.
build_loadgen() {
  say "== building bench/loadgen (release)"
  cargo build --release --quiet -p loadgen
  LG=$ROOT/target/release/loadgen
}

# Sets CL_VERSION and CL_START; runs npm ci when the pinned cognito-local is not installed.
install_cognito_local() {
  CL_VERSION=$(sed -n 's/.*"cognito-local": *"\([^"]*\)".*/\1/p' "$BENCH/package.json")
  if [[ "$(sed -n 's/.*"version": *"\([^"]*\)".*/\1/p' "$BENCH/node_modules/cognito-local/package.json" 2>/dev/null)" != "$CL_VERSION" ]]; then
    say "== npm ci (cognito-local $CL_VERSION)"
    (cd "$BENCH" && npm ci --no-audit --no-fund --loglevel=error >&2)
  fi
  CL_START=$BENCH/node_modules/cognito-local/lib/bin/start.js
}

# One `janus serve` of $JANUS_BIN on 127.0.0.1:$1, its data under a fresh $WORK (removed on
# exit, the server stopped with it); sets WORK and PID. Further arguments go to `janus serve`.
start_one_janus() {
  local port=$1
  shift
  WORK=$(mktemp -d "${BENCH_TMP:-${TMPDIR:-/tmp}}/janus-bench.XXXXXX")
  PID=
  trap 'if [[ -n "$PID" ]]; then kill -TERM "$PID" 2>/dev/null || true; wait "$PID" 2>/dev/null || true; fi; rm -rf "$WORK"' EXIT
  trap 'exit 130' INT TERM
  if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then say "port $port is taken: set PORT"; exit 1; fi
  "$JANUS_BIN" serve --region us-east-1 --listen "127.0.0.1:$port" --data-dir "$WORK/a" "$@" >"$WORK/a.log" 2>&1 &
  PID=$!
}

# The machine line every summary starts with.
machine_line() {
  echo "Machine: $(nproc) cores ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')), $(uname -sr); load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
}
