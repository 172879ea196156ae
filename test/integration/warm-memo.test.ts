// The warm path's memo (issue 17, src/tokens/ready-tokens.ts), with the default options: once a token has been
// handed out from the grant cache, later requests get it from a memo held with that cache entry. Whatever ends the
// entry or the token's use must end the memo too: a logout or a renewal on another instance sharing the store, the
// app's session lifetime, the token's renewal time, and (for a URL sent before, its lane) a change of the registered
// resources. Each test first makes the memo hold the token and the URL's lane (two warm requests of the same URL).
import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import { MemoryStore, type ResourceClient } from 'resource-tokens'
import { code } from '../support/errors.js'
import { startScenario, type Scenario } from '../support/scenario.js'

let world: Scenario
before(async () => {
  world = await startScenario()
})
after(async () => {
  await world?.close()
})

const bearerOf = (request: { headers: Record<string, unknown> } | undefined): unknown => request?.headers['authorization']

async function warm(client: ResourceClient, key: string): Promise<string> {
  for (let i = 0; i < 2; i++) assert.equal((await client.fetch(key, `${world.contactsUrl}/people`)).status, 200)
  return `Bearer ${(await client.accessToken(key, world.contactsUrl)).value}`
}

test('a logout on another instance sharing the store: the remembered token is not sent again', async () => {
  const store = new MemoryStore()
  const a = await world.client({ store })
  const b = await world.client({ store })
  await world.login(a, 'memo-logout')
  await warm(a, 'memo-logout')
  const sent = world.contacts.requests.length
  await b.logout('memo-logout')
  await assert.rejects(a.fetch('memo-logout', `${world.contactsUrl}/people`), (err) => code(err) === 'login_required')
  assert.equal(world.contacts.requests.length, sent, 'nothing was sent to the resource')
})

test('a renewal on another instance sharing the store: the next request carries the new token', async () => {
  const store = new MemoryStore()
  const a = await world.client({ store })
  const b = await world.client({ store })
  await world.login(a, 'memo-renewed')
  const old = await warm(a, 'memo-renewed')
  // The resource refuses the next request (b's) with invalid_token: b obtains a new token and stores it.
  let refused = 0
  world.contacts.respond((_req, res) => {
    if (refused > 0) return false
    refused++
    res.writeHead(401, { 'www-authenticate': 'Bearer error="invalid_token"' }).end()
    return true
  })
  try {
    assert.equal((await b.fetch('memo-renewed', `${world.contactsUrl}/people`)).status, 200)
  } finally {
    world.contacts.respond()
  }
  const renewed = bearerOf(world.contacts.requests.at(-1))
  assert.notEqual(renewed, old, 'b renewed')
  assert.equal((await a.fetch('memo-renewed', `${world.contactsUrl}/people`)).status, 200)
  assert.equal(bearerOf(world.contacts.requests.at(-1)), renewed, 'a sent the token b stored, not the one it remembered')
})

test('the session ends before the token is due for renewal: a remembered token is not sent past the end', async () => {
  let offset = 0
  // 30 s: the session ends before the token's renewal time (270 s) and before the grant cache entry ages out (60 s).
  const client = await world.client({ absoluteSessionSeconds: 30, now: () => Date.now() + offset })
  await world.login(client, 'memo-session')
  await warm(client, 'memo-session')
  const sent = world.contacts.requests.length
  offset = 31_000
  await assert.rejects(client.fetch('memo-session', `${world.contactsUrl}/people`), (err) => code(err) === 'login_required')
  assert.equal(world.contacts.requests.length, sent, 'nothing was sent to the resource')
})

test('at the renewal time a remembered token starts its renewal ahead of need, and is still sent meanwhile', async () => {
  let offset = 0
  const client = await world.client({ now: () => Date.now() + offset })
  await world.login(client, 'memo-renewal')
  const old = await warm(client, 'memo-renewal')
  const token = await client.accessToken('memo-renewal', world.contactsUrl)
  const tokenRequests = world.op.tokenRequests.length
  // Into the renewal window, before the end of the token's use.
  offset = token.expiresAt - Date.now() - 20_000
  assert.equal((await client.fetch('memo-renewal', `${world.contactsUrl}/people`)).status, 200)
  assert.equal(bearerOf(world.contacts.requests.at(-1)), old, 'the current token is sent while its renewal runs')
  await client.close() // waits for the renewal in flight
  assert.equal(world.op.tokenRequests.length, tokenRequests + 1, 'one renewal started')
})

test('a resource registered at run time and removed again: its URL, sent with its token before, now goes without one', async () => {
  const client = await world.client({ resources: [world.options().resources[0]!] })
  // Registered before the login, which then asks for it too.
  client.addResource({ url: world.calendarUrl, scope: 'calendar:read', indicator: world.calendarUrl, name: 'calendar' })
  await world.login(client, 'memo-removed')
  for (let i = 0; i < 3; i++) assert.equal((await client.fetch('memo-removed', world.calendarUrl)).status, 200)
  assert.match(String(bearerOf(world.calendar.requests.at(-1))), /^Bearer /)
  assert.equal(client.removeResource(world.calendarUrl), true)
  await client.fetch('memo-removed', world.calendarUrl)
  assert.equal(bearerOf(world.calendar.requests.at(-1)), undefined, 'no token for a URL of no registered resource')
})
