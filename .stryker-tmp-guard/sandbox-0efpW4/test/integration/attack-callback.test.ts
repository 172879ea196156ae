// @ts-nocheck
// Attacks on the authorization callback, against the real test provider (oidc-provider): login CSRF with
// another session's state, a missing or doubled state, replay, code injection with another PKCE
// challenge, a callback on the wrong URL, and mix-up between two providers (RFC 9207, RFC 9700 4.4).
// Every refusal must store nothing and, where the client can tell before redeeming, send no token request.
import assert from 'node:assert/strict'
import { createHash, randomBytes } from 'node:crypto'
import { after, before, describe, test, type TestContext } from 'node:test'
import { createResourceClient, MemoryStore, ResourceTokensError, type ResourceClient, type ResourceClientOptions } from 'resource-tokens'
import { startRecordingServer } from '../support/resource-server.js'
import { followAuthorization, startRogueProvider, type RogueProvider } from '../support/rogue-provider.js'
import { startScenario, type Scenario } from '../support/scenario.js'

async function refusal(promise: Promise<unknown>): Promise<ResourceTokensError> {
  try {
    await promise
  } catch (err) {
    assert.ok(err instanceof ResourceTokensError, `expected a ResourceTokensError, got ${String(err)}`)
    return err
  }
  assert.fail('the client accepted the callback instead of refusing it')
}

async function refusedWith(promise: Promise<unknown>, code: string, label?: string): Promise<void> {
  const err = await refusal(promise)
  assert.equal(err.code, code, `${label === undefined ? '' : `${label}: `}code ${err.code} (${err.message})`)
}

function withParams(callback: string, change: (params: URLSearchParams) => void): string {
  const url = new URL(callback)
  change(url.searchParams)
  return url.href
}

describe('callback attacks against the real provider', () => {
  let world: Scenario
  let client: ResourceClient
  before(async () => {
    world = await startScenario()
    client = await world.client()
  })
  after(() => world.close())

  const codeExchanges = () => world.op.tokenRequests.filter((r) => r.grantType === 'authorization_code')

  /** startLogin and the provider login; the callback URL the browser would bring back. */
  async function authorize(key: string, accountId?: string): Promise<string> {
    const { url } = await client.startLogin(key, { returnTo: '/home' })
    return world.op.login(url, accountId === undefined ? {} : { accountId })
  }

  test('callback: state from another session is refused, stores nothing, and consumes neither login', async () => {
    const victimCallback = await authorize('victim-1', 'victim')
    const attackerCallback = await authorize('attacker-1', 'mallory')
    const before = codeExchanges().length
    // Login CSRF: the attacker's own code and state, delivered into the victim's session.
    await refusedWith(client.finishLogin('victim-1', attackerCallback), 'invalid_callback')
    assert.equal(codeExchanges().length, before, 'the attacker\'s code was not redeemed')
    assert.equal(await client.hasGrant('victim-1'), false)
    assert.equal(await client.hasGrant('attacker-1'), false)
    // Both pending logins are intact: the foreign state consumed nothing.
    assert.equal((await client.finishLogin('victim-1', victimCallback)).claims['sub'], 'victim')
    assert.equal((await client.finishLogin('attacker-1', attackerCallback)).claims['sub'], 'mallory')
  })

  test('callback: a callback without state is refused before any token request', async () => {
    const callback = await authorize('nostate-1')
    const before = codeExchanges().length
    await refusedWith(client.finishLogin('nostate-1', withParams(callback, (p) => p.delete('state'))), 'invalid_callback')
    await refusedWith(client.finishLogin('nostate-1', withParams(callback, (p) => p.set('state', ''))), 'invalid_callback', 'empty state')
    assert.equal(codeExchanges().length, before)
    assert.equal(await client.hasGrant('nostate-1'), false)
    // The genuine callback still completes: a stateless callback consumed nothing.
    await client.finishLogin('nostate-1', callback)
    assert.equal(await client.hasGrant('nostate-1'), true)
  })

  test('callback: a callback with the state given twice is refused before any token request', async () => {
    const callback = await authorize('twostates-1')
    const state = new URL(callback).searchParams.get('state') ?? ''
    const before = codeExchanges().length
    await refusedWith(client.finishLogin('twostates-1', withParams(callback, (p) => p.append('state', state))), 'invalid_callback')
    assert.equal(codeExchanges().length, before)
    assert.equal(await client.hasGrant('twostates-1'), false)
  })

  test('callback: a replayed callback is refused without a second token request, and the grant stays', async () => {
    const callback = await authorize('replay-1', 'carol')
    const before = codeExchanges().length
    await client.finishLogin('replay-1', callback)
    assert.equal(codeExchanges().length, before + 1)
    await refusedWith(client.finishLogin('replay-1', callback), 'invalid_callback', 'same key')
    await refusedWith(client.finishLogin('replay-2', callback), 'invalid_callback', 'another key')
    assert.equal(codeExchanges().length, before + 1, 'the replayed code was never sent to the provider')
    assert.equal(await client.hasGrant('replay-2'), false)
    assert.equal((await client.claims('replay-1'))?.['sub'], 'carol', 'the replay did not disturb the grant')
  })

  test('callback: a code issued for another PKCE challenge is refused and stores nothing', async () => {
    // Two logins on one key: A is completed at the provider, B only started.
    const { url: urlA } = await client.startLogin('pkce-1')
    const { url: urlB } = await client.startLogin('pkce-1')
    assert.notEqual(urlA.href, urlB.href)
    const stateB = world.op.parRequests.at(-1)?.get('state')
    assert.ok(stateB)
    const callbackA = await world.op.login(urlA)
    assert.notEqual(new URL(callbackA).searchParams.get('state'), stateB)
    const before = world.op.tokenRequests.length
    // Code injection: A's code with B's state, so the client redeems it with B's verifier.
    await refusedWith(client.finishLogin('pkce-1', withParams(callbackA, (p) => p.set('state', stateB))), 'invalid_callback')
    const exchanges = world.op.tokenRequests.slice(before)
    assert.deepEqual(exchanges.map((r) => [r.grantType, r.status]), [['authorization_code', 400]], 'one exchange, refused by the provider (PKCE)')
    assert.equal(await client.hasGrant('pkce-1'), false)
  })

  test('callback: a callback URL on another origin or path than the redirect URI is refused and consumes nothing', async () => {
    const callback = await authorize('wrong-url-1')
    const genuine = new URL(callback)
    const variants: Array<[string, (u: URL) => void]> = [
      ['another host', (u) => { u.hostname = 'evil.test' }],
      ['localhost for 127.0.0.1', (u) => { u.hostname = 'localhost' }],
      ['another port', (u) => { u.port = String(Number(u.port) === 65535 ? 1 : Number(u.port) + 1) }],
      ['https for http', (u) => { u.protocol = 'https:' }],
      ['another path', (u) => { u.pathname = '/elsewhere' }],
      ['a longer path', (u) => { u.pathname = `${genuine.pathname}/x` }],
      ['a path prefix match', (u) => { u.pathname = `${genuine.pathname}-evil` }],
      ['a trailing slash', (u) => { u.pathname = `${genuine.pathname}/` }],
      ['another case', (u) => { u.pathname = genuine.pathname.toUpperCase() }],
    ]
    const before = codeExchanges().length
    for (const [label, change] of variants) {
      const url = new URL(callback)
      change(url)
      assert.notEqual(url.href, callback, label)
      await refusedWith(client.finishLogin('wrong-url-1', url), 'invalid_callback', label)
      await refusedWith(client.finishLogin('wrong-url-1', url.href), 'invalid_callback', `${label} (string)`)
    }
    await refusedWith(client.finishLogin('wrong-url-1', genuine.search), 'invalid_callback', 'a relative URL')
    assert.equal(codeExchanges().length, before, 'no code was redeemed')
    assert.equal(await client.hasGrant('wrong-url-1'), false)
    await client.finishLogin('wrong-url-1', callback)
    assert.equal(await client.hasGrant('wrong-url-1'), true)
  })

  test('callback: a login older than loginTtlSeconds is refused before any token request', async (t) => {
    let clock = Date.now()
    const timed = await createResourceClient(world.options({ now: () => clock, loginTtlSeconds: 60 }))
    t.after(() => timed.close())
    const { url } = await timed.startLogin('late-1')
    const callback = await world.op.login(url)
    clock += 61_000
    const before = codeExchanges().length
    await refusedWith(timed.finishLogin('late-1', callback), 'invalid_callback')
    assert.equal(codeExchanges().length, before)
    assert.equal(await timed.hasGrant('late-1'), false)
  })
})

describe('mix-up: two providers', () => {
  let world: Scenario
  let honest: ResourceClient
  let rogue: RogueProvider
  before(async () => {
    world = await startScenario()
    honest = await world.client()
    rogue = await startRogueProvider()
  })
  after(async () => {
    await rogue.close()
    await world.close()
  })

  const honestExchanges = () => world.op.tokenRequests.length
  const rogueExchanges = () => rogue.requestsTo('token').length

  /** A valid code of the rogue provider, for its own client: what the attacker holds. */
  async function rogueCode(): Promise<{ code: string; iss: string }> {
    const url = new URL(`${rogue.issuer}/authorize`)
    const challenge = createHash('sha256').update(randomBytes(32).toString('base64url')).digest('base64url')
    for (const [k, v] of Object.entries({ client_id: rogue.clientId, redirect_uri: rogue.redirectUri, response_type: 'code', scope: 'openid', state: 'attacker', code_challenge: challenge, code_challenge_method: 'S256' })) {
      url.searchParams.set(k, v)
    }
    const callback = new URL(await followAuthorization(url))
    const code = callback.searchParams.get('code')
    const iss = callback.searchParams.get('iss')
    assert.ok(code && iss)
    return { code, iss }
  }

  async function rogueClient(t: TestContext, overrides: Partial<ResourceClientOptions> = {}): Promise<{ client: ResourceClient; apiUrl: string }> {
    const api = await startRecordingServer()
    t.after(() => api.close())
    const apiUrl = `${api.url}/api`
    const client = await createResourceClient({
      issuer: rogue.issuer,
      clientId: rogue.clientId,
      clientSecret: rogue.clientSecret,
      redirectUri: rogue.redirectUri,
      resources: [{ url: apiUrl, scope: 'api:read', name: 'api' }],
      logger: {},
      ...overrides,
    })
    t.after(() => client.close())
    return { client, apiUrl }
  }

  test('mix-up: the honest provider advertises the iss response parameter and sends it', async () => {
    assert.equal(honest.serverMetadata['authorization_response_iss_parameter_supported'], true)
    const { url } = await honest.startLogin('mixup-control')
    const callback = new URL(await world.op.login(url))
    assert.equal(callback.searchParams.get('iss'), world.op.issuer)
  })

  test('mix-up: a login started at provider 1 answered with provider 2\'s code and iss is refused; no token request at either', async () => {
    const { url } = await honest.startLogin('mixup-1')
    const callback = await world.op.login(url)
    const { code, iss } = await rogueCode()
    const [honestBefore, rogueBefore] = [honestExchanges(), rogueExchanges()]
    const forged = withParams(callback, (p) => {
      p.set('code', code)
      p.set('iss', iss)
    })
    await refusedWith(honest.finishLogin('mixup-1', forged), 'invalid_callback')
    assert.equal(honestExchanges(), honestBefore, 'no token request at provider 1')
    assert.equal(rogueExchanges(), rogueBefore, 'no token request at provider 2')
    assert.equal(await honest.hasGrant('mixup-1'), false)
  })

  test('mix-up: a login started at provider 1 answered with its own code but provider 2\'s iss is refused; the code is never redeemed', async () => {
    const { url } = await honest.startLogin('mixup-2')
    const callback = await world.op.login(url)
    const [honestBefore, rogueBefore] = [honestExchanges(), rogueExchanges()]
    await refusedWith(honest.finishLogin('mixup-2', withParams(callback, (p) => p.set('iss', rogue.issuer))), 'invalid_callback', 'provider 2\'s iss')
    assert.equal(honestExchanges(), honestBefore)
    assert.equal(rogueExchanges(), rogueBefore)
    assert.equal(await honest.hasGrant('mixup-2'), false)
  })

  test('mix-up: an answer without iss from a provider that advertises it is refused; the code is never redeemed', async () => {
    const { url } = await honest.startLogin('mixup-3')
    const callback = await world.op.login(url)
    const before = honestExchanges()
    await refusedWith(honest.finishLogin('mixup-3', withParams(callback, (p) => p.delete('iss'))), 'invalid_callback')
    assert.equal(honestExchanges(), before)
    assert.equal(await honest.hasGrant('mixup-3'), false)
  })

  test('mix-up: a login started at the attacker\'s provider answered by the honest provider is refused; the honest code never reaches the attacker', async (t) => {
    const { client: attacked } = await rogueClient(t)
    // The user starts at provider 2 (the attacker's), which sends the browser on to provider 1.
    const { url } = await attacked.startLogin('mixup-4')
    const state = new URL(await followAuthorization(url)).searchParams.get('state')
    assert.ok(state)
    rogue.requests.length = 0
    // Provider 1 authenticates the user and answers with its own code and iss, to provider 2's callback.
    const { url: honestUrl } = await honest.startLogin('mixup-4-honest')
    const honestCallback = new URL(await world.op.login(honestUrl))
    const forged = new URL(rogue.redirectUri)
    forged.search = honestCallback.search
    forged.searchParams.set('state', state)
    const before = honestExchanges()
    await refusedWith(attacked.finishLogin('mixup-4', forged), 'invalid_callback')
    assert.equal(rogueExchanges(), 0, 'the honest code was never sent to the attacker\'s token endpoint')
    assert.equal(honestExchanges(), before)
    assert.equal(await attacked.hasGrant('mixup-4'), false)
  })

  test('mix-up: with one store shared by both clients, a login started at provider 1 cannot be finished by the client for provider 2', async (t) => {
    const store = new MemoryStore()
    const first = await createResourceClient(world.options({ store }))
    t.after(() => first.close())
    const { client: second } = await rogueClient(t, { store })
    const { url } = await first.startLogin('mixup-5')
    const callback = new URL(await world.op.login(url))
    const forged = new URL(rogue.redirectUri)
    forged.search = callback.search
    const [honestBefore, rogueBefore] = [honestExchanges(), rogueExchanges()]
    await refusedWith(second.finishLogin('mixup-5', forged), 'invalid_callback')
    assert.equal(rogueExchanges(), rogueBefore, 'provider 1\'s code never reached provider 2')
    assert.equal(honestExchanges(), honestBefore)
    assert.equal(await second.hasGrant('mixup-5'), false)
  })

  test('mix-up: with one store shared by both clients, a grant of provider 1 is never used at provider 2', async (t) => {
    const store = new MemoryStore()
    const first = await createResourceClient(world.options({ store }))
    t.after(() => first.close())
    const { client: second, apiUrl } = await rogueClient(t, { store })
    await world.login(first, 'mixup-6')
    const rogueBefore = rogueExchanges()
    // The client for provider 2 must not send provider 1's refresh token there, nor even see the grant.
    const attempt = await second.accessToken('mixup-6', `${apiUrl}/items`).then(() => undefined, (err: unknown) => err)
    assert.equal(rogueExchanges(), rogueBefore, 'provider 1\'s refresh token was sent to provider 2\'s token endpoint')
    assert.equal(await second.hasGrant('mixup-6'), false, 'provider 1\'s grant is visible to the client for provider 2')
    await refusedWith(Promise.reject(attempt ?? new Error('accessToken resolved')), 'login_required')
    assert.equal(await first.hasGrant('mixup-6'), true)
  })
})
