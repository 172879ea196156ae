import assert from 'node:assert/strict'
import { setTimeout as sleep } from 'node:timers/promises'
import { after, before, describe, test } from 'node:test'
import { decodeJwt } from 'jose'
import { ResourceTokensError } from 'resource-tokens'
import { startScenario, type Scenario } from '../support/scenario.js'

describe('service mode: the app\'s own per-resource tokens (client_credentials)', () => {
  let world: Scenario
  before(async () => {
    world = await startScenario({ provider: { accessTokenTTL: 4 } })
  })
  after(() => world.close())

  test('200 concurrent service calls to two resources make one token request per resource', async () => {
    const client = await world.client()
    world.op.resetCounters()
    world.op.setTokenEndpointHook(() => sleep(100))
    try {
      const responses = await Promise.all(
        Array.from({ length: 200 }, (_, i) => client.serviceFetch(i % 2 === 0 ? `${world.contactsUrl}/stats` : `${world.calendarUrl}stats`)),
      )
      assert.ok(responses.every((r) => r.status === 200))
      await Promise.all(responses.map(async (r) => r.body?.cancel()))
    } finally {
      world.op.setTokenEndpointHook()
    }
    const requests = world.op.tokenRequests.filter((r) => r.grantType === 'client_credentials')
    assert.equal(requests.length, 2)
    assert.deepEqual(requests.map((r) => r.resource?.[0]).sort(), [world.calendarUrl, world.contactsUrl].sort())
    const token = await client.serviceAccessToken(world.contactsUrl)
    const claims = decodeJwt(token.value)
    assert.equal(claims['aud'], world.contactsUrl)
    assert.equal(claims['sub'], world.op.clientId)
  })

  test('service tokens are cached and renewed before expiry', async () => {
    const client = await world.client({ skewSeconds: 1 })
    world.op.resetCounters()
    const first = await client.serviceAccessToken(world.calendarUrl)
    const again = await client.serviceAccessToken(world.calendarUrl)
    assert.equal(first.value, again.value)
    assert.equal(world.op.tokenRequests.length, 1)
    const renewal = new Promise<void>((resolve) => client.on('token', () => resolve()))
    // 4 s tokens, skew 1 s: renewed from 3 s on, in the background while the current token is still handed out.
    await sleep(3200)
    await client.serviceAccessToken(world.calendarUrl)
    await renewal
    const renewed = await client.serviceAccessToken(world.calendarUrl)
    assert.notEqual(renewed.value, first.value)
    assert.ok(renewed.expiresAt > first.expiresAt)
    assert.ok(first.expiresAt > Date.now(), 'the first token was renewed before it expired')
    assert.equal(world.op.tokenRequests.length, 2)
  })

  test('a service token is refused by the other resource; service DPoP works', async () => {
    const client = await world.client({
      resources: [
        { url: world.contactsUrl, scope: 'contacts:read', indicator: world.contactsUrl, dpop: true },
        { url: world.calendarUrl, scope: 'calendar:read', indicator: world.calendarUrl },
      ],
    })
    const contacts = await client.serviceAccessToken(world.contactsUrl)
    assert.equal(contacts.type, 'dpop')
    const res = await client.serviceFetch(`${world.contactsUrl}/stats`)
    assert.equal(res.status, 200)
    assert.match(String(world.contacts.requests.at(-1)?.headers['authorization']), /^DPoP /)
    const calendarReplay = await fetch(`${world.calendarUrl}stats`, { headers: { authorization: `Bearer ${(await client.serviceAccessToken(world.contactsUrl)).value}` } })
    assert.equal(calendarReplay.status, 401)
    await assert.rejects(client.serviceAccessToken('https://unknown.example/'), (err) => err instanceof ResourceTokensError && err.code === 'unknown_resource')
  })
})
