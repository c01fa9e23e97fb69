#!/usr/bin/env node
/**
 * The certified `oidc-provider` as a loopback OpenID Provider for sign-in tests.
 *
 *   OIDC_CLIENT='{"client_id": "...", "client_secret": "...",
 *     "redirect_uris": ["http://127.0.0.1:8123/api/v1/auth/oauth/oidc/callback"]}' \
 *   node oidc_provider.mjs [port]
 *
 * Environment:
 *   OIDC_CLIENT (required)  one confidential client: client_id, client_secret, redirect_uris,
 *                           and optionally token_endpoint_auth_method (client_secret_basic,
 *                           the default, or client_secret_post) and grant_types.
 *   OIDC_ACCOUNTS           {"<login>": {"email": ..., "email_verified": ..., "name": ...}};
 *                           a login not listed (or a field left out) gets
 *                           <login>@example.test, verified, named after the login.
 *   OIDC_PORT               the port when argv has none; 0 (the default) lets the OS pick.
 *   OIDC_ID_TOKEN_TTL_S     ID token lifetime in seconds (default 300).
 *   OIDC_CONFORM_ID_TOKEN_CLAIMS  "1": email and name only at the userinfo endpoint, as the
 *                           spec reads for the code flow; otherwise (the default) in the ID
 *                           token too, as most providers do.
 *
 * Sign-in goes through the built-in development interactions: a login form that accepts
 * any login and password, then a consent form. PKCE (S256) is required. Once listening it
 * prints one line to stdout, {"ready": true, "issuer": "http://127.0.0.1:PORT"}; it exits
 * when stdin closes, so a crashed test run leaves nothing behind. Diagnostics go to stderr.
 */

import * as crypto from 'node:crypto'
import * as http from 'node:http'

import Provider from 'oidc-provider'

const HOST = '127.0.0.1'

function fail (message) {
  process.stderr.write(`oidc_provider.mjs: ${message}\n`)
  process.exit(2)
}

function jsonEnv (name, fallback) {
  const text = process.env[name]
  if (text === undefined || text === '') {
    if (fallback === undefined) fail(`${name} is required`)
    return fallback
  }
  try {
    return JSON.parse(text)
  } catch (error) {
    return fail(`${name} is not JSON: ${error.message}`)
  }
}

function positiveInteger (name, text, fallback) {
  if (text === undefined || text === '') return fallback
  const value = Number(text)
  if (!Number.isInteger(value) || value < 0) fail(`${name} must be a whole number, got ${text}`)
  return value
}

const client = jsonEnv('OIDC_CLIENT')
for (const key of ['client_id', 'client_secret', 'redirect_uris']) {
  if (!client[key]) fail(`OIDC_CLIENT lacks ${key}`)
}
const accounts = jsonEnv('OIDC_ACCOUNTS', {})
const port = positiveInteger('port', process.argv[2] ?? process.env.OIDC_PORT, 0)
const idTokenTtlS = positiveInteger('OIDC_ID_TOKEN_TTL_S', process.env.OIDC_ID_TOKEN_TTL_S, 300)
const conformIdTokenClaims = process.env.OIDC_CONFORM_ID_TOKEN_CLAIMS === '1'

function account (login) {
  const known = accounts[login] ?? {}
  return {
    sub: login,
    email: known.email ?? `${login}@example.test`,
    email_verified: known.email_verified ?? true,
    name: known.name ?? login
  }
}

function configuration () {
  // A fresh signing key per run: nothing a test trusts outlives the process.
  const { privateKey } = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 })
  const signingKey = { ...privateKey.export({ format: 'jwk' }), kid: crypto.randomUUID(), use: 'sig', alg: 'RS256' }
  return {
    clients: [{
      grant_types: ['authorization_code', 'refresh_token'],
      token_endpoint_auth_method: 'client_secret_basic',
      ...client,
      response_types: ['code']
    }],
    jwks: { keys: [signingKey] },
    cookies: { keys: [crypto.randomBytes(32).toString('base64url')] },
    scopes: ['openid', 'offline_access', 'email', 'profile'],
    claims: {
      openid: ['sub'],
      email: ['email', 'email_verified'],
      profile: ['name']
    },
    conformIdTokenClaims,
    pkce: { required: () => true },
    responseTypes: ['code'],
    async findAccount (_ctx, sub) {
      return {
        accountId: sub,
        async claims () { return account(sub) }
      }
    },
    // Short lives: a test run is short, and an expired artifact fails loudly.
    ttl: {
      AccessToken: 300,
      AuthorizationCode: 60,
      Grant: 600,
      IdToken: idTokenTtlS,
      Interaction: 600,
      RefreshToken: 600,
      Session: 600
    },
    async renderError (ctx, out) {
      // Plain text: a failed sign-in shows up readable in the Python traceback.
      ctx.type = 'text/plain'
      ctx.body = `oidc-provider error: ${out.error}: ${out.error_description ?? ''}\n`
    }
  }
}

// The issuer names the port, and with port 0 the port is known only once listening:
// listen first, then build the provider and hand it the requests.
let handle = (_req, res) => { res.statusCode = 503; res.end('starting\n') }
const server = http.createServer((req, res) => handle(req, res))
server.on('error', (error) => fail(`cannot listen on ${HOST}:${port}: ${error.message}`))
server.listen(port, HOST, () => {
  const issuer = `http://${HOST}:${server.address().port}`
  let provider
  try {
    provider = new Provider(issuer, configuration())
  } catch (error) {
    fail(`bad configuration: ${error.stack ?? error}`)
  }
  provider.on('server_error', (_ctx, error) => {
    process.stderr.write(`oidc-provider server_error: ${error.stack ?? error}\n`)
  })
  handle = provider.callback()
  process.stdout.write(JSON.stringify({ ready: true, issuer }) + '\n')
})

// The parent holds our stdin: when it closes (the test ended, or crashed), so do we.
process.stdin.on('end', () => process.exit(0))
process.stdin.on('error', () => process.exit(0))
process.stdin.resume()
process.on('SIGTERM', () => process.exit(0))
