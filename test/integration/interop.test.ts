// Interop with providers that differ from the well-behaved one (issue 7). Each test turns on one
// provider behaviour seen in the wild (test/support/provider.ts `quirks`) and asserts what the library
// does about it: work where the provider allows it, fail closed with a precise, typed error where not.
// Tests named "(simulated provider quirk: ...)" use a rewrite in front of oidc-provider; the others get
// the behaviour from oidc-provider itself (configuration, hooks or its stored tokens).
import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import * as oidc from 'openid-client'
import { createResourceClient, MemoryStore, type ResourceTokensError, type ResourceClient } from 'resource-tokens'
import { basicAuth } from '../support/http.js'
import type { ProviderQuirks, TestProvider } from '../support/provider.js'
import { startScenario, type Scenario, type ScenarioOptions } from '../support/scenario.js'
import { code } from '../support/errors.js'

function refreshes(world: Scenario) {
  return world.op.tokenRequests.filter((r) => r.grantType === 'refresh_token')
}

/** A scenario with one provider quirk; `indicators: false` gives scope-only resources and opaque tokens. */
function withQuirks(quirks: ProviderQuirks, options: Omit<ScenarioOptions, 'provider'> & { provider?: ScenarioOptions['provider'] } = {}): Promise<Scenario> {
  return startScenario({ ...options, provider: { ...options.provider, quirks } })
}

/** Revokes an opaque access token at the provider: with oidc-provider that ends the whole grant. */
async function endGrantAtProvider(op: TestProvider, accessToken: string): Promise<void> {
  const res = await fetch(`${op.issuer}/token/revocation`, {
    method: 'POST',
    headers: { authorization: basicAuth(op.clientId, op.clientSecret), 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ token: accessToken, token_type_hint: 'access_token' }),
  })
  assert.equal(res.status, 200)
}

describe('refresh tokens narrowed to the scope asked for', () => {
  for (const mode of ['rotated', 'same'] as const) {
    test(`narrowed ${mode === 'rotated' ? 'rotated' : 'non-rotating'} refresh token: refresh_token_narrowed, says what happened and what to do, no loop, nothing broader`, async () => {
      const world = await withQuirks({ narrowRefreshToken: mode }, mode === 'same' ? { indicators: false } : {})
      try {
        const client = await world.client()
        await world.login(client, 'narrow')
        world.op.resetCounters()
        const failed: string[] = []
        client.on('refresh_failed', (e) => failed.push(e.code))

        assert.equal((await client.fetch('narrow', `${world.contactsUrl}/people`)).status, 200)
        await assert.rejects(client.accessToken('narrow', world.calendarUrl), (err) => {
          assert.equal(code(err), 'refresh_token_narrowed')
          assert.equal((err as ResourceTokensError).error, 'invalid_scope')
          const message = (err as Error).message
          assert.match(message, /narrows the refresh token/, 'says what the provider did')
          assert.match(message, /token-exchange/, 'says what to do')
          assert.match(message, /RFC 6749 section 6/)
          return true
        })
        // Asking again costs one request and gives the same answer: never a loop.
        await assert.rejects(client.fetch('narrow', `${world.calendarUrl}events`), (err) => code(err) === 'refresh_token_narrowed')
        const requests = refreshes(world)
        assert.equal(requests.length, 3)
        // Never a silently broader token: every refresh asked for exactly one resource's scope.
        assert.deepEqual(requests.map((r) => r.scope), ['contacts:read', 'calendar:read', 'calendar:read'])
        assert.deepEqual(failed, ['refresh_token_narrowed', 'refresh_token_narrowed'])
        // The grant is not lost: the resource the refresh token was narrowed to still works.
        assert.equal(await client.hasGrant('narrow'), true)
        assert.equal((await client.fetch('narrow', `${world.contactsUrl}/people`)).status, 200)
        assert.equal(world.op.reusedRefreshTokens(), 0)
      } finally {
        await world.close()
      }
    })
  }

  test('a resource refused on the very first refresh is not called narrowing (nothing was narrowed yet)', async () => {
    const world = await withQuirks({ narrowRefreshToken: 'rotated' })
    try {
      const client = await world.client()
      await world.login(client, 'first')
      // The provider refuses the first refresh with invalid_scope, before any narrowing could have happened.
      world.op.failTokenRequests(1, { status: 400, body: JSON.stringify({ error: 'invalid_scope' }), contentType: 'application/json' })
      await assert.rejects(client.accessToken('first', world.calendarUrl), (err) => {
        assert.equal(code(err), 'token_endpoint_error')
        assert.equal((err as ResourceTokensError).error, 'invalid_scope')
        return true
      })
    } finally {
      await world.close()
    }
  })
})

describe('resource sticking to the rotated refresh token', () => {
  let world: Scenario
  before(async () => {
    world = await withQuirks({ stickyResource: true })
  })
  after(() => world.close())

  test('invalid_target for the next resource: refresh_token_narrowed, no loop', async () => {
    const client = await world.client()
    await world.login(client, 'sticky')
    world.op.resetCounters()
    assert.equal((await client.fetch('sticky', `${world.contactsUrl}/people`)).status, 200)
    await assert.rejects(client.accessToken('sticky', world.calendarUrl), (err) => {
      assert.equal(code(err), 'refresh_token_narrowed')
      assert.equal((err as ResourceTokensError).error, 'invalid_target')
      assert.match((err as Error).message, /invalid_target/)
      return true
    })
    assert.equal(refreshes(world).length, 2)
    assert.equal(world.op.reusedRefreshTokens(), 0)
  })

  test('the message says the provider tied the refresh token to a resource', async () => {
    const client = await world.client()
    await world.login(client, 'sticky-message')
    await client.accessToken('sticky-message', world.contactsUrl)
    await assert.rejects(client.accessToken('sticky-message', world.calendarUrl), (err) => {
      assert.match((err as Error).message, /refresh token to the resource/)
      return true
    })
  })
})

describe('scope ignored on refresh: the full scope comes back', () => {
  let world: Scenario
  before(async () => {
    world = await withQuirks({ ignoreRefreshScope: true }, { indicators: false })
  })
  after(() => world.close())

  test('(simulated provider quirk: scope dropped from refresh requests) scope_broadened event and warning; strictScopes refuses the token', async () => {
    const warnings: string[] = []
    // strictScopes is on by default since issue 13: the lenient client says so.
    const lenient = await world.client({ strictScopes: false, logger: { warn: (message) => warnings.push(message) } })
    const broadened: Array<{ requested: string; granted: string }> = []
    lenient.on('scope_broadened', (e) => broadened.push(e))
    await world.login(lenient, 'broad')
    world.op.resetCounters()
    const token = await lenient.accessToken('broad', world.contactsUrl)
    assert.ok(token.scope?.split(' ').includes('calendar:read'), 'the provider really returned the full scope')
    assert.equal(broadened.length, 1)
    assert.equal(broadened[0]?.requested, 'contacts:read')
    assert.ok(warnings.some((w) => /more scope than requested/.test(w)))
    assert.equal(refreshes(world).length, 1)

    const strict = await world.client({ strictScopes: true })
    await world.login(strict, 'broad-strict')
    world.op.resetCounters()
    for (let i = 0; i < 2; i++) {
      await assert.rejects(strict.accessToken('broad-strict', world.contactsUrl), (err) => {
        assert.equal(code(err), 'scope_broadened')
        assert.match((err as Error).message, /more scope than requested/)
        return true
      })
    }
    // One request per call, never a loop; the rotated refresh token was kept each time (no reuse).
    assert.equal(refreshes(world).length, 2)
    assert.equal(world.op.reusedRefreshTokens(), 0)
    assert.equal(await strict.hasGrant('broad-strict'), true)
  })
})

describe('reuse and concurrent refresh', () => {
  for (const quirks of [
    { reuse: 'reject-only', concurrentRefresh: 'server-error' },
    { reuse: 'revoke-grant', concurrentRefresh: 'invalid_grant' },
  ] as const) {
    test(`(simulated provider quirk: concurrent refresh answered ${quirks.concurrentRefresh}; reuse ${quirks.reuse}) two instances, 100 concurrent calls: no refresh token is ever presented twice`, async () => {
      const world = await withQuirks(quirks)
      const store = new MemoryStore()
      try {
        // Two app instances sharing one store, as with Redis.
        const a = await world.client({ store })
        const b = await world.client({ store })
        await world.login(a, 'shared')
        world.op.resetCounters()
        world.op.setTokenEndpointHook(() => sleep(30))
        const calls = Array.from({ length: 100 }, (_, i) => {
          const instance = i % 2 === 0 ? a : b
          return instance.fetch('shared', i % 4 < 2 ? `${world.contactsUrl}/people/${i}` : `${world.calendarUrl}events/${i}`)
        })
        const responses = await Promise.all(calls)
        assert.ok(responses.every((r) => r.status === 200))
        assert.equal(refreshes(world).length, 2)
        assert.equal(world.op.reusedRefreshTokens(), 0)
        assert.ok(refreshes(world).every((r) => r.status === 200))
      } finally {
        world.op.setTokenEndpointHook()
        await world.close()
      }
    })
  }

  test('renewals over time with two instances never reuse a rotated refresh token', async () => {
    const world = await withQuirks({ reuse: 'reject-only', concurrentRefresh: 'server-error' }, { provider: { accessTokenTTL: 2 } })
    const store = new MemoryStore()
    try {
      const a = await world.client({ store, skewSeconds: 1 })
      const b = await world.client({ store, skewSeconds: 1 })
      await world.login(a, 'renew')
      world.op.resetCounters()
      for (let round = 0; round < 2; round++) {
        // 2 s tokens are due at 1 s (skew 1 s): the second round renews both, in the background or waiting for it.
        if (round > 0) await sleep(1600)
        const responses = await Promise.all([a, b, a, b].flatMap((c) => [c.fetch('renew', `${world.contactsUrl}/x`), c.fetch('renew', `${world.calendarUrl}y`)]))
        assert.ok(responses.every((r) => r.status === 200))
      }
      // Renewals ahead of expiry finish after the requests that started them.
      for (let waited = 0; refreshes(world).filter((r) => r.status !== 0).length < 4 && waited < 5000; waited += 20) await sleep(20)
      await sleep(100)
      assert.equal(refreshes(world).length, 4)
      assert.equal(world.op.reusedRefreshTokens(), 0)
    } finally {
      await world.close()
    }
  })
})

describe('error bodies that are not JSON', () => {
  test('(simulated provider quirk: empty 400) a refresh failure with an empty body is token_endpoint_error, not a crash', async () => {
    const world = await withQuirks({ errorBody: 'empty-400' }, { indicators: false })
    try {
      const client = await world.client()
      await world.login(client, 'empty')
      const token = await client.accessToken('empty', world.contactsUrl)
      await endGrantAtProvider(world.op, token.value)
      world.op.resetCounters()
      await assert.rejects(client.accessToken('empty', world.calendarUrl), (err) => {
        assert.equal(code(err), 'token_endpoint_error')
        assert.equal((err as ResourceTokensError).status, 400)
        assert.match((err as Error).message, /HTTP 400/)
        return true
      })
      assert.equal(refreshes(world).length, 1)
      assert.equal(refreshes(world)[0]?.status, 400)
    } finally {
      await world.close()
    }
  })

  test('(simulated provider quirk: HTML 500 page) a refresh failure with an HTML page is token_endpoint_unavailable, the grant is kept', async () => {
    const world = await withQuirks({ errorBody: 'html-500' }, { indicators: false })
    try {
      const client = await world.client()
      await world.login(client, 'html')
      const token = await client.accessToken('html', world.contactsUrl)
      await endGrantAtProvider(world.op, token.value)
      world.op.resetCounters()
      await assert.rejects(client.accessToken('html', world.calendarUrl), (err) => {
        assert.equal(code(err), 'token_endpoint_unavailable')
        assert.equal((err as ResourceTokensError).status, 500)
        assert.doesNotMatch((err as Error).message, /<html|<!DOCTYPE/i, 'the page is not echoed')
        return true
      })
      assert.equal(refreshes(world).length, 1)
      assert.equal(await client.hasGrant('html'), true)
    } finally {
      await world.close()
    }
  })
})

describe('discovery documents that differ', () => {
  test('(simulated provider quirk: no revocation, introspection or end-session endpoint in discovery) logout still works; the endpoints option restores revocation', async () => {
    const world = await withQuirks({ omitDiscovery: ['revocation_endpoint', 'introspection_endpoint', 'end_session_endpoint'] }, { indicators: false })
    try {
      const bare = await world.client()
      assert.equal(bare.serverMetadata['revocation_endpoint'], undefined)
      await world.login(bare, 'bare')
      // (The test APIs find introspection through discovery, so tokens are obtained, not sent.)
      await bare.accessToken('bare', world.contactsUrl)
      const bareLogout = await bare.logout('bare')
      assert.equal(bareLogout.revocation.refreshToken, 'unsupported')
      assert.equal(bareLogout.endSessionUrl, undefined)
      assert.equal(await bare.hasGrant('bare'), false)

      const configured = await world.client({ endpoints: { revocation: `${world.op.issuer}/token/revocation`, endSession: `${world.op.issuer}/session/end` } })
      await world.login(configured, 'configured')
      const token = await configured.accessToken('configured', world.contactsUrl)
      const result = await configured.logout('configured')
      assert.equal(result.revocation.refreshToken, 'revoked')
      assert.equal(result.endSessionUrl?.origin, world.op.issuer)
      assert.equal(result.endSessionUrl?.pathname, '/session/end')
      // Revoking the refresh token ended the grant at the provider: its access tokens are dead too.
      assert.equal((await world.op.introspect(token.value))['active'], false)
    } finally {
      await world.close()
    }
  })

  test('(simulated provider quirk: RFC 9207 iss sent but not advertised) login works; a wrong iss is still refused', async () => {
    const world = await withQuirks({ issUnadvertised: true })
    try {
      const client = await world.client()
      assert.equal(client.serverMetadata['authorization_response_iss_parameter_supported'], undefined)
      await world.login(client, 'iss')
      assert.equal((await client.fetch('iss', `${world.contactsUrl}/people`)).status, 200)

      const { url } = await client.startLogin('iss-wrong')
      const callback = new URL(await world.op.login(url))
      assert.equal(callback.searchParams.get('iss'), world.op.issuer)
      callback.searchParams.set('iss', 'https://attacker.example')
      world.op.resetCounters()
      await assert.rejects(client.finishLogin('iss-wrong', callback), (err) => code(err) === 'invalid_callback')
      assert.equal(world.op.tokenRequests.length, 0, 'the code was not redeemed')
    } finally {
      await world.close()
    }
  })

  describe('(simulated provider quirk: discovery only at a URL with a trailing slash)', () => {
    let world: Scenario
    before(async () => {
      world = await withQuirks({ discoveryTrailingSlashOnly: true })
    })
    after(() => world.close())

    test('discovery_failed naming the issuer, never a crash', async () => {
      const res = await fetch(`${world.op.issuer}/.well-known/openid-configuration/`)
      assert.equal(res.status, 200, 'the provider does serve it, with a slash')
      await assert.rejects(world.client(), (err) => {
        assert.equal(code(err), 'discovery_failed')
        assert.ok((err as Error).message.includes(world.op.issuer), 'names the issuer')
        return true
      })
    })

    test('the message names the discovery URL tried and the HTTP status', async () => {
      await assert.rejects(world.client(), (err) => {
        const message = (err as Error).message
        assert.ok(message.includes(`${world.op.issuer}/.well-known/openid-configuration`), 'names the URL tried')
        assert.match(message, /HTTP 404/)
        return true
      })
    })
  })

  test('the issuer is compared as a URL: a configured trailing slash on a bare origin still matches', async () => {
    const world = await startScenario()
    try {
      const client = await world.client({ issuer: `${world.op.issuer}/` })
      await world.login(client, 'slash')
      assert.equal((await client.fetch('slash', `${world.contactsUrl}/people`)).status, 200)
    } finally {
      await world.close()
    }
  })
})

describe('client authentication with percent-encoded Basic credentials refused', () => {
  const secret = 'enc:secret/with+special%chars-0123456789'
  let world: Scenario
  const clients: ResourceClient[] = []
  before(async () => {
    world = await startScenario({
      provider: {
        quirks: { rejectEncodedBasic: true },
        clients: [
          { client_id: 'enc-basic', client_secret: secret, token_endpoint_auth_method: 'client_secret_basic', redirect_uris: ['http://127.0.0.1:9/cb-enc'], grant_types: ['authorization_code', 'refresh_token'], response_types: ['code'] },
          { client_id: 'enc-post', client_secret: secret, token_endpoint_auth_method: 'client_secret_post', redirect_uris: ['http://127.0.0.1:9/cb-enc'], grant_types: ['authorization_code', 'refresh_token'], response_types: ['code'] },
        ],
      },
    })
  })
  after(async () => {
    await Promise.all(clients.map((c) => c.close()))
    await world.close()
  })

  test('(simulated provider quirk: Basic credentials not form-decoded) client_secret_basic fails with a typed invalid_client; client_secret_post works', async () => {
    const basic = await createResourceClient({ ...world.options(), clientId: 'enc-basic', clientSecret: secret, redirectUri: 'http://127.0.0.1:9/cb-enc' })
    clients.push(basic)
    await assert.rejects(basic.startLogin('user'), (err) => {
      assert.equal(code(err), 'token_endpoint_error')
      assert.ok(!(err as Error).message.includes(secret))
      assert.ok(!(err as Error).message.includes(encodeURIComponent(secret)))
      return true
    })

    const post = await createResourceClient({ ...world.options(), clientId: 'enc-post', clientSecret: secret, clientAuth: 'client_secret_post', redirectUri: 'http://127.0.0.1:9/cb-enc' })
    clients.push(post)
    const { url } = await post.startLogin('user')
    await post.finishLogin('user', await world.op.login(url))
    assert.equal((await post.fetch('user', `${world.contactsUrl}/people`)).status, 200)
    assert.equal((await post.fetch('user', `${world.calendarUrl}events`)).status, 200)
  })
})

test('a 401 invalid_client with a WWW-Authenticate challenge (RFC 6749 section 5.2) is reported as invalid_client with advice', async () => {
  const secret = 'enc:secret/with+special%chars-0123456789'
  const world = await startScenario({
    provider: {
      quirks: { rejectEncodedBasic: true },
      clients: [{ client_id: 'enc-basic', client_secret: secret, token_endpoint_auth_method: 'client_secret_basic', redirect_uris: ['http://127.0.0.1:9/cb-enc'], grant_types: ['authorization_code', 'refresh_token'], response_types: ['code'] }],
    },
  })
  try {
    const basic = await createResourceClient({ ...world.options(), clientId: 'enc-basic', clientSecret: secret, redirectUri: 'http://127.0.0.1:9/cb-enc' })
    await assert.rejects(basic.startLogin('user'), (err) => {
      assert.equal(code(err), 'token_endpoint_error')
      assert.equal((err as ResourceTokensError).error, 'invalid_client')
      assert.equal((err as ResourceTokensError).status, 401)
      assert.match((err as Error).message, /client_secret_post/)
      return true
    })
    // The same without PAR: the code exchange is refused, and the error says why.
    const noPar = await createResourceClient({ ...world.options(), clientId: 'enc-basic', clientSecret: secret, redirectUri: 'http://127.0.0.1:9/cb-enc', pushedAuthorizationRequests: 'never' })
    const { url } = await noPar.startLogin('user')
    await assert.rejects(noPar.finishLogin('user', await world.op.login(url)), (err) => {
      assert.equal((err as ResourceTokensError).error, 'invalid_client')
      return true
    })
    await Promise.all([basic.close(), noPar.close()])
  } finally {
    await world.close()
  }
})

describe('ID token and subject variations', () => {
  test('(simulated provider quirk: no ID token on refresh) refresh works and the login claims stay', async () => {
    const world = await withQuirks({ noIdTokenOnRefresh: true }, { indicators: false })
    try {
      const client = await world.client({ downscoping: 'none' })
      await world.login(client, 'noid')
      world.op.resetCounters()
      assert.equal((await client.fetch('noid', `${world.contactsUrl}/people`)).status, 200)
      assert.equal(refreshes(world)[0]?.status, 200)
      assert.equal((await client.claims('noid'))?.['sub'], 'alice')
    } finally {
      await world.close()
    }
  })

  test('opaque (pairwise) sub: login, refresh with a refreshed ID token, both resources', async () => {
    const world = await withQuirks({ opaqueSub: true }, { indicators: false })
    try {
      const full = await world.client({ downscoping: 'none', logger: {} })
      await world.login(full, 'opaque')
      const sub = (await full.claims('opaque'))?.['sub']
      assert.equal(typeof sub, 'string')
      assert.match(String(sub), /^[0-9a-f]{40}$/)
      assert.notEqual(sub, 'opaque')
      // The refresh returns an ID token (openid in scope) whose sub must match the stored one.
      assert.equal((await full.fetch('opaque', `${world.contactsUrl}/people`)).status, 200)
      assert.equal(await full.hasGrant('opaque'), true)

      const scoped = await world.client()
      await world.login(scoped, 'opaque2')
      assert.equal((await scoped.fetch('opaque2', `${world.contactsUrl}/people`)).status, 200)
      assert.equal((await scoped.fetch('opaque2', `${world.calendarUrl}events`)).status, 200)
    } finally {
      await world.close()
    }
  })

  test('auth_time 0: login and refresh work', async () => {
    const world = await withQuirks({ authTimeZero: true }, { indicators: false })
    try {
      const client = await world.client({ downscoping: 'none', logger: {} })
      await world.login(client, 'epoch')
      assert.equal((await client.claims('epoch'))?.['auth_time'], 0)
      assert.equal((await client.fetch('epoch', `${world.contactsUrl}/people`)).status, 200)
      assert.equal(await client.hasGrant('epoch'), true)
    } finally {
      await world.close()
    }
  })
})

describe('down-scoping strategies', () => {
  test('downscoping "none": a warning at start-up, one full-scope token for every resource', async () => {
    const world = await startScenario({ indicators: false })
    try {
      const warnings: string[] = []
      const client = await world.client({ downscoping: 'none', logger: { warn: (message) => warnings.push(message) } })
      assert.equal(warnings.length, 1)
      assert.match(warnings[0] ?? '', /downscoping is "none"/)
      await world.login(client, 'none')
      world.op.resetCounters()
      assert.equal((await client.fetch('none', `${world.contactsUrl}/people`)).status, 200)
      assert.equal((await client.fetch('none', `${world.calendarUrl}events`)).status, 200)
      const contacts = await client.accessToken('none', world.contactsUrl)
      const calendar = await client.accessToken('none', world.calendarUrl)
      assert.equal(contacts.value, calendar.value)
      assert.deepEqual(refreshes(world).map((r) => r.scope), [undefined])
    } finally {
      await world.close()
    }
  })

  test('downscoping "none" works with a provider that narrows the refresh token', async () => {
    const world = await withQuirks({ narrowRefreshToken: 'rotated' }, { indicators: false })
    try {
      const client = await world.client({ downscoping: 'none' })
      await world.login(client, 'none-narrow')
      assert.equal((await client.fetch('none-narrow', `${world.contactsUrl}/people`)).status, 200)
      assert.equal((await client.fetch('none-narrow', `${world.calendarUrl}events`)).status, 200)
    } finally {
      await world.close()
    }
  })

  test('downscoping "token-exchange" (RFC 8693) with a provider that narrows the refresh token: audience-restricted token per resource', async () => {
    const world = await startScenario({ provider: { tokenExchange: true, quirks: { narrowRefreshToken: 'rotated' } } })
    try {
      const client = await world.client({ downscoping: 'token-exchange' })
      const grants = client.serverMetadata['grant_types_supported']
      assert.ok(Array.isArray(grants) && grants.includes('urn:ietf:params:oauth:grant-type:token-exchange'))
      await world.login(client, 'tx')
      world.op.resetCounters()
      const contacts = await client.fetch('tx', `${world.contactsUrl}/people`)
      assert.equal(contacts.status, 200)
      const contactsBody = (await contacts.json()) as Record<string, unknown>
      assert.deepEqual([contactsBody['aud']].flat(), [world.contactsUrl])
      assert.equal(contactsBody['scope'], 'contacts:read')
      const calendar = await client.fetch('tx', `${world.calendarUrl}events`)
      assert.equal(calendar.status, 200)
      const calendarBody = (await calendar.json()) as Record<string, unknown>
      assert.deepEqual([calendarBody['aud']].flat(), [world.calendarUrl])
      assert.equal(calendarBody['scope'], 'calendar:read')

      // One full-scope refresh (nothing to narrow), then one exchange per resource.
      const grantTypes = world.op.tokenRequests.map((r) => r.grantType)
      assert.deepEqual(grantTypes, ['refresh_token', 'urn:ietf:params:oauth:grant-type:token-exchange', 'urn:ietf:params:oauth:grant-type:token-exchange'])
      assert.equal(refreshes(world)[0]?.scope, undefined)
      // The contacts token is refused by the calendar API.
      const contactsToken = await client.accessToken('tx', world.contactsUrl)
      const replay = await fetch(`${world.calendarUrl}events`, { headers: { authorization: `Bearer ${contactsToken.value}` } })
      assert.equal(replay.status, 401)
      assert.equal(world.op.reusedRefreshTokens(), 0)
    } finally {
      await world.close()
    }
  })

  test('downscoping "token-exchange" with a provider that does not offer it is a config error at start-up', async () => {
    const world = await startScenario()
    try {
      await assert.rejects(world.client({ downscoping: 'token-exchange' }), (err) => {
        assert.equal(code(err), 'invalid_config')
        assert.match((err as Error).message, /token-exchange/)
        return true
      })
    } finally {
      await world.close()
    }
  })
})

describe('the test provider quirks do what they say (protocol level, no library)', () => {
  async function grant(op: TestProvider): Promise<{ config: oidc.Configuration; refreshToken: string }> {
    const config = await oidc.discovery(new URL(op.issuer), op.clientId, { redirect_uris: [op.redirectUri] }, oidc.ClientSecretBasic(op.clientSecret), { execute: [oidc.allowInsecureRequests] })
    const verifier = oidc.randomPKCECodeVerifier()
    const state = oidc.randomState()
    const url = oidc.buildAuthorizationUrl(config, { redirect_uri: op.redirectUri, scope: 'openid offline_access', prompt: 'consent', code_challenge: await oidc.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256', state })
    const tokens = await oidc.authorizationCodeGrant(config, new URL(await op.login(url)), { pkceCodeVerifier: verifier, expectedState: state })
    assert.ok(tokens.refresh_token)
    return { config, refreshToken: tokens.refresh_token }
  }

  async function refreshStatus(op: TestProvider, refreshToken: string): Promise<{ status: number; body: string }> {
    const res = await fetch(`${op.issuer}/token`, {
      method: 'POST',
      headers: { authorization: basicAuth(op.clientId, op.clientSecret), 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: refreshToken }),
    })
    return { status: res.status, body: await res.text() }
  }

  test('reuse: revoke-grant (default) kills the newest refresh token too; reject-only keeps it', async () => {
    for (const [reuse, survives] of [['revoke-grant', false], ['reject-only', true]] as const) {
      const world = await withQuirks({ reuse }, { indicators: false })
      try {
        const { config, refreshToken } = await grant(world.op)
        const next = await oidc.refreshTokenGrant(config, refreshToken)
        assert.ok(next.refresh_token && next.refresh_token !== refreshToken)
        assert.equal((await refreshStatus(world.op, refreshToken)).status, 400)
        assert.equal(world.op.reusedRefreshTokens(), 1)
        assert.equal((await refreshStatus(world.op, next.refresh_token)).status === 200, survives, reuse)
      } finally {
        await world.close()
      }
    }
  })

  test('concurrentRefresh: the second of two overlapping refreshes with one token gets an HTML 500 and counts as reuse', async () => {
    const world = await withQuirks({ concurrentRefresh: 'server-error' }, { indicators: false })
    try {
      const { refreshToken } = await grant(world.op)
      world.op.setTokenEndpointHook(() => sleep(50))
      const results = await Promise.all([refreshStatus(world.op, refreshToken), refreshStatus(world.op, refreshToken)])
      assert.deepEqual(results.map((r) => r.status).sort(), [200, 500])
      assert.match(results.find((r) => r.status === 500)?.body ?? '', /<html>/)
      assert.equal(world.op.reusedRefreshTokens(), 1)
    } finally {
      world.op.setTokenEndpointHook()
      await world.close()
    }
  })
})
