// @ts-nocheck
// The misbehaving OpenID Provider: one defect per provider, and the client must refuse, then do nothing
// further: no grant stored, no further token request, no userinfo call, no request to any resource.
// Threats: OpenID Connect Core 3.1.3.7 (ID token validation) and 12.2 (refresh), RFC 9207 / RFC 9700
// section 4.4 (mix-up), RFC 8414 section 3.3 (issuer of the discovery document), RFC 8725 section 3.1
// (algorithm verification).
import assert from 'node:assert/strict'
import { test, type TestContext } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import { createLocalJWKSet, decodeJwt, decodeProtectedHeader, exportSPKI, importJWK, jwtVerify, type JSONWebKeySet, type JWTPayload } from 'jose'
import { createResourceClient, ResourceTokensError, type ResourceClient, type ResourceClientOptions } from 'resource-tokens'
import { startRecordingServer, type TestResourceServer } from '../support/resource-server.js'
import { followAuthorization, startRogueProvider, type RogueDefect, type RogueProvider, type RogueProviderOptions } from '../support/rogue-provider.js'

interface Rig {
  op: RogueProvider
  /** Records every request; it must never see one after a refusal. */
  api: TestResourceServer
  apiUrl: string
  client: ResourceClient
}

const KEY = 'session-1'

async function rig(t: TestContext, options: RogueProviderOptions, overrides: Partial<ResourceClientOptions> = {}): Promise<Rig> {
  const op = await startRogueProvider(options)
  const api = await startRecordingServer()
  t.after(() => Promise.all([op.close(), api.close()]))
  const apiUrl = `${api.url}/api`
  const client = await createResourceClient(clientOptions(op, apiUrl, overrides))
  t.after(() => client.close())
  return { op, api, apiUrl, client }
}

function clientOptions(op: RogueProvider, apiUrl: string, overrides: Partial<ResourceClientOptions> = {}): ResourceClientOptions {
  return {
    issuer: op.issuer,
    clientId: op.clientId,
    clientSecret: op.clientSecret,
    redirectUri: op.redirectUri,
    resources: [{ url: apiUrl, scope: 'api:read', name: 'api' }],
    logger: {},
    ...overrides,
  }
}

/** startLogin, then the browser's trip to the authorization endpoint; returns the callback URL. */
async function authorize(r: Rig, key = KEY): Promise<string> {
  const { url } = await r.client.startLogin(key, { returnTo: '/home' })
  return followAuthorization(url)
}

async function login(r: Rig, key = KEY): Promise<void> {
  await r.client.finishLogin(key, await authorize(r, key))
}

/** The client must refuse: resolves to its error. The code is asserted by the caller, after the effects. */
async function refusal(promise: Promise<unknown>): Promise<ResourceTokensError> {
  try {
    await promise
  } catch (err) {
    assert.ok(err instanceof ResourceTokensError, `expected a ResourceTokensError, got ${String(err)}`)
    return err
  }
  assert.fail('the client accepted the response instead of refusing it')
}

function assertCode(err: ResourceTokensError, expected: string): void {
  assert.equal(err.code, expected, `code ${err.code} (${err.message})`)
}

async function rejectsWithCode(promise: Promise<unknown>, expected: string): Promise<void> {
  await assert.rejects(promise, (err: unknown) => {
    assert.ok(err instanceof ResourceTokensError, `expected a ResourceTokensError, got ${String(err)}`)
    assert.equal(err.code, expected, `code ${err.code} (${err.message})`)
    return true
  })
}

/**
 * After a refusal: nothing stored, nothing further sent. `tokenRequests` is how many token requests the
 * attack legitimately caused before the refusal (the code exchange whose response was refused, or a refresh).
 */
async function assertNothingFurther(r: Rig, tokenRequests: number, key = KEY): Promise<void> {
  const seen = r.op.requests.length
  assert.equal(await r.client.hasGrant(key), false, 'a grant is stored after the refusal')
  assert.equal(await r.client.claims(key), undefined)
  // The app would now call the resource: there is nothing to call it with.
  await rejectsWithCode(r.client.fetch(key, `${r.apiUrl}/items`), 'login_required')
  await sleep(20) // let anything fired and forgotten arrive
  assert.equal(r.op.requestsTo('token').length, tokenRequests, 'no further token request')
  assert.equal(r.op.requestsTo('userinfo').length, 0, 'no userinfo request')
  assert.deepEqual(r.op.requests.slice(seen).filter((q) => q.endpoint === 'token' || q.endpoint === 'userinfo'), [])
  assert.equal(r.api.requests.length, 0, 'no request reached the resource')
}

test('rogue provider control: an honest provider logs in, refreshes and serves the resource', async (t) => {
  const r = await rig(t, { defect: 'none' })
  await login(r)
  assert.equal(await r.client.hasGrant(KEY), true)
  assert.equal((await r.client.claims(KEY))?.['sub'], 'alice')
  const res = await r.client.fetch(KEY, `${r.apiUrl}/items`)
  assert.equal(res.status, 200)
  assert.equal(r.api.requests.length, 1)
  assert.equal(r.api.requests[0]?.headers['authorization'], `Bearer ${r.op.issuedAccessTokens.at(-1)}`)
  assert.deepEqual(r.op.requestsTo('token').map((q) => q.grantType), ['authorization_code', 'refresh_token'])
  assert.equal(r.op.requestsTo('userinfo').length, 0)
})

/**
 * The harness itself: each defect is exactly what its name says, judged with jose against the rogue's
 * JWKS and independently of the library, so a refusal below is a refusal for the right reason.
 */
test('rogue provider harness: every ID token defect is what it claims to be', async (t) => {
  interface Seen { jwks: JSONWebKeySet; op: RogueProvider; nonce: string }
  const expectations: Record<string, (token: string, seen: Seen) => Promise<void>> = {
    none: async (token, { jwks, op, nonce }) => {
      const { payload } = await jwtVerify(token, createLocalJWKSet(jwks), { issuer: op.issuer, audience: op.clientId, algorithms: ['RS256'] })
      assert.equal(payload['nonce'], nonce)
    },
    id_token_wrong_aud: async (token) => assert.equal(claims(token).aud, 'another-client'),
    id_token_missing_aud: async (token) => assert.equal(claims(token).aud, undefined),
    id_token_extra_aud: async (token, { op }) => {
      assert.deepEqual(claims(token).aud, [op.clientId, 'another-client'])
      assert.equal(claims(token)['azp'], undefined)
    },
    id_token_wrong_iss: async (token, { op }) => assert.notEqual(claims(token).iss, op.issuer),
    id_token_expired: async (token) => assert.ok((claims(token).exp ?? Infinity) < Date.now() / 1000 - 600),
    id_token_old_iat: async (token) => {
      assert.ok((claims(token).iat ?? Infinity) < Date.now() / 1000 - 24 * 3600)
      assert.ok((claims(token).exp ?? 0) > Date.now() / 1000, 'still unexpired')
    },
    id_token_wrong_nonce: async (token, { nonce }) => {
      assert.equal(typeof claims(token)['nonce'], 'string')
      assert.notEqual(claims(token)['nonce'], nonce)
    },
    id_token_missing_nonce: async (token) => assert.equal(claims(token)['nonce'], undefined),
    id_token_alg_none: async (token) => {
      assert.equal(decodeProtectedHeader(token).alg, 'none')
      assert.equal(token.split('.')[2], '')
    },
    id_token_hs256_public_key: async (token, { jwks }) => {
      assert.equal(decodeProtectedHeader(token).alg, 'HS256')
      const key = await importJWK({ ...jwks.keys[0] }, 'RS256', { extractable: true })
      if (key instanceof Uint8Array) assert.fail('the JWKS holds a symmetric key')
      await jwtVerify(token, new TextEncoder().encode(await exportSPKI(key)), { algorithms: ['HS256'] })
    },
    id_token_unknown_key: async (token, { jwks }) => {
      const kid = decodeProtectedHeader(token).kid
      assert.ok(!jwks.keys.some((k) => k.kid === kid))
      await assert.rejects(jwtVerify(token, createLocalJWKSet(jwks)), { code: 'ERR_JWKS_NO_MATCHING_KEY' })
    },
    id_token_bad_signature: async (token, { jwks }) => {
      assert.ok(jwks.keys.some((k) => k.kid === decodeProtectedHeader(token).kid))
      await assert.rejects(jwtVerify(token, createLocalJWKSet(jwks)), { code: 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED' })
    },
  }
  for (const [defect, check] of Object.entries(expectations)) {
    const r = await rig(t, { defect: defect as RogueDefect })
    const { url } = await r.client.startLogin(KEY)
    const nonce = url.searchParams.get('nonce')
    assert.ok(nonce)
    // Whatever the library makes of it: only the token the provider issued matters here.
    await r.client.finishLogin(KEY, await followAuthorization(url)).catch(() => undefined)
    const token = r.op.issuedIdTokens[0]
    assert.ok(token, defect)
    const jwks = (await (await fetch(`${r.op.issuer}/jwks`)).json()) as JSONWebKeySet
    await check(token, { jwks, op: r.op, nonce })
  }
})

function claims(token: string): JWTPayload {
  return decodeJwt(token)
}

const ID_TOKEN_ATTACKS: ReadonlyArray<{ attack: string; defect: RogueDefect; options?: RogueProviderOptions }> = [
  { attack: 'ID token with wrong aud', defect: 'id_token_wrong_aud' },
  { attack: 'ID token without aud', defect: 'id_token_missing_aud' },
  { attack: 'ID token with an extra aud and no azp', defect: 'id_token_extra_aud' },
  { attack: 'ID token with wrong iss', defect: 'id_token_wrong_iss' },
  { attack: 'expired ID token', defect: 'id_token_expired' },
  { attack: 'ID token with iat far in the past', defect: 'id_token_old_iat' },
  { attack: 'ID token with wrong nonce', defect: 'id_token_wrong_nonce' },
  { attack: 'ID token without nonce', defect: 'id_token_missing_nonce' },
  { attack: 'unsigned ID token (alg none)', defect: 'id_token_alg_none' },
  { attack: 'unsigned ID token (alg none) with none advertised in discovery', defect: 'id_token_alg_none', options: { idTokenSigningAlgs: ['RS256', 'none'] } },
  { attack: 'ID token HS256-signed with the public key', defect: 'id_token_hs256_public_key' },
  { attack: 'ID token HS256-signed with the public key with HS256 advertised in discovery', defect: 'id_token_hs256_public_key', options: { idTokenSigningAlgs: ['RS256', 'HS256'] } },
  { attack: 'ID token signed by a key absent from the JWKS', defect: 'id_token_unknown_key' },
  { attack: 'ID token with a bad signature', defect: 'id_token_bad_signature' },
]

for (const { attack, defect, options } of ID_TOKEN_ATTACKS) {
  test(`rogue provider: ${attack} is refused and nothing is stored`, async (t) => {
    const r = await rig(t, { ...options, defect })
    const callback = await authorize(r)
    const err = await refusal(r.client.finishLogin(KEY, callback))
    // Exactly the one code exchange whose response was refused.
    assert.deepEqual(r.op.requestsTo('token').map((q) => q.grantType), ['authorization_code'])
    await assertNothingFurther(r, 1)
    assertCode(err, 'invalid_id_token')
  })
}

test('rogue provider: authorization response with wrong iss is refused before any token request', async (t) => {
  const r = await rig(t, { defect: 'auth_response_wrong_iss' })
  const callback = await authorize(r)
  assert.notEqual(new URL(callback).searchParams.get('iss'), r.op.issuer)
  const err = await refusal(r.client.finishLogin(KEY, callback))
  await assertNothingFurther(r, 0)
  assertCode(err, 'invalid_callback')
})

test('rogue provider: authorization response without iss is refused when the provider advertises iss (RFC 9207)', async (t) => {
  const r = await rig(t, { defect: 'auth_response_missing_iss' })
  assert.equal(r.client.serverMetadata['authorization_response_iss_parameter_supported'], true)
  const callback = await authorize(r)
  assert.equal(new URL(callback).searchParams.has('iss'), false)
  const err = await refusal(r.client.finishLogin(KEY, callback))
  await assertNothingFurther(r, 0)
  assertCode(err, 'invalid_callback')
})

test('rogue provider: discovery whose issuer differs from the configured one is refused at createResourceClient', async (t) => {
  const op = await startRogueProvider({ defect: 'discovery_issuer_mismatch' })
  const api = await startRecordingServer()
  t.after(() => Promise.all([op.close(), api.close()]))
  await rejectsWithCode(createResourceClient(clientOptions(op, `${api.url}/api`)), 'discovery_failed')
  assert.deepEqual(op.requests.map((q) => q.endpoint), ['discovery'], 'nothing but the discovery document was requested')
  assert.equal(api.requests.length, 0)
})

for (const { attack, defect } of [
  { attack: 'refreshed ID token with another sub', defect: 'refresh_id_token_other_sub' as const },
  { attack: 'refreshed ID token with another iss', defect: 'refresh_id_token_other_iss' as const },
]) {
  test(`rogue provider: ${attack} is refused, the grant is removed and the resource gets nothing`, async (t) => {
    const r = await rig(t, { defect })
    await login(r)
    assert.equal(await r.client.hasGrant(KEY), true, 'the login itself is honest')
    const err = await refusal(r.client.accessToken(KEY, `${r.apiUrl}/items`))
    const [atLogin = '', atRefresh = ''] = r.op.issuedIdTokens
    const claim = defect === 'refresh_id_token_other_sub' ? 'sub' : 'iss'
    assert.notEqual(claims(atRefresh)[claim], claims(atLogin)[claim], 'the refreshed ID token names another identity')
    assertCode(err, 'invalid_id_token')
    assert.deepEqual(r.op.requestsTo('token').map((q) => q.grantType), ['authorization_code', 'refresh_token'])
    await assertNothingFurther(r, 2)
  })
}

test('rogue provider: token response with token_type "BeArEr" is accepted and sent as Bearer', async (t) => {
  const r = await rig(t, { defect: 'token_type_case_variant' })
  await login(r)
  const token = await r.client.accessToken(KEY, `${r.apiUrl}/items`)
  assert.equal(token.type, 'bearer')
  const res = await r.client.fetch(KEY, `${r.apiUrl}/items`)
  assert.equal(res.status, 200)
  assert.equal(r.api.requests.length, 1)
  assert.equal(r.api.requests[0]?.headers['authorization'], `Bearer ${token.value}`)
  assert.equal(r.api.requests[0]?.headers['dpop'], undefined)
})

test('rogue provider: token response without expires_in is cached for the default lifetime, then renewed', async (t) => {
  // Starts at the real time: the provider's tokens carry real timestamps.
  let clock = Date.now()
  const r = await rig(t, { defect: 'no_expires_in' }, { now: () => clock })
  await login(r)
  const first = await r.client.accessToken(KEY, `${r.apiUrl}/items`)
  // defaultTokenLifetimeSeconds defaults to 60.
  assert.equal(first.expiresAt, clock + 60_000)
  clock += 10_000
  const cached = await r.client.accessToken(KEY, `${r.apiUrl}/items`)
  assert.equal(cached.value, first.value, 'served from the cache')
  assert.equal(r.op.requestsTo('token', 'refresh_token').length, 1)
  clock += 60_000
  const renewed = await r.client.accessToken(KEY, `${r.apiUrl}/items`)
  assert.notEqual(renewed.value, first.value, 'not kept past its assumed lifetime')
  assert.equal(r.op.requestsTo('token', 'refresh_token').length, 2)
  assert.equal(renewed.expiresAt, clock + 60_000)
})

test('rogue provider: the default lifetime for a token without expires_in follows defaultTokenLifetimeSeconds', async (t) => {
  const clock = Date.now()
  const r = await rig(t, { defect: 'no_expires_in' }, { now: () => clock, defaultTokenLifetimeSeconds: 120 })
  await login(r)
  const token = await r.client.accessToken(KEY, `${r.apiUrl}/items`)
  assert.equal(token.expiresAt, clock + 120_000)
})
