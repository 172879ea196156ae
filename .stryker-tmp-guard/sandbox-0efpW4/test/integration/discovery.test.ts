// @ts-nocheck
import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import { ResourceTokensError, type ResourceClient } from 'resource-tokens'
import { decodeJwt } from 'jose'
import { startScenario, type Scenario } from '../support/scenario.js'
import { startToolServer, type ToolServer } from '../support/tool-server.js'

// Resources learned at run time (RFC 9728), as agent backends meet tool servers: discovery only for allowed
// origins, metadata only from the resource's own origin, and no token before the resource is verified.
describe('run-time resources and RFC 9728 discovery', () => {
  let world: Scenario
  const tools: ToolServer[] = []
  before(async () => {
    world = await startScenario()
  })
  after(async () => {
    await Promise.all(tools.map((t) => t.close()))
    await world.close()
  })

  async function tool(options: Parameters<typeof startToolServer>[1] = {}): Promise<ToolServer> {
    const started = await startToolServer(world.op, options)
    tools.push(started)
    return started
  }

  function discovering(origins: string[], extra: Record<string, unknown> = {}): Promise<ResourceClient> {
    return world.client({ discovery: { origins }, ...extra })
  }

  async function loginWith(client: ResourceClient, key: string, options: Parameters<ResourceClient['startLogin']>[1] = {}): Promise<void> {
    const { url } = await client.startLogin(key, { returnTo: '/', ...options })
    await client.finishLogin(key, await world.op.login(url))
  }

  function refreshesFor(indicator: string): number {
    return world.op.tokenRequests.filter((r) => r.grantType === 'refresh_token' && r.resource?.includes(indicator) === true).length
  }

  test('discoverResource on an allowed origin registers the resource; its token is for its own audience', async () => {
    const t = await tool()
    const client = await discovering([t.server.url])
    const found = await client.discoverResource(`${t.indicator}/tools/list`)
    assert.deepEqual(found, { url: t.indicator, indicator: t.indicator, scope: 'tools:call', name: 'tools' })
    assert.equal(client.resources.find((r) => r.url === t.indicator)?.registration, 'discovered')
    // A login now also asks for the discovered resource.
    await loginWith(client, 'disc-1')
    const res = await client.fetch('disc-1', `${t.indicator}/tools/list`)
    assert.equal(res.status, 200)
    const body = (await res.json()) as { aud: string; scope: string }
    assert.equal(body.aud, t.indicator)
    const contacts = await client.accessToken('disc-1', world.contactsUrl)
    assert.notEqual(decodeJwt(contacts.value).aud, t.indicator, 'the tool token is not the contacts token')
    assert.equal(t.tokensReceived().length, 1)
  })

  test('automatic: the first request goes without a token, the 401 leads to discovery and one retry with the resource token', async () => {
    const t = await tool()
    const client = await discovering([t.server.url])
    await loginWith(client, 'disc-auto', { resources: [t.indicator], scope: 'tools:call' })
    const res = await client.fetch('disc-auto', `${t.indicator}/call`, { method: 'POST', body: JSON.stringify({ tool: 'x' }), headers: { 'content-type': 'application/json' } })
    assert.equal(res.status, 200)
    const calls = t.server.requests.filter((r) => r.url === '/mcp/call')
    assert.equal(calls.length, 2)
    assert.equal(calls[0]!.headers.authorization, undefined, 'no token before the resource was verified')
    assert.match(String(calls[1]!.headers.authorization), /^Bearer /)
    assert.equal(calls[1]!.body, JSON.stringify({ tool: 'x' }), 'the body was sent again')
    assert.equal(decodeJwt(String(calls[1]!.headers.authorization).slice(7)).aud, t.indicator)
  })

  test('automatic, concurrent: two requests share one metadata read and both get through', async () => {
    const t = await tool()
    const client = await discovering([t.server.url])
    await loginWith(client, 'disc-race', { resources: [t.indicator], scope: 'tools:call' })
    const [a, b] = await Promise.all([client.fetch('disc-race', `${t.indicator}/a`), client.fetch('disc-race', `${t.indicator}/b`)])
    assert.equal(a.status, 200)
    assert.equal(b.status, 200)
    assert.equal(t.server.requests.filter((r) => r.url.startsWith('/.well-known/')).length, 1)
    assert.equal(refreshesFor(t.indicator), 1, 'one token for both (single-flight)')
  })

  test('a streamed body is not sent twice: the 401 is returned, the resource is registered for the next request', async () => {
    const t = await tool()
    const client = await discovering([t.server.url])
    await loginWith(client, 'disc-stream', { resources: [t.indicator], scope: 'tools:call' })
    const body = new ReadableStream({ start: (c) => (c.enqueue(new TextEncoder().encode('once')), c.close()) })
    const res = await client.fetch('disc-stream', `${t.indicator}/s`, { method: 'POST', body, duplex: 'half' })
    assert.equal(res.status, 401)
    assert.equal(t.tokensReceived().length, 0)
    assert.equal((await client.fetch('disc-stream', `${t.indicator}/s`)).status, 200)
  })

  const refusals: Array<[string, (t: ToolServer, other: ToolServer) => void]> = [
    ['names another issuer', (t) => (t.metadata = { ...t.metadata, authorization_servers: ['https://evil.example'] })],
    ['names another resource', (t, other) => (t.metadata = { ...t.metadata, resource: other.indicator })],
    ['names a resource that is not a path-boundary prefix', (t) => (t.metadata = { ...t.metadata, resource: `${t.server.url}/mc` })],
    ['redirects', (t, other) => t.serveMetadata((_req, res) => res.writeHead(302, { location: other.metadataUrl }).end())],
    ['is oversized', (t) => t.serveMetadata((_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ ...t.metadata, padding: 'x'.repeat(200_000) })))],
    ['is on a different origin', (t, other) => (t.challengeMetadataUrl = other.metadataUrl)],
  ]
  for (const [name, misbehave] of refusals) {
    test(`metadata that ${name}: refused with a typed error, nothing registered, no token sent`, async () => {
      const t = await tool()
      const other = await tool({ name: 'other' })
      misbehave(t, other)
      const client = await discovering([t.server.url, other.server.url])
      await loginWith(client, `disc-bad-${name}`, { resources: [t.indicator, other.indicator], scope: 'tools:call' })
      const before = refreshesFor(t.indicator)
      await assert.rejects(client.fetch(`disc-bad-${name}`, `${t.indicator}/call`), (err: unknown) => err instanceof ResourceTokensError && err.code === 'resource_metadata_mismatch')
      // Without a challenge, discovery reads the resource's own well-known URL: only the challenge can point elsewhere.
      if (name !== 'is on a different origin') {
        await assert.rejects(client.discoverResource(`${t.indicator}/call`), (err: unknown) => err instanceof ResourceTokensError && err.code === 'resource_metadata_mismatch')
      }
      assert.equal(t.tokensReceived().length, 0, 'the resource received no token')
      assert.equal(other.tokensReceived().length, 0, 'neither did the other server')
      assert.equal(refreshesFor(t.indicator), before, 'no token was even obtained for it')
      assert.equal(client.resources.some((r) => r.registration !== 'configured'), false)
      if (name === 'is on a different origin' || name === 'redirects') {
        assert.equal(other.server.requests.length, 0, 'the client was not made to read from another host')
      }
    })
  }

  test('an origin the app did not allow: no discovery, no metadata read, the request goes without a token', async () => {
    const t = await tool()
    const client = await discovering(['https://tools.example.com'])
    await loginWith(client, 'disc-not-allowed')
    await assert.rejects(client.discoverResource(t.indicator), (err: unknown) => err instanceof ResourceTokensError && err.code === 'resource_not_allowed')
    const res = await client.fetch('disc-not-allowed', `${t.indicator}/x`)
    assert.equal(res.status, 401)
    assert.equal(t.server.requests.filter((r) => r.url.startsWith('/.well-known/')).length, 0)
    assert.equal(t.tokensReceived().length, 0)
  })

  test('discovery off by default: discoverResource is refused', async () => {
    const t = await tool()
    const client = await world.client()
    await assert.rejects(client.discoverResource(t.indicator), (err: unknown) => err instanceof ResourceTokensError && err.code === 'resource_not_allowed')
    assert.equal(t.server.requests.length, 0)
  })

  test('the allow-list of scopes caps what a resource may ask', async () => {
    const t = await tool({ scope: 'tools:call' })
    t.metadata = { ...t.metadata, scopes_supported: ['tools:call', 'tools:admin', 'openid', 'offline_access'] }
    const client = await world.client({ discovery: { origins: [t.server.url], scopes: 'tools:call tools:read' } })
    assert.equal((await client.discoverResource(t.indicator)).scope, 'tools:call')
    const open = await world.client({ discovery: { origins: [t.server.url] } })
    assert.equal((await open.discoverResource(t.indicator)).scope, 'tools:call tools:admin', 'openid and offline_access are never a resource\'s')
  })

  test('the root well-known URL is the fallback (RFC 9728 section 3.1)', async () => {
    const t = await tool({ path: '' })
    const client = await discovering([t.server.url])
    const found = await client.discoverResource(`${t.server.url}/deep/path`)
    assert.equal(found.indicator, t.indicator)
    const reads = t.server.requests.filter((r) => r.url.startsWith('/.well-known/')).map((r) => r.url)
    assert.deepEqual(reads, ['/.well-known/oauth-protected-resource/deep/path', '/.well-known/oauth-protected-resource/deep', '/.well-known/oauth-protected-resource'])
  })

  test('run-time resources keep the DPoP option and the redirect rules of configured ones', async () => {
    const t = await tool({ path: '/dpop' })
    const elsewhere = await tool({ name: 'elsewhere', register: false })
    const client = await world.client()
    client.addResource({ url: t.indicator, scope: 'tools:call', indicator: t.indicator, dpop: true })
    await loginWith(client, 'added-dpop')
    assert.equal((await client.accessToken('added-dpop', t.indicator)).type, 'dpop')
    assert.equal((await client.fetch('added-dpop', `${t.indicator}/x`)).status, 200)
    assert.match(String(t.server.requests.at(-1)?.headers.authorization), /^DPoP /)
    // A redirect from the run-time resource to another origin: the token stays behind.
    t.server.respond((req, res) => {
      if (req.url !== '/dpop/away') return false
      res.writeHead(302, { location: `${elsewhere.server.url}/landing` }).end()
      return true
    })
    await client.fetch('added-dpop', `${t.indicator}/away`)
    assert.equal(elsewhere.tokensReceived().length, 0)
    assert.equal(elsewhere.server.requests.at(-1)?.headers['dpop'], undefined)
  })

  test('addResource and removeResource: same rules as configured resources, bounded in number', async () => {
    const t = await tool({ path: '/api' })
    const client = await world.client({ maxRuntimeResources: 1 })
    const added = client.addResource({ url: t.indicator, scope: 'tools:call', indicator: t.indicator, name: 'added' })
    assert.deepEqual(added, { url: t.indicator, indicator: t.indicator, scope: 'tools:call', name: 'added' })
    await loginWith(client, 'added-1')
    assert.equal((await client.fetch('added-1', `${t.indicator}/x`)).status, 200)
    // Path boundary: /apix is not the resource.
    await client.fetch('added-1', `${t.server.url}/apix`)
    assert.equal(t.server.requests.find((r) => r.url === '/apix')?.headers.authorization, undefined)
    assert.throws(() => client.addResource({ url: `${t.server.url}/other`, scope: 'tools:call' }), (err: unknown) => err instanceof ResourceTokensError && err.code === 'too_many_resources')
    assert.throws(() => client.addResource({ url: world.contactsUrl, scope: 'x' }), (err: unknown) => err instanceof ResourceTokensError && err.code === 'invalid_argument')
    assert.throws(() => client.addResource({ url: 'http://example.com/api', scope: 'x' }), (err: unknown) => err instanceof ResourceTokensError && err.code === 'invalid_argument')
    assert.throws(() => client.removeResource(world.contactsUrl), (err: unknown) => err instanceof ResourceTokensError && err.code === 'invalid_argument')
    assert.equal(client.removeResource(t.indicator), true)
    assert.equal(client.removeResource(t.indicator), false)
    const sent = t.tokensReceived().length
    assert.equal((await client.fetch('added-1', `${t.indicator}/x`)).status, 401)
    assert.equal(t.tokensReceived().length, sent, 'a removed resource gets no token')
    // Per client: another client never saw it.
    const other = await world.client()
    assert.equal(other.resources.length, 2)
  })
})
