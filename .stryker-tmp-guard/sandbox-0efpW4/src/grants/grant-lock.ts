// @ts-nocheck
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
 * What a task running under the lock can ask about it. `held()` turns false as soon as this process can no
 * longer be sure it holds the store lock: a heartbeat found it taken by another owner, or no heartbeat has
 * confirmed it for longer than its TTL (an event-loop stall, an unreachable store). Check it right before
 * sending anything another holder might send too (a refresh token).
 */
export interface LockLease {
  held(): boolean
}

interface Queue {
  tail: Promise<void>
  /** When the last store failure of this queue happened; callers queued before it share it. */
  failedAt: number
  failure: ResourceTokensError | undefined
}

/**
 * The per-grant refresh lock. A refresh of any resource may rotate the grant's refresh token, so all
 * refreshes of one grant are serialized: first among the callers in this process (a promise chain, so
 * they queue without polling the store), then across processes through the store's expiring lock.
 *
 * - The store lock expires after `ttlMs` so a crashed holder blocks the grant for at most that long; a live
 *   holder keeps it with a heartbeat every `ttlMs / 3`, so a short TTL costs it nothing.
 * - Each acquisition has an owner of its own, so a late release of an earlier acquisition can never free a
 *   later one.
 * - Best-effort clean-ups (releasing after a failed attempt or after the task) never hold the caller.
 * - A store failure fails the callers that were queued behind it in this process too, at once: they were
 *   waiting for the same unreachable store, and each would otherwise wait out its own timeout in turn.
 */
export class GrantLock {
  readonly #store: TokenStore
  readonly #owner = randomUUID()
  #acquisitions = 0
  readonly #local = new Map<string, Queue>()
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
  async run<T>(name: string, task: (lease: LockLease) => Promise<T>, labels: LockLabels = {}): Promise<T> {
    const enqueuedAt = performance.now()
    let queue = this.#local.get(name)
    if (queue === undefined) {
      queue = { tail: Promise.resolve(), failedAt: -Infinity, failure: undefined }
      this.#local.set(name, queue)
    }
    const previous = queue.tail
    let release!: () => void
    const mine = new Promise<void>((resolve) => (release = resolve))
    const tail = previous.then(() => mine)
    queue.tail = tail
    let released = false
    let releasing = false
    const done = (): void => {
      if (released) return
      released = true
      release()
      if (this.#local.get(name)?.tail === tail) this.#local.delete(name)
    }
    const spanAttributes = { [ATTR.grant]: labels.grant, [ATTR.resource]: labels.resource }
    try {
      const owner = `${this.#owner}:${++this.#acquisitions}`
      const askedAt = await this.#telemetry.operation({ span: SPAN.lockAcquire, attributes: spanAttributes, duration: 'lockWaitDuration' }, async (scope) => {
        const attempts = { count: 0 }
        try {
          return await this.#wait(name, owner, queue, previous, enqueuedAt, attempts)
        } finally {
          scope.set({ [ATTR.lockAttempts]: attempts.count })
        }
      })
      const lease = this.#keepAlive(name, owner, askedAt)
      // From here on the release moves the local queue on, once it has settled; the caller has its outcome at once.
      releasing = true
      try {
        return await this.#telemetry.operation({ span: SPAN.lockHold, attributes: spanAttributes, duration: 'lockHoldDuration' }, () => task(lease))
      } catch (err) {
        this.#noteFailure(queue, err)
        throw err
      } finally {
        lease.stop()
        this.#release(name, owner, queue, done)
      }
    } finally {
      if (!releasing) done()
    }
  }

  /**
   * Waits behind this process's earlier holders, then wins the store lock; counts the store attempts.
   * Resolves with the time (performance.now) at which the winning attempt was sent.
   */
  async #wait(name: string, owner: string, queue: Queue, previous: Promise<void>, enqueuedAt: number, attempts: { count: number }): Promise<number> {
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
    const shared = queue.failure
    if (shared !== undefined && queue.failedAt >= enqueuedAt) {
      throw new ResourceTokensError(shared.code, shared.message, { cause: shared })
    }
    try {
      return await this.#acquire(name, owner, deadline, attempts)
    } catch (err) {
      this.#noteFailure(queue, err)
      throw err
    }
  }

  /** Releases the store lock without holding anyone; the local queue moves on once it settled (bounded by the store's timeout). */
  #release(name: string, owner: string, queue: Queue, done: () => void): void {
    attempt(() => this.#store.unlock(name, owner)).then(
      () => done(),
      (err: unknown) => {
        // A failed release only delays others until the lock expires; those queued here would meet the same store.
        this.#noteFailure(queue, err, true)
        done()
      },
    )
  }

  #noteFailure(queue: Queue, err: unknown, storeCall = false): void {
    const failure =
      err instanceof ResourceTokensError ? err : storeCall ? new ResourceTokensError('store_unavailable', 'token store unavailable', { cause: err }) : undefined
    if (failure?.code !== 'store_unavailable') return
    queue.failure = failure
    queue.failedAt = performance.now()
  }

  /** Extends the lock every `ttlMs / 3` while the task runs (same-owner tryLock extends it) and tracks whether it is still ours. */
  #keepAlive(name: string, owner: string, acquiredAskedAt: number): LockLease & { stop(): void } {
    // A confirmation counts from when it was asked, not from when the answer came: the TTL ran from then.
    let confirmedAt = acquiredAskedAt
    let lost = false
    let inFlight = false
    const heartbeat = setInterval(
      () => {
        if (inFlight || lost) return
        inFlight = true
        const askedAt = performance.now()
        // Lapsed before this heartbeat was even sent (a stall): another owner may have held it meanwhile, so a
        // heartbeat that wins it back does not make it ours again.
        if (askedAt >= confirmedAt + this.#ttlMs) lost = true
        attempt(() => this.#store.tryLock(name, owner, this.#ttlMs)).then(
          (won) => {
            inFlight = false
            if (won) confirmedAt = Math.max(confirmedAt, askedAt)
            else lost = true
          },
          () => {
            inFlight = false
          },
        )
      },
      Math.max(50, Math.floor(this.#ttlMs / 3)),
    )
    heartbeat.unref()
    return {
      held: () => !lost && performance.now() < confirmedAt + this.#ttlMs,
      stop: () => clearInterval(heartbeat),
    }
  }

  /** Resolves with the time (performance.now) at which the winning attempt was sent. */
  async #acquire(name: string, owner: string, deadline: number, attempts: { count: number }): Promise<number> {
    let wait = 5
    for (;;) {
      attempts.count++
      let won: boolean
      const askedAt = performance.now()
      try {
        won = await guard(() => this.#store.tryLock(name, owner, this.#ttlMs))
      } catch (err) {
        // The attempt may still be applied later (a frozen Redis runs queued commands when it wakes): release
        // right behind it, so no lock of ours outlives a failed attempt. Not awaited: it would wait out the
        // same unreachable store, and the caller has its answer already.
        attempt(() => this.#store.unlock(name, owner)).catch(() => undefined)
        throw err
      }
      if (won) return askedAt
      if (Date.now() + wait > deadline) {
        throw new ResourceTokensError('lock_timeout', 'timed out waiting for the grant refresh lock')
      }
      // Jittered backoff so that waiting processes do not poll in step.
      await sleep(wait + Math.floor(Math.random() * wait))
      wait = Math.min(wait * 2, 100)
    }
  }
}

/** Calls a store method; a synchronous throw (a store that is not async all the way) becomes a rejection. */
function attempt<T>(call: () => Promise<T>): Promise<T> {
  return new Promise<T>((resolve) => resolve(call()))
}
