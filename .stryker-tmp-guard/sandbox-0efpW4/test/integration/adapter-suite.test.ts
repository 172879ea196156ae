// @ts-nocheck
// One suite, every web adapter (the bare web handlers, Express, Fastify, Hono, Next.js; like the store suite runs every store): each app
// from test/support/web-apps.ts against the real test provider and the two test APIs. Login, both APIs
// with their own audience, logout with revocation checked at the provider, and the session / CSRF / open
// redirect attacks, the same for all. Requests go through node:http so that Host, Origin and Cookie can be
// anything.
import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import type { WebLogoutEvent } from 'resource-tokens/web'
import { HTML, JSON_ACCEPT, cookieLine, cookieValue, send } from '../support/http-client.js'
import { startScenario, type Scenario } from '../support/scenario.js'
import { adapterDrivers, type AppSlot, type RunningApp } from '../support/web-apps.js'

const FORM = { 'content-type': 'application/x-www-form-urlencoded' }

/** Markers of a leaked stack trace or internals. */
function assertNoInternals(body: string): void {
  assert.doesNotMatch(body, /\n\s+at /, 'no stack frames')
  assert.doesNotMatch(body, /node_modules|\.ts:\d+|\.js:\d+/, 'no file paths')
  assert.doesNotMatch(body, /ResourceTokensError|TypeError|eyJ[\w-]+\./, 'no error class names or tokens')
}

const drivers = adapterDrivers()
const secretOf = (name: string): string => `${name}-secret-for-tests-only-0123456789`

describe('web adapter suite', () => {
  let world: Scenario
  const slots = new Map<string, AppSlot>()

  before(async () => {
    // Every app listens first: its URL goes into the provider's client registrations.
    for (const driver of drivers) slots.set(driver.name, await driver.open())
    world = await startScenario({
      provider: {
        // Without rotation the refresh token the app sends is the one it holds: introspecting it before and
        // after logout shows the revocation (with rotation the one seen would already be spent).
        rotateRefreshToken: false,
        clients: drivers.map((driver) => ({
          client_id: `web-${driver.name}`,
          client_secret: secretOf(driver.name),
          redirect_uris: [`${slots.get(driver.name)?.url}/auth/callback`],
          post_logout_redirect_uris: [`${slots.get(driver.name)?.url}/`],
          grant_types: ['authorization_code', 'refresh_token'],
          response_types: ['code'],
          token_endpoint_auth_method: 'client_secret_basic',
        })),
      },
    })
  })

  after(async () => {
    await world?.close()
  })

  for (const driver of drivers) {
    describe(driver.name, () => {
      let app: RunningApp
      let appUrl: string
      const logouts: WebLogoutEvent[] = []

      before(async () => {
        const slot = slots.get(driver.name)
        assert.ok(slot)
        app = await slot.start({
          issuer: world.op.issuer,
          clientId: `web-${driver.name}`,
          clientSecret: secretOf(driver.name),
          contactsUrl: world.contactsUrl,
          calendarUrl: world.calendarUrl,
          onLogout: (event) => { logouts.push(event) },
        })
        appUrl = app.url
      })

      after(async () => {
        await app?.close()
      })

      /** Starts a login in a fresh "browser" and completes it at the provider. */
      async function signIn(options: { returnTo?: string; cookie?: string; headers?: Record<string, string> } = {}) {
        const query = options.returnTo === undefined ? '' : `?returnTo=${encodeURIComponent(options.returnTo)}`
        const start = await send(`${appUrl}/auth/login${query}`, { headers: { ...HTML, ...options.headers, ...(options.cookie === undefined ? {} : { cookie: options.cookie }) } })
        assert.equal(start.status, 303, start.body)
        const sid = cookieValue(start.setCookies, 'rt_session')
        assert.ok(sid, 'a session cookie is issued at login start')
        const callback = await world.op.login(start.location ?? '')
        const done = await send(callback, { headers: { ...HTML, ...options.headers, cookie: `rt_session=${sid}` } })
        return { start, sid, callback, done, cookie: `rt_session=${sid}` }
      }

      const meStatus = async (cookie: string): Promise<number> => (await send(`${appUrl}/api/me`, { headers: { ...JSON_ACCEPT, cookie } })).status

      async function csrfOf(cookie: string): Promise<string> {
        const me = await send(`${appUrl}/api/me`, { headers: { ...JSON_ACCEPT, cookie } })
        assert.equal(me.status, 200, me.body)
        return (JSON.parse(me.body) as { csrf: string }).csrf
      }

      describe('login', () => {
        test('logs in and calls both APIs through the user\'s fetch, each with a token for its own audience', async () => {
          const { done, cookie } = await signIn({ returnTo: '/inbox?tab=2' })
          assert.equal(done.status, 303)
          assert.equal(done.location, `${appUrl}/inbox?tab=2`)
          assert.equal(done.headers['referrer-policy'], 'no-referrer')
          const me = await send(`${appUrl}/api/me`, { headers: { ...JSON_ACCEPT, cookie } })
          assert.equal(me.status, 200, me.body)
          const body = JSON.parse(me.body) as { sub: string; contacts: { status: number; body: { aud: unknown; resource: string } }; calendar: { status: number; body: { aud: unknown; resource: string } } }
          assert.equal(body.sub, 'alice')
          assert.equal(body.contacts.status, 200)
          assert.equal(body.calendar.status, 200)
          assert.equal(body.contacts.body.resource, 'contacts')
          assert.equal(body.calendar.body.resource, 'calendar')
          assert.deepEqual([body.contacts.body.aud].flat(), [world.contactsUrl])
          assert.deepEqual([body.calendar.body.aud].flat(), [world.calendarUrl])
        })

        test('the home page (on Next.js a Server Component) shows both APIs\' answers to the signed-in user', async () => {
          const { cookie } = await signIn()
          const home = await send(`${appUrl}/`, { headers: { ...HTML, cookie } })
          assert.equal(home.status, 200)
          assert.match(home.body, /id="contacts"/)
          assert.match(home.body, /calendar:read/)
          assert.match(home.body, /contacts:read/)
          assert.doesNotMatch(home.body, /eyJ[\w-]+\.[\w-]+\.[\w-]+/, 'never a raw token on the page')
          const signedOut = await send(`${appUrl}/`, { headers: HTML })
          assert.match(signedOut.body, /id="sign-in"/)
        })

        test('session cookie: a 256-bit random id, HttpOnly, SameSite=Lax, Path=/, not Secure on http; a new one at every login start', async () => {
          const ids = new Set<string>()
          for (let i = 0; i < 3; i++) {
            const start = await send(`${appUrl}/auth/login`, { headers: HTML })
            const line = cookieLine(start.setCookies, 'rt_session')
            assert.ok(line, start.setCookies.join(' | '))
            const [pair = '', ...attributes] = line.split(';').map((s) => s.trim())
            assert.match(pair, /^rt_session=[A-Za-z0-9_-]{43}$/)
            assert.equal(Buffer.from(pair.slice('rt_session='.length), 'base64url').length, 32)
            assert.deepEqual(attributes.sort(), ['HttpOnly', 'Path=/', 'SameSite=Lax'])
            assert.match(String(start.headers['cache-control']), /no-store/)
            ids.add(pair)
          }
          assert.equal(ids.size, 3)
        })

        test('session fixation: a planted id is replaced at login and never gets a grant', async () => {
          const planted = 'P'.repeat(43)
          const { sid, done, cookie } = await signIn({ cookie: `rt_session=${planted}` })
          assert.notEqual(sid, planted)
          assert.equal(done.status, 303)
          assert.equal(await meStatus(`rt_session=${planted}`), 401)
          assert.equal(await meStatus(cookie), 200)
        })

        test('session fixation: an id planted after login start cannot finish the login', async () => {
          const start = await send(`${appUrl}/auth/login`, { headers: HTML })
          const callback = await world.op.login(start.location ?? '')
          const planted = 'Q'.repeat(43)
          const done = await send(callback, { headers: { ...HTML, cookie: `rt_session=${planted}` } })
          assert.equal(done.status, 400)
          assertNoInternals(done.body)
          assert.equal(await meStatus(`rt_session=${planted}`), 401)
          assert.equal(await meStatus(`rt_session=${cookieValue(start.setCookies, 'rt_session')}`), 401)
        })

        test('a cookie sent twice (tossed in by a sibling host) counts as no session', async () => {
          const { cookie } = await signIn()
          assert.equal(await meStatus(`${cookie}; rt_session=${'A'.repeat(43)}`), 401)
          assert.equal(await meStatus(cookie), 200)
        })

        test('already signed in: /login goes straight to returnTo and keeps the session', async () => {
          const { cookie } = await signIn()
          const again = await send(`${appUrl}/auth/login?returnTo=%2Fsettings`, { headers: { ...HTML, cookie } })
          assert.equal(again.status, 303)
          assert.equal(again.location, `${appUrl}/settings`)
          assert.equal(cookieValue(again.setCookies, 'rt_session'), undefined)
        })

        test('returnTo: open-redirect attempts never leave the app', async () => {
          const attempts = ['//evil.test', '/\\evil.test', '%2F%5Cevil.test', '/%2F%5Cevil.test', '/%2F%2Fevil.test', 'https://evil.test', 'javascript:alert(1)', '/\t/evil.test', '///evil.test', '/./%2F/evil.test']
          for (const returnTo of attempts) {
            const { done, cookie } = await signIn({ returnTo })
            assert.equal(done.status, 303, returnTo)
            assert.equal(done.location, `${appUrl}/`, `returnTo ${JSON.stringify(returnTo)}`)
            const again = await send(`${appUrl}/auth/login?returnTo=${encodeURIComponent(returnTo)}`, { headers: { ...HTML, cookie } })
            assert.equal(again.location, `${appUrl}/`, `signed in, returnTo ${JSON.stringify(returnTo)}`)
          }
        })

        test('the redirect URI and every redirect come from baseUrl, never from Host or X-Forwarded-*', async () => {
          const forged = { 'x-forwarded-host': 'evil.test', 'x-forwarded-proto': 'https', 'x-forwarded-prefix': '/evil', ...(driver.name === 'next' ? {} : { host: 'evil.test' }) }
          world.op.resetCounters()
          const { done, cookie } = await signIn({ returnTo: '/inbox', headers: forged })
          assert.equal(world.op.parRequests.at(-1)?.get('redirect_uri'), `${appUrl}/auth/callback`)
          assert.equal(done.status, 303)
          assert.equal(done.location, `${appUrl}/inbox`)
          const refused = await send(`${appUrl}/api/me?x=1`, { headers: { ...HTML, ...forged } })
          assert.equal(refused.location, `${appUrl}/auth/login?returnTo=${encodeURIComponent('/api/me?x=1')}`)
          assert.equal(await meStatus(cookie), 200)
        })
      })

      describe('callback errors', () => {
        test('access_denied: a small HTML page for a browser, JSON for an API client; no internals, no session', async () => {
          const start = await send(`${appUrl}/auth/login`, { headers: HTML })
          const sid = cookieValue(start.setCookies, 'rt_session') ?? ''
          const callback = await world.op.login(start.location ?? '', { deny: true })
          const page = await send(callback, { headers: { ...HTML, cookie: `rt_session=${sid}` } })
          assert.equal(page.status, 400)
          assert.match(String(page.headers['content-type']), /text\/html/)
          assert.match(page.body, /Sign-in was not completed/)
          assert.match(page.body, /access_denied/)
          assertNoInternals(page.body)
          const api = await send(callback, { headers: { ...JSON_ACCEPT, cookie: `rt_session=${sid}` } })
          assert.equal(api.status, 400)
          assert.equal(await meStatus(`rt_session=${sid}`), 401)
        })

        test('a replayed callback is refused and leaves the signed-in session alone', async () => {
          const { callback, cookie } = await signIn()
          const replay = await send(callback, { headers: { ...HTML, cookie } })
          assert.equal(replay.status, 400)
          assert.match(replay.body, /invalid_callback/)
          assertNoInternals(replay.body)
          assert.equal(cookieValue(replay.setCookies, 'rt_session'), undefined, 'the cookie is not touched')
          assert.equal(await meStatus(cookie), 200)
        })

        test('a callback without the session cookie, or with another session\'s, is refused', async () => {
          const start = await send(`${appUrl}/auth/login`, { headers: HTML })
          const callback = await world.op.login(start.location ?? '')
          assert.equal((await send(callback, { headers: HTML })).status, 400)
          const { cookie: other } = await signIn()
          const foreign = await send(callback, { headers: { ...HTML, cookie: other } })
          assert.equal(foreign.status, 400)
          assertNoInternals(foreign.body)
        })

        test('an unknown state and a forged error are refused; the error page escapes what it shows', async () => {
          const { cookie } = await signIn()
          assert.equal((await send(`${appUrl}/auth/callback?code=x&state=unknown`, { headers: { ...HTML, cookie } })).status, 400)
          const forged = await send(`${appUrl}/auth/callback?error=%3Cscript%3E&state=unknown`, { headers: { ...HTML, cookie } })
          assert.equal(forged.status, 400)
          assert.doesNotMatch(forged.body, /<script>/)
        })
      })

      describe('requireLogin', () => {
        test('a browser is sent to login with returnTo; an API call gets 401 JSON', async () => {
          const browser = await send(`${appUrl}/api/me?a=1`, { headers: HTML })
          assert.equal(browser.status, 303)
          assert.equal(browser.location, `${appUrl}/auth/login?returnTo=${encodeURIComponent('/api/me?a=1')}`)
          const api = await send(`${appUrl}/api/me`, { headers: JSON_ACCEPT })
          assert.equal(api.status, 401)
          assert.equal(JSON.parse(api.body).error, 'login_required')
          assert.equal((await send(`${appUrl}/api/me`, { headers: { accept: '*/*' } })).status, 401, 'fetch() default Accept is an API call')
        })

        if (driver.extras) {
          test('optionalLogin lets everyone through; the tokens object never serializes the session id', async () => {
            assert.deepEqual(JSON.parse((await send(`${appUrl}/api/maybe`)).body), { signedIn: false, inspected: 'null' })
            const { cookie, sid } = await signIn()
            const signedIn = JSON.parse((await send(`${appUrl}/api/maybe`, { headers: { cookie } })).body) as { signedIn: boolean; inspected: string }
            assert.equal(signedIn.signedIn, true)
            assert.ok(!signedIn.inspected.includes(sid))
          })

          test('a login_required thrown by a route gets the same answer as requireLogin', async () => {
            const { cookie } = await signIn()
            assert.equal((await send(`${appUrl}/api/gone`, { headers: { ...JSON_ACCEPT, cookie } })).status, 401)
            assert.equal((await send(`${appUrl}/api/gone`, { headers: { ...HTML, cookie } })).location, `${appUrl}/auth/login?returnTo=%2Fapi%2Fgone`)
          })

          test('verifyCsrf protects the app\'s own POST routes the same way as logout', async () => {
            const { cookie } = await signIn()
            const csrf = await csrfOf(cookie)
            const post = (headers: Record<string, string>, body: string) => send(`${appUrl}/api/transfer`, { method: 'POST', headers: { ...JSON_ACCEPT, ...FORM, cookie, ...headers }, body })
            assert.equal((await post({}, '')).status, 403)
            assert.equal((await post({ 'sec-fetch-site': 'cross-site' }, `_csrf=${csrf}`)).status, 403)
            assert.equal((await post({ origin: 'http://evil.test' }, `_csrf=${csrf}`)).status, 403)
            assert.equal((await post({ 'sec-fetch-site': 'same-origin' }, `_csrf=${csrf}x`)).status, 403)
            assert.equal((await post({ 'sec-fetch-site': 'same-origin' }, `_csrf=${csrf}`)).status, 200)
            assert.equal((await post({ 'x-csrf-token': csrf }, '')).status, 200)
          })
        }
      })

      describe('logout', () => {
        test('GET (a link, an <img>) is refused with 405 and changes nothing', async () => {
          const { cookie } = await signIn()
          const reply = await send(`${appUrl}/auth/logout`, { headers: { ...HTML, cookie } })
          assert.equal(reply.status, 405)
          assert.equal(reply.headers['allow'], 'POST')
          assertNoInternals(reply.body)
          assert.equal(await meStatus(cookie), 200)
        })

        test('a cross-site POST is refused, even with a valid token; so is a POST without it, with a tampered one or another session\'s', async () => {
          const { cookie } = await signIn()
          const csrf = await csrfOf(cookie)
          const crossSite: Array<Record<string, string>> = [
            { origin: 'http://evil.test' },
            { origin: appUrl.replace(/:\d+$/, ':1') }, // a sibling port: same site, other origin
            { 'sec-fetch-site': 'cross-site' },
            { 'sec-fetch-site': 'same-site', origin: appUrl },
          ]
          for (const headers of crossSite) {
            const reply = await send(`${appUrl}/auth/logout`, { method: 'POST', headers: { ...HTML, ...FORM, ...headers, cookie }, body: `_csrf=${csrf}` })
            assert.equal(reply.status, 403, JSON.stringify(headers))
            assertNoInternals(reply.body)
          }
          const tampered = `${csrf.slice(0, -1)}${csrf.endsWith('A') ? 'B' : 'A'}`
          for (const body of ['', '_csrf=', `_csrf=${tampered}`, `_csrf=${csrf}x`]) {
            const reply = await send(`${appUrl}/auth/logout`, { method: 'POST', headers: { ...HTML, ...FORM, origin: appUrl, 'sec-fetch-site': 'same-origin', cookie }, body })
            assert.equal(reply.status, 403, body)
          }
          const { cookie: other } = await signIn()
          const foreign = await send(`${appUrl}/auth/logout`, { method: 'POST', headers: { ...HTML, ...FORM, origin: appUrl, cookie }, body: `_csrf=${await csrfOf(other)}` })
          assert.equal(foreign.status, 403)
          assert.equal(await meStatus(cookie), 200, 'still signed in')
        })

        test('a same-origin POST with the token revokes (the provider reports the refresh token inactive), clears the cookie, follows RP-initiated logout', async () => {
          let refreshToken: string | undefined
          world.op.setTokenEndpointHook(({ body }) => {
            if (body.get('grant_type') === 'refresh_token') refreshToken = body.get('refresh_token') ?? undefined
          })
          const { cookie } = await signIn()
          const csrf = await csrfOf(cookie)
          world.op.setTokenEndpointHook()
          assert.ok(refreshToken, 'the app used its refresh token')
          assert.equal((await world.op.introspect(refreshToken))['active'], true)
          logouts.length = 0
          const reply = await send(`${appUrl}/auth/logout`, {
            method: 'POST',
            headers: { ...HTML, ...FORM, origin: appUrl, 'sec-fetch-site': 'same-origin', cookie },
            body: `_csrf=${encodeURIComponent(csrf)}`,
          })
          assert.equal(reply.status, 303, reply.body)
          const location = new URL(reply.location ?? '')
          assert.equal(`${location.origin}${location.pathname}`, `${world.op.issuer}/session/end`)
          assert.equal(location.searchParams.get('client_id'), `web-${driver.name}`)
          assert.equal(location.searchParams.get('post_logout_redirect_uri'), `${appUrl}/`)
          assert.ok(location.searchParams.get('id_token_hint'))
          assert.match(cookieLine(reply.setCookies, 'rt_session') ?? '', /^rt_session=; .*Max-Age=0/)
          assert.equal((await world.op.introspect(refreshToken))['active'], false)
          assert.equal(await meStatus(cookie), 401)
          if (app.client !== undefined) {
            assert.equal(logouts.length, 1)
            assert.equal(logouts[0]?.result.revocation.refreshToken, 'revoked')
            assert.equal(logouts[0]?.claims?.['sub'], 'alice')
          }
        })

        test('an API client logs out with the X-CSRF-Token header and gets JSON; Origin: null is not a cross-site signal', async () => {
          const { cookie } = await signIn()
          const csrf = await csrfOf(cookie)
          const reply = await send(`${appUrl}/auth/logout`, { method: 'POST', headers: { ...JSON_ACCEPT, origin: 'null', 'x-csrf-token': csrf, cookie } })
          assert.equal(reply.status, 200, reply.body)
          const body = JSON.parse(reply.body) as { logged_out: boolean; end_session_url: string; revocation: { refreshToken: string } }
          assert.equal(body.logged_out, true)
          assert.equal(body.revocation.refreshToken, 'revoked')
          assert.ok(body.end_session_url.startsWith(`${world.op.issuer}/session/end`))
          assert.equal(await meStatus(cookie), 401)
        })

        test('an oversized logout form is refused without reading it all, and logs nobody out', async () => {
          const { cookie } = await signIn()
          const csrf = await csrfOf(cookie)
          const reply = await send(`${appUrl}/auth/logout`, { method: 'POST', headers: { ...JSON_ACCEPT, ...FORM, origin: appUrl, cookie }, body: `_csrf=${csrf}&pad=${'x'.repeat(64 * 1024)}` })
          assert.ok(reply.status === 400 || reply.status === 413, `status ${reply.status}`)
          assertNoInternals(reply.body)
          assert.equal(await meStatus(cookie), 200)
        })
      })
    })
  }
})
