// @ts-nocheck
// One error base for the guard: whatever the verifier throws at a caller is a ResourceTokensError, and
// failures of the issuer's discovery and introspection answers (read through oauth4webapi) keep their
// codes and never carry the token or the client secret. A real local issuer over HTTP, no mocks.
import assert from 'node:assert/strict'
import { createServer, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { inspect } from 'node:util'
import { after, before, describe, test } from 'node:test'

import { GuardError, ResourceTokensError, createAccessTokenVerifier, type AccessTokenRequest } from 'resource-tokens'

const AUDIENCE = 'https://api.example.com'
const CLIENT_SECRET = 'guard-errors-client-secret-0123456789'
const TOKEN = 'opaque-token-that-must-never-leak'

/** What the issuer answers, per path; changed by each test. */
const answers = new Map<string, { status: number; headers?: Record<string, string>; body: string }>()
let issuer = ''
let close: () => Promise<void>

function send(res: ServerResponse, answer: { status: number; headers?: Record<string, string>; body: string } | undefined): void {
  if (answer === undefined) {
    res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":"not_found"}')
    return
  }
  res.writeHead(answer.status, { 'content-type': 'application/json', ...answer.headers }).end(answer.body)
}

function discoveryDocument(extra: Record<string, unknown> = {}): string {
  return JSON.stringify({ issuer, jwks_uri: `${issuer}/jwks`, introspection_endpoint: `${issuer}/introspect`, ...extra })
}

before(async () => {
  const server = createServer((req, res) => {
    req.resume()
    req.on('end', () => send(res, answers.get(new URL(req.url ?? '/', 'http://x').pathname)))
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  close = () => new Promise((resolve) => {
    server.closeAllConnections()
    server.close(() => resolve())
  })
})

after(() => close())

function bearer(token: string): AccessTokenRequest {
  return { method: 'GET', url: `${AUDIENCE}/orders`, headers: { authorization: `Bearer ${token}` } }
}

function verifier() {
  return createAccessTokenVerifier({ issuer, audience: AUDIENCE, introspection: { clientId: 'rs', clientSecret: CLIENT_SECRET } })
}

/** Rejects with a ResourceTokensError of `code` that says nothing of the token or the client secret. */
async function rejectsWith(promise: Promise<unknown>, code: string, status?: number): Promise<void> {
  await assert.rejects(promise, (err: unknown) => {
    assert.ok(err instanceof ResourceTokensError, `expected a ResourceTokensError, got ${String(err)}`)
    assert.equal(err.code, code, err.message)
    if (status !== undefined) assert.equal(err.status, status)
    const shown = inspect(err, { depth: 8 })
    assert.ok(!shown.includes(TOKEN), 'the token is not in the error or its causes')
    assert.ok(!shown.includes(CLIENT_SECRET), 'the client secret is not in the error or its causes')
    return true
  })
}

describe('one error base', () => {
  test('a GuardError is a ResourceTokensError whose code is its RFC 6750 error', async () => {
    answers.set('/.well-known/openid-configuration', { status: 200, body: discoveryDocument() })
    answers.set('/introspect', { status: 200, body: JSON.stringify({ active: false }) })
    const err = await verifier()(bearer(TOKEN)).then(() => undefined, (e: unknown) => e)
    assert.ok(err instanceof GuardError && err instanceof ResourceTokensError)
    assert.deepEqual([err.code, err.error, err.status], ['invalid_token', 'invalid_token', 401])
  })

  test('a malformed request object is invalid_argument, not a TypeError', async () => {
    const verify = verifier()
    const bad: unknown[] = [null, { method: '', url: AUDIENCE, headers: {} }, { method: 'GET', url: 1, headers: {} }, { method: 'GET', url: AUDIENCE }]
    for (const request of bad) await rejectsWith(verify(request as AccessTokenRequest), 'invalid_argument')
  })
})

describe('introspection answers read by oauth4webapi', () => {
  before(() => answers.set('/.well-known/openid-configuration', { status: 200, body: discoveryDocument() }))

  test('a 200 that is not JSON, or has no boolean "active", is introspection_failed', async () => {
    for (const body of ['<html>not json</html>', JSON.stringify({ active: 'true' }), JSON.stringify([true])]) {
      answers.set('/introspect', { status: 200, body })
      await rejectsWith(verifier()(bearer(TOKEN)), 'introspection_failed')
    }
  })

  test('a 401 challenge or a 5xx without a body is introspection_failed with the status', async () => {
    answers.set('/introspect', { status: 401, headers: { 'www-authenticate': 'Basic realm="as", error="invalid_client"' }, body: '' })
    await rejectsWith(verifier()(bearer(TOKEN)), 'introspection_failed', 401)
    answers.set('/introspect', { status: 502, headers: { 'content-type': 'text/plain' }, body: 'bad gateway' })
    await rejectsWith(verifier()(bearer(TOKEN)), 'introspection_failed', 502)
  })
})

describe('discovery answers read by oauth4webapi', () => {
  test('a document that is not JSON, or names an http endpoint off loopback, is discovery_failed', async () => {
    // A JWT whose header names an allowed alg: the key is looked up, so discovery runs.
    const part = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url')
    const token = `${part({ alg: 'RS256', kid: 'k', typ: 'at+jwt' })}.${part({ aud: AUDIENCE })}.c2ln`
    answers.set('/.well-known/oauth-authorization-server', { status: 404, body: '{}' })
    answers.set('/.well-known/openid-configuration', { status: 200, body: 'not json' })
    await rejectsWith(createAccessTokenVerifier({ issuer, audience: AUDIENCE })(bearer(token)), 'discovery_failed')
    answers.set('/.well-known/openid-configuration', { status: 200, body: discoveryDocument({ introspection_endpoint: 'http://as.example.com/introspect' }) })
    await rejectsWith(verifier()(bearer(TOKEN)), 'discovery_failed')
  })

  test('the RFC 8414 document is used when the OpenID one fails, and its status is kept when both fail', async () => {
    answers.set('/.well-known/openid-configuration', { status: 500, body: '{}' })
    answers.set('/.well-known/oauth-authorization-server', { status: 200, body: discoveryDocument() })
    answers.set('/introspect', { status: 200, body: JSON.stringify({ active: true, aud: AUDIENCE }) })
    const verified = await verifier()(bearer(TOKEN))
    assert.equal(verified.token, 'opaque')
    answers.set('/.well-known/oauth-authorization-server', { status: 503, body: '{}' })
    await rejectsWith(verifier()(bearer(TOKEN)), 'discovery_failed', 503)
  })
})
