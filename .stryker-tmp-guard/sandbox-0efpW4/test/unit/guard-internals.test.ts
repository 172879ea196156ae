// @ts-nocheck
// Pure helpers of the guard whose edge cases are impractical to reach through a live verifier.
import assert from 'node:assert/strict'
import { test } from 'node:test'

import { BoundedMap as BoundedCache } from '../../src/lib/bounded-map.js'
import { DpopNonces, normalizeHtu } from '../../src/guard/dpop-proof.js'

test('BoundedCache expires entries and stays within its bound', () => {
  const cache = new BoundedCache<number>(3)
  cache.set('a', 1, 1000, 0)
  assert.equal(cache.get('a', 999), 1)
  assert.equal(cache.get('a', 1000), undefined)
  cache.set('gone', 0, 10, 20) // already expired: not stored
  assert.equal(cache.size, 0)
  for (const [i, key] of ['a', 'b', 'c', 'd'].entries()) cache.set(key, i, 10_000, 0)
  assert.equal(cache.size, 3)
  assert.equal(cache.get('a', 0), undefined, 'oldest evicted first')
  cache.set('e', 4, 10_000, 0)
  assert.deepEqual(['b', 'c', 'd', 'e'].map((k) => cache.get(k, 0)), [undefined, 2, 3, 4])
  // expired entries are swept before live ones are evicted
  const sweep = new BoundedCache<number>(2)
  sweep.set('short', 1, 100, 0)
  sweep.set('long', 2, 10_000, 0)
  sweep.set('new', 3, 10_000, 5_000)
  assert.deepEqual([sweep.get('long', 5_000), sweep.get('new', 5_000)], [2, 3])
  assert.equal(sweep.addIfAbsent('new', 9, 10_000, 5_000), false)
  assert.equal(sweep.addIfAbsent('other', 9, 10_000, 5_000), true)
})

test('normalizeHtu applies RFC 3986 syntax- and scheme-based normalization', () => {
  const same = [
    ['https://api.example.com/a/b', 'HTTPS://API.example.COM:443/a/./c/../b?q=1#f'],
    ['https://api.example.com/%7Euser/%2f', 'https://api.example.com/~user/%2F'],
    ['http://127.0.0.1:8080', 'http://127.0.0.1:8080/'],
  ]
  for (const [a, b] of same) assert.equal(normalizeHtu(a ?? ''), normalizeHtu(b ?? ''), `${a} ~ ${b}`)
  assert.notEqual(normalizeHtu('https://api.example.com/a'), normalizeHtu('http://api.example.com/a'))
  assert.notEqual(normalizeHtu('https://api.example.com:8443/a'), normalizeHtu('https://api.example.com/a'))
  assert.equal(normalizeHtu('ftp://api.example.com/a'), undefined)
  assert.equal(normalizeHtu('/relative'), undefined)
})

test('DpopNonces are valid for the current and the previous window only', () => {
  const nonces = new DpopNonces(new Uint8Array(32), 1000)
  const nonce = nonces.current(5_500)
  assert.equal(nonces.isValid(nonce, 5_999), true)
  assert.equal(nonces.isValid(nonce, 6_999), true)
  assert.equal(nonces.isValid(nonce, 7_000), false)
  assert.equal(nonces.isValid(`${nonce}x`, 5_500), false)
  assert.notEqual(new DpopNonces(new Uint8Array(32).fill(1), 1000).current(5_500), nonce)
})
