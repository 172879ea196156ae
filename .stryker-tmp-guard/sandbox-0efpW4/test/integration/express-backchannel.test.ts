// @ts-nocheck
// The Express adapter's POST <mountPath>/backchannel-logout in a real Express app, called by a real oidc-provider
// when the user signs out there (issue 15): 200 and the grant is gone; a bad token is 400 invalid_request with
// Cache-Control: no-store; no session cookie, CSRF token or redirect is involved.
import assert from 'node:assert/strict'
import { createServer, type Server } from 'node:http'
import { after, before, test } from 'node:test'
import express from 'express'
import type { ResourceClient } from 'resource-tokens'
import { resourceTokens } from 'resource-tokens/express'
import { closeServer, listenOnLoopback } from '../support/http.js'
import { HeadlessBrowser } from '../support/provider.js'
import { startScenario, type Scenario } from '../support/scenario.js'

let world: Scenario
let server: Server
let baseUrl: string
let client: ResourceClient | undefined

before(async () => {
  // The app listens first (the provider registers its URI at start); the router is built once the client exists.
  let handler: express.Express | undefined
  server = createServer((req, res) => {
    if (handler === undefined) res.writeHead(503).end()
    else handler(req, res)
  })
  baseUrl = `http://127.0.0.1:${await listenOnLoopback(server)}`
  world = await startScenario({ provider: { backchannelLogoutUri: `${baseUrl}/auth/backchannel-logout` } })
  client = await world.client()
  const auth = resourceTokens(client, { baseUrl })
  const app = express()
  app.use(auth.mountPath, auth.router)
  handler = app
  assert.equal(auth.paths.backchannelLogout, '/auth/backchannel-logout')
})

after(async () => {
  await world?.close()
  if (server !== undefined) await closeServer(server)
})

test('signing out at the provider reaches the Express route: 200, and the grants of that session are gone', async () => {
  const c = client as ResourceClient
  const browser = new HeadlessBrowser()
  const other = new HeadlessBrowser()
  for (const [key, b] of [['web-1', browser], ['web-2', other]] as const) {
    const { url } = await c.startLogin(key)
    await c.finishLogin(key, await world.op.login(url, { browser: b }))
  }
  await world.op.signOut(browser)
  assert.equal(await c.hasGrant('web-1'), false)
  assert.equal(await c.hasGrant('web-2'), true, 'another provider session of the same user stays')
})

test('a bad token: 400 invalid_request, no-store, no cookie, no redirect, whatever Origin and Sec-Fetch-Site say', async () => {
  const res = await fetch(`${baseUrl}/auth/backchannel-logout`, {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded', origin: 'https://evil.example', 'sec-fetch-site': 'cross-site', accept: 'text/html' },
    body: new URLSearchParams({ logout_token: 'eyJhbGciOiJub25lIn0.eyJzaWQiOiJ4In0.' }),
  })
  assert.equal(res.status, 400)
  assert.equal(res.headers.get('cache-control'), 'no-store')
  assert.equal(res.headers.get('set-cookie'), null)
  assert.match(res.headers.get('content-type') ?? '', /application\/json/)
  assert.equal(((await res.json()) as { error: string }).error, 'invalid_request')
  for (const body of ['', 'logout_token=a&logout_token=b', 'something=else']) {
    const r = await fetch(`${baseUrl}/auth/backchannel-logout`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body })
    assert.equal(r.status, 400, body)
    assert.equal(r.headers.get('cache-control'), 'no-store')
  }
  const json = await fetch(`${baseUrl}/auth/backchannel-logout`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"logout_token":"x"}' })
  assert.equal(json.status, 400, 'only a form body is read')
})
