import { randomUUID } from 'node:crypto'
import { setTimeout as sleep } from 'node:timers/promises'
import { ResourceTokensError } from '../errors/resource-tokens-error.js'
import type { TokenStore } from '../stores/token-store.js'
import { ATTR, SPAN } from '../telemetry/names.js'
import { NOOP_TELEMETRY, type Telemetry } from '../telemetry/telemetry.js'
import { guard } from './grant-repository.js'

/** Non-secret facts about a lock's use, for its spans: the grant reference and the resource being renewed. */
export interface LockLabels {
  grant?: string
  resource?: string
}

/**
 * The per-grant refresh lock. A refresh of any resource may rotate the grant's refresh token, so all
 * refreshes of one grant are serialized: first among the callers in this process (a promise chain, so
 * they queue without polling the store), then across processes through the store's expiring lock.
 * The store lock expires after `ttlMs` so a crashed holder cannot block the grant forever.
 */
export class GrantLock {
  readonly #store: TokenStore
  readonly #owner = randomUUID()
  readonly #local = new Map<string, Promise<void>>()
  readonly #ttlMs: number
  readonly #timeoutMs: number
  readonly #telemetry: Telemetry

  constructor(store: TokenStore, options: { ttlMs: number; timeoutMs: number; telemetry?: Telemetry }) {
    this.#store = store
    this.#ttlMs = options.ttlMs
    this.#timeoutMs = options.timeoutMs
    this.#telemetry = options.telemetry ?? NOOP_TELEMETRY
  }

  /**
   * Runs `task` while holding the lock `name`; rejects with `lock_timeout` when it cannot be won in time.
   * The wait and the hold are spans of their own (`task` runs inside the hold span) with their durations.
   */
  async run<T>(name: string, task: () => Promise<T>, labels: LockLabels = {}): Promise<T> {
    const previous = this.#local.get(name) ?? Promise.resolve()
    let release!: () => void
    const mine = new Promise<void>((resolve) => (release = resolve))
    const tail = previous.then(() => mine)
    this.#local.set(name, tail)
    try {
      await this.#telemetry.operation({ span: SPAN.lockAcquire, attributes: { [ATTR.grant]: labels.grant, [ATTR.resource]: labels.resource }, duration: 'lockWaitDuration' }, async (scope) => {
        const attempts = { count: 0 }
        try {
          await this.#wait(name, previous, attempts)
        } finally {
          scope.set({ [ATTR.lockAttempts]: attempts.count })
        }
      })
      // Keep the lock while the task runs (a refresh may take two provider calls); same-owner tryLock extends it.
      const heartbeat = setInterval(() => {
        this.#store.tryLock(name, this.#owner, this.#ttlMs).catch(() => undefined)
      }, Math.max(50, Math.floor(this.#ttlMs / 3)))
      heartbeat.unref()
      try {
        return await this.#telemetry.operation({ span: SPAN.lockHold, attributes: { [ATTR.grant]: labels.grant, [ATTR.resource]: labels.resource }, duration: 'lockHoldDuration' }, task)
      } finally {
        clearInterval(heartbeat)
        // A failed release only delays others until the lock expires; never mask the task's outcome.
        await this.#store.unlock(name, this.#owner).catch(() => undefined)
      }
    } finally {
      release()
      if (this.#local.get(name) === tail) this.#local.delete(name)
    }
  }

  /** Waits for this process's earlier holders, then wins the store lock; counts the store attempts. */
  async #wait(name: string, previous: Promise<void>, attempts: { count: number }): Promise<void> {
    // The deadline covers the wait behind this process's other refreshes of the grant too.
    const deadline = Date.now() + this.#timeoutMs
    let settled = false
    const timer = new AbortController()
    await Promise.race([
      previous.then(() => (settled = true)),
      sleep(this.#timeoutMs, undefined, { ref: false, signal: timer.signal }).catch(() => undefined),
    ])
    timer.abort()
    if (!settled) throw new ResourceTokensError('lock_timeout', 'timed out waiting for the grant refresh lock')
    await this.#acquire(name, deadline, attempts)
  }

  async #acquire(name: string, deadline: number, attempts: { count: number }): Promise<void> {
    let wait = 5
    for (;;) {
      attempts.count++
      let won: boolean
      try {
        won = await guard(() => this.#store.tryLock(name, this.#owner, this.#ttlMs))
      } catch (err) {
        // The attempt may still be applied later (a frozen Redis runs queued commands when it wakes): release
        // right behind it, so no lock of ours outlives a failed attempt. No task of ours holds it now.
        await this.#store.unlock(name, this.#owner).catch(() => undefined)
        throw err
      }
      if (won) return
      if (Date.now() + wait > deadline) {
        throw new ResourceTokensError('lock_timeout', 'timed out waiting for the grant refresh lock')
      }
      // Jittered backoff so that waiting processes do not poll in step.
      await sleep(wait + Math.floor(Math.random() * wait))
      wait = Math.min(wait * 2, 100)
    }
  }
}
