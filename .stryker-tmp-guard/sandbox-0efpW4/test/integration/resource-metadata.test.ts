// @ts-nocheck
import assert from 'node:assert/strict'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { after, before, describe, test } from 'node:test'
import { ResourceTokensError } from 'resource-tokens'
import { startScenario, type Scenario } from '../support/scenario.js'

// RFC 9728 on the client side: a 401 that points at resource metadata is only retried with a new token when
// the metadata names the registered resource and this client's authorization server.
describe('a 401 with resource_metadata (RFC 9728)', () => {
  let world: Scenario
  let documents: Record<string, unknown> = {}
  let metadataBase = ''
  const metadataServer = createServer((req, res) => {
    const doc = documents[req.url ?? '']
    if (doc === undefined) res.writeHead(404).end()
    else res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(doc))
  })
  before(async () => {
    world = await startScenario()
    await new Promise<void>((resolve) => metadataServer.listen(0, '127.0.0.1', resolve))
    metadataServer.unref()
    metadataBase = `http://127.0.0.1:${(metadataServer.address() as AddressInfo).port}`
  })
  after(async () => {
    metadataServer.closeAllConnections()
    metadataServer.close()
    await world.close()
  })

  /** The contacts resource refuses once, pointing at a metadata document it serves itself under /meta/. */
  function refuseOnceWith(metadataPath: string, base?: string): void {
    let refused = false
    world.contacts.respond((req, res) => {
      if (req.url?.startsWith('/meta/') === true) {
        const doc = documents[req.url.slice('/meta'.length)]
        if (doc === undefined) res.writeHead(404).end()
        else res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(doc))
        return true
      }
      if (refused) return false
      refused = true
      res.writeHead(401, { 'www-authenticate': `Bearer error="invalid_token", resource_metadata="${base ?? `${world.contacts.url}/meta`}${metadataPath}"` }).end()
      return true
    })
  }

  function refreshes(): number {
    return world.op.tokenRequests.filter((r) => r.grantType === 'refresh_token').length
  }

  test('metadata naming the registered resource and our authorization server: retried once with a new token', async () => {
    documents = { '/good': { resource: world.contactsUrl, authorization_servers: [world.op.issuer] } }
    const client = await world.client()
    await world.login(client, 'meta-good')
    await client.accessToken('meta-good', world.contactsUrl)
    const before = refreshes()
    refuseOnceWith('/good')
    try {
      const res = await client.fetch('meta-good', `${world.contactsUrl}/people`)
      assert.equal(res.status, 200)
      assert.equal(refreshes(), before + 1)
    } finally {
      world.contacts.respond()
    }
  })

  test('metadata on another origin than the resource: refused without being fetched, no new token requested', async () => {
    documents = { '/good': { resource: world.contactsUrl, authorization_servers: [world.op.issuer] } }
    let fetched = 0
    metadataServer.on('request', () => fetched++)
    const client = await world.client()
    await world.login(client, 'meta-elsewhere')
    await client.accessToken('meta-elsewhere', world.contactsUrl)
    const before = refreshes()
    refuseOnceWith('/good', metadataBase)
    try {
      await assert.rejects(client.fetch('meta-elsewhere', `${world.contactsUrl}/people`), (err) => err instanceof ResourceTokensError && err.code === 'resource_metadata_mismatch')
      assert.equal(refreshes(), before)
      assert.equal(fetched, 0, 'the client was not made to fetch from another host')
    } finally {
      world.contacts.respond()
    }
  })

  for (const [name, doc] of [
    ['another authorization server', { resource: 'CONTACTS', authorization_servers: ['https://evil.example'] }],
    ['another resource identifier', { resource: 'https://other.example/api', authorization_servers: ['ISSUER'] }],
    ['no document at all', undefined],
  ] as const) {
    test(`metadata naming ${name}: refused with resource_metadata_mismatch, no new token requested`, async () => {
      documents = doc === undefined ? {} : { '/bad': JSON.parse(JSON.stringify(doc).replace('CONTACTS', world.contactsUrl).replace('ISSUER', world.op.issuer)) }
      const client = await world.client()
      const key = `meta-bad-${name}`
      await world.login(client, key)
      await client.accessToken(key, world.contactsUrl)
      const before = refreshes()
      refuseOnceWith('/bad')
      try {
        await assert.rejects(client.fetch(key, `${world.contactsUrl}/people`), (err) => err instanceof ResourceTokensError && err.code === 'resource_metadata_mismatch')
        assert.equal(refreshes(), before, 'no token was spent on a resource that names someone else')
      } finally {
        world.contacts.respond()
      }
    })
  }
})
