#!/usr/bin/env bash
# Runs the reference server on a fresh SQLite database and walks the README's curl session:
# mint an admin token, register an app, read it back, check JWKS and an unknown path.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts="$PWD/scripts"

cargo build --quiet --example reference-server --example resource-server
bin="$PWD/target/debug/examples/reference-server"
resource_bin="$PWD/target/debug/examples/resource-server"
work=$(mktemp -d)
port=18080
trap 'kill "$pid" "${nonce_pid:-}" "${resource_pid:-}" "${receiver_pid:-}" "${bundles_pid:-}" 2>/dev/null || true; rm -rf "$work"' EXIT
cd "$work"

export KNOGIN_ISSUER="http://127.0.0.1:$port"
"$bin" migrate 2>/dev/null || { echo "smoke: migrate failed" >&2; exit 1; }
token=$("$bin" admin-token --tenant acme --skip-migrations 2>/dev/null)
# The old --user NAME:PASSWORD form is refused, and the message shows the new one.
if "$bin" serve --user alice:wonderland >old-user.txt 2>&1; then
  echo "smoke: serve accepted --user NAME:PASSWORD" >&2; exit 1
fi
grep -q 'TENANT/NAME:PASSWORD' old-user.txt || { echo "smoke: $(cat old-user.txt)" >&2; exit 1; }
# Users come from a file here (passwords stay out of the process list).
(umask 077; printf '# the smoke run'"'"'s users\nacme/alice:wonderland\n' >users.txt)
ops_port=18089
"$bin" serve --bind "127.0.0.1:$port" --key-refresh 1 --users-file users.txt --ops-bind "127.0.0.1:$ops_port" --audit-log audit.jsonl \
  --allow-private-webhook-targets --webhook-retry-delays 200ms,1s 2>server.log &
pid=$!
for _ in $(seq 1 50); do curl -sf "http://127.0.0.1:$port/.well-known/jwks.json" >/dev/null && break; sleep 0.2; done

fail() { echo "smoke: $*" >&2; cat server.log >&2; exit 1; }
expect() { # expect STATUS METHOD PATH [curl args...]
  local want=$1 method=$2 path=$3; shift 3
  local got
  got=$(curl -s -o body.json -w '%{http_code}' -X "$method" "http://127.0.0.1:$port$path" "$@")
  [ "$got" = "$want" ] || fail "$method $path answered $got, expected $want: $(cat body.json)"
}

expect 200 GET /.well-known/jwks.json
grep -q '"kty":"RSA"' body.json || fail "no RSA key in the JWKS"
expect 200 GET /v1/platform/scopes -H "Authorization: Bearer $token"
expect 201 POST /v1/platform/apps -H "Authorization: Bearer $token" -H 'Content-Type: application/json' \
  -d '{"name":"Case sync connector","grant_types":["client_credentials"],"redirect_uris":[],"requested_scopes":["webhooks:write"]}'
client_id=$(sed -E 's/.*"client_id":"([^"]+)".*/\1/' body.json)
expect 200 GET "/v1/platform/apps/$client_id" -H "Authorization: Bearer $token"
expect 200 PATCH "/v1/platform/apps/$client_id/governance" -H "Authorization: Bearer $token" \
  -H 'Content-Type: application/json' -d '{"allow_service_tokens":true}'
expect 200 POST "/v1/platform/apps/$client_id/rotate-secret" -H "Authorization: Bearer $token"
expect 200 POST "/v1/platform/apps/$client_id/rotate-secret" -H "Authorization: Bearer $token" \
  -H 'Content-Type: application/json' -d '{"revoke_previous":true}'
secret=$(sed -E 's/.*"client_secret":"([^"]+)".*/\1/' body.json)
# A resource the server issues no tokens for is refused (RFC 8707).
expect 400 POST /v1/oauth/token \
  -d "grant_type=client_credentials&client_id=$client_id&client_secret=$secret&resource=https://elsewhere.example"
grep -q '"error":"invalid_target"' body.json || fail "resource: $(cat body.json)"
expect 401 POST /v1/oauth/token -d "grant_type=client_credentials&client_id=$client_id&client_secret=not-it"
# An off-the-shelf OAuth client gets, checks, introspects and revokes tokens with both methods.
python3 "$scripts/authlib_client.py" "http://127.0.0.1:$port" "$client_id" "$secret" >authlib.txt 2>&1 \
  || fail "authlib: $(cat authlib.txt)"
# The same library authenticates an app that has no secret with assertions signed by its own key.
python3 "$scripts/authlib_client.py" private-key-jwt "http://127.0.0.1:$port" "$token" >authlib-jwt.txt 2>&1 \
  || fail "authlib private_key_jwt: $(cat authlib-jwt.txt)"
# panva's oauth4webapi, a strict client, authenticates with private_key_jwt and gets and uses a
# DPoP-bound token, and runs a pushed (PAR) code flow for alice to a DPoP-bound token; then again against a second instance on the same database that requires
# DPoP nonces, which the library picks up from the use_dpop_nonce answer and retries with.
o4w_dir="${TMPDIR:-/tmp}/knogin-oauth4webapi"
[ -f "$o4w_dir/node_modules/oauth4webapi/build/index.js" ] \
  || npm install --silent --no-audit --no-fund --prefix "$o4w_dir" oauth4webapi@3 >/dev/null
o4w="$o4w_dir/node_modules/oauth4webapi/build/index.js"
node "$scripts/oauth4webapi_client.mjs" "$o4w" "http://127.0.0.1:$port" "$token" alice wonderland >o4w.txt 2>&1 \
  || fail "oauth4webapi: $(cat o4w.txt)"
grep -q 'pushed code flow' o4w.txt || fail "oauth4webapi ran no code flow: $(cat o4w.txt)"
nonce_port=$((port + 2))
KNOGIN_ISSUER="http://127.0.0.1:$nonce_port" "$bin" serve --bind "127.0.0.1:$nonce_port" --skip-migrations \
  --dpop-nonces 2>nonce-server.log &
nonce_pid=$!
for _ in $(seq 1 50); do curl -sf "http://127.0.0.1:$nonce_port/.well-known/jwks.json" >/dev/null && break; sleep 0.2; done
nonce_token=$(KNOGIN_ISSUER="http://127.0.0.1:$nonce_port" "$bin" admin-token --tenant acme --skip-migrations 2>/dev/null)
node "$scripts/oauth4webapi_client.mjs" "$o4w" "http://127.0.0.1:$nonce_port" "$nonce_token" >o4w-nonce.txt 2>&1 \
  || fail "oauth4webapi with nonces: $(cat o4w-nonce.txt) $(cat nonce-server.log)"
grep -q 'with a server nonce' o4w-nonce.txt || fail "no nonce was asked for: $(cat o4w-nonce.txt)"
kill "$nonce_pid"
# The same client library completes the authorization code flow with PKCE through the built-in
# login and consent pages, and rotates the refresh token.
expect 201 POST /v1/platform/apps -H "Authorization: Bearer $token" -H 'Content-Type: application/json' \
  -d '{"name":"Incident board","grant_types":["authorization_code"],"redirect_uris":["http://127.0.0.1:9/callback"],"requested_scopes":["webhooks:read"]}'
code_client=$(sed -E 's/.*"client_id":"([^"]+)".*/\1/' body.json)
code_secret=$(sed -E 's/.*"client_secret":"([^"]+)".*/\1/' body.json)
python3 "$scripts/authlib_client.py" code-flow "http://127.0.0.1:$port" "$code_client" "$code_secret" \
  http://127.0.0.1:9/callback alice wonderland >authlib-code.txt 2>&1 || fail "authlib code flow: $(cat authlib-code.txt)"
expect 200 POST "/v1/platform/apps/$client_id/service-token" -H "Authorization: Bearer $token" \
  -H 'Content-Type: application/json' -d '{"scopes":["webhooks:write"]}'
# rotate-keys prints the new kid, and the running server publishes it after its refresh.
kid=$("$bin" rotate-keys --signing-alg EdDSA 2>/dev/null)
[ -n "$kid" ] || fail "rotate-keys printed no kid"
sleep 1.5
expect 200 GET /.well-known/jwks.json
grep -q "\"kid\":\"$kid\"" body.json || fail "the rotated key $kid is not published: $(cat body.json)"
grep -q '"crv":"Ed25519"' body.json || fail "no Ed25519 key after rotate-keys --signing-alg EdDSA"
expect 401 GET /v1/platform/apps
# A token minted for another issuer is refused; the issuer is used verbatim (no slash added).
other=$("$bin" admin-token --tenant acme --issuer "http://127.0.0.1:$port/" 2>/dev/null)
expect 401 GET /v1/platform/apps -H "Authorization: Bearer $other"
grep -q '"detail":"the token was issued for another issuer or audience"' body.json || fail "wrong-issuer detail"
[ "$(stat -c %a knogin.db.master-key)" = 600 ] || fail "the master key file is not mode 0600"
[ "$(stat -c %a knogin.db)" = 600 ] || fail "the database file is not mode 0600"
# A PostgreSQL server on another host without TLS required in the URL is refused, password unshown.
if KNOGIN_MASTER_KEY=$(head -c 32 /dev/urandom | base64) "$bin" admin-token --tenant acme \
  --database "postgres://u:pw@db.example.invalid/k" >out.txt 2>err.txt; then
  fail "a plaintext remote database was accepted"
fi
grep -q "sslmode=verify-full" err.txt || fail "plaintext message: $(cat err.txt)"
! grep -q ":pw@" err.txt || fail "the database password was printed"
# A wrong master key fails with a clear message and a non-zero exit, never a panic.
if KNOGIN_MASTER_KEY=$(head -c 32 /dev/urandom | base64) "$bin" admin-token --tenant acme >out.txt 2>err.txt; then
  fail "a wrong master key was accepted"
fi
grep -q "the master key is not the one this database was created with" err.txt || fail "wrong-key message: $(cat err.txt)"
! grep -q panicked err.txt || fail "panicked on a wrong master key"
expect 404 GET /api/v1/platform/anything
# The resource-server example verifies the server's tokens against its JWKS (discovered from the
# RFC 8414 metadata): incidents:read is served the tenant's incidents, another scope is a 403.
resource_port=18081
"$resource_bin" --issuer "http://127.0.0.1:$port" --bind "127.0.0.1:$resource_port" 2>resource.log &
resource_pid=$!
for _ in $(seq 1 50); do curl -sf "http://127.0.0.1:$resource_port/.well-known/oauth-protected-resource" >/dev/null && break; sleep 0.2; done
expect 201 POST /v1/platform/apps -H "Authorization: Bearer $token" -H 'Content-Type: application/json' \
  -d '{"name":"Incident reader","grant_types":["client_credentials"],"redirect_uris":[],"requested_scopes":["incidents:read","webhooks:read"]}'
reader=$(sed -E 's/.*"client_id":"([^"]+)".*/\1/' body.json)
reader_secret=$(sed -E 's/.*"client_secret":"([^"]+)".*/\1/' body.json)
for scope in incidents:read webhooks:read; do
  expect 200 POST /v1/oauth/token -d "grant_type=client_credentials&client_id=$reader&client_secret=$reader_secret&scope=$scope"
  access=$(sed -E 's/.*"access_token":"([^"]+)".*/\1/' body.json)
  got=$(curl -s -o incidents.json -w '%{http_code}' "http://127.0.0.1:$resource_port/v1/incidents" -H "Authorization: Bearer $access")
  want=$([ "$scope" = incidents:read ] && echo 200 || echo 403)
  [ "$got" = "$want" ] || fail "resource server: $scope answered $got: $(cat incidents.json) $(cat resource.log)"
  [ "$want" = 403 ] || grep -q '"tenant":"acme"' incidents.json || fail "incidents: $(cat incidents.json)"
done
kill "$resource_pid"
# GraphQL: the demo bundle's IncidentById runs in the token's tenant; anything else, such as
# introspection, is refused with OPERATION_NOT_ALLOWED; admins see the bundle by name.
expect 200 POST /v1/oauth/token -d "grant_type=client_credentials&client_id=$reader&client_secret=$reader_secret&scope=incidents:read"
access=$(sed -E 's/.*"access_token":"([^"]+)".*/\1/' body.json)
gql() { expect 200 POST /graphql -H "Authorization: Bearer $access" -H 'X-Tenant-ID: acme' -H 'Content-Type: application/json' -d "$1"; }
gql '{"query":"query IncidentById($id: ID!) { incident(id: $id) { id title status } }","variables":{"id":"inc_1"}}'
grep -q '"id":"inc_1"' body.json || fail "graphql: $(cat body.json)"
gql '{"query":"{ __schema { types { name } } }"}'
grep -q '"OPERATION_NOT_ALLOWED"' body.json || fail "graphql introspection: $(cat body.json)"
expect 404 GET /graphql
expect 200 GET /v1/platform/graphql-bundles -H "Authorization: Bearer $token"
grep -q '"name":"incident-sync","operations":\["IncidentById"\]' body.json || fail "bundles: $(cat body.json)"
# --graphql-bundles: a manifest replaces the demo bundle; a broken one stops the start, naming the file.
mkdir -p ops
echo 'query IncidentTitle($id: ID!) { incident(id: $id) { title } }' >ops/IncidentTitle.graphql
echo '{"bundles":[{"name":"titles","scopes":["incidents:read"],"documents":["ops/IncidentTitle.graphql"]}]}' >bundles.json
echo '{"bundles":[{"name":"bad","scopes":["incidents:read"],"documents":["ops/missing.graphql"]}]}' >bad.json
if "$bin" serve --bind 127.0.0.1:18083 --graphql-bundles bad.json 2>bad.log; then fail "a broken manifest served"; fi
grep -q 'missing.graphql' bad.log || fail "the manifest error does not name the file: $(cat bad.log)"
"$bin" serve --bind 127.0.0.1:18083 --graphql-bundles bundles.json 2>bundles.log &
bundles_pid=$!
for _ in $(seq 1 50); do curl -sf http://127.0.0.1:18083/.well-known/jwks.json >/dev/null && break; sleep 0.2; done
curl -s http://127.0.0.1:18083/v1/platform/graphql-bundles -H "Authorization: Bearer $token" >bundles-listed.json
kill "$bundles_pid"; wait "$bundles_pid" 2>/dev/null || true  # its delivery worker shares the database: let it end first
grep -q '"name":"titles","operations":\["IncidentTitle"\]' bundles-listed.json || fail "--graphql-bundles: $(cat bundles-listed.json) $(cat bundles.log)"
# Webhooks: a subscription to a receiver that verifies with the off-the-shelf standardwebhooks
# library; events published by `publish` (one, then an NDJSON file of three) are delivered by the
# running server, and the history says so.
receiver_port=18082
hook_secret=whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw
: >received.ndjson
python3 "$scripts/webhook_receiver.py" "$receiver_port" "$hook_secret" received.ndjson 2>receiver.log &
receiver_pid=$!
# Deliveries start at once: the receiver must be listening first (python starts in a second or so).
for _ in $(seq 1 100); do [ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$receiver_port/")" != 000 ] && break; sleep 0.1; done
expect 201 POST /v1/platform/apps -H "Authorization: Bearer $token" -H 'Content-Type: application/json' \
  -d '{"name":"Hooks","grant_types":["client_credentials"],"redirect_uris":[],"requested_scopes":["webhooks:read","webhooks:write"]}'
hooks=$(sed -E 's/.*"client_id":"([^"]+)".*/\1/' body.json)
hooks_secret=$(sed -E 's/.*"client_secret":"([^"]+)".*/\1/' body.json)
expect 200 POST /v1/oauth/token -d "grant_type=client_credentials&client_id=$hooks&client_secret=$hooks_secret"
hooks_token=$(sed -E 's/.*"access_token":"([^"]+)".*/\1/' body.json)
expect 201 POST /v1/webhooks -H "Authorization: Bearer $hooks_token" -H 'Content-Type: application/json' \
  -d "{\"url\":\"http://127.0.0.1:$receiver_port/hook\",\"events\":[\"incident.updated\"],\"secret\":\"$hook_secret\"}"
webhook=$(sed -E 's/.*"id":"([^"]+)".*/\1/' body.json)
"$bin" publish --tenant acme --event incident.updated --data '{"id":"inc_1","status":"open"}' >published.txt 2>publish.log \
  || fail "publish: $(cat publish.log)"
printf '%s\n' '{"id":"inc_2"}' '{"id":"inc_3"}' '{"id":"inc_4"}' >events.ndjson
"$bin" publish --tenant acme --event incident.updated --data-file events.ndjson >>published.txt 2>>publish.log \
  || fail "publish --data-file: $(cat publish.log)"
[ "$(grep -c '^evt_' published.txt)" = 4 ] || fail "publish printed: $(cat published.txt)"
# Every line is checked before anything is stored: a bad line publishes nothing, and is named.
printf '%s\n' '{"id":"inc_5"}' '' '{"id":' >bad.ndjson
if "$bin" publish --tenant acme --event incident.updated --data-file bad.ndjson >bad-published.txt 2>bad-publish.log; then
  fail "publish accepted a file with a bad line"
fi
grep -q 'bad.ndjson line 3' bad-publish.log || fail "publish did not name the bad line: $(cat bad-publish.log)"
[ ! -s bad-published.txt ] || fail "publish stored events of a file with a bad line: $(cat bad-published.txt)"
for _ in $(seq 1 50); do [ "$(wc -l <received.ndjson)" -ge 4 ] && break; sleep 0.2; done
if [ "$(wc -l <received.ndjson)" != 4 ]; then
  curl -s "http://127.0.0.1:$port/v1/webhooks/$webhook/deliveries" -H "Authorization: Bearer $hooks_token" >history.json
  fail "the receiver verified $(wc -l <received.ndjson) of 4: $(cat receiver.log) history: $(cat history.json)"
fi
# The receiver answers before the server records: wait for the history to catch up.
for _ in $(seq 1 50); do
  expect 200 GET "/v1/webhooks/$webhook/deliveries?status=succeeded" -H "Authorization: Bearer $hooks_token"
  [ "$(grep -o '"status":"succeeded"' body.json | wc -l)" = 4 ] && break; sleep 0.1
done
[ "$(grep -o '"status":"succeeded"' body.json | wc -l)" = 4 ] || fail "delivery history: $(cat body.json)"
grep -q '"history_since":"20' body.json || fail "the history does not say how far back it goes: $(cat body.json)"
kill "$receiver_pid"
# The operations listener: probes and Prometheus metrics, none of them on the public listener.
[ "$(curl -sf "http://127.0.0.1:$ops_port/healthz")" = ok ] || fail "/healthz"
[ "$(curl -sf "http://127.0.0.1:$ops_port/readyz")" = ready ] || fail "/readyz"
curl -sf "http://127.0.0.1:$ops_port/metrics" >metrics.txt || fail "/metrics"
for series in \
  'http_server_request_duration_seconds_bucket{http_request_method="POST",http_route="/v1/oauth/token",http_response_status_code="200",le=' \
  'http_server_request_duration_seconds_count{http_request_method="GET",http_route="/v1/webhooks/{webhook_id}/deliveries",http_response_status_code="200"}' \
  'knogin_tokens_issued_total{grant_type="client_credentials",alg="RS256"}' \
  'knogin_webhook_deliveries_total{outcome="succeeded"} ' \
  'knogin_webhook_delivery_duration_seconds_bucket' 'knogin_webhook_queue_depth ' \
  'knogin_webhook_backlog_age_seconds ' 'knogin_signing_key_reloads_total{outcome="ok"}' \
  'knogin_signing_key_age_seconds'; do
  grep -qF "$series" metrics.txt || fail "/metrics has no $series: $(grep -v '^#' metrics.txt | head -40)"
done
! grep -q "$webhook" metrics.txt || fail "a raw path became a metrics label"
expect 404 GET /metrics
expect 404 GET /healthz
grep -q 'served GET /.well-known/jwks.json 200 in [0-9]*µs route=/.well-known/jwks.json correlation_id=[0-9a-f]*$' server.log \
  || fail "the request line has no route and correlation id"
# Erasure: the tenant's finished events go with their deliveries; another tenant's stay.
if "$bin" purge-events --tenant acme --before yesterday >purge-bad.txt 2>&1; then fail "purge-events took --before yesterday"; fi
grep -q 'RFC 3339' purge-bad.txt || fail "purge-events --before: $(cat purge-bad.txt)"
"$bin" purge-events --tenant nobody >purged-none.txt 2>purge.log || fail "purge-events: $(cat purge.log)"
[ "$(cat purged-none.txt)" = "purged 0 events and 0 deliveries" ] || fail "purge-events printed $(cat purged-none.txt)"
"$bin" purge-events --tenant acme >purged.txt 2>>purge.log || fail "purge-events: $(cat purge.log)"
[ "$(cat purged.txt)" = "purged 4 events and 4 deliveries" ] || fail "purge-events printed $(cat purged.txt)"
expect 200 GET "/v1/webhooks/$webhook/deliveries" -H "Authorization: Bearer $hooks_token"
grep -q '"deliveries":\[\]' body.json || fail "the erased deliveries are still listed: $(cat body.json)"
# Emergency commands: an admin token revoked by its jti, and the signing key withdrawn, are
# refused by the running server after its refresh (1 s here); the replacement key signs.
jti=$(python3 -c 'import base64,json,sys; p=sys.argv[1].split(".")[1]; print(json.loads(base64.urlsafe_b64decode(p+"==="))["jti"])' "$token")
"$bin" revoke-token --jti "$jti" 2>revoke.log || fail "revoke-token: $(cat revoke.log)"
signing=$(python3 -c 'import base64,json,sys; h=sys.argv[1].split(".")[0]; print(json.loads(base64.urlsafe_b64decode(h+"==="))["kid"])' "$hooks_token")
replacement=$("$bin" withdraw-key "$signing" 2>withdraw.log) || fail "withdraw-key: $(cat withdraw.log)"
[ -n "$replacement" ] && [ "$replacement" != "$signing" ] || fail "withdraw-key printed $replacement"
sleep 1.5
expect 401 GET /v1/platform/scopes -H "Authorization: Bearer $token"
expect 401 GET /v1/webhooks -H "Authorization: Bearer $hooks_token"
expect 200 GET /.well-known/jwks.json
! grep -q "\"kid\":\"$signing\"" body.json || fail "the withdrawn key $signing is still published"
fresh=$("$bin" admin-token --tenant acme 2>/dev/null)
expect 200 GET /v1/platform/scopes -H "Authorization: Bearer $fresh"
kill -INT "$pid"
wait "$pid" || fail "the server did not shut down cleanly on SIGINT"
grep -q 'served' server.log || fail "no request log line"
# The audit trail: one JSON line per act, with who and how it ended, and no secret or token.
python3 - audit.jsonl "$secret" "$hooks_token" <<'PY' || fail "audit log: $(cat audit.jsonl)"
import json, sys
path, secret, token = sys.argv[1:4]
text = open(path).read()
events = [json.loads(line) for line in text.splitlines()]
types = {e["type"] for e in events}
for wanted in ["app.registered", "app.governance_changed", "app.secret_rotated", "token.issued",
               "token.revoked", "client_auth.failed", "sign_in.succeeded", "consent.granted",
               "webhook.created"]:
    assert wanted in types, (wanted, sorted(types))
for e in events:
    assert set(e) >= {"type", "at", "tenant", "actor", "actor_type", "client_id", "outcome"}, e
    assert e["at"].endswith("Z"), e
assert secret not in text and token not in text, "a secret or token in the audit log"
issued = next(e for e in events if e["type"] == "token.issued")
assert issued["actor_type"] == "client" and issued["tenant"] == "acme", issued
PY
# JSON logs, and a SIGTERM: the request line's fields as JSON, and a clean exit within the grace.
"$bin" serve --bind "127.0.0.1:$port" --database "sqlite://$work/json.db" --log-format json --shutdown-grace 5 2>json.log &
pid=$!
for _ in $(seq 1 50); do curl -sf "http://127.0.0.1:$port/.well-known/jwks.json" -H 'X-Request-Id: smoke-1' >/dev/null && break; sleep 0.2; done
kill -TERM "$pid"
wait "$pid" || fail "the server did not shut down cleanly on SIGTERM: $(cat json.log)"
python3 - json.log <<'PY' || fail "no JSON request line: $(cat json.log)"
import json, sys
lines = [json.loads(line) for line in open(sys.argv[1])]
served = [l for l in lines if l.get("message") == "served" and l.get("correlation_id") == "smoke-1"]
assert served and served[0]["route"] == "/.well-known/jwks.json" and served[0]["status"] == 200, lines
assert any(l.get("message") == "stopped" for l in lines), lines
PY
# The text request line as docs/operations.md gives it (written straight into the log's buffer).
"$bin" serve --bind "127.0.0.1:$port" --database "sqlite://$work/text.db" 2>text.log &
pid=$!
for _ in $(seq 1 50); do curl -sf "http://127.0.0.1:$port/.well-known/jwks.json" -H 'X-Request-Id: smoke-2' >/dev/null && break; sleep 0.2; done
kill -TERM "$pid"
wait "$pid" || fail "the server did not shut down cleanly on SIGTERM: $(cat text.log)"
grep -qE '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{6}Z  INFO reference_server::serve: served GET /\.well-known/jwks\.json 200 in [0-9]+µs route=/\.well-known/jwks\.json correlation_id=smoke-2$' text.log \
  || fail "no text request line: $(cat text.log)"

# On PostgreSQL, the log shows the database URL with its password replaced.
if [ -n "${KNOGIN_TEST_POSTGRES_URL:-}" ] && command -v psql >/dev/null; then
  admin_url="${KNOGIN_TEST_POSTGRES_URL%/*}/postgres"
  psql "$admin_url" -qAt -c "DROP DATABASE IF EXISTS knogin_smoke" -c "CREATE DATABASE knogin_smoke" >/dev/null
  pg_url=$(sed -E 's#^postgres(ql)?://([^@/]+)@#postgres://\2:pw@#' <<<"${KNOGIN_TEST_POSTGRES_URL%/*}/knogin_smoke")
  KNOGIN_MASTER_KEY=$(head -c 32 /dev/urandom | base64) "$bin" serve --bind "127.0.0.1:$port" --database "$pg_url" 2>pg.log &
  pid=$!
  for _ in $(seq 1 50); do curl -sf "http://127.0.0.1:$port/.well-known/jwks.json" >/dev/null && break; sleep 0.2; done
  kill -INT "$pid"; wait "$pid" || fail "the PostgreSQL server did not shut down cleanly"
  grep -q ':\*\*\*@' pg.log || fail "no redacted database URL in the log: $(cat pg.log)"
  ! grep -q ':pw@' pg.log || fail "the database password reached the log"
  psql "$admin_url" -qAt -c "DROP DATABASE knogin_smoke" >/dev/null
fi
echo "smoke: reference server OK"
