// @ts-nocheck
// The demo's metrics endpoint after a real login and the two API calls it makes, in a real browser:
// scraped in the Prometheus text format, the scrape kept in test-artifacts/metrics.txt (README shows one).
import assert from 'node:assert/strict'
import { existsSync } from 'node:fs'
import { mkdir, writeFile } from 'node:fs/promises'
import { after, before, test } from 'node:test'
import { chromium, type Browser } from 'playwright-core'
import { startDemo, type RunningDemo } from '../../demo/start.js'

const CHROMIUM = process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium'

let demo: RunningDemo
let browser: Browser

before(async () => {
  assert.ok(existsSync(CHROMIUM), `${CHROMIUM} is missing: apt-get install -y chromium (or set CHROMIUM_PATH)`)
  demo = await startDemo({ ports: { app: 0, op: 0, contacts: 0, calendar: 0, metrics: 0 }, quiet: true })
  browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking'] })
})

after(async () => {
  await browser?.close()
  await demo?.close()
})

/** The value of the sample `name{labels...}` whose labels include all of `labels`; 0 when absent. */
function sample(scrape: string, name: string, labels: Record<string, string>): number {
  let total = 0
  for (const line of scrape.split('\n')) {
    if (!line.startsWith(`${name}{`)) continue
    if (!Object.entries(labels).every(([k, v]) => line.includes(`${k}="${v}"`))) continue
    total += Number(line.slice(line.lastIndexOf(' ') + 1))
  }
  return total
}

test('a login and the two API calls, as the Prometheus endpoint reports them', { timeout: 60_000 }, async () => {
  const before = await (await fetch(demo.metricsUrl)).text()
  assert.equal(sample(before, 'resource_tokens_logins_total', {}), 0)

  const page = await (await browser.newContext()).newPage()
  page.setDefaultTimeout(10_000)
  await page.goto(demo.appUrl)
  await page.click('#sign-in')
  await page.waitForSelector('#password')
  await page.fill('#username', 'alice')
  await page.fill('#password', 'wonderland')
  await page.click('#sign-in')
  await page.waitForSelector('#allow')
  await page.click('#allow')
  await page.waitForSelector('#calendar-card [data-claim="aud"]')
  await page.waitForSelector('#contacts-card [data-claim="aud"]')

  const response = await fetch(demo.metricsUrl)
  assert.equal(response.status, 200)
  assert.match(response.headers.get('content-type') ?? '', /text\/plain/)
  const scrape = await response.text()
  await mkdir('test-artifacts', { recursive: true })
  await writeFile('test-artifacts/metrics.txt', scrape)

  assert.equal(sample(scrape, 'resource_tokens_logins_total', { resource_tokens_outcome: 'ok' }), 1)
  assert.equal(sample(scrape, 'resource_tokens_token_requests_total', { resource_tokens_token_request_kind: 'authorization_code', resource_tokens_outcome: 'ok' }), 1)
  for (const resource of ['contacts', 'calendar']) {
    assert.equal(sample(scrape, 'resource_tokens_token_requests_total', { resource_tokens_token_request_kind: 'refresh', resource_tokens_resource: resource, resource_tokens_outcome: 'ok' }), 1, `one refresh for ${resource}`)
    assert.equal(sample(scrape, 'resource_tokens_cache_lookups_total', { resource_tokens_resource: resource, resource_tokens_cache_result: 'miss' }) >= 1, true)
  }
  assert.ok(sample(scrape, 'resource_tokens_guard_verifications_total', { resource_tokens_outcome: 'ok' }) >= 2, 'both APIs verified a token')
  // Three refreshes: contacts, calendar, and the tools API the demo discovered at run time (RFC 9728).
  assert.equal(sample(scrape, 'resource_tokens_token_requests_total', { resource_tokens_token_request_kind: 'refresh', resource_tokens_resource: 'tools API (demo)', resource_tokens_outcome: 'ok' }), 1, 'one refresh for the discovered tools API')
  assert.equal(sample(scrape, 'resource_tokens_token_request_duration_count', { resource_tokens_token_request_kind: 'refresh' }), 3)
  assert.ok(sample(scrape, 'resource_tokens_store_operation_duration_count', {}) > 0)
  // The scrape is public to whoever reaches the port: nothing in it may identify a user or a token.
  assert.doesNotMatch(scrape, /alice|eyJ[\w-]+\.|resource_tokens_grant=/)
})
