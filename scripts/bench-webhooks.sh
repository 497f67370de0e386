#!/usr/bin/env bash
# Webhook deliveries per second, end to end: `publish --data-file` of EVENTS events to FANOUT
# subscriptions, delivered by one release `serve` (signed POSTs to a local receiver, each 2xx
# recorded), on SQLite or PostgreSQL (durable defaults: synchronous commit on). Prints the
# deliveries per second, the server's CPU per delivery, and the publish latencies.
#
#   DB=sqlite|postgres FANOUT=1|10|100 EVENTS=5000 BATCH=1 scripts/bench-webhooks.sh
#   (BATCH: events per publish transaction, `publish --batch`; 1 times each single publish)
set -euo pipefail
cd "$(dirname "$0")/.."
DB=${DB:-sqlite}
FANOUT=${FANOUT:-1}
EVENTS=${EVENTS:-$((5000 / FANOUT))}
cargo build --quiet --release --example reference-server --example bench-baseline
bin="$PWD/target/release/examples/reference-server"
receiver="$PWD/target/release/examples/bench-baseline"
work=$(mktemp -d)
pids=()
trap 'kill "${pids[@]}" 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$work"' EXIT
cd "$work"
port=18190
export KNOGIN_ISSUER="http://127.0.0.1:$port" RUST_LOG=warn
case "$DB" in
  sqlite) db="sqlite://$work/bench.db"; client=(sqlite3 -batch "$work/bench.db") ;;
  postgres)
    psql "$KNOGIN_TEST_POSTGRES_URL" -qAt -c "DROP DATABASE IF EXISTS knogin_bench" -c "CREATE DATABASE knogin_bench" >/dev/null
    db="${KNOGIN_TEST_POSTGRES_URL%/*}/knogin_bench"
    export KNOGIN_MASTER_KEY=$(head -c 32 /dev/urandom | base64)
    client=(psql "$db" -qAt) ;;
esac
echo '{}' >answer.json
"$receiver" 127.0.0.1:18191 answer.json & pids+=($!)
"$bin" migrate --database "$db" 2>/dev/null
"$bin" serve --bind "127.0.0.1:$port" --database "$db" --allow-private-webhook-targets 2>server.log & server=$!; pids+=("$server")
for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$port/.well-known/jwks.json" >/dev/null && break; sleep 0.1; done
admin=$("$bin" admin-token --tenant acme --database "$db" 2>/dev/null)
app=$(curl -sf -X POST "http://127.0.0.1:$port/v1/platform/apps" -H "Authorization: Bearer $admin" -H 'Content-Type: application/json' \
  -d '{"name":"Bench","grant_types":["client_credentials"],"redirect_uris":[],"requested_scopes":["webhooks:write"]}')
id=$(sed -E 's/.*"client_id":"([^"]+)".*/\1/' <<<"$app"); key=$(sed -E 's/.*"client_secret":"([^"]+)".*/\1/' <<<"$app")
token=$(curl -sf -X POST "http://127.0.0.1:$port/v1/oauth/token" -d "grant_type=client_credentials&client_id=$id&client_secret=$key" | sed -E 's/.*"access_token":"([^"]+)".*/\1/')
for i in $(seq 1 "$FANOUT"); do
  curl -sf -X POST "http://127.0.0.1:$port/v1/webhooks" -H "Authorization: Bearer $token" -H 'Content-Type: application/json' \
    -d "{\"url\":\"http://127.0.0.1:18191/hook/$i\",\"events\":[\"incident.updated\"]}" >/dev/null
done
for i in $(seq 1 "$EVENTS"); do printf '{"id":"inc_%d","status":"open","title":"Phishing wave"}\n' "$i"; done >events.ndjson
total=$((EVENTS * FANOUT))
# One database client for the whole wait: starting a process per look would take a share of
# the 2 cores the run is measuring.
coproc DBCLIENT { "${client[@]}"; }
pids+=("$DBCLIENT_PID")
count() { echo "SELECT count(*) FROM deliveries WHERE status='succeeded';" >&"${DBCLIENT[1]}"; read -r n <&"${DBCLIENT[0]}"; echo "$n"; }
cpu() { awk '{print $14 + $15}' "/proc/$server/stat"; }
cpu_before=$(cpu)
# The run starts when the first event is stored: the publisher prints each event's id once its
# transaction has committed (its own start-up, connecting and checking the schema, is not
# part of the run).
RUST_LOG=info "$bin" publish --tenant acme --event incident.updated --data-file events.ndjson ${BATCH:+--batch "$BATCH"} --database "$db" 2>publish.log |
  { IFS= read -r _; date +%s.%N >started; cat >/dev/null; }
published=$(date +%s.%N)
start=$(cat started)
while [ "$(count)" -lt "$total" ]; do sleep 0.02; done
end=$(date +%s.%N)
cpu_after=$(cpu)
ticks=$(getconf CLK_TCK)
python3 - "$DB" "$FANOUT" "$EVENTS" "$total" "$start" "$published" "$end" "$cpu_before" "$cpu_after" "$ticks" "$(cat publish.log)" <<'PY'
import sys
db, fanout, events, total, start, published, end, c0, c1, ticks, log = sys.argv[1:]
total = int(total); elapsed = float(end) - float(start)
cpu = (int(c1) - int(c0)) / int(ticks)
print(f"{db} fanout={fanout} events={events} deliveries={total}: {total / elapsed:,.0f} deliveries/s "
      f"({elapsed:.2f} s from the first event stored to the last 2xx recorded; the last was stored after "
      f"{float(published) - float(start):.2f} s); server CPU {cpu * 1e6 / total:,.0f} µs per delivery")
print("publish:", log.strip().split("INFO reference_server: ")[-1])
PY
