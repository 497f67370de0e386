#!/usr/bin/env bash
# Runs the embedding examples as a user copies them (embed-axum, embed-hyper) and drives each
# over HTTP: register an app with the printed admin token, get a client_credentials token,
# subscribe a webhook, and verify the token at the resource-server example.
set -euo pipefail
cd "$(dirname "$0")/.."

cargo build --quiet --example embed-axum --example embed-hyper --example resource-server
bin="$PWD/target/debug/examples"
work=$(mktemp -d)
trap 'kill ${pids:-} 2>/dev/null || true; rm -rf "$work"' EXIT
pids=""

fail() { echo "examples: $*" >&2; for f in "$work"/*.log; do echo "== $f" >&2; cat "$f" >&2; done; exit 1; }

# call NAME METHOD URL [curl args...]: the body goes to $work/NAME.json, the status is printed.
call() {
  local name=$1 method=$2 url=$3; shift 3
  curl -s -o "$work/$name.json" -w '%{http_code}' -X "$method" "$url" "$@"
}
field() { python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' "$work/$1.json" "$2"; }

drive() { # drive EXAMPLE PORT
  local example=$1 port=$2 base="http://127.0.0.1:$2"
  "$bin/$example" >"$work/$example.log" 2>&1 &
  pids="$pids $!"
  for _ in $(seq 1 100); do grep -q "^listening on $base$" "$work/$example.log" && break; sleep 0.1; done
  grep -q "^listening on $base$" "$work/$example.log" || fail "$example did not say it is listening on $base"
  local admin
  admin=$(sed -n '/^admin token for tenant demo:$/{n;p;q}' "$work/$example.log")
  [ -n "$admin" ] || fail "$example printed no admin token"

  [ "$(call app POST "$base/v1/platform/apps" -H "Authorization: Bearer $admin" \
    -H 'Content-Type: application/json' \
    -d '{"name":"Example connector","grant_types":["client_credentials"],"redirect_uris":[],"requested_scopes":["webhooks:write","incidents:read"]}')" = 201 ] \
    || fail "$example: register an app: $(cat "$work/app.json")"
  local client_id secret token
  client_id=$(field app client_id); secret=$(field app client_secret)
  [ "$(call token POST "$base/v1/oauth/token" -u "$client_id:$secret" \
    -d 'grant_type=client_credentials&scope=webhooks:write incidents:read')" = 200 ] \
    || fail "$example: client_credentials: $(cat "$work/token.json")"
  token=$(field token access_token)
  [ "$(call webhook POST "$base/v1/webhooks" -H "Authorization: Bearer $token" \
    -H 'Content-Type: application/json' \
    -d '{"url":"https://integrator.example/hooks","events":["incident.updated"]}')" = 201 ] \
    || fail "$example: subscribe a webhook: $(cat "$work/webhook.json")"

  "$bin/resource-server" --issuer "$base" --bind 127.0.0.1:18081 >"$work/resource-$example.log" 2>&1 &
  local resource=$!
  pids="$pids $resource"
  for _ in $(seq 1 100); do curl -sf -o /dev/null http://127.0.0.1:18081/.well-known/oauth-protected-resource && break; sleep 0.1; done
  [ "$(call incidents GET http://127.0.0.1:18081/v1/incidents -H "Authorization: Bearer $token")" = 200 ] \
    || fail "$example: the resource server refused the token: $(cat "$work/incidents.json")"
  grep -q '"tenant":"demo"' "$work/incidents.json" || fail "$example: $(cat "$work/incidents.json")"
  [ "$(call anonymous GET http://127.0.0.1:18081/v1/incidents)" = 401 ] || fail "$example: no token was let in"
  kill "$resource"
  echo "examples: $example served an app, a token, a webhook, and a verified token"
}

drive embed-axum 3000
drive embed-hyper 3001
