#!/usr/bin/env bash
# Load run for docs/benchmarks.md. The server under test is pinned to core 0, wrk to core 1.
# Each knogin route is compared with a bare axum handler (examples/bench-baseline.rs) that
# returns the same bytes, on the same core, in the same run.
#
#   scripts/bench.sh                 # 10 s per measurement
#   DURATION=30s scripts/bench.sh
#
# Needs wrk and taskset (apt-get install wrk util-linux) and, for the PostgreSQL rows,
# PostgreSQL at $KNOGIN_BENCH_POSTGRES_URL (default postgres://postgres@127.0.0.1:5432/knogin_bench,
# recreated on every run).
set -euo pipefail
cd "$(dirname "$0")/.."

DURATION=${DURATION:-10s}
CONNECTIONS=${CONNECTIONS:-32}
PG_URL=${KNOGIN_BENCH_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/knogin_bench}
PORT=18080
BASE_PORT=18090

echo "building release examples…" >&2
cargo build --release --quiet --example reference-server --example bench-baseline
server="$PWD/target/release/examples/reference-server"
baseline="$PWD/target/release/examples/bench-baseline"
work=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$work"; }
trap cleanup EXIT

wait_up() {
  for _ in $(seq 1 100); do
    [ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$1/")" != 000 ] && return 0
    sleep 0.1
  done
  echo "port $1 did not come up" >&2; exit 1
}
rss_mb() { awk '/VmRSS/ {printf "%.1f", $2/1024}' "/proc/$1/status"; }

# run_wrk URL [header] -> "requests/s p99"
run_wrk() {
  local out header=()
  [ -z "${2:-}" ] || header=(-H "$2")
  out=$(taskset -c 1 wrk -t1 -c"$CONNECTIONS" -d"$DURATION" --latency "${header[@]}" "$1")
  local rps p99
  rps=$(awk '/Requests\/sec/ {print $2}' <<<"$out")
  p99=$(awk '$1 == "99%" {print $2}' <<<"$out")
  local errors
  errors=$(awk '/Non-2xx/ {print $NF}' <<<"$out")
  [ -z "$errors" ] || { echo "non-2xx answers during the run: $errors" >&2; exit 1; }
  echo "$rps $p99"
}

# measure NAME DATABASE_URL
measure() {
  local name=$1 db=$2
  export KNOGIN_ISSUER="http://127.0.0.1:$PORT" KNOGIN_DATABASE_URL="$db"
  local token
  token=$("$server" admin-token --tenant bench 2>/dev/null)
  RUST_LOG=warn taskset -c 0 "$server" serve --bind "127.0.0.1:$PORT" 2>>"$work/server.log" &
  local pid=$!; pids+=("$pid")
  wait_up "$PORT"
  for i in $(seq 1 20); do
    curl -sf -o /dev/null -X POST "http://127.0.0.1:$PORT/v1/platform/apps" -H "Authorization: Bearer $token" \
      -H 'Content-Type: application/json' \
      -d "{\"name\":\"bench app $i\",\"grant_types\":[\"client_credentials\"],\"requested_scopes\":[\"webhooks:write\"]}"
  done
  curl -sf "http://127.0.0.1:$PORT/.well-known/jwks.json" >"$work/jwks.json"
  curl -sf "http://127.0.0.1:$PORT/v1/platform/apps" -H "Authorization: Bearer $token" >"$work/apps.json"
  sleep 1
  local idle; idle=$(rss_mb "$pid")

  local jwks apps logged=""
  jwks=$(run_wrk "http://127.0.0.1:$PORT/.well-known/jwks.json")
  local jwks_rss; jwks_rss=$(rss_mb "$pid")
  apps=$(run_wrk "http://127.0.0.1:$PORT/v1/platform/apps" "Authorization: Bearer $token")
  local load_rss; load_rss=$(rss_mb "$pid")
  kill "$pid"; wait "$pid" 2>/dev/null || true
  if [ "${3:-}" = with-logging ]; then
    RUST_LOG=info taskset -c 0 "$server" serve --bind "127.0.0.1:$PORT" 2>/dev/null &
    pid=$!; pids+=("$pid")
    wait_up "$PORT"
    logged=$(run_wrk "http://127.0.0.1:$PORT/.well-known/jwks.json")
    kill "$pid"; wait "$pid" 2>/dev/null || true
  fi

  local base_jwks base_apps
  taskset -c 0 "$baseline" "127.0.0.1:$BASE_PORT" "$work/jwks.json" & local bpid=$!; pids+=("$bpid")
  wait_up "$BASE_PORT"
  base_jwks=$(run_wrk "http://127.0.0.1:$BASE_PORT/.well-known/jwks.json")
  kill "$bpid"; wait "$bpid" 2>/dev/null || true
  taskset -c 0 "$baseline" "127.0.0.1:$BASE_PORT" "$work/apps.json" & bpid=$!; pids+=("$bpid")
  wait_up "$BASE_PORT"
  base_apps=$(run_wrk "http://127.0.0.1:$BASE_PORT/v1/platform/apps")
  kill "$bpid"; wait "$bpid" 2>/dev/null || true

  row() { # route knogin baseline
    read -r k_rps k_p99 <<<"$2"; read -r b_rps b_p99 <<<"$3"
    printf '| %s | %s | %.0f | %s | %.0f | %s | **%.2f×** |\n' "$name" "$1" "$k_rps" "$k_p99" "$b_rps" "$b_p99" \
      "$(awk -v k="$k_rps" -v b="$b_rps" 'BEGIN {print k / b}')"
  }
  row "GET /.well-known/jwks.json" "$jwks" "$base_jwks"
  [ -z "$logged" ] || row "GET /.well-known/jwks.json, a log line per request (RUST_LOG=info, to /dev/null)" "$logged" "$base_jwks"
  row "GET /v1/platform/apps (20 apps, $(wc -c <"$work/apps.json") B)" "$apps" "$base_apps"
  echo "| $name | RSS: idle ${idle} MB, after JWKS load ${jwks_rss} MB, after apps load ${load_rss} MB | | | | | |"
}

echo "| store | route | knogin req/s | knogin p99 | bare axum req/s | bare p99 | ratio |"
echo "| --- | --- | ---: | ---: | ---: | ---: | ---: |"
measure SQLite "sqlite://$work/bench.db" with-logging
if psql "${PG_URL%/*}/postgres" -qAt -c "DROP DATABASE IF EXISTS knogin_bench" -c "CREATE DATABASE knogin_bench" >/dev/null 2>&1; then
  KNOGIN_MASTER_KEY=$(head -c 32 /dev/urandom | base64) measure PostgreSQL "$PG_URL"
else
  echo "PostgreSQL not reachable at $PG_URL: skipped" >&2
fi
