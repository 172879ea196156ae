// @ts-nocheck
// Options are validated once, eagerly, in createResourceClient: a bad value is a ResourceTokensConfigError
// (`invalid_config`) naming the option, before any request leaves the process. The transport rules are
// RFC 9700 section 2.6 / RFC 8252 section 8.3 (plain http only on loopback); resource URLs without
// userinfo, query or fragment keep the matcher unambiguous (threat model draft 4.6.4).
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { createResourceClient, MemoryStore, ResourceTokensConfigError, ResourceTokensError, type ResourceClientOptions, type TokenStore } from '../../src/index.js'

const CLIENT_SECRET = 'client-secret-that-must-never-be-echoed-0123'

/** Valid options whose `fetch` records calls and fails: nothing may be fetched when the options are bad. */
function base(fetchCalls: string[] = []): ResourceClientOptions {
  return {
    issuer: 'https://as.example.com',
    clientId: 'app',
    clientSecret: CLIENT_SECRET,
    redirectUri: 'https://app.example.com/callback',
    resources: [
      { url: 'https://api.example.com/api', scope: 'api:read' },
      { url: 'https://calendar.example.com/', scope: 'calendar:read' },
    ],
    logger: {},
    fetch: async (input) => {
      fetchCalls.push(String(input instanceof Request ? input.url : input))
      throw new TypeError('fetch failed (no network in unit tests)')
    },
  }
}

function withResource(index: number, patch: Record<string, unknown>): Partial<ResourceClientOptions> {
  const resources = [...base().resources].map((r) => ({ ...r })) as Array<Record<string, unknown>>
  resources[index] = { ...resources[index], ...patch }
  return { resources: resources as unknown as ResourceClientOptions['resources'] }
}

async function rejectsConfig(overrides: Partial<ResourceClientOptions> | Record<string, unknown>, message: RegExp | string): Promise<void> {
  const calls: string[] = []
  const options = { ...base(calls), ...overrides }
  await assert.rejects(createResourceClient(options), (err) => {
    assert.ok(err instanceof ResourceTokensConfigError, String(err))
    assert.ok(err instanceof ResourceTokensError)
    assert.equal(err.code, 'invalid_config')
    if (typeof message === 'string') assert.equal(err.message, message)
    else assert.match(err.message, message)
    assert.ok(!err.message.includes(CLIENT_SECRET), 'the message never echoes the secret')
    return true
  })
  assert.deepEqual(calls, [], 'rejected before any request')
}

/** Accepted options get as far as discovery (which fails here: there is no network in unit tests). */
async function accepted(overrides: Partial<ResourceClientOptions>): Promise<void> {
  const calls: string[] = []
  await assert.rejects(createResourceClient({ ...base(calls), ...overrides }), (err) => {
    assert.equal((err as ResourceTokensError).code, 'discovery_failed', String(err))
    return true
  })
  assert.equal(calls.length, 1)
}

describe('createResourceClient options', () => {
  test('resource URLs must be https outside loopback; the message names the option', async () => {
    await rejectsConfig(withResource(1, { url: 'http://calendar.example.com/' }), '"resources[1].url" must be https outside loopback')
    await rejectsConfig(withResource(0, { url: 'http://api.example.com/api' }), '"resources[0].url" must be https outside loopback')
    for (const host of ['127.0.0.1.evil.test', 'localhost.evil.test', 'evil-localhost', '0.0.0.0', '[::ffff:7f00:1]', '10.0.0.1', '[::]']) {
      await rejectsConfig(withResource(0, { url: `http://${host}/api` }), '"resources[0].url" must be https outside loopback')
    }
    await rejectsConfig(withResource(0, { url: 'ftp://api.example.com/api' }), '"resources[0].url" must be an https URL')
    await rejectsConfig(withResource(0, { url: 'ws://127.0.0.1/api' }), '"resources[0].url" must be an https URL')
  })

  test('http resource URLs on loopback are accepted: localhost, *.localhost, 127.0.0.0/8, [::1]', async () => {
    for (const url of ['http://localhost:3000/api', 'http://api.localhost/', 'http://127.0.0.1:8080/v1', 'http://127.8.9.10/', 'http://[::1]:3000/x']) {
      await accepted(withResource(0, { url }))
    }
  })

  test('resource URLs: absolute, no userinfo, no query or fragment, no duplicates', async () => {
    await rejectsConfig(withResource(0, { url: '/api' }), '"resources[0].url" must be an absolute URL')
    await rejectsConfig(withResource(0, { url: '//api.example.com/api' }), '"resources[0].url" must be an absolute URL')
    await rejectsConfig(withResource(0, { url: 'api.example.com/api' }), '"resources[0].url" must be an absolute URL')
    await rejectsConfig(withResource(0, { url: '' }), '"resources[0].url" must be a non-empty string')
    await rejectsConfig(withResource(0, { url: 42 }), '"resources[0].url" must be a non-empty string')
    await rejectsConfig(withResource(0, { url: 'https://user:pass@api.example.com/api' }), '"resources[0].url" must not contain userinfo')
    await rejectsConfig(withResource(0, { url: 'https://api.example.com@evil.test/api' }), '"resources[0].url" must not contain userinfo')
    await rejectsConfig(withResource(1, { url: 'https://calendar.example.com/?tenant=1' }), '"resources[1].url" must not have a query or fragment')
    await rejectsConfig(withResource(1, { url: 'https://calendar.example.com/#x' }), '"resources[1].url" must not have a query or fragment')
    // Same resource spelled differently (trailing slash, default port, case) is a duplicate.
    for (const url of ['https://api.example.com/api/', 'https://API.example.com:443/api', 'https://api.example.com/api//']) {
      await rejectsConfig(withResource(1, { url }), '"resources[1].url" duplicates another resource')
    }
  })

  test('the resource list, scopes, indicators and flags are checked', async () => {
    await rejectsConfig({ resources: [] }, '"resources" must be a non-empty array')
    await rejectsConfig({ resources: undefined }, '"resources" must be a non-empty array')
    await rejectsConfig({ resources: [null] }, '"resources[0]" must be an object')
    await rejectsConfig(withResource(0, { scope: '' }), '"resources[0].scope" must not be empty')
    await rejectsConfig(withResource(0, { scope: '   ' }), '"resources[0].scope" must not be empty')
    await rejectsConfig(withResource(0, { scope: undefined }), '"resources[0].scope" must be a string')
    for (const scope of ['api:"read"', 'api\\read', 'api:read\u0000', 'api:réad', 'a\tb']) {
      await rejectsConfig(withResource(0, { scope }), '"resources[0].scope" has an invalid scope token')
    }
    await rejectsConfig(withResource(1, { indicator: 'https://calendar.example.com/#frag' }), '"resources[1].indicator" must not have a fragment (RFC 8707)')
    await rejectsConfig(withResource(1, { indicator: 'calendar' }), '"resources[1].indicator" must be an absolute URL')
    await rejectsConfig(withResource(1, { indicator: '' }), '"resources[1].indicator" must be a non-empty string')
    await rejectsConfig(withResource(0, { dpop: 'yes' }), '"resources[0].dpop" must be true, false or "required"')
    await rejectsConfig(withResource(0, { name: '' }), '"resources[0].name" must be a non-empty string')
  })

  test('issuer, redirect URIs and client authentication', async () => {
    await rejectsConfig({ issuer: 'http://as.example.com' }, '"issuer" must be https outside loopback')
    await rejectsConfig({ issuer: 'http://127.0.0.1.evil.test' }, '"issuer" must be https outside loopback')
    await rejectsConfig({ issuer: 'as.example.com' }, '"issuer" must be an absolute URL')
    await rejectsConfig({ issuer: 'https://as.example.com/?tenant=1' }, '"issuer" must not have a query or fragment')
    await rejectsConfig({ redirectUri: 'http://app.example.com/callback' }, '"redirectUri" must be https outside loopback')
    await rejectsConfig({ redirectUri: '/callback' }, '"redirectUri" must be an absolute URL')
    await rejectsConfig({ redirectUri: 'https://app.example.com/callback#x' }, '"redirectUri" must not have a fragment')
    await rejectsConfig({ postLogoutRedirectUri: 'http://app.example.com/' }, '"postLogoutRedirectUri" must be https outside loopback')
    await rejectsConfig({ clientId: '' }, '"clientId" must be a non-empty string')
    await rejectsConfig({ clientSecret: undefined }, '"clientSecret" is required for client_secret_basic')
    await rejectsConfig({ clientSecret: 12345 }, '"clientSecret" must be a non-empty string')
    await rejectsConfig({ clientAuth: 'none' }, /^"clientAuth" must be one of /)
    await rejectsConfig({ clientAuth: 'private_key_jwt' }, '"clientPrivateKey" is required for private_key_jwt')
    await rejectsConfig({ clientPrivateKey: { key: CLIENT_SECRET } }, '"clientPrivateKey" must be a CryptoKey or { key: CryptoKey, kid?: string }')
    await rejectsConfig({ loginScope: 'profile "email"' }, '"loginScope" has an invalid scope token')
    await accepted({ issuer: 'http://localhost:1', redirectUri: 'http://127.0.0.1:3000/callback', postLogoutRedirectUri: 'http://[::1]:3000/' })
  })

  test('URLs in the options never carry userinfo: a credential in a URL would reach messages and the provider', async () => {
    // Found by this suite: "issuer" with userinfo got as far as discovery, whose error message then held the password.
    for (const [option, url] of [
      ['issuer', 'https://admin:pa55word-in-url@as.example.com'],
      ['redirectUri', 'https://user:pa55word-in-url@app.example.com/callback'],
      ['postLogoutRedirectUri', 'https://user:pa55word-in-url@app.example.com/'],
    ] as const) {
      const calls: string[] = []
      await assert.rejects(createResourceClient({ ...base(calls), [option]: url }), (err) => {
        assert.ok(err instanceof ResourceTokensError, String(err))
        assert.ok(!err.message.includes('pa55word-in-url'), `the message holds the password: ${err.message}`)
        assert.equal(err.code, 'invalid_config', `${option}: ${err.message}`)
        assert.equal(err.message, `"${option}" must not contain userinfo`)
        return true
      })
      assert.deepEqual(calls, [], `${option}: rejected before any request`)
    }
  })

  test('numbers and booleans are checked with their unit in the name', async () => {
    for (const [name, value] of [
      ['skewSeconds', -1],
      ['skewSeconds', Number.NaN],
      ['skewSeconds', '30'],
      ['timeoutSeconds', 0],
      ['timeoutSeconds', Number.POSITIVE_INFINITY],
      ['defaultTokenLifetimeSeconds', 0],
      ['lockTtlMs', 10],
      ['grantTtlSeconds', 1],
    ] as const) {
      await rejectsConfig({ [name]: value }, new RegExp(`^"${name}" must be a number of at least`))
    }
    await rejectsConfig({ strictScopes: 'true' }, '"strictScopes" must be a boolean')
    await rejectsConfig({ resourceIndicators: 1 }, '"resourceIndicators" must be a boolean')
  })

  test('stores and encryption: a store outside the process needs secrets of at least 32 characters', async () => {
    const persistent = { get: async () => undefined, set: async () => undefined, delete: async () => undefined, take: async () => undefined, compareAndSet: async () => true, tryLock: async () => true, unlock: async () => undefined, inProcess: false } satisfies TokenStore
    await rejectsConfig({ store: persistent }, '"encryption.secrets" is required for a store that is not in-process memory')
    await rejectsConfig({ store: persistent, encryption: { secrets: ['short'] } }, '"encryption.secrets[0]" must be at least 32 characters')
    await rejectsConfig({ store: persistent, encryption: { secrets: ['a-32-character-long-secret-value!!', new Uint8Array(8)] } }, '"encryption.secrets[1]" must be at least 32 bytes')
    await rejectsConfig({ encryption: { secrets: [] } }, '"encryption.secrets" must be a non-empty array')
    await rejectsConfig({ store: {} as TokenStore }, '"store" must implement TokenStore')
    await accepted({ store: persistent, encryption: { secrets: ['a-32-character-long-secret-value!!'] } })
    await accepted({ store: new MemoryStore() })
  })

  test('options that are not an object', async () => {
    for (const options of [null, undefined, 'https://as.example.com']) {
      await assert.rejects(createResourceClient(options as unknown as ResourceClientOptions), (err) => (err as ResourceTokensError).code === 'invalid_config')
    }
  })
})

describe('run-time resources options', () => {
  test('discovery: origins must be https (or loopback) origins; scopes, cacheSeconds, dpop and automatic are checked', async () => {
    await rejectsConfig({ discovery: {} }, /"discovery.origins" must be a non-empty array/)
    await rejectsConfig({ discovery: { origins: [] } }, /"discovery.origins" must be a non-empty array/)
    await rejectsConfig({ discovery: { origins: ['http://tools.example.com'] } }, /"discovery.origins\[0\]" must be https outside loopback/)
    await rejectsConfig({ discovery: { origins: ['https://tools.example.com/mcp'] } }, /must be an origin/)
    await rejectsConfig({ discovery: { origins: ['https://user@tools.example.com'] } }, /must be an origin/)
    await rejectsConfig({ discovery: { origins: ['not a url'] } }, /must be an absolute URL/)
    await rejectsConfig({ discovery: { origins: ['https://tools.example.com'], scopes: 'a "b' } }, /"discovery.scopes"/)
    await rejectsConfig({ discovery: { origins: ['https://tools.example.com'], cacheSeconds: -1 } }, /"discovery.cacheSeconds"/)
    await rejectsConfig({ discovery: { origins: ['https://tools.example.com'], dpop: 'yes' } }, /"discovery.dpop"/)
    await rejectsConfig({ discovery: { origins: ['https://tools.example.com'], automatic: 1 } }, /"discovery.automatic"/)
    await rejectsConfig({ maxRuntimeResources: -1 }, /"maxRuntimeResources"/)
    await rejectsConfig({ maxRuntimeResources: 1.5 }, /"maxRuntimeResources"/)
  })
})
