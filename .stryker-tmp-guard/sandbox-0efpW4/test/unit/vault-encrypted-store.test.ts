// @ts-nocheck
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { ResourceTokensError } from '../../src/errors/resource-tokens-error.js'
import { MemoryStore } from '../../src/stores/memory-store.js'
import type { StoreWriteOptions, TokenStore } from '../../src/stores/token-store.js'
import { EncryptedStore } from '../../src/vault/encrypted-store.js'
import { RecordCipher } from '../../src/vault/record-cipher.js'

const cipher = new RecordCipher({ secrets: ['unit-test-secret-unit-test-secret-0001'] })

/** A MemoryStore that records the compare-and-set calls it receives. */
class SpyStore extends MemoryStore {
  readonly casCalls: Array<string | undefined> = []
  override compareAndSet(key: string, expected: string | undefined, value: string, options?: StoreWriteOptions): Promise<boolean> {
    this.casCalls.push(expected)
    return super.compareAndSet(key, expected, value, options)
  }
}

describe('EncryptedStore', () => {
  test('the wrapped store only ever sees ciphertext bound to the key', async () => {
    const inner = new MemoryStore()
    const store = new EncryptedStore(inner, cipher)
    await store.set('grant:a', 'plain-refresh-token')
    const raw = await inner.get('grant:a')
    assert.ok(raw !== undefined && raw.startsWith('v1.') && !raw.includes('plain-refresh-token'))
    assert.equal(cipher.decrypt('grant:a', raw), 'plain-refresh-token')
    assert.equal(await store.get('grant:a'), 'plain-refresh-token')
    assert.equal(store.inProcess, false)
  })

  test('compareAndSet compares plaintext although encryption is randomized', async () => {
    const inner = new MemoryStore()
    const a = new EncryptedStore(inner, cipher)
    const b = new EncryptedStore(inner, cipher)
    await a.set('k', 'one')
    // b never saw the record: it reads, decrypts and compares.
    assert.equal(await b.compareAndSet('k', 'one', 'two'), true)
    // a remembers "one", which is stale: its fast path fails and it falls back to reading.
    assert.equal(await a.compareAndSet('k', 'one', 'three'), false)
    assert.equal(await a.compareAndSet('k', 'two', 'three'), true)
    assert.equal(await b.get('k'), 'three')
    assert.equal(await b.compareAndSet('k', undefined, 'four'), false)
    assert.equal(await b.compareAndSet('missing', 'x', 'four'), false)
    assert.equal(await b.compareAndSet('missing', undefined, 'four'), true)
  })

  test('a remembered ciphertext saves the read; an unknown one costs exactly one', async () => {
    const inner = new SpyStore()
    const store = new EncryptedStore(inner, cipher)
    await store.set('k', 'one')
    const written = await inner.get('k')
    assert.equal(await store.compareAndSet('k', 'one', 'two'), true)
    assert.deepEqual(inner.casCalls, [written], 'the remembered ciphertext is the expected value')

    const forgetful = new EncryptedStore(inner, cipher, { maxRemembered: 0 })
    inner.casCalls.length = 0
    const current = await inner.get('k')
    assert.equal(await forgetful.compareAndSet('k', 'two', 'three'), true)
    assert.deepEqual(inner.casCalls, [current])
  })

  test('the memory of seen records is bounded', async () => {
    const inner = new SpyStore()
    const store = new EncryptedStore(inner, cipher, { maxRemembered: 2 })
    for (const key of ['k1', 'k2', 'k3']) await store.set(key, 'v')
    inner.casCalls.length = 0
    assert.equal(await store.compareAndSet('k1', 'v', 'w'), true) // k1 was forgotten: read, then swap
    assert.equal(inner.casCalls.length, 1)
    assert.equal(await store.compareAndSet('k3', 'v', 'w'), true)
    assert.equal(inner.casCalls.length, 2)
  })

  test('tampered records reject with decryption_failed on get, take and compareAndSet', async () => {
    const inner = new MemoryStore()
    const store = new EncryptedStore(inner, cipher)
    await inner.set('k', 'not a record')
    const failed = (error: unknown): boolean => error instanceof ResourceTokensError && error.code === 'decryption_failed'
    await assert.rejects(store.get('k'), failed)
    await assert.rejects(store.compareAndSet('k', 'x', 'y'), failed)
    await assert.rejects(store.take('k'), failed)
    assert.equal(await inner.get('k'), undefined, 'take removed it all the same')
  })

  test('locks and subscriptions pass through; subscribe is absent when the wrapped store lacks it', async () => {
    const inner = new MemoryStore()
    const store = new EncryptedStore(inner, cipher)
    const seen: string[] = []
    const unsubscribe = store.subscribe?.((key) => seen.push(key))
    await store.set('k', 'v')
    unsubscribe?.()
    await store.set('k', 'w')
    assert.deepEqual(seen, ['k'])
    assert.equal(await store.tryLock('lock:k', 'me', 1000), true)
    assert.equal(await inner.tryLock('lock:k', 'you', 1000), false)
    await store.unlock('lock:k', 'me')
    assert.equal(await inner.tryLock('lock:k', 'you', 1000), true)

    const bare: TokenStore = {
      get: async () => undefined,
      set: async () => {},
      delete: async () => {},
      take: async () => undefined,
      compareAndSet: async () => false,
      tryLock: async () => false,
      unlock: async () => {},
    }
    assert.equal('subscribe' in new EncryptedStore(bare, cipher), false)
  })
})
