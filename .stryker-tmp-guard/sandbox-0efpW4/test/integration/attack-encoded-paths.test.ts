// @ts-nocheck
// Issue 12, item 2: encoded dot segments inside a resource path. WHATWG URL parsing collapses literal `.`/`..`
// only; nginx, Tomcat (`;`), IIS (`\`) and many proxies decode `%2F`, `%5C`, `%2e` and route `/api/..%2Fadmin`
// outside `/api`. Such a request (or a redirect to one) must not carry the `/api` token, and accessToken() must
// not hand it out: the library refuses it with `ambiguous_path` before anything is sent. Real provider, real
// recording resource server; fast-check over the encodings.
import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import fc from 'fast-check'
import type { ResourceClient } from 'resource-tokens'
import { code } from '../support/errors.js'
import { startRecordingServer, type TestResourceServer } from '../support/resource-server.js'
import { startScenario, type Scenario } from '../support/scenario.js'

const KEY = 'user'

/** How one dot may be written: literally, percent-encoded in either case, or encoded twice. */
const dot = fc.constantFrom('.', '%2e', '%2E', '%252e', '%252E')
/** What may stand between segments for a decoding server: a slash, an encoded slash or backslash, or a `;` parameter and a slash. */
const separator = fc.constantFrom('%2F', '%2f', '%5C', '%5c', '%252F', ';/', ';x=1/', '/')
const dotSegment = fc.oneof(dot, fc.tuple(dot, dot).map(([a, b]) => `${a}${b}`))
const word = fc.stringMatching(/^[A-Za-z0-9_-]{1,8}$/)

describe('attack: an encoded dot segment inside a resource path gets no token', () => {
  let world: Scenario
  let client: ResourceClient
  let rs: TestResourceServer
  let base: string

  before(async () => {
    world = await startScenario()
    rs = await startRecordingServer()
    base = `${rs.url}/api`
    world.op.registerResource({ indicator: base, scope: 'contacts:read' })
    client = await world.client({ resources: [...world.options().resources, { url: base, scope: 'contacts:read', name: 'rec', indicator: base }] })
    await world.login(client, KEY)
  })
  after(async () => {
    await rs.close()
    await world.close()
  })

  function tokensSent(): number {
    return rs.requests.filter((r) => r.headers['authorization'] !== undefined || r.headers['dpop'] !== undefined).length
  }

  test('the requests of the issue are refused with ambiguous_path; nothing reaches the server; accessToken() refuses too', async () => {
    const paths = ['/api/..%2Fadmin', '/api/%2e%2e%2fadmin', '/api/..%5Cadmin', '/api/..;/admin', '/api/users/..%2F..%2Fadmin', '/api/%2E%2e;jsessionid=1/admin', '/api/x/..%252Fadmin']
    for (const path of paths) {
      const url = `${rs.url}${path}`
      await assert.rejects(client.fetch(KEY, url), (err) => code(err) === 'ambiguous_path', path)
      await assert.rejects(client.accessToken(KEY, url), (err) => code(err) === 'ambiguous_path', path)
    }
    assert.equal(rs.requests.length, 0)
    // The same resource without tricks still gets its token: the refusal is about the path, not the resource.
    const ok = await client.fetch(KEY, `${base}/users/${encodeURIComponent('a/b c')}`)
    assert.equal(ok.status, 200)
    assert.equal(tokensSent(), 1)
    rs.requests.length = 0
  })

  test('a redirect within the resource to an encoded dot segment is refused: the token is not sent there', async () => {
    rs.respond((req, res) => {
      if (req.url === '/api/start') {
        res.statusCode = 302
        res.setHeader('location', '/api/..%2Fadmin')
        res.end()
        return true
      }
      return false
    })
    try {
      await assert.rejects(client.fetch(KEY, `${base}/start`), (err) => code(err) === 'ambiguous_path')
      assert.deepEqual(rs.requests.map((r) => r.url), ['/api/start'], 'the redirect was not followed')
    } finally {
      rs.respond()
      rs.requests.length = 0
    }
  })

  test('property: any encoding of a dot segment, behind any separator, is refused and sends nothing', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(word, { maxLength: 2 }), separator, dotSegment, separator, word, async (before, sep1, segment, sep2, after) => {
        const path = `/api/${before.map((w) => `${w}/`).join('')}${before.length > 0 && sep1 !== '/' ? before.pop() ?? '' : ''}${sep1}${segment}${sep2}${after}`
        const url = `${rs.url}${path}`
        // WHATWG may have collapsed it already (a literal dot segment between slashes): then it is an ordinary path.
        if (!new URL(url).pathname.includes(`${sep1}${segment}${sep2}`)) return
        let refused = false
        try {
          await client.accessToken(KEY, url)
        } catch (err) {
          refused = code(err) === 'ambiguous_path'
        }
        assert.ok(refused, `${path} was not refused`)
        await assert.rejects(client.fetch(KEY, url), (err) => code(err) === 'ambiguous_path')
      }),
      { numRuns: 300 },
    )
    assert.equal(rs.requests.length, 0)
  })

  test('property: paths built with encodeURIComponent from names that are not dot segments keep their token', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.string({ minLength: 1, maxLength: 6 }).filter((s) => s !== '.' && s !== '..'), { minLength: 1, maxLength: 3 }), async (names) => {
        const url = `${base}/${names.map((n) => encodeURIComponent(n)).join('/')}`
        const decodedDots = names.some((n) => /^(\.|%2e){1,2}$/i.test(n.split(';')[0] ?? '') || /[/\\]|%2f|%5c|;/i.test(n))
        if (decodedDots) return
        const info = await client.accessToken(KEY, url)
        assert.equal(info.resource, 'rec')
      }),
      { numRuns: 200 },
    )
  })
})
