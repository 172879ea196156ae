// @ts-nocheck
// The session-cookie and same-origin rules of the web handlers, on inputs a live server rarely produces:
// cookies joined by a Fetch `Headers` (two Cookie lines, as HTTP/2 sends them), repeated provenance headers.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { isSameOriginRequest } from '../../src/web/csrf.js'
import { readSessionId } from '../../src/web/session-cookie.js'

const ID = 'A'.repeat(43)

test('the session id is read from one Cookie line or several joined by Headers, and refused when sent twice or malformed', () => {
  assert.equal(readSessionId(`a=1; rt_session=${ID}; b=2`, 'rt_session'), ID)
  const twoLines = new Headers()
  twoLines.append('cookie', 'a=1')
  twoLines.append('cookie', `rt_session=${ID}`)
  assert.equal(readSessionId(twoLines.get('cookie'), 'rt_session'), ID)
  const tossed = new Headers()
  tossed.append('cookie', `rt_session=${ID}`)
  tossed.append('cookie', `rt_session=${'B'.repeat(43)}`)
  assert.equal(readSessionId(tossed.get('cookie'), 'rt_session'), undefined, 'a second cookie of the name, on another line')
  assert.equal(readSessionId(`rt_session="${ID}"`, 'rt_session'), ID)
  for (const bad of ['rt_session=short', `rt_session=${ID}!`, `xrt_session=${ID}`, '', `rt_session=${'A'.repeat(44)}`]) {
    assert.equal(readSessionId(bad, 'rt_session'), undefined, bad)
  }
  assert.equal(readSessionId(null, 'rt_session'), undefined)
})

test('provenance: repeated or foreign Sec-Fetch-Site / Origin are cross-origin; absent or Origin: null defer to the token', () => {
  const app = 'https://app.example.test'
  const h = (entries: Array<[string, string]>): Headers => {
    const headers = new Headers()
    for (const [k, v] of entries) headers.append(k, v)
    return headers
  }
  assert.equal(isSameOriginRequest(h([]), app), true)
  assert.equal(isSameOriginRequest(h([['origin', 'null']]), app), true)
  assert.equal(isSameOriginRequest(h([['origin', 'HTTPS://APP.EXAMPLE.TEST'], ['sec-fetch-site', 'same-origin']]), app), true)
  assert.equal(isSameOriginRequest(h([['sec-fetch-site', 'same-origin'], ['sec-fetch-site', 'cross-site']]), app), false)
  assert.equal(isSameOriginRequest(h([['origin', app], ['origin', 'https://evil.test']]), app), false)
  assert.equal(isSameOriginRequest(h([['sec-fetch-site', 'none']]), app), false)
  assert.equal(isSameOriginRequest(h([['origin', 'https://app.example.test:444']]), app), false)
})
