// @ts-nocheck
// The demo, driven in a real browser (Debian's chromium through playwright-core): sign in, consent, both
// APIs with their own audience, the replay refused, sign out, the tokens revoked; and signing out at the provider
// ending the app's session too (back-channel logout).
import assert from 'node:assert/strict'
import { existsSync } from 'node:fs'
import { mkdir } from 'node:fs/promises'
import { after, before, describe, test } from 'node:test'
import { chromium, type Browser, type Page } from 'playwright-core'
import { startDemo, type RunningDemo } from '../../demo/start.js'

const CHROMIUM = process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium'
const SCREENSHOT = 'test-artifacts/demo.png'

describe('the demo in chromium', { timeout: 60_000 }, () => {
  let demo: RunningDemo
  let browser: Browser
  let page: Page

  before(async () => {
    assert.ok(existsSync(CHROMIUM), `${CHROMIUM} is missing: apt-get install -y chromium (or set CHROMIUM_PATH)`)
    demo = await startDemo({ ports: { app: 0, op: 0, contacts: 0, calendar: 0, tools: 0, metrics: 0 }, quiet: true, recentSignInSeconds: 1 })
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    })
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } })
    page = await context.newPage()
    page.setDefaultTimeout(10_000)
  })

  after(async () => {
    await browser?.close()
    await demo?.close()
  })

  test('sign in, consent, see both APIs with different audiences', async () => {
    await page.goto(demo.appUrl)
    await page.click('#sign-in')

    // The provider's own sign-in page: a wrong password first, then the right one.
    await page.waitForSelector('#password')
    assert.equal(new URL(page.url()).origin, demo.opUrl)
    await page.fill('#username', 'alice')
    await page.fill('#password', 'not-the-password')
    await page.click('#sign-in')
    await page.waitForSelector('#login-error')
    await page.fill('#password', 'wonderland')
    await page.click('#sign-in')

    // Consent lists each API with its own audience.
    await page.waitForSelector('#allow')
    const consent = await page.textContent('ul.scopes')
    assert.match(consent ?? '', /contacts:read/)
    assert.match(consent ?? '', /calendar:read/)
    await page.click('#allow')

    await page.waitForSelector('#contacts-card [data-claim="aud"]')
    assert.equal(page.url(), demo.appUrl)
    const contactsAud = await page.textContent('#contacts-card [data-claim="aud"]')
    const calendarAud = await page.textContent('#calendar-card [data-claim="aud"]')
    assert.equal(contactsAud, `${demo.contactsUrl}/contacts`)
    assert.equal(calendarAud, `${demo.calendarUrl}/calendar`)
    assert.equal(await page.textContent('#contacts-card [data-claim="scope"]'), 'contacts:read')
    assert.equal(await page.textContent('#calendar-card [data-claim="scope"]'), 'calendar:read')
    assert.match((await page.textContent('#contacts-card [data-claim="type"]')) ?? '', /Bearer/)
    // The calendar token is DPoP-bound: the page says so.
    assert.match((await page.textContent('#calendar-card [data-claim="type"]')) ?? '', /DPoP/)
    assert.match((await page.textContent('#contacts-card')) ?? '', /Mad Hatter/)
    assert.match((await page.textContent('#calendar-card')) ?? '', /Croquet with the Queen/)

    // Never a raw token on the page: a JWT is three base64url parts that start with eyJ.
    assert.doesNotMatch(await page.content(), /eyJ[\w-]+\.[\w-]+\.[\w-]+/)

    await mkdir('test-artifacts', { recursive: true })
    await page.screenshot({ path: SCREENSHOT, fullPage: true })
  })

  test('the contacts token replayed at the calendar API is refused', async () => {
    await page.click('#replay-button')
    await page.waitForSelector('#replay-result')
    const result = (await page.textContent('#replay-result')) ?? ''
    assert.match(result, /Refused: 401/)
    assert.match(result, /WWW-Authenticate: Bearer[^]*error="invalid_token"/)
  })

  test('the tools API was discovered at run time; an action needing a recent sign-in goes through step-up and back', async () => {
    await page.goto(demo.appUrl)
    assert.equal(await page.textContent('#tools-card [data-testid="discovered"]'), 'discovered')
    assert.equal(await page.textContent('#tools-card [data-claim="aud"]'), `${demo.toolsUrl}/tools`)
    const contactsAud = await page.textContent('#contacts-card [data-claim="aud"]')
    // Let the sign-in grow older than the route accepts (1 s, plus the guard's 5 s clock leeway). A wait, not a timing assertion.
    await page.waitForTimeout(7000)
    await page.click('#recent-action')
    // RFC 9470: the tools API answered insufficient_user_authentication with max_age; the provider asks again.
    await page.waitForSelector('#password')
    assert.equal(new URL(page.url()).origin, demo.opUrl)
    await page.fill('#username', 'alice')
    await page.fill('#password', 'wonderland')
    await page.click('#sign-in')
    await page.waitForSelector('#allow')
    await page.click('#allow')
    await page.waitForSelector('#tools-card')
    assert.equal(new URL(page.url()).searchParams.get('stepped-up'), '1')
    await page.click('#recent-action')
    await page.waitForSelector('#recent-action-result')
    assert.match((await page.textContent('#recent-action-result')) ?? '', /^Done/)
    // The other APIs still work, with the same audiences.
    assert.equal(await page.textContent('#contacts-card [data-claim="aud"]'), contactsAud)
    assert.match((await page.textContent('#calendar-card')) ?? '', /Croquet with the Queen/)
  })

  test('sign out revokes the tokens', async () => {
    await page.click('#sign-out')
    // RP-initiated logout: the provider asks whether to end its own session too.
    await page.waitForSelector('#op-logout')
    await page.click('#op-logout')
    await page.waitForSelector('#logout-report')
    assert.equal(page.url(), demo.appUrl)
    assert.equal(await page.textContent('[data-testid="refresh-token-status"]'), 'revoked')
    assert.equal(await page.textContent('[data-testid="introspection"]'), 'active: false')
    assert.equal(await page.textContent('[data-testid="grant-status"]'), 'deleted')
    assert.match((await page.textContent('#logout-report')) ?? '', /login_required/)
    // Signed out: the page offers sign-in again, and the APIs are not called.
    assert.equal(await page.locator('#contacts-card').count(), 0)
    assert.equal(await page.locator('#sign-in').count(), 1)
  })

  test('signing out at the provider ends the app session too: the page says so after a reload', async () => {
    // Sign in again (the provider session ended with the logout above).
    await page.click('#sign-in')
    await page.waitForSelector('#password')
    await page.fill('#username', 'alice')
    await page.fill('#password', 'wonderland')
    await page.click('#sign-in')
    await page.waitForSelector('#allow, #contacts-card')
    if ((await page.locator('#allow').count()) > 0) await page.click('#allow')
    await page.waitForSelector('#contacts-card [data-claim="aud"]')

    // The user goes to the provider and signs out there; the app is not involved in this navigation.
    await page.click('#op-sign-out')
    await page.waitForSelector('#op-logout')
    assert.equal(new URL(page.url()).origin, demo.opUrl)
    await page.click('#op-logout')
    await page.waitForLoadState()
    assert.equal(new URL(page.url()).origin, demo.opUrl)

    // Back in the app: the provider's logout token removed the session's grant.
    await page.goto(demo.appUrl)
    await page.waitForSelector('#provider-logout')
    assert.match((await page.textContent('#provider-logout')) ?? '', /ended your session/)
    assert.equal(await page.locator('#contacts-card').count(), 0)
    assert.equal(await page.locator('#sign-in').count(), 1)
  })
})
