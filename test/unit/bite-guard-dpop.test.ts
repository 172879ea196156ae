// Issue 19: DPoP proof checks (src/guard/dpop-proof.ts) that StrykerJS showed no test pinned down
// (docs/MUTATION.md): proofs jose would accept but this guard must refuse (non-canonical encodings, an `htu`
// that only stringifies to the URL, a `null` jwk), the replay cache shared by resource servers of different
// audiences, and the cause of a store failure. Imports src/ (the `resource-tokens` entry resolves to the
// built dist/, which StrykerJS does not mutate).
import assert from 'node:assert/strict'
import { KeyObject, createHash, randomUUID, sign } from 'node:crypto'
import { after, before, describe, test } from 'node:test'

import { SignJWT, base64url, calculateJwkThumbprint, exportJWK, generateKeyPair, type CryptoKey, type JWK } from 'jose'

import { GuardError, MemoryStore, ResourceTokensError, createAccessTokenVerifier, type AccessTokenRequest, type VerifyAccessTokenOptions } from '../../src/index.js'
import { startLocalIssuer, type LocalIssuer } from '../support/local-issuer.js'

const AUDIENCE = 'https://api.example.com'
const OTHER_AUDIENCE = 'https://reports.example.com'
const API_URL = 'https://api.example.com/orders'

let issuerUrl = ''
let issuer: LocalIssuer

let issuerKey: CryptoKey
let dpopKey: CryptoKey
let dpopJwk: JWK
let jkt = ''

before(async () => {
  const issuerKeys = await generateKeyPair('ES256', { extractable: true })
  issuerKey = issuerKeys.privateKey
  issuer = await startLocalIssuer()
  issuerUrl = issuer.url
  issuer.jwks = [{ ...(await exportJWK(issuerKeys.publicKey)), kid: 'issuer', alg: 'ES256' }]
  const dpop = await generateKeyPair('ES256', { extractable: true })
  dpopKey = dpop.privateKey
  dpopJwk = await exportJWK(dpop.publicKey)
  jkt = await calculateJwkThumbprint(dpopJwk)
})

after(() => issuer.close())

const nowSeconds = (): number => Math.floor(Date.now() / 1000)

function boundToken(aud: string | string[] = AUDIENCE): Promise<string> {
  const now = nowSeconds()
  return new SignJWT({ iss: issuerUrl, aud, sub: 'user-1', scope: 'orders:read', iat: now, exp: now + 300, cnf: { jkt } })
    .setProtectedHeader({ alg: 'ES256', typ: 'at+jwt', kid: 'issuer' })
    .sign(issuerKey)
}

function claims(token: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { htm: 'GET', htu: API_URL, jti: randomUUID(), iat: nowSeconds(), ath: createHash('sha256').update(token).digest('base64url'), ...extra }
}

function proof(token: string, extra: Record<string, unknown> = {}, header: Record<string, unknown> = {}): Promise<string> {
  return new SignJWT(claims(token, extra)).setProtectedHeader({ alg: 'ES256', typ: 'dpop+jwt', jwk: dpopJwk, ...header }).sign(dpopKey)
}

/** A proof whose protected header segment is `encodedHeader` as given (signed over exactly that text). */
function proofWithHeaderSegment(token: string, encodedHeader: (canonical: string) => string): string {
  const canonical = base64url.encode(JSON.stringify({ alg: 'ES256', typ: 'dpop+jwt', jwk: dpopJwk }))
  const header = encodedHeader(canonical)
  const payload = base64url.encode(JSON.stringify(claims(token)))
  const signature = sign('sha256', Buffer.from(`${header}.${payload}`), { key: KeyObject.from(dpopKey), dsaEncoding: 'ieee-p1363' })
  return `${header}.${payload}.${signature.toString('base64url')}`
}

const options = (extra: Partial<VerifyAccessTokenOptions> = {}): VerifyAccessTokenOptions => ({ issuer: issuerUrl, audience: AUDIENCE, dpop: {}, ...extra })
const request = (token: string, dpop: string): AccessTokenRequest => ({ method: 'GET', url: API_URL, headers: { authorization: `DPoP ${token}`, dpop } })

async function refusedProof(promise: Promise<unknown>, description: string): Promise<GuardError> {
  try {
    await promise
  } catch (err) {
    assert.ok(err instanceof GuardError, `expected a GuardError, got ${String(err)}`)
    assert.equal(err.code, 'invalid_dpop_proof', err.description)
    assert.equal(err.description, description)
    assert.equal(err.scheme, 'DPoP')
    return err
  }
  assert.fail(`expected "${description}", but the proof was accepted`)
}

describe('proofs jose would accept, refused by the guard', () => {
  test('the canonical proof is accepted (the baseline of the cases below)', async () => {
    const verify = createAccessTokenVerifier(options())
    const token = await boundToken()
    assert.deepEqual((await verify(request(token, await proof(token)))).bound, { jkt })
    assert.deepEqual((await verify(request(token, proofWithHeaderSegment(token, (h) => h)))).bound, { jkt })
  })

  test('a padded signature segment or whitespace inside a segment is a malformed proof (jose decodes both with atob)', async () => {
    const verify = createAccessTokenVerifier(options())
    const token = await boundToken()
    await refusedProof(verify(request(token, `${await proof(token)}==`)), 'malformed dpop proof')
    await refusedProof(verify(request(token, proofWithHeaderSegment(token, (h) => `${h.slice(0, 4)} ${h.slice(4)}`))), 'malformed dpop proof')
    await refusedProof(verify(request(token, proofWithHeaderSegment(token, (h) => `${h.slice(0, 4)}\t${h.slice(4)}`))), 'malformed dpop proof')
  })

  test('an htu that only stringifies to the request URL (a one-element array) does not match', async () => {
    const verify = createAccessTokenVerifier(options())
    const token = await boundToken()
    await refusedProof(verify(request(token, await proof(token, { htu: [API_URL] }))), 'dpop proof htu does not match the request url')
  })

  test('a jwk header that is null is "no jwk header", like an absent one', async () => {
    const verify = createAccessTokenVerifier(options())
    const token = await boundToken()
    await refusedProof(verify(request(token, await proof(token, {}, { jwk: null }))), 'dpop proof has no jwk header')
  })
})

describe('the shared replay cache', () => {
  test('is per audience: two resource servers sharing one store each accept a proof once', async () => {
    const store = new MemoryStore()
    const api = createAccessTokenVerifier(options({ store }))
    const reports = createAccessTokenVerifier(options({ store, audience: OTHER_AUDIENCE }))
    const token = await boundToken([AUDIENCE, OTHER_AUDIENCE])
    const p = await proof(token)
    await api(request(token, p))
    await reports(request(token, p))
    await refusedProof(createAccessTokenVerifier(options({ store }))(request(token, p)), 'dpop proof has already been used')
    await refusedProof(createAccessTokenVerifier(options({ store, audience: OTHER_AUDIENCE }))(request(token, p)), 'dpop proof has already been used')
  })

  test('a store failure refuses the request with store_unavailable, the store error as its cause', async () => {
    // A mock for a fault a real store cannot show on demand: the store rejecting.
    const failing = new MemoryStore()
    const down = new Error('redis down')
    failing.compareAndSet = () => Promise.reject(down)
    const verify = createAccessTokenVerifier(options({ store: failing }))
    const token = await boundToken()
    const err = await verify(request(token, await proof(token))).then(
      () => assert.fail('accepted although the replay cache is down'),
      (e: unknown) => e,
    )
    assert.ok(err instanceof ResourceTokensError && !(err instanceof GuardError))
    assert.equal(err.code, 'store_unavailable')
    assert.equal(err.cause, down)
  })
})
