// Issue 19: the guard's telemetry and its DPoP nonce hand-out, against src/ (the `resource-tokens` entry
// resolves to the built dist/, which StrykerJS does not mutate). These are the guard mutants only a span, a
// metric or `currentDpopNonce` can show (docs/MUTATION.md): a real OpenTelemetry SDK with in-memory
// exporters and a local issuer serving a JWKS.
import assert from 'node:assert/strict'
import { createHash, randomUUID } from 'node:crypto'
import { after, before, test } from 'node:test'

import { SignJWT, calculateJwkThumbprint, exportJWK, generateKeyPair, type CryptoKey, type JWK } from 'jose'

import { GuardError, createAccessTokenVerifier, type AccessTokenRequest, type VerifyAccessTokenOptions } from '../../src/index.js'
import { createVerifierInternals } from '../../src/guard/verify-access-token.js'
import { startTestTelemetry } from '../support/telemetry.js'
import { startLocalIssuer, type LocalIssuer } from '../support/local-issuer.js'

const AUDIENCE = 'https://api.example.com'
const API_URL = 'https://api.example.com/orders'
const NONCE_SECRET = 'a nonce secret of at least thirty-two bytes!'

let issuerUrl = ''
let issuer: LocalIssuer

let signing: { privateKey: CryptoKey; kid: string }
let dpop: { privateKey: CryptoKey; jwk: JWK }
let jkt = ''

before(async () => {
  const issuerKey = await generateKeyPair('ES256', { extractable: true })
  signing = { privateKey: issuerKey.privateKey, kid: 'issuer' }
  issuer = await startLocalIssuer()
  issuerUrl = issuer.url
  issuer.jwks = [{ ...(await exportJWK(issuerKey.publicKey)), kid: 'issuer', alg: 'ES256' }]
  const dpopKey = await generateKeyPair('ES256', { extractable: true })
  dpop = { privateKey: dpopKey.privateKey, jwk: await exportJWK(dpopKey.publicKey) }
  jkt = await calculateJwkThumbprint(dpop.jwk)
})

after(() => issuer.close())

const nowSeconds = (): number => Math.floor(Date.now() / 1000)

function accessToken(claims: Record<string, unknown> = {}): Promise<string> {
  const now = nowSeconds()
  return new SignJWT({ iss: issuerUrl, aud: AUDIENCE, sub: 'user-1', scope: 'orders:read', iat: now, exp: now + 300, ...claims })
    .setProtectedHeader({ alg: 'ES256', typ: 'at+jwt', kid: signing.kid })
    .sign(signing.privateKey)
}

function proof(token: string, claims: Record<string, unknown> = {}): Promise<string> {
  const ath = createHash('sha256').update(token).digest('base64url')
  return new SignJWT({ htm: 'GET', htu: API_URL, jti: randomUUID(), iat: nowSeconds(), ath, ...claims })
    .setProtectedHeader({ alg: 'ES256', typ: 'dpop+jwt', jwk: dpop.jwk })
    .sign(dpop.privateKey)
}

const options = (extra: Partial<VerifyAccessTokenOptions> = {}): VerifyAccessTokenOptions => ({ issuer: issuerUrl, audience: AUDIENCE, ...extra })
const request = (authorization: string, dpopProof?: string): AccessTokenRequest => ({
  method: 'GET',
  url: API_URL,
  headers: dpopProof === undefined ? { authorization } : { authorization, dpop: dpopProof },
})

test('each verification is one span named resource_tokens.guard.verify, tagged with the scheme and the method, counted and timed', async () => {
  const sdk = startTestTelemetry()
  try {
    const verify = createAccessTokenVerifier(options({ dpop: {}, tracerProvider: sdk.tracerProvider, meterProvider: sdk.meterProvider }))
    await verify(request(`Bearer ${await accessToken()}`))
    const bound = await accessToken({ cnf: { jkt } })
    await verify(request(`DPoP ${bound}`, await proof(bound)))
    // An opaque token (not three dot-separated parts) goes to introspection, which is not configured here.
    await assert.rejects(verify(request('Bearer opaque-access-token')), (err: unknown) => err instanceof GuardError && err.description === 'opaque access tokens are not accepted')
    await assert.rejects(verify(request('DPoP opaque-access-token')), (err: unknown) => err instanceof GuardError && err.code === 'invalid_token')

    const spans = sdk.spansNamed('resource_tokens.guard.verify')
    assert.deepEqual(
      spans.map((s) => [s.attributes['resource_tokens.guard.scheme'], s.attributes['resource_tokens.guard.method'], s.attributes['resource_tokens.outcome']]),
      [
        ['Bearer', 'jwt', 'ok'],
        ['DPoP', 'jwt', 'ok'],
        ['Bearer', 'introspection', 'invalid_token'],
        ['DPoP', 'introspection', 'invalid_token'],
      ],
    )
    assert.equal(sdk.spans().length, 4, 'no other span')
    assert.equal(await sdk.counter('resource_tokens.guard.verifications'), 4)
    assert.equal(await sdk.counter('resource_tokens.guard.verifications', { 'resource_tokens.guard.scheme': 'DPoP', 'resource_tokens.outcome': 'ok' }), 1)
    assert.equal((await sdk.histogram('resource_tokens.guard.verification.duration')).count, 4)
  } finally {
    await sdk.shutdown()
  }
})

test('telemetry turned off: no span and no metric, the verification itself unchanged', async () => {
  const sdk = startTestTelemetry()
  try {
    const verify = createAccessTokenVerifier(options({ telemetry: { enabled: false }, tracerProvider: sdk.tracerProvider, meterProvider: sdk.meterProvider }))
    assert.equal((await verify(request(`Bearer ${await accessToken()}`))).subject, 'user-1')
    await assert.rejects(verify(request('Bearer opaque-access-token')), GuardError)
    assert.equal(sdk.spans().length, 0)
    assert.equal(await sdk.counter('resource_tokens.guard.verifications'), 0)
  } finally {
    await sdk.shutdown()
  }
})

test('currentDpopNonce: the nonce the verifier accepts now when nonces are on, undefined otherwise', async () => {
  let now = Date.UTC(2026, 0, 1, 12, 0, 0)
  const internals = createVerifierInternals(options({ dpop: { nonce: { secret: NONCE_SECRET, windowSeconds: 60 } }, now: () => now }))
  const nonce = internals.currentDpopNonce()
  assert.equal(typeof nonce, 'string')
  assert.ok((nonce ?? '').length >= 32, 'an HMAC, not a placeholder')
  assert.equal(internals.currentDpopNonce(), nonce, 'stable within its window')

  // The one handed out is the one asked for in a use_dpop_nonce refusal, and the one accepted.
  const bound = await accessToken({ cnf: { jkt }, iat: Math.floor(now / 1000), exp: Math.floor(now / 1000) + 300 })
  const refusal = await internals.verify(request(`DPoP ${bound}`, await proof(bound, { iat: Math.floor(now / 1000) }))).then(
    () => assert.fail('a proof without a nonce was accepted'),
    (err: unknown) => err,
  )
  assert.ok(refusal instanceof GuardError)
  assert.equal(refusal.code, 'use_dpop_nonce')
  assert.equal(refusal.dpopNonce, nonce)
  const verified = await internals.verify(request(`DPoP ${bound}`, await proof(bound, { iat: Math.floor(now / 1000), nonce })))
  assert.deepEqual(verified.bound, { jkt })

  // It follows the injected clock: two windows later it is a different value.
  now += 120_000
  assert.notEqual(internals.currentDpopNonce(), nonce)

  // DPoP without nonces, and no DPoP at all: nothing to advertise, and no crash.
  assert.equal(createVerifierInternals(options({ dpop: {} })).currentDpopNonce(), undefined)
  assert.equal(createVerifierInternals(options()).currentDpopNonce(), undefined)
})
