// @ts-nocheck
// The resource-server guard against a real local issuer (discovery, JWKS, introspection over HTTP).
import assert from 'node:assert/strict'
import { createHash, randomUUID } from 'node:crypto'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { after, before, describe, test } from 'node:test'

import express from 'express'
import fc from 'fast-check'
import { SignJWT, calculateJwkThumbprint, exportJWK, exportSPKI, generateKeyPair, type CryptoKey, type JWK } from 'jose'

import { ResourceTokensError } from '../../src/errors/resource-tokens-error.js'
import {
  GuardError,
  createAccessTokenVerifier,
  protectedResourceMetadata,
  protectedResourceMetadataUrl,
  verifyAccessToken,
  type AccessTokenRequest,
  type VerifiedAccessToken,
  type VerifyAccessTokenOptions,
} from '../../src/guard/index.js'
import { protectedResourceMetadataHandler, requireAccessToken } from '../../src/express.js'

// ---------------------------------------------------------------------------------------------------
// A tiny issuer: discovery, JWKS and introspection, counting requests.

interface SigningKey {
  kid: string
  alg: string
  privateKey: CryptoKey
  publicKey: CryptoKey
  publicJwk: JWK
}

interface Issuer {
  url: string
  jwksKeys: SigningKey[]
  requests: { discovery: number; jwks: number; introspection: number }
  /** token -> introspection response */
  introspection: Map<string, Record<string, unknown>>
  introspectionStatus: number
  /** served paths that answer 404 */
  missing: Set<string>
  issuerOverride: string | undefined
  close(): Promise<void>
}

const CLIENT_ID = 'resource-server'
const CLIENT_SECRET = 'introspection secret: with spaces & symbols'

async function signingKey(alg: 'RS256' | 'ES256' | 'PS256', kid: string): Promise<SigningKey> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true })
  const publicJwk = { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' }
  return { kid, alg, privateKey, publicKey, publicJwk }
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let body = ''
    req.setEncoding('utf8')
    req.on('data', (chunk: string) => (body += chunk))
    req.on('end', () => resolve(body))
    req.on('error', reject)
  })
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' })
  res.end(JSON.stringify(body))
}

async function startIssuer(keys: SigningKey[], path = ''): Promise<Issuer> {
  const issuer: Issuer = {
    url: '',
    jwksKeys: keys,
    requests: { discovery: 0, jwks: 0, introspection: 0 },
    introspection: new Map(),
    introspectionStatus: 200,
    missing: new Set(),
    issuerOverride: undefined,
    close: async () => {},
  }
  // A failure inside surfaces as an unhandled rejection, which fails the run; the listener itself returns nothing.
  const answer = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? '/', issuer.url)
    if (issuer.missing.has(url.pathname)) return sendJson(res, 404, { error: 'not_found' })
    if (url.pathname === `${path}/.well-known/openid-configuration` || url.pathname === `/.well-known/oauth-authorization-server${path}`) {
      issuer.requests.discovery++
      return sendJson(res, 200, {
        issuer: issuer.issuerOverride ?? issuer.url,
        jwks_uri: `${new URL(issuer.url).origin}/jwks`,
        introspection_endpoint: `${new URL(issuer.url).origin}/introspect`,
      })
    }
    if (url.pathname === '/jwks') {
      issuer.requests.jwks++
      return sendJson(res, 200, { keys: issuer.jwksKeys.map((k) => k.publicJwk) })
    }
    if (url.pathname === '/introspect' && req.method === 'POST') {
      issuer.requests.introspection++
      const expected = `Basic ${Buffer.from(`${encodeURIComponent(CLIENT_ID)}:${new URLSearchParams({ s: CLIENT_SECRET }).toString().slice(2)}`).toString('base64')}`
      if (req.headers.authorization !== expected) return sendJson(res, 401, { error: 'invalid_client' })
      const params = new URLSearchParams(await readBody(req))
      if (issuer.introspectionStatus !== 200) return sendJson(res, issuer.introspectionStatus, { error: 'server_error' })
      return sendJson(res, 200, issuer.introspection.get(params.get('token') ?? '') ?? { active: false })
    }
    sendJson(res, 404, { error: 'not_found' })
  }
  const server: Server = createServer((req, res) => void answer(req, res))
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  server.unref()
  issuer.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}${path}`
  issuer.close = () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections()
      server.close(() => resolve())
    })
  return issuer
}

// ---------------------------------------------------------------------------------------------------
// Tokens and proofs.

const AUDIENCE = 'https://api.example.com'
const API_URL = 'https://api.example.com/orders'
let rsa: SigningKey
let ec: SigningKey
let stranger: SigningKey // never published
let dpopKey: SigningKey
let otherDpopKey: SigningKey
let dpopKeyAsRsa: SigningKey // an RSA key published nowhere
let jkt: string
let issuer: Issuer

const nowSeconds = (): number => Math.floor(Date.now() / 1000)

interface TokenOptions {
  key?: SigningKey
  alg?: string
  kid?: string
  typ?: string
  claims?: Record<string, unknown>
}

function accessToken({ key = rsa, alg, kid, typ = 'at+jwt', claims = {} }: TokenOptions = {}): Promise<string> {
  const now = nowSeconds()
  return new SignJWT({
    iss: issuer.url,
    aud: AUDIENCE,
    sub: 'user-1',
    client_id: 'client-1',
    scope: 'orders:read profile',
    iat: now,
    exp: now + 300,
    jti: randomUUID(),
    ...claims,
  })
    .setProtectedHeader({ alg: alg ?? key.alg, kid: kid ?? key.kid, typ })
    .sign(key.privateKey)
}

function ath(token: string): string {
  return createHash('sha256').update(token).digest('base64url')
}

interface ProofOptions {
  key?: SigningKey
  htm?: string
  htu?: string
  token?: string
  ath?: string
  iat?: number
  jti?: string
  nonce?: string
  typ?: string
  jwk?: JWK
}

function proof(options: ProofOptions = {}): Promise<string> {
  const key = options.key ?? dpopKey
  const claims: Record<string, unknown> = {
    htm: options.htm ?? 'GET',
    htu: options.htu ?? API_URL,
    jti: options.jti ?? randomUUID(),
    iat: options.iat ?? nowSeconds(),
  }
  if (options.ath !== undefined) claims['ath'] = options.ath
  else if (options.token !== undefined) claims['ath'] = ath(options.token)
  if (options.nonce !== undefined) claims['nonce'] = options.nonce
  const { kid: _kid, alg: _alg, use: _use, ...jwk } = key.publicJwk
  return new SignJWT(claims)
    .setProtectedHeader({ alg: key.alg, typ: options.typ ?? 'dpop+jwt', jwk: options.jwk ?? jwk })
    .sign(key.privateKey)
}

function bearer(token: string, extra: Record<string, string> = {}): AccessTokenRequest {
  return { method: 'GET', url: API_URL, headers: { authorization: `Bearer ${token}`, ...extra } }
}

function dpopRequest(token: string, dpop: string | string[] | undefined, overrides: Partial<AccessTokenRequest> = {}): AccessTokenRequest {
  return { method: 'GET', url: API_URL, headers: { authorization: `DPoP ${token}`, dpop }, ...overrides }
}

function options(extra: Partial<VerifyAccessTokenOptions> = {}): VerifyAccessTokenOptions {
  return { issuer: issuer.url, audience: AUDIENCE, scopes: ['orders:read'], ...extra }
}

async function rejects(promise: Promise<unknown>, code: GuardError['code'], description?: RegExp): Promise<GuardError> {
  try {
    await promise
  } catch (err) {
    assert.ok(err instanceof GuardError, `expected a GuardError, got ${String(err)}`)
    assert.equal(err.code, code, err.description)
    if (description !== undefined) assert.match(err.description, description)
    return err
  }
  assert.fail(`expected ${code}, but it was accepted`)
}

before(async () => {
  ;[rsa, ec, stranger, dpopKey, otherDpopKey, dpopKeyAsRsa] = await Promise.all([
    signingKey('RS256', 'rsa-1'),
    signingKey('ES256', 'ec-1'),
    signingKey('RS256', 'rsa-unknown'),
    signingKey('ES256', 'dpop'),
    signingKey('ES256', 'dpop-other'),
    signingKey('RS256', 'unpublished'),
  ])
  const { kid: _k, alg: _a, use: _u, ...jwk } = dpopKey.publicJwk
  jkt = await calculateJwkThumbprint(jwk)
  issuer = await startIssuer([rsa, ec])
})

after(async () => {
  await issuer.close()
})

// ---------------------------------------------------------------------------------------------------

describe('JWT access tokens (RFC 9068)', () => {
  test('a valid token is accepted and described', async () => {
    const verify = createAccessTokenVerifier(options())
    const token = await accessToken()
    const verified = await verify(bearer(token))
    assert.equal(verified.token, 'jwt')
    assert.equal(verified.subject, 'user-1')
    assert.equal(verified.clientId, 'client-1')
    assert.deepEqual(verified.scopes, ['orders:read', 'profile'])
    assert.equal(verified.bound, undefined)
    assert.equal(verified.claims['iss'], issuer.url)
  })

  test('ES256 and typ application/at+jwt are accepted; headers may be a Fetch Headers', async () => {
    const verify = createAccessTokenVerifier(options())
    const token = await accessToken({ key: ec, typ: 'application/at+jwt' })
    const verified = await verify({ method: 'GET', url: API_URL, headers: new Headers({ Authorization: `bearer ${token}` }) })
    assert.equal(verified.subject, 'user-1')
  })

  test('aud as an array containing the audience is accepted', async () => {
    const verify = createAccessTokenVerifier(options())
    await verify(bearer(await accessToken({ claims: { aud: ['https://other.example.com', AUDIENCE] } })))
  })

  test('wrong audience, issuer, typ are refused as invalid_token', async () => {
    const verify = createAccessTokenVerifier(options())
    await rejects(verify(bearer(await accessToken({ claims: { aud: 'https://other.example.com' } }))), 'invalid_token', /not intended for this resource/)
    await rejects(verify(bearer(await accessToken({ claims: { iss: 'https://evil.example.com' } }))), 'invalid_token', /issuer/)
    await rejects(verify(bearer(await accessToken({ typ: 'JWT' }))), 'invalid_token', /typ/)
    await rejects(verify(bearer(await accessToken({ typ: 'dpop+jwt' }))), 'invalid_token', /typ/)
  })

  test('expiry and not-before honour the leeway', async () => {
    const verify = createAccessTokenVerifier(options())
    const err = await rejects(verify(bearer(await accessToken({ claims: { exp: nowSeconds() - 30 } }))), 'invalid_token', /expired/)
    assert.equal(err.status, 401)
    await verify(bearer(await accessToken({ claims: { exp: nowSeconds() - 2 } }))) // within the 5 s default leeway
    await rejects(verify(bearer(await accessToken({ claims: { nbf: nowSeconds() + 60 } }))), 'invalid_token', /not yet valid/)
    await rejects(verify(bearer(await accessToken({ claims: { exp: undefined } }))), 'invalid_token', /"exp"/)
  })

  test('the injected clock is used', async () => {
    const verify = createAccessTokenVerifier(options({ now: () => Date.now() + 3600_000 }))
    await rejects(verify(bearer(await accessToken())), 'invalid_token', /expired/)
  })

  test('an algorithm outside the allow-list is refused', async () => {
    const verify = createAccessTokenVerifier(options({ algorithms: ['RS256'] }))
    await rejects(verify(bearer(await accessToken({ key: ec }))), 'invalid_token', /alg is not allowed/)
  })

  test('alg none is refused', async () => {
    const verify = createAccessTokenVerifier(options())
    const encode = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url')
    const now = nowSeconds()
    const unsigned = `${encode({ alg: 'none', typ: 'at+jwt' })}.${encode({ iss: issuer.url, aud: AUDIENCE, sub: 'x', exp: now + 60, scope: 'orders:read' })}.`
    await rejects(verify(bearer(unsigned)), 'invalid_token', /alg is not allowed/)
  })

  test('HS256 keyed with the public key (algorithm confusion) is refused', async () => {
    const verify = createAccessTokenVerifier(options({ algorithms: ['RS256', 'PS256', 'ES256', 'EdDSA'] }))
    const secret = new TextEncoder().encode(await exportSPKI(rsa.publicKey))
    const now = nowSeconds()
    const forged = await new SignJWT({ iss: issuer.url, aud: AUDIENCE, sub: 'admin', exp: now + 60, scope: 'orders:read' })
      .setProtectedHeader({ alg: 'HS256', kid: rsa.kid, typ: 'at+jwt' })
      .sign(secret)
    await rejects(verify(bearer(forged)), 'invalid_token', /alg is not allowed/)
    assert.throws(() => createAccessTokenVerifier(options({ algorithms: ['HS256'] })), { code: 'invalid_config' })
    assert.throws(() => createAccessTokenVerifier(options({ algorithms: ['none'] })), { code: 'invalid_config' })
  })

  test('step-up per verifier (RFC 9470): acr and auth_time short of the requirement get insufficient_user_authentication with acr_values and max_age', async () => {
    const verify = createAccessTokenVerifier(options({ acrValues: ['urn:mfa', 'urn:hwk'], maxAgeSeconds: 60 }))
    const now = nowSeconds()
    await verify(bearer(await accessToken({ claims: { acr: 'urn:hwk', auth_time: now - 10 } })))
    for (const claims of [{ auth_time: now - 10 }, { acr: 'urn:pwd', auth_time: now - 10 }, { acr: 'urn:mfa' }, { acr: 'urn:mfa', auth_time: now - 3600 }]) {
      const err = await rejects(verify(bearer(await accessToken({ claims }))), 'insufficient_user_authentication')
      const { status, headers } = err.challenge()
      assert.equal(status, 401)
      assert.match(headers['WWW-Authenticate'] ?? '', /^Bearer error="insufficient_user_authentication", error_description="[^"]+", acr_values="urn:mfa urn:hwk", max_age="60"/)
    }
    // Without requirements any acr and age is fine.
    await createAccessTokenVerifier(options())(bearer(await accessToken({ claims: { auth_time: 0 } })))
    for (const bad of [{ acrValues: [] }, { acrValues: ['with space'] }, { maxAgeSeconds: -1 }, { maxAgeSeconds: 1.5 }]) {
      assert.throws(() => createAccessTokenVerifier(options(bad)), { code: 'invalid_config' })
    }
  })

  test('a bad signature is refused', async () => {
    const verify = createAccessTokenVerifier(options())
    const token = await accessToken()
    const [header, payload, signature] = token.split('.') as [string, string, string]
    const otherPayload = Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(payload, 'base64url').toString()), sub: 'admin' })).toString('base64url')
    await rejects(verify(bearer(`${header}.${otherPayload}.${signature}`)), 'invalid_token', /signature is invalid/)
    // a token signed by a key the issuer never published, under a published kid
    await rejects(verify(bearer(await accessToken({ key: stranger, kid: rsa.kid }))), 'invalid_token', /signature is invalid/)
  })

  test('an unknown kid makes the JWKS be refetched once, then refused', async () => {
    const local = await startIssuer([rsa])
    try {
      const verify = createAccessTokenVerifier({ issuer: local.url, audience: AUDIENCE, jwksCooldownSeconds: 0 })
      const sign = (key: SigningKey) =>
        new SignJWT({ iss: local.url, aud: AUDIENCE, sub: 's', exp: nowSeconds() + 60 }).setProtectedHeader({ alg: key.alg, kid: key.kid, typ: 'at+jwt' }).sign(key.privateKey)
      await verify(bearer(await sign(rsa)))
      assert.equal(local.requests.jwks, 1)
      await rejects(verify(bearer(await sign(stranger))), 'invalid_token', /no key of the issuer/)
      assert.equal(local.requests.jwks, 2, 'refetched exactly once for the unknown kid')
      // key rotation: the issuer publishes a new key, which is picked up on first use
      local.jwksKeys = [rsa, stranger]
      await verify(bearer(await sign(stranger)))
      assert.equal(local.requests.jwks, 3)
      assert.equal(local.requests.discovery, 1, 'discovery is cached')
    } finally {
      await local.close()
    }
  })

  test('a token without kid is tried against every matching key', async () => {
    const local = await startIssuer([stranger, rsa])
    try {
      const verify = createAccessTokenVerifier({ issuer: local.url, audience: AUDIENCE })
      const sign = (key: SigningKey) =>
        new SignJWT({ iss: local.url, aud: AUDIENCE, sub: 's', exp: nowSeconds() + 60 }).setProtectedHeader({ alg: 'RS256', typ: 'at+jwt' }).sign(key.privateKey)
      assert.equal((await verify(bearer(await sign(rsa)))).subject, 's')
      await rejects(verify(bearer(await sign(dpopKeyAsRsa))), 'invalid_token', /signature is invalid/)
    } finally {
      await local.close()
    }
  })

  test('within the refetch cooldown, unknown kids do not hammer the issuer', async () => {
    const local = await startIssuer([rsa])
    try {
      const verify = createAccessTokenVerifier({ issuer: local.url, audience: AUDIENCE })
      const forged = await new SignJWT({ iss: local.url, aud: AUDIENCE, exp: nowSeconds() + 60 })
        .setProtectedHeader({ alg: 'RS256', kid: 'nope', typ: 'at+jwt' })
        .sign(stranger.privateKey)
      for (let i = 0; i < 5; i++) await rejects(verify(bearer(forged)), 'invalid_token')
      assert.equal(local.requests.jwks, 1)
    } finally {
      await local.close()
    }
  })

  test('a missing scope is 403 insufficient_scope with the scope in the challenge', async () => {
    const verify = createAccessTokenVerifier(options({ scopes: ['orders:read', 'orders:write'] }))
    const err = await rejects(verify(bearer(await accessToken())), 'insufficient_scope', /orders:write/)
    assert.equal(err.status, 403)
    assert.equal(err.scope, 'orders:read orders:write')
    const { status, headers } = err.challenge()
    assert.equal(status, 403)
    assert.equal(
      headers['WWW-Authenticate'],
      'Bearer error="insufficient_scope", error_description="access token lacks scope orders:write", scope="orders:read orders:write"',
    )
  })

  test('error messages never contain the token', async () => {
    const verify = createAccessTokenVerifier(options())
    const token = await accessToken({ claims: { aud: 'https://other.example.com' } })
    const err = await rejects(verify(bearer(token)), 'invalid_token')
    assert.ok(!err.message.includes(token) && !JSON.stringify(err.challenge()).includes(token.split('.')[1] ?? '-'))
  })
})

describe('Authorization header (RFC 6750 section 2.1)', () => {
  test('no token: 401 with a challenge without error', async () => {
    const verify = createAccessTokenVerifier(options({ resourceMetadataUrl: 'https://api.example.com/.well-known/oauth-protected-resource' }))
    const err = await rejects(verify({ method: 'GET', url: API_URL, headers: {} }), 'invalid_request')
    assert.equal(err.missingToken, true)
    assert.deepEqual(err.challenge(), {
      status: 401,
      headers: { 'WWW-Authenticate': 'Bearer resource_metadata="https://api.example.com/.well-known/oauth-protected-resource"' },
    })
    // an unsupported scheme counts as no token
    const basic = await rejects(verify({ method: 'GET', url: API_URL, headers: { Authorization: 'Basic dXNlcjpwYXNz' } }), 'invalid_request')
    assert.equal(basic.missingToken, true)
  })

  test('malformed or repeated headers are 400 invalid_request', async () => {
    const verify = createAccessTokenVerifier(options())
    for (const value of ['Bearer', 'Bearer ', 'Bearer a b', 'Bearer a,b', 'Bearer =abc', 'Bearer "abc"']) {
      const err = await rejects(verify({ method: 'GET', url: API_URL, headers: { authorization: value } }), 'invalid_request')
      assert.equal(err.status, 400)
      assert.equal(err.missingToken, false)
    }
    const token = await accessToken()
    const err = await rejects(verify({ method: 'GET', url: API_URL, headers: { authorization: [`Bearer ${token}`, `Bearer ${token}`] } }), 'invalid_request')
    assert.match(err.challenge().headers['WWW-Authenticate'] ?? '', /^Bearer error="invalid_request"/)
  })
})

describe('discovery', () => {
  test('falls back to RFC 8414 oauth-authorization-server for an issuer with a path', async () => {
    const local = await startIssuer([rsa], '/tenant-a')
    try {
      local.missing.add('/tenant-a/.well-known/openid-configuration')
      const verify = createAccessTokenVerifier({ issuer: local.url, audience: AUDIENCE })
      const token = await new SignJWT({ iss: local.url, aud: AUDIENCE, exp: nowSeconds() + 60 })
        .setProtectedHeader({ alg: 'RS256', kid: rsa.kid, typ: 'at+jwt' })
        .sign(rsa.privateKey)
      await verify(bearer(token))
      assert.equal(local.requests.discovery, 1)
    } finally {
      await local.close()
    }
  })

  test('an issuer mismatch in the discovery document fails with discovery_failed, then recovers', async () => {
    const local = await startIssuer([rsa])
    try {
      local.issuerOverride = 'https://evil.example.com'
      const verify = createAccessTokenVerifier({ issuer: local.url, audience: AUDIENCE })
      const token = await new SignJWT({ iss: local.url, aud: AUDIENCE, exp: nowSeconds() + 60 })
        .setProtectedHeader({ alg: 'RS256', kid: rsa.kid, typ: 'at+jwt' })
        .sign(rsa.privateKey)
      await assert.rejects(verify(bearer(token)), (err: unknown) => err instanceof ResourceTokensError && err.code === 'discovery_failed')
      local.issuerOverride = undefined
      await verify(bearer(token)) // failures are not cached
    } finally {
      await local.close()
    }
  })

  test('an unreachable issuer fails with discovery_failed, not a GuardError', async () => {
    const local = await startIssuer([rsa])
    await local.close()
    const verify = createAccessTokenVerifier({ issuer: local.url, audience: AUDIENCE })
    const token = await new SignJWT({ iss: local.url, aud: AUDIENCE, exp: nowSeconds() + 60 })
      .setProtectedHeader({ alg: 'RS256', kid: rsa.kid, typ: 'at+jwt' })
      .sign(rsa.privateKey)
    await assert.rejects(verify(bearer(token)), { code: 'discovery_failed' })
  })

  test('jwksUri skips discovery', async () => {
    const local = await startIssuer([rsa])
    try {
      const verify = createAccessTokenVerifier({ issuer: local.url, audience: AUDIENCE, jwksUri: `${local.url}/jwks` })
      const token = await new SignJWT({ iss: local.url, aud: AUDIENCE, exp: nowSeconds() + 60 })
        .setProtectedHeader({ alg: 'RS256', kid: rsa.kid, typ: 'at+jwt' })
        .sign(rsa.privateKey)
      await verify(bearer(token))
      assert.equal(local.requests.discovery, 0)
    } finally {
      await local.close()
    }
  })
})

describe('options', () => {
  test('are validated eagerly with invalid_config', () => {
    const bad: Array<Partial<VerifyAccessTokenOptions>> = [
      { issuer: 'http://as.example.com' },
      { issuer: 'not a url' },
      { audience: '' },
      { scopes: ['has space'] },
      { algorithms: [] },
      { leewaySeconds: -1 },
      { introspection: { clientId: '', clientSecret: 'x' } },
      { dpop: { nonce: { secret: 'too short' } } },
      { dpop: { iatWindowSeconds: 0 } },
      { resourceMetadataUrl: 'http://api.example.com/meta' },
    ]
    for (const extra of bad) {
      assert.throws(() => createAccessTokenVerifier({ issuer: 'https://as.example.com', audience: AUDIENCE, ...extra }), (err: unknown) => {
        return err instanceof ResourceTokensError && err.code === 'invalid_config'
      }, JSON.stringify(extra))
    }
  })

  test('verifyAccessToken caches one verifier per options object', async () => {
    const local = await startIssuer([rsa])
    try {
      const opts = { issuer: local.url, audience: AUDIENCE }
      const token = await new SignJWT({ iss: local.url, aud: AUDIENCE, exp: nowSeconds() + 60 })
        .setProtectedHeader({ alg: 'RS256', kid: rsa.kid, typ: 'at+jwt' })
        .sign(rsa.privateKey)
      await verifyAccessToken(bearer(token), opts)
      await verifyAccessToken(bearer(token), opts)
      assert.deepEqual([local.requests.discovery, local.requests.jwks], [1, 1])
    } finally {
      await local.close()
    }
  })
})

describe('opaque tokens (RFC 7662 introspection)', () => {
  const introspection = { clientId: CLIENT_ID, clientSecret: CLIENT_SECRET }

  test('an active token is accepted and the answer cached', async () => {
    const token = `opaque-${randomUUID()}`
    issuer.introspection.set(token, { active: true, iss: issuer.url, aud: [AUDIENCE], sub: 'user-2', client_id: 'c2', scope: 'orders:read', exp: nowSeconds() + 600, token_type: 'Bearer' })
    let now = Date.now()
    const verify = createAccessTokenVerifier(options({ introspection, now: () => now }))
    const before = issuer.requests.introspection
    const verified = await verify(bearer(token))
    assert.equal(verified.token, 'opaque')
    assert.equal(verified.subject, 'user-2')
    assert.equal(verified.clientId, 'c2')
    assert.deepEqual(verified.scopes, ['orders:read'])
    await verify(bearer(token))
    now += 20_000
    await verify(bearer(token))
    assert.equal(issuer.requests.introspection - before, 1, 'cache hits do not call the endpoint')
    now += 11_000 // past the 30 s default
    await verify(bearer(token))
    assert.equal(issuer.requests.introspection - before, 2)
  })

  test('concurrent requests for one token share one introspection', async () => {
    const token = `opaque-${randomUUID()}`
    issuer.introspection.set(token, { active: true, scope: 'orders:read', aud: AUDIENCE })
    const verify = createAccessTokenVerifier(options({ introspection }))
    const before = issuer.requests.introspection
    await Promise.all(Array.from({ length: 5 }, () => verify(bearer(token))))
    assert.equal(issuer.requests.introspection - before, 1)
  })

  test('inactive, foreign or expired answers are refused', async () => {
    const verify = createAccessTokenVerifier(options({ introspection: { ...introspection, cacheSeconds: 0 } }))
    await rejects(verify(bearer(`unknown-${randomUUID()}`)), 'invalid_token', /not active/)
    const cases: Array<[Record<string, unknown>, RegExp]> = [
      [{ active: true, scope: 'orders:read', aud: 'https://other.example.com' }, /not intended for this resource/],
      [{ active: true, scope: 'orders:read', aud: AUDIENCE, iss: 'https://evil.example.com' }, /issuer/],
      [{ active: true, scope: 'orders:read', client_id: 'someone-else' }, /names no audience/],
      [{ active: true, scope: 'orders:read', aud: AUDIENCE, exp: nowSeconds() - 60 }, /expired/],
      [{ active: true, scope: 'orders:read', aud: AUDIENCE, token_type: 'refresh_token' }, /not an access token/],
      [{ active: true, scope: 'orders:read', aud: AUDIENCE, cnf: { 'x5t#S256': 'abc' } }, /unsupported confirmation method/],
    ]
    for (const [response, description] of cases) {
      const token = `opaque-${randomUUID()}`
      issuer.introspection.set(token, response)
      await rejects(verify(bearer(token)), 'invalid_token', description)
    }
    const noScope = `opaque-${randomUUID()}`
    issuer.introspection.set(noScope, { active: true, scope: 'profile', aud: AUDIENCE })
    await rejects(verify(bearer(noScope)), 'insufficient_scope')
  })

  test('without introspection configured, opaque tokens are refused', async () => {
    const verify = createAccessTokenVerifier(options())
    await rejects(verify(bearer('some-opaque-token')), 'invalid_token', /opaque access tokens are not accepted/)
  })

  test('endpoint failures are ResourceTokensErrors, not GuardErrors', async () => {
    const local = await startIssuer([rsa])
    try {
      const verify = createAccessTokenVerifier({ issuer: local.url, audience: AUDIENCE, introspection })
      local.introspectionStatus = 503
      await assert.rejects(verify(bearer('tok')), { code: 'introspection_failed', status: 503 })
      const wrongSecret = createAccessTokenVerifier({ issuer: local.url, audience: AUDIENCE, introspection: { clientId: CLIENT_ID, clientSecret: 'wrong' } })
      await assert.rejects(wrongSecret(bearer('tok')), { code: 'introspection_failed', error: 'invalid_client', status: 401 })
      local.introspectionStatus = 200
      await rejects(verify(bearer('tok')), 'invalid_token', /not active/)
    } finally {
      await local.close()
    }
  })
})

describe('DPoP (RFC 9449)', () => {
  const dpop = {}

  async function boundToken(claims: Record<string, unknown> = {}): Promise<string> {
    return accessToken({ claims: { cnf: { jkt }, ...claims } })
  }

  test('a bound token with a valid proof is accepted', async () => {
    const verify = createAccessTokenVerifier(options({ dpop }))
    const token = await boundToken()
    const verified = await verify(dpopRequest(token, await proof({ token })))
    assert.deepEqual(verified.bound, { jkt })
    // htu comparison ignores query and fragment and normalizes case, default port and percent-encoding
    const url = 'https://api.example.com/orders/%7euser?page=2'
    await verify(dpopRequest(token, await proof({ token, htu: 'HTTPS://API.EXAMPLE.COM:443/orders/~user' }), { url }))
  })

  test('a bound token presented as Bearer is refused', async () => {
    const verify = createAccessTokenVerifier(options({ dpop }))
    const token = await boundToken()
    const err = await rejects(verify(bearer(token, { dpop: await proof({ token }) })), 'invalid_token', /presented as bearer/)
    assert.match(err.challenge().headers['WWW-Authenticate'] ?? '', /^Bearer error="invalid_token", .*, DPoP algs="ES256 EdDSA Ed25519 PS256 RS256"$/)
  })

  test('without dpop configured, bound tokens are refused', async () => {
    const verify = createAccessTokenVerifier(options())
    const token = await boundToken()
    await rejects(verify(bearer(token)), 'invalid_token', /dpop-bound access tokens are not accepted/)
  })

  test('an unbound token with the DPoP scheme is refused; dpop.required refuses Bearer', async () => {
    const token = await accessToken()
    await rejects(createAccessTokenVerifier(options({ dpop }))(dpopRequest(token, await proof({ token }))), 'invalid_token', /not dpop-bound/)
    const required = createAccessTokenVerifier(options({ dpop: { required: true } }))
    const err = await rejects(required(bearer(token)), 'invalid_token', /requires dpop-bound/)
    // Bearer is not offered at all when DPoP is required
    assert.match(err.challenge().headers['WWW-Authenticate'] ?? '', /^DPoP algs="[^"]+", error="invalid_token"/)
  })

  test('a proof from another key is refused', async () => {
    const verify = createAccessTokenVerifier(options({ dpop }))
    const token = await boundToken()
    const err = await rejects(verify(dpopRequest(token, await proof({ token, key: otherDpopKey }))), 'invalid_dpop_proof', /key does not match/)
    assert.equal(err.status, 401)
    assert.match(err.challenge().headers['WWW-Authenticate'] ?? '', /^Bearer, DPoP algs="[^"]+", error="invalid_dpop_proof", error_description="dpop proof key does not match the access token binding"$/)
  })

  test('a replayed proof is refused', async () => {
    const verify = createAccessTokenVerifier(options({ dpop }))
    const token = await boundToken()
    const p = await proof({ token })
    await verify(dpopRequest(token, p))
    await rejects(verify(dpopRequest(token, p)), 'invalid_dpop_proof', /already been used/)
  })

  test('wrong htm, htu, ath, typ and stale iat are refused', async () => {
    const verify = createAccessTokenVerifier(options({ dpop }))
    const token = await boundToken()
    await rejects(verify(dpopRequest(token, await proof({ token, htm: 'POST' }))), 'invalid_dpop_proof', /htm/)
    await rejects(verify(dpopRequest(token, await proof({ token, htu: 'https://api.example.com/other' }))), 'invalid_dpop_proof', /htu/)
    await rejects(verify(dpopRequest(token, await proof({ token, htu: 'https://evil.example.com/orders' }))), 'invalid_dpop_proof', /htu/)
    await rejects(verify(dpopRequest(token, await proof({ ath: ath('another token') }))), 'invalid_dpop_proof', /ath/)
    await rejects(verify(dpopRequest(token, await proof({}))), 'invalid_dpop_proof', /ath/)
    await rejects(verify(dpopRequest(token, await proof({ token, typ: 'JWT' }))), 'invalid_dpop_proof', /typ/)
    await rejects(verify(dpopRequest(token, await proof({ token, iat: nowSeconds() - 120 }))), 'invalid_dpop_proof', /iat/)
    await rejects(verify(dpopRequest(token, await proof({ token, iat: nowSeconds() + 120 }))), 'invalid_dpop_proof', /iat/)
  })

  test('missing, repeated, malformed or private-key proofs are refused', async () => {
    const verify = createAccessTokenVerifier(options({ dpop }))
    const token = await boundToken()
    await rejects(verify(dpopRequest(token, undefined)), 'invalid_dpop_proof', /required/)
    const one = await proof({ token })
    await rejects(verify(dpopRequest(token, [one, await proof({ token })])), 'invalid_dpop_proof', /more than one/)
    await rejects(verify({ method: 'GET', url: API_URL, headers: new Headers([['authorization', `DPoP ${token}`], ['dpop', one], ['dpop', one]]) }), 'invalid_dpop_proof', /more than one/)
    await rejects(verify(dpopRequest(token, 'not-a-jwt')), 'invalid_dpop_proof', /malformed/)
    const privateJwk = await exportJWK(dpopKey.privateKey)
    await rejects(verify(dpopRequest(token, await proof({ token, jwk: privateJwk }))), 'invalid_dpop_proof', /public key/)
  })

  test('nonce flow: use_dpop_nonce with a DPoP-Nonce header, then success with the nonce', async () => {
    let now = Date.now()
    const verify = createAccessTokenVerifier(options({ dpop: { nonce: { secret: 'x'.repeat(32), windowSeconds: 60 } }, now: () => now }))
    const token = await boundToken()
    const first = await rejects(verify(dpopRequest(token, await proof({ token }))), 'use_dpop_nonce')
    const { status, headers } = first.challenge()
    assert.equal(status, 401)
    const nonce = headers['DPoP-Nonce']
    assert.ok(nonce !== undefined && nonce.length > 0)
    assert.match(headers['WWW-Authenticate'] ?? '', /DPoP algs="[^"]+", error="use_dpop_nonce"/)
    const verified = await verify(dpopRequest(token, await proof({ token, nonce })))
    assert.deepEqual(verified.bound, { jkt })
    // a nonce stays good for the next window, then goes stale
    now += 60_000
    await verify(dpopRequest(token, await proof({ token, nonce, iat: Math.floor(now / 1000) })))
    now += 60_000
    const stale = await rejects(verify(dpopRequest(token, await proof({ token, nonce, iat: Math.floor(now / 1000) }))), 'use_dpop_nonce', /stale/)
    assert.notEqual(stale.dpopNonce, nonce)
    await rejects(verify(dpopRequest(token, await proof({ token, nonce: 'forged', iat: Math.floor(now / 1000) }))), 'use_dpop_nonce')
  })

  test('an introspected token bound by cnf.jkt needs a proof too', async () => {
    const verify = createAccessTokenVerifier(options({ dpop, introspection: { clientId: CLIENT_ID, clientSecret: CLIENT_SECRET } }))
    const token = `opaque-${randomUUID()}`
    issuer.introspection.set(token, { active: true, scope: 'orders:read', aud: AUDIENCE, cnf: { jkt }, token_type: 'DPoP' })
    await rejects(verify(bearer(token)), 'invalid_token', /presented as bearer/)
    const verified = await verify(dpopRequest(token, await proof({ token })))
    assert.equal(verified.token, 'opaque')
    assert.deepEqual(verified.bound, { jkt })
  })
})

describe('GuardError challenges', () => {
  test('auth-param values are quoted and escaped', () => {
    const err = new GuardError('invalid_token', 'bad "token" \\ here é\n', {
      challenge: { resourceMetadataUrl: 'https://api.example.com/.well-known/oauth-protected-resource?a="b"' },
    })
    assert.equal(
      err.challenge().headers['WWW-Authenticate'],
      'Bearer resource_metadata="https://api.example.com/.well-known/oauth-protected-resource?a=\\"b\\"", error="invalid_token", error_description="bad \'token\' / here ??"',
    )
    assert.deepEqual(err.toJSON(), { error: 'invalid_token', error_description: 'bad "token" \\ here é\n' })
    assert.equal(err.code, 'invalid_token')
    assert.equal(err.name, 'GuardError')
  })
})

describe('protected resource metadata (RFC 9728)', () => {
  test('builds the document and its well-known URL', () => {
    const metadata = protectedResourceMetadata({
      resource: 'https://api.example.com/v1',
      authorizationServers: ['https://as.example.com'],
      scopesSupported: ['orders:read'],
      dpopSigningAlgValuesSupported: ['ES256'],
      dpopBoundAccessTokensRequired: true,
    })
    assert.deepEqual(metadata, {
      resource: 'https://api.example.com/v1',
      authorization_servers: ['https://as.example.com'],
      bearer_methods_supported: ['header'],
      scopes_supported: ['orders:read'],
      dpop_signing_alg_values_supported: ['ES256'],
      dpop_bound_access_tokens_required: true,
    })
    assert.equal(protectedResourceMetadataUrl('https://api.example.com/v1'), 'https://api.example.com/.well-known/oauth-protected-resource/v1')
    assert.equal(protectedResourceMetadataUrl('https://api.example.com'), 'https://api.example.com/.well-known/oauth-protected-resource')
    assert.throws(() => protectedResourceMetadata({ resource: 'http://api.example.com', authorizationServers: ['https://as.example.com'] }), { code: 'invalid_config' })
    assert.throws(() => protectedResourceMetadata({ resource: 'https://api.example.com', authorizationServers: [] }), { code: 'invalid_config' })
  })
})

// ---------------------------------------------------------------------------------------------------

interface App {
  url: string
  close(): Promise<void>
}

async function listen(app: express.Express): Promise<App> {
  const server = app.listen(0, '127.0.0.1')
  await new Promise<void>((resolve) => server.once('listening', () => resolve()))
  server.unref()
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
}

describe('Express middleware', () => {
  let app: App
  const publicUrl = 'https://api.example.com/v1' // a proxy strips /v1 before the app sees the request

  before(async () => {
    const server = express()
    const metadata = protectedResourceMetadata({ resource: AUDIENCE, authorizationServers: [issuer.url], scopesSupported: ['orders:read'] })
    server.get('/.well-known/oauth-protected-resource', protectedResourceMetadataHandler(metadata))
    const guard = requireAccessToken({
      issuer: issuer.url,
      audience: AUDIENCE,
      resourceUrl: publicUrl,
      scopes: ['orders:read'],
      dpop: { nonce: { secret: new Uint8Array(32).fill(7) } },
      resourceMetadataUrl: protectedResourceMetadataUrl(AUDIENCE),
    })
    server.get('/orders', guard, (_req, res) => {
      const token = res.locals['accessToken'] as VerifiedAccessToken
      res.json({ subject: token.subject, bound: token.bound ?? null })
    })
    server.get('/down', requireAccessToken({ issuer: 'http://127.0.0.1:1', audience: AUDIENCE, resourceUrl: publicUrl }), (_req, res) => {
      res.json({})
    })
    app = await listen(server)
  })

  after(async () => {
    await app.close()
  })

  test('a valid token reaches the handler with res.locals.accessToken', async () => {
    const response = await fetch(`${app.url}/orders`, { headers: { authorization: `Bearer ${await accessToken()}` } })
    assert.equal(response.status, 200)
    assert.deepEqual(await response.json(), { subject: 'user-1', bound: null })
  })

  test('a missing token is 401 with a challenge and a JSON body', async () => {
    const response = await fetch(`${app.url}/orders`)
    assert.equal(response.status, 401)
    assert.equal(
      response.headers.get('www-authenticate'),
      `Bearer resource_metadata="https://api.example.com/.well-known/oauth-protected-resource", DPoP algs="ES256 EdDSA Ed25519 PS256 RS256", resource_metadata="https://api.example.com/.well-known/oauth-protected-resource"`,
    )
    assert.equal(response.headers.get('cache-control'), 'no-store')
    assert.deepEqual(await response.json(), { error: 'invalid_request', error_description: 'access token required' })
  })

  test('insufficient scope is 403', async () => {
    const response = await fetch(`${app.url}/orders`, { headers: { authorization: `Bearer ${await accessToken({ claims: { scope: 'profile' } })}` } })
    assert.equal(response.status, 403)
    assert.match(response.headers.get('www-authenticate') ?? '', /error="insufficient_scope"/)
    const body = (await response.json()) as Record<string, unknown>
    assert.equal(body['error'], 'insufficient_scope')
    assert.ok(!JSON.stringify(body).includes('stack'))
  })

  test('DPoP: nonce round trip, htu from resourceUrl, Host header not trusted', async () => {
    const token = await accessToken({ claims: { cnf: { jkt } } })
    const htu = `${publicUrl}/orders`
    const first = await fetch(`${app.url}/orders?x=1`, { headers: { authorization: `DPoP ${token}`, dpop: await proof({ token, htu }) } })
    assert.equal(first.status, 401)
    const nonce = first.headers.get('dpop-nonce') ?? ''
    assert.equal(((await first.json()) as Record<string, unknown>)['error'], 'use_dpop_nonce')
    const ok = await fetch(`${app.url}/orders?x=1`, { headers: { authorization: `DPoP ${token}`, dpop: await proof({ token, htu, nonce }) } })
    assert.equal(ok.status, 200)
    assert.deepEqual(await ok.json(), { subject: 'user-1', bound: { jkt } })
    assert.ok((ok.headers.get('dpop-nonce') ?? '').length > 0)
    // a proof made for the address in a spoofed Host header does not match
    const spoofed = await fetch(`${app.url}/orders`, {
      headers: { authorization: `DPoP ${token}`, dpop: await proof({ token, htu: `http://evil.example.com/orders`, nonce }), 'x-forwarded-host': 'evil.example.com' },
    })
    assert.equal(spoofed.status, 401)
    assert.equal(((await spoofed.json()) as Record<string, unknown>)['error'], 'invalid_dpop_proof')
  })

  test('an unreachable issuer is 503 without details', async () => {
    const response = await fetch(`${app.url}/down`, { headers: { authorization: `Bearer ${await accessToken()}` } })
    assert.equal(response.status, 503)
    assert.deepEqual(await response.json(), { error: 'temporarily_unavailable', error_description: 'the access token could not be checked' })
  })

  test('serves the protected resource metadata', async () => {
    const response = await fetch(`${app.url}/.well-known/oauth-protected-resource`)
    assert.equal(response.status, 200)
    assert.match(response.headers.get('content-type') ?? '', /^application\/json/)
    assert.equal(response.headers.get('cache-control'), 'public, max-age=3600')
    assert.deepEqual(await response.json(), {
      resource: AUDIENCE,
      authorization_servers: [issuer.url],
      bearer_methods_supported: ['header'],
      scopes_supported: ['orders:read'],
    })
  })

  test('requires resourceUrl unless trustHost', () => {
    assert.throws(() => requireAccessToken({ issuer: issuer.url, audience: AUDIENCE }), { code: 'invalid_config' })
    requireAccessToken({ issuer: issuer.url, audience: AUDIENCE, trustHost: true })
  })
})

describe('property: arbitrary headers', () => {
  test('never throw anything but GuardError, never hang', async () => {
    const verify = createAccessTokenVerifier(
      options({ dpop: { nonce: { secret: 'p'.repeat(32) } }, introspection: { clientId: CLIENT_ID, clientSecret: CLIENT_SECRET } }),
    )
    const introspectionsBefore = issuer.requests.introspection
    const encode = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url')
    const b64 = fc.stringMatching(/^[A-Za-z0-9_-]{0,40}$/)
    const jsonPart = fc.jsonValue().map(encode)
    // headers that get past parsing, so key resolution, signature and proof checks run too
    const plausibleHeader = fc.constantFrom(
      encode({ alg: 'RS256', kid: rsa.kid, typ: 'at+jwt' }),
      encode({ alg: 'ES256', typ: 'dpop+jwt', jwk: dpopKey.publicJwk }),
      encode({ alg: 'ES256', typ: 'dpop+jwt', jwk: { kty: 'EC', crv: 'P-256', x: 'AA', y: 'AA' } }),
    )
    const jwtLike = fc
      .tuple(fc.oneof(b64, jsonPart, plausibleHeader), fc.oneof(b64, jsonPart), b64)
      .map((parts) => parts.join('.'))
    const boundToken = await accessToken({ claims: { cnf: { jkt } } })
    const token = fc.oneof(fc.string(), jwtLike, b64, fc.constant(boundToken))
    const authorization = fc.oneof(
      fc.string(),
      token.map((t) => `Bearer ${t}`),
      token.map((t) => `DPoP ${t}`),
      fc.tuple(fc.constantFrom('bearer', 'DPOP', 'Basic', ''), fc.string()).map(([s, t]) => `${s} ${t}`),
    )
    const dpopHeader = fc.option(fc.oneof(fc.string(), jwtLike, fc.array(jwtLike, { maxLength: 3 })), { nil: undefined })
    await fc.assert(
      fc.asyncProperty(authorization, dpopHeader, fc.constantFrom('GET', 'POST'), async (auth, dpop, method) => {
        const headers: Record<string, string | string[] | undefined> = { authorization: auth, dpop }
        const outcome = await Promise.race([
          verify({ method, url: API_URL, headers }).then(
            () => 'accepted',
            (err: unknown) => err,
          ),
          new Promise((resolve) => setTimeout(resolve, 5000, 'hung').unref()),
        ])
        assert.notEqual(outcome, 'hung')
        assert.notEqual(outcome, 'accepted')
        assert.ok(outcome instanceof GuardError, `unexpected ${String(outcome)}`)
        assert.ok([400, 401, 403].includes(outcome.status))
        const { headers: challenge } = outcome.challenge()
        assert.ok(new Headers(challenge), 'challenge headers are valid header values')
      }),
      { numRuns: 300 },
    )
    assert.ok(issuer.requests.introspection > introspectionsBefore, 'opaque tokens reached the introspection endpoint')
  })
})
