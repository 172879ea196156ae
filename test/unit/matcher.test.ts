// The URL matcher decides which token, if any, a request gets (issue 2, behaviour 2; threat model draft
// 4.6.4 and 4.6.5; RFC 9700 section 2.3). The original library matched with `url.indexOf(key) === 0`;
// every case below is one that such matching gets wrong, or one a refactor could break.
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { resolveResources } from '../../src/config/validate.js'
import { ResourceTokensError } from '../../src/errors/resource-tokens-error.js'
import { ResourceMatcher } from '../../src/resources/matcher.js'
import { ResourceRegistry } from '../../src/resources/resource-registry.js'

const resources = resolveResources(
  [
    { url: 'https://api.example.com/api', scope: 'api:read', name: 'api' },
    { url: 'https://api.example.com/api/admin/', scope: 'api:admin', name: 'admin' },
    { url: 'https://api.example.com/v1', scope: 'v1', name: 'v1' },
    { url: 'https://calendar.example.com/', scope: 'calendar:read', name: 'calendar' },
    { url: 'https://other.example.com:8443/svc', scope: 'svc', name: 'port-8443' },
    { url: 'http://127.0.0.1:8080/v1', scope: 'local', name: 'loopback' },
    { url: 'http://[::1]:3000/svc', scope: 'ipv6', name: 'ipv6' },
    { url: 'https://spaces.example.com/a%20b', scope: 'spaces', name: 'encoded' },
  ],
  false,
)
const matcher = new ResourceMatcher(resources)

function nameOf(input: unknown): string | undefined {
  return matcher.match(input as string)?.name
}

function expectMatches(cases: ReadonlyArray<readonly [string, string | undefined]>): void {
  for (const [input, expected] of cases) assert.equal(nameOf(input), expected, `${JSON.stringify(input)} → ${String(expected)}`)
}

describe('ResourceMatcher', () => {
  test('scheme, host and port must all be equal', () => {
    expectMatches([
      ['https://api.example.com/api/people', 'api'],
      ['http://api.example.com/api/people', undefined],
      ['wss://api.example.com/api/people', undefined],
      ['https://api.example.com:8443/api/people', undefined],
      ['https://api.example.com:444/api', undefined],
      ['https://other.example.com:8443/svc/x', 'port-8443'],
      ['https://other.example.com/svc/x', undefined],
      ['http://other.example.com:8443/svc/x', undefined],
      ['http://127.0.0.1:8080/v1/x', 'loopback'],
      ['https://127.0.0.1:8080/v1/x', undefined],
      ['http://127.0.0.1:8081/v1/x', undefined],
      ['http://127.0.0.1/v1/x', undefined],
    ])
  })

  test('the default port is the same port: :443 for https, :80 for http', () => {
    expectMatches([
      ['https://api.example.com:443/api/x', 'api'],
      ['https://calendar.example.com:443/', 'calendar'],
      ['https://api.example.com:80/api/x', undefined],
    ])
    const explicit = new ResourceMatcher(resolveResources([{ url: 'https://explicit.example.com:443/x', scope: 's' }], false))
    assert.ok(explicit.match('https://explicit.example.com/x/y'))
  })

  test('hosts compare case-insensitively (URL normalization), paths case-sensitively', () => {
    expectMatches([
      ['https://API.EXAMPLE.COM/api/x', 'api'],
      ['HTTPS://Api.Example.Com/api', 'api'],
      ['https://api.example.com/API/x', undefined],
      ['https://api.example.com/Api', undefined],
    ])
    const upper = new ResourceMatcher(resolveResources([{ url: 'https://UPPER.example.com/Path', scope: 's' }], false))
    assert.ok(upper.match('https://upper.example.com/Path/x'))
    assert.equal(upper.match('https://upper.example.com/path/x'), undefined)
  })

  test('the path prefix ends on a "/" boundary: /v1 is not /v10, /api is not /apix', () => {
    expectMatches([
      ['https://api.example.com/v1', 'v1'],
      ['https://api.example.com/v1/', 'v1'],
      ['https://api.example.com/v1/x', 'v1'],
      ['https://api.example.com/v1?x=1', 'v1'],
      ['https://api.example.com/v1#frag', 'v1'],
      ['https://api.example.com/v10', undefined],
      ['https://api.example.com/v10/x', undefined],
      ['https://api.example.com/v1x', undefined],
      ['https://api.example.com/v1.json', undefined],
      ['https://api.example.com/v1;x', undefined],
      ['https://api.example.com/api', 'api'],
      ['https://api.example.com/apix', undefined],
      ['https://api.example.com/api-admin', undefined],
      ['https://api.example.com/', undefined],
      ['https://api.example.com', undefined],
      ['http://127.0.0.1:8080/v10', undefined],
    ])
  })

  test('the longest matching prefix wins, and a trailing slash in the resource URL does not matter', () => {
    expectMatches([
      ['https://api.example.com/api/admin', 'admin'],
      ['https://api.example.com/api/admin/', 'admin'],
      ['https://api.example.com/api/admin/users', 'admin'],
      ['https://api.example.com/api/adminx', 'api'],
      ['https://api.example.com/api/admi', 'api'],
      ['https://api.example.com/api/x/admin', 'api'],
    ])
    // Order of registration does not matter.
    const reversed = new ResourceMatcher(resolveResources([
      { url: 'https://a.example/x', scope: 's', name: 'short' },
      { url: 'https://a.example/x/y/z', scope: 's', name: 'longest' },
      { url: 'https://a.example/x/y', scope: 's', name: 'middle' },
    ], false))
    assert.equal(reversed.match('https://a.example/x/y/z/1')?.name, 'longest')
    assert.equal(reversed.match('https://a.example/x/y/1')?.name, 'middle')
    assert.equal(reversed.match('https://a.example/x/1')?.name, 'short')
  })

  test('a root resource takes the whole origin, nothing more', () => {
    expectMatches([
      ['https://calendar.example.com/', 'calendar'],
      ['https://calendar.example.com', 'calendar'],
      ['https://calendar.example.com/events/1', 'calendar'],
      ['https://calendar.example.com.evil.test/', undefined],
      ['https://evil.calendar.example.com/', undefined],
      ['https://xcalendar.example.com/', undefined],
    ])
  })

  test('userinfo never matches: "resource@attacker" and "user:pass@resource"', () => {
    expectMatches([
      ['https://api.example.com@evil.test/api/x', undefined],
      ['https://api.example.com:443@evil.test/api/x', undefined],
      ['https://api.example.com%40evil.test/api/x', undefined],
      ['https://u:p@api.example.com/api/x', undefined],
      ['https://u@api.example.com/api/x', undefined],
      ['https://:p@api.example.com/api/x', undefined],
      ['https://@api.example.com/api/x', 'api'], // an empty userinfo is no userinfo: URL drops the '@'
      ['http://u:p@127.0.0.1:8080/v1', undefined],
    ])
    assert.equal(matcher.match(new URL('https://u:p@api.example.com/api/x')), undefined)
  })

  test('lookalike hosts never match', () => {
    expectMatches([
      ['https://api.example.com.evil.test/api/x', undefined],
      ['https://api.example.com%2eevil.test/api/x', undefined],
      ['https://api-example.com/api/x', undefined],
      ['https://api.example.co/api/x', undefined],
      ['https://api.example.com./api/x', undefined],
      ['https://xn--pi-7ba.example.com/api/x', undefined],
      ['https://аpi.example.com/api/x', undefined], // Cyrillic а
      ['http://localhost:8080/v1/x', undefined],
      ['http://127.0.0.2:8080/v1/x', undefined],
      ['http://[::1]:8080/v1/x', undefined],
      ['http://[::ffff:127.0.0.1]:8080/v1/x', undefined],
    ])
  })

  test('equivalent spellings of the same address match, as Fetch would send them there', () => {
    expectMatches([
      ['http://2130706433:8080/v1/x', 'loopback'], // 127.0.0.1 as one number
      ['http://0x7f.0.0.1:8080/v1/x', 'loopback'],
      ['http://127.1:8080/v1/x', 'loopback'],
      ['http://[0:0:0:0:0:0:0:1]:3000/svc/x', 'ipv6'],
      ['http://[::1]:3000/svc', 'ipv6'],
      ['http://[::1]:3001/svc', undefined],
      ['http://[::2]:3000/svc', undefined],
    ])
  })

  test('protocol-relative, relative and malformed inputs never match and never throw', () => {
    for (const input of ['//api.example.com/api/x', '/api/x', 'api/x', 'api.example.com/api', '', ' ', 'https://', 'https:///api', 'https://[::1/api', '\\\\api.example.com\\api', 'javascript:alert(1)', 'data:,x']) {
      assert.equal(nameOf(input), undefined, JSON.stringify(input))
    }
    for (const input of [undefined, null, 42, {}, [], Symbol('x')]) assert.equal(nameOf(input), undefined)
  })

  test('percent-encoded path tricks: what matches is what the request path is after URL parsing', () => {
    expectMatches([
      // %2F is not a separator: '/api%2F..' is one segment that merely starts with 'api'.
      ['https://api.example.com/api%2F..%2Fadmin', undefined],
      ['https://api.example.com/api%2fx', undefined],
      ['https://api.example.com/apix%2F..%2Fapi', undefined],
      // %2e%2e is a dot segment to URL parsing (and to Fetch): the path is normalized before matching.
      ['https://api.example.com/api/%2e%2e/v10', undefined],
      ['https://api.example.com/api/%2E%2E/secret', undefined],
      ['https://api.example.com/api/../v10', undefined],
      ['https://api.example.com/v10/../v1/x', 'v1'],
      ['https://api.example.com/api/./admin/x', 'admin'],
      // Backslashes are slashes in special URLs, to the parser and to Fetch alike.
      ['https://api.example.com\\api\\x', 'api'],
      // A resource path with an escape matches its encoded and raw spellings.
      ['https://spaces.example.com/a%20b/c', 'encoded'],
      ['https://spaces.example.com/a b/c', 'encoded'],
      ['https://spaces.example.com/a%20bc', undefined],
    ])
  })

  test('a URL object is matched like its string form, and is not mutated', () => {
    const url = new URL('https://api.example.com/api/admin/x')
    assert.equal(matcher.match(url)?.name, 'admin')
    assert.equal(url.href, 'https://api.example.com/api/admin/x')
  })
})

describe('ResourceMatcher.locate: the URL parsed once and its resource, remembered for recently seen URLs', () => {
  // Every kind of input the cases above use, and more that the URL parser rewrites: the answer from memory must
  // be exactly what parsing the same string gives, on the first call and on every later one.
  const inputs = [
    'https://api.example.com/api/people',
    'https://api.example.com/api',
    'https://api.example.com/apiary',
    'https://API.EXAMPLE.COM/api/x',
    'https://api.example.com:443/api/x',
    'https://api.example.com/api/admin/',
    'https://api.example.com/api/admin/x?y=1#z',
    'https://api.example.com/api/../v1/x',
    'https://api.example.com/api/%2e%2e/admin/x',
    'https://api.example.com/api/..%2Fadmin/x',
    'https://api.example.com/api\n/x',
    'https://api.example.com/api\t/x',
    ' https://api.example.com/api/x ',
    'https://user:pass@api.example.com/api/x',
    'https://api.example.com@evil.test/api/x',
    'http://127.0.0.1:8080/v1/x',
    'http://0x7f.0.0.1:8080/v1/x',
    'http://[::1]:3000/svc/x',
    'https://spaces.example.com/a%20b/c',
    'https://spaces.example.com/a b/c',
    'https://calendar.example.com',
    'https://other.example.com:8443/svc',
    '/api/x',
    '//api.example.com/api/x',
    'not a url',
  ]

  function parsed(input: string): { href: string; name: string | undefined } | { error: string } {
    try {
      const url = new URL(input)
      return { href: url.href, name: matcher.resolve(url)?.name }
    } catch (err) {
      // The platform's parse failure is the library's invalid_argument.
      return { error: err instanceof ResourceTokensError ? err.code : 'invalid_argument' }
    }
  }

  function located(m: ResourceMatcher, input: string): { href: string; name: string | undefined } | { error: string } {
    try {
      const { url, resource } = m.locate(input)
      return { href: url.href, name: resource?.name }
    } catch (err) {
      return { error: (err as { code?: string }).code ?? String(err) }
    }
  }

  test('the same answer as parsing, on the first call and from memory', () => {
    const fresh = new ResourceMatcher(resources)
    for (let round = 0; round < 3; round++) {
      for (const input of inputs) {
        assert.deepEqual(located(fresh, input), parsed(input), `${JSON.stringify(input)}, round ${round}`)
      }
    }
  })

  test('a URL object is never the caller\'s own (a caller changing it later changes nothing here)', () => {
    const fresh = new ResourceMatcher(resources)
    const given = new URL('https://api.example.com/api/people')
    const first = fresh.locate(given)
    assert.notEqual(first.url, given)
    given.pathname = '/v1/elsewhere'
    assert.equal(fresh.locate('https://api.example.com/api/people').url.href, 'https://api.example.com/api/people')
    assert.equal(fresh.locate('https://api.example.com/api/people').resource?.name, 'api')
  })

  test('resources registered or removed at run time apply to URLs seen before', () => {
    const registry = new ResourceRegistry(resources, 10)
    const url = 'https://api.example.com/api/reports/1'
    assert.equal(registry.locate(url).resource?.name, 'api')
    const [reports] = resolveResources([{ url: 'https://api.example.com/api/reports', scope: 'reports', name: 'reports' }], false)
    registry.add(reports!, 'added')
    assert.equal(registry.locate(url).resource?.name, 'reports')
    registry.remove(reports!.id)
    assert.equal(registry.locate(url).resource?.name, 'api')
  })

  test('bounded: thousands of distinct URLs keep a bounded memory, and the answers stay right', () => {
    const fresh = new ResourceMatcher(resources)
    for (let i = 0; i < 5000; i++) assert.equal(fresh.locate(`https://api.example.com/api/items/${i}`).resource?.name, 'api')
    assert.ok(fresh.locatedSize <= 32, `remembered ${fresh.locatedSize}`)
    assert.equal(fresh.locate(`https://api.example.com/v1/${'x'.repeat(5000)}`).resource?.name, 'v1')
  })
})
