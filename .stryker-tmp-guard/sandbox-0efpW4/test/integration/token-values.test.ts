// @ts-nocheck
// Issue 12, items 3 and 5: what the token endpoint hands out is checked before it is stored or sent.
// Item 3: an access_token that is not an RFC 6750 b64token (newline, NUL, space) made `fetch` reject with the
// platform's header error, whose message held `Bearer <token>`. Now: a typed `invalid_token_response` that holds no
// token, nothing sent to the resource, and the grant (with the rotated refresh token) kept. The corruption is a
// test-provider fault: oidc-provider answers, and its access_token is rewritten on the way out.
// Item 5: a `dpop: 'required'` resource refuses a Bearer token from a provider that ignored DPoP (simulated provider
// quirk: the DPoP header is dropped in front of oidc-provider); `dpop: true` keeps accepting it with a warning.
import assert from 'node:assert/strict'
import { inspect } from 'node:util'
import { after, before, describe, test } from 'node:test'
import { ResourceTokensError, type ResourceClient } from 'resource-tokens'
import { code } from '../support/errors.js'
import { startScenario, type Scenario } from '../support/scenario.js'

describe('token values from the token endpoint are checked before use (item 3)', () => {
  let world: Scenario
  let client: ResourceClient

  before(async () => {
    world = await startScenario()
    client = await world.client()
  })
  after(() => world.close())

  for (const [what, corrupt] of [
    ['a newline', (t: string) => `${t}\r\nX-Injected: 1`],
    ['a NUL', (t: string) => `${t}\u0000`],
    ['a space', (t: string) => `${t.slice(0, 10)} ${t.slice(10)}`],
    ['a non-ASCII character', (t: string) => `${t}é`],
  ] as const) {
    test(`an access_token with ${what}: invalid_token_response without the token, nothing sent, the grant kept`, async () => {
      const KEY = `user-${what}`
      await world.login(client, KEY)
      const corrupted: string[] = []
      world.op.failTokenRequests(1, { accessToken: (issued) => { const bad = corrupt(issued); corrupted.push(bad, issued); return bad } })
      const sentBefore = world.contacts.requests.length
      const url = `${world.contactsUrl}/people/${what.length}`
      let caught: unknown
      try {
        await client.fetch(KEY, url)
      } catch (err) {
        caught = err
      }
      assert.ok(caught instanceof ResourceTokensError, `expected a ResourceTokensError, got ${String(caught)}`)
      assert.equal(code(caught), 'invalid_token_response')
      assert.equal(corrupted.length, 2, 'the fault fired')
      const printed = `${inspect(caught, { depth: 8 })}\n${String(caught.stack)}\n${JSON.stringify(caught)}`
      for (const secret of corrupted) assert.ok(!printed.includes(secret.slice(0, 40)), 'no part of the token in the error')
      assert.equal(world.contacts.requests.length, sentBefore, 'nothing was sent to the resource')
      // The grant is kept, with the refresh token the provider rotated in that same response: the next call works
      // and the provider never saw a refresh token twice.
      assert.equal(await client.hasGrant(KEY), true)
      const res = await client.fetch(KEY, url)
      assert.equal(res.status, 200)
      await res.text()
      assert.equal(world.op.reusedRefreshTokens(), 0)
    })
  }
})

describe('silent DPoP downgrade (item 5): a provider that ignores DPoP', () => {
  let world: Scenario

  before(async () => {
    world = await startScenario({ provider: { quirks: { ignoreDPoP: true } } })
  })
  after(() => world.close())

  function withDpop(mode: boolean | 'required'): Parameters<Scenario['client']>[0] {
    const [contacts, calendar] = world.options().resources
    return { resources: [{ ...contacts!, dpop: mode }, calendar!] }
  }

  test('dpop: "required" refuses the Bearer token: invalid_token_response, nothing sent, the grant kept', async () => {
    const warnings: string[] = []
    const client = await world.client({ ...withDpop('required'), logger: { warn: (m) => warnings.push(m) } })
    await world.login(client, 'strict')
    const before = world.contacts.requests.length
    await assert.rejects(client.fetch('strict', `${world.contactsUrl}/people`), (err) => code(err) === 'invalid_token_response')
    await assert.rejects(client.accessToken('strict', `${world.contactsUrl}/people`), (err) => code(err) === 'invalid_token_response')
    assert.equal(world.contacts.requests.length, before, 'no Bearer token was sent')
    assert.equal(await client.hasGrant('strict'), true)
    assert.equal(world.op.reusedRefreshTokens(), 0)
    // The other resource of the same grant is unaffected.
    const calendar = await client.fetch('strict', `${world.calendarUrl}events`)
    assert.equal(calendar.status, 200)
    await calendar.text()
  })

  test('dpop: true (the default way of asking) accepts the Bearer token with a warning, as RFC 9449 section 5 allows', async () => {
    const warnings: string[] = []
    const client = await world.client({ ...withDpop(true), logger: { warn: (m) => warnings.push(m) } })
    await world.login(client, 'lenient')
    const info = await client.accessToken('lenient', `${world.contactsUrl}/people`)
    assert.equal(info.type, 'bearer')
    assert.ok(warnings.some((w) => w.includes('bearer token where a DPoP-bound token was requested')), warnings.join('\n'))
  })

  test('the option is validated', async () => {
    const [contacts] = world.options().resources
    await assert.rejects(world.client({ resources: [{ ...contacts!, dpop: 'yes' as unknown as boolean }] }), (err) => code(err) === 'invalid_config')
  })
})
