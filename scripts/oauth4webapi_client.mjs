// Drives the reference server with panva's oauth4webapi, a strict off-the-shelf OAuth client:
// it registers an app that authenticates with private_key_jwt (its own Ed25519 key, no secret),
// gets a DPoP-bound token with client_credentials (retrying once with the server's nonce when
// the server asks for one), reads a protected route with it through the library's
// protected-resource request, which sends a fresh proof with the token's hash, and exchanges it
// (RFC 8693) for another bound token.
//
// With USER and PASSWORD (a user of the built-in login), it also runs the authorization code
// flow as a second app, which registers the URL of its keys (jwks_uri, served here on a
// loopback port, so the server must allow private targets) instead of the keys, and follows the
// FAPI 2.0 security profile: a pushed authorization request (RFC 9126) signed in with
// private_key_jwt, the browser's part through the login and consent pages, the code redeemed
// for a DPoP-bound token, and that token's refresh, rotating and then (with the app's rotation
// switched off) kept across uses.
//
// usage: node oauth4webapi_client.mjs MODULE BASE_URL ADMIN_TOKEN [USER PASSWORD]
//   MODULE is the path of oauth4webapi's build/index.js.
import http from 'node:http'
import { pathToFileURL } from 'node:url'

const [modulePath, base, adminToken, user, password] = process.argv.slice(2)
if (!adminToken) {
  console.error('usage: node oauth4webapi_client.mjs MODULE BASE_URL ADMIN_TOKEN [USER PASSWORD]')
  process.exit(2)
}
const oauth = await import(pathToFileURL(modulePath).href)
const insecure = { [oauth.allowInsecureRequests]: true }

function check(condition, message) {
  if (!condition) {
    throw new Error(message)
  }
}

/// Changes the governance of the app `clientId` with `patch`.
async function govern(clientId, patch) {
  const patched = await fetch(`${base}/v1/platform/apps/${clientId}/governance`, {
    method: 'PATCH',
    headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' },
    body: JSON.stringify(patch),
  })
  check(patched.status === 200, `the governance patch answered ${patched.status}: ${await patched.text()}`)
}

/// The JWK Set of the public half of `keys`, named `kid`.
async function publicJwks(keys, kid) {
  const { d: _, ...publicJwk } = await crypto.subtle.exportKey('jwk', keys.publicKey)
  return { keys: [{ ...publicJwk, kid, key_ops: undefined, ext: undefined }] }
}

/// Serves `jwks` on a loopback port, as a client publishing its keys does; returns its URL and
/// a count of the requests it answered.
async function publish(jwks) {
  const served = { url: '', requests: 0 }
  const server = http.createServer((_, response) => {
    served.requests += 1
    response.writeHead(200, { 'content-type': 'application/jwk-set+json', connection: 'close' })
    response.end(JSON.stringify(jwks))
  })
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve))
  server.unref()
  served.url = `http://127.0.0.1:${server.address().port}/jwks`
  return served
}

/// Registers an app that authenticates with `keys` (the server gets the public half only): the
/// keys themselves, or with `published` (from `publish`) the URL they are served at.
async function register(keys, kid, grantTypes, redirectUris, published) {
  const jwks = await publicJwks(keys, kid)
  const registered = await fetch(`${base}/v1/platform/apps`, {
    method: 'POST',
    headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' },
    body: JSON.stringify({
      name: 'oauth4webapi',
      grant_types: grantTypes,
      redirect_uris: redirectUris,
      requested_scopes: ['webhooks:read'],
      token_endpoint_auth_method: 'private_key_jwt',
      ...(published ? { jwks_uri: published.url } : { jwks }),
    }),
  })
  const app = await registered.json()
  check(registered.status === 201, `registration answered ${registered.status}: ${JSON.stringify(app)}`)
  check(app.client_secret === undefined, 'a private_key_jwt app got a secret')
  return app
}

const clientKeys = await oauth.generateKeyPair('Ed25519', { extractable: true })
const TOKEN_EXCHANGE = 'urn:ietf:params:oauth:grant-type:token-exchange'
const ACCESS_TOKEN = 'urn:ietf:params:oauth:token-type:access_token'
const app = await register(clientKeys, 'o4w', ['client_credentials', TOKEN_EXCHANGE], [])

const issuer = new URL(base)
const as = await oauth.processDiscoveryResponse(
  issuer,
  await oauth.discoveryRequest(issuer, { algorithm: 'oauth2', ...insecure }),
)
check(as.dpop_signing_alg_values_supported?.includes('ES256'), 'the metadata lists no DPoP algorithms')
const client = { client_id: app.client_id }
const clientAuth = oauth.PrivateKeyJwt({ key: clientKeys.privateKey, kid: 'o4w' })
const DPoP = oauth.DPoP(client, await oauth.generateKeyPair('ES256'))

async function token() {
  const response = await oauth.clientCredentialsGrantRequest(
    as, client, clientAuth, new URLSearchParams({ scope: 'webhooks:read' }), { DPoP, ...insecure },
  )
  return oauth.processClientCredentialsResponse(as, client, response)
}

let nonceAsked = false
let result
try {
  result = await token()
} catch (err) {
  // A server that requires nonces answers use_dpop_nonce; the handle keeps the nonce it sent.
  check(oauth.isDPoPNonceError(err), `token request: ${err}`)
  nonceAsked = true
  result = await token()
}
check(result.token_type === 'dpop', `token_type ${result.token_type}`)

const resource = await oauth.protectedResourceRequest(
  result.access_token, 'GET', new URL(`${base}/v1/webhooks`), new Headers(), null, { DPoP, ...insecure },
)
check(resource.status === 200, `GET /v1/webhooks answered ${resource.status}: ${await resource.text()}`)
// The same token as a plain bearer is refused.
const bearer = await fetch(`${base}/v1/webhooks`, {
  headers: { authorization: `Bearer ${result.access_token}` },
})
check(bearer.status === 401, `a bound token as a bearer answered ${bearer.status}`)
check(bearer.headers.get('www-authenticate').startsWith('DPoP '), 'no DPoP challenge')

// Token exchange (RFC 8693): the bound token for another of the same subject, with a proof by
// its key, bound in turn.
const exchanged = await oauth.processGenericTokenEndpointResponse(
  as, client,
  await oauth.genericTokenEndpointRequest(
    as, client, clientAuth, TOKEN_EXCHANGE,
    new URLSearchParams({ subject_token: result.access_token, subject_token_type: ACCESS_TOKEN }),
    { DPoP, ...insecure },
  ),
)
check(exchanged.token_type === 'dpop', `exchanged token_type ${exchanged.token_type}`)
check(exchanged.issued_token_type === ACCESS_TOKEN, `issued_token_type ${exchanged.issued_token_type}`)

console.log(`oauth4webapi: private_key_jwt, a DPoP-bound token and its exchange work${nonceAsked ? ', with a server nonce' : ''}`)

/// A person's browser: cookies kept, redirects not followed, the pages' forms read.
class Browser {
  cookies = new Map()
  at = new URL(base)

  async request(url, form) {
    const headers = { cookie: [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ') }
    const init = { headers, redirect: 'manual' }
    if (form) {
      init.method = 'POST'
      init.body = new URLSearchParams(form)
    }
    // A relative Location resolves against the page it came from.
    this.at = new URL(url, this.at)
    const response = await fetch(this.at, init)
    for (const cookie of response.headers.getSetCookie()) {
      const [pair] = cookie.split(';')
      const at = pair.indexOf('=')
      this.cookies.set(pair.slice(0, at), pair.slice(at + 1))
    }
    return { status: response.status, location: response.headers.get('location'), text: await response.text() }
  }
}

function field(page, name) {
  const found = new RegExp(`name="${name}" value="([^"]*)"`).exec(page.text)
  check(found, `no ${name} field in ${page.text}`)
  const entities = { '&amp;': '&', '&quot;': '"', '&#39;': "'", '&#x27;': "'", '&lt;': '<', '&gt;': '>' }
  return found[1].replace(/&(amp|quot|#39|#x27|lt|gt);/g, (e) => entities[e])
}

async function codeFlow() {
  const redirectUri = 'http://127.0.0.1:9/callback'
  const keys = await oauth.generateKeyPair('ES256', { extractable: true })
  const published = await publish(await publicJwks(keys, 'o4w-code'))
  const codeApp = await register(keys, 'o4w-code', ['authorization_code'], [redirectUri], published)
  check(codeApp.jwks_uri === published.url && published.requests === 0, 'the keys were fetched at registration')
  // The whole flow below is what the FAPI 2.0 profile allows.
  await govern(codeApp.client_id, { security_profile: 'fapi2' })
  const codeClient = { client_id: codeApp.client_id }
  const auth = oauth.PrivateKeyJwt({ key: keys.privateKey, kid: 'o4w-code' })
  const verifier = oauth.generateRandomCodeVerifier()
  const state = oauth.generateRandomState()
  const params = new URLSearchParams({
    response_type: 'code',
    redirect_uri: redirectUri,
    scope: 'webhooks:read',
    state,
    code_challenge: await oauth.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
  })
  const pushed = await oauth.processPushedAuthorizationResponse(
    as, codeClient, await oauth.pushedAuthorizationRequest(as, codeClient, auth, params, insecure),
  )
  const start = new URL(as.authorization_endpoint)
  start.searchParams.set('client_id', codeClient.client_id)
  start.searchParams.set('request_uri', pushed.request_uri)

  const browser = new Browser()
  const login = await browser.request(start)
  check(login.status === 200, `the login page answered ${login.status}: ${login.text}`)
  const back = await browser.request('/v1/oauth/login', {
    csrf_token: field(login, 'csrf_token'), return_to: field(login, 'return_to'), username: user, password,
  })
  check(back.status === 303, `the login answered ${back.status}: ${back.text}`)
  const consent = await browser.request(back.location)
  check(consent.status === 200, `the consent page answered ${consent.status}: ${consent.text}`)
  const answer = await browser.request('/v1/oauth/authorize', { csrf_token: field(consent, 'csrf_token'), decision: 'approve' })
  check(answer.status === 303, `the consent answered ${answer.status}: ${answer.text}`)

  const callback = oauth.validateAuthResponse(as, codeClient, new URL(answer.location), state)
  const codeDPoP = oauth.DPoP(codeClient, await oauth.generateKeyPair('EdDSA'))
  const tokens = await oauth.processAuthorizationCodeResponse(
    as, codeClient,
    await oauth.authorizationCodeGrantRequest(as, codeClient, auth, callback, redirectUri, verifier, { DPoP: codeDPoP, ...insecure }),
  )
  check(tokens.token_type === 'dpop', `token_type ${tokens.token_type}`)
  check(tokens.refresh_token?.startsWith('kr_'), 'no refresh token')
  const refreshed = await oauth.processRefreshTokenResponse(
    as, codeClient,
    await oauth.refreshTokenGrantRequest(as, codeClient, auth, tokens.refresh_token, { DPoP: codeDPoP, ...insecure }),
  )
  check(refreshed.token_type === 'dpop' && refreshed.refresh_token !== tokens.refresh_token, 'the refresh token did not rotate')
  // With rotation switched off (as FAPI 2.0 advises), the refresh token is kept across uses.
  await govern(codeApp.client_id, { rotate_refresh_tokens: false })
  for (let use = 0; use < 2; use += 1) {
    const kept = await oauth.processRefreshTokenResponse(
      as, codeClient,
      await oauth.refreshTokenGrantRequest(as, codeClient, auth, refreshed.refresh_token, { DPoP: codeDPoP, ...insecure }),
    )
    check(kept.token_type === 'dpop' && kept.refresh_token === undefined, 'a kept refresh token was replaced')
  }
  check(published.requests === 1, `the published keys were fetched ${published.requests} times`)
  // The pushed request was used up.
  const again = await new Browser().request(start)
  check(again.status === 400, `a used request_uri answered ${again.status}`)
  console.log(`oauth4webapi: a pushed code flow for ${user}, FAPI 2.0 with private_key_jwt from a jwks_uri and DPoP, refreshed with and without rotation`)
}

if (user) {
  await codeFlow()
}
