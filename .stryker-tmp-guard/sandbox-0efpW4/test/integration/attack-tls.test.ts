// @ts-nocheck
import assert from 'node:assert/strict'
import { createServer } from 'node:https'
import type { AddressInfo } from 'node:net'
import { after, before, describe, test } from 'node:test'
import { createResourceClient, ResourceTokensError } from 'resource-tokens'
import { startScenario, type Scenario } from '../support/scenario.js'
import { TLS_CERT, TLS_KEY } from '../support/tls.js'

// Threat model 4.2.1 / 4.6.4 (spoofed host by DNS or ARP): the countermeasure is server authentication
// (5.1.2). A server whose certificate the platform does not trust never receives a credential.
describe('spoofed hosts: a server with an untrusted certificate gets no credential', () => {
  let world: Scenario
  let spoof: ReturnType<typeof createServer>
  let spoofUrl = ''
  const seen: Array<string | undefined> = []
  before(async () => {
    world = await startScenario()
    spoof = createServer({ key: TLS_KEY, cert: TLS_CERT }, (req, res) => {
      seen.push(req.headers.authorization)
      res.end('{}')
    })
    await new Promise<void>((resolve) => spoof.listen(0, '127.0.0.1', resolve))
    spoof.unref()
    spoofUrl = `https://127.0.0.1:${(spoof.address() as AddressInfo).port}`
  })
  after(async () => {
    spoof.closeAllConnections()
    await new Promise((resolve) => spoof.close(resolve))
    await world.close()
  })

  test('a resource presenting an untrusted certificate: the fetch fails and no token reaches it', async () => {
    const client = await world.client({
      resources: [
        { url: world.contactsUrl, scope: 'contacts:read', indicator: world.contactsUrl },
        { url: `${spoofUrl}/api`, scope: 'calendar:read', indicator: world.calendarUrl },
      ],
    })
    await world.login(client, 'tls')
    await assert.rejects(client.fetch('tls', `${spoofUrl}/api/people`))
    assert.deepEqual(seen, [], 'the TLS handshake failed before any request reached the spoofed server')
  })

  test('a provider presenting an untrusted certificate: discovery fails with discovery_failed, no client secret sent', async () => {
    await assert.rejects(
      createResourceClient({ ...world.options(), issuer: spoofUrl }),
      (err) => err instanceof ResourceTokensError && err.code === 'discovery_failed',
    )
    assert.deepEqual(seen, [])
  })
})
