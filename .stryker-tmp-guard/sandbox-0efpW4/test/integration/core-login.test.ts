// @ts-nocheck
import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import { type ResourceTokensError, type ResourceClient } from 'resource-tokens'
import { startScenario, type Scenario } from '../support/scenario.js'
import { code } from '../support/errors.js'

describe('login against the real provider', () => {
  let world: Scenario
  let client: ResourceClient
  before(async () => {
    world = await startScenario()
    client = await world.client()
  })
  after(() => world.close())

  test('startLogin asks for PKCE S256, state, nonce, offline_access, every resource scope and indicator', async () => {
    const { url } = await client.startLogin('session-a', { returnTo: '/inbox' })
    // The provider offers PAR, so the front-channel URL only carries client_id and request_uri.
    assert.ok(url.searchParams.get('request_uri')?.startsWith('urn:ietf:params:oauth:request_uri:'))
    assert.equal(url.searchParams.get('code_challenge'), null, 'login parameters leave the front channel')
    const par = world.op.parRequests.at(-1)
    assert.ok(par)
    assert.equal(par.get('code_challenge_method'), 'S256')
    assert.match(par.get('code_challenge') ?? '', /^[A-Za-z0-9_-]{43}$/)
    assert.ok((par.get('state') ?? '').length >= 22)
    assert.ok((par.get('nonce') ?? '').length >= 22)
    assert.deepEqual(new Set(par.get('scope')?.split(' ')), new Set(['openid', 'offline_access', 'contacts:read', 'calendar:read']))
    assert.equal(par.get('prompt'), 'consent')
    assert.deepEqual(par.getAll('resource').sort(), [world.contactsUrl, world.calendarUrl].sort())
  })

  test('finishLogin stores the grant and returns returnTo and the validated claims', async () => {
    const { url } = await client.startLogin('session-b', { returnTo: '/inbox?x=1' })
    const callback = await world.op.login(url, { accountId: 'bob' })
    const result = await client.finishLogin('session-b', callback)
    assert.equal(result.returnTo, '/inbox?x=1')
    assert.equal(result.claims['sub'], 'bob')
    assert.equal(await client.hasGrant('session-b'), true)
  })

  test('a callback for another key is rejected and stores nothing', async () => {
    const { url } = await client.startLogin('victim', {})
    const callback = await world.op.login(url)
    await assert.rejects(client.finishLogin('attacker', callback), (err) => code(err) === 'invalid_callback')
    assert.equal(await client.hasGrant('attacker'), false)
    // The victim's transaction was not consumed by the foreign attempt.
    await client.finishLogin('victim', callback)
    assert.equal(await client.hasGrant('victim'), true)
  })

  test('a replayed callback is rejected', async () => {
    const { url } = await client.startLogin('replay', {})
    const callback = await world.op.login(url)
    await client.finishLogin('replay', callback)
    await assert.rejects(client.finishLogin('replay', callback), (err) => code(err) === 'invalid_callback')
  })

  test('a callback without state is rejected', async () => {
    const { url } = await client.startLogin('nostate', {})
    const callback = new URL(await world.op.login(url))
    callback.searchParams.delete('state')
    await assert.rejects(client.finishLogin('nostate', callback), (err) => code(err) === 'invalid_callback')
    assert.equal(await client.hasGrant('nostate'), false)
  })

  test('a provider error (access_denied) is rejected with its error and stores nothing', async () => {
    const { url } = await client.startLogin('denied', {})
    const callback = await world.op.login(url, { deny: true })
    await assert.rejects(client.finishLogin('denied', callback), (err) => code(err) === 'authorization_error' && (err as ResourceTokensError).error === 'access_denied')
    assert.equal(await client.hasGrant('denied'), false)
  })

  test('returnTo must be a local path', async () => {
    for (const bad of ['//evil.test', '/\\evil.test', '/%2F%5Cevil.test', 'https://evil.test', 'javascript:alert(1)', '', '/ok\r\nx']) {
      await assert.rejects(client.startLogin('rt', { returnTo: bad }), (err) => code(err) === 'invalid_argument', bad)
    }
  })

  test('logout revokes the refresh token, forgets the grant and returns the end-session URL', async () => {
    await world.login(client, 'leaver')
    const token = await client.accessToken('leaver', `${world.contactsUrl}/people`)
    const grantRefreshHash = world.op.tokenRequests.at(-1)?.refreshTokenHash
    assert.ok(grantRefreshHash)
    const result = await client.logout('leaver')
    assert.equal(result.revocation.refreshToken, 'revoked')
    // JWT access tokens cannot be revoked at oidc-provider (unsupported_token_type): reported, not thrown.
    assert.equal(result.revocation.accessTokens.revoked + result.revocation.accessTokens.notRevoked, 1)
    assert.ok(result.endSessionUrl)
    assert.equal(result.endSessionUrl.searchParams.get('post_logout_redirect_uri'), world.op.postLogoutRedirectUri)
    assert.ok(result.endSessionUrl.searchParams.get('id_token_hint'))
    assert.equal(await client.hasGrant('leaver'), false)
    await assert.rejects(client.fetch('leaver', `${world.contactsUrl}/people`), (err) => code(err) === 'login_required')
    assert.equal(token.resource, 'contacts')
  })

  test('after logout the provider reports the refresh token inactive', async () => {
    let refreshToken: string | undefined
    world.op.setTokenEndpointHook(({ body }) => {
      if (body.get('grant_type') === 'authorization_code') return
      refreshToken ??= body.get('refresh_token') ?? undefined
    })
    await world.login(client, 'introspected')
    await client.accessToken('introspected', world.calendarUrl)
    world.op.setTokenEndpointHook()
    assert.ok(refreshToken)
    // Rotation is on: the refresh token now stored is the rotated one; revoking it kills the grant.
    await client.logout('introspected')
    const introspection = await world.op.introspect(refreshToken)
    assert.equal(introspection['active'], false)
  })

  test('logout with the revocation endpoint failing still forgets the grant', async () => {
    await world.login(client, 'revocation-down')
    world.op.failRevocation(1)
    const result = await client.logout('revocation-down')
    assert.equal(result.revocation.refreshToken, 'failed')
    assert.equal(await client.hasGrant('revocation-down'), false)
  })
})
