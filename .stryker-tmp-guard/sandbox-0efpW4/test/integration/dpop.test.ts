// @ts-nocheck
import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import { generateKeyPair, exportJWK, SignJWT, calculateJwkThumbprint, decodeJwt } from 'jose'
import { createHash, randomUUID } from 'node:crypto'
import { startScenario, type Scenario } from '../support/scenario.js'

async function foreignProof(url: string, method: string, token: string): Promise<string> {
  const { privateKey, publicKey } = await generateKeyPair('ES256')
  const jwk = await exportJWK(publicKey)
  return new SignJWT({ htm: method, htu: url, jti: randomUUID(), ath: createHash('sha256').update(token).digest('base64url') })
    .setProtectedHeader({ alg: 'ES256', typ: 'dpop+jwt', jwk })
    .setIssuedAt()
    .sign(privateKey)
}

describe('DPoP-bound tokens per resource (RFC 9449)', () => {
  let world: Scenario
  before(async () => {
    world = await startScenario()
  })
  after(() => world.close())

  function dpopOptions() {
    return {
      resources: [
        { url: world.contactsUrl, scope: 'contacts:read', indicator: world.contactsUrl, name: 'contacts', dpop: true },
        { url: world.calendarUrl, scope: 'calendar:read', indicator: world.calendarUrl, name: 'calendar' },
      ],
    }
  }

  test('the DPoP resource gets a bound token and every request carries a fresh proof; the other stays bearer', async () => {
    const client = await world.client(dpopOptions())
    await world.login(client, 'dpop-user')
    const contacts = await client.accessToken('dpop-user', world.contactsUrl)
    const calendar = await client.accessToken('dpop-user', world.calendarUrl)
    assert.equal(contacts.type, 'dpop')
    assert.equal(calendar.type, 'bearer')
    const claims = decodeJwt(contacts.value)
    assert.equal(typeof (claims['cnf'] as { jkt?: unknown } | undefined)?.jkt, 'string')

    const r1 = await client.fetch('dpop-user', `${world.contactsUrl}/people?page=1`)
    const r2 = await client.fetch('dpop-user', `${world.contactsUrl}/people?page=1`, { method: 'POST', body: 'x' })
    assert.equal(r1.status, 200)
    assert.equal(r2.status, 200)
    const [a, b] = world.contacts.requests.slice(-2)
    assert.match(String(a?.headers['authorization']), /^DPoP /)
    const proofA = decodeJwt(String(a?.headers['dpop']))
    const proofB = decodeJwt(String(b?.headers['dpop']))
    assert.notEqual(proofA['jti'], proofB['jti'])
    assert.equal(proofA['htm'], 'GET')
    assert.equal(proofB['htm'], 'POST')
    assert.equal(proofA['htu'], `${world.contactsUrl}/people`)
    assert.equal(proofA['ath'], createHash('sha256').update(contacts.value).digest('base64url'))

    const calendarResponse = await client.fetch('dpop-user', `${world.calendarUrl}events`)
    assert.equal(calendarResponse.status, 200)
    assert.match(String(world.calendar.requests.at(-1)?.headers['authorization']), /^Bearer /)
    assert.equal(world.calendar.requests.at(-1)?.headers['dpop'], undefined)
  })

  test('a DPoP-bound token is refused as a Bearer token and with a proof from another key', async () => {
    const client = await world.client(dpopOptions())
    await world.login(client, 'dpop-thief')
    const token = await client.accessToken('dpop-thief', world.contactsUrl)
    const url = `${world.contactsUrl}/people`
    const asBearer = await fetch(url, { headers: { authorization: `Bearer ${token.value}` } })
    assert.equal(asBearer.status, 401)
    const otherKey = await fetch(url, { headers: { authorization: `DPoP ${token.value}`, dpop: await foreignProof(url, 'GET', token.value) } })
    assert.equal(otherKey.status, 401)
  })

  test('one key per grant: two clients sharing a store use the same key and the same token', async () => {
    const { MemoryStore } = await import('resource-tokens')
    const store = new MemoryStore()
    const one = await world.client({ ...dpopOptions(), store })
    const two = await world.client({ ...dpopOptions(), store })
    await world.login(one, 'shared-dpop')
    world.op.resetCounters()
    const t1 = await one.accessToken('shared-dpop', world.contactsUrl)
    const t2 = await two.accessToken('shared-dpop', world.contactsUrl)
    assert.equal(t1.value, t2.value)
    assert.equal(world.op.tokenRequests.length, 1)
    const res = await two.fetch('shared-dpop', `${world.contactsUrl}/people`)
    assert.equal(res.status, 200)
    const proof = String(world.contacts.requests.at(-1)?.headers['dpop'])
    const header = JSON.parse(Buffer.from(proof.split('.')[0] ?? '', 'base64url').toString()) as { jwk: Record<string, string> }
    const jkt = (decodeJwt(t1.value)['cnf'] as { jkt: string }).jkt
    assert.equal(await calculateJwkThumbprint(header.jwk), jkt)
  })
})
