// @ts-nocheck
// Pure rules of issue 13 (interop, second round): scope and audience evidence read from JWT access tokens,
// the dead-refresh-token rule, and how a revocation endpoint's answer is judged.
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { CompactEncrypt, SignJWT, generateKeyPair } from 'jose'

import { DeadRefreshTokens, maySayDead } from '../../src/grants/dead-refresh-token.js'
import { RevocationCapture } from '../../src/protocol/revocation-capture.js'
import { judgeRevocation } from '../../src/protocol/revocation-outcome.js'
import { readAccessTokenClaims, tokenEvidence } from '../../src/tokens/token-evidence.js'

const SECRET = new TextEncoder().encode('a-hmac-key-for-unit-tests-only-0123456789')
const CONTACTS = 'https://contacts.example.test/api'
const CALENDAR = 'https://calendar.example.test/'

async function jwt(claims: Record<string, unknown>, typ?: string): Promise<string> {
  return new SignJWT(claims).setProtectedHeader({ alg: 'HS256', ...(typ === undefined ? {} : { typ }) }).setIssuedAt().sign(SECRET)
}

describe('reading an access token (decoded, never verified)', () => {
  test('RFC 9068 at+jwt: scope and aud', async () => {
    const claims = readAccessTokenClaims(await jwt({ scope: 'contacts:read contacts:write', aud: CONTACTS }, 'at+jwt'))
    assert.deepEqual(claims, { format: 'jwt', rfc9068: true, scope: new Set(['contacts:read', 'contacts:write']), audience: [CONTACTS] })
  })

  test('application/at+jwt is RFC 9068 too; a list aud stays a list', async () => {
    const claims = readAccessTokenClaims(await jwt({ aud: [CONTACTS, CALENDAR] }, 'application/at+jwt'))
    assert.equal(claims.format, 'jwt')
    assert.ok(claims.format === 'jwt' && claims.rfc9068)
    assert.ok(claims.format === 'jwt' && claims.scope === undefined)
    assert.deepEqual(claims.format === 'jwt' && claims.audience, [CONTACTS, CALENDAR])
  })

  test('a plain JWS with scp (string or list) is evidence; scope wins over scp', async () => {
    const list = readAccessTokenClaims(await jwt({ scp: ['a', 'b'] }))
    assert.deepEqual(list.format === 'jwt' && list.scope, new Set(['a', 'b']))
    const text = readAccessTokenClaims(await jwt({ scp: 'a b' }, 'JWT'))
    assert.deepEqual(text.format === 'jwt' && text.scope, new Set(['a', 'b']))
    const both = readAccessTokenClaims(await jwt({ scope: 'x', scp: 'a b' }))
    assert.deepEqual(both.format === 'jwt' && both.scope, new Set(['x']))
  })

  test('opaque: random strings, JWE, and a JWS that says nothing about scope or audience', async () => {
    assert.deepEqual(readAccessTokenClaims('2YotnFZFEjr1zCsicMWpAA'), { format: 'opaque' })
    assert.deepEqual(readAccessTokenClaims('a.b.c'), { format: 'opaque' })
    assert.deepEqual(readAccessTokenClaims(''), { format: 'opaque' })
    const { publicKey } = await generateKeyPair('RSA-OAEP-256')
    const jwe = await new CompactEncrypt(new TextEncoder().encode(JSON.stringify({ scope: 'a', aud: 'b' }))).setProtectedHeader({ alg: 'RSA-OAEP-256', enc: 'A256GCM' }).encrypt(publicKey)
    assert.deepEqual(readAccessTokenClaims(jwe), { format: 'opaque' })
    assert.deepEqual(readAccessTokenClaims(await jwt({ sub: 'alice' })), { format: 'opaque' })
  })

  test('claims of the wrong type are not evidence', async () => {
    const claims = readAccessTokenClaims(await jwt({ scope: 42, aud: [CONTACTS, 7] }, 'at+jwt'))
    assert.deepEqual(claims, { format: 'jwt', rfc9068: true, scope: undefined, audience: undefined })
  })
})

describe('token evidence: what was granted compared with what was asked', () => {
  test('the issue-13 provider: scope omitted from the response, the JWT says the full scope -> broader, basis token', async () => {
    const token = await jwt({ scope: 'contacts:read contacts:write', aud: CONTACTS }, 'at+jwt')
    const evidence = tokenEvidence({ scope: 'contacts:read', resource: CONTACTS }, undefined, token)
    assert.equal(evidence.format, 'jwt')
    assert.equal(evidence.scope.basis, 'token')
    assert.equal(evidence.scope.granted, 'contacts:read contacts:write')
    assert.deepEqual(evidence.scope.broader, ['contacts:write'])
    assert.deepEqual(evidence.scope.narrower, [])
    assert.equal(evidence.broader, true)
    assert.deepEqual(evidence.audience, { basis: 'token', audience: [CONTACTS], missing: false, extra: [] })
  })

  test('response and token agree with the request: nothing broader, basis response+token', async () => {
    const token = await jwt({ scope: 'contacts:read', aud: CONTACTS }, 'at+jwt')
    const evidence = tokenEvidence({ scope: 'contacts:read', resource: CONTACTS }, 'contacts:read', token)
    assert.equal(evidence.scope.basis, 'response+token')
    assert.equal(evidence.broader, false)
    assert.deepEqual(evidence.scope.broader, [])
  })

  test('the response field understates what the token carries: the token is believed', async () => {
    const token = await jwt({ scope: 'contacts:read contacts:write', aud: CONTACTS }, 'at+jwt')
    const evidence = tokenEvidence({ scope: 'contacts:read', resource: CONTACTS }, 'contacts:read', token)
    assert.deepEqual(evidence.scope.broader, ['contacts:write'])
    assert.equal(evidence.scope.granted, 'contacts:read contacts:write')
  })

  test('the response field says broader while the token does not: still broader (either evidence counts)', async () => {
    const token = await jwt({ scope: 'contacts:read', aud: CONTACTS }, 'at+jwt')
    const evidence = tokenEvidence({ scope: 'contacts:read', resource: CONTACTS }, 'contacts:read calendar:read', token)
    assert.deepEqual(evidence.scope.broader, ['calendar:read'])
    assert.equal(evidence.broader, true)
  })

  test('opaque token with scope omitted: cannot tell (basis none), taken as asked', () => {
    const evidence = tokenEvidence({ scope: 'contacts:read', resource: CONTACTS }, undefined, 'opaque-token-value')
    assert.equal(evidence.format, 'opaque')
    assert.equal(evidence.scope.basis, 'none')
    assert.equal(evidence.scope.granted, 'contacts:read')
    assert.equal(evidence.broader, false)
    assert.deepEqual(evidence.audience, { basis: 'none' })
  })

  test('opaque token with a scope field: basis response, narrower reported', () => {
    const evidence = tokenEvidence({ scope: 'contacts:read contacts:write' }, 'contacts:read', 'opaque-token-value')
    assert.equal(evidence.scope.basis, 'response')
    assert.deepEqual(evidence.scope.narrower, ['contacts:write'])
    assert.equal(evidence.broader, false)
  })

  test('audience: another resource, several resources, none at all are broader; no indicator asked: not compared', async () => {
    const other = tokenEvidence({ scope: 'calendar:read', resource: CALENDAR }, 'calendar:read', await jwt({ scope: 'calendar:read', aud: CONTACTS }, 'at+jwt'))
    assert.deepEqual(other.audience, { basis: 'token', audience: [CONTACTS], missing: true, extra: [CONTACTS] })
    assert.equal(other.broader, true)
    const both = tokenEvidence({ scope: 'calendar:read', resource: CALENDAR }, 'calendar:read', await jwt({ scope: 'calendar:read', aud: [CALENDAR, CONTACTS] }, 'at+jwt'))
    assert.equal(both.audience.basis === 'token' && both.audience.missing, false)
    assert.deepEqual(both.audience.basis === 'token' && both.audience.extra, [CONTACTS])
    assert.equal(both.broader, true)
    const none = tokenEvidence({ scope: 'calendar:read', resource: CALENDAR }, undefined, await jwt({ scope: 'calendar:read' }, 'at+jwt'))
    assert.deepEqual(none.audience, { basis: 'token', audience: [], missing: true, extra: [] })
    assert.equal(none.broader, true)
    const scopeOnly = tokenEvidence({ scope: 'calendar:read' }, undefined, await jwt({ scope: 'calendar:read', aud: 'anything' }, 'at+jwt'))
    assert.deepEqual(scopeOnly.audience, { basis: 'none' })
    assert.equal(scopeOnly.broader, false)
  })
})

describe('dead refresh tokens not reported as invalid_grant', () => {
  const TOKEN = 'refresh-token-value-1'
  const invalidRequest = { status: 400, error: 'invalid_request' }

  test('which failures may say the token is dead', () => {
    assert.equal(maySayDead(invalidRequest), true)
    assert.equal(maySayDead({ status: 400, error: 'access_denied' }), true)
    assert.equal(maySayDead({ status: 401, error: 'invalid_token' }), true)
    // the client's configuration or the request, never the token
    for (const error of ['invalid_client', 'unauthorized_client', 'unsupported_grant_type', 'invalid_scope', 'invalid_target', 'invalid_dpop_proof', 'use_dpop_nonce', 'temporarily_unavailable', 'server_error', 'slow_down']) {
      assert.equal(maySayDead({ status: 400, error }), false, error)
    }
    // invalid_grant has its own, immediate rule
    assert.equal(maySayDead({ status: 400, error: 'invalid_grant' }), false)
    // transient: 5xx, 408, 429, network (no status)
    for (const status of [500, 502, 503, 504, 408, 429]) assert.equal(maySayDead({ status, error: 'invalid_request' }), false, String(status))
    assert.equal(maySayDead({ status: undefined, error: undefined }), false)
    // not an OAuth error response (an empty or HTML 4xx may be a proxy's)
    assert.equal(maySayDead({ status: 400, error: undefined }), false)
    assert.equal(maySayDead({ status: 403, error: '' }), false)
  })

  test('the same error twice for the same refresh token: dead; once: kept', () => {
    const rule = new DeadRefreshTokens()
    assert.equal(rule.failed('g1', TOKEN, invalidRequest), 'keep')
    assert.equal(rule.failed('g1', TOKEN, invalidRequest), 'dead')
    // the verdict consumed the memory: a new grant under the same id starts from nothing
    assert.equal(rule.size, 0)
    assert.equal(rule.failed('g1', TOKEN, invalidRequest), 'keep')
  })

  test('transient failures in between neither count nor reset', () => {
    const rule = new DeadRefreshTokens()
    assert.equal(rule.failed('g1', TOKEN, invalidRequest), 'keep')
    for (let i = 0; i < 5; i++) assert.equal(rule.failed('g1', TOKEN, { status: 503, error: undefined }), 'keep')
    assert.equal(rule.failed('g1', TOKEN, { status: undefined, error: undefined }), 'keep')
    assert.equal(rule.failed('g1', TOKEN, invalidRequest), 'dead')
  })

  test('transient failures alone, however many, never make a grant dead', () => {
    const rule = new DeadRefreshTokens()
    for (let i = 0; i < 50; i++) {
      assert.equal(rule.failed('g1', TOKEN, { status: 500 + (i % 5), error: 'server_error' }), 'keep')
      assert.equal(rule.failed('g1', TOKEN, { status: 429, error: 'invalid_request' }), 'keep')
      assert.equal(rule.failed('g1', TOKEN, { status: 400, error: 'invalid_client' }), 'keep')
    }
    assert.equal(rule.size, 0)
  })

  test('another refresh token (rotated meanwhile), another error, another grant, or a success: the count starts again', () => {
    const rule = new DeadRefreshTokens()
    rule.failed('g1', TOKEN, invalidRequest)
    assert.equal(rule.failed('g1', 'rotated-refresh-token', invalidRequest), 'keep')
    assert.equal(rule.failed('g1', 'rotated-refresh-token', { status: 400, error: 'access_denied' }), 'keep')
    assert.equal(rule.failed('g2', 'rotated-refresh-token', { status: 400, error: 'access_denied' }), 'keep')
    rule.forget('g1')
    assert.equal(rule.failed('g1', 'rotated-refresh-token', { status: 400, error: 'access_denied' }), 'keep')
    assert.equal(rule.failed('g1', 'rotated-refresh-token', { status: 400, error: 'access_denied' }), 'dead')
  })

  test('a first failure is forgotten after ttlMs; memory is bounded (forgetting only delays the verdict)', () => {
    let now = 0
    const rule = new DeadRefreshTokens({ ttlMs: 1000, maxEntries: 3, now: () => now })
    rule.failed('g1', TOKEN, invalidRequest)
    now = 1000
    assert.equal(rule.failed('g1', TOKEN, invalidRequest), 'keep', 'the first strike expired')
    assert.equal(rule.failed('g1', TOKEN, invalidRequest), 'dead')
    for (let i = 0; i < 100; i++) rule.failed(`grant-${i}`, TOKEN, invalidRequest)
    assert.equal(rule.size, 3)
    assert.equal(rule.failed('grant-0', TOKEN, invalidRequest), 'keep', 'evicted: one more attempt needed')
    assert.equal(rule.failed('grant-99', TOKEN, invalidRequest), 'dead')
  })

  test('bad options are refused', () => {
    assert.throws(() => new DeadRefreshTokens({ maxEntries: 0 }), RangeError)
    assert.throws(() => new DeadRefreshTokens({ ttlMs: 0 }), RangeError)
  })
})

describe('revocation outcome (RFC 7009)', () => {
  test('200 empty or JSON: revoked', () => {
    assert.deepEqual(judgeRevocation({ status: 200, contentType: null, body: '' }), { outcome: 'revoked' })
    assert.deepEqual(judgeRevocation({ status: 200, contentType: 'text/html', body: '  \n' }), { outcome: 'revoked' })
    assert.deepEqual(judgeRevocation({ status: 200, contentType: 'application/json; charset=utf-8', body: '{}' }), { outcome: 'revoked' })
    assert.deepEqual(judgeRevocation({ status: 200, contentType: null, body: '{"revoked":true}' }), { outcome: 'revoked' })
    assert.deepEqual(judgeRevocation({ status: 204, contentType: null, body: '' }), { outcome: 'revoked' })
  })

  test('200 with an HTML page (or other non-JSON) is not success', () => {
    const html = judgeRevocation({ status: 200, contentType: 'text/html; charset=utf-8', body: '<!DOCTYPE html><html><body>Welcome</body></html>' })
    assert.equal(html.outcome, 'failed')
    assert.match(html.reason ?? '', /text\/html/)
    assert.doesNotMatch(html.reason ?? '', /Welcome/, 'the body is never quoted')
    assert.equal(judgeRevocation({ status: 200, contentType: null, body: '<html></html>' }).outcome, 'failed')
    assert.equal(judgeRevocation({ status: 200, contentType: 'text/plain', body: 'OK' }).outcome, 'failed')
    // declared HTML is not JSON even if it parses
    assert.equal(judgeRevocation({ status: 200, contentType: 'text/html', body: '{}' }).outcome, 'failed')
  })

  test('200 with a JSON error is not success; the error is reported only when it is a clean token', () => {
    assert.deepEqual(judgeRevocation({ status: 200, contentType: 'application/json', body: '{"error":"invalid_client"}' }), { outcome: 'failed', reason: 'HTTP 200 with error invalid_client' })
    const forged = judgeRevocation({ status: 200, contentType: 'application/json', body: '{"error":"x\\nlevel=error forged"}' })
    assert.equal(forged.outcome, 'failed')
    assert.doesNotMatch(forged.reason ?? '', /forged/)
  })

  test('unsupported_token_type: unsupported; other errors and statuses: failed', () => {
    assert.deepEqual(judgeRevocation({ status: 400, contentType: 'application/json', body: '{"error":"unsupported_token_type"}' }), { outcome: 'unsupported', reason: 'unsupported_token_type' })
    assert.deepEqual(judgeRevocation({ status: 401, contentType: 'application/json', body: '{"error":"invalid_client"}' }), { outcome: 'failed', reason: 'HTTP 401 invalid_client' })
    assert.deepEqual(judgeRevocation({ status: 503, contentType: 'text/html', body: '<h1>down</h1>' }), { outcome: 'failed', reason: 'HTTP 503' })
    assert.deepEqual(judgeRevocation({ status: 302, contentType: 'text/html', body: '' }), { outcome: 'failed', reason: 'HTTP 302' })
  })
})

describe('revocation capture (the answer openid-client does not show)', () => {
  // A fetch that answers by URL, standing in for the network: the unit under test is the capture around it.
  const answers: Record<string, () => Response> = {
    '/html': () => new Response('<html><body>Sign in</body></html>', { status: 200, headers: { 'content-type': 'text/html' } }),
    '/empty': () => new Response(null, { status: 200 }),
    '/unsupported': () => Response.json({ error: 'unsupported_token_type' }, { status: 400 }),
    '/huge': () => new Response('<p>' + 'x'.repeat(1024 * 1024), { status: 200, headers: { 'content-type': 'text/html' } }),
  }
  const capture = new RevocationCapture()
  const fetchImpl = capture.wrap(async (url) => {
    await new Promise((resolve) => setTimeout(resolve, Math.random() * 5))
    return (answers[url] ?? (() => new Response('', { status: 404 })))()
  })
  const revoke = (url: string) => async () => {
    const res = await fetchImpl(url, {})
    await res.text()
    if (res.status !== 200) throw new Error(`HTTP ${res.status}`)
  }

  test('each concurrent revocation is judged by its own answer', async () => {
    const urls = ['/html', '/empty', '/unsupported', '/huge', '/empty', '/html']
    const verdicts = await Promise.all(urls.map((url) => capture.judge(revoke(url))))
    assert.deepEqual(verdicts.map((v) => v.outcome), ['failed', 'revoked', 'unsupported', 'failed', 'revoked', 'failed'])
  })

  test('no answer at all (network failure) is failed; fetches outside judge are not captured', async () => {
    const verdict = await capture.judge(async () => {
      throw new TypeError('fetch failed')
    })
    assert.equal(verdict.outcome, 'failed')
    assert.equal(verdict.reason, 'no answer')
    assert.equal((await fetchImpl('/empty', {})).status, 200)
  })
})
