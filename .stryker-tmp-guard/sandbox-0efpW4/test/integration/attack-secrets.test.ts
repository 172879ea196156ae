// @ts-nocheck
// Attacks on secrets, against the real test provider. Threat model draft 4.1.1 (client secrets), 4.1.2
// (refresh tokens from a web application), 4.1.3 (access tokens), 4.6.7 (token leakage via log files),
// 5.3.3 (secrets in secure storage); RFC 9700 sections 2.1.1 and 4.1 (redirect URI), 4.11 (open redirection).
//
// Every secret the flow produces is collected where it is born: at the provider (request bodies: code,
// code_verifier, refresh_token; PAR: state, nonce) and on the wire (token responses: access, refresh and
// ID tokens). Then every place the app can see is searched for them: log lines at the most verbose level,
// event payloads, thrown errors (message, stack, util.inspect with causes), util.inspect and JSON of the
// client, the authorization URL and the end-session URL; and, for a store outside the process, every
// stored value.
import assert from 'node:assert/strict'
import { inspect } from 'node:util'
import { after, before, describe, test } from 'node:test'
import { createResourceClient, MemoryStore, type ResourceClient, type ResourceClientEventName, type TokenStore } from 'resource-tokens'
import type { TokenFault } from '../support/provider.js'
import { startScenario, type Scenario } from '../support/scenario.js'
import { code } from '../support/errors.js'

const EVENTS: readonly ResourceClientEventName[] = ['token', 'scope_broadened', 'scope_narrowed', 'refresh_failed', 'login', 'grant_removed']

/** Secret values by label; a value is kept once, under its first label. */
class Secrets {
  readonly #byValue = new Map<string, string>()

  add(label: string, value: string | null | undefined): void {
    // Shorter values could match by accident; every real secret here is far longer.
    if (typeof value !== 'string' || value.length < 16 || this.#byValue.has(value)) return
    this.#byValue.set(value, label)
  }

  labels(): string[] {
    return [...this.#byValue.values()]
  }

  /** Labels of the secrets found in `text`, `except` values allowed there. */
  foundIn(text: string, except: ReadonlySet<string> = new Set()): string[] {
    const found: string[] = []
    for (const [value, label] of this.#byValue) if (!except.has(value) && text.includes(value)) found.push(label)
    return found
  }
}

/** Everything `util.inspect` and JSON show of a value, causes and hidden properties included. */
function render(value: unknown): string {
  let json: string
  try {
    json = JSON.stringify(value) ?? ''
  } catch {
    json = '(not JSON)'
  }
  return [inspect(value, { depth: 10 }), inspect(value, { depth: 10, showHidden: true }), json].join('\n')
}

function renderError(err: unknown): string {
  const parts = [render(err)]
  for (let current: unknown = err, depth = 0; current instanceof Error && depth < 10; current = current.cause, depth++) {
    parts.push(current.message, current.stack ?? '')
  }
  return parts.join('\n')
}

interface Wire {
  /** The spy `fetch` for the client: records token responses as secrets. */
  fetch: typeof fetch
}

/** A `fetch` that reads every answer of the provider's token endpoint and keeps the tokens in it, and the client's Basic credential. */
function wire(world: Scenario, secrets: Secrets, issued: { refreshTokens: string[]; idTokens: string[] }): Wire {
  return {
    fetch: async (input, init) => {
      const url = input instanceof Request ? input.url : input instanceof URL ? input.href : input
      const authorization = new Headers(init?.headers).get('authorization')
      if (authorization?.startsWith('Basic ') === true) secrets.add('client credential (Basic)', authorization.slice(6))
      const response = await fetch(input, init)
      if (url === `${world.op.issuer}/token` && response.ok) {
        let json: Record<string, unknown> = {}
        try {
          json = (await response.clone().json()) as Record<string, unknown>
        } catch {
          // not JSON (a crafted fault): the client must cope on its own
        }
        for (const name of ['access_token', 'refresh_token', 'id_token']) {
          const value = json[name]
          if (typeof value !== 'string') continue
          secrets.add(name, value)
          if (name === 'refresh_token') issued.refreshTokens.push(value)
          if (name === 'id_token') issued.idTokens.push(value)
        }
      }
      return response
    },
  }
}

describe('attack: no secret in logs, events, errors, inspect output or URLs (most verbose logging)', () => {
  let world: Scenario
  let client: ResourceClient
  const KEY = 'app-session-id-4f1c2e9a7b3d5e8f-not-for-logs'
  const secrets = new Secrets()
  const issued = { refreshTokens: [] as string[], idTokens: [] as string[] }
  const lines: Array<{ level: string; message: string; fields: unknown }> = []
  const events: Array<{ event: string; payload: unknown }> = []
  const errors: Array<{ step: string; err: unknown }> = []
  const urls: Array<{ step: string; url: string }> = []
  const endSessionUrls: URL[] = []
  const steps: string[] = []
  // An in-process store (no encryption needed) that remembers its keys, so the grant's DPoP private key can be read.
  const memory = new MemoryStore()
  const storeKeys = new Set<string>()
  const store: TokenStore = {
    inProcess: true,
    get: (key) => memory.get(key),
    set: async (key, value, options) => {
      storeKeys.add(key)
      await memory.set(key, value, options)
    },
    delete: (key) => memory.delete(key),
    take: (key) => memory.take(key),
    compareAndSet: async (key, expected, value, options) => {
      storeKeys.add(key)
      return memory.compareAndSet(key, expected, value, options)
    },
    tryLock: (name, owner, ttlMs) => memory.tryLock(name, owner, ttlMs),
    unlock: (name, owner) => memory.unlock(name, owner),
    subscribe: (listener) => memory.subscribe(listener),
  }

  /** The private part of every stored grant's DPoP key (the calendar resource uses DPoP). */
  async function collectDpopKeys(): Promise<void> {
    for (const key of storeKeys) {
      const raw = await memory.get(key)
      if (raw === undefined || !key.startsWith('grant:')) continue
      const record = JSON.parse(raw) as { dpopKey?: { privateJwk?: Record<string, unknown> } }
      const d = record.dpopKey?.privateJwk?.['d']
      if (typeof d === 'string') secrets.add('DPoP private key (d)', d)
    }
  }

  /** Runs a step that must fail with `expected`; keeps the error for the leak checks. */
  async function failing(step: string, expected: string, run: () => Promise<unknown>): Promise<void> {
    try {
      const result = await run()
      if (result instanceof Response) await result.body?.cancel()
    } catch (err) {
      errors.push({ step, err })
      assert.equal(code(err), expected, `${step}: ${String(err)}`)
      steps.push(step)
      return
    }
    assert.fail(`${step}: expected ${expected}, got no error`)
  }

  /** The next request to contacts is refused with 401 invalid_token, which forces a refresh (with `fault` at the provider). */
  async function refreshThrough401(step: string, expected: string | undefined, fault?: TokenFault): Promise<void> {
    let refused = false
    world.contacts.respond((_req, res) => {
      if (refused) return false
      refused = true
      res.writeHead(401, { 'www-authenticate': 'Bearer realm="contacts", error="invalid_token"' }).end()
      return true
    })
    if (fault !== undefined) world.op.failTokenRequests(1, fault)
    try {
      if (expected === undefined) {
        const res = await client.fetch(KEY, `${world.contactsUrl}/people`)
        assert.equal(res.status, 200, step)
        await res.text()
        steps.push(step)
      } else {
        await failing(step, expected, () => client.fetch(KEY, `${world.contactsUrl}/people`))
      }
    } finally {
      world.contacts.respond()
    }
  }

  before(async () => {
    world = await startScenario()
    secrets.add('client_secret', world.op.clientSecret)
    secrets.add('grant key (may be a session id)', KEY)
    world.op.setTokenEndpointHook(({ body }) => {
      secrets.add('refresh_token (presented)', body.get('refresh_token'))
      secrets.add('authorization code', body.get('code'))
      secrets.add('code_verifier', body.get('code_verifier'))
    })
    const log = (level: string) => (message: string, fields?: Record<string, unknown>) => lines.push({ level, message, fields })
    client = await world.client({
      logger: { debug: log('debug'), info: log('info'), warn: log('warn'), error: log('error') },
      fetch: wire(world, secrets, issued).fetch,
      store,
      resources: [
        { url: world.contactsUrl, scope: 'contacts:read', name: 'contacts', indicator: world.contactsUrl },
        { url: world.calendarUrl, scope: 'calendar:read', name: 'calendar', indicator: world.calendarUrl, dpop: true },
      ],
    })
    for (const event of EVENTS) client.on(event, (payload) => events.push({ event, payload }))

    // Login: PAR carries state and nonce; the callback carries the code.
    const { url } = await client.startLogin(KEY, { returnTo: '/inbox' })
    urls.push({ step: 'authorization URL', url: url.href })
    const par = world.op.parRequests.at(-1)
    secrets.add('state', par?.get('state'))
    secrets.add('nonce', par?.get('nonce'))
    const callback = await world.op.login(url)
    secrets.add('authorization code (callback)', new URL(callback).searchParams.get('code'))
    const { claims } = await client.finishLogin(KEY, callback)
    secrets.add('nonce (ID token claim)', typeof claims['nonce'] === 'string' ? claims['nonce'] : undefined)
    steps.push('login')
    await failing('replayed callback', 'invalid_callback', () => client.finishLogin(KEY, callback))
    await failing('callback for another key', 'invalid_callback', () => client.finishLogin('another-session-key', callback))
    const mixUp = await client.startLogin('mix-up-session', {})
    const mixUpCallback = new URL(await world.op.login(mixUp.url))
    secrets.add('authorization code (mix-up callback)', mixUpCallback.searchParams.get('code'))
    secrets.add('state (mix-up)', mixUpCallback.searchParams.get('state'))
    mixUpCallback.searchParams.set('iss', 'https://mix-up.example')
    await failing('callback with a wrong iss (mix-up)', 'invalid_callback', () => client.finishLogin('mix-up-session', mixUpCallback))

    // Refresh of both resources, through fetch.
    for (const url of [`${world.contactsUrl}/people`, `${world.calendarUrl}events`]) {
      const res = await client.fetch(KEY, url)
      assert.equal(res.status, 200)
      await res.text()
    }
    for (const url of [world.contactsUrl, world.calendarUrl]) secrets.add('access_token (accessToken())', (await client.accessToken(KEY, url)).value)
    assert.equal((await client.accessToken(KEY, world.calendarUrl)).type, 'dpop')
    await collectDpopKeys()
    steps.push('refresh both resources')

    // A 401 retry, a 403, transient failures, a provider echoing secrets back, then invalid_grant.
    await refreshThrough401('401 invalid_token retry', undefined)
    world.contacts.respond((_req, res) => {
      res.writeHead(403, { 'www-authenticate': 'Bearer error="insufficient_scope", scope="contacts:write"' }).end()
      return true
    })
    await failing('403 insufficient_scope', 'insufficient_scope', () => client.fetch(KEY, `${world.contactsUrl}/people`))
    world.contacts.respond()
    await refreshThrough401('transient failure (503)', 'token_endpoint_unavailable', { status: 503, body: 'unavailable', contentType: 'text/plain' })
    await refreshThrough401('transient failure (connection reset)', 'token_endpoint_unavailable', 'reset')
    const current = issued.refreshTokens.at(-1) ?? ''
    const echo = `refresh_token=${current} client_secret=${world.op.clientSecret}`
    await refreshThrough401('(fault injected: provider echoes secrets in error_description)', 'token_endpoint_error', {
      status: 400,
      body: JSON.stringify({ error: 'invalid_request', error_description: echo }),
      contentType: 'application/json',
    })
    await refreshThrough401('(fault injected: provider echoes secrets in an HTML 500 page)', 'token_endpoint_unavailable', { status: 500, body: `<html>${echo}</html>`, contentType: 'text/html' })
    await refreshThrough401('(fault injected: 200 with a non-JSON body echoing secrets)', 'token_endpoint_error', { status: 200, body: echo, contentType: 'text/plain' })
    await refreshThrough401('invalid_grant (echoing the refresh token)', 'login_required', {
      status: 400,
      body: JSON.stringify({ error: 'invalid_grant', error_description: echo }),
      contentType: 'application/json',
    })
    assert.equal(await client.hasGrant(KEY), false)
    await failing('fetch after invalid_grant', 'login_required', () => client.fetch(KEY, `${world.contactsUrl}/people`))

    // importGrant with a forged ID token (real one, signature altered) and a real refresh token.
    await world.login(client, 'import-source')
    await client.accessToken('import-source', world.calendarUrl)
    const idToken = issued.idTokens.at(-1) ?? ''
    const forged = `${idToken.slice(0, idToken.lastIndexOf('.') + 1)}${'A'.repeat(86)}`
    secrets.add('forged ID token', forged)
    await failing('importGrant with a forged ID token', 'invalid_id_token', () => client.importGrant('imported', { refreshToken: issued.refreshTokens.at(-1) ?? '', idToken: forged }))

    // A denied login: the provider's error comes back through the callback.
    const denied = await client.startLogin('denied-session', {})
    urls.push({ step: 'authorization URL (denied)', url: denied.url.href })
    await failing('callback with access_denied', 'authorization_error', async () => client.finishLogin('denied-session', await world.op.login(denied.url, { deny: true })))

    // Logout: once with the revocation endpoint failing, once normally.
    await world.login(client, KEY)
    await (await client.fetch(KEY, `${world.contactsUrl}/people`)).text()
    world.op.failRevocation(1)
    const failed = await client.logout(KEY)
    assert.equal(failed.revocation.refreshToken, 'failed')
    if (failed.endSessionUrl !== undefined) endSessionUrls.push(failed.endSessionUrl)
    await world.login(client, KEY)
    await (await client.fetch(KEY, `${world.calendarUrl}events`)).text()
    await collectDpopKeys()
    const done = await client.logout(KEY, { state: 'logout-state' })
    assert.equal(done.revocation.refreshToken, 'revoked')
    if (done.endSessionUrl !== undefined) endSessionUrls.push(done.endSessionUrl)
    await failing('fetch after logout', 'login_required', () => client.fetch(KEY, `${world.contactsUrl}/people`))
    steps.push('logout')
    world.op.setTokenEndpointHook()
  })

  after(() => world.close())

  test('control: the flow ran every step and the secrets were collected', () => {
    const labels = new Set(secrets.labels())
    for (const label of ['DPoP private key (d)', 'client_secret', 'client credential (Basic)', 'grant key (may be a session id)', 'state', 'nonce', 'authorization code (callback)', 'code_verifier', 'refresh_token', 'access_token', 'id_token']) {
      assert.ok(labels.has(label), `collected ${label}`)
    }
    assert.ok(issued.refreshTokens.length >= 5, 'several rotated refresh tokens')
    assert.ok(errors.length >= 10)
    assert.ok(lines.some((l) => l.level === 'debug') && lines.some((l) => l.level === 'info') && lines.some((l) => l.level === 'warn'), 'every level was written')
    for (const event of ['token', 'refresh_failed', 'login', 'grant_removed']) assert.ok(events.some((e) => e.event === event), `event ${event} seen`)
    assert.equal(endSessionUrls.length, 2)
    assert.ok(steps.includes('logout'))
  })

  test('no secret in any log line or its fields (debug, info, warn, error)', () => {
    for (const line of lines) {
      assert.deepEqual(secrets.foundIn(`${line.message}\n${render(line.fields)}`), [], `${line.level}: ${line.message}`)
    }
  })

  test('no secret in any event payload', () => {
    for (const { event, payload } of events) assert.deepEqual(secrets.foundIn(render(payload)), [], event)
  })

  test('no secret in any thrown error: message, stack, util.inspect (causes, hidden properties), JSON', () => {
    for (const { step, err } of errors) assert.deepEqual(secrets.foundIn(renderError(err)), [], step)
  })

  test('no secret in util.inspect(client) or JSON.stringify(client)', () => {
    assert.deepEqual(secrets.foundIn(render(client)), [])
    assert.deepEqual(secrets.foundIn(String(client)), [])
  })

  test('no secret in the authorization URL (PAR keeps state, nonce and PKCE off the front channel)', () => {
    for (const { step, url } of urls) assert.deepEqual(secrets.foundIn(url), [], step)
  })

  test('no secret in the end-session URL, except id_token_hint (the ID token names the user to the provider; it is no credential for RP logout)', () => {
    for (const url of endSessionUrls) {
      const hint = url.searchParams.get('id_token_hint')
      assert.ok(hint !== null && issued.idTokens.includes(hint), 'id_token_hint is the ID token of the grant')
      const rest = new URL(url)
      rest.searchParams.delete('id_token_hint')
      assert.deepEqual(secrets.foundIn(rest.href), [], rest.href)
    }
  })
})

describe('attack: the redirect URI and returnTo come from configuration, never from the request', () => {
  let world: Scenario
  let client: ResourceClient
  before(async () => {
    world = await startScenario()
    client = await world.client()
  })
  after(() => world.close())

  test('the redirect URI sent to the provider is the configured one (PAR and code exchange); a callback on another host is refused', async () => {
    // The core has no request object: the redirect URI cannot come from Host or X-Forwarded-*. A callback URL
    // that an app rebuilt from forged headers names another host, and is refused before the code is used.
    const presented: Array<string | null> = []
    world.op.setTokenEndpointHook(({ body }) => {
      if (body.get('grant_type') === 'authorization_code') presented.push(body.get('redirect_uri'))
    })
    try {
      const { url } = await client.startLogin('redirect-uri', {})
      assert.equal(world.op.parRequests.at(-1)?.get('redirect_uri'), world.op.redirectUri)
      assert.equal(url.searchParams.get('redirect_uri'), null, 'nothing to tamper with on the front channel')
      const callback = new URL(await world.op.login(url))
      for (const forgedHost of ['evil.test', `127.0.0.1:${Number(callback.port) + 1}`, 'localhost']) {
        const forged = new URL(callback)
        forged.host = forgedHost
        await assert.rejects(client.finishLogin('redirect-uri', forged), (err) => code(err) === 'invalid_callback', forgedHost)
      }
      const otherPath = new URL(callback)
      otherPath.pathname = '/cb-app-evil'
      await assert.rejects(client.finishLogin('redirect-uri', otherPath), (err) => code(err) === 'invalid_callback')
      assert.deepEqual(presented, [], 'no code exchange for a forged callback')
      await client.finishLogin('redirect-uri', callback)
      assert.deepEqual(presented, [world.op.redirectUri])
    } finally {
      world.op.setTokenEndpointHook()
    }
  })

  test('startLogin refuses open-redirect returnTo values before anything reaches the provider', async () => {
    const before = world.op.parRequests.length
    for (const bad of ['//evil.test', '/\\evil.test', '%2F%5Cevil.test', '/%2F%5Cevil.test', '/%2F/evil.test', 'https://evil.test', '\\\\evil.test', '/\t/evil.test', 'javascript:alert(1)']) {
      await assert.rejects(client.startLogin('return-to', { returnTo: bad }), (err) => code(err) === 'invalid_argument', bad)
    }
    assert.equal(world.op.parRequests.length, before)
  })
})

/**
 * A test double for a persistent store (Redis, SQL): the same MemoryStore underneath, but it does not
 * claim to be in-process, so the client must encrypt everything it writes. It remembers the keys written
 * so the test can read every stored value raw.
 */
function persistentStoreDouble(): { store: TokenStore; raw: MemoryStore; keys: Set<string> } {
  const raw = new MemoryStore()
  const keys = new Set<string>()
  const store: TokenStore = {
    inProcess: false,
    get: (key) => raw.get(key),
    set: async (key, value, options) => {
      keys.add(key)
      await raw.set(key, value, options)
    },
    delete: (key) => raw.delete(key),
    take: (key) => raw.take(key),
    compareAndSet: async (key, expected, value, options) => {
      keys.add(key)
      return raw.compareAndSet(key, expected, value, options)
    },
    tryLock: (name, owner, ttlMs) => raw.tryLock(name, owner, ttlMs),
    unlock: (name, owner) => raw.unlock(name, owner),
  }
  return { store, raw, keys }
}

/** Changes one base64url character of part `index` of `v1.<kid>.<iv>.<ciphertext>.<tag>`. */
function flip(sealed: string, index: number): string {
  const parts = sealed.split('.')
  const part = parts[index] ?? ''
  const at = Math.floor(part.length / 2)
  const next = part[at] === 'A' ? 'B' : 'A'
  parts[index] = `${part.slice(0, at)}${next}${part.slice(at + 1)}`
  return parts.join('.')
}

describe('attack: storage outside the process (test double for a persistent store)', () => {
  const SECRET = 'a-32-character-long-secret-value!!'
  let world: Scenario
  before(async () => {
    world = await startScenario()
  })
  after(() => world.close())

  test('a store that is not in-process without encryption secrets is refused: invalid_config', async () => {
    const { store } = persistentStoreDouble()
    await assert.rejects(createResourceClient(world.options({ store })), (err) => {
      assert.equal(code(err), 'invalid_config')
      assert.match((err as Error).message, /"encryption\.secrets"/)
      return true
    })
    await assert.rejects(createResourceClient(world.options({ store, encryption: { secrets: ['too-short'] } })), (err) => {
      assert.equal(code(err), 'invalid_config')
      assert.match((err as Error).message, /"encryption\.secrets\[0\]"/)
      return true
    })
    await assert.rejects(createResourceClient(world.options({ store, encryption: { secrets: [] } })), (err) => code(err) === 'invalid_config')
  })

  test('(test double for a persistent store) after login and refresh, every stored value is ciphertext with no secret in it', async () => {
    const { store, raw, keys } = persistentStoreDouble()
    const secrets = new Secrets()
    const issued = { refreshTokens: [] as string[], idTokens: [] as string[] }
    const key = 'stored-session-id-0123456789abcdef'
    secrets.add('grant key', key)
    secrets.add('client_secret', world.op.clientSecret)
    secrets.add('encryption secret', SECRET)
    world.op.setTokenEndpointHook(({ body }) => {
      secrets.add('code_verifier', body.get('code_verifier'))
      secrets.add('authorization code', body.get('code'))
      secrets.add('refresh_token (presented)', body.get('refresh_token'))
    })
    try {
      const client = await world.client({
        store,
        encryption: { secrets: [SECRET] },
        fetch: wire(world, secrets, issued).fetch,
        // The calendar uses DPoP, so the grant record also holds a private key: sealed with the rest.
        resources: [
          { url: world.contactsUrl, scope: 'contacts:read', name: 'contacts', indicator: world.contactsUrl },
          { url: world.calendarUrl, scope: 'calendar:read', name: 'calendar', indicator: world.calendarUrl, dpop: true },
        ],
      })
      // A pending login transaction is stored too: it holds the PKCE verifier, state and nonce.
      const { url } = await client.startLogin(key, { returnTo: '/inbox' })
      const par = world.op.parRequests.at(-1)
      secrets.add('state', par?.get('state'))
      secrets.add('nonce', par?.get('nonce'))
      const pending = await Promise.all([...keys].map(async (k) => ({ key: k, value: await raw.get(k) })))
      await client.finishLogin(key, await world.op.login(url))
      for (const resource of [`${world.contactsUrl}/people`, `${world.calendarUrl}events`]) {
        const res = await client.fetch(key, resource)
        assert.equal(res.status, 200)
        await res.text()
      }
      const stored = await Promise.all([...keys].map(async (k) => ({ key: k, value: await raw.get(k) })))
      assert.ok(pending.some((r) => r.value !== undefined), 'the pending transaction was stored')
      assert.ok(stored.some((r) => r.key.startsWith('grant:') && r.value !== undefined), 'the grant is stored')
      assert.ok(secrets.labels().includes('code_verifier') && secrets.labels().includes('access_token'))
      for (const { key: storeKey, value } of [...pending, ...stored]) {
        assert.deepEqual(secrets.foundIn(storeKey), [], `store key ${storeKey}`)
        if (value === undefined) continue
        assert.match(value, /^v1\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/, storeKey)
        assert.deepEqual(secrets.foundIn(value), [], storeKey)
      }
    } finally {
      world.op.setTokenEndpointHook()
    }
  })

  test('a flipped byte in the stored grant fails closed with decryption_failed: no token request, nothing sent to the resource', async () => {
    const { store, raw, keys } = persistentStoreDouble()
    const client = await world.client({ store, encryption: { secrets: [SECRET] } })
    await world.login(client, 'tampered')
    await (await client.fetch('tampered', `${world.contactsUrl}/people`)).text()
    const grantKey = [...keys].find((k) => k.startsWith('grant:'))
    assert.ok(grantKey)
    const original = await raw.get(grantKey)
    assert.ok(original !== undefined)
    for (const [index, part] of [[1, 'key id'], [2, 'iv'], [3, 'ciphertext'], [4, 'tag']] as const) {
      await raw.set(grantKey, flip(original, index))
      world.op.resetCounters()
      const contactsBefore = world.contacts.requests.length
      await assert.rejects(client.fetch('tampered', `${world.contactsUrl}/people`), (err) => code(err) === 'decryption_failed', part)
      await assert.rejects(client.accessToken('tampered', world.calendarUrl), (err) => code(err) === 'decryption_failed', part)
      assert.equal(world.contacts.requests.length, contactsBefore, `${part}: nothing was sent to the resource`)
      assert.equal(world.op.tokenRequests.length, 0, `${part}: no token request`)
    }
    // Control: the untouched record still works, so the failures above came from the flipped byte.
    await raw.set(grantKey, original)
    const res = await client.fetch('tampered', `${world.contactsUrl}/people`)
    assert.equal(res.status, 200)
    await res.text()
    // Truncated or not in our format at all: the same.
    for (const garbage of [original.slice(0, -4), 'plain text', '{"v":1,"refreshToken":"x","rev":1,"tokens":{}}']) {
      await raw.set(grantKey, garbage)
      await assert.rejects(client.fetch('tampered', `${world.contactsUrl}/people`), (err) => code(err) === 'decryption_failed', garbage)
    }
    // Logout of an unreadable grant still forgets it.
    await client.logout('tampered').catch((err: unknown) => assert.equal(code(err), 'decryption_failed'))
    assert.equal(await raw.get(grantKey), undefined)
  })

  test('a grant record moved to another key\'s store key does not decrypt', async () => {
    const { store, raw, keys } = persistentStoreDouble()
    const client = await world.client({ store, encryption: { secrets: [SECRET] } })
    await world.login(client, 'alice', 'alice')
    const aliceKey = [...keys].find((k) => k.startsWith('grant:'))
    await world.login(client, 'mallory', 'mallory')
    const malloryKey = [...keys].find((k) => k.startsWith('grant:') && k !== aliceKey)
    assert.ok(aliceKey !== undefined && malloryKey !== undefined)
    await (await client.fetch('alice', `${world.contactsUrl}/people`)).text()
    const alice = await raw.get(aliceKey)
    assert.ok(alice !== undefined)
    // Mallory (or whoever can write the store) puts Alice's record under Mallory's key.
    await raw.set(malloryKey, alice)
    const contactsBefore = world.contacts.requests.length
    await assert.rejects(client.fetch('mallory', `${world.contactsUrl}/people`), (err) => code(err) === 'decryption_failed')
    await assert.rejects(client.claims('mallory'), (err) => code(err) === 'decryption_failed')
    assert.equal(world.contacts.requests.length, contactsBefore)
    // Alice's own record is untouched and still hers.
    assert.equal((await client.claims('alice'))?.['sub'], 'alice')
  })

  test('records written under one secret do not decrypt under another', async () => {
    const { store } = persistentStoreDouble()
    const writer = await world.client({ store, encryption: { secrets: [SECRET] } })
    await world.login(writer, 'rotated-away')
    const reader = await world.client({ store, encryption: { secrets: ['another-32-character-secret-value!!'] } })
    await assert.rejects(reader.fetch('rotated-away', `${world.contactsUrl}/people`), (err) => code(err) === 'decryption_failed')
  })
})
