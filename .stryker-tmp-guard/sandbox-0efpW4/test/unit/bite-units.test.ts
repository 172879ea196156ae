// @ts-nocheck
// Issue 19: unit tests written against the mutants StrykerJS left alive (docs/MUTATION.md) in the modules
// that decide where a token goes or how a stored secret is sealed: challenge and scope parsing, loopback
// and URL matching, the record cipher's format, and the encrypted store's compare-and-set fast path.
import assert from 'node:assert/strict'
import { createCipheriv, createHmac, hkdfSync, randomBytes } from 'node:crypto'
import { describe, test } from 'node:test'
import type { WWWAuthenticateChallenge } from 'oauth4webapi'
import { resolveResources } from '../../src/config/validate.js'
import { ResourceTokensConfigError, ResourceTokensError } from '../../src/errors/resource-tokens-error.js'
import { challengeError } from '../../src/fetch/challenges.js'
import { isLoopbackHost, isSecureOrLoopback } from '../../src/resources/loopback.js'
import { ResourceMatcher } from '../../src/resources/matcher.js'
import { MemoryStore } from '../../src/stores/memory-store.js'
import { scopeMinus, scopeSet } from '../../src/tokens/scope.js'
import { EncryptedStore } from '../../src/vault/encrypted-store.js'
import { RecordCipher } from '../../src/vault/record-cipher.js'

const challenge = (scheme: string, parameters: Record<string, string>): WWWAuthenticateChallenge => ({ scheme, parameters }) as WWWAuthenticateChallenge

describe('challengeError', () => {
  test('the first Bearer or DPoP challenge with an error, with its scope, resource_metadata, acr_values and max_age', () => {
    assert.deepEqual(challengeError([challenge('bearer', { error: 'invalid_token', scope: 'a b', resource_metadata: 'https://rs/.well-known/x' })]), {
      error: 'invalid_token',
      scope: 'a b',
      resourceMetadata: 'https://rs/.well-known/x',
      acrValues: undefined,
      maxAge: undefined,
    })
    assert.deepEqual(challengeError([challenge('dpop', { error: 'use_dpop_nonce' })]), { error: 'use_dpop_nonce', scope: undefined, resourceMetadata: undefined, acrValues: undefined, maxAge: undefined })
    assert.deepEqual(challengeError([challenge('bearer', { error: 'insufficient_user_authentication', acr_values: 'gold', max_age: '60' })]), {
      error: 'insufficient_user_authentication',
      scope: undefined,
      resourceMetadata: undefined,
      acrValues: 'gold',
      maxAge: '60',
    })
  })

  test('other schemes and challenges without an error are skipped; none gives undefined', () => {
    assert.equal(challengeError([]), undefined)
    assert.equal(challengeError([challenge('basic', { error: 'invalid_token' })]), undefined)
    assert.equal(challengeError([challenge('bearer', { realm: 'x' })]), undefined)
    assert.deepEqual(challengeError([challenge('basic', { error: 'x' }), challenge('bearer', { realm: 'r' }), challenge('dpop', { error: 'invalid_token' }), challenge('bearer', { error: 'insufficient_scope' })])?.error, 'invalid_token')
    assert.deepEqual(challengeError([challenge('bearer', { error: 'insufficient_scope' }), challenge('dpop', { error: 'invalid_token' })])?.error, 'insufficient_scope')
  })
})

describe('scope sets', () => {
  test('scopeSet splits on spaces, drops empty members and duplicates; undefined is empty', () => {
    assert.deepEqual([...scopeSet('a b  c a ')], ['a', 'b', 'c'])
    assert.deepEqual([...scopeSet(undefined)], [])
    assert.deepEqual([...scopeSet('')], [])
  })

  test('scopeMinus keeps the members of the first set missing from the second, in order', () => {
    assert.deepEqual(scopeMinus(scopeSet('a b c'), scopeSet('b')), ['a', 'c'])
    assert.deepEqual(scopeMinus(scopeSet('a'), scopeSet('a b')), [])
    assert.deepEqual(scopeMinus(scopeSet(''), scopeSet('a')), [])
  })
})

describe('loopback hosts and URL matching', () => {
  test('127.0.0.0/8 with one- to three-digit octets is loopback; lookalikes are not', () => {
    for (const host of ['127.0.0.1', '127.10.20.30', '127.255.255.254', 'LOCALHOST', 'a.localhost', '[::1]']) assert.equal(isLoopbackHost(host), true, host)
    for (const host of ['1127.0.0.1', 'x127.0.0.1', '127.0.0.1.evil.test', '127.0.0', '127.1000.0.1', 'localhost.evil.test', '::1', '128.0.0.1']) assert.equal(isLoopbackHost(host), false, host)
  })

  test('isSecureOrLoopback: https anywhere, http on loopback only', () => {
    assert.equal(isSecureOrLoopback(new URL('https://api.example.com/')), true)
    assert.equal(isSecureOrLoopback(new URL('http://127.0.0.1:8080/')), true)
    assert.equal(isSecureOrLoopback(new URL('http://api.example.com/')), false)
    assert.equal(isSecureOrLoopback(new URL('ftp://127.0.0.1/')), false)
  })

  test('match() takes strings and URL objects only: an object that merely prints as a resource URL gets no resource', () => {
    const matcher = new ResourceMatcher(resolveResources([{ url: 'https://api.example.com/v1', scope: 'a' }], false))
    const resource = matcher.match('https://api.example.com/v1/x')
    assert.ok(resource !== undefined, 'control: the string matches')
    assert.equal(matcher.match(new URL('https://api.example.com/v1/x')), resource)
    const impostor = { toString: () => 'https://api.example.com/v1/x' }
    assert.equal(matcher.match(impostor as unknown as string), undefined)
    assert.equal(matcher.match(42 as unknown as string), undefined)
  })
})

describe('RecordCipher, the sealed format', () => {
  const SECRET = 'format-test-secret-format-test-secret-01'

  /** The documented format, computed independently with node:crypto: v1.<kid>.<iv>.<ciphertext>.<tag>. */
  function sealByHand(secret: string, storeKey: string, plaintext: string): string {
    const material = Buffer.from(secret, 'utf8')
    const key = Buffer.from(hkdfSync('sha256', material, Buffer.alloc(0), 'resource-tokens record v1', 32))
    const kid = createHmac('sha256', material).update('resource-tokens key id v1').digest().subarray(0, 8).toString('base64url')
    const iv = randomBytes(12)
    const cipher = createCipheriv('aes-256-gcm', key, iv)
    cipher.setAAD(Buffer.from(storeKey, 'utf8'))
    const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()])
    return ['v1', kid, iv.toString('base64url'), ciphertext.toString('base64url'), cipher.getAuthTag().toString('base64url')].join('.')
  }

  test('records sealed to the documented format by hand decrypt, and the cipher\'s key id is the documented one', () => {
    const cipher = new RecordCipher({ secrets: [SECRET] })
    assert.equal(cipher.decrypt('grant:a', sealByHand(SECRET, 'grant:a', 'plain café')), 'plain café')
    const sealed = cipher.encrypt('grant:a', 'x')
    assert.equal(sealed.split('.')[1], sealByHand(SECRET, 'grant:a', 'x').split('.')[1])
  })

  /** The decryption_failed error of `run`, with its message. */
  function failure(run: () => unknown): ResourceTokensError {
    try {
      run()
    } catch (err) {
      assert.ok(err instanceof ResourceTokensError, String(err))
      assert.equal(err.code, 'decryption_failed')
      return err
    }
    assert.fail('expected decryption_failed')
  }

  test('each way a record fails says why (and never includes the record); only a failed authentication has a cause', () => {
    const cipher = new RecordCipher({ secrets: [SECRET] })
    const good = cipher.encrypt('k', 'secret-value')
    const [v, kid, iv, ct, tag] = good.split('.') as [string, string, string, string, string]
    const reason = (value: unknown): string => failure(() => cipher.decrypt('k', value as string)).message.replace('stored record did not decrypt: ', '')
    assert.equal(reason(42), 'not a string')
    assert.equal(reason('v1.a.b.c'), 'unknown format')
    assert.equal(reason(['v2', kid, iv, ct, tag].join('.')), 'unknown format')
    assert.equal(reason([v, 'AAAAAAAAAAA', iv, ct, tag].join('.')), 'unknown key id')
    assert.equal(reason([v, kid, iv.slice(0, -2), ct, tag].join('.')), 'malformed value')
    assert.equal(reason([v, kid, iv, ct, tag.slice(0, -2)].join('.')), 'malformed value')
    assert.equal(reason([v, kid, iv, `${ct}!`, tag].join('.')), 'malformed value')
    assert.equal(reason([v, kid, `${iv.slice(0, -1)}+`, ct, tag].join('.')), 'malformed value')
    const moved = failure(() => cipher.decrypt('other-key', good))
    assert.equal(moved.message, 'stored record did not decrypt: authentication failed')
    assert.ok(moved.cause !== undefined, 'the crypto failure is kept as the cause')
    assert.ok(!('cause' in failure(() => cipher.decrypt('k', 'nope'))), 'no cause property at all when there is none')
    for (const err of [moved, failure(() => cipher.decrypt('k', 'nope'))]) assert.ok(!err.message.includes('secret-value') && !err.message.includes(ct))
  })

  test('secrets: 32 characters is enough, 31 is not; wrong types and missing options are config errors with clear messages', () => {
    assert.doesNotThrow(() => new RecordCipher({ secrets: ['x'.repeat(32)] }))
    assert.doesNotThrow(() => new RecordCipher({ secrets: [new Uint8Array(32)] }))
    const configError = (options: unknown, message: string) =>
      assert.throws(() => new RecordCipher(options as never), (err) => err instanceof ResourceTokensConfigError && err.message === message)
    configError({ secrets: ['x'.repeat(31)] }, '"encryption.secrets[0]" must be at least 32 characters')
    configError({ secrets: [new Uint8Array(31)] }, '"encryption.secrets[0]" must be at least 32 bytes')
    configError({ secrets: ['x'.repeat(32), 7] }, '"encryption.secrets[1]" must be a string or a Uint8Array')
    configError({ secrets: [] }, '"encryption.secrets" must be a non-empty array of secrets')
    configError(undefined, '"encryption.secrets" must be a non-empty array of secrets')
  })
})

describe('EncryptedStore, compare-and-set and what it remembers', () => {
  const cipher = new RecordCipher({ secrets: ['encrypted-store-test-secret-0123456789'] })

  /** Counts the wrapped store's reads and records the ciphertext each compare-and-set expected. */
  class CountingStore extends MemoryStore {
    gets = 0
    closed = 0
    /** Compare-and-set calls that fail as if another writer had got there first. */
    failNext = 0
    readonly expected: Array<string | undefined> = []
    override get(key: string) {
      this.gets++
      return super.get(key)
    }
    override compareAndSet(key: string, expected: string | undefined, value: string) {
      this.expected.push(expected)
      if (this.failNext > 0) {
        this.failNext--
        return Promise.resolve(false)
      }
      return super.compareAndSet(key, expected, value)
    }
    override async close() {
      this.closed++
      await super.close()
    }
  }

  test('a missing key reads and takes as undefined', async () => {
    const store = new EncryptedStore(new CountingStore(), cipher)
    assert.equal(await store.get('missing'), undefined)
    assert.equal(await store.take('missing'), undefined)
    assert.equal(await store.compareAndSet('missing', 'x', 'y'), false)
  })

  test('after its own write, compare-and-set uses the remembered ciphertext without reading the store', async () => {
    const inner = new CountingStore()
    const store = new EncryptedStore(inner, cipher)
    await store.set('k', 'one')
    const stored = await inner.get('k')
    inner.gets = 0
    assert.equal(await store.compareAndSet('k', 'one', 'two'), true)
    assert.equal(inner.gets, 0, 'no read: the ciphertext of "one" was remembered')
    assert.deepEqual(inner.expected, [stored])
    // And what it wrote is remembered in turn.
    assert.equal(await store.compareAndSet('k', 'two', 'three'), true)
    assert.equal(inner.gets, 0)
    assert.equal(await store.get('k'), 'three')
  })

  test('a stale remembered value falls back to reading; a wrong expectation is refused', async () => {
    const inner = new CountingStore()
    const store = new EncryptedStore(inner, cipher)
    await store.set('k', 'one')
    assert.equal(await store.compareAndSet('k', 'two', 'three'), false, 'expected value is not the stored one')
    assert.equal(inner.gets, 1, 'the remembered plaintext did not match: read once')
    assert.equal(await store.get('k'), 'one')
  })

  test('a compare-and-set that lost is not remembered: its ciphertext was never stored', async () => {
    const inner = new CountingStore()
    const store = new EncryptedStore(inner, cipher)
    await store.set('k', 'one')
    inner.failNext = 2 // the fast path and the re-read attempt both lose
    assert.equal(await store.compareAndSet('k', 'one', 'two'), false)
    inner.expected.length = 0
    assert.equal(await store.compareAndSet('k', 'two', 'three'), false)
    assert.deepEqual(inner.expected, [], '"two" was never stored, so nothing may be attempted on its behalf')
  })

  test('maxRemembered bounds the memory: 0 and negative remember nothing; 1 keeps only the latest key', async () => {
    for (const maxRemembered of [0, -5]) {
      const inner = new CountingStore()
      const store = new EncryptedStore(inner, cipher, { maxRemembered })
      await store.set('k', 'one')
      assert.equal(await store.compareAndSet('k', 'one', 'two'), true)
      assert.equal(inner.gets, 1, `maxRemembered ${maxRemembered}: had to read`)
    }
    const inner = new CountingStore()
    const store = new EncryptedStore(inner, cipher, { maxRemembered: 1.9 })
    await store.set('a', 'one')
    await store.set('b', 'one')
    assert.equal(await store.compareAndSet('b', 'one', 'two'), true)
    assert.equal(inner.gets, 0, 'b, the latest, is remembered')
    assert.equal(await store.compareAndSet('a', 'one', 'two'), true)
    assert.equal(inner.gets, 1, 'a was evicted by b (1.9 counts as 1)')
  })

  test('the default remembers many keys (1000)', async () => {
    const inner = new CountingStore()
    const store = new EncryptedStore(inner, cipher)
    for (let i = 0; i < 1000; i++) await store.set(`k${i}`, 'v')
    assert.equal(await store.compareAndSet('k0', 'v', 'w'), true)
    assert.equal(inner.gets, 0, 'k0 is still remembered after 999 more keys')
    await store.set('k1000', 'v')
    await store.set('k1001', 'v')
    assert.equal(await store.compareAndSet('k1', 'v', 'w'), true)
    assert.equal(inner.gets, 1, 'k1 was the oldest and was evicted')
  })

  test('delete forgets: a compare-and-set after a delete does not use a remembered ciphertext', async () => {
    const inner = new CountingStore()
    const store = new EncryptedStore(inner, cipher)
    await store.set('k', 'one')
    await store.delete('k')
    assert.equal(await inner.get('k'), undefined, 'deleted in the wrapped store')
    inner.expected.length = 0
    assert.equal(await store.compareAndSet('k', 'one', 'two'), false)
    assert.deepEqual(inner.expected, [], 'nothing was attempted with the forgotten ciphertext')
  })

  test('close closes the wrapped store and forgets everything', async () => {
    const inner = new CountingStore()
    const store = new EncryptedStore(inner, cipher)
    await store.set('k', 'one')
    await store.close()
    assert.equal(inner.closed, 1)
    inner.gets = 0
    assert.equal(await store.compareAndSet('k', 'one', 'two'), true)
    assert.equal(inner.gets, 1, 'forgotten on close: read again')
    await new EncryptedStore(new MemoryStore(), cipher).close() // a store without close() is fine too
  })
})
