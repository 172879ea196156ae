// @ts-nocheck
// Property-based attacks (fast-check): the URL matcher, returnTo, the WWW-Authenticate handling of the
// resource fetch and the callback parser. No input may crash them with anything but our typed error, make
// them hang, or get a token sent to another origin or the browser sent to another site (threat model
// draft 4.2.4 and 4.6.4; RFC 9700 sections 2.3 and 4.11; RFC 6750 section 3 and RFC 9110 section 11.6.1
// for the header). The last two drive the public client against the real test provider.
import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import fc from 'fast-check'
import { ResourceTokensError as PublicError, type ResourceClient } from 'resource-tokens'
import { resolveResources } from '../../src/config/validate.js'
import { ResourceTokensError } from '../../src/errors/resource-tokens-error.js'
import { checkReturnTo } from '../../src/login/return-to.js'
import { ResourceMatcher } from '../../src/resources/matcher.js'
import type { RegisteredResource } from '../../src/resources/resource.js'
import { startScenario, type Scenario } from '../support/scenario.js'

const RUNS = 300

/** Rejects when `promise` has not settled within `ms`: the property then fails as a hang. */
async function within<T>(ms: number, promise: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const hang = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms: a hang`)), ms)
  })
  try {
    return await Promise.race([promise, hang])
  } finally {
    clearTimeout(timer)
  }
}

/** Any single character of ISO-8859-1: what a ByteString header value may hold. */
const latin1 = fc.integer({ min: 0, max: 0xff }).map((n) => String.fromCharCode(n))

/** Maps any string to a valid header value: a ByteString without NUL, CR or LF. */
function toHeaderValue(text: string): string {
  let out = ''
  for (const char of text) {
    const n = char.charCodeAt(0)
    out += char.length > 1 || n > 0xff || n === 0 || n === 0x0a || n === 0x0d ? '?' : char
  }
  return out
}

function isHeaderValue(value: string): boolean {
  try {
    new Headers({ 'www-authenticate': value })
    return true
  } catch {
    return false
  }
}

describe('properties: the URL matcher', () => {
  const resources = resolveResources(
    [
      { url: 'https://api.example.com/api', scope: 's', name: 'api' },
      { url: 'https://api.example.com/api/admin', scope: 's', name: 'admin' },
      { url: 'https://calendar.example.com/', scope: 's', name: 'calendar' },
      { url: 'https://other.example.com:8443/svc', scope: 's', name: 'port' },
      { url: 'http://127.0.0.1:8080/v1', scope: 's', name: 'loopback' },
      { url: 'http://[::1]:3000/svc', scope: 's', name: 'ipv6' },
    ],
    false,
  )
  const matcher = new ResourceMatcher(resources)

  /** What the matcher must answer, stated independently: parse, refuse userinfo, same origin, '/' boundary, longest prefix. */
  function expected(input: string): RegisteredResource | undefined {
    let url: URL
    try {
      url = new URL(input)
    } catch {
      return undefined
    }
    if (url.username !== '' || url.password !== '') return undefined
    const fits = resources.filter((r) => r.origin === url.origin && (r.pathPrefix === '' || url.pathname === r.pathPrefix || url.pathname.startsWith(`${r.pathPrefix}/`)))
    return fits.sort((a, b) => b.pathPrefix.length - a.pathPrefix.length)[0]
  }

  const scheme = fc.constantFrom('https://', 'http://', 'HTTPS://', '//', '', 'https:', 'https:/', 'https:\\\\', 'wss://', 'ftp://', ' https://')
  const host = fc.constantFrom(
    'api.example.com', 'API.Example.COM', 'api.example.com.evil.test', 'evil.test', 'calendar.example.com', 'other.example.com',
    '127.0.0.1', '127.1', '2130706433', 'localhost', '127.0.0.2', '[::1]', '[0::1]', 'api.example.com@evil.test', 'u:p@api.example.com',
    'evil.test@api.example.com', 'api.example.com%2eevil.test', 'api.example.com.', '@api.example.com', 'api.example.com\\@evil.test',
  )
  const port = fc.constantFrom('', ':443', ':80', ':8080', ':8443', ':3000', ':0', ':65536', ':x')
  const piece = fc.oneof(
    fc.constantFrom('/', '/api', '/api/', '/apix', '/admin', '/v1', '/v10', '/svc', '%2F', '%2f', '%2e%2e', '%2E', '..', '.', '\\', '?', '#', '@', ':', '%40', ' ', '\t', '%'),
    fc.string({ maxLength: 3 }),
  )
  const path = fc.array(piece, { maxLength: 8 }).map((parts) => parts.join(''))
  const structured = fc.tuple(scheme, host, port, path).map((parts) => parts.join(''))
  const suffixOfResource = fc.tuple(fc.constantFrom(...resources.map((r) => `${r.origin}${r.pathPrefix}`)), fc.string({ unit: 'binary', maxLength: 12 }), path).map((parts) => parts.join(''))
  // Registered resource URLs with userinfo spliced in: the shape of the "resource@attacker" trick.
  const withUserinfo = fc
    .tuple(fc.constantFrom(...resources), fc.constantFrom('u:p', 'u', ':p', 'api.example.com', 'evil.test:1', '%40'), fc.oneof(fc.constant(''), fc.constant('/'), path))
    .map(([r, userinfo, rest]) => {
      const url = new URL(r.origin)
      return `${url.protocol}//${userinfo}@${url.host}${r.pathPrefix}${rest}`
    })
  const webUrl = fc.webUrl({ withQueryParameters: true, withFragments: true, authoritySettings: { withIPv4: true, withIPv6: true, withIPv4Extended: true, withPort: true, withUserInfo: true } })
  const anything = fc.oneof(structured, suffixOfResource, withUserinfo, webUrl, fc.string({ unit: 'binary', maxLength: 60 }))

  test(`never throws, and never matches a URL of another origin, with userinfo, or off a "/" boundary (${RUNS * 5} runs)`, () => {
    fc.assert(
      fc.property(anything, (input) => {
        const match = matcher.match(input)
        if (match === undefined) return
        const url = new URL(input)
        assert.equal(url.username, '')
        assert.equal(url.password, '')
        assert.equal(url.origin, match.origin)
        assert.ok(match.pathPrefix === '' || url.pathname === match.pathPrefix || url.pathname.startsWith(`${match.pathPrefix}/`))
      }),
      { numRuns: RUNS * 5 },
    )
  })

  test(`answers exactly what the rule says: longest "/"-bounded prefix on the same origin (${RUNS * 5} runs)`, () => {
    fc.assert(
      fc.property(anything, (input) => {
        assert.equal(matcher.match(input)?.name, expected(input)?.name)
        // A URL object is judged like its string form.
        if (URL.canParse(input)) assert.equal(matcher.match(new URL(input))?.name, expected(input)?.name)
      }),
      { numRuns: RUNS * 5 },
    )
  })
})

describe('properties: returnTo', () => {
  const fragment = fc.constantFrom('/', '//', '\\', '/\\', '%2F', '%2f', '%5C', '%5c', '%252F', '%25', 'evil.test', '.', '..', '@', ':', 'https:', 'javascript:', '%09', '\t', '\n', '%0A', '%00', '?', '#', ' ', '%', '%E0', 'é', '\u2028', '\uff0f')
  const candidate = fc.oneof(
    fc.array(fc.oneof(fragment, fc.string({ maxLength: 3 })), { maxLength: 10 }).map((parts) => parts.join('')),
    fc.array(fc.oneof(fragment, fc.string({ maxLength: 3 })), { maxLength: 10 }).map((parts) => `/${parts.join('')}`),
    fc.string({ unit: 'binary', maxLength: 40 }),
    fc.webUrl({ withQueryParameters: true, withFragments: true }),
  )
  const origin = fc.tuple(fc.domain(), fc.option(fc.integer({ min: 1, max: 65535 }), { nil: undefined })).map(([domain, port]) => new URL(`https://${domain}${port === undefined ? '' : `:${port}`}`).origin)

  test(`returns its input only when it stays on the app's origin (also once decoded), else throws invalid_argument (${RUNS * 5} runs)`, () => {
    fc.assert(
      fc.property(candidate, fc.array(origin, { minLength: 1, maxLength: 3 }), (value, origins) => {
        let result: string
        try {
          result = checkReturnTo(value)
        } catch (err) {
          assert.ok(err instanceof ResourceTokensError, String(err))
          assert.equal(err.code, 'invalid_argument')
          return
        }
        assert.equal(result, value)
        for (const o of origins) {
          assert.equal(new URL(result, o).origin, o, `${JSON.stringify(result)} against ${o}`)
          assert.equal(new URL(decodeURIComponent(result), o).origin, o, `${JSON.stringify(result)} decoded, against ${o}`)
        }
      }),
      { numRuns: RUNS * 5 },
    )
  })
})

describe('properties: the public client against the real provider', () => {
  let world: Scenario
  let client: ResourceClient
  /** What the injected fetch answers for the contacts resource in the current run. */
  let answer: { status: number; header: string } = { status: 401, header: '' }
  const KEY = 'property-user'

  before(async () => {
    world = await startScenario()
    // Fault injection: the resource's answer is replaced; everything else (the provider) is real.
    const injected: typeof fetch = async (input, init) => {
      const url = input instanceof Request ? input.url : input instanceof URL ? input.href : input
      if (url.startsWith(world.contactsUrl)) return new Response(null, { status: answer.status, headers: { 'www-authenticate': answer.header } })
      return fetch(input, init)
    }
    client = await world.client({ fetch: injected })
    await world.login(client, KEY)
  })
  after(() => world.close())

  const token = fc.constantFrom('Bearer', 'DPoP', 'Basic', 'bearer', 'BEARER', 'Negotiate', 'error', 'scope', 'realm', 'error_description', 'resource_metadata', 'invalid_token', 'insufficient_scope', 'use_dpop_nonce', 'nonce', '__proto__', 'constructor')
  const separator = fc.constantFrom(' ', ',', ', ', '=', '="', '"', '\\', '\\"', '  ', '\t', '=,', ',,', '', '==', '"",')
  const headerPiece = fc.oneof(token, separator, fc.string({ maxLength: 5 }), fc.string({ unit: latin1, maxLength: 5 }))
  // Well-formed challenges (RFC 9110 section 11.6.1) with the parameters the client acts on, quoted or not.
  const authParam = fc.oneof(
    { arbitrary: fc.tuple(fc.constant('error'), fc.constantFrom('invalid_token', 'insufficient_scope', 'use_dpop_nonce', 'invalid_request'), fc.boolean()), weight: 3 },
    fc.tuple(
      fc.constantFrom('error', 'scope', 'realm', 'error_description', 'resource_metadata', 'algs', 'Error', 'SCOPE', '__proto__'),
      fc.oneof(fc.constantFrom('invalid_token', 'insufficient_scope', 'contacts:write', ''), fc.string({ unit: latin1, maxLength: 10 })),
      fc.boolean(),
    ),
  )
  const challenge = fc
    .tuple(fc.constantFrom('Bearer', 'DPoP', 'Basic', 'bearer', 'Newauth'), fc.array(authParam, { maxLength: 4 }))
    .map(([scheme, params]) => (params.length === 0 ? scheme : `${scheme} ${params.map(([k, v, quoted]) => `${k}=${quoted ? `"${v.replace(/["\\]/g, (c) => `\\${c}`)}"` : v}`).join(', ')}`))
  const header = fc
    .oneof(
      { arbitrary: fc.array(challenge, { minLength: 1, maxLength: 3 }).map((cs) => cs.join(', ')), weight: 6 },
      fc.array(headerPiece, { maxLength: 24 }).map((parts) => parts.join('')),
      fc.tuple(fc.constantFrom('Bearer ', 'DPoP ', 'Bearer error="', 'Bearer realm=', ''), headerPiece, fc.integer({ min: 1, max: 2000 })).map(([start, piece, n]) => `${start}${piece.repeat(n)}`.slice(0, 8000)),
      fc.string({ unit: 'binary', maxLength: 200 }),
      fc.string({ unit: latin1, maxLength: 200 }),
    )
    .map(toHeaderValue)
    .filter(isHeaderValue)

  test(`(fault injected: arbitrary WWW-Authenticate) client.fetch resolves a Response or rejects with ResourceTokensError, never hangs (${RUNS} runs)`, async () => {
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(401, 403, 401, 403, 400, 200), header, async (status, value) => {
        answer = { status, header: value }
        const started = Date.now()
        try {
          const res = await within(10_000, client.fetch(KEY, `${world.contactsUrl}/people`))
          assert.equal(res.status, status)
          await res.body?.cancel()
        } catch (err) {
          assert.ok(err instanceof PublicError, `not our typed error: ${String(err)}`)
          assert.ok(['insufficient_scope', 'token_endpoint_unavailable', 'resource_metadata_mismatch'].includes(err.code), err.code)
        }
        assert.ok(Date.now() - started < 5_000, `took ${Date.now() - started} ms`)
      }),
      { numRuns: RUNS },
    )
    // The grant survived all of it.
    assert.equal(await client.hasGrant(KEY), true)
  })

  const param = fc.constantFrom('code', 'iss', 'state', 'error', 'error_description', 'error_uri', 'session_state', 'response', 'id_token', 'access_token', 'token_type', 'x')
  const paramValue = fc.oneof(fc.string({ unit: 'binary', maxLength: 30 }), fc.constantFrom('', 'access_denied', 'https://evil.test', '%', '%00', 'a'.repeat(5000)))
  const query = fc.array(fc.tuple(param, paramValue), { maxLength: 6 })
  const tail = fc.oneof(fc.constant(''), fc.string({ maxLength: 20 }), fc.string({ unit: 'binary', maxLength: 20 }))

  test(`the callback parser: finishLogin(key, arbitrary string) rejects only with ResourceTokensError (${RUNS} runs)`, async () => {
    const allowed = new Set(['invalid_callback', 'invalid_argument', 'authorization_error'])
    const callbackInput = fc.oneof(
      // Arbitrary strings and URLs.
      fc.record({ live: fc.constant(false), key: fc.oneof(fc.constant('cb-key'), fc.string({ maxLength: 8 })), text: fc.oneof(fc.string({ unit: 'binary', maxLength: 80 }), fc.webUrl({ withQueryParameters: true, withFragments: true })) }),
      // The redirect URI with an arbitrary query, no live login.
      fc.record({ live: fc.constant(false), key: fc.constant('cb-key'), text: fc.tuple(query, tail).map(([q, t]) => `${world.op.redirectUri}?${new URLSearchParams(q).toString()}${t}`) }),
      // A live login's state plus arbitrary parameters: gets as far as the iss check.
      fc.record({ live: fc.constant(true), key: fc.constant('cb-key'), text: fc.tuple(query, tail, fc.boolean()).map(([q, t, withIss]) => `${new URLSearchParams([...(withIss ? [['iss', world.op.issuer] as [string, string]] : []), ...q]).toString()}${t}`) }),
      // A live login answered with the right iss and an arbitrary code: gets as far as the code exchange.
      fc.record({
        live: fc.constant(true),
        key: fc.constant('cb-key'),
        text: fc.tuple(paramValue, fc.array(fc.tuple(fc.constantFrom('session_state', 'x', 'error_description'), paramValue), { maxLength: 2 })).map(([value, extra]) => new URLSearchParams([['iss', world.op.issuer], ['code', value], ...extra]).toString()),
      }),
    )
    await fc.assert(
      fc.asyncProperty(callbackInput, async ({ live, key, text }) => {
        let callback = text
        if (live) {
          const { url } = await client.startLogin(key, {})
          const state = world.op.parRequests.at(-1)?.get('state') ?? ''
          assert.ok(url)
          callback = `${world.op.redirectUri}?state=${encodeURIComponent(state)}&${text}`
        }
        try {
          await within(10_000, client.finishLogin(key, callback))
        } catch (err) {
          assert.ok(err instanceof PublicError, `not our typed error: ${String(err)}`)
          assert.ok(allowed.has(err.code), `${err.code}: ${err.message}`)
          if (err.code === 'authorization_error') assert.ok(URL.canParse(callback) && new URL(callback).searchParams.has('error'))
          return
        }
        assert.fail(`an arbitrary callback was accepted: ${callback}`)
      }),
      {
        numRuns: RUNS,
        // Found by this property: a repeated `id_token` parameter in the authorization response is not an ID token that failed validation.
        examples: [[{ live: true, key: 'cb-key', text: `iss=${encodeURIComponent(world.op.issuer)}&id_token=&id_token=` }]],
      },
    )
    assert.equal(await client.hasGrant('cb-key'), false, 'no arbitrary callback stored a grant')
  })

  test(`the callback's error parameter cannot forge log lines: messages and the error field stay printable, short and RFC 6749 shaped (CWE-117) (${RUNS} runs)`, async () => {
    // Anyone can start a login on their own session and come back with `error=<anything>`; apps log err.message.
    const hostile = fc.oneof(
      fc.string({ unit: 'binary', maxLength: 40 }),
      fc.tuple(fc.constantFrom('access_denied', ''), fc.constantFrom('\r\n', '\n', '\u001b[31m', '\u0000', '\u2028'), fc.string({ maxLength: 20 })).map((parts) => parts.join('')),
      fc.constant('x'.repeat(5000)),
    )
    await fc.assert(
      fc.asyncProperty(hostile, async (error) => {
        const { url } = await client.startLogin('log-forging', {})
        assert.ok(url)
        const state = world.op.parRequests.at(-1)?.get('state') ?? ''
        const callback = `${world.op.redirectUri}?${new URLSearchParams({ state, iss: world.op.issuer, error, error_description: error }).toString()}`
        await assert.rejects(within(10_000, client.finishLogin('log-forging', callback)), (err) => {
          assert.ok(err instanceof PublicError)
          // eslint-disable-next-line no-control-regex
          assert.doesNotMatch(err.message, /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/, `control characters in the message: ${JSON.stringify(err.message)}`)
          assert.ok(err.message.length <= 300, `message of ${err.message.length} characters`)
          if (err.error !== undefined) assert.match(err.error, /^[\x20\x21\x23-\x5b\x5d-\x7e]{0,100}$/, `error field ${JSON.stringify(err.error.slice(0, 60))}`)
          return true
        })
      }),
      { numRuns: RUNS, examples: [['access_denied\r\n2026-01-01T00:00:00Z INFO admin logged in']] },
    )
  })
})
