// @ts-nocheck
// Session lifetimes (issue 15): absoluteSessionSeconds and idleSessionSeconds end a grant (revoked at the provider,
// removed from the store) when it is next used; login_required follows. The defaults end nothing.
import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import { createResourceClient, type ResourceClientEvents, type ResourceClientOptions } from 'resource-tokens'
import { code } from '../support/errors.js'
import { startScenario, type Scenario } from '../support/scenario.js'

let world: Scenario
before(async () => {
  world = await startScenario({ provider: { rotateRefreshToken: false } })
})
after(async () => {
  await world?.close()
})

/** A client on a clock the test moves; its token responses snooped for the refresh token. */
async function clientWithClock(options: Partial<ResourceClientOptions>): Promise<{ client: Awaited<ReturnType<typeof createResourceClient>>; advance(seconds: number): void; refreshTokens: string[] }> {
  let offset = 0
  const refreshTokens: string[] = []
  const client = await world.client({
    ...options,
    now: () => Date.now() + offset,
    fetch: async (input, init) => {
      const res = await fetch(input, init)
      if (String(input instanceof Request ? input.url : input).endsWith('/token') && res.ok) {
        const body = (await res.clone().json()) as { refresh_token?: string }
        if (body.refresh_token !== undefined) refreshTokens.push(body.refresh_token)
      }
      return res
    },
  })
  return { client, advance: (seconds) => (offset += seconds * 1000), refreshTokens }
}

test('absoluteSessionSeconds: past it the grant is revoked and removed, and login_required follows', async () => {
  const { client, advance, refreshTokens } = await clientWithClock({ absoluteSessionSeconds: 3600 })
  const removed: Array<ResourceClientEvents['grant_removed']> = []
  client.on('grant_removed', (e) => removed.push(e))
  await world.login(client, 'abs')
  assert.equal((await client.fetch('abs', `${world.contactsUrl}/people`)).status, 200)
  advance(3599)
  assert.equal(await client.hasGrant('abs'), true)
  advance(2)
  await assert.rejects(client.fetch('abs', `${world.contactsUrl}/people`), (err) => code(err) === 'login_required')
  assert.equal(await client.hasGrant('abs'), false)
  assert.deepEqual(removed.map((e) => e.reason), ['session_expired'])
  assert.equal((await world.op.introspect(refreshTokens[0] as string))['active'], false, 'the refresh token is revoked')
})

test('idleSessionSeconds: a grant that obtained no token for that long ends; use keeps it alive', async () => {
  const { client, advance } = await clientWithClock({ idleSessionSeconds: 1800 })
  await world.login(client, 'idle')
  advance(1700)
  // Renews the token (none cached yet for calendar): activity.
  assert.equal((await client.fetch('idle', world.calendarUrl)).status, 200)
  advance(1700)
  assert.equal(await client.hasGrant('idle'), true, '1700 s since the last token: not idle yet')
  advance(200)
  assert.equal(await client.hasGrant('idle'), false)
  await assert.rejects(client.accessToken('idle', world.calendarUrl), (err) => code(err) === 'login_required')
})

test('defaults: no session lifetime ends a grant (the provider\'s refresh-token lifetime and grantTtlSeconds govern)', async () => {
  const { client, advance } = await clientWithClock({})
  await world.login(client, 'default')
  advance(29 * 24 * 3600)
  assert.equal(await client.hasGrant('default'), true)
})

test('bad lifetimes are invalid_config', async () => {
  for (const bad of [0, -1, Number.NaN, '3600']) {
    await assert.rejects(createResourceClient(world.options({ absoluteSessionSeconds: bad as number })), (err) => code(err) === 'invalid_config')
    await assert.rejects(createResourceClient(world.options({ idleSessionSeconds: bad as number })), (err) => code(err) === 'invalid_config')
  }
})
