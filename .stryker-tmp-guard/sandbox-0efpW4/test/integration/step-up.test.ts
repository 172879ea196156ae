// @ts-nocheck
import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import { ResourceTokensError, type ResourceClient } from 'resource-tokens'
import { decodeJwt } from 'jose'
import { startGuardedServer, type GuardedServer } from '../support/guarded-server.js'
import { sha256 } from '../support/provider.js'
import { startScenario, type Scenario } from '../support/scenario.js'
import { startToolServer, type ToolServer } from '../support/tool-server.js'

const STRONG = 'urn:test:loa:2'
const WEAK = 'urn:test:loa:1'

// Incremental authorization and step-up (RFC 9470) against the real test provider: errors carry the login
// that would satisfy them; that login merges into the grant; the ID token's acr and auth_time are checked.
describe('incremental authorization and step-up', () => {
  let world: Scenario
  let ledger: GuardedServer
  let ledgerUrl = ''
  let tools: ToolServer
  /** Refresh tokens the client asked the provider to revoke (kept in memory by the test only, never printed). */
  const revoked: string[] = []
  const spy: typeof fetch = async (input, init) => {
    const url = input instanceof Request ? input.url : String(input)
    if (url.endsWith('/token/revocation') && init?.body instanceof URLSearchParams && init.body.get('token_type_hint') === 'refresh_token') revoked.push(init.body.get('token') ?? '')
    return fetch(input, init)
  }

  before(async () => {
    world = await startScenario()
    // A route that needs a recent, two-factor sign-in: the library's own guard, per route.
    ledger = await startGuardedServer((url) => ({ issuer: world.op.issuer, audience: `${url}/api`, scopes: ['ledger:read'], acrValues: [STRONG], maxAgeSeconds: 300 }))
    ledgerUrl = `${ledger.url}/api`
    world.op.registerResource({ indicator: ledgerUrl, scope: 'ledger:read' })
    tools = await startToolServer(world.op)
  })
  after(async () => {
    await Promise.all([ledger.close(), tools.close()])
    await world.close()
  })

  function client(): Promise<ResourceClient> {
    return world.client({
      fetch: spy,
      resources: [...world.options().resources, { url: ledgerUrl, scope: 'ledger:read', indicator: ledgerUrl, name: 'ledger' }],
    })
  }

  async function login(c: ResourceClient, key: string, options: Parameters<ResourceClient['startLogin']>[1] = {}, acr?: string): Promise<URL> {
    const { url } = await c.startLogin(key, { returnTo: '/', ...options })
    await c.finishLogin(key, await world.op.login(url, acr === undefined ? {} : { acr }))
    return url
  }

  function lastRefreshTokenHash(): string | undefined {
    return world.op.tokenRequests.filter((r) => r.grantType === 'refresh_token').at(-1)?.refreshTokenHash
  }

  test('a resource not in the grant: the error carries login parameters; a second login adds it; the first resource\'s token survives', async () => {
    const c = await client()
    await login(c, 'inc-1')
    const contacts = await c.accessToken('inc-1', world.contactsUrl)
    const revokedBefore = revoked.length
    c.addResource({ url: tools.indicator, scope: 'tools:call', indicator: tools.indicator })
    let error: ResourceTokensError | undefined
    await c.fetch('inc-1', `${tools.indicator}/call`).catch((err: unknown) => (error = err as ResourceTokensError))
    assert.ok(error instanceof ResourceTokensError, 'the fetch failed')
    assert.equal(error.code, 'token_endpoint_error')
    assert.ok(error.error === 'invalid_target' || error.error === 'invalid_scope')
    assert.deepEqual(error.login, { resources: [tools.indicator], scope: 'tools:call' })
    assert.equal(tools.tokensReceived().length, 0)

    const url = await login(c, 'inc-1', error.login)
    assert.ok(url.searchParams.getAll('resource').includes(tools.indicator) || world.op.parRequests.at(-1)?.getAll('resource').includes(tools.indicator))
    const res = await c.fetch('inc-1', `${tools.indicator}/call`)
    assert.equal(res.status, 200)
    assert.equal(((await res.json()) as { aud: string }).aud, tools.indicator)
    assert.equal((await c.accessToken('inc-1', world.contactsUrl)).value, contacts.value, 'the contacts token was kept')
    // The calendar (covered by both logins) still works with the new refresh token.
    assert.equal((await c.fetch('inc-1', `${world.calendarUrl}events`)).status, 200)
    const old = revoked.slice(revokedBefore)
    assert.equal(old.length, 1, 'the replaced refresh token was revoked once the new one was stored')
    assert.equal((await world.op.introspect(old[0]!))['active'], false)
    assert.notEqual(lastRefreshTokenHash(), sha256(old[0]!), 'refreshes use the new refresh token')
  })

  test('step-up: 401 insufficient_user_authentication carries acr_values and max_age; the login satisfies it, other tokens survive', async () => {
    const c = await client()
    await login(c, 'step-1')
    const contacts = await c.accessToken('step-1', world.contactsUrl)
    // The guard's challenge, as RFC 9470 section 3 writes it.
    const plain = await fetch(`${ledgerUrl}/balance`, { headers: { authorization: `Bearer ${(await c.accessToken('step-1', ledgerUrl)).value}` } })
    assert.equal(plain.status, 401)
    const challenge = plain.headers.get('www-authenticate') ?? ''
    assert.match(challenge, /error="insufficient_user_authentication"/)
    assert.match(challenge, /acr_values="urn:test:loa:2"/)
    assert.match(challenge, /max_age="300"/)

    let error: ResourceTokensError | undefined
    await c.fetch('step-1', `${ledgerUrl}/balance`).catch((err: unknown) => (error = err as ResourceTokensError))
    assert.ok(error instanceof ResourceTokensError)
    assert.equal(error.code, 'insufficient_user_authentication')
    assert.deepEqual(error.login, { resources: [ledgerUrl], acrValues: STRONG, maxAge: 300 })

    const url = await login(c, 'step-1', error.login)
    const sent = world.op.parRequests.at(-1) ?? url.searchParams
    assert.equal(sent.get('acr_values'), STRONG)
    assert.equal(sent.get('max_age'), '300')
    const claims = await c.claims('step-1')
    assert.equal(claims?.['acr'], STRONG)
    assert.equal(typeof claims?.['auth_time'], 'number')
    const res = await c.fetch('step-1', `${ledgerUrl}/balance`)
    assert.equal(res.status, 200)
    assert.equal(decodeJwt((await c.accessToken('step-1', ledgerUrl)).value)['acr'], STRONG)
    assert.equal((await c.accessToken('step-1', world.contactsUrl)).value, contacts.value, 'the contacts token was kept')
  })

  test('an ID token whose acr is not one asked for is refused; the grant is left as it was', async () => {
    const c = await client()
    await login(c, 'weak-1')
    const before = await c.claims('weak-1')
    const contacts = await c.accessToken('weak-1', world.contactsUrl)
    const { url } = await c.startLogin('weak-1', { acrValues: STRONG, maxAge: 300 })
    // The provider authenticates the user with a password only and says so.
    const callback = await world.op.login(url, { acr: WEAK })
    await assert.rejects(c.finishLogin('weak-1', callback), (err: unknown) => {
      assert.ok(err instanceof ResourceTokensError)
      assert.equal(err.code, 'insufficient_user_authentication')
      assert.deepEqual(err.login, { acrValues: STRONG, maxAge: 300 })
      return true
    })
    assert.deepEqual(await c.claims('weak-1'), before)
    assert.equal((await c.accessToken('weak-1', world.contactsUrl)).value, contacts.value)
  })

  test('a forged acr in the ID token (payload altered in transit) is refused', async () => {
    // Fault a real provider cannot show: a network attacker rewrites the ID token's acr (mock, named so).
    const forging: typeof fetch = async (input, init) => {
      const response = await fetch(input, init)
      const url = input instanceof Request ? input.url : String(input)
      if (!url.endsWith('/token') || !(init?.body instanceof URLSearchParams) || init.body.get('grant_type') !== 'authorization_code') return response
      const body = (await response.json()) as Record<string, string>
      const [header, payload, signature] = (body['id_token'] ?? '').split('.')
      const claims = JSON.parse(Buffer.from(payload ?? '', 'base64url').toString()) as Record<string, unknown>
      claims['acr'] = STRONG
      body['id_token'] = `${header}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.${signature}`
      return new Response(JSON.stringify(body), { status: response.status, headers: response.headers })
    }
    const c = await world.client({ fetch: forging })
    const { url } = await c.startLogin('forged-1', { acrValues: STRONG })
    const callback = await world.op.login(url, { acr: WEAK })
    await assert.rejects(c.finishLogin('forged-1', callback), (err: unknown) => err instanceof ResourceTokensError && err.code === 'invalid_id_token')
    assert.equal(await c.hasGrant('forged-1'), false)
  })

  test('bad incremental parameters are refused before anything is sent', async () => {
    const c = await client()
    for (const options of [{ resources: ['not a uri'] }, { resources: ['https://a.example/#f'] }, { scope: 'a "b' }, { acrValues: '' }, { maxAge: -1 }, { maxAge: 1.5 }]) {
      await assert.rejects(c.startLogin('bad-1', options), (err: unknown) => err instanceof ResourceTokensError && err.code === 'invalid_argument')
    }
  })
})
