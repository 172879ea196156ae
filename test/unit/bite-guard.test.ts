// Issue 19: unit tests written against the mutants StrykerJS left alive in the guard's verification
// (docs/MUTATION.md). They go through the public API's source (`src/index.ts`: the `resource-tokens` entry
// resolves to the built dist/, which Stryker does not mutate) against a local issuer serving a JWKS, and
// pin each refusal by its exact description, each boundary from both sides.
import assert from 'node:assert/strict'
import { createHash, randomUUID } from 'node:crypto'
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { after, before, describe, test } from 'node:test'

import { SignJWT, calculateJwkThumbprint, exportJWK, generateKeyPair, type CryptoKey, type JWK } from 'jose'

import {
  GuardError,
  MemoryStore,
  ResourceTokensConfigError,
  createAccessTokenVerifier,
  verifyAccessToken,
  type AccessTokenRequest,
  type StoreWriteOptions,
  type VerifyAccessTokenOptions,
} from '../../src/index.js'
import { normalizeHtu } from '../../src/guard/dpop-proof.js'
import { failed } from '../support/library-errors.js'

interface Key {
  kid: string
  alg: string
  privateKey: CryptoKey
  jwk: JWK
}

async function key(alg: 'RS256' | 'ES256' | 'PS256' | 'EdDSA', kid: string): Promise<Key> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true })
  return { kid, alg, privateKey, jwk: { ...(await exportJWK(publicKey)), kid, alg } }
}

// A local issuer: discovery and JWKS, both editable by the tests.
const served = { discovery: {} as Record<string, unknown>, jwks: [] as JWK[], jwksStatus: 200 }
let issuerUrl = ''
const server = createServer((req: IncomingMessage, res: ServerResponse) => {
  const send = (status: number, body: unknown): void => {
    res.writeHead(status, { 'content-type': 'application/json' })
    res.end(JSON.stringify(body))
  }
  if (req.url === '/.well-known/openid-configuration') return send(200, { issuer: issuerUrl, ...served.discovery })
  if (req.url === '/jwks') return send(served.jwksStatus, served.jwksStatus === 200 ? { keys: served.jwks } : { error: 'down' })
  send(404, {})
})

const AUDIENCE = 'https://api.example.com'
const API_URL = 'https://api.example.com/orders'
let rsa: Key
let ps: Key
let ec: Key
let ed: Key
let unpublished: Key
let dpopKey: Key
let otherDpopKey: Key
let jkt: string
let otherJkt: string

const nowSeconds = (): number => Math.floor(Date.now() / 1000)

before(async () => {
  ;[rsa, ps, ec, ed, unpublished, dpopKey, otherDpopKey] = await Promise.all([
    key('RS256', 'rsa'),
    key('PS256', 'ps'),
    key('ES256', 'ec'),
    key('EdDSA', 'ed'),
    key('RS256', 'unpublished'),
    key('ES256', 'dpop'),
    key('ES256', 'dpop-other'),
  ])
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  server.unref()
  issuerUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  served.discovery = { jwks_uri: `${issuerUrl}/jwks` }
  served.jwks = [rsa.jwk, ps.jwk, ec.jwk, ed.jwk]
  jkt = await calculateJwkThumbprint(publicJwk(dpopKey))
  otherJkt = await calculateJwkThumbprint(publicJwk(otherDpopKey))
})

after(async () => {
  server.closeAllConnections()
  await new Promise<void>((resolve) => server.close(() => resolve()))
})

function publicJwk(k: Key): JWK {
  const { kid: _kid, alg: _alg, ...jwk } = k.jwk
  return jwk
}

interface TokenOptions {
  key?: Key
  kid?: string | null
  typ?: string
  claims?: Record<string, unknown>
  omit?: string[]
}

function token({ key: k = rsa, kid, typ = 'at+jwt', claims = {}, omit = [] }: TokenOptions = {}): Promise<string> {
  const now = nowSeconds()
  const payload: Record<string, unknown> = { iss: issuerUrl, aud: AUDIENCE, sub: 'user-1', client_id: 'client-1', scope: 'orders:read', iat: now, exp: now + 300, ...claims }
  for (const name of omit) delete payload[name]
  const header: Record<string, unknown> = { alg: k.alg, typ }
  if (kid !== null) header['kid'] = kid ?? k.kid
  return new SignJWT(payload).setProtectedHeader(header as { alg: string }).sign(k.privateKey)
}

const ath = (value: string): string => createHash('sha256').update(value).digest('base64url')

interface ProofOptions {
  key?: Key
  token?: string
  claims?: Record<string, unknown>
  omit?: string[]
  header?: Record<string, unknown>
}

function proof({ key: k = dpopKey, token: t, claims = {}, omit = [], header = {} }: ProofOptions = {}): Promise<string> {
  const payload: Record<string, unknown> = { htm: 'GET', htu: API_URL, jti: randomUUID(), iat: nowSeconds(), ...(t === undefined ? {} : { ath: ath(t) }), ...claims }
  for (const name of omit) delete payload[name]
  return new SignJWT(payload).setProtectedHeader({ alg: k.alg, typ: 'dpop+jwt', jwk: publicJwk(k), ...header }).sign(k.privateKey)
}

const bearer = (t: string, url = API_URL): AccessTokenRequest => ({ method: 'GET', url, headers: { authorization: `Bearer ${t}` } })
const dpopRequest = (t: string, p: string | string[] | undefined, extra: Partial<AccessTokenRequest> = {}): AccessTokenRequest => ({
  method: 'GET',
  url: API_URL,
  headers: { authorization: `DPoP ${t}`, dpop: p },
  ...extra,
})
const options = (extra: Partial<VerifyAccessTokenOptions> = {}): VerifyAccessTokenOptions => ({ issuer: issuerUrl, audience: AUDIENCE, ...extra })

async function refused(promise: Promise<unknown>, code: GuardError['code'], description: string): Promise<GuardError> {
  try {
    await promise
  } catch (err) {
    assert.ok(err instanceof GuardError, `expected a GuardError, got ${String(err)}`)
    assert.equal(err.code, code, err.description)
    assert.equal(err.description, description)
    return err
  }
  assert.fail(`expected ${code} "${description}", but it was accepted`)
}

const wwwAuthenticate = (err: GuardError): string => err.challenge().headers['WWW-Authenticate'] ?? ''

describe('JWT access tokens: each refusal by its description', () => {
  test('every default algorithm is accepted (RS256, PS256, ES256, EdDSA); the claims are described', async () => {
    const verify = createAccessTokenVerifier(options())
    for (const k of [rsa, ps, ec, ed]) {
      const verified = await verify(bearer(await token({ key: k })))
      assert.equal(verified.token, 'jwt')
      assert.equal(verified.subject, 'user-1')
      assert.equal(verified.clientId, 'client-1')
      assert.deepEqual(verified.scopes, ['orders:read'])
      assert.equal('bound' in verified, false)
    }
  })

  test('the algorithms option narrows the list', async () => {
    const verify = createAccessTokenVerifier(options({ algorithms: ['ES256'] }))
    await verify(bearer(await token({ key: ec })))
    await refused(verify(bearer(await token({ key: rsa }))), 'invalid_token', 'access token alg is not allowed')
  })

  test('typ, iss, aud, nbf, exp, a missing claim and a bad claim', async () => {
    const verify = createAccessTokenVerifier(options())
    await verify(bearer(await token({ typ: 'application/at+jwt' })))
    await refused(verify(bearer(await token({ typ: 'JWT' }))), 'invalid_token', 'access token typ must be at+jwt')
    await refused(verify(bearer(await token({ claims: { iss: 'https://other.example.com' } }))), 'invalid_token', 'access token has an unexpected issuer')
    await refused(verify(bearer(await token({ claims: { aud: 'https://other.example.com' } }))), 'invalid_token', 'access token is not intended for this resource')
    await refused(verify(bearer(await token({ claims: { nbf: nowSeconds() + 120 } }))), 'invalid_token', 'access token is not yet valid')
    const expired = await refused(verify(bearer(await token({ claims: { exp: nowSeconds() - 120 } }))), 'invalid_token', 'access token expired')
    assert.ok(expired.cause instanceof Error, 'the refusal keeps the jose error as its cause')
    await refused(verify(bearer(await token({ omit: ['exp'] }))), 'invalid_token', 'access token is missing the "exp" claim')
    await refused(verify(bearer(await token({ claims: { iat: 'yesterday' } }))), 'invalid_token', 'access token "iat" claim is invalid')
  })

  test('signature, unknown key, garbage', async () => {
    const verify = createAccessTokenVerifier(options())
    const good = await token()
    const [h, p] = good.split('.')
    const other = (await token({ key: unpublished, kid: rsa.kid })).split('.')[2]
    await refused(verify(bearer(`${h}.${p}.${other}`)), 'invalid_token', 'access token signature is invalid')
    await refused(verify(bearer(await token({ key: unpublished }))), 'invalid_token', 'no key of the issuer matches the access token')
    await refused(verify(bearer('a.b.c')), 'invalid_token', 'malformed access token')
  })

  test('exp and nbf honour leewaySeconds (default 5) on the injected clock', async () => {
    const now = Date.now() - 3_600_000 // an hour ago: a token valid then, expired now
    const then = Math.floor(now / 1000)
    const verify = createAccessTokenVerifier(options({ now: () => now }))
    await verify(bearer(await token({ claims: { iat: then - 60, exp: then - 3 } })))
    await refused(verify(bearer(await token({ claims: { iat: then - 60, exp: then - 10 } }))), 'invalid_token', 'access token expired')
    await verify(bearer(await token({ claims: { iat: then, exp: then + 60, nbf: then + 3 } })))
    const strict = createAccessTokenVerifier(options({ now: () => now, leewaySeconds: 0 }))
    await refused(strict(bearer(await token({ claims: { iat: then - 60, exp: then - 3 } }))), 'invalid_token', 'access token expired')
  })

  test('a token without kid is tried against each key of the JWKS that fits', async () => {
    const second = await key('ES256', 'ec-2')
    const saved = served.jwks
    served.jwks = [ec.jwk, { ...second.jwk, kid: undefined }, { ...ec.jwk, kid: undefined }].map((jwk) => JSON.parse(JSON.stringify(jwk)) as JWK)
    try {
      const verify = createAccessTokenVerifier(options())
      assert.equal((await verify(bearer(await token({ key: second, kid: null })))).subject, 'user-1')
      assert.equal((await verify(bearer(await token({ key: ec, kid: null })))).subject, 'user-1')
      await refused(verify(bearer(await token({ key: otherDpopKey, kid: null }))), 'invalid_token', 'access token signature is invalid')
      // a refusal other than the signature stops at the first key
      await refused(verify(bearer(await token({ key: second, kid: null, claims: { exp: nowSeconds() - 120 } }))), 'invalid_token', 'access token expired')
    } finally {
      served.jwks = saved
    }
  })

  test('the JWKS comes through the configured fetch; a discovery document without jwks_uri is discovery_failed', async () => {
    const seen: string[] = []
    const fetchSpy: typeof fetch = (input, init) => {
      seen.push(input instanceof Request ? input.url : String(input))
      return fetch(input, init)
    }
    served.discovery = {}
    try {
      const verify = createAccessTokenVerifier(options({ fetch: fetchSpy }))
      await failed(verify(bearer(await token())), 'discovery_failed', `the discovery document of ${issuerUrl} has no "jwks_uri"`)
      served.discovery = { jwks_uri: `${issuerUrl}/jwks` }
      // the discovery document is cached by the verifier: a new one sees the fixed document
      assert.equal((await createAccessTokenVerifier(options({ fetch: fetchSpy }))(bearer(await token()))).subject, 'user-1')
      assert.ok(seen.includes(`${issuerUrl}/jwks`), seen.join(' '))
    } finally {
      served.discovery = { jwks_uri: `${issuerUrl}/jwks` }
    }
  })

  test('a JWKS that cannot be fetched is discovery_failed (not a refusal), then recovers', async () => {
    served.jwksStatus = 500
    try {
      const verify = createAccessTokenVerifier(options({ jwksUri: `${issuerUrl}/jwks` }))
      const err = await failed(verify(bearer(await token())), 'discovery_failed', `could not fetch the json web key set of ${issuerUrl}`)
      assert.ok(err.cause instanceof Error, 'the JWKS failure is kept as the cause')
      served.jwksStatus = 200
      assert.equal((await verify(bearer(await token()))).subject, 'user-1')
    } finally {
      served.jwksStatus = 200
    }
  })
})

describe('claims the guard reads', () => {
  test('sub, scope, client_id / azp must be strings; azp stands in for client_id', async () => {
    const verify = createAccessTokenVerifier(options())
    await refused(verify(bearer(await token({ claims: { sub: 7 } }))), 'invalid_token', 'access token "sub" must be a string')
    await refused(verify(bearer(await token({ claims: { scope: ['orders:read'] } }))), 'invalid_token', 'access token "scope" must be a string')
    await refused(verify(bearer(await token({ omit: ['client_id'], claims: { azp: 7 } }))), 'invalid_token', 'access token "client_id" must be a string')
    assert.equal((await verify(bearer(await token({ omit: ['client_id'], claims: { azp: 'azp-client' } })))).clientId, 'azp-client')
    assert.equal((await verify(bearer(await token({ claims: { client_id: 7, azp: 'azp-client' } })))).clientId, 'azp-client')
  })

  test('scopes split on spaces without empty entries; absent fields are absent', async () => {
    const verify = createAccessTokenVerifier(options())
    assert.deepEqual((await verify(bearer(await token({ claims: { scope: ' a  b ' } })))).scopes, ['a', 'b'])
    const bare = await verify(bearer(await token({ omit: ['sub', 'client_id', 'scope'] })))
    assert.deepEqual(bare.scopes, [])
    assert.deepEqual(Object.keys(bare).sort(), ['claims', 'scopes', 'token'])
  })

  test('cnf: an object; empty means unbound; jkt a non-empty string; other methods refused', async () => {
    const verify = createAccessTokenVerifier(options({ dpop: {} }))
    for (const cnf of ['x', null, [jkt]]) {
      await refused(verify(bearer(await token({ claims: { cnf } }))), 'invalid_token', 'access token "cnf" must be an object')
    }
    assert.equal('bound' in (await verify(bearer(await token({ claims: { cnf: {} } })))), false)
    await refused(verify(bearer(await token({ claims: { cnf: { 'x5t#S256': 'abc' } } }))), 'invalid_token', 'access token is bound by an unsupported confirmation method')
    for (const bad of ['', 7]) {
      await refused(verify(bearer(await token({ claims: { cnf: { jkt: bad } } }))), 'invalid_token', 'access token "cnf.jkt" must be a string')
    }
  })

  test('missing scopes are listed; the challenge carries the required ones', async () => {
    const verify = createAccessTokenVerifier(options({ scopes: ['orders:read', 'orders:write', 'admin'] }))
    const err = await refused(verify(bearer(await token({ claims: { scope: 'orders:read' } }))), 'insufficient_scope', 'access token lacks scope orders:write admin')
    assert.equal(err.status, 403)
    assert.equal(wwwAuthenticate(err), 'Bearer error="insufficient_scope", error_description="access token lacks scope orders:write admin", scope="orders:read orders:write admin"')
    await verify(bearer(await token({ claims: { scope: 'admin orders:write orders:read' } })))
  })
})

describe('the Authorization header', () => {
  const verify = (): ReturnType<typeof createAccessTokenVerifier> => createAccessTokenVerifier(options())
  const withHeaders = (headers: AccessTokenRequest['headers']): AccessTokenRequest => ({ method: 'GET', url: API_URL, headers })

  test('any case of the header name and the scheme; surrounding and separating spaces', async () => {
    const t = await token()
    for (const headers of [{ Authorization: `Bearer ${t}` }, { AUTHORIZATION: `bearer ${t}` }, { authorization: `  BEARER   ${t}  ` }, new Headers({ Authorization: `Bearer ${t}` })]) {
      assert.equal((await verify()(withHeaders(headers))).subject, 'user-1')
    }
    // an array with one string (Node's headersDistinct); non-string items and other headers are ignored
    assert.equal((await verify()(withHeaders({ authorization: [t.length > 0 ? `Bearer ${t}` : ''], 'authorization-x': 'Bearer x', other: [7 as unknown as string] }))).subject, 'user-1')
    assert.equal((await verify()(withHeaders({ authorization: [7 as unknown as string, `Bearer ${t}`] }))).subject, 'user-1')
  })

  test('none, another scheme, or DPoP when DPoP is off: missing token, a challenge without error', async () => {
    for (const headers of [{}, { authorization: undefined }, { authorization: 'Basic dXNlcjpwYXNz' }, { authorization: 'DPoP abc' }, { authorization: '' }]) {
      const err = await refused(verify()(withHeaders(headers)), 'invalid_request', 'access token required')
      assert.equal(err.missingToken, true)
      assert.equal(err.status, 401)
      assert.equal(wwwAuthenticate(err), 'Bearer')
    }
  })

  test('repeated or malformed: invalid_request with the scheme named', async () => {
    const t = await token()
    const repeated = await refused(verify()(withHeaders({ authorization: [`Bearer ${t}`, `Bearer ${t}`] })), 'invalid_request', 'more than one authorization header')
    assert.equal(repeated.missingToken, false)
    const both = await refused(verify()(withHeaders({ Authorization: `Bearer ${t}`, authorization: `Bearer ${t}` })), 'invalid_request', 'more than one authorization header')
    assert.equal(both.status, 400)
    for (const value of ['Bearer', 'Bearer a b', 'Bearer =abc', 'Bearer a!b', 'Bearer a=b']) {
      await refused(verify()(withHeaders({ authorization: value })), 'invalid_request', 'malformed Bearer authorization header')
    }
    const dpop = createAccessTokenVerifier(options({ dpop: {} }))
    const err = await refused(dpop(withHeaders({ authorization: 'DPoP a b' })), 'invalid_request', 'malformed DPoP authorization header')
    assert.equal(err.scheme, 'DPoP')
    const twice = await refused(dpop(withHeaders({ authorization: [`Bearer ${t}`, `Bearer ${t}`] })), 'invalid_request', 'more than one authorization header')
    assert.match(wwwAuthenticate(twice), /DPoP algs="/)
    // with DPoP on, another scheme is still no credentials at all
    const basic = await refused(dpop(withHeaders({ authorization: 'Basic dXNlcjpwYXNz' })), 'invalid_request', 'access token required')
    assert.equal(basic.missingToken, true)
  })

  test('every token68 character is accepted (the token is then judged, not the header)', async () => {
    // An opaque token without introspection is refused as a token, which shows the header was read.
    for (const value of ['AZaz09-._~+/', 'abc==']) {
      await refused(verify()(withHeaders({ authorization: `Bearer ${value}` })), 'invalid_token', 'opaque access tokens are not accepted')
    }
  })
})

describe('the request itself', () => {
  test('a malformed request is invalid_argument, never a GuardError', async () => {
    const verify = createAccessTokenVerifier(options())
    const t = await token()
    const cases: [unknown, string][] = [
      [null, 'request must be an object'],
      ['GET', 'request must be an object'],
      [{ method: '', url: API_URL, headers: {} }, '"request.method" must be a non-empty string'],
      [{ method: 7, url: API_URL, headers: {} }, '"request.method" must be a non-empty string'],
      [{ method: 'GET', url: 7, headers: {} }, '"request.url" must be a string'],
      [{ method: 'GET', url: API_URL, headers: null }, '"request.headers" must be an object'],
      [{ method: 'GET', url: API_URL, headers: 'authorization' }, '"request.headers" must be an object'],
    ]
    for (const [request, message] of cases) await failed(verify(request as AccessTokenRequest), 'invalid_argument', message)
    // a bound token needs an absolute http(s) request URL to compare with htu
    const dpop = createAccessTokenVerifier(options({ dpop: {} }))
    const bound = await token({ claims: { cnf: { jkt } } })
    await failed(dpop(dpopRequest(bound, await proof({ token: bound }), { url: 'ftp://api.example.com/orders' })), 'invalid_argument', '"request.url" must be an absolute http(s) URL')
    await failed(dpop(dpopRequest(bound, await proof({ token: bound }), { url: '/orders' })), 'invalid_argument', '"request.url" must be an absolute http(s) URL')
    assert.equal((await verify(bearer(t, 'not even a url'))).subject, 'user-1') // an unbound token does not need it
  })

  test('verifyAccessToken keeps one verifier per options object', async () => {
    let calls = 0
    const countingFetch: typeof fetch = (input, init) => {
      calls++
      return fetch(input, init)
    }
    const opts = options({ fetch: countingFetch })
    await verifyAccessToken(bearer(await token()), opts)
    const first = calls
    assert.ok(first > 0)
    await verifyAccessToken(bearer(await token()), opts)
    assert.equal(calls, first)
    await verifyAccessToken(bearer(await token()), { ...opts })
    assert.ok(calls > first)
  })
})

describe('step-up (RFC 9470)', () => {
  test('acrValues and maxAgeSeconds are validated at construction', () => {
    const acrMessage = '"acrValues" must be a non-empty array of acr values (no spaces or quotes)'
    for (const acrValues of [[], ['a b'], ['gold', 'a b'], ['a"b'], ['a\\b'], [''], ['x'.repeat(257)], 'gold', [7]]) {
      assert.throws(() => createAccessTokenVerifier(options({ acrValues: acrValues as string[] })), (err: unknown) => err instanceof ResourceTokensConfigError && err.message === acrMessage, JSON.stringify(acrValues))
    }
    createAccessTokenVerifier(options({ acrValues: ['x'.repeat(256), '!#[]~'] }))
    for (const maxAgeSeconds of [-1, 1.5, '60', Number.NaN]) {
      assert.throws(() => createAccessTokenVerifier(options({ maxAgeSeconds: maxAgeSeconds as number })), (err: unknown) => err instanceof ResourceTokensConfigError && err.message === '"maxAgeSeconds" must be an integer of at least 0')
    }
    createAccessTokenVerifier(options({ maxAgeSeconds: 0 }))
  })

  test('acr: one of those required, else a challenge with acr_values only', async () => {
    const verify = createAccessTokenVerifier(options({ acrValues: ['silver', 'gold'] }))
    await verify(bearer(await token({ claims: { acr: 'gold' } })))
    for (const acr of ['bronze', undefined, 7]) {
      const err = await refused(verify(bearer(await token({ claims: { acr } }))), 'insufficient_user_authentication', 'a stronger authentication is required')
      assert.equal(err.acrValues, 'silver gold')
      assert.equal(err.maxAge, undefined)
      assert.equal(wwwAuthenticate(err), 'Bearer error="insufficient_user_authentication", error_description="a stronger authentication is required", acr_values="silver gold"')
    }
  })

  test('auth_time: at most maxAgeSeconds + leeway ago, else a challenge with max_age only', async () => {
    const now = Date.now()
    const at = now / 1000
    const verify = createAccessTokenVerifier(options({ maxAgeSeconds: 60, leewaySeconds: 5, now: () => now }))
    await verify(bearer(await token({ claims: { auth_time: at - 65 } })))
    for (const authTime of [at - 65.5, undefined, String(at)]) {
      const err = await refused(verify(bearer(await token({ claims: { auth_time: authTime } }))), 'insufficient_user_authentication', 'a more recent authentication is required')
      assert.equal(err.maxAge, 60)
      assert.equal(err.acrValues, undefined)
      assert.equal(wwwAuthenticate(err), 'Bearer error="insufficient_user_authentication", error_description="a more recent authentication is required", max_age="60"')
    }
  })
})

describe('challenge formatting', () => {
  test('error_description: quotes and backslashes replaced; other params escaped; non-ASCII and controls become ?', () => {
    const err = new GuardError('invalid_token', 'a"b\\c\té\x7f ~!', { challenge: { resourceMetadataUrl: 'https://rs/m?"q"\\' } })
    assert.equal(wwwAuthenticate(err), 'Bearer resource_metadata="https://rs/m?\\"q\\"\\\\", error="invalid_token", error_description="a\'b/c??? ~!"')
  })
})

describe('DPoP proofs: each refusal by its description', () => {
  const dpop = {}
  let bound: string
  before(async () => {
    bound = await token({ claims: { cnf: { jkt } } })
  })

  test('a valid proof; method compared in upper case; http and percent-encoding normalized', async () => {
    const verify = createAccessTokenVerifier(options({ dpop }))
    const verified = await verify(dpopRequest(bound, await proof({ token: bound }), { method: 'get' }))
    assert.deepEqual(verified.bound, { jkt })
    await verify(dpopRequest(bound, ` ${await proof({ token: bound, claims: { htu: 'http://API.example.com/a%2fb' } })} `, { url: 'http://api.example.com/a%2Fb?x=1' }))
    assert.equal(normalizeHtu('http://h.example/%7e%2f'), 'http://h.example/~%2F')
    assert.equal(normalizeHtu('HTTPS://H.example:443'), 'https://h.example/')
    assert.equal(normalizeHtu('ws://h.example/'), undefined)
    assert.equal(normalizeHtu('nope'), undefined)
  })

  test('the claims of the proof', async () => {
    const verify = createAccessTokenVerifier(options({ dpop }))
    const t = bound
    for (const jti of ['', 7]) await refused(verify(dpopRequest(t, await proof({ token: t, claims: { jti } }))), 'invalid_dpop_proof', 'dpop proof jti must be a non-empty string')
    await refused(verify(dpopRequest(t, await proof({ token: t, claims: { htm: 'get' } }))), 'invalid_dpop_proof', 'dpop proof htm does not match the request method')
    await refused(verify(dpopRequest(t, await proof({ token: t, claims: { htu: 7 } }))), 'invalid_dpop_proof', 'dpop proof htu does not match the request url')
    await refused(verify(dpopRequest(t, await proof({ token: t, claims: { htu: `${API_URL}/x` } }))), 'invalid_dpop_proof', 'dpop proof htu does not match the request url')
    await refused(verify(dpopRequest(t, await proof({}))), 'invalid_dpop_proof', 'dpop proof ath does not match the access token')
    await refused(verify(dpopRequest(t, await proof({ claims: { ath: 7 } }))), 'invalid_dpop_proof', 'dpop proof ath does not match the access token')
    await refused(verify(dpopRequest(t, await proof({ token: t, key: otherDpopKey }))), 'invalid_dpop_proof', 'dpop proof key does not match the access token binding')
    for (const name of ['jti', 'htm', 'htu', 'iat']) {
      await refused(verify(dpopRequest(t, await proof({ token: t, omit: [name] }))), 'invalid_dpop_proof', `dpop proof is missing the "${name}" claim`)
    }
    await refused(verify(dpopRequest(t, await proof({ token: t, claims: { iat: 'now' } }))), 'invalid_dpop_proof', 'dpop proof "iat" claim is invalid')
    await refused(verify(dpopRequest(t, await proof({ token: t, claims: { exp: nowSeconds() - 60 } }))), 'invalid_dpop_proof', 'dpop proof has expired')
  })

  test('the iat window, on the injected clock, from both sides (default 60 s, and iatWindowSeconds)', async () => {
    const now = (nowSeconds() - 3600) * 1000
    const at = now / 1000
    const verify = createAccessTokenVerifier(options({ dpop, now: () => now }))
    const t = await token({ claims: { cnf: { jkt }, iat: at, exp: at + 300 } })
    await verify(dpopRequest(t, await proof({ token: t, claims: { iat: at - 60 } })))
    await verify(dpopRequest(t, await proof({ token: t, claims: { iat: at + 60 } })))
    for (const iat of [at - 61, at + 61]) {
      await refused(verify(dpopRequest(t, await proof({ token: t, claims: { iat } }))), 'invalid_dpop_proof', 'dpop proof iat is outside the acceptable window')
    }
    const narrow = createAccessTokenVerifier(options({ dpop: { iatWindowSeconds: 10 }, now: () => now }))
    await refused(narrow(dpopRequest(t, await proof({ token: t, claims: { iat: at - 11 } }))), 'invalid_dpop_proof', 'dpop proof iat is outside the acceptable window')
  })

  test('the header and the JWS of the proof', async () => {
    const verify = createAccessTokenVerifier(options({ dpop }))
    const t = bound
    const one = await proof({ token: t })
    await refused(verify(dpopRequest(t, undefined)), 'invalid_dpop_proof', 'dpop proof required')
    await refused(verify(dpopRequest(t, [])), 'invalid_dpop_proof', 'dpop proof required')
    await refused(verify(dpopRequest(t, [one, one])), 'invalid_dpop_proof', 'more than one dpop proof')
    await refused(verify(dpopRequest(t, `${one},${one}`)), 'invalid_dpop_proof', 'more than one dpop proof')
    for (const bad of ['a.b', 'a.b.c.d', `${one}!`, ` .${one}`]) {
      await refused(verify(dpopRequest(t, bad)), 'invalid_dpop_proof', 'malformed dpop proof')
    }
    await refused(verify(dpopRequest(t, 'a.b.c')), 'invalid_dpop_proof', 'malformed dpop proof')
    await refused(verify(dpopRequest(t, await proof({ token: t, header: { typ: 'JWT' } }))), 'invalid_dpop_proof', 'dpop proof typ must be dpop+jwt')
    const [h, p] = one.split('.')
    const foreign = (await proof({ token: t, key: otherDpopKey })).split('.')[2]
    await refused(verify(dpopRequest(t, `${h}.${p}.${foreign}`)), 'invalid_dpop_proof', 'dpop proof signature is invalid')
    const edOnly = createAccessTokenVerifier(options({ dpop: { algorithms: ['EdDSA'] } }))
    await refused(edOnly(dpopRequest(t, await proof({ token: t }))), 'invalid_dpop_proof', 'dpop proof alg is not allowed')
    await refused(verify(dpopRequest(t, await proof({ token: t, header: { jwk: undefined } }))), 'invalid_dpop_proof', 'dpop proof has no jwk header')
    const privateJwk = await exportJWK(dpopKey.privateKey)
    for (const member of ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k', 'priv']) {
      const jwk = { ...publicJwk(dpopKey), [member]: member === 'd' ? privateJwk.d : 'AQAB' }
      await refused(verify(dpopRequest(t, await proof({ token: t, header: { jwk } }))), 'invalid_dpop_proof', 'dpop proof jwk must be a public key')
    }
    await refused(verify(dpopRequest(t, await proof({ token: t, header: { jwk: { ...publicJwk(dpopKey), kty: 'oct' } } }))), 'invalid_dpop_proof', 'dpop proof jwk must be a public key')
  })

  test('replay: per key and jti; two proofs in a row are both fine', async () => {
    const verify = createAccessTokenVerifier(options({ dpop }))
    const other = await token({ claims: { cnf: { jkt: otherJkt } } })
    const jti = randomUUID()
    await verify(dpopRequest(bound, await proof({ token: bound, claims: { jti } })))
    await verify(dpopRequest(other, await proof({ token: other, key: otherDpopKey, claims: { jti } })))
    await verify(dpopRequest(bound, await proof({ token: bound })))
    await refused(verify(dpopRequest(bound, await proof({ token: bound, claims: { jti } }))), 'invalid_dpop_proof', 'dpop proof has already been used')
  })

  test('a shared store: first use across verifiers, keyed without the proof, with a TTL to the end of the iat window; a failing store fails closed', async () => {
    const store = new MemoryStore()
    const writes: { key: string; options: StoreWriteOptions | undefined }[] = []
    const compareAndSet = store.compareAndSet.bind(store)
    store.compareAndSet = (k, expected, value, o) => {
      writes.push({ key: k, options: o })
      return compareAndSet(k, expected, value, o)
    }
    const now = nowSeconds() * 1000
    const a = createAccessTokenVerifier(options({ dpop, store, now: () => now }))
    const b = createAccessTokenVerifier(options({ dpop, store, now: () => now }))
    const p = await proof({ token: bound, claims: { iat: now / 1000 } })
    await a(dpopRequest(bound, p))
    await refused(b(dpopRequest(bound, p)), 'invalid_dpop_proof', 'dpop proof has already been used')
    await b(dpopRequest(bound, await proof({ token: bound, claims: { iat: now / 1000 } })))
    assert.equal(writes.length, 3)
    assert.equal(writes[0]?.key, writes[1]?.key)
    assert.notEqual(writes[0]?.key, writes[2]?.key)
    assert.match(writes[0]?.key ?? '', /^dpop-jti:[A-Za-z0-9_-]{43}$/)
    assert.deepEqual(writes[0]?.options, { ttlSeconds: 61 })
    // late in the window: 1.5 s left, rounded up
    const late = createAccessTokenVerifier(options({ dpop: { iatWindowSeconds: 10 }, store, now: () => now + 9_500 }))
    await late(dpopRequest(bound, await proof({ token: bound, claims: { iat: now / 1000 } })))
    assert.deepEqual(writes[3]?.options, { ttlSeconds: 2 })

    const broken = new MemoryStore()
    broken.compareAndSet = () => Promise.reject(new Error('redis down'))
    const c = createAccessTokenVerifier(options({ dpop, store: broken }))
    await failed(c(dpopRequest(bound, await proof({ token: bound }))), 'store_unavailable', 'the shared dpop replay cache is unavailable: the proof could not be checked')
  })

  test('nonces: required, stale or not a string', async () => {
    const now = Date.now()
    const verify = createAccessTokenVerifier(options({ dpop: { nonce: { secret: 's'.repeat(32) } }, now: () => now }))
    const missing = await refused(verify(dpopRequest(bound, await proof({ token: bound }))), 'use_dpop_nonce', 'resource server requires a nonce in the dpop proof')
    const nonce = missing.dpopNonce ?? ''
    assert.equal(missing.challenge().headers['DPoP-Nonce'], nonce)
    for (const bad of ['stale', 7, `${nonce}x`]) {
      const err = await refused(verify(dpopRequest(bound, await proof({ token: bound, claims: { nonce: bad } }))), 'use_dpop_nonce', 'dpop proof nonce is stale or invalid')
      assert.equal(err.dpopNonce, nonce)
    }
    await verify(dpopRequest(bound, await proof({ token: bound, claims: { nonce } })))
  })

  test('a bound token: Bearer refused, DPoP off refused; an unbound token with DPoP refused', async () => {
    const asBearer = await refused(createAccessTokenVerifier(options({ dpop }))(bearer(bound)), 'invalid_token', 'dpop-bound access token presented as bearer')
    assert.equal(asBearer.scheme, 'Bearer')
    await refused(createAccessTokenVerifier(options())(bearer(bound)), 'invalid_token', 'dpop-bound access tokens are not accepted')
    const unbound = await token()
    const err = await refused(createAccessTokenVerifier(options({ dpop }))(dpopRequest(unbound, await proof({ token: unbound }))), 'invalid_token', 'access token is not dpop-bound')
    assert.equal(err.scheme, 'DPoP')
    const requiring = createAccessTokenVerifier(options({ dpop: { required: true } }))
    assert.deepEqual((await requiring(dpopRequest(bound, await proof({ token: bound })))).bound, { jkt })
    const required = await refused(requiring(bearer(unbound)), 'invalid_token', 'this resource requires dpop-bound access tokens')
    assert.equal(required.scheme, 'DPoP')
  })
})
