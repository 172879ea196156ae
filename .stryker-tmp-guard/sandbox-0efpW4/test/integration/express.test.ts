// @ts-nocheck
// The Express adapter in a real Express app, against the test provider (headless login) and the test
// resource servers. Requests go through node:http so that Host and X-Forwarded-* can be forged.
import assert from 'node:assert/strict'
import { createServer, request as httpRequest, type IncomingHttpHeaders, type Server } from 'node:http'
import { after, before, describe, test } from 'node:test'
import express, { type NextFunction, type Request, type Response } from 'express'
import { createResourceClient, ResourceTokensError, type ResourceClient } from 'resource-tokens'
import { resourceTokens, type LogoutEvent } from 'resource-tokens/express'
import { closeServer, listenOnLoopback } from '../support/http.js'
import { startScenario, type Scenario } from '../support/scenario.js'

interface Reply {
  status: number
  headers: IncomingHttpHeaders
  body: string
  location: string | undefined
  setCookies: string[]
}

/** One HTTP request with exactly the headers given (node:http, so `Host` can be anything). */
function send(url: string, options: { method?: string; headers?: Record<string, string>; body?: string } = {}): Promise<Reply> {
  const target = new URL(url)
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      { host: target.hostname, port: target.port, path: `${target.pathname}${target.search}`, method: options.method ?? 'GET', headers: options.headers ?? {} },
      (res) => {
        const chunks: Buffer[] = []
        res.on('data', (chunk: Buffer) => chunks.push(chunk))
        res.on('end', () => {
          const setCookie = res.headers['set-cookie'] ?? []
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8'), location: res.headers.location, setCookies: setCookie })
        })
      },
    )
    req.on('error', reject)
    req.end(options.body)
  })
}

/** The value a `Set-Cookie` line sets for `name`, or undefined. */
function cookieValue(setCookies: string[], name: string): string | undefined {
  for (const line of setCookies) {
    const [pair = ''] = line.split(';')
    const eq = pair.indexOf('=')
    if (pair.slice(0, eq) === name) return pair.slice(eq + 1)
  }
  return undefined
}

function cookieLine(setCookies: string[], name: string): string | undefined {
  return setCookies.find((line) => line.startsWith(`${name}=`))
}

const HTML = { accept: 'text/html,application/xhtml+xml' }
const JSON_ACCEPT = { accept: 'application/json' }
const WEB_CLIENT = { id: 'web', secret: 'web-secret-for-tests-only-0123456789' }
const SSO_CLIENT = { id: 'web-sso', secret: 'web-sso-secret-for-tests-only-0123456789' }

/** Markers of a leaked stack trace or internals. */
function assertNoInternals(body: string): void {
  assert.doesNotMatch(body, /\n\s+at /, 'no stack frames')
  assert.doesNotMatch(body, /node_modules|\.ts:\d+|\.js:\d+/, 'no file paths')
  assert.doesNotMatch(body, /ResourceTokensError|TypeError|eyJ[\w-]+\./, 'no error class names or tokens')
}

describe('express adapter', () => {
  let world: Scenario
  let server: Server
  let appUrl: string
  let client: ResourceClient
  let ssoClient: ResourceClient
  const logouts: LogoutEvent[] = []

  before(async () => {
    // The app listens first: its URL goes into the provider's client registrations.
    const app = express()
    server = createServer(app)
    appUrl = `http://127.0.0.1:${await listenOnLoopback(server)}`
    const registration = (c: { id: string; secret: string }, callback: string) => ({
      client_id: c.id,
      client_secret: c.secret,
      redirect_uris: [`${appUrl}${callback}`],
      post_logout_redirect_uris: [`${appUrl}/`],
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      token_endpoint_auth_method: 'client_secret_basic',
    })
    world = await startScenario({ provider: { clients: [registration(WEB_CLIENT, '/auth/callback'), registration(SSO_CLIENT, '/account/sso/callback')] } })
    client = await createResourceClient(world.options({
      clientId: WEB_CLIENT.id,
      clientSecret: WEB_CLIENT.secret,
      redirectUri: `${appUrl}/auth/callback`,
      postLogoutRedirectUri: `${appUrl}/`,
    }))
    ssoClient = await createResourceClient(world.options({
      clientId: SSO_CLIENT.id,
      clientSecret: SSO_CLIENT.secret,
      redirectUri: `${appUrl}/account/sso/callback`,
    }))

    const auth = resourceTokens(client, { baseUrl: appUrl, onLogout: (event) => { logouts.push(event) } })
    const sso = resourceTokens(ssoClient, { baseUrl: appUrl, mountPath: '/account/sso', cookieName: 'sso_session' })

    // Neighbours the adapter must live with: trust proxy on, a body parser and a session middleware
    // (what express-session does: its own cookie, set on every response).
    app.set('trust proxy', true)
    app.use(express.urlencoded({ extended: false }))
    app.use((_req: Request, res: Response, next: NextFunction) => {
      res.append('Set-Cookie', 'connect.sid=s%3Aother-session; Path=/; HttpOnly')
      next()
    })
    app.use(auth.mountPath, auth.router)
    app.use(sso.mountPath, sso.router)
    app.get('/me', auth.requireLogin, async (req: Request, res: Response) => {
      const tokens = req.resourceTokens!
      const contacts = await tokens.fetch(`${world.contactsUrl}/people`)
      const token = await tokens.accessToken(world.contactsUrl)
      res.json({ sub: (await tokens.claims())?.['sub'], contacts: contacts.status, resource: token.resource, csrf: tokens.csrfToken, locals: res.locals['resourceTokens'] === tokens })
    })
    app.get('/sso/me', sso.requireLogin, async (req: Request, res: Response) => {
      res.json({ sub: (await req.resourceTokens!.claims())?.['sub'] })
    })
    app.get('/maybe', auth.optionalLogin, (req: Request, res: Response) => {
      res.json({ signedIn: req.resourceTokens !== undefined, inspected: JSON.stringify(req.resourceTokens ?? null) })
    })
    app.post('/transfer', auth.verifyCsrf, auth.requireLogin, (_req: Request, res: Response) => {
      res.json({ ok: true })
    })
    app.get('/gone', auth.requireLogin, () => {
      throw new ResourceTokensError('login_required', 'the grant is gone')
    })
    app.use(auth.handleLoginRequired)
  })

  after(async () => {
    await closeServer(server)
    await client.close()
    await ssoClient.close()
    await world.close()
  })

  /** Starts a login in a fresh "browser" and completes it; returns the session cookie and the callback URL. */
  async function signIn(options: { returnTo?: string; cookie?: string; headers?: Record<string, string> } = {}) {
    const query = options.returnTo === undefined ? '' : `?returnTo=${encodeURIComponent(options.returnTo)}`
    const start = await send(`${appUrl}/auth/login${query}`, { headers: { ...HTML, ...options.headers, ...(options.cookie === undefined ? {} : { cookie: options.cookie }) } })
    assert.equal(start.status, 303)
    const sid = cookieValue(start.setCookies, 'rt_session')
    assert.ok(sid, 'a session cookie is issued at login start')
    const callback = await world.op.login(start.location ?? '')
    const done = await send(callback, { headers: { ...HTML, ...options.headers, cookie: `rt_session=${sid}` } })
    return { start, sid, callback, done, cookie: `rt_session=${sid}` }
  }

  async function csrfOf(cookie: string): Promise<string> {
    const me = await send(`${appUrl}/me`, { headers: { ...JSON_ACCEPT, cookie } })
    assert.equal(me.status, 200)
    return (JSON.parse(me.body) as { csrf: string }).csrf
  }

  describe('options', () => {
    test('are validated at construction', () => {
      const bad: Array<[unknown, RegExp]> = [
        [{}, /"baseUrl"/],
        [{ baseUrl: 'not a url' }, /"baseUrl" must be an absolute URL/],
        [{ baseUrl: 'http://app.example.test' }, /https outside loopback/],
        [{ baseUrl: 'https://app.example.test/?x=1' }, /query or fragment/],
        [{ baseUrl: 'https://app.example.test', mountPath: 'auth' }, /"mountPath"/],
        [{ baseUrl: 'https://app.example.test', mountPath: '//evil' }, /"mountPath"/],
        [{ baseUrl: 'https://app.example.test', mountPath: '/' }, /"mountPath" must not be "\/"/],
        [{ baseUrl: 'https://app.example.test', afterLogoutPath: 'https://evil.test' }, /"afterLogoutPath"/],
        [{ baseUrl: 'https://app.example.test', cookieName: 'bad name;' }, /"cookieName"/],
        [{ baseUrl: 'https://app.example.test', cookieName: '__Host-x' }, /"cookieName"/],
        [{ baseUrl: 'https://app.example.test', cookieMaxAgeSeconds: -1 }, /"cookieMaxAgeSeconds"/],
        [{ baseUrl: 'https://app.example.test', redirectUri: 'x' }, /unknown option "redirectUri"/],
      ]
      for (const [options, message] of bad) {
        assert.throws(() => resourceTokens(client, options as never), (err: unknown) => {
          assert.ok(err instanceof ResourceTokensError)
          assert.equal(err.code, 'invalid_config')
          assert.match(err.message, message)
          return true
        })
      }
      assert.throws(() => resourceTokens({} as never, { baseUrl: appUrl }), /"client" must be a ResourceClient/)
    })
  })

  describe('session cookie', () => {
    test('on http loopback: a 256-bit random id, HttpOnly, SameSite=Lax, Path=/, not Secure, beside the app\'s own cookies', async () => {
      const start = await send(`${appUrl}/auth/login`, { headers: HTML })
      const line = cookieLine(start.setCookies, 'rt_session')
      assert.ok(line)
      const [pair = '', ...attributes] = line.split(';').map((s) => s.trim())
      assert.match(pair, /^rt_session=[A-Za-z0-9_-]{43}$/)
      assert.equal(Buffer.from(pair.slice('rt_session='.length), 'base64url').length, 32)
      assert.deepEqual(attributes.sort(), ['HttpOnly', 'Path=/', 'SameSite=Lax'])
      assert.ok(cookieLine(start.setCookies, 'connect.sid'), 'the other session cookie is kept')
      assert.equal(start.headers['cache-control'], 'no-store')
    })

    test('on https: __Host- prefix and Secure, no Domain', async () => {
      const app = express()
      const httpsAuth = resourceTokens(client, { baseUrl: 'https://app.example.test', cookieMaxAgeSeconds: 3600 })
      app.use('/auth', httpsAuth.router)
      const other = createServer(app)
      const port = await listenOnLoopback(other)
      try {
        const start = await send(`http://127.0.0.1:${port}/auth/login`, { headers: HTML })
        const line = cookieLine(start.setCookies, '__Host-rt_session')
        assert.ok(line, `got ${start.setCookies.join(' | ')}`)
        const attributes = line.split(';').slice(1).map((s) => s.trim()).sort()
        assert.deepEqual(attributes, ['HttpOnly', 'Max-Age=3600', 'Path=/', 'SameSite=Lax', 'Secure'])
      } finally {
        await closeServer(other)
      }
    })

    test('each login start issues a new id, distinct every time', async () => {
      const ids = new Set<string>()
      for (let i = 0; i < 5; i++) {
        const start = await send(`${appUrl}/auth/login`, { headers: HTML })
        ids.add(cookieValue(start.setCookies, 'rt_session') ?? '')
      }
      assert.equal(ids.size, 5)
    })

    test('a cookie sent twice (tossed in by a sibling host) counts as no session', async () => {
      const { cookie } = await signIn()
      const me = await send(`${appUrl}/me`, { headers: { ...JSON_ACCEPT, cookie: `${cookie}; ${cookie.replace(/=.*/, '=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA')}` } })
      assert.equal(me.status, 401)
    })
  })

  describe('login', () => {
    test('full login: callback redirects to returnTo on the app; requireLogin gives req.resourceTokens', async () => {
      const { done, cookie } = await signIn({ returnTo: '/inbox?tab=2' })
      assert.equal(done.status, 303)
      assert.equal(done.location, `${appUrl}/inbox?tab=2`)
      assert.equal(done.headers['referrer-policy'], 'no-referrer')
      const me = await send(`${appUrl}/me`, { headers: { ...JSON_ACCEPT, cookie } })
      assert.equal(me.status, 200)
      const body = JSON.parse(me.body) as Record<string, unknown>
      assert.equal(body['sub'], 'alice')
      assert.equal(body['contacts'], 200)
      assert.equal(body['resource'], 'contacts')
      assert.equal(body['locals'], true)
    })

    test('session fixation: a planted id is replaced at login and never gets a grant', async () => {
      const planted = 'P'.repeat(43)
      const { sid, done, cookie } = await signIn({ cookie: `rt_session=${planted}` })
      assert.notEqual(sid, planted)
      assert.equal(done.status, 303)
      assert.equal(await client.hasGrant(planted), false)
      assert.equal(await client.hasGrant(sid), true)
      assert.equal((await send(`${appUrl}/me`, { headers: { ...JSON_ACCEPT, cookie: `rt_session=${planted}` } })).status, 401)
      assert.equal((await send(`${appUrl}/me`, { headers: { ...JSON_ACCEPT, cookie } })).status, 200)
    })

    test('session fixation: an id planted after login start cannot finish the login', async () => {
      const start = await send(`${appUrl}/auth/login`, { headers: HTML })
      const callback = await world.op.login(start.location ?? '')
      const planted = 'Q'.repeat(43)
      const done = await send(callback, { headers: { ...HTML, cookie: `rt_session=${planted}` } })
      assert.equal(done.status, 400)
      assert.equal(await client.hasGrant(planted), false)
      assert.equal(await client.hasGrant(cookieValue(start.setCookies, 'rt_session') ?? ''), false)
    })

    test('already signed in: /login goes straight to returnTo and keeps the session', async () => {
      const { cookie } = await signIn()
      const again = await send(`${appUrl}/auth/login?returnTo=%2Fsettings`, { headers: { ...HTML, cookie } })
      assert.equal(again.status, 303)
      assert.equal(again.location, `${appUrl}/settings`)
      assert.equal(cookieValue(again.setCookies, 'rt_session'), undefined)
    })

    test('returnTo: open-redirect attempts never leave the app', async () => {
      const attempts = ['//evil.test', '/\\evil.test', '%2F%5Cevil.test', '/%2F%5Cevil.test', '/%2F%2Fevil.test', 'https://evil.test', 'javascript:alert(1)', '/\t/evil.test', '///evil.test', '']
      for (const returnTo of attempts) {
        const { done, cookie } = await signIn({ returnTo })
        assert.equal(done.status, 303, returnTo)
        assert.equal(done.location, `${appUrl}/`, `returnTo ${JSON.stringify(returnTo)}`)
        // And for a session that is already signed in.
        const again = await send(`${appUrl}/auth/login?returnTo=${encodeURIComponent(returnTo)}`, { headers: { ...HTML, cookie } })
        assert.equal(again.location, `${appUrl}/`, `signed in, returnTo ${JSON.stringify(returnTo)}`)
      }
      // The raw query form of "/\evil.test" as well.
      const raw = await send(`${appUrl}/auth/login?returnTo=%2F%5Cevil.test`, { headers: HTML })
      const callback = await world.op.login(raw.location ?? '')
      const done = await send(callback, { headers: { ...HTML, cookie: `rt_session=${cookieValue(raw.setCookies, 'rt_session')}` } })
      assert.equal(done.location, `${appUrl}/`)
    })

    test('the redirect URI and every redirect come from baseUrl, never from Host or X-Forwarded-*', async () => {
      const forged = { host: 'evil.test', 'x-forwarded-host': 'evil.test', 'x-forwarded-proto': 'https', 'x-forwarded-prefix': '/evil' }
      world.op.resetCounters()
      const { done, cookie } = await signIn({ returnTo: '/inbox', headers: forged })
      const par = world.op.parRequests.at(-1)
      assert.equal(par?.get('redirect_uri'), `${appUrl}/auth/callback`)
      // The callback request itself carried the forged headers, and still matched the registered URI.
      assert.equal(done.status, 303)
      assert.equal(done.location, `${appUrl}/inbox`)
      const refused = await send(`${appUrl}/me?x=1`, { headers: { ...HTML, ...forged } })
      assert.equal(refused.location, `${appUrl}/auth/login?returnTo=${encodeURIComponent('/me?x=1')}`)
      assert.equal((await send(`${appUrl}/me`, { headers: { ...JSON_ACCEPT, ...forged, cookie } })).status, 200)
    })

    test('the router works under any mount path (second client at /account/sso, own cookie name)', async () => {
      const start = await send(`${appUrl}/account/sso/login?returnTo=%2Fsso%2Fme`, { headers: HTML })
      const sid = cookieValue(start.setCookies, 'sso_session')
      assert.ok(sid)
      const callback = await world.op.login(start.location ?? '')
      assert.ok(callback.startsWith(`${appUrl}/account/sso/callback?`))
      const done = await send(callback, { headers: { ...HTML, cookie: `sso_session=${sid}` } })
      assert.equal(done.location, `${appUrl}/sso/me`)
      const me = await send(`${appUrl}/sso/me`, { headers: { ...JSON_ACCEPT, cookie: `sso_session=${sid}` } })
      assert.equal(JSON.parse(me.body).sub, 'alice')
      // The two adapters' sessions are independent.
      assert.equal((await send(`${appUrl}/me`, { headers: { ...JSON_ACCEPT, cookie: `rt_session=${sid}` } })).status, 401)
    })
  })

  describe('callback errors', () => {
    test('access_denied: a small error page, no stack trace, no grant', async () => {
      const start = await send(`${appUrl}/auth/login`, { headers: HTML })
      const sid = cookieValue(start.setCookies, 'rt_session') ?? ''
      const callback = await world.op.login(start.location ?? '', { deny: true })
      const page = await send(callback, { headers: { ...HTML, cookie: `rt_session=${sid}` } })
      assert.equal(page.status, 400)
      assert.match(String(page.headers['content-type']), /text\/html/)
      assert.match(page.body, /Sign-in was not completed/)
      assert.match(page.body, /access_denied/)
      assertNoInternals(page.body)
      assert.equal(await client.hasGrant(sid), false)
    })

    test('access_denied for an API client: JSON', async () => {
      const start = await send(`${appUrl}/auth/login`, { headers: HTML })
      const sid = cookieValue(start.setCookies, 'rt_session') ?? ''
      const callback = await world.op.login(start.location ?? '', { deny: true })
      const reply = await send(callback, { headers: { ...JSON_ACCEPT, cookie: `rt_session=${sid}` } })
      assert.equal(reply.status, 400)
      assert.equal(JSON.parse(reply.body).error, 'access_denied')
    })

    test('a replayed callback is refused and leaves the signed-in session alone', async () => {
      const { callback, cookie, sid } = await signIn()
      const replay = await send(callback, { headers: { ...HTML, cookie } })
      assert.equal(replay.status, 400)
      assert.match(replay.body, /cannot be used/)
      assert.match(replay.body, /invalid_callback/)
      assertNoInternals(replay.body)
      assert.equal(cookieValue(replay.setCookies, 'rt_session'), undefined, 'the cookie is not touched')
      assert.equal(await client.hasGrant(sid), true)
      assert.equal((await send(`${appUrl}/me`, { headers: { ...JSON_ACCEPT, cookie } })).status, 200)
    })

    test('a callback without the session cookie, or with another session\'s, is refused', async () => {
      const start = await send(`${appUrl}/auth/login`, { headers: HTML })
      const callback = await world.op.login(start.location ?? '')
      const bare = await send(callback, { headers: HTML })
      assert.equal(bare.status, 400)
      const { cookie: other } = await signIn()
      const foreign = await send(callback, { headers: { ...HTML, cookie: other } })
      assert.equal(foreign.status, 400)
      assertNoInternals(foreign.body)
    })

    test('an unknown state and a forged error are refused the same way', async () => {
      const { cookie } = await signIn()
      const unknown = await send(`${appUrl}/auth/callback?code=x&state=unknown`, { headers: { ...HTML, cookie } })
      assert.equal(unknown.status, 400)
      const forged = await send(`${appUrl}/auth/callback?error=%3Cscript%3E&state=unknown`, { headers: { ...HTML, cookie } })
      assert.equal(forged.status, 400)
      assert.doesNotMatch(forged.body, /<script>/)
    })
  })

  describe('requireLogin', () => {
    test('a browser is sent to login with returnTo; an API call gets 401 JSON', async () => {
      const browser = await send(`${appUrl}/me?a=1`, { headers: HTML })
      assert.equal(browser.status, 303)
      assert.equal(browser.location, `${appUrl}/auth/login?returnTo=${encodeURIComponent('/me?a=1')}`)
      const api = await send(`${appUrl}/me`, { headers: JSON_ACCEPT })
      assert.equal(api.status, 401)
      assert.equal(JSON.parse(api.body).error, 'login_required')
      const wildcard = await send(`${appUrl}/me`, { headers: { accept: '*/*' } })
      assert.equal(wildcard.status, 401, 'fetch() default Accept is an API call')
    })

    test('optionalLogin lets everyone through; the tokens object never serializes the session id', async () => {
      const anonymous = await send(`${appUrl}/maybe`)
      assert.deepEqual(JSON.parse(anonymous.body), { signedIn: false, inspected: 'null' })
      const { cookie, sid } = await signIn()
      const signedIn = JSON.parse((await send(`${appUrl}/maybe`, { headers: { cookie } })).body) as { signedIn: boolean; inspected: string }
      assert.equal(signedIn.signedIn, true)
      assert.ok(!signedIn.inspected.includes(sid))
    })

    test('handleLoginRequired turns a login_required thrown later into the same answer', async () => {
      const { cookie } = await signIn()
      const api = await send(`${appUrl}/gone`, { headers: { ...JSON_ACCEPT, cookie } })
      assert.equal(api.status, 401)
      const browser = await send(`${appUrl}/gone`, { headers: { ...HTML, cookie } })
      assert.equal(browser.location, `${appUrl}/auth/login?returnTo=%2Fgone`)
    })
  })

  describe('logout', () => {
    test('GET (a link, an <img>) is refused with 405 and changes nothing', async () => {
      const { cookie, sid } = await signIn()
      const reply = await send(`${appUrl}/auth/logout`, { headers: { ...HTML, cookie } })
      assert.equal(reply.status, 405)
      assert.equal(reply.headers['allow'], 'POST')
      assertNoInternals(reply.body)
      assert.equal(await client.hasGrant(sid), true)
    })

    test('a cross-site POST is refused, even with a valid token; so is a POST without the token', async () => {
      const { cookie, sid } = await signIn()
      const csrf = await csrfOf(cookie)
      const form = { 'content-type': 'application/x-www-form-urlencoded' }
      const attempts: Array<Record<string, string>> = [
        { origin: 'http://evil.test' },
        { origin: appUrl.replace(/:\d+$/, ':1') }, // a sibling port: same site, other origin
        { 'sec-fetch-site': 'cross-site' },
        { 'sec-fetch-site': 'same-site', origin: appUrl },
      ]
      for (const headers of attempts) {
        const reply = await send(`${appUrl}/auth/logout`, { method: 'POST', headers: { ...HTML, ...form, ...headers, cookie }, body: `_csrf=${csrf}` })
        assert.equal(reply.status, 403, JSON.stringify(headers))
        assertNoInternals(reply.body)
      }
      const tampered = `${csrf.slice(0, -1)}${csrf.endsWith('A') ? 'B' : 'A'}`
      for (const body of ['', '_csrf=', `_csrf=${tampered}`, `_csrf=${csrf}x`]) {
        const reply = await send(`${appUrl}/auth/logout`, { method: 'POST', headers: { ...HTML, ...form, origin: appUrl, 'sec-fetch-site': 'same-origin', cookie }, body })
        assert.equal(reply.status, 403, body)
      }
      // Another session's token does not work either.
      const { cookie: other } = await signIn()
      const foreign = await send(`${appUrl}/auth/logout`, { method: 'POST', headers: { ...HTML, ...form, origin: appUrl, cookie }, body: `_csrf=${await csrfOf(other)}` })
      assert.equal(foreign.status, 403)
      assert.equal(await client.hasGrant(sid), true)
    })

    test('a same-origin POST with the token revokes, clears the cookie and follows RP-initiated logout', async () => {
      const { cookie, sid } = await signIn()
      const csrf = await csrfOf(cookie)
      logouts.length = 0
      const reply = await send(`${appUrl}/auth/logout`, {
        method: 'POST',
        headers: { ...HTML, 'content-type': 'application/x-www-form-urlencoded', origin: appUrl, 'sec-fetch-site': 'same-origin', cookie },
        body: `_csrf=${encodeURIComponent(csrf)}`,
      })
      assert.equal(reply.status, 303)
      const location = new URL(reply.location ?? '')
      assert.equal(`${location.origin}${location.pathname}`, `${world.op.issuer}/session/end`)
      assert.equal(location.searchParams.get('client_id'), WEB_CLIENT.id)
      assert.equal(location.searchParams.get('post_logout_redirect_uri'), `${appUrl}/`)
      assert.ok(location.searchParams.get('id_token_hint'))
      assert.match(cookieLine(reply.setCookies, 'rt_session') ?? '', /^rt_session=; .*Max-Age=0/)
      assert.equal(await client.hasGrant(sid), false)
      assert.equal(logouts.length, 1)
      assert.equal(logouts[0]?.result.revocation.refreshToken, 'revoked')
      assert.equal(logouts[0]?.claims?.['sub'], 'alice')
      assert.equal(logouts[0]?.key, sid)
      assert.equal((await send(`${appUrl}/me`, { headers: { ...JSON_ACCEPT, cookie } })).status, 401)
    })

    test('an API client logs out with the X-CSRF-Token header and gets JSON; Origin: null (no-referrer pages) is not a cross-site signal', async () => {
      const { cookie, sid } = await signIn()
      const csrf = await csrfOf(cookie)
      const reply = await send(`${appUrl}/auth/logout`, { method: 'POST', headers: { ...JSON_ACCEPT, origin: 'null', 'x-csrf-token': csrf, cookie } })
      assert.equal(reply.status, 200)
      const body = JSON.parse(reply.body) as { logged_out: boolean; end_session_url: string; revocation: { refreshToken: string } }
      assert.equal(body.logged_out, true)
      assert.equal(body.revocation.refreshToken, 'revoked')
      assert.ok(body.end_session_url.startsWith(`${world.op.issuer}/session/end`))
      assert.equal(await client.hasGrant(sid), false)
    })
  })

  test('verifyCsrf protects the app\'s own POST routes the same way', async () => {
    const { cookie } = await signIn()
    const csrf = await csrfOf(cookie)
    const form = { 'content-type': 'application/x-www-form-urlencoded' }
    assert.equal((await send(`${appUrl}/transfer`, { method: 'POST', headers: { ...JSON_ACCEPT, ...form, cookie }, body: '' })).status, 403)
    assert.equal((await send(`${appUrl}/transfer`, { method: 'POST', headers: { ...JSON_ACCEPT, ...form, cookie, 'sec-fetch-site': 'cross-site' }, body: `_csrf=${csrf}` })).status, 403)
    assert.equal((await send(`${appUrl}/transfer`, { method: 'POST', headers: { ...JSON_ACCEPT, ...form, cookie, 'sec-fetch-site': 'same-origin' }, body: `_csrf=${csrf}` })).status, 200)
  })
})
