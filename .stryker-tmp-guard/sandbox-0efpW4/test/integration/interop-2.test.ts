// @ts-nocheck
// Interop, second round (issue 13): a provider that ignores `scope` on refresh and leaves it out of the response,
// dead refresh tokens answered with something else than invalid_grant, offline_access left out of
// scopes_supported, and a revocation endpoint that answers an HTML page with 200. Each test turns on a quirk of
// the test provider (test/support/provider/interop-quirks.ts); all are rewrites in front of oidc-provider, hence
// "(simulated provider quirk: ...)".
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import * as oidc from 'openid-client'
import type { ResourceClient, ResourceTokensError } from 'resource-tokens'
import { code } from '../support/errors.js'
import { basicAuth } from '../support/http.js'
import type { ProviderQuirks, TestProvider } from '../support/provider.js'
import { startScenario, type Scenario, type ScenarioOptions } from '../support/scenario.js'

function withQuirks(quirks: ProviderQuirks, options: Omit<ScenarioOptions, 'provider'> = {}): Promise<Scenario> {
  return startScenario({ ...options, provider: { quirks } })
}

function refreshes(world: Scenario) {
  return world.op.tokenRequests.filter((r) => r.grantType === 'refresh_token')
}

/** Revokes an opaque access token at the provider: with oidc-provider that ends the whole grant. */
async function endGrantAtProvider(op: TestProvider, accessToken: string): Promise<void> {
  const res = await fetch(`${op.issuer}/token/revocation`, {
    method: 'POST',
    headers: { authorization: basicAuth(op.clientId, op.clientSecret), 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ token: accessToken, token_type_hint: 'access_token' }),
  })
  assert.equal(res.status, 200)
}

/** A scope string in a fixed order: providers list scopes in any order. */
function sorted(scope: string | undefined): string {
  return (scope ?? '').split(' ').filter((s) => s !== '').sort().join(' ')
}

const INVALID_REQUEST = { status: 400, body: JSON.stringify({ error: 'invalid_request', error_description: 'refresh token not found' }), contentType: 'application/json' }

describe('(simulated provider quirk: scope ignored on refresh and left out of the response) the JWT access token tells', () => {
  test('default options: the broader token is refused with scope_broadened (strictScopes is the default), the grant is kept', async () => {
    const world = await withQuirks({ ignoreRefreshScope: true, omitRefreshScope: true })
    try {
      // The grant holds contacts:write too, so a refresh that ignores scope hands it to the contacts API.
      const client = await world.client({ loginScope: 'contacts:write' })
      const broadened: Array<{ requested: string; granted: string }> = []
      client.on('scope_broadened', (e) => broadened.push(e))
      await world.login(client, 'silent')
      world.op.resetCounters()
      await assert.rejects(client.accessToken('silent', world.contactsUrl), (err) => {
        assert.equal(code(err), 'scope_broadened')
        assert.match((err as Error).message, /contacts:write/)
        assert.equal(sorted((err as ResourceTokensError).scope), 'contacts:read contacts:write')
        return true
      })
      assert.equal(broadened.length, 1)
      assert.equal(broadened[0]?.requested, 'contacts:read')
      assert.equal(sorted(broadened[0]?.granted), 'contacts:read contacts:write')
      // The resource never saw a token; the grant is kept and nothing was reused.
      assert.equal(world.contacts.requests.length, 0)
      assert.equal(await client.hasGrant('silent'), true)
      assert.equal(refreshes(world).length, 1)
      assert.equal(world.op.reusedRefreshTokens(), 0)
    } finally {
      await world.close()
    }
  })

  test('strictScopes: false: the token is used, with the scope_broadened event and warning, and says what it really carries', async () => {
    const world = await withQuirks({ ignoreRefreshScope: true, omitRefreshScope: true })
    try {
      const warnings: string[] = []
      const client = await world.client({ loginScope: 'contacts:write', strictScopes: false, logger: { warn: (message) => warnings.push(message) } })
      const broadened: Array<{ requested: string; granted: string }> = []
      client.on('scope_broadened', (e) => broadened.push(e))
      await world.login(client, 'lenient')
      const token = await client.accessToken('lenient', world.contactsUrl)
      assert.equal(sorted(token.scope), 'contacts:read contacts:write', 'the scope read from the JWT, not the one asked for')
      assert.equal(broadened.length, 1)
      assert.equal(sorted(broadened[0]?.granted), 'contacts:read contacts:write')
      assert.ok(warnings.some((w) => /more scope than requested/.test(w)))
    } finally {
      await world.close()
    }
  })

  test('the scope field omitted with opaque tokens: cannot tell, taken as asked (no event), as RFC 6749 section 5.1 allows', async () => {
    const world = await withQuirks({ omitRefreshScope: true }, { indicators: false })
    try {
      const client = await world.client()
      const broadened: unknown[] = []
      client.on('scope_broadened', (e) => broadened.push(e))
      await world.login(client, 'opaque')
      const token = await client.accessToken('opaque', world.contactsUrl)
      assert.equal(token.scope, 'contacts:read')
      assert.equal(broadened.length, 0)
      assert.equal((await client.fetch('opaque', `${world.contactsUrl}/people`)).status, 200)
    } finally {
      await world.close()
    }
  })

  test('(simulated provider quirk: resource ignored on refresh) a token for another audience is refused like a broader scope', async () => {
    const world = await withQuirks({ ignoreRefreshScope: true, omitRefreshScope: true, refreshResource: 'first-registered' })
    try {
      const client = await world.client()
      await world.login(client, 'audience')
      await assert.rejects(client.accessToken('audience', world.calendarUrl), (err) => {
        assert.equal(code(err), 'scope_broadened')
        assert.match((err as Error).message, /audience/)
        assert.match((err as Error).message, new RegExp(world.contactsUrl.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')))
        return true
      })
      assert.equal(world.calendar.requests.length, 0)
      // The resource the token really is for is fine.
      assert.equal((await client.fetch('audience', `${world.contactsUrl}/people`)).status, 200)
    } finally {
      await world.close()
    }
  })
})

describe('(simulated provider quirk: an unknown refresh token is answered with invalid_request) dead refresh tokens', () => {
  async function deadGrant(): Promise<{ world: Scenario; client: ResourceClient; removed: string[] }> {
    const world = await withQuirks({ unknownRefreshToken: 'invalid_request' }, { indicators: false })
    const client = await world.client()
    const removed: string[] = []
    client.on('grant_removed', (e) => removed.push(e.reason))
    await world.login(client, 'dead')
    const token = await client.accessToken('dead', world.contactsUrl)
    await endGrantAtProvider(world.op, token.value)
    world.op.resetCounters()
    return { world, client, removed }
  }

  test('the same invalid_request twice for the same refresh token: the grant is removed, login_required', async () => {
    const { world, client, removed } = await deadGrant()
    try {
      await assert.rejects(client.accessToken('dead', world.calendarUrl), (err) => {
        assert.equal(code(err), 'token_endpoint_error')
        assert.equal((err as ResourceTokensError).error, 'invalid_request')
        return true
      })
      assert.equal(await client.hasGrant('dead'), true, 'one answer is not enough')
      await assert.rejects(client.accessToken('dead', world.calendarUrl), (err) => {
        assert.equal(code(err), 'login_required')
        assert.match((err as Error).message, /invalid_request/)
        return true
      })
      assert.equal(await client.hasGrant('dead'), false)
      assert.deepEqual(removed, ['refresh_token_dead'])
      // From now on: login_required without asking the provider again.
      await assert.rejects(client.fetch('dead', `${world.contactsUrl}/people`), (err) => code(err) === 'login_required')
      assert.equal(refreshes(world).length, 2)
    } finally {
      await world.close()
    }
  })

  test('transient failures in between (5xx, reset) neither count nor reset the rule', async () => {
    const { world, client } = await deadGrant()
    try {
      await assert.rejects(client.accessToken('dead', world.calendarUrl), (err) => code(err) === 'token_endpoint_error')
      world.op.failTokenRequests(1, { status: 503, body: '<html>busy</html>', contentType: 'text/html' })
      world.op.failTokenRequests(1, 'reset')
      for (let i = 0; i < 2; i++) await assert.rejects(client.accessToken('dead', world.calendarUrl), (err) => code(err) === 'token_endpoint_unavailable')
      assert.equal(await client.hasGrant('dead'), true)
      await assert.rejects(client.accessToken('dead', world.calendarUrl), (err) => code(err) === 'login_required')
      assert.equal(await client.hasGrant('dead'), false)
    } finally {
      await world.close()
    }
  })

  test('transient failures alone, and client-configuration errors, never remove a live grant', async () => {
    const world = await withQuirks({ unknownRefreshToken: 'invalid_request' }, { indicators: false })
    try {
      const client = await world.client()
      await world.login(client, 'alive')
      world.op.failTokenRequests(3, { status: 500, body: '<html>oops</html>', contentType: 'text/html' })
      world.op.failTokenRequests(2, { status: 400, body: JSON.stringify({ error: 'unauthorized_client' }), contentType: 'application/json' })
      world.op.failTokenRequests(2, { status: 400, body: JSON.stringify({ error: 'invalid_scope' }), contentType: 'application/json' })
      world.op.failTokenRequests(2, { status: 400, body: '', contentType: 'text/plain' })
      for (let i = 0; i < 9; i++) await assert.rejects(client.accessToken('alive', world.contactsUrl))
      assert.equal(await client.hasGrant('alive'), true)
      assert.equal((await client.fetch('alive', `${world.contactsUrl}/people`)).status, 200)
    } finally {
      await world.close()
    }
  })

  test('one invalid_request, then a success, then one more: the grant is kept (a success starts the count again)', async () => {
    const world = await withQuirks({ unknownRefreshToken: 'invalid_request' }, { indicators: false })
    try {
      const client = await world.client()
      await world.login(client, 'flaky')
      world.op.failTokenRequests(1, INVALID_REQUEST)
      await assert.rejects(client.accessToken('flaky', world.contactsUrl), (err) => code(err) === 'token_endpoint_error')
      assert.equal((await client.fetch('flaky', `${world.contactsUrl}/people`)).status, 200)
      world.op.failTokenRequests(1, INVALID_REQUEST)
      await assert.rejects(client.accessToken('flaky', world.calendarUrl), (err) => code(err) === 'token_endpoint_error')
      assert.equal(await client.hasGrant('flaky'), true)
      assert.equal((await client.fetch('flaky', `${world.calendarUrl}events`)).status, 200)
    } finally {
      await world.close()
    }
  })
})

describe('(simulated provider quirk: offline_access left out of scopes_supported)', () => {
  test('offline_access is asked for anyway: login and refresh work', async () => {
    const world = await withQuirks({ unadvertisedScopes: ['offline_access'] })
    try {
      const client = await world.client()
      await world.login(client, 'offline')
      const asked = world.op.parRequests.at(-1)?.get('scope') ?? ''
      assert.ok(asked.split(' ').includes('offline_access'), asked)
      assert.equal((await client.fetch('offline', `${world.contactsUrl}/people`)).status, 200)
    } finally {
      await world.close()
    }
  })

  test('offlineAccess: false does not ask; no refresh token then: refresh_token_missing says what was asked and what the metadata says, without blame', async () => {
    const world = await withQuirks({ unadvertisedScopes: ['offline_access'] })
    try {
      const client = await world.client({ offlineAccess: false })
      await assert.rejects(world.login(client, 'no-offline'), (err) => {
        assert.equal(code(err), 'refresh_token_missing')
        const message = (err as Error).message
        assert.match(message, /asked for scope "openid contacts:read calendar:read"/)
        assert.match(message, /offlineAccess: false/)
        assert.match(message, /scopes_supported does not list offline_access/)
        assert.doesNotMatch(message, /\bmust\b|\bfault\b|\bbroken\b|\bwrong\b/)
        return true
      })
      assert.ok(!(world.op.parRequests.at(-1)?.get('scope') ?? '').includes('offline_access'))
    } finally {
      await world.close()
    }
  })
})

describe('(simulated provider quirk: the revocation endpoint answers an HTML page with 200)', () => {
  test('logout reports each revocation as failed, and truthfully: the provider still has the tokens', async () => {
    const world = await withQuirks({ revocationHtml: true }, { indicators: false })
    try {
      const client = await world.client()
      await world.login(client, 'html')
      const token = await client.accessToken('html', world.contactsUrl)
      const result = await client.logout('html')
      assert.deepEqual(result.revocation, { refreshToken: 'failed', accessTokens: { revoked: 0, notRevoked: 1 } })
      assert.equal((await world.op.introspect(token.value))['active'], true, 'nothing was revoked')
      assert.equal(await client.hasGrant('html'), false, 'the local grant is gone all the same')
    } finally {
      await world.close()
    }
  })

  test('a well-behaved endpoint (empty 200) is still reported as revoked', async () => {
    const world = await withQuirks({}, { indicators: false })
    try {
      const client = await world.client()
      await world.login(client, 'ok')
      const token = await client.accessToken('ok', world.contactsUrl)
      const result = await client.logout('ok')
      assert.deepEqual(result.revocation, { refreshToken: 'revoked', accessTokens: { revoked: 1, notRevoked: 0 } })
      assert.equal((await world.op.introspect(token.value))['active'], false)
    } finally {
      await world.close()
    }
  })
})

describe('the issue-13 quirks do what they say (protocol level, no library)', () => {
  async function grant(op: TestProvider, scope = 'openid offline_access'): Promise<{ config: oidc.Configuration; refreshToken: string }> {
    const config = await oidc.discovery(new URL(op.issuer), op.clientId, { redirect_uris: [op.redirectUri] }, oidc.ClientSecretBasic(op.clientSecret), { execute: [oidc.allowInsecureRequests] })
    const verifier = oidc.randomPKCECodeVerifier()
    const state = oidc.randomState()
    const url = oidc.buildAuthorizationUrl(config, { redirect_uri: op.redirectUri, scope, prompt: 'consent', code_challenge: await oidc.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256', state })
    const tokens = await oidc.authorizationCodeGrant(config, new URL(await op.login(url)), { pkceCodeVerifier: verifier, expectedState: state })
    assert.ok(tokens.refresh_token)
    return { config, refreshToken: tokens.refresh_token }
  }

  async function post(op: TestProvider, path: string, body: Record<string, string>): Promise<{ status: number; type: string | null; body: string }> {
    const res = await fetch(`${op.issuer}${path}`, {
      method: 'POST',
      headers: { authorization: basicAuth(op.clientId, op.clientSecret), 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams(body),
    })
    return { status: res.status, type: res.headers.get('content-type'), body: await res.text() }
  }

  test('omitRefreshScope: a refresh response has no scope (the code exchange still has one)', async () => {
    const world = await withQuirks({ ignoreRefreshScope: true, omitRefreshScope: true }, { indicators: false })
    try {
      const { refreshToken } = await grant(world.op, 'openid offline_access contacts:read calendar:read')
      const answer = await post(world.op, '/token', { grant_type: 'refresh_token', refresh_token: refreshToken, scope: 'contacts:read' })
      assert.equal(answer.status, 200)
      const json = JSON.parse(answer.body) as Record<string, unknown>
      assert.equal(typeof json['access_token'], 'string')
      assert.equal('scope' in json, false)
    } finally {
      await world.close()
    }
  })

  test('unknownRefreshToken: a made-up refresh token gets 400 invalid_request', async () => {
    const world = await withQuirks({ unknownRefreshToken: 'invalid_request' }, { indicators: false })
    try {
      const answer = await post(world.op, '/token', { grant_type: 'refresh_token', refresh_token: 'made-up-refresh-token' })
      assert.equal(answer.status, 400)
      assert.equal((JSON.parse(answer.body) as { error: string }).error, 'invalid_request')
    } finally {
      await world.close()
    }
  })

  test('unadvertisedScopes: offline_access is not in scopes_supported, and still gives a refresh token', async () => {
    const world = await withQuirks({ unadvertisedScopes: ['offline_access'] }, { indicators: false })
    try {
      const metadata = (await (await fetch(`${world.op.issuer}/.well-known/openid-configuration`)).json()) as { scopes_supported: string[] }
      assert.ok(metadata.scopes_supported.includes('openid'))
      assert.ok(!metadata.scopes_supported.includes('offline_access'))
      await grant(world.op)
    } finally {
      await world.close()
    }
  })

  test('revocationHtml: 200 with an HTML page, and the token stays active', async () => {
    const world = await withQuirks({ revocationHtml: true }, { indicators: false })
    try {
      const { refreshToken } = await grant(world.op)
      const answer = await post(world.op, '/token/revocation', { token: refreshToken, token_type_hint: 'refresh_token' })
      assert.equal(answer.status, 200)
      assert.match(answer.type ?? '', /text\/html/)
      assert.match(answer.body, /<html>/)
      assert.equal((await world.op.introspect(refreshToken))['active'], true)
    } finally {
      await world.close()
    }
  })
})
