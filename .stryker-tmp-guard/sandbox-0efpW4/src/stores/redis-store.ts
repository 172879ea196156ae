// @ts-nocheck
import { randomUUID } from 'node:crypto'
import { Redis, type Cluster } from 'ioredis'
import { ResourceTokensConfigError, ResourceTokensError } from '../errors/resource-tokens-error.js'
import type { StoreWriteOptions, TokenStore } from './token-store.js'

/** Options for {@link RedisStore}. Give exactly one of `client` and `url`. */
export interface RedisStoreOptions {
  /**
   * An ioredis client (`Redis`, with or without Sentinel, or `Cluster`). You own it: {@link RedisStore.close}
   * leaves it open. So that a Redis outage fails fast instead of queueing, create it with
   * `{ enableOfflineQueue: false, maxRetriesPerRequest: 1, commandTimeout: 2000 }`; the store also
   * enforces `commandTimeoutMs` by itself, but the client's queue would otherwise hold the commands.
   */
  client?: Redis | Cluster
  /**
   * A `redis://` or `rediss://` URL. The store creates, configures and owns the client, and closes it in
   * {@link RedisStore.close}.
   */
  url?: string
  /** Prefix of every key and of the change channel (`<prefix>changes`). Defaults to `'rt:'`. */
  keyPrefix?: string
  /** Expiry, in seconds, of records written without `ttlSeconds`. Defaults to none. */
  defaultTtlSeconds?: number
  /**
   * Milliseconds after which an operation rejects with `store_unavailable`, including the wait for a
   * connection being made. Defaults to 2000.
   */
  commandTimeoutMs?: number
  /**
   * After every write (records, locks, removals), wait until this many replicas have acknowledged it (Redis `WAIT`,
   * within `min(500, commandTimeoutMs)` ms) or reject with `store_unavailable`. With Sentinel (asynchronous
   * replication) this keeps a failover from silently losing a rotated refresh token or splitting a lock between
   * the old and the new master; see docs/STORES.md. Defaults to 0 (no waiting).
   */
  waitReplicas?: number
}

type Client = Redis | Cluster

/** The Lua scripts below, as ioredis adds them to the client with `defineCommand` (run with EVALSHA). */
interface ScriptCommands {
  resourceTokensSet(key: string, value: string, ttlMs: string, channel: string, name: string): Promise<number>
  resourceTokensDelete(key: string, channel: string, name: string): Promise<number>
  resourceTokensTake(key: string, channel: string, name: string): Promise<string | null>
  resourceTokensCompareAndSet(
    key: string,
    hasExpected: '0' | '1',
    expected: string,
    value: string,
    ttlMs: string,
    channel: string,
    name: string,
  ): Promise<number>
  resourceTokensTryLock(key: string, owner: string, ttlMs: string): Promise<number>
  resourceTokensUnlock(key: string, owner: string): Promise<number>
}

// Every script touches exactly one key (KEYS[1]); ARGV carries the change channel and the message (`<origin> <unprefixed key>`)
// to publish. Writes and their notification happen atomically, in one round trip.
const SCRIPTS: Record<keyof ScriptCommands, string> = {
  resourceTokensSet: `
if ARGV[2] == '' then redis.call('SET', KEYS[1], ARGV[1]) else redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2]) end
redis.call('PUBLISH', ARGV[3], ARGV[4])
return 1`,
  resourceTokensDelete: `
local removed = redis.call('DEL', KEYS[1])
if removed == 1 then redis.call('PUBLISH', ARGV[1], ARGV[2]) end
return removed`,
  resourceTokensTake: `
local value = redis.call('GETDEL', KEYS[1])
if value then redis.call('PUBLISH', ARGV[1], ARGV[2]) end
return value`,
  resourceTokensCompareAndSet: `
local current = redis.call('GET', KEYS[1])
if ARGV[1] == '0' then
  if current then return 0 end
elseif current ~= ARGV[2] then
  return 0
end
if ARGV[4] == '' then redis.call('SET', KEYS[1], ARGV[3]) else redis.call('SET', KEYS[1], ARGV[3], 'PX', ARGV[4]) end
redis.call('PUBLISH', ARGV[5], ARGV[6])
return 1`,
  resourceTokensTryLock: `
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then return 1 end
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return 1
end
return 0`,
  resourceTokensUnlock: `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0`,
}

/** The key passed to change listeners after the subscriber reconnects: anything may have changed. */
const ALL_KEYS = '*'
const DEFAULT_TIMEOUT_MS = 2000
/** Longest `WAIT` for replicas, so that a write is not held for the whole command timeout by a lagging replica. */
const WAIT_TIMEOUT_MS = 500

/**
 * A {@link TokenStore} on Redis through ioredis: a single server, Sentinel or Cluster, whatever the
 * given client speaks. Needs Redis 6.2 or later (`GETDEL`). Records must reach it encrypted (wrap it in
 * an `EncryptedStore`); it is not `inProcess`.
 *
 * - `get`/`set`/`delete`/`take`/`compareAndSet` are `GET`, `SET … PX`, `DEL`, `GETDEL` and a compare-then-`SET`
 *   Lua script; every write also publishes `<origin> <unprefixed key>` on the channel `<prefix>changes`, in the
 *   same script, which is what {@link RedisStore.subscribe} listens to.
 * - Each script touches a single key, so in a Cluster no hash tags are needed: a script never spans slots.
 * - Any Redis error, a lost connection or a command slower than `commandTimeoutMs` rejects with
 *   `store_unavailable` (never a hang, never a guess). ioredis reconnects by itself; operations work again
 *   as soon as it has.
 *
 * Why no lock library: `tryLock` is `SET name owner NX PX ttl` with an owner-checked extend and release in Lua.
 * Redlock, the usual choice, is unmaintained and only in beta for ioredis 5, and Redis's own documentation
 * recommends exactly this single-instance pattern when the Redlock multi-master algorithm is not used;
 * the expiry frees a lock whose holder crashed.
 *
 * @example
 * ```ts
 * import { RedisStore } from 'resource-tokens/redis'
 * const store = new RedisStore({ url: process.env.REDIS_URL!, keyPrefix: 'myapp:rt:' })
 * ```
 */
export class RedisStore implements TokenStore {
  /** Always `false`: records live in Redis, so they must be encrypted. */
  readonly inProcess = false
  readonly #client: Client
  readonly #commands: ScriptCommands
  readonly #ownsClient: boolean
  readonly #prefix: string
  readonly #channel: string
  readonly #defaultTtlSeconds: number | undefined
  readonly #timeoutMs: number
  readonly #waitReplicas: number
  readonly #listeners = new Set<(key: string) => void>()
  /** Tells this store's own notifications from others' (its listeners hear its writes at once, not by echo). */
  readonly #origin = randomUUID()
  #subscriber: Client | undefined
  #connecting: Promise<void> | undefined
  #closed = false

  /**
   * @throws {ResourceTokensConfigError} `invalid_config` when neither or both of `client` and `url` are given,
   *   or an option has the wrong type or range.
   */
  constructor(options: RedisStoreOptions) {
    const { client, url, keyPrefix = 'rt:', defaultTtlSeconds, commandTimeoutMs = DEFAULT_TIMEOUT_MS, waitReplicas = 0 } = options ?? {}
    if ((client === undefined) === (url === undefined)) {
      throw new ResourceTokensConfigError('redis store needs exactly one of "client" and "url"')
    }
    if (typeof keyPrefix !== 'string') throw new ResourceTokensConfigError('"keyPrefix" must be a string')
    if (defaultTtlSeconds !== undefined && !(Number.isFinite(defaultTtlSeconds) && defaultTtlSeconds > 0)) {
      throw new ResourceTokensConfigError('"defaultTtlSeconds" must be a positive number')
    }
    if (!(Number.isFinite(commandTimeoutMs) && commandTimeoutMs > 0)) {
      throw new ResourceTokensConfigError('"commandTimeoutMs" must be a positive number')
    }
    if (!(Number.isSafeInteger(waitReplicas) && waitReplicas >= 0)) {
      throw new ResourceTokensConfigError('"waitReplicas" must be a non-negative integer')
    }
    this.#waitReplicas = waitReplicas
    this.#prefix = keyPrefix
    this.#channel = `${keyPrefix}changes`
    this.#defaultTtlSeconds = defaultTtlSeconds
    this.#timeoutMs = commandTimeoutMs

    if (url !== undefined) {
      if (typeof url !== 'string' || !/^rediss?:\/\//.test(url)) {
        throw new ResourceTokensConfigError('"url" must be a redis:// or rediss:// url')
      }
      this.#client = new Redis(url, {
        commandTimeout: commandTimeoutMs,
        maxRetriesPerRequest: 1,
        enableOfflineQueue: false,
        connectTimeout: commandTimeoutMs,
        // Reconnect soon after an outage, but do not hammer a server that stays down.
        retryStrategy: (attempt) => Math.min(attempt * 100, 1000),
      })
      // Errors surface through the rejected operations; without a listener ioredis prints each one.
      this.#client.on('error', ignore)
      this.#ownsClient = true
    } else {
      if (typeof client !== 'object' || client === null || typeof client.defineCommand !== 'function') {
        throw new ResourceTokensConfigError('"client" must be an ioredis Redis or Cluster instance')
      }
      this.#client = client
      this.#ownsClient = false
    }
    for (const [name, lua] of Object.entries(SCRIPTS)) this.#client.defineCommand(name, { lua, numberOfKeys: 1 })
    this.#commands = this.#client as unknown as ScriptCommands
  }

  /** @throws {ResourceTokensError} `store_unavailable` on any Redis failure. */
  get(key: string): Promise<string | undefined> {
    return this.#run(async () => (await this.#client.get(this.#key(key))) ?? undefined)
  }

  /** @throws {ResourceTokensError} `store_unavailable` on any Redis failure. */
  async set(key: string, value: string, options: StoreWriteOptions = {}): Promise<void> {
    const ttlMs = this.#ttlMs(options)
    return this.#run(async () => {
      await this.#write('resourceTokensSet', [this.#key(key), value, ttlMs, this.#channel, this.#message(key)])
      this.#notify(key)
    })
  }

  /** @throws {ResourceTokensError} `store_unavailable` on any Redis failure. */
  delete(key: string): Promise<void> {
    return this.#run(async () => {
      if ((await this.#write('resourceTokensDelete', [this.#key(key), this.#channel, this.#message(key)])) === 1) this.#notify(key)
    })
  }

  /** `GETDEL`, so of two concurrent callers exactly one gets the value. @throws {ResourceTokensError} `store_unavailable`. */
  take(key: string): Promise<string | undefined> {
    return this.#run(async () => {
      const value = ((await this.#write('resourceTokensTake', [this.#key(key), this.#channel, this.#message(key)])) as string | null) ?? undefined
      if (value !== undefined) this.#notify(key)
      return value
    })
  }

  /** One Lua script: compare the current value byte for byte, then write. @throws {ResourceTokensError} `store_unavailable`. */
  async compareAndSet(key: string, expected: string | undefined, value: string, options: StoreWriteOptions = {}): Promise<boolean> {
    const ttlMs = this.#ttlMs(options)
    return this.#run(async () => {
      const written = await this.#write('resourceTokensCompareAndSet', [
        this.#key(key),
        expected === undefined ? '0' : '1',
        expected ?? '',
        value,
        ttlMs,
        this.#channel,
        this.#message(key),
      ])
      if (written === 1) this.#notify(key)
      return written === 1
    })
  }

  /** `SET NX PX`, or `PEXPIRE` when `owner` already holds it. @throws {ResourceTokensError} `store_unavailable`. */
  async tryLock(name: string, owner: string, ttlMs: number): Promise<boolean> {
    const px = milliseconds(ttlMs)
    return this.#run(async () => (await this.#write('resourceTokensTryLock', [this.#key(name), owner, px])) === 1)
  }

  /** Deletes the lock only if `owner` still holds it. @throws {ResourceTokensError} `store_unavailable`. */
  unlock(name: string, owner: string): Promise<void> {
    return this.#run(async () => {
      await this.#commands.resourceTokensUnlock(this.#key(name), owner)
    })
  }

  /**
   * Calls `listener` with the key of every record written or removed through any `RedisStore` with the
   * same prefix on the same Redis (expiry is not reported). The first call opens a second connection
   * (`duplicate()`) for `SUBSCRIBE`. When that connection comes back after a loss, `listener` is called
   * with `'*'`: changes may have been missed, so treat everything as changed.
   *
   * @returns A function that removes `listener`; the connection closes when the last listener goes.
   */
  subscribe(listener: (key: string) => void): () => void {
    if (this.#closed) return () => {}
    this.#listeners.add(listener)
    this.#subscriber ??= this.#openSubscriber()
    return () => {
      if (!this.#listeners.delete(listener) || this.#listeners.size > 0) return
      this.#subscriber?.disconnect()
      this.#subscriber = undefined
    }
  }

  /**
   * Closes the subscriber connection and, when the store created the client (from `url`), the client.
   * Operations afterwards reject with `store_unavailable`.
   */
  async close(): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    this.#listeners.clear()
    this.#subscriber?.disconnect()
    this.#subscriber = undefined
    if (!this.#ownsClient) return
    try {
      if (this.#client.status === 'ready') await this.#client.quit()
    } catch {
      // Already gone: nothing to say goodbye to.
    }
    this.#client.disconnect()
  }

  /**
   * Runs a write script; with `waitReplicas`, pipelined with `WAIT` on the same connection (in a Cluster, the
   * key's node: `WAIT` has no key of its own) and rejected unless enough replicas acknowledged it.
   */
  async #write(script: keyof ScriptCommands, args: string[]): Promise<unknown> {
    if (this.#waitReplicas === 0) return (this.#commands[script] as (...a: string[]) => Promise<unknown>)(...args)
    const pipeline = this.#client.pipeline() as unknown as Record<string, (...a: unknown[]) => unknown> & { exec(): Promise<Array<[Error | null, unknown]> | null> }
    ;(pipeline[script] as (...a: string[]) => unknown).call(pipeline, ...args)
    ;(pipeline['call'] as (...a: unknown[]) => unknown).call(pipeline, 'WAIT', this.#waitReplicas, Math.min(WAIT_TIMEOUT_MS, this.#timeoutMs))
    const replies = (await pipeline.exec()) ?? []
    const [written, waited] = replies
    if (written?.[0]) throw written[0]
    if (waited?.[0]) throw waited[0]
    if (Number(waited?.[1]) < this.#waitReplicas) {
      throw storeUnavailable(`write acknowledged by ${Number(waited?.[1])} of ${this.#waitReplicas} replicas`)
    }
    return written?.[1]
  }

  #key(key: string): string {
    return this.#prefix + key
  }

  #ttlMs(options: StoreWriteOptions): string {
    const ttlSeconds = options.ttlSeconds ?? this.#defaultTtlSeconds
    return ttlSeconds === undefined ? '' : milliseconds(ttlSeconds * 1000)
  }

  #openSubscriber(): Client {
    const subscriber = this.#client.isCluster
      ? (this.#client as Cluster).duplicate()
      : (this.#client as Redis).duplicate({ enableOfflineQueue: true, autoResubscribe: false, lazyConnect: false })
    subscriber.on('error', ignore)
    subscriber.on('message', (channel: string, message: string) => {
      if (channel !== this.#channel) return
      // `<origin> <key>`: our own writes were announced to our listeners already, when they completed.
      const space = message.indexOf(' ')
      if (space === -1) this.#notify(message)
      else if (message.slice(0, space) !== this.#origin) this.#notify(message.slice(space + 1))
    })
    // (Re)subscribe on every connection, and then tell listeners they may have missed changes: before the first
    // subscription too, since records read before it was active were never covered by notifications.
    subscriber.on('ready', () => {
      subscriber.subscribe(this.#channel).then(() => this.#notify(ALL_KEYS), ignore)
    })
    return subscriber
  }

  /** What a write publishes: this store's origin and the unprefixed key. */
  #message(key: string): string {
    return `${this.#origin} ${key}`
  }

  #notify(key: string): void {
    for (const listener of this.#listeners) {
      try {
        listener(key)
      } catch {
        // A failing listener must not keep the others, or ioredis's reader, from running.
      }
    }
  }

  /** Runs one operation within `commandTimeoutMs`, mapping every failure to `store_unavailable`. */
  async #run<T>(operation: () => Promise<T>): Promise<T> {
    if (this.#closed) throw storeUnavailable('store is closed')
    let timer: NodeJS.Timeout | undefined
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(storeUnavailable('command timed out')), this.#timeoutMs)
    })
    try {
      return await Promise.race([this.#connected().then(operation), deadline])
    } catch (error) {
      throw toStoreUnavailable(error)
    } finally {
      clearTimeout(timer)
    }
  }

  /** Resolves when the client is ready; waits only while a connection is being made, never for a reconnect. */
  #connected(): Promise<void> {
    const client = this.#client
    switch (client.status) {
      case 'ready':
        return Promise.resolve()
      case 'wait':
      case 'connecting':
      case 'connect':
        return (this.#connecting ??= new Promise<void>((resolve, reject) => {
          const settle = (error?: ResourceTokensError): void => {
            client.off('ready', onReady)
            client.off('close', onClose)
            client.off('end', onClose)
            this.#connecting = undefined
            if (error === undefined) resolve()
            else reject(error)
          }
          const onReady = (): void => settle()
          const onClose = (): void => settle(storeUnavailable('not connected'))
          client.on('ready', onReady)
          client.on('close', onClose)
          client.on('end', onClose)
          if (client.status === 'wait') client.connect().catch(ignore)
        }))
      default:
        return Promise.reject(storeUnavailable('not connected'))
    }
  }
}

function milliseconds(ms: number): string {
  // A programming error, not an outage: rejects with this TypeError, not store_unavailable.
  if (!Number.isFinite(ms)) throw new TypeError('ttl must be a finite number')
  // Redis refuses a zero or negative expiry; the nearest thing is an immediate one.
  return String(Math.max(1, Math.ceil(ms)))
}

function ignore(): void {}

function storeUnavailable(reason: string, cause?: unknown): ResourceTokensError {
  return new ResourceTokensError('store_unavailable', `redis store unavailable: ${reason}`, cause === undefined ? {} : { cause })
}

function toStoreUnavailable(error: unknown): ResourceTokensError {
  if (error instanceof ResourceTokensError) return error
  if (!(error instanceof Error)) return storeUnavailable('unexpected failure', error)
  return storeUnavailable(reasonOf(error), redacted(error))
}

function reasonOf(error: Error): string {
  if (error.name === 'ReplyError') return `server replied ${error.message.split(' ', 1)[0] ?? 'an error'}`
  if (/timed? ?out/i.test(error.message)) return 'command timed out'
  return 'not connected'
}

/** ioredis attaches the command and its arguments (values, lock owners) to errors; keep them out of logs. */
function redacted(error: Error): Error {
  if (!('command' in error)) return error
  const copy = new Error(error.message)
  copy.name = error.name
  return copy
}
