// @ts-nocheck
// Issue 19, weak spots: properties that older tests only pinned by accident. The caller's Headers object
// must come back untouched (across users and redirects); the authorization request must say S256 whatever
// the provider claims to accept. (The returnTo rules, one by one, are in test/unit/bite-return-to.test.ts.)
import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { after, before, describe, test } from 'node:test'
import { decodeJwt } from 'jose'
import type { ResourceClient, ResourceClientOptions } from 'resource-tokens'
import { startRecordingServer, type RecordedRequest, type TestResourceServer } from '../support/resource-server.js'
import { startScenario, type Scenario } from '../support/scenario.js'

function authorizationOf(request: RecordedRequest | undefined): string | undefined {
  const value = request?.headers['authorization']
  return Array.isArray(value) ? value.join(',') : value
}

function subjectOf(request: RecordedRequest | undefined): unknown {
  const token = /^Bearer (.+)$/.exec(authorizationOf(request) ?? '')?.[1]
  return token === undefined ? undefined : decodeJwt(token).sub
}

describe('the caller\'s Headers object is left unchanged', () => {
  let world: Scenario
  let client: ResourceClient
  let foreign: TestResourceServer
  before(async () => {
    world = await startScenario()
    foreign = await startRecordingServer()
    client = await world.client()
    await world.login(client, 'headers-alice', 'alice')
    await world.login(client, 'headers-bob', 'bob')
    world.contacts.respond((req, res) => {
      const to = req.url === '/api/hop' ? '/api/people' : req.url === '/api/away' ? `${foreign.url}/landing` : undefined
      if (to === undefined) return false
      res.statusCode = 302
      res.setHeader('location', to)
      res.end()
      return true
    })
  })
  after(async () => {
    await foreign.close()
    await world.close()
  })

  test('one Headers object reused across two users, a same-resource redirect and a cross-origin redirect', async () => {
    const headers = new Headers({ accept: 'application/json', cookie: 'sid=app-session', 'x-trace': 'abc' })
    const original = [...headers.entries()]
    const init: RequestInit = { headers }
    const unchanged = (after: string): void => assert.deepEqual([...headers.entries()], original, `the caller's Headers changed after ${after}`)

    world.contacts.requests.length = 0
    assert.equal((await client.fetch('headers-alice', `${world.contactsUrl}/people`, init)).status, 200)
    unchanged('alice\'s request')
    assert.equal((await client.fetch('headers-bob', `${world.contactsUrl}/people`, init)).status, 200)
    unchanged('bob\'s request')
    // Each user's request carried that user's token and the caller's own headers.
    assert.deepEqual(world.contacts.requests.map(subjectOf), ['alice', 'bob'])
    for (const r of world.contacts.requests) assert.equal(r.headers['x-trace'], 'abc')

    world.contacts.requests.length = 0
    assert.equal((await client.fetch('headers-alice', `${world.contactsUrl}/hop`, init)).status, 200)
    unchanged('a redirect within the resource')
    assert.deepEqual(world.contacts.requests.map(subjectOf), ['alice', 'alice'])

    assert.equal((await client.fetch('headers-bob', `${world.contactsUrl}/away`, init)).status, 200)
    unchanged('a redirect to another origin (where cookie and authorization are dropped)')
    assert.equal(foreign.requests.at(-1)?.headers['cookie'], undefined, 'control: the cross-origin hop dropped the cookie, on a copy')
    assert.equal(authorizationOf(foreign.requests.at(-1)), undefined)

    assert.equal(init.headers, headers, 'the init object still holds the caller\'s Headers')
  })

  test('a caller-set Authorization header survives in the caller\'s object, and is never what the resource gets', async () => {
    const headers = new Headers({ authorization: 'Basic YXBwOnNlY3JldA==', dpop: 'caller-proof' })
    const original = [...headers.entries()]
    world.contacts.requests.length = 0
    assert.equal((await client.fetch('headers-alice', `${world.contactsUrl}/hop`, { headers })).status, 200)
    assert.deepEqual([...headers.entries()], original)
    for (const r of world.contacts.requests) {
      assert.equal(subjectOf(r), 'alice')
      assert.equal(r.headers['dpop'], undefined)
    }
  })

  test('a Request input keeps its own headers too, across users', async () => {
    for (const key of ['headers-alice', 'headers-bob']) {
      const request = new Request(`${world.contactsUrl}/hop`, { headers: { 'x-trace': 'req' } })
      const original = [...request.headers.entries()]
      assert.equal((await client.fetch(key, request)).status, 200)
      assert.deepEqual([...request.headers.entries()], original)
    }
  })
})

describe('the authorization request says S256, whatever the provider claims to accept', () => {
  let world: Scenario
  /** code_verifier of each authorization_code request the provider received, in order. */
  const verifiers: string[] = []
  before(async () => {
    world = await startScenario()
    world.op.setTokenEndpointHook(({ grantType, body }) => {
      if (grantType === 'authorization_code') verifiers.push(body.get('code_verifier') ?? '')
    })
  })
  after(async () => {
    world.op.setTokenEndpointHook()
    await world.close()
  })

  const s256 = (verifier: string): string => createHash('sha256').update(verifier).digest('base64url')

  /**
   * (simulated provider quirk: discovery lists other PKCE methods) The provider's discovery document as the
   * client sees it, with `code_challenge_methods_supported` replaced (or removed with null). The provider
   * itself is unchanged and still demands S256, so the login below proves the whole round trip too.
   */
  function advertising(methods: string[] | null): typeof fetch {
    return async (input, init) => {
      const response = await fetch(input, init)
      const url = input instanceof Request ? input.url : String(input)
      if (!url.includes('/.well-known/openid-configuration')) return response
      const document = (await response.json()) as Record<string, unknown>
      if (methods === null) delete document['code_challenge_methods_supported']
      else document['code_challenge_methods_supported'] = methods
      return Response.json(document, { status: response.status })
    }
  }

  /** Logs in and returns the PKCE parameters of the authorization request (from the URL or the PAR body). */
  async function loginAndRead(options: Partial<ResourceClientOptions>, key: string): Promise<{ method: string | null; challenge: string | null; verifier: string; par: boolean }> {
    const client = await world.client(options)
    const parBefore = world.op.parRequests.length
    const { url } = await client.startLogin(key)
    const par = world.op.parRequests.length > parBefore
    const parameters = par ? world.op.parRequests.at(-1)! : url.searchParams
    if (par) assert.equal(url.searchParams.get('code_challenge'), null, 'with PAR, PKCE travels in the pushed request only')
    // Checked before the login completes: the test provider would refuse anything but S256 itself.
    assert.equal(parameters.get('code_challenge_method'), 'S256')
    await client.finishLogin(key, await world.op.login(url))
    return { method: parameters.get('code_challenge_method'), challenge: parameters.get('code_challenge'), verifier: verifiers.at(-1) ?? '', par }
  }

  for (const advertised of [null, ['S256'], ['plain'], ['plain', 'S256'], ['S256', 'plain']]) {
    for (const parMode of ['auto', 'never'] as const) {
      test(`provider advertises ${JSON.stringify(advertised)}, PAR ${parMode}: code_challenge_method=S256 and the challenge is SHA-256 of the verifier`, async () => {
        const fetchOption = advertised === null || advertised.length > 1 || advertised[0] !== 'S256' ? { fetch: advertising(advertised) } : {}
        const read = await loginAndRead({ ...fetchOption, pushedAuthorizationRequests: parMode }, `pkce-${String(advertised)}-${parMode}`)
        assert.equal(read.par, parMode === 'auto', 'control: the request went where expected (the test provider offers PAR)')
        assert.equal(read.method, 'S256')
        assert.match(read.verifier, /^[A-Za-z0-9\-._~]{43,128}$/, 'RFC 7636 section 4.1 verifier')
        assert.equal(read.challenge, s256(read.verifier))
        assert.notEqual(read.challenge, read.verifier)
      })
    }
  }
})
