#!/usr/bin/env bash
# Webhook delivery across crashes and processes, with the reference server:
#  1. SQLite: SIGKILL the server while deliveries are in flight; after a restart every event is
#     delivered (at least once), verified by the standardwebhooks library, and the history says so.
#  2. PostgreSQL (when KNOGIN_TEST_POSTGRES_URL is set): two servers on one database deliver 200
#     events between them, each exactly once.
#  3. PostgreSQL: graceful shutdown with a slow receiver. A server stopped with deliveries in
#     flight finishes them within its grace period; one whose grace runs out gives the rest back,
#     exits within the grace, and the other server delivers them at once, not after the lease.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts="$PWD/scripts"
cargo build --quiet --example reference-server
bin="$PWD/target/debug/examples/reference-server"
work=$(mktemp -d)
pids=()
trap 'kill -9 "${pids[@]}" 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$work"' EXIT
cd "$work"
# A secret of this run's own: a request left over from an earlier run cannot pass as one of
# this run's deliveries.
secret="whsec_$(head -c 24 /dev/urandom | base64)"

fail() { echo "webhook-durability: $*" >&2; tail -n 20 ./*.log >&2 || true; exit 1; }
# Waits until something answers HTTP on the port (the receivers answer a GET with 501).
listening() { for _ in $(seq 1 100); do [ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$1/")" != 000 ] && return 0; sleep 0.1; done; fail "nothing listens on $1"; }
wait_http() { for _ in $(seq 1 100); do curl -sf "$1" >/dev/null && return 0; sleep 0.1; done; fail "$1 did not answer"; }

# serve PORT [args…]: a server on PORT, its pid in $server.
serve() {
  local port=$1; shift
  "$bin" serve --bind "127.0.0.1:$port" --allow-private-webhook-targets --webhook-timeout "$timeout" \
    --webhook-retry-delays 1s,1s,1s "$@" 2>>"server-$port.log" &
  server=$!
  pids+=("$server")
  wait_http "http://127.0.0.1:$port/.well-known/jwks.json"
}

# subscribe PORT RECEIVER_PORT: a client with webhook scopes and a subscription; prints the token.
subscribe() {
  local base="http://127.0.0.1:$1" admin app id key token
  admin=$("$bin" admin-token --tenant acme "${db_args[@]}" 2>/dev/null)
  app=$(curl -sf -X POST "$base/v1/platform/apps" -H "Authorization: Bearer $admin" -H 'Content-Type: application/json' \
    -d '{"name":"Durability","grant_types":["client_credentials"],"redirect_uris":[],"requested_scopes":["webhooks:read","webhooks:write"]}')
  id=$(sed -E 's/.*"client_id":"([^"]+)".*/\1/' <<<"$app")
  key=$(sed -E 's/.*"client_secret":"([^"]+)".*/\1/' <<<"$app")
  token=$(curl -sf -X POST "$base/v1/oauth/token" -d "grant_type=client_credentials&client_id=$id&client_secret=$key" \
    | sed -E 's/.*"access_token":"([^"]+)".*/\1/')
  curl -sf -X POST "$base/v1/webhooks" -H "Authorization: Bearer $token" -H 'Content-Type: application/json' \
    -d "{\"url\":\"http://127.0.0.1:$2/hook\",\"events\":[\"incident.updated\"],\"secret\":\"$secret\"}" >/dev/null
  echo "$token"
}

# events N: N lines of event data.
events() { for i in $(seq 1 "$1"); do printf '{"id":"inc_%d"}\n' "$i"; done; }

# succeeded BASE WEBHOOK TOKEN: how many of the webhook's deliveries the history shows succeeded.
succeeded() {
  curl -sf "$1/v1/webhooks/$2/deliveries?status=succeeded&limit=200" -H "Authorization: Bearer $3" \
    | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["deliveries"]))' || echo 0
}

# unique FILE: how many distinct webhook-ids the receiver verified.
unique() {
  python3 - "$1" <<'PY'
import json, sys
ids = set()
for line in open(sys.argv[1]):
    try:
        ids.add(json.loads(line)["webhook-id"])
    except ValueError:
        pass  # a line the receiver is still writing
print(len(ids))
PY
}

### 1. SIGKILL with deliveries in flight (SQLite). A short timeout keeps the dead server's leases
### short (4 × 2 s).
timeout=2
export KNOGIN_ISSUER=http://127.0.0.1:18090
db_args=(--database "sqlite://$work/durable.db")
"$bin" migrate "${db_args[@]}" 2>/dev/null
: >slow.ndjson
python3 "$scripts/webhook_receiver.py" 18091 "$secret" slow.ndjson 1 2>receiver-slow.log &
pids+=($!)
listening 18091
serve 18090 "${db_args[@]}"
token=$(subscribe 18090 18091)
events 20 >events.ndjson
"$bin" publish --tenant acme --event incident.updated --data-file events.ndjson "${db_args[@]}" >published.txt 2>/dev/null
for _ in $(seq 1 100); do [ -s slow.ndjson.arrivals ] && break; sleep 0.05; done
[ -s slow.ndjson.arrivals ] || fail "no delivery arrived"
kill -9 "$server"
wait "$server" 2>/dev/null || true
echo "webhook-durability: killed the server with $(wc -l <slow.ndjson.arrivals) deliveries in flight, $(wc -l <slow.ndjson) answered"
serve 18090 "${db_args[@]}"
# The dead server's leases end after 4 × the 2 s timeout; then every delivery goes out again.
for _ in $(seq 1 300); do [ "$(unique slow.ndjson)" -ge 20 ] && break; sleep 0.1; done
[ "$(unique slow.ndjson)" = 20 ] || fail "after the restart $(unique slow.ndjson) of 20 events were delivered"
webhook=$(curl -sf "http://127.0.0.1:18090/v1/webhooks" -H "Authorization: Bearer $token" | sed -E 's/.*"id":"(wh_[^"]+)".*/\1/')
# The receiver answers before the server records: wait for the history to catch up.
succeeded=0
for _ in $(seq 1 100); do
  succeeded=$(succeeded "http://127.0.0.1:18090" "$webhook" "$token")
  [ "$succeeded" = 20 ] && break; sleep 0.1
done
[ "$succeeded" = 20 ] || fail "the history shows $succeeded of 20 deliveries succeeded"
echo "webhook-durability: all 20 events delivered after SIGKILL ($(wc -l <slow.ndjson) verified requests in all)"
kill "$server"

### 2. Two servers on one PostgreSQL database. A generous timeout, so no attempt times out on a
### busy machine and is retried (which at-least-once allows, and would blur "exactly once").
timeout=30
if [ -n "${KNOGIN_TEST_POSTGRES_URL:-}" ]; then
  admin_url=$KNOGIN_TEST_POSTGRES_URL
  psql "$admin_url" -qAt -c "DROP DATABASE IF EXISTS knogin_durability" -c "CREATE DATABASE knogin_durability" >/dev/null
  export KNOGIN_MASTER_KEY=$(head -c 32 /dev/urandom | base64)
  export KNOGIN_ISSUER=http://127.0.0.1:18092
  db_args=(--database "${KNOGIN_TEST_POSTGRES_URL%/*}/knogin_durability")
  : >shared.ndjson
  python3 "$scripts/webhook_receiver.py" 18094 "$secret" shared.ndjson 2>receiver-shared.log &
  pids+=($!)
  listening 18094
  serve 18092 "${db_args[@]}"
  serve 18093 "${db_args[@]}"
  subscribe 18092 18094 >/dev/null
  events 200 >many.ndjson
  # One event per transaction: the events arrive over a while, as from a live system, and each
  # wakes both servers, so both claim some (a single batch could be claimed whole by one).
  "$bin" publish --tenant acme --event incident.updated --data-file many.ndjson --batch 1 "${db_args[@]}" >/dev/null 2>&1
  for _ in $(seq 1 300); do [ "$(wc -l <shared.ndjson)" -ge 200 ] && break; sleep 0.1; done
  sleep 1
  retried=$(psql "${db_args[1]}" -qAt -c "SELECT id, attempts, response_status, response_body FROM deliveries WHERE attempts > 1 LIMIT 5")
  [ "$(wc -l <shared.ndjson)" = 200 ] || fail "two servers made $(wc -l <shared.ndjson) deliveries of 200 events; retried: $retried"
  [ "$(unique shared.ndjson)" = 200 ] || fail "two servers delivered $(unique shared.ndjson) distinct events of 200"
  for port in 18092 18093; do
    grep -q 'webhook deliveries' "server-$port.log" || fail "server $port made no delivery: $(cat "server-$port.log")"
  done
  echo "webhook-durability: two servers on one PostgreSQL database delivered 200 events exactly once"
  kill "${pids[@]}" 2>/dev/null || true
  wait 2>/dev/null || true
  pids=()
  psql "$admin_url" -qAt -c "DROP DATABASE knogin_durability" >/dev/null

  ### 3. Graceful shutdown on one PostgreSQL database, with a receiver that takes 3 s a request.
  ### The webhook timeout is 30 s, so a lease lasts 120 s: whatever is delivered sooner after a
  ### shutdown was given back, not left to its lease.
  psql "$admin_url" -qAt -c "DROP DATABASE IF EXISTS knogin_shutdown" -c "CREATE DATABASE knogin_shutdown" >/dev/null
  export KNOGIN_ISSUER=http://127.0.0.1:18095
  db_args=(--database "${KNOGIN_TEST_POSTGRES_URL%/*}/knogin_shutdown")
  : >slow3.ndjson
  python3 "$scripts/webhook_receiver.py" 18097 "$secret" slow3.ndjson 3 2>receiver-slow3.log &
  pids+=($!)
  listening 18097
  # stop PID: SIGTERM; how long the server took to exit (seconds) in $took.
  stop() {
    local started
    started=$(date +%s.%N)
    kill -TERM "$1"
    wait "$1" || fail "server $1 did not exit cleanly"
    took=$(python3 -c "import sys; print(round(float(sys.argv[2]) - float(sys.argv[1]), 1))" "$started" "$(date +%s.%N)")
  }
  # a) Within the grace: the deliveries in flight finish and are recorded before it exits.
  serve 18095 "${db_args[@]}" --shutdown-grace 20
  first=$server
  subscribe 18095 18097 >/dev/null
  events 5 >five.ndjson
  "$bin" publish --tenant acme --event incident.updated --data-file five.ndjson "${db_args[@]}" >/dev/null 2>&1
  for _ in $(seq 1 100); do [ "$(wc -l <slow3.ndjson.arrivals 2>/dev/null || echo 0)" -ge 5 ] && break; sleep 0.05; done
  stop "$first"
  [ "$(unique slow3.ndjson)" = 5 ] || fail "a graceful stop delivered $(unique slow3.ndjson) of 5 in flight"
  recorded=$(psql "${db_args[1]}" -qAt -c "SELECT count(*) FROM deliveries WHERE status = 'succeeded' AND attempts = 1")
  [ "$recorded" = 5 ] || fail "after a graceful stop $recorded of 5 deliveries are recorded succeeded"
  python3 -c "import sys; sys.exit(not 1.5 <= float(sys.argv[1]) < 20)" "$took" \
    || fail "the server took $took s to stop with 3 s deliveries in flight and a 20 s grace"
  echo "webhook-durability: SIGTERM with 5 deliveries in flight: finished and recorded, exited in $took s"
  # b) Past the grace: the first server is stopped with 20 deliveries in flight and a 1 s grace;
  # it exits within about that, and the second one delivers all 20 without waiting for a lease.
  : >slow3.ndjson; : >slow3.ndjson.arrivals
  serve 18095 "${db_args[@]}" --shutdown-grace 1
  first=$server
  events 20 >twenty.ndjson
  "$bin" publish --tenant acme --event incident.updated --data-file twenty.ndjson "${db_args[@]}" >/dev/null 2>&1
  for _ in $(seq 1 100); do [ "$(wc -l <slow3.ndjson.arrivals)" -ge 20 ] && break; sleep 0.05; done
  [ "$(wc -l <slow3.ndjson.arrivals)" -ge 20 ] || fail "the first server sent $(wc -l <slow3.ndjson.arrivals) of 20"
  serve 18096 "${db_args[@]}"
  stop "$first"
  python3 -c "import sys; sys.exit(not float(sys.argv[1]) < 3)" "$took" || fail "the server took $took s to stop with a 1 s grace"
  given=$(grep -o 'gave back [0-9]* webhook deliveries' server-18095.log | tail -1)
  [ -n "$given" ] || fail "the stopped server gave nothing back: $(tail -5 server-18095.log)"
  started=$(date +%s)
  for _ in $(seq 1 300); do
    [ "$(psql "${db_args[1]}" -qAt -c "SELECT count(*) FROM deliveries WHERE status = 'succeeded'")" = 25 ] && break
    sleep 0.1
  done
  succeeded=$(psql "${db_args[1]}" -qAt -c "SELECT count(*) FROM deliveries WHERE status = 'succeeded'")
  [ "$succeeded" = 25 ] || fail "after the handover $succeeded of 25 deliveries succeeded"
  [ "$(unique slow3.ndjson)" = 20 ] || fail "the receiver verified $(unique slow3.ndjson) of 20 events"
  echo "webhook-durability: SIGTERM past a 1 s grace: exited in $took s, $given, the other server delivered them within $(( $(date +%s) - started + 1 )) s (leases last 120 s)"
  kill "${pids[@]}" 2>/dev/null || true
  wait 2>/dev/null || true
  psql "$admin_url" -qAt -c "DROP DATABASE knogin_shutdown" >/dev/null
fi
echo "webhook-durability: OK"
