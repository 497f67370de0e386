#!/usr/bin/env bash
# Load run for docs/benchmarks.md. The servers under test are pinned to core 0, wrk to core 1.
# Each knogin route is compared with a bare axum handler (examples/bench-baseline.rs) that
# returns the same bytes, on the same core, in the same run: both servers stay up and wrk
# alternates between them for ROUNDS rounds, and each row reports the medians, so drift in the
# machine's speed during the run hits both sides alike.
#
#   scripts/bench.sh                          # 3 rounds of 6 s per measurement
#   ROUNDS=7 DURATION=10s scripts/bench.sh
#
# Needs wrk and taskset (apt-get install wrk util-linux) and, for the PostgreSQL rows,
# PostgreSQL at $KNOGIN_BENCH_POSTGRES_URL (default postgres://postgres@127.0.0.1:5432/knogin_bench,
# recreated on every run).
set -euo pipefail
cd "$(dirname "$0")/.."

DURATION=${DURATION:-6s}
ROUNDS=${ROUNDS:-3}
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
  local errors
  errors=$(awk '/Non-2xx/ {print $NF}' <<<"$out")
  [ -z "$errors" ] || { echo "non-2xx answers during the run: $errors" >&2; exit 1; }
  echo "$(awk '/Requests\/sec/ {print $2}' <<<"$out") $(awk '$1 == "99%" {print $2}' <<<"$out")"
}

median() { sort -g | awk '{a[NR] = $1} END {print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2}'; }

# compare NAME ROUTE KNOGIN_URL BASE_URL [header]: ROUNDS alternating runs, one table row.
compare() {
  local name=$1 route=$2 k_url=$3 b_url=$4 header=${5:-}
  local k_rps=() b_rps=() ratios=() k_p99="" b_p99=""
  for _ in $(seq 1 "$ROUNDS"); do
    read -r k p <<<"$(run_wrk "$k_url" "$header")"; k_rps+=("$k"); k_p99=$p
    read -r b p <<<"$(run_wrk "$b_url")"; b_rps+=("$b"); b_p99=$p
    ratios+=("$(awk -v k="$k" -v b="$b" 'BEGIN {print k / b}')")
  done
  printf '| %s | %s | %.0f | %s | %.0f | %s | **%.2f×** |\n' "$name" "$route" \
    "$(printf '%s\n' "${k_rps[@]}" | median)" "$k_p99" "$(printf '%s\n' "${b_rps[@]}" | median)" "$b_p99" \
    "$(printf '%s\n' "${ratios[@]}" | median)"
}

# start LOG_FILTER -> pid of a reference server on $PORT (logs to /dev/null)
start() {
  if [ -z "$1" ]; then env -u RUST_LOG taskset -c 0 "$server" serve --bind "127.0.0.1:$PORT" >/dev/null 2>&1 &
  else RUST_LOG=$1 taskset -c 0 "$server" serve --bind "127.0.0.1:$PORT" >/dev/null 2>&1 &
  fi
  local pid=$!; pids+=("$pid"); wait_up "$PORT"; echo "$pid"
}

# measure NAME DATABASE_URL [without-logging]
measure() {
  local name=$1 db=$2
  export KNOGIN_ISSUER="http://127.0.0.1:$PORT" KNOGIN_DATABASE_URL="$db"
  local token pid
  token=$("$server" admin-token --tenant bench 2>/dev/null)
  # The reference server's default: one log line per request.
  pid=$(start "")
  for i in $(seq 1 20); do
    curl -sf -o /dev/null -X POST "http://127.0.0.1:$PORT/v1/platform/apps" -H "Authorization: Bearer $token" \
      -H 'Content-Type: application/json' \
      -d "{\"name\":\"bench app $i\",\"grant_types\":[\"client_credentials\"],\"requested_scopes\":[\"webhooks:write\"]}"
  done
  curl -sf "http://127.0.0.1:$PORT/.well-known/jwks.json" >"$work/jwks.json"
  curl -sf "http://127.0.0.1:$PORT/v1/platform/apps" -H "Authorization: Bearer $token" >"$work/apps.json"
  sleep 1
  local idle; idle=$(rss_mb "$pid")

  taskset -c 0 "$baseline" "127.0.0.1:$BASE_PORT" "$work/jwks.json" & local bjwks=$!; pids+=("$bjwks")
  wait_up "$BASE_PORT"
  compare "$name" "GET /.well-known/jwks.json, a log line per request (default)" \
    "http://127.0.0.1:$PORT/.well-known/jwks.json" "http://127.0.0.1:$BASE_PORT/.well-known/jwks.json"
  local jwks_rss; jwks_rss=$(rss_mb "$pid")
  kill "$bjwks"; wait "$bjwks" 2>/dev/null || true
  taskset -c 0 "$baseline" "127.0.0.1:$BASE_PORT" "$work/apps.json" & local bapps=$!; pids+=("$bapps")
  wait_up "$BASE_PORT"
  compare "$name" "GET /v1/platform/apps (20 apps, $(wc -c <"$work/apps.json") B)" \
    "http://127.0.0.1:$PORT/v1/platform/apps" "http://127.0.0.1:$BASE_PORT/v1/platform/apps" \
    "Authorization: Bearer $token"
  local load_rss; load_rss=$(rss_mb "$pid")
  kill "$bapps" "$pid"; wait "$bapps" "$pid" 2>/dev/null || true

  if [ "${3:-}" = without-logging ]; then
    pid=$(start warn)
    taskset -c 0 "$baseline" "127.0.0.1:$BASE_PORT" "$work/jwks.json" & bjwks=$!; pids+=("$bjwks")
    wait_up "$BASE_PORT"
    compare "$name" "GET /.well-known/jwks.json, request log off (RUST_LOG=warn)" \
      "http://127.0.0.1:$PORT/.well-known/jwks.json" "http://127.0.0.1:$BASE_PORT/.well-known/jwks.json"
    kill "$bjwks" "$pid"; wait "$bjwks" "$pid" 2>/dev/null || true
  fi
  echo "| $name | RSS: idle ${idle} MB, after JWKS load ${jwks_rss} MB, after apps load ${load_rss} MB | | | | | |"
}

echo "| store | route | knogin req/s | knogin p99 | bare axum req/s | bare p99 | ratio (median of $ROUNDS) |"
echo "| --- | --- | ---: | ---: | ---: | ---: | ---: |"
measure SQLite "sqlite://$work/bench.db" without-logging
if psql "${PG_URL%/*}/postgres" -qAt -c "DROP DATABASE IF EXISTS knogin_bench" -c "CREATE DATABASE knogin_bench" >/dev/null 2>&1; then
  KNOGIN_MASTER_KEY=$(head -c 32 /dev/urandom | base64) measure PostgreSQL "$PG_URL"
else
  echo "PostgreSQL not reachable at $PG_URL: skipped" >&2
fi
