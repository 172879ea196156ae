import { createHash } from 'node:crypto'

/**
 * Store keys derived from the app's grant key. The app's key may be a session id, a credential in its
 * own right, so it is hashed: it never appears in the store, a log line or an event.
 */
export interface GrantKeys {
  /** Short, stable, non-secret name for logs and events. */
  readonly ref: string
  readonly grant: string
  readonly lock: string
  /** Key of one pending login transaction of this grant key, by its state. */
  transaction(state: string): string
}

/**
 * `namespace` separates clients that share a store (issuer and client id): a grant of one provider is
 * never found, used or revoked by a client of another.
 */
export function grantKeys(namespace: string, key: string): GrantKeys {
  // Memoized: the hot path asks for the same few keys again and again; the map is small and bounded.
  const memoKey = `${namespace}\0${key}`
  const known = memo.get(memoKey)
  if (known !== undefined) return known
  const keys = computeKeys(namespace, key)
  if (memo.size >= MEMO_SIZE) memo.clear()
  memo.set(memoKey, keys)
  return keys
}

const MEMO_SIZE = 1000
const memo = new Map<string, GrantKeys>()

function computeKeys(namespace: string, key: string): GrantKeys {
  const digest = createHash('sha256').update(namespace, 'utf8').update('\0').update(key, 'utf8').digest('base64url')
  return {
    ref: digest.slice(0, 12),
    grant: `grant:${digest}`,
    lock: `lock:grant:${digest}`,
    transaction: (state) => `tx:${digest}:${createHash('sha256').update(state, 'utf8').digest('base64url')}`,
  }
}
