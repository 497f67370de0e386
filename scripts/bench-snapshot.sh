#!/usr/bin/env bash
# Webhook delivery on PostgreSQL while another session pins a snapshot (docs/benchmarks.md):
# SKIP LOCKED queues are known to slow down when a long REPEATABLE READ transaction keeps
# vacuum from removing the rows that finished deliveries leave dead. One release `serve`, one
# subscription to a local receiver, events published in chunks of CHUNK (NDJSON, 100 per
# transaction); each chunk's deliveries per second is printed, with the dead rows of the
# deliveries table:
#   1. before: chunks with nothing pinned;
#   2. pinned: chunks while another session holds a REPEATABLE READ snapshot for PINNED seconds;
#   3. after: once it ends, chunks again.
# After every chunk the script runs VACUUM on deliveries and events itself, as an autovacuum
# that keeps up would (test servers often run with autovacuum off, and its naptime would blur
# the phases): what a pinned snapshot does is then what VACUUM cannot remove.
#
#   PINNED=60 CHUNK=10000 scripts/bench-snapshot.sh      (needs KNOGIN_TEST_POSTGRES_URL)
set -euo pipefail
cd "$(dirname "$0")/.."
PINNED=${PINNED:-60}
CHUNK=${CHUNK:-10000}
: "${KNOGIN_TEST_POSTGRES_URL:?set KNOGIN_TEST_POSTGRES_URL}"
source scripts/webhook-bench.sh
db=$(fresh_postgres knogin_snapshot)
webhook_server "$db" 18290 1
for i in $(seq 1 "$CHUNK"); do printf '{"id":"inc_%d","status":"open"}\n' "$i"; done >events.ndjson

coproc DBCLIENT { psql "$db" -qAt; }
pids+=("$DBCLIENT_PID")
query() { echo "$1" >&"${DBCLIENT[1]}"; read -r answer <&"${DBCLIENT[0]}"; echo "$answer"; }
succeeded() { query "SELECT count(*) FROM deliveries WHERE status='succeeded';"; }
dead() { query "SELECT n_dead_tup FROM pg_stat_user_tables WHERE relname='deliveries';"; }

vacuum() { psql "$db" -qAt -c "VACUUM deliveries" -c "VACUUM events" >/dev/null; }

# chunk LABEL: publishes CHUNK events and waits for their deliveries, then vacuums; prints the
# rate and the dead rows VACUUM could not remove.
chunk() {
  local before target start end
  before=$(succeeded); target=$((before + CHUNK))
  start=$(date +%s.%N)
  "$bin" publish --tenant acme --event incident.updated --data-file events.ndjson --database "$db" >/dev/null 2>&1
  while [ "$(succeeded)" -lt "$target" ]; do sleep 0.02; done
  end=$(date +%s.%N)
  vacuum
  printf '| %s | %.0f | %s |\n' "$1" "$(awk -v n="$CHUNK" -v a="$start" -v b="$end" 'BEGIN {print n / (b - a)}')" "$(dead)"
}

echo "| phase ($CHUNK events a chunk, 1 subscription; autovacuum $(query 'SHOW autovacuum;')) | deliveries/s | dead rows left in deliveries after VACUUM |"
echo "| --- | ---: | ---: |"
chunk "before 1"; chunk "before 2"; chunk "before 3"
psql "$db" -qAt -c "BEGIN ISOLATION LEVEL REPEATABLE READ; SELECT count(*) FROM deliveries; SELECT pg_sleep($PINNED); COMMIT;" >/dev/null &
pinned=$!; pids+=("$pinned")
sleep 0.5
pinned_start=$(date +%s); n=0
while kill -0 "$pinned" 2>/dev/null; do
  n=$((n + 1)); chunk "pinned $n (t+$(( $(date +%s) - pinned_start )) s)"
done
vacuum
echo "| snapshot released after $PINNED s; VACUUM | | $(dead) |"
chunk "after 1"; chunk "after 2"; chunk "after 3"
