// @ts-nocheck
import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import { SignJWT, generateKeyPair, decodeJwt } from 'jose'
import * as oidc from 'openid-client'
import { type ResourceClient } from 'resource-tokens'
import { startScenario, type Scenario } from '../support/scenario.js'
import { code } from '../support/errors.js'

/** A login done by other code (as Passport would): openid-client directly, against the test provider. */
async function loginElsewhere(world: Scenario): Promise<{ refreshToken: string; idToken: string }> {
  const config = await oidc.discovery(new URL(world.op.issuer), world.op.clientId, world.op.clientSecret, undefined, { execute: [oidc.allowInsecureRequests] })
  const verifier = oidc.randomPKCECodeVerifier()
  const state = oidc.randomState()
  const url = oidc.buildAuthorizationUrl(config, {
    redirect_uri: world.op.redirectUri,
    scope: 'openid offline_access contacts:read calendar:read',
    prompt: 'consent',
    state,
    code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
  })
  url.searchParams.append('resource', world.contactsUrl)
  url.searchParams.append('resource', world.calendarUrl)
  const callback = await world.op.login(url)
  const tokens = await oidc.authorizationCodeGrant(config, new URL(callback), { pkceCodeVerifier: verifier, expectedState: state })
  assert.ok(tokens.refresh_token && tokens.id_token)
  return { refreshToken: tokens.refresh_token, idToken: tokens.id_token }
}

describe('importGrant: a grant obtained elsewhere', () => {
  let world: Scenario
  let client: ResourceClient
  before(async () => {
    world = await startScenario()
    client = await world.client()
  })
  after(() => world.close())

  test('an imported grant gets per-resource tokens and its claims come from the verified ID token', async () => {
    const grant = await loginElsewhere(world)
    await client.importGrant('imported', grant)
    assert.equal((await client.claims('imported'))?.['sub'], 'alice')
    const res = await client.fetch('imported', `${world.contactsUrl}/people`)
    assert.equal(res.status, 200)
    const token = await client.accessToken('imported', world.calendarUrl)
    assert.deepEqual([decodeJwt(token.value).aud].flat(), [world.calendarUrl])
  })

  test('an ID token not signed by the provider is refused and nothing is stored', async () => {
    const { refreshToken, idToken } = await loginElsewhere(world)
    const { privateKey } = await generateKeyPair('RS256')
    const forged = await new SignJWT({ ...decodeJwt(idToken), sub: 'mallory' }).setProtectedHeader({ alg: 'RS256', kid: 'forged' }).sign(privateKey)
    await assert.rejects(client.importGrant('forged', { refreshToken, idToken: forged }), (err) => code(err) === 'invalid_id_token')
    assert.equal(await client.hasGrant('forged'), false)
  })

  test('a refresh token the provider does not know: the first use ends in login_required and the grant is gone', async () => {
    await client.importGrant('bogus', { refreshToken: 'not-a-real-refresh-token' })
    await assert.rejects(client.fetch('bogus', `${world.contactsUrl}/people`), (err) => code(err) === 'login_required')
    assert.equal(await client.hasGrant('bogus'), false)
  })

  test('an empty refresh token is a typed argument error', async () => {
    await assert.rejects(client.importGrant('empty', { refreshToken: '' }), (err) => code(err) === 'invalid_argument')
  })
})
