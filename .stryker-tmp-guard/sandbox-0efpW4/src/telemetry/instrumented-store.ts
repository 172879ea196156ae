// @ts-nocheck
import type { StoreWriteOptions, TokenStore } from '../stores/token-store.js'
import { errorType } from './error-facts.js'
import { ATTR, storeSpanName, type StoreOperation } from './names.js'
import type { Telemetry } from './telemetry.js'

/**
 * A store that reports each operation: a span (child of the active context) with its duration and failures
 * as metrics. Lock polling (`tryLock`, `unlock`, and the lock heartbeat) is measured but gets no span of its
 * own: the lock's spans say how long it took and how many attempts. Keys are never recorded (the grant
 * reference on the parent span names the grant).
 */
export class InstrumentedStore implements TokenStore {
  readonly #store: TokenStore
  readonly #telemetry: Telemetry
  // Present only when the wrapped store has them: callers test for their presence.
  declare readonly inProcess?: boolean
  declare readonly subscribe?: (listener: (key: string) => void) => () => void
  declare readonly close?: () => Promise<void>

  constructor(store: TokenStore, telemetry: Telemetry) {
    this.#store = store
    this.#telemetry = telemetry
    const optional: { inProcess?: boolean; subscribe?: InstrumentedStore['subscribe']; close?: InstrumentedStore['close'] } = {}
    if (store.inProcess !== undefined) optional.inProcess = store.inProcess
    if (store.subscribe !== undefined) optional.subscribe = (listener) => store.subscribe!(listener)
    if (store.close !== undefined) optional.close = () => store.close!()
    Object.assign(this, optional)
  }

  get(key: string): Promise<string | undefined> {
    return this.#traced('get', () => this.#store.get(key))
  }

  set(key: string, value: string, options?: StoreWriteOptions): Promise<void> {
    return this.#traced('set', () => this.#store.set(key, value, options))
  }

  delete(key: string): Promise<void> {
    return this.#traced('delete', () => this.#store.delete(key))
  }

  take(key: string): Promise<string | undefined> {
    return this.#traced('take', () => this.#store.take(key))
  }

  compareAndSet(key: string, expected: string | undefined, value: string, options?: StoreWriteOptions): Promise<boolean> {
    return this.#traced('compare_and_set', () => this.#store.compareAndSet(key, expected, value, options))
  }

  tryLock(name: string, owner: string, ttlMs: number): Promise<boolean> {
    return this.#measured('try_lock', () => this.#store.tryLock(name, owner, ttlMs))
  }

  unlock(name: string, owner: string): Promise<void> {
    return this.#measured('unlock', () => this.#store.unlock(name, owner))
  }

  #traced<T>(operation: StoreOperation, fn: () => Promise<T>): Promise<T> {
    return this.#telemetry.operation(
      { span: storeSpanName(operation), dimensions: { [ATTR.storeOperation]: operation }, duration: 'storeOperationDuration', failures: 'storeFailures' },
      fn,
    )
  }

  async #measured<T>(operation: StoreOperation, fn: () => Promise<T>): Promise<T> {
    const started = performance.now()
    let failure: string | undefined
    try {
      return await fn()
    } catch (err) {
      failure = errorType(err)
      this.#telemetry.count('storeFailures', { [ATTR.storeOperation]: operation, [ATTR.errorType]: failure })
      throw err
    } finally {
      this.#telemetry.record('storeOperationDuration', (performance.now() - started) / 1000, { [ATTR.storeOperation]: operation, [ATTR.outcome]: failure ?? 'ok' })
    }
  }
}

/** The store, instrumented when telemetry is on; the same object when it is off (no cost). */
export function instrumentStore(store: TokenStore, telemetry: Telemetry): TokenStore {
  return telemetry.enabled ? new InstrumentedStore(store, telemetry) : store
}
