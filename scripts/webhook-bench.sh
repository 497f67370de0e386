#!/usr/bin/env bash
# Sourced by the webhook benchmarks (bench-webhooks.sh, bench-snapshot.sh): builds the release
# server and receiver, works in a temporary directory that goes on exit with every process
# started, and gives:
#   fresh_postgres NAME        -> a new database NAME next to KNOGIN_TEST_POSTGRES_URL's (its URL,
#                                 with the same parameters)
#   webhook_server DB PORT N   -> a receiver on PORT+1 and a `serve` on PORT against DB (migrated),
#                                 an app, and N subscriptions to incident.updated; sets $server (its pid)
# BIN=path runs another build's reference-server (an A/B against an older tree's binary).
cargo build --quiet --release --example reference-server --example bench-baseline
bin=$(realpath "${BIN:-target/release/examples/reference-server}")
receiver="$PWD/target/release/examples/bench-baseline"
work=$(mktemp -d)
pids=()
trap 'kill "${pids[@]}" 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$work"' EXIT
cd "$work"
export RUST_LOG=warn
KNOGIN_MASTER_KEY=$(head -c 32 /dev/urandom | base64)
export KNOGIN_MASTER_KEY

fresh_postgres() {
  # The new database's URL keeps the given one's parameters (`?sslmode=disable`, say).
  local base=${KNOGIN_TEST_POSTGRES_URL%%\?*}
  PGOPTIONS="-c client_min_messages=warning" psql "$KNOGIN_TEST_POSTGRES_URL" -qAt -c "DROP DATABASE IF EXISTS $1" -c "CREATE DATABASE $1" >/dev/null
  echo "${base%/*}/$1${KNOGIN_TEST_POSTGRES_URL#"$base"}"
}

webhook_server() {
  local db=$1 port=$2 fanout=$3 base admin app id key token
  base="http://127.0.0.1:$port"
  export KNOGIN_ISSUER=$base
  echo '{}' >answer.json
  "$receiver" "127.0.0.1:$((port + 1))" answer.json & pids+=($!)
  "$bin" migrate --database "$db" 2>/dev/null
  "$bin" serve --bind "127.0.0.1:$port" --database "$db" --allow-private-webhook-targets 2>server.log & server=$!
  pids+=("$server")
  for _ in $(seq 1 100); do curl -sf "$base/.well-known/jwks.json" >/dev/null && break; sleep 0.1; done
  admin=$("$bin" admin-token --tenant acme --database "$db" 2>/dev/null)
  app=$(curl -sf -X POST "$base/v1/platform/apps" -H "Authorization: Bearer $admin" -H 'Content-Type: application/json' \
    -d '{"name":"Bench","grant_types":["client_credentials"],"redirect_uris":[],"requested_scopes":["webhooks:write"]}')
  id=$(sed -E 's/.*"client_id":"([^"]+)".*/\1/' <<<"$app"); key=$(sed -E 's/.*"client_secret":"([^"]+)".*/\1/' <<<"$app")
  token=$(curl -sf -X POST "$base/v1/oauth/token" -d "grant_type=client_credentials&client_id=$id&client_secret=$key" |
    sed -E 's/.*"access_token":"([^"]+)".*/\1/')
  for i in $(seq 1 "$fanout"); do
    curl -sf -X POST "$base/v1/webhooks" -H "Authorization: Bearer $token" -H 'Content-Type: application/json' \
      -d "{\"url\":\"http://127.0.0.1:$((port + 1))/hook/$i\",\"events\":[\"incident.updated\"]}" >/dev/null
  done
}
