import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import { startGuardedServer, type GuardedServer } from '../support/guarded-server.js'
import { startScenario, type Scenario } from '../support/scenario.js'

describe('DPoP nonces and replay, against the library\'s guard and a provider that demands nonces', () => {
  let world: Scenario
  let guarded: GuardedServer
  before(async () => {
    world = await startScenario({ provider: { dpopNonce: true } })
    guarded = await startGuardedServer((url) => ({
      issuer: world.op.issuer,
      audience: `${url}/api`,
      scopes: ['orders:read'],
      dpop: { required: true, nonce: { secret: 'a-resource-server-nonce-secret-of-32+bytes' } },
    }))
    world.op.registerResource({ indicator: `${guarded.url}/api`, scope: 'orders:read' })
  })
  after(async () => {
    await guarded.close()
    await world.close()
  })

  test('the provider\'s and the resource\'s use_dpop_nonce each get one retry, then the request succeeds', async () => {
    const client = await world.client({
      resources: [{ url: `${guarded.url}/api`, scope: 'orders:read', indicator: `${guarded.url}/api`, dpop: true }],
    })
    await world.login(client, 'nonce-user')
    world.op.resetCounters()
    const res = await client.fetch('nonce-user', `${guarded.url}/api/orders`)
    assert.equal(res.status, 200)
    assert.deepEqual(await res.json(), { sub: 'alice', scopes: ['orders:read'], bound: true })
    // Token endpoint: first refresh answered use_dpop_nonce, retried once with the nonce.
    const refreshes = world.op.tokenRequests.filter((r) => r.grantType === 'refresh_token')
    assert.deepEqual(refreshes.map((r) => r.status), [400, 200])
    // Resource: first request answered use_dpop_nonce, retried once with its nonce.
    assert.deepEqual(guarded.statuses.slice(-2), [401, 200])
    // The nonce is remembered per origin: the next request needs no retry.
    const again = await client.fetch('nonce-user', `${guarded.url}/api/orders?page=2`)
    assert.equal(again.status, 200)
    assert.deepEqual(guarded.statuses.slice(-1), [200])
  })

  test('a replayed proof is refused by the guard', async () => {
    const client = await world.client({
      resources: [{ url: `${guarded.url}/api`, scope: 'orders:read', indicator: `${guarded.url}/api`, dpop: true }],
      // Capture what the library sends, to replay it verbatim.
      fetch: async (input, init) => {
        const headers = new Headers(init?.headers)
        if (headers.has('dpop')) captured = { authorization: headers.get('authorization') ?? '', dpop: headers.get('dpop') ?? '' }
        return fetch(input, init)
      },
    })
    let captured: { authorization: string; dpop: string } | undefined
    await world.login(client, 'replay-user')
    const res = await client.fetch('replay-user', `${guarded.url}/api/orders`)
    assert.equal(res.status, 200)
    assert.ok(captured)
    const replay = await fetch(`${guarded.url}/api/orders`, { headers: captured })
    assert.equal(replay.status, 401)
    assert.match(replay.headers.get('www-authenticate') ?? '', /invalid_dpop_proof/)
  })

  test('client.request (the undici fast path): the resource\'s use_dpop_nonce gets one retry with the nonce, then the request succeeds; the nonce is remembered', async () => {
    const client = await world.client({ resources: [{ url: `${guarded.url}/api`, scope: 'orders:read', indicator: `${guarded.url}/api`, dpop: true }] })
    await world.login(client, 'nonce-user')
    const res = await client.request('nonce-user', `${guarded.url}/api/orders`, { method: 'POST', body: 'order=1' })
    assert.equal(res.statusCode, 200)
    assert.deepEqual(await res.body.json(), { sub: 'alice', scopes: ['orders:read'], bound: true })
    assert.deepEqual(guarded.statuses.slice(-2), [401, 200])
    const again = await client.request('nonce-user', `${guarded.url}/api/orders?page=2`)
    assert.equal(again.statusCode, 200)
    await again.body.dump()
    assert.deepEqual(guarded.statuses.slice(-1), [200])
  })
})
