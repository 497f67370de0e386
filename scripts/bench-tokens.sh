#!/usr/bin/env bash
# Token load run for docs/benchmarks.md: client_credentials tokens per second over loopback HTTP
# for RS256, ES256 and EdDSA, side by side with the fastest Rust peer (oauth-as, through the
# ready harness in ../shared/anchors/oauth-as) in alternating rounds of one run.
#
# Each round, per algorithm: the peer (its axum adapter, aws-lc-rs signer, memory store), then
# the reference server as a user starts it (SQLite, default request log), each pinned to core 0
# with wrk (one thread, 32 connections, client_secret_basic like the peer's load) on core 1. The
# raw signing rate of a key of the same algorithm parsed once (examples/bench-sign.rs) is
# measured on core 0 just before and after knogin's load. It prints, per algorithm, the medians
# and the median of the per-round ratios: knogin to the peer, and knogin to raw signing.
#
#   scripts/bench-tokens.sh                        # 3 rounds of 6 s per algorithm and server
#   ROUNDS=5 DURATION=10 scripts/bench-tokens.sh
#   ALGS=EdDSA ROUNDS=1 scripts/bench-tokens.sh    # one algorithm
#   PEER=none scripts/bench-tokens.sh              # knogin alone (no peer harness here)
set -euo pipefail
cd "$(dirname "$0")/.."

DURATION=${DURATION:-6}
DURATION=${DURATION%s}
ROUNDS=${ROUNDS:-3}
CONNECTIONS=${CONNECTIONS:-32}
PORT=18080
ALGS=${ALGS:-RS256 ES256 EdDSA}
PEER=${PEER:-../shared/anchors/oauth-as/run.sh}
[ "$PEER" = none ] || [ -f "$PEER" ] || { echo "no peer harness at $PEER (PEER=none runs knogin alone)" >&2; exit 1; }
command -v wrk >/dev/null || { echo "wrk is needed (apt-get install wrk)" >&2; exit 1; }

echo "building release examples…" >&2
cargo build --release --quiet --example reference-server --example bench-sign
server="$PWD/target/release/examples/reference-server"
signer="$PWD/target/release/examples/bench-sign"
work=$(mktemp -d)
pid=""
trap '[ -z "$pid" ] || kill "$pid" 2>/dev/null; rm -rf "$work"' EXIT

median() { sort -g | awk '{a[NR] = $1} END {print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2}'; }
spread() { sort -g | awk 'NR == 1 {lo = $1} {hi = $1} END {printf "%.2f–%.2f", lo, hi}'; }
round2() { awk '{printf "%.2f", $1}'; }
raw_rate() { taskset -c 0 "$signer" 1 | awk -v alg="$1" '$1 == alg {print $2}'; }
# wrk's latency in milliseconds.
ms() { awk '{v = $1; if (v ~ /us$/) {sub(/us$/, "", v); v /= 1000} else if (v ~ /ms$/) {sub(/ms$/, "", v)} else if (v ~ /s$/) {sub(/s$/, "", v); v *= 1000} print v}'; }

# One peer run of `alg`: "tokens/s p99_ms".
peer_round() {
  local out line
  out=$(SIGNERS=aws-lc ALGS="$1" RUNS=1 DUR="$DURATION" CONNS="$CONNECTIONS" JWKS=0 SKIP_OPENSSL=1 \
    bash "$PEER" 2>&1) || { echo "the peer harness failed: $out" >&2; exit 1; }
  line=$(grep "^RESULT token-$1 " <<<"$out") || { echo "no peer result for $1: $out" >&2; exit 1; }
  echo "$(sed -E 's/.* rps=([0-9.]+).*/\1/' <<<"$line") $(sed -E 's/.* p99=([^ ]+).*/\1/' <<<"$line" | ms)"
}

# Starts the reference server for `alg` on a fresh database and registers one app; sets `pid`
# and writes the load script. Prints the token's size in bytes.
start_knogin() {
  local alg=$1 db="$work/$1.db" admin app id secret basic
  rm -f "$db"*
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
  basic=$(printf '%s:%s' "$id" "$secret" | base64 -w0)
  cat >"$work/token.lua" <<LUA
wrk.method = "POST"
wrk.body = "grant_type=client_credentials"
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
wrk.headers["Authorization"] = "Basic $basic"
LUA
  curl -sf -X POST "http://127.0.0.1:$PORT/v1/oauth/token" -H "Authorization: Basic $basic" \
    -d grant_type=client_credentials | sed -E 's/.*"access_token":"([^"]+)".*/\1/' | tr -d '\n' | wc -c
}

# One knogin run of `alg`: "tokens/s p99_ms raw_signing/s". A token costs one read and no
# write: any write would grow the database or its write-ahead log, and stops the run.
knogin_round() {
  local alg=$1 before after out errors files
  start_knogin "$alg" >"$work/bytes-$alg"
  # Warm the connections and the page cache as the peer's harness does.
  taskset -c 1 wrk -t1 -c"$CONNECTIONS" -d2s -s "$work/token.lua" "http://127.0.0.1:$PORT/v1/oauth/token" >/dev/null
  files=$(stat -c %s "$work/$alg.db" "$work/$alg.db-wal" 2>/dev/null | tr '\n' ' ')
  before=$(raw_rate "$alg")
  out=$(taskset -c 1 wrk -t1 -c"$CONNECTIONS" -d"${DURATION}s" --latency -s "$work/token.lua" "http://127.0.0.1:$PORT/v1/oauth/token")
  errors=$(awk '/Non-2xx/ {print $NF}' <<<"$out")
  [ -z "$errors" ] || { echo "non-2xx answers during the run: $errors" >&2; exit 1; }
  after=$(raw_rate "$alg")
  [ "$(stat -c %s "$work/$alg.db" "$work/$alg.db-wal" 2>/dev/null | tr '\n' ' ')" = "$files" ] \
    || { echo "the database grew during the token load" >&2; exit 1; }
  kill "$pid"; wait "$pid" 2>/dev/null || true; pid=""
  echo "$(awk '/Requests\/sec/ {print $2}' <<<"$out") $(awk '$1 == "99%" {print $2}' <<<"$out" | ms) $(awk -v a="$before" -v b="$after" 'BEGIN {print (a + b) / 2}')"
}

for round in $(seq 1 "$ROUNDS"); do
  for alg in $ALGS; do
    echo "round $round/$ROUNDS: $alg" >&2
    if [ "$PEER" != none ]; then peer_round "$alg" >>"$work/peer-$alg"; fi
    knogin_round "$alg" >>"$work/knogin-$alg"
  done
done

echo "| algorithm | knogin tokens/s (median of $ROUNDS) | p99 | peer tokens/s | peer p99 | **knogin : peer** (spread) | raw signing/s | **knogin : raw signing** (spread) | token bytes |"
echo "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
for alg in $ALGS; do
  k="$work/knogin-$alg" p="$work/peer-$alg"
  column() { awk -v c="$2" '{print $c}' "$1"; }
  if [ "$PEER" != none ]; then
    paste -d' ' "$k" "$p" | awk '{print $1 / $4}' >"$work/vs-peer-$alg"
    peer_rate=$(column "$p" 1 | median | awk '{printf "%.0f", $1}') peer_p99="$(column "$p" 2 | median) ms"
    vs_peer="$(median <"$work/vs-peer-$alg" | round2)× ($(spread <"$work/vs-peer-$alg"))"
  else
    peer_rate="–" peer_p99="–" vs_peer="–"
  fi
  awk '{print $1 / $3}' "$k" >"$work/vs-raw-$alg"
  printf '| %s | %.0f | %s ms | %s | %s | **%s** | %.0f | **%s× (%s)** | %s |\n' "$alg" \
    "$(column "$k" 1 | median)" "$(column "$k" 2 | median)" "$peer_rate" "$peer_p99" "$vs_peer" \
    "$(column "$k" 3 | median)" "$(median <"$work/vs-raw-$alg" | round2)" "$(spread <"$work/vs-raw-$alg")" \
    "$(cat "$work/bytes-$alg")"
done
