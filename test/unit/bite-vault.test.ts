// Issue 19: EncryptedStore around a store without the optional `close` (StrykerJS showed that no test
// reached that case: the `close` of MemoryStore exists). Imports src/ (the `resource-tokens` entry resolves
// to the built dist/, which StrykerJS does not mutate).
import assert from 'node:assert/strict'
import { test } from 'node:test'

import { MemoryStore } from '../../src/stores/memory-store.js'
import type { TokenStore } from '../../src/stores/token-store.js'
import { EncryptedStore } from '../../src/vault/encrypted-store.js'
import { RecordCipher } from '../../src/vault/record-cipher.js'

test('EncryptedStore.close() on a wrapped store that has no close() resolves, and the store still works', async () => {
  const memory = new MemoryStore()
  // A TokenStore with only the required members: `close` (and `subscribe`) are optional in the interface.
  const bare: TokenStore = {
    get: (key) => memory.get(key),
    set: (key, value, options) => memory.set(key, value, options),
    delete: (key) => memory.delete(key),
    take: (key) => memory.take(key),
    compareAndSet: (key, expected, value, options) => memory.compareAndSet(key, expected, value, options),
    tryLock: (name, owner, ttlMs) => memory.tryLock(name, owner, ttlMs),
    unlock: (name, owner) => memory.unlock(name, owner),
  }
  assert.equal('close' in bare, false)
  const store = new EncryptedStore(bare, new RecordCipher({ secrets: ['bite-vault-test-secret-0123456789abcdef'] }))
  await store.set('k', 'secret value')
  assert.notEqual(await memory.get('k'), 'secret value', 'sealed in the wrapped store')
  await store.close()
  assert.equal(await store.get('k'), 'secret value', 'read and decrypted again after close forgot what it remembered')
})
