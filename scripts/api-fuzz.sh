#!/usr/bin/env bash
# Validates the reference server's OpenAPI document (openapi-spec-validator), then lets
# schemathesis drive every documented operation from it, once with an admin token and once with
# an integrator's access token (every scope of the catalog), and fails on any server error and on
# any answer the document does not describe: its status, its media type or its body's schema (the
# schemas are derived from the structs that write the bodies, so this checks the derivation).
set -euo pipefail
cd "$(dirname "$0")/.."

cargo build --quiet --example reference-server
bin="$PWD/target/debug/examples/reference-server"
work=$(mktemp -d)
port=18095
base="http://127.0.0.1:$port"
trap 'kill "${pid:-}" 2>/dev/null || true; rm -rf "$work"' EXIT
cd "$work"

export KNOGIN_ISSUER="$base" KNOGIN_DATABASE_URL="sqlite://$work/knogin.db"
"$bin" migrate 2>/dev/null
admin=$("$bin" admin-token --tenant acme --skip-migrations 2>/dev/null)
RUST_LOG=warn "$bin" serve --bind "127.0.0.1:$port" --allow-private-webhook-targets 2>server.log &
pid=$!
for _ in $(seq 1 50); do curl -sf "$base/.well-known/jwks.json" >/dev/null && break; sleep 0.2; done

fail() { echo "api-fuzz: $*" >&2; tail -50 server.log >&2; exit 1; }

curl -sf "$base/api/docs/openapi.json" -o openapi.json || fail "no OpenAPI document"
python3 -m openapi_spec_validator openapi.json >validator.txt 2>&1 || fail "openapi-spec-validator: $(cat validator.txt)"
echo "api-fuzz: openapi-spec-validator: $(cat validator.txt)"

# An integrator: an app with every scope, its access token, and one webhook to find.
curl -sf -X POST "$base/v1/platform/apps" -H "Authorization: Bearer $admin" -H 'Content-Type: application/json' \
  -d '{"name":"Fuzzer","grant_types":["client_credentials"],"redirect_uris":[],"requested_scopes":["webhooks:read","webhooks:write","incidents:read"]}' \
  -o app.json || fail "register an app"
client_id=$(sed -E 's/.*"client_id":"([^"]+)".*/\1/' app.json)
secret=$(sed -E 's/.*"client_secret":"([^"]+)".*/\1/' app.json)
curl -sf -X POST "$base/v1/oauth/token" -d "grant_type=client_credentials&client_id=$client_id&client_secret=$secret" \
  -o token.json || fail "get an access token"
access=$(sed -E 's/.*"access_token":"([^"]+)".*/\1/' token.json)
curl -sf -X POST "$base/v1/webhooks" -H "Authorization: Bearer $access" -H 'Content-Type: application/json' \
  -d '{"url":"http://127.0.0.1:9/hook","events":["incident.updated"]}' >/dev/null || fail "create a webhook"

# Depth within CI's time: the two tokens' runs go at once (one process each, so both cores
# work), each with API_FUZZ_EXAMPLES examples per operation (default 400: about twenty-five times the
# earlier depth, enough to reach NUL bytes and other edge strings in every parameter).
# One worker per process: hypothesis describes filters by parsing Python source, and CPython
# 3.11's `ast` keeps its recursion counter per interpreter, not per thread, so two workers in
# one process can fail with "SystemError: AST constructor recursion depth mismatch" (CPython
# gh-106905), an error of the fuzzer, not of the server.
fuzz() { # fuzz WHO TOKEN
  schemathesis run "$base/api/docs/openapi.json" -H "Authorization: Bearer $2" \
    --checks not_a_server_error,response_schema_conformance,status_code_conformance,content_type_conformance --max-examples "${API_FUZZ_EXAMPLES:-400}" --workers 1 --seed 1 \
    --request-timeout 10 >"schemathesis-$1.txt" 2>&1
}
fuzz admin "$admin" & admin_run=$!
fuzz access "$access" & access_run=$!
failed=""
wait "$admin_run" || failed="$failed admin"
wait "$access_run" || failed="$failed access"
total=0
for who in admin access; do
  summary=$(grep -E '^  [0-9]+ generated' "schemathesis-$who.txt" || true)
  echo "api-fuzz: schemathesis ($who token): $summary"
  total=$((total + $(echo "$summary" | grep -oE '^ *[0-9]+' | tr -d ' ' || echo 0)))
done
for who in $failed; do
  cat "schemathesis-$who.txt" >&2
  fail "schemathesis found server errors or undocumented answers with the $who token"
done
grep -qE 'internal error|panicked' server.log && fail "the server logged an internal error or a panic"
echo "api-fuzz: OK ($total generated requests, 0 server errors, every answer as documented)"
