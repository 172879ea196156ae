// @ts-nocheck
import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import { exportJWK, generateKeyPair } from 'jose'
import { createResourceClient, ResourceTokensError, type ResourceClient } from 'resource-tokens'
import { startScenario, type Scenario } from '../support/scenario.js'

describe('client authentication beyond a shared secret, and PAR', () => {
  let world: Scenario
  let privateKey: Awaited<ReturnType<typeof generateKeyPair>>['privateKey']
  const jwtSecret = 'a-client-secret-jwt-secret-that-is-long-enough-0123456789'
  const clients: ResourceClient[] = []
  before(async () => {
    const pair = await generateKeyPair('ES256', { extractable: true })
    privateKey = pair.privateKey
    const publicJwk = { ...(await exportJWK(pair.publicKey)), kid: 'pk1', alg: 'ES256', use: 'sig' }
    world = await startScenario({
      provider: {
        clients: [
          { client_id: 'pkjwt', token_endpoint_auth_method: 'private_key_jwt', token_endpoint_auth_signing_alg: 'ES256', jwks: { keys: [publicJwk] }, redirect_uris: ['http://127.0.0.1:9/cb-pkjwt'], grant_types: ['authorization_code', 'refresh_token'], response_types: ['code'] },
          { client_id: 'secretjwt', client_secret: jwtSecret, token_endpoint_auth_method: 'client_secret_jwt', redirect_uris: ['http://127.0.0.1:9/cb-secretjwt'], grant_types: ['authorization_code', 'refresh_token'], response_types: ['code'] },
          { client_id: 'post', client_secret: 'post-secret-with:special/chars+%', token_endpoint_auth_method: 'client_secret_post', redirect_uris: ['http://127.0.0.1:9/cb-post'], grant_types: ['authorization_code', 'refresh_token'], response_types: ['code'] },
        ],
      },
    })
  })
  after(async () => {
    await Promise.all(clients.map((c) => c.close()))
    await world.close()
  })

  async function loginAndCall(client: ResourceClient): Promise<void> {
    const { url } = await client.startLogin('user', {})
    assert.ok(url.searchParams.get('request_uri'), 'PAR was used: login parameters left the front channel')
    assert.equal(url.searchParams.get('code_challenge'), null)
    const callback = await world.op.login(url)
    await client.finishLogin('user', callback)
    const res = await client.fetch('user', `${world.contactsUrl}/people`)
    assert.equal(res.status, 200)
  }

  test('login and refresh work with private_key_jwt and PAR', async () => {
    const client = await createResourceClient({ ...world.options(), clientId: 'pkjwt', clientSecret: undefined as unknown as string, clientPrivateKey: { key: privateKey, kid: 'pk1' }, redirectUri: 'http://127.0.0.1:9/cb-pkjwt' })
    clients.push(client)
    await loginAndCall(client)
  })

  test('login and refresh work with client_secret_jwt', async () => {
    const client = await createResourceClient({ ...world.options(), clientId: 'secretjwt', clientSecret: jwtSecret, clientAuth: 'client_secret_jwt', redirectUri: 'http://127.0.0.1:9/cb-secretjwt' })
    clients.push(client)
    await loginAndCall(client)
  })

  test('login and refresh work with client_secret_post and a secret with reserved characters', async () => {
    const client = await createResourceClient({ ...world.options(), clientId: 'post', clientSecret: 'post-secret-with:special/chars+%', clientAuth: 'client_secret_post', redirectUri: 'http://127.0.0.1:9/cb-post' })
    clients.push(client)
    await loginAndCall(client)
  })

  test('private_key_jwt without a key is a config error', async () => {
    await assert.rejects(
      createResourceClient({ ...world.options(), clientAuth: 'private_key_jwt', clientSecret: undefined as unknown as string }),
      (err) => err instanceof ResourceTokensError && err.code === 'invalid_config' && /clientPrivateKey/.test(err.message),
    )
  })
})
