#!/usr/bin/env bash
# Webhook deliveries per second, end to end: `publish --data-file` of EVENTS events to FANOUT
# subscriptions, delivered by one release `serve` (signed POSTs to a local receiver, each 2xx
# recorded), on SQLite or PostgreSQL (durable defaults: synchronous commit on). Prints the
# deliveries per second (from the first event stored, and from the start of `publish` as issue
# 29 measures it), the server's CPU per delivery, and the publish latencies.
#
#   DB=sqlite|postgres FANOUT=1|10|100 EVENTS=5000 BATCH=1 scripts/bench-webhooks.sh
#   (BATCH: events per publish transaction, `publish --batch`; 1 times each single publish;
#   BIN=path: another build's reference-server, for an A/B)
set -euo pipefail
cd "$(dirname "$0")/.."
DB=${DB:-sqlite}
FANOUT=${FANOUT:-1}
EVENTS=${EVENTS:-$((5000 / FANOUT))}
source scripts/webhook-bench.sh
case "$DB" in
  sqlite) db="sqlite://$work/bench.db"; client=(sqlite3 -batch "$work/bench.db") ;;
  postgres) db=$(fresh_postgres knogin_bench); client=(psql "$db" -qAt) ;;
esac
webhook_server "$db" 18190 "$FANOUT"
for i in $(seq 1 "$EVENTS"); do printf '{"id":"inc_%d","status":"open","title":"Phishing wave"}\n' "$i"; done >events.ndjson
total=$((EVENTS * FANOUT))
# One database client for the whole wait, and a wait that starts no process: the harness's
# own work would take a share of the 2 cores the run is measuring. A look asks the due index
# whether any delivery is still to make (a claimed one keeps its due time until its attempt is
# recorded), which costs the database next to nothing however many deliveries are done.
coproc DBCLIENT { "${client[@]}"; }
pids+=("$DBCLIENT_PID")
ask() { echo "$1" >&"${DBCLIENT[1]}"; read -r answer <&"${DBCLIENT[0]}"; }
exec {nap}<> <(:)
cpu() { awk '{print $14 + $15}' "/proc/$server/stat"; }
cpu_before=$(cpu)
# The run starts when the first event is stored: the publisher prints each event's id once its
# transaction has committed (its own start-up, connecting and checking the schema, is not
# part of the run).
launched=$(date +%s.%N)
RUST_LOG=info "$bin" publish --tenant acme --event incident.updated --data-file events.ndjson ${BATCH:+--batch "$BATCH"} --database "$db" 2>publish.log |
  { IFS= read -r _; date +%s.%N >started; cat >/dev/null; }
published=$(date +%s.%N)
start=$(cat started)
while ask "SELECT count(*) FROM (SELECT 1 FROM deliveries WHERE next_attempt_at IS NOT NULL LIMIT 1) p;"; [ "$answer" != 0 ]; do
  read -rt 0.02 -u "$nap" _ || true
done
end=$(date +%s.%N)
ask "SELECT count(*) FROM deliveries WHERE status='succeeded';"
[ "$answer" = "$total" ] || { echo "only $answer of $total deliveries succeeded" >&2; exit 1; }
cpu_after=$(cpu)
ticks=$(getconf CLK_TCK)
python3 - "$DB" "$FANOUT" "$EVENTS" "$total" "$start" "$published" "$end" "$cpu_before" "$cpu_after" "$ticks" "$(cat publish.log)" "$launched" <<'PY'
import sys
db, fanout, events, total, start, published, end, c0, c1, ticks, log, launched = sys.argv[1:]
total = int(total); elapsed = float(end) - float(start)
as_user = float(end) - float(launched)
cpu = (int(c1) - int(c0)) / int(ticks)
print(f"{db} fanout={fanout} events={events} deliveries={total}: {total / elapsed:,.0f} deliveries/s "
      f"({elapsed:.2f} s from the first event stored to the last 2xx recorded; the last was stored after "
      f"{float(published) - float(start):.2f} s); server CPU {cpu * 1e6 / total:,.0f} µs per delivery")
print(f"as a user runs it: {total / as_user:,.0f} deliveries/s ({as_user:.2f} s from the start of "
      f"`publish` to the last 2xx recorded)")
print("publish:", next((l.split(": ", 1)[-1] for l in reversed(log.splitlines()) if ": published " in l), log))
PY
