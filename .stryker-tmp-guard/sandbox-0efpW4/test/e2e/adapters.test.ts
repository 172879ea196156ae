// @ts-nocheck
// One real-Chromium login per web framework (the bare web handlers, Express, Fastify, Hono, and Next.js on
// the built example): sign in at the demo's provider, see both demo APIs (the calendar one DPoP-bound),
// sign out.
import assert from 'node:assert/strict'
import { existsSync } from 'node:fs'
import { after, before, describe, test } from 'node:test'
import { chromium, type Browser } from 'playwright-core'
import { startDemoBackend, type DemoBackend } from '../support/demo-backend.js'
import { adapterDrivers, type RunningApp } from '../support/web-apps.js'

const CHROMIUM = process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium'

describe('every web adapter in chromium', { timeout: 240_000 }, () => {
  let browser: Browser

  before(async () => {
    assert.ok(existsSync(CHROMIUM), `${CHROMIUM} is missing: apt-get install -y chromium (or set CHROMIUM_PATH)`)
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    })
  })

  after(async () => {
    await browser?.close()
  })

  for (const driver of adapterDrivers()) {
    test(`${driver.name}: sign in, both APIs, sign out`, async () => {
      const slot = await driver.open()
      let backend: DemoBackend | undefined
      let app: RunningApp | undefined
      const context = await browser.newContext()
      try {
        backend = await startDemoBackend(slot.url)
        app = await slot.start({
          issuer: backend.issuer,
          clientId: backend.client.id,
          clientSecret: backend.client.secret,
          contactsUrl: backend.contactsUrl,
          calendarUrl: backend.calendarUrl,
          calendarDpop: true,
        })
        const page = await context.newPage()
        page.setDefaultTimeout(15_000)
        await page.goto(`${slot.url}/`)
        await page.click('#sign-in')
        await page.waitForSelector('#password')
        assert.equal(new URL(page.url()).origin, backend.issuer)
        await page.fill('#username', 'alice')
        await page.fill('#password', 'wonderland')
        await page.click('#sign-in')
        await page.waitForSelector('#allow')
        await page.click('#allow')

        await page.waitForSelector('#contacts')
        assert.equal(page.url(), `${slot.url}/`)
        assert.match((await page.textContent('#contacts')) ?? '', /Mad Hatter/)
        assert.match((await page.textContent('#calendar')) ?? '', /Croquet with the Queen/)
        assert.doesNotMatch(await page.content(), /eyJ[\w-]+\.[\w-]+\.[\w-]+/, 'never a raw token on the page')
        const cookie = (await context.cookies()).find((c) => c.name === 'rt_session')
        assert.equal(cookie?.httpOnly, true)
        assert.equal(cookie?.sameSite, 'Lax')

        await page.click('#sign-out')
        await page.waitForSelector('#op-logout')
        await page.click('#op-logout')
        await page.waitForSelector('#sign-in')
        assert.equal(page.url(), `${slot.url}/`)
        assert.equal(await page.locator('#contacts').count(), 0)
      } finally {
        await context.close()
        await app?.close()
        await backend?.close()
      }
    })
  }
})
