#!/usr/bin/env bash
# Token load run for docs/benchmarks.md: client_credentials tokens per second over loopback HTTP
# for RS256, ES256 and EdDSA, the reference server (SQLite, default request log) pinned to core
# 0 and wrk to core 1, each as a ratio to the raw signing rate of a key of the same algorithm
# parsed once, measured on core 0 in the same run (examples/bench-sign.rs) just before and just
# after the load, so drift in the machine's speed shows.
#
#   scripts/bench-tokens.sh                   # 3 rounds of 6 s per algorithm
#   ROUNDS=5 DURATION=10s scripts/bench-tokens.sh
#   ALGS=EdDSA ROUNDS=1 scripts/bench-tokens.sh   # one algorithm
set -euo pipefail
cd "$(dirname "$0")/.."

DURATION=${DURATION:-6s}
ROUNDS=${ROUNDS:-3}
CONNECTIONS=${CONNECTIONS:-32}
PORT=18080
ALGS=${ALGS:-RS256 ES256 EdDSA}

echo "building release examples…" >&2
cargo build --release --quiet --example reference-server --example bench-sign
server="$PWD/target/release/examples/reference-server"
signer="$PWD/target/release/examples/bench-sign"
work=$(mktemp -d)
pid=""
trap '[ -z "$pid" ] || kill "$pid" 2>/dev/null; rm -rf "$work"' EXIT

median() { sort -g | awk '{a[NR] = $1} END {print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2}'; }
raw_rate() { taskset -c 0 "$signer" 2 | awk -v alg="$1" '$1 == alg {print $2}'; }

echo "| algorithm | tokens/s (median of $ROUNDS) | p99 | raw signing/s on core 0 | ratio | token bytes | store writes |"
echo "| --- | ---: | ---: | ---: | ---: | ---: | ---: |"
for alg in $ALGS; do
  db="$work/$alg.db"
  export KNOGIN_ISSUER="http://127.0.0.1:$PORT" KNOGIN_DATABASE_URL="sqlite://$db"
  admin=$("$server" admin-token --tenant bench --signing-alg "$alg" 2>/dev/null)
  env -u RUST_LOG taskset -c 0 "$server" serve --bind "127.0.0.1:$PORT" --signing-alg "$alg" >/dev/null 2>&1 &
  pid=$!
  for _ in $(seq 1 100); do curl -sf -o /dev/null "http://127.0.0.1:$PORT/.well-known/jwks.json" && break; sleep 0.1; done
  app=$(curl -sf -X POST "http://127.0.0.1:$PORT/v1/platform/apps" -H "Authorization: Bearer $admin" \
    -H 'Content-Type: application/json' \
    -d '{"name":"bench","grant_types":["client_credentials"],"requested_scopes":["webhooks:write"]}')
  id=$(sed -E 's/.*"client_id":"([^"]+)".*/\1/' <<<"$app")
  secret=$(sed -E 's/.*"client_secret":"([^"]+)".*/\1/' <<<"$app")
  body="grant_type=client_credentials&client_id=$id&client_secret=$secret"
  cat >"$work/token.lua" <<LUA
wrk.method = "POST"
wrk.body = "$body"
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
LUA
  bytes=$(curl -sf -X POST "http://127.0.0.1:$PORT/v1/oauth/token" -d "$body" | sed -E 's/.*"access_token":"([^"]+)".*/\1/' | tr -d '\n' | wc -c)
  # Any write would grow the database or its write-ahead log.
  files_before=$(stat -c %s "$db" "$db-wal" 2>/dev/null | tr '\n' ' ')
  rates=() raws=() ratios=() p99=""
  for _ in $(seq 1 "$ROUNDS"); do
    before=$(raw_rate "$alg")
    out=$(taskset -c 1 wrk -t1 -c"$CONNECTIONS" -d"$DURATION" --latency -s "$work/token.lua" "http://127.0.0.1:$PORT/v1/oauth/token")
    errors=$(awk '/Non-2xx/ {print $NF}' <<<"$out")
    [ -z "$errors" ] || { echo "non-2xx answers during the run: $errors" >&2; exit 1; }
    after=$(raw_rate "$alg")
    rate=$(awk '/Requests\/sec/ {print $2}' <<<"$out"); p99=$(awk '$1 == "99%" {print $2}' <<<"$out")
    raw=$(awk -v a="$before" -v b="$after" 'BEGIN {print (a + b) / 2}')
    rates+=("$rate"); raws+=("$raw"); ratios+=("$(awk -v r="$rate" -v s="$raw" 'BEGIN {print r / s}')")
  done
  writes="none"
  [ "$(stat -c %s "$db" "$db-wal" 2>/dev/null | tr '\n' ' ')" = "$files_before" ] || writes="the database grew"
  printf '| %s | %.0f | %s | %.0f | **%.2f×** | %s | %s |\n' "$alg" \
    "$(printf '%s\n' "${rates[@]}" | median)" "$p99" "$(printf '%s\n' "${raws[@]}" | median)" \
    "$(printf '%s\n' "${ratios[@]}" | median)" "$bytes" "$writes"
  kill "$pid"; wait "$pid" 2>/dev/null || true; pid=""
done
