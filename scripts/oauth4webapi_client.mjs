// Drives the reference server with panva's oauth4webapi, a strict off-the-shelf OAuth client:
// it registers an app that authenticates with private_key_jwt (its own Ed25519 key, no secret),
// gets a DPoP-bound token with client_credentials (retrying once with the server's nonce when
// the server asks for one), and reads a protected route with it through the library's
// protected-resource request, which sends a fresh proof with the token's hash.
//
// usage: node oauth4webapi_client.mjs MODULE BASE_URL ADMIN_TOKEN
//   MODULE is the path of oauth4webapi's build/index.js.
import { pathToFileURL } from 'node:url'

const [modulePath, base, adminToken] = process.argv.slice(2)
if (!adminToken) {
  console.error('usage: node oauth4webapi_client.mjs MODULE BASE_URL ADMIN_TOKEN')
  process.exit(2)
}
const oauth = await import(pathToFileURL(modulePath).href)
const insecure = { [oauth.allowInsecureRequests]: true }

function check(condition, message) {
  if (!condition) {
    throw new Error(message)
  }
}

// The app's own key: the server gets the public half only.
const clientKeys = await oauth.generateKeyPair('Ed25519', { extractable: true })
const jwk = await crypto.subtle.exportKey('jwk', clientKeys.publicKey)
const registered = await fetch(`${base}/v1/platform/apps`, {
  method: 'POST',
  headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' },
  body: JSON.stringify({
    name: 'oauth4webapi',
    grant_types: ['client_credentials'],
    redirect_uris: [],
    requested_scopes: ['webhooks:read'],
    token_endpoint_auth_method: 'private_key_jwt',
    jwks: { keys: [{ kty: jwk.kty, crv: jwk.crv, x: jwk.x, kid: 'o4w' }] },
  }),
})
check(registered.status === 201, `registration answered ${registered.status}`)
const app = await registered.json()
check(app.client_secret === undefined, 'a private_key_jwt app got a secret')

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

console.log(`oauth4webapi: private_key_jwt and a DPoP-bound token work${nonceAsked ? ', with a server nonce' : ''}`)
