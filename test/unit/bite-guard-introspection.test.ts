// Issue 19: opaque access tokens judged by RFC 7662 introspection (src/guard/opaque-access-token.ts and
// introspection.ts), each rule on its own and each boundary from both sides, against a local introspection
// endpoint that records what it was sent. Imports src/ (the `resource-tokens` entry resolves to the built
// dist/, which StrykerJS does not mutate).
import assert from 'node:assert/strict'
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { after, before, describe, test } from 'node:test'

import { GuardError, createAccessTokenVerifier, type AccessTokenRequest, type VerifyAccessTokenOptions } from '../../src/index.js'
import { failed } from '../support/library-errors.js'

const AUDIENCE = 'https://api.example.com'
const CLIENT_ID = 'rs client-._~:1'
const CLIENT_SECRET = 'p@ss w:rd+&-._~'
// application/x-www-form-urlencoded (RFC 6749 appendix B) of each, then Basic: `-._` stay as they are, `~` is
// encoded as the WHATWG form encoding does.
const EXPECTED_BASIC = `Basic ${Buffer.from('rs+client-._%7E%3A1:p%40ss+w%3Ard%2B%26-._%7E').toString('base64')}`

interface Seen {
  path: string
  method: string
  authorization: string | undefined
  body: URLSearchParams
}

const issuer = {
  url: '',
  discovery: {} as Record<string, unknown>,
  /** token -> [status, body, extra headers] */
  answers: new Map<string, [number, unknown, (Record<string, string> | undefined)?]>(),
  seen: [] as Seen[],
}

const server = createServer((req: IncomingMessage, res: ServerResponse) => {
  const chunks: Buffer[] = []
  req.on('data', (chunk: Buffer) => chunks.push(chunk))
  req.on('end', () => {
    const send = (status: number, body: unknown, headers: Record<string, string> = {}): void => {
      res.writeHead(status, { 'content-type': 'application/json', ...headers })
      res.end(typeof body === 'string' ? body : JSON.stringify(body))
    }
    if (req.url === '/.well-known/openid-configuration') return send(200, { issuer: issuer.url, ...issuer.discovery })
    if (req.url === '/introspect' || req.url === '/other-introspect') {
      const body = new URLSearchParams(Buffer.concat(chunks).toString())
      issuer.seen.push({ path: req.url, method: req.method ?? '', authorization: req.headers.authorization, body })
      const [status, answer, headers] = issuer.answers.get(body.get('token') ?? '') ?? [200, { active: false }]
      return send(status, answer, headers)
    }
    send(404, {})
  })
})

before(async () => {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  server.unref()
  issuer.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  issuer.discovery = { introspection_endpoint: `${issuer.url}/introspect` }
})

after(async () => {
  server.closeAllConnections()
  await new Promise<void>((resolve) => server.close(() => resolve()))
})

// A whole second, so that `now / 1000` has no fraction and each boundary below is exact.
const T0 = Date.UTC(2026, 5, 1, 12, 0, 0)
const T0S = T0 / 1000

let counter = 0
/** A fresh opaque token whose introspection answers `answer` (status 200 unless given). */
function opaque(answer: unknown, status = 200, headers?: Record<string, string>): string {
  const token = `opaque-${++counter}-${Math.random().toString(36).slice(2)}`
  issuer.answers.set(token, [status, answer, headers])
  return token
}

const introspection = (extra: Record<string, unknown> = {}): NonNullable<VerifyAccessTokenOptions['introspection']> => ({ clientId: CLIENT_ID, clientSecret: CLIENT_SECRET, ...extra })
const options = (extra: Partial<VerifyAccessTokenOptions> = {}): VerifyAccessTokenOptions => ({ issuer: issuer.url, audience: AUDIENCE, now: () => T0, introspection: introspection(), ...extra })
const bearer = (token: string): AccessTokenRequest => ({ method: 'GET', url: `${AUDIENCE}/orders`, headers: { authorization: `Bearer ${token}` } })
const requestsFor = (token: string): Seen[] => issuer.seen.filter((s) => s.body.get('token') === token)

async function refused(promise: Promise<unknown>, description: string): Promise<void> {
  try {
    await promise
  } catch (err) {
    assert.ok(err instanceof GuardError, `expected a GuardError, got ${String(err)}`)
    assert.equal(err.code, 'invalid_token')
    assert.equal(err.description, description)
    return
  }
  assert.fail(`expected "${description}", but it was accepted`)
}

const ok = { active: true, aud: AUDIENCE, scope: 'orders:read' }

describe('the introspection answer, each rule on its own (default leeway 5 s)', () => {
  // Created on first use: the issuer's URL is known only once the server listens.
  let created: ReturnType<typeof createAccessTokenVerifier> | undefined
  const verify: ReturnType<typeof createAccessTokenVerifier> = (request) => {
    created ??= createAccessTokenVerifier(options({ introspection: introspection({ cacheSeconds: 0 }) }))
    return created(request)
  }

  test('an active answer for this audience is accepted and described', async () => {
    const verified = await verify(bearer(opaque({ ...ok, sub: 'user-9', client_id: 'c-9', iss: issuer.url })))
    assert.equal(verified.token, 'opaque')
    assert.equal(verified.subject, 'user-9')
    assert.equal(verified.clientId, 'c-9')
    assert.deepEqual(verified.scopes, ['orders:read'])
    assert.equal(verified.claims['active'], true)
  })

  test('active', async () => {
    await refused(verify(bearer(opaque({ ...ok, active: false }))), 'access token is not active')
  })

  test('exp: refused from exp = now - leeway, accepted one second later; a non-number is refused', async () => {
    await refused(verify(bearer(opaque({ ...ok, exp: T0S - 5 }))), 'access token expired')
    await verify(bearer(opaque({ ...ok, exp: T0S - 4 })))
    await refused(verify(bearer(opaque({ ...ok, exp: String(T0S + 600) }))), 'access token expired')
  })

  test('nbf: accepted up to now + leeway, refused one second later; a non-number is refused', async () => {
    await verify(bearer(opaque({ ...ok, nbf: T0S + 5 })))
    await refused(verify(bearer(opaque({ ...ok, nbf: T0S + 6 }))), 'access token is not yet valid')
    await refused(verify(bearer(opaque({ ...ok, nbf: String(T0S - 600) }))), 'access token is not yet valid')
  })

  test('leewaySeconds 0 moves both boundaries', async () => {
    const strict = createAccessTokenVerifier(options({ leewaySeconds: 0, introspection: introspection({ cacheSeconds: 0 }) }))
    await refused(strict(bearer(opaque({ ...ok, exp: T0S }))), 'access token expired')
    await strict(bearer(opaque({ ...ok, exp: T0S + 1 })))
    await strict(bearer(opaque({ ...ok, nbf: T0S })))
    await refused(strict(bearer(opaque({ ...ok, nbf: T0S + 1 }))), 'access token is not yet valid')
  })

  test('iss: absent or ours is accepted, another is refused', async () => {
    await verify(bearer(opaque({ ...ok, iss: issuer.url })))
    await refused(verify(bearer(opaque({ ...ok, iss: `${issuer.url}/other` }))), 'access token has an unexpected issuer')
  })

  test('aud: ours as a string or in an array; another string, an array without ours, or a non-string is refused', async () => {
    await verify(bearer(opaque({ ...ok, aud: AUDIENCE })))
    await verify(bearer(opaque({ ...ok, aud: ['https://other.example.com', AUDIENCE] })))
    for (const aud of ['https://other.example.com', ['https://other.example.com'], [], { [AUDIENCE]: true }, `${AUDIENCE}/`]) {
      await refused(verify(bearer(opaque({ ...ok, aud }))), 'access token is not intended for this resource')
    }
  })

  test('aud absent: refused by default, accepted with requireAudience false (which still checks a present aud)', async () => {
    const { aud: _aud, ...noAudience } = ok
    await refused(verify(bearer(opaque(noAudience))), 'introspected token names no audience')
    const lenient = createAccessTokenVerifier(options({ introspection: introspection({ cacheSeconds: 0, requireAudience: false }) }))
    await lenient(bearer(opaque(noAudience)))
    await refused(lenient(bearer(opaque({ ...ok, aud: 'https://other.example.com' }))), 'access token is not intended for this resource')
    const explicit = createAccessTokenVerifier(options({ introspection: introspection({ cacheSeconds: 0, requireAudience: true }) }))
    await refused(explicit(bearer(opaque(noAudience))), 'introspected token names no audience')
  })

  test('token_type: absent, bearer, DPoP, access_token in any case are access tokens; anything else is refused', async () => {
    for (const tokenType of [undefined, 'Bearer', 'bearer', 'DPoP', 'dpop', 'access_token', 'ACCESS_TOKEN']) {
      await verify(bearer(opaque({ ...ok, ...(tokenType === undefined ? {} : { token_type: tokenType }) })))
    }
    for (const tokenType of ['refresh_token', 'N_A', '', 1, null]) {
      await refused(verify(bearer(opaque({ ...ok, token_type: tokenType }))), 'introspected token is not an access token')
    }
  })
})

describe('the introspection request', () => {
  test('POST to the discovered endpoint with the token, token_type_hint and client_secret_basic, form-urlencoded first', async () => {
    const verify = createAccessTokenVerifier(options())
    const token = opaque(ok)
    await verify(bearer(token))
    const [seen] = requestsFor(token)
    assert.ok(seen)
    assert.equal(seen.path, '/introspect')
    assert.equal(seen.method, 'POST')
    assert.equal(seen.authorization, EXPECTED_BASIC)
    assert.deepEqual([...seen.body.keys()].sort(), ['token', 'token_type_hint'])
    assert.equal(seen.body.get('token_type_hint'), 'access_token')
  })

  test('a configured endpoint is used instead of the discovered one', async () => {
    const verify = createAccessTokenVerifier(options({ introspection: introspection({ endpoint: `${issuer.url}/other-introspect` }) }))
    const token = opaque(ok)
    await verify(bearer(token))
    assert.deepEqual(requestsFor(token).map((s) => s.path), ['/other-introspect'])
  })

  test('a discovery document without introspection_endpoint, and no endpoint configured: discovery_failed', async () => {
    issuer.discovery = {}
    try {
      const verify = createAccessTokenVerifier(options())
      await failed(verify(bearer(opaque(ok))), 'discovery_failed', `the discovery document of ${issuer.url} has no "introspection_endpoint"`)
    } finally {
      issuer.discovery = { introspection_endpoint: `${issuer.url}/introspect` }
    }
  })

  test('endpoint failures: introspection_failed with the status and OAuth error when there was an answer, the cause kept', async () => {
    const verify = createAccessTokenVerifier(options())
    const endpoint = `${issuer.url}/introspect`

    const bad = await failed(verify(bearer(opaque({ error: 'invalid_request' }, 400))), 'introspection_failed', `introspection endpoint ${endpoint} answered 400`)
    assert.equal(bad.status, 400)
    assert.equal(bad.error, 'invalid_request')
    assert.ok(bad.cause instanceof Error)

    // oauth4webapi reads an OAuth error body on 4xx answers only: a 503 has its status, no error.
    const down = await failed(verify(bearer(opaque({ error: 'temporarily_unavailable' }, 503))), 'introspection_failed', `introspection endpoint ${endpoint} answered 503`)
    assert.equal(down.status, 503)
    assert.equal(down.error, undefined)

    const challenged = await failed(
      verify(bearer(opaque({}, 401, { 'www-authenticate': 'Basic realm="rs", error="invalid_client"' }))),
      'introspection_failed',
      `introspection endpoint ${endpoint} answered 401`,
    )
    assert.equal(challenged.status, 401)
    assert.equal(challenged.error, 'invalid_client')

    const plain = await failed(verify(bearer(opaque('not json', 500))), 'introspection_failed', `introspection endpoint ${endpoint} answered 500`)
    assert.equal(plain.status, 500)
    assert.equal(plain.error, undefined)

    const garbage = await failed(verify(bearer(opaque({ active: 'yes' }))), 'introspection_failed', `introspection endpoint ${endpoint} gave no usable answer`)
    assert.equal(garbage.status, undefined)
    assert.equal(garbage.error, undefined)
    assert.ok(garbage.cause instanceof Error)
  })

  test('an unreachable endpoint: introspection_failed, no usable answer', async () => {
    const closed = createServer()
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve))
    const endpoint = `http://127.0.0.1:${(closed.address() as AddressInfo).port}/introspect`
    await new Promise<void>((resolve) => closed.close(() => resolve()))
    const verify = createAccessTokenVerifier(options({ introspection: introspection({ endpoint }) }))
    const err = await failed(verify(bearer(opaque(ok))), 'introspection_failed', `introspection endpoint ${endpoint} gave no usable answer`)
    assert.equal(err.status, undefined)
  })
})

describe('the introspection cache', () => {
  test('an answer is reused for cacheSeconds (default 30), then asked again', async () => {
    let now = T0
    const verify = createAccessTokenVerifier(options({ now: () => now }))
    const token = opaque(ok)
    await verify(bearer(token))
    now = T0 + 29_999
    await verify(bearer(token))
    assert.equal(requestsFor(token).length, 1)
    now = T0 + 30_000
    await verify(bearer(token))
    assert.equal(requestsFor(token).length, 2)
  })

  test('cacheSeconds 0 asks every time; another value sets the lifetime', async () => {
    const never = createAccessTokenVerifier(options({ introspection: introspection({ cacheSeconds: 0 }) }))
    const token = opaque(ok)
    await never(bearer(token))
    await never(bearer(token))
    assert.equal(requestsFor(token).length, 2)

    let now = T0
    const short = createAccessTokenVerifier(options({ now: () => now, introspection: introspection({ cacheSeconds: 2 }) }))
    const other = opaque(ok)
    await short(bearer(other))
    now = T0 + 1_999
    await short(bearer(other))
    assert.equal(requestsFor(other).length, 1)
    now = T0 + 2_000
    await short(bearer(other))
    assert.equal(requestsFor(other).length, 2)
  })

  test('an active answer is never reused past its own exp; an inactive one for the full cache time', async () => {
    let now = T0
    const verify = createAccessTokenVerifier(options({ now: () => now }))
    const token = opaque({ ...ok, exp: T0S + 10 })
    await verify(bearer(token))
    now = T0 + 9_999
    await verify(bearer(token))
    assert.equal(requestsFor(token).length, 1)
    now = T0 + 10_000 // still within the leeway, so accepted: the second answer comes from the endpoint
    await verify(bearer(token))
    assert.equal(requestsFor(token).length, 2)

    now = T0
    const inactive = opaque({ active: false, exp: T0S - 60 })
    await refused(verify(bearer(inactive)), 'access token is not active')
    now = T0 + 29_000
    await refused(verify(bearer(inactive)), 'access token is not active')
    assert.equal(requestsFor(inactive).length, 1, 'an inactive answer is cached whatever its exp')
  })

  test('answers are per token; concurrent verifications of one token share one request, and a later miss asks again', async () => {
    const verify = createAccessTokenVerifier(options({ introspection: introspection({ cacheSeconds: 0 }) }))
    const a = opaque({ ...ok, sub: 'a' })
    const b = opaque({ ...ok, sub: 'b' })
    const results = await Promise.all([verify(bearer(a)), verify(bearer(a)), verify(bearer(b)), verify(bearer(a))])
    assert.deepEqual(results.map((r) => r.subject), ['a', 'a', 'b', 'a'])
    assert.equal(requestsFor(a).length, 1)
    assert.equal(requestsFor(b).length, 1)
    await verify(bearer(a))
    assert.equal(requestsFor(a).length, 2, 'the finished request is no longer shared')
  })

  test('a failed introspection is not cached: the next verification asks again', async () => {
    const verify = createAccessTokenVerifier(options())
    const token = opaque({ error: 'temporarily_unavailable' }, 503)
    await assert.rejects(verify(bearer(token)), { code: 'introspection_failed' })
    issuer.answers.set(token, [200, ok])
    assert.deepEqual((await verify(bearer(token))).scopes, ['orders:read'])
    assert.equal(requestsFor(token).length, 2)
  })
})
