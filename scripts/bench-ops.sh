#!/usr/bin/env bash
# What metrics and the audit log cost on the token endpoint (docs/benchmarks.md): ES256
# client_credentials tokens per second over loopback HTTP, the reference server (SQLite,
# default request log) pinned to core 0 and wrk to core 1, started four ways in alternating
# rounds: as it is, with --ops-bind (metrics recorded), with --audit-log (every token an audit
# line), and with both. Each way's median is given as a ratio to the plain server's.
#
#   scripts/bench-ops.sh                  # 3 rounds of 6 s each way
#   ROUNDS=5 DURATION=10s scripts/bench-ops.sh
#   DB=postgres WAYS=plain scripts/bench-ops.sh   # on PostgreSQL (KNOGIN_TEST_POSTGRES_URL),
#                                                 # with the database's CPU per token
#   BIN=/tmp/other/reference-server scripts/bench-ops.sh   # another build's binary, for an A/B
set -euo pipefail
cd "$(dirname "$0")/.."

DURATION=${DURATION:-6s}
ROUNDS=${ROUNDS:-3}
CONNECTIONS=${CONNECTIONS:-32}
ALG=${ALG:-ES256}
DB=${DB:-sqlite}
read -r -a ways <<<"${WAYS:-plain metrics audit both}"
PORT=18080
OPS_PORT=18081

if [ -z "${BIN:-}" ]; then
  echo "building release examples…" >&2
  cargo build --release --quiet --example reference-server
fi
server=$(realpath "${BIN:-target/release/examples/reference-server}")
work=$(mktemp -d)
pid=""
trap '[ -z "$pid" ] || kill "$pid" 2>/dev/null; rm -rf "$work"' EXIT

median() { sort -g | awk '{a[NR] = $1} END {print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2}'; }
export KNOGIN_ISSUER="http://127.0.0.1:$PORT" KNOGIN_DATABASE_URL="sqlite://$work/bench.db"
if [ "$DB" = postgres ]; then
  psql "$KNOGIN_TEST_POSTGRES_URL" -qAt -c "DROP DATABASE IF EXISTS knogin_bench_ops" -c "CREATE DATABASE knogin_bench_ops" >/dev/null
  export KNOGIN_DATABASE_URL="${KNOGIN_TEST_POSTGRES_URL%/*}/knogin_bench_ops"
  KNOGIN_MASTER_KEY=$(head -c 32 /dev/urandom | base64); export KNOGIN_MASTER_KEY
fi
# The CPU time of every PostgreSQL process so far, in clock ticks (0 on SQLite).
db_cpu() { for p in $(pgrep -x postgres 2>/dev/null); do awk '{print $14 + $15}' "/proc/$p/stat" 2>/dev/null; done | awk '{s += $1} END {print s + 0}'; }
admin=$("$server" admin-token --tenant bench --signing-alg "$ALG" 2>/dev/null)

# start ARGS…: the server with ARGS, pinned to core 0.
start() {
  env -u RUST_LOG taskset -c 0 "$server" serve --bind "127.0.0.1:$PORT" --signing-alg "$ALG" "$@" >/dev/null 2>&1 &
  pid=$!
  for _ in $(seq 1 100); do curl -sf -o /dev/null "http://127.0.0.1:$PORT/.well-known/jwks.json" && return; sleep 0.1; done
  echo "the server did not start" >&2; exit 1
}
stop() { kill "$pid"; wait "$pid" 2>/dev/null || true; pid=""; }

start
app=$(curl -sf -X POST "http://127.0.0.1:$PORT/v1/platform/apps" -H "Authorization: Bearer $admin" \
  -H 'Content-Type: application/json' \
  -d '{"name":"bench","grant_types":["client_credentials"],"requested_scopes":["webhooks:write"]}')
stop
id=$(sed -E 's/.*"client_id":"([^"]+)".*/\1/' <<<"$app")
secret=$(sed -E 's/.*"client_secret":"([^"]+)".*/\1/' <<<"$app")
cat >"$work/token.lua" <<LUA
wrk.method = "POST"
wrk.body = "grant_type=client_credentials&client_id=$id&client_secret=$secret"
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
LUA

declare -A rates p99s dbcpu
for _ in $(seq 1 "$ROUNDS"); do
  for way in "${ways[@]}"; do
    case $way in
      plain) start ;;
      metrics) start --ops-bind "127.0.0.1:$OPS_PORT" ;;
      audit) start --audit-log "$work/audit.jsonl" ;;
      both) start --ops-bind "127.0.0.1:$OPS_PORT" --audit-log "$work/audit.jsonl" ;;
    esac
    cpu_before=$(db_cpu)
    out=$(taskset -c 1 wrk -t1 -c"$CONNECTIONS" -d"$DURATION" --latency -s "$work/token.lua" "http://127.0.0.1:$PORT/v1/oauth/token")
    errors=$(awk '/Non-2xx/ {print $NF}' <<<"$out")
    [ -z "$errors" ] || { echo "non-2xx answers during the run: $errors" >&2; exit 1; }
    if [ "$way" = metrics ] || [ "$way" = both ]; then
      # Read whole before grep: `grep -q` stops at the first match, and pipefail would count
      # curl's broken pipe as a failure.
      metrics=$(curl -sf "http://127.0.0.1:$OPS_PORT/metrics") || { echo "cannot read /metrics" >&2; exit 1; }
      grep -q "knogin_tokens_issued_total" <<<"$metrics" || { echo "no token metric" >&2; exit 1; }
    fi
    cpu_after=$(db_cpu)
    stop
    requests=$(awk '/requests in/ {print $1}' <<<"$out")
    dbcpu[$way]+="$(awk -v t=$((cpu_after - cpu_before)) -v n="$requests" -v hz="$(getconf CLK_TCK)" 'BEGIN {print t / hz * 1e6 / n}') "
    rates[$way]+="$(awk '/Requests\/sec/ {print $2}' <<<"$out") "
    p99s[$way]+="$(awk '$1 == "99%" {print $2}' <<<"$out") "
  done
done
base=$(tr ' ' '\n' <<<"${rates[${ways[0]}]}" | grep . | median)
echo "| server ($ALG, $DB, $ROUNDS rounds of $DURATION, $CONNECTIONS connections) | tokens/s (median) | spread | p99 (median round) | ratio to plain | database CPU per token |"
echo "| --- | ---: | ---: | ---: | ---: | ---: |"
for way in "${ways[@]}"; do
  list=$(tr ' ' '\n' <<<"${rates[$way]}" | grep .)
  med=$(median <<<"$list")
  spread="$(sort -g <<<"$list" | head -1 | xargs printf %.0f)–$(sort -g <<<"$list" | tail -1 | xargs printf %.0f)"
  p99=$(tr ' ' '\n' <<<"${p99s[$way]}" | grep . | sed -E 's/us$/e-3/; s/ms$//' | median)
  cpu=$(tr ' ' '\n' <<<"${dbcpu[$way]}" | grep . | median)
  printf '| %s | %.0f | %s | %s ms | %.3f | %.1f µs |\n' "$way" "$med" "$spread" "$p99" "$(awk -v a="$med" -v b="$base" 'BEGIN {print a / b}')" "$cpu"
done
[ -s "$work/audit.jsonl" ] && echo "audit lines written: $(wc -l <"$work/audit.jsonl")"
