// @ts-nocheck
import { ResourceTokensConfigError } from '../errors/resource-tokens-error.js'
import type { TokenStore } from '../stores/token-store.js'
import { EncryptedStore } from '../vault/encrypted-store.js'
import { RecordCipher } from '../vault/record-cipher.js'

/**
 * Puts encryption in front of every store that is not in-process memory. A persistent store without
 * secrets refuses to start: tokens must never rest in plain text outside this process.
 */
export function prepareStore(store: TokenStore, secrets: ReadonlyArray<string | Uint8Array> | undefined): TokenStore {
  if (typeof store !== 'object' || store === null || typeof store.get !== 'function' || typeof store.compareAndSet !== 'function' || typeof store.tryLock !== 'function') {
    throw new ResourceTokensConfigError('"store" must implement TokenStore')
  }
  if (store.inProcess === true) return store
  if (secrets === undefined) throw new ResourceTokensConfigError('"encryption.secrets" is required for a store that is not in-process memory')
  return new EncryptedStore(store, new RecordCipher({ secrets: [...secrets] }))
}
