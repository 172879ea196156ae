import assert from 'node:assert/strict'
import { setTimeout as sleep } from 'node:timers/promises'
import { after, before, describe, test } from 'node:test'
import { type ResourceTokensError } from 'resource-tokens'
import { startScenario, type Scenario } from '../support/scenario.js'
import { code } from '../support/errors.js'

function refreshes(world: Scenario) {
  return world.op.tokenRequests.filter((r) => r.grantType === 'refresh_token')
}

describe('per-resource tokens with resource indicators and rotation', () => {
  let world: Scenario
  before(async () => {
    world = await startScenario()
  })
  after(() => world.close())

  test('each resource gets its own audience and scope; a token is refused by the other resource', async () => {
    const client = await world.client()
    await world.login(client, 'alice')
    world.op.resetCounters()
    const contacts = await client.fetch('alice', `${world.contactsUrl}/people`)
    assert.equal(contacts.status, 200)
    const contactsBody = (await contacts.json()) as Record<string, unknown>
    assert.deepEqual([contactsBody['aud']].flat(), [world.contactsUrl])
    assert.equal(contactsBody['scope'], 'contacts:read')
    const calendar = await client.fetch('alice', `${world.calendarUrl}events`)
    assert.equal(calendar.status, 200)
    const calendarBody = (await calendar.json()) as Record<string, unknown>
    assert.deepEqual([calendarBody['aud']].flat(), [world.calendarUrl])
    assert.equal(calendarBody['scope'], 'calendar:read')

    const requests = refreshes(world)
    assert.equal(requests.length, 2)
    assert.deepEqual(requests.map((r) => [r.scope, r.resource]), [
      ['contacts:read', [world.contactsUrl]],
      ['calendar:read', [world.calendarUrl]],
    ])

    const contactsToken = await client.accessToken('alice', `${world.contactsUrl}/people`)
    const replay = await fetch(`${world.calendarUrl}events`, { headers: { authorization: `Bearer ${contactsToken.value}` } })
    assert.equal(replay.status, 401)
    assert.match(replay.headers.get('www-authenticate') ?? '', /invalid_token/)
  })

  test('tokens are cached: a second call makes no token request', async () => {
    const client = await world.client()
    await world.login(client, 'cache')
    await client.accessToken('cache', world.contactsUrl)
    world.op.resetCounters()
    const a = await client.accessToken('cache', `${world.contactsUrl}/x`)
    const b = await client.accessToken('cache', `${world.contactsUrl}/y`)
    assert.equal(a.value, b.value)
    assert.equal(world.op.tokenRequests.length, 0)
  })

  test('single-flight: 200 concurrent fetches for two resources make exactly 2 token requests, each gets its own token', async () => {
    const client = await world.client()
    await world.login(client, 'burst')
    world.op.resetCounters()
    // Slow the provider down so that all 200 calls really overlap the refreshes.
    world.op.setTokenEndpointHook(() => sleep(100))
    try {
      const calls = Array.from({ length: 200 }, (_, i) =>
        i % 2 === 0 ? client.fetch('burst', `${world.contactsUrl}/people/${i}`) : client.fetch('burst', `${world.calendarUrl}events/${i}`),
      )
      const responses = await Promise.all(calls)
      const bodies = (await Promise.all(responses.map((r) => r.json()))) as Array<Record<string, unknown>>
      assert.ok(responses.every((r) => r.status === 200))
      bodies.forEach((body, i) => assert.equal(body['resource'], i % 2 === 0 ? 'contacts' : 'calendar'))
    } finally {
      world.op.setTokenEndpointHook()
    }
    assert.equal(refreshes(world).length, 2)
    assert.equal(world.op.reusedRefreshTokens(), 0)
  })

  test('renewal before expiry with rotation: never a reused refresh token', async () => {
    const short = await startScenario({ provider: { accessTokenTTL: 4 } })
    try {
      const client = await short.client({ skewSeconds: 1 })
      await short.login(client, 'renew')
      short.op.resetCounters()
      const first = await client.accessToken('renew', short.contactsUrl)
      const firstCal = await client.accessToken('renew', short.calendarUrl)
      const renewed = new Promise<void>((resolve) => {
        let tokens = 0
        client.on('token', () => {
          if (++tokens === 2) resolve()
        })
      })
      // 4 s tokens renew from 3 s on (skew 1 s), in the background while the old token is still handed out.
      await sleep(3200)
      await client.accessToken('renew', short.contactsUrl)
      await client.accessToken('renew', short.calendarUrl)
      await renewed
      const second = await client.accessToken('renew', short.contactsUrl)
      const secondCal = await client.accessToken('renew', short.calendarUrl)
      assert.notEqual(first.value, second.value)
      assert.notEqual(firstCal.value, secondCal.value)
      assert.ok(second.expiresAt > first.expiresAt)
      assert.equal(refreshes(short).length, 4)
      assert.equal(short.op.reusedRefreshTokens(), 0)
      const res = await client.fetch('renew', `${short.contactsUrl}/people`)
      assert.equal(res.status, 200)
    } finally {
      await short.close()
    }
  })

  test('invalid_grant deletes the grant and throws login_required', async () => {
    const client = await world.client()
    await world.login(client, 'revoked')
    await client.accessToken('revoked', world.contactsUrl)
    world.op.failTokenRequests(1, { status: 400, body: JSON.stringify({ error: 'invalid_grant', error_description: 'grant request is invalid' }), contentType: 'application/json' })
    await assert.rejects(client.accessToken('revoked', world.calendarUrl), (err) => code(err) === 'login_required')
    assert.equal(await client.hasGrant('revoked'), false)
  })

  for (const [name, fault] of [
    ['HTTP 503', { status: 503, body: 'unavailable', contentType: 'text/plain' }],
    ['HTML 500 page', { status: 500, body: '<html><body>oops</body></html>', contentType: 'text/html' }],
    ['JSON 500 error', { status: 500, body: JSON.stringify({ error: 'server_error' }), contentType: 'application/json' }],
    ['connection reset', 'reset'],
  ] as const) {
    test(`transient failure (${name}) keeps the refresh token; the next call succeeds`, async () => {
      const client = await world.client()
      await world.login(client, `transient-${name}`)
      world.op.failTokenRequests(1, fault)
      await assert.rejects(client.accessToken(`transient-${name}`, world.contactsUrl), (err) => {
        assert.equal(code(err), 'token_endpoint_unavailable')
        assert.match((err as Error).message, /refresh token was kept/)
        return true
      })
      assert.equal(await client.hasGrant(`transient-${name}`), true)
      const res = await client.fetch(`transient-${name}`, `${world.contactsUrl}/people`)
      assert.equal(res.status, 200)
      assert.equal(world.op.reusedRefreshTokens(), 0)
    })
  }

  test('provider down (connection refused): typed error, grant kept', async () => {
    const down = await startScenario()
    const client = await down.client({ timeoutSeconds: 2 })
    await down.login(client, 'down')
    await down.op.close()
    await assert.rejects(client.accessToken('down', down.contactsUrl), (err) => code(err) === 'token_endpoint_unavailable')
    assert.equal(await client.hasGrant('down'), true)
    await client.close()
    await Promise.all([down.contacts.close(), down.calendar.close()])
  })

  test('a 401 invalid_token drops the cached token and retries once with a fresh one', async () => {
    const client = await world.client()
    await world.login(client, 'retry')
    const before = await client.accessToken('retry', world.contactsUrl)
    let refused = 0
    world.contacts.respond((_req, res) => {
      if (refused > 0) return false
      refused++
      res.writeHead(401, { 'www-authenticate': 'Bearer realm="contacts", error="invalid_token", error_description="revoked"' }).end()
      return true
    })
    try {
      const res = await client.fetch('retry', `${world.contactsUrl}/people`, { method: 'POST', body: 'hello', headers: { 'content-type': 'text/plain' } })
      assert.equal(res.status, 200)
      const after = await client.accessToken('retry', world.contactsUrl)
      assert.notEqual(after.value, before.value)
      const last = world.contacts.requests.at(-1)
      assert.equal(last?.body, 'hello')
    } finally {
      world.contacts.respond()
    }
  })

  test('a 401 invalid_token twice is returned to the caller, not looped', async () => {
    const client = await world.client()
    await world.login(client, 'loop')
    let refused = 0
    world.contacts.respond((_req, res) => {
      refused++
      res.writeHead(401, { 'www-authenticate': 'Bearer error="invalid_token"' }).end()
      return true
    })
    try {
      const res = await client.fetch('loop', `${world.contactsUrl}/people`)
      assert.equal(res.status, 401)
      assert.equal(refused, 2)
    } finally {
      world.contacts.respond()
    }
  })

  test('a 403 insufficient_scope becomes a typed error carrying the scope asked for', async () => {
    const client = await world.client()
    await world.login(client, 'scope')
    world.contacts.respond((_req, res) => {
      res.writeHead(403, { 'www-authenticate': 'Bearer error="insufficient_scope", scope="contacts:write"' }).end()
      return true
    })
    try {
      await assert.rejects(client.fetch('scope', `${world.contactsUrl}/people`, { method: 'DELETE' }), (err) => {
        assert.equal(code(err), 'insufficient_scope')
        assert.equal((err as ResourceTokensError).scope, 'contacts:write')
        return true
      })
    } finally {
      world.contacts.respond()
    }
  })

  test('(fault injected: token response crafted) a broader scope than asked is reported; strict mode refuses it', async () => {
    const broad = JSON.stringify({ access_token: 'broad-token-value', token_type: 'Bearer', expires_in: 60, scope: 'contacts:read contacts:write openid' })
    const fault = { status: 200, body: broad, contentType: 'application/json' }

    const warnings: string[] = []
    // strictScopes is on by default since issue 13: the lenient client says so.
    const lenient = await world.client({ strictScopes: false, logger: { warn: (message) => warnings.push(message) } })
    const events: Array<{ requested: string; granted: string }> = []
    lenient.on('scope_broadened', (e) => events.push(e))
    await world.login(lenient, 'broad')
    world.op.failTokenRequests(1, fault)
    const token = await lenient.accessToken('broad', world.contactsUrl)
    assert.equal(token.value, 'broad-token-value')
    assert.equal(events.length, 1)
    assert.equal(events[0]?.requested, 'contacts:read')
    assert.ok(warnings.some((w) => /more scope than requested/.test(w)))

    const strict = await world.client({ strictScopes: true })
    await world.login(strict, 'broad-strict')
    world.op.failTokenRequests(1, fault)
    await assert.rejects(strict.accessToken('broad-strict', world.contactsUrl), (err) => code(err) === 'scope_broadened')
    // The refusal did not cost the grant: the next, honest response is accepted.
    const honest = await strict.accessToken('broad-strict', world.contactsUrl)
    assert.equal(honest.scope, 'contacts:read')
  })

  test('(fault injected: token response crafted) no expires_in: a default lifetime is assumed; case-variant token_type accepted', async () => {
    const client = await world.client({ defaultTokenLifetimeSeconds: 120 })
    await world.login(client, 'noexp')
    world.op.failTokenRequests(1, { status: 200, body: JSON.stringify({ access_token: 'no-exp-token', token_type: 'BeArEr', scope: 'contacts:read' }), contentType: 'application/json' })
    const start = Date.now()
    const token = await client.accessToken('noexp', world.contactsUrl)
    assert.equal(token.type, 'bearer')
    assert.ok(token.expiresAt >= start + 119_000 && token.expiresAt <= Date.now() + 120_000)
  })
})

describe('scope-only audience restriction (no resource indicators, opaque tokens)', () => {
  let world: Scenario
  before(async () => {
    world = await startScenario({ indicators: false })
  })
  after(() => world.close())

  test('each resource gets a down-scoped token without resource parameters', async () => {
    const client = await world.client()
    await world.login(client, 'carol')
    world.op.resetCounters()
    const contacts = await client.fetch('carol', `${world.contactsUrl}/people`)
    assert.equal(contacts.status, 200)
    const calendar = await client.fetch('carol', `${world.calendarUrl}events`)
    assert.equal(calendar.status, 200)
    const requests = refreshes(world)
    assert.deepEqual(requests.map((r) => [r.scope, r.resource ?? []]), [
      ['contacts:read', []],
      ['calendar:read', []],
    ])
    const contactsToken = await client.accessToken('carol', world.contactsUrl)
    const replay = await fetch(`${world.calendarUrl}events`, { headers: { authorization: `Bearer ${contactsToken.value}` } })
    assert.equal(replay.status, 403, 'a contacts token lacks the calendar scope')
  })
})
