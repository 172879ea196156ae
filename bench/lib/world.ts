import { setPriority } from 'node:os'
import { createResourceClient, MemoryStore, type ResourceClient, type ResourceClientOptions, type ResourceDefinition } from 'resource-tokens'
import { RedisStore } from 'resource-tokens/redis'
import type { TestProviderOptions, TestResource, TokenFault, TokenRequestRecord } from '../../test/support/provider.js'
import { startRedis, type TestRedis } from '../../test/support/redis.js'
import { callWorker, startWorker, type Worker } from './child.js'
import type { Cleanup } from './cleanup.js'

/** The encryption secret every Redis-backed client of the benchmark uses (users must configure one too). */
export const ENCRYPTION_SECRET = 'bench-encryption-secret-0123456789abcdef'
/** The provider worker's niceness (lower priority than the client, the resource server and Redis). */
export const PROVIDER_NICENESS = 10
/** Prefix of every key the benchmark writes to Redis. */
export const KEY_PREFIX = 'bench:rt:'

export type StoreKind = 'memory' | 'redis'

/** One pair of resources (contacts, calendar) on the benchmark's resource server, registered at the provider. */
export interface ResourceGroup {
  readonly name: string
  readonly contacts: string
  readonly calendar: string
  readonly definitions: ResourceDefinition[]
}

export interface ClientOptions {
  store: StoreKind
  group: ResourceGroup
  /** In-process grant cache size (default: the library's). */
  cacheSize?: number
  /** Redis key prefix (default `KEY_PREFIX`). */
  keyPrefix?: string
  /** Redis database number (default 0). */
  redisDb?: number
  /**
   * An undici dispatcher for the requests to resources (the `dispatcher` option of issue 17). Given to
   * versions without it too, which ignore unknown options.
   */
  dispatcher?: unknown
  /** The client's `fetch` option (default: the global fetch). */
  fetch?: typeof fetch
}

/** The test provider, running in a worker process. */
export interface Provider {
  readonly issuer: string
  readonly clientId: string
  readonly clientSecret: string
  readonly redirectUri: string
  /** Headless login: follows the authorization URL to the callback URL. */
  login(url: URL): Promise<string>
  /** How many token-endpoint requests so far: a mark for `tokenRequests`. */
  tokenRequestCount(): Promise<number>
  tokenRequests(since: number): Promise<TokenRequestRecord[]>
  /** Refresh tokens presented after they had been rotated away: must stay 0. */
  reusedRefreshTokens(): Promise<number>
  /** An outage: every token request arriving between `from` and `until` (epoch ms) gets `fault`. */
  failTokenRequestsBetween(from: number, until: number, fault: TokenFault): Promise<void>
}

/** Everything the benchmark runs against, all on 127.0.0.1. */
export interface World {
  readonly op: Provider
  readonly redis: TestRedis
  readonly resourceServer: string
  /** Registers two resources under `/<name>/` at the provider. */
  group(name: string): Promise<ResourceGroup>
  /** The client options for `group` without a store (workers build the same client from these). */
  clientOptions(group: ResourceGroup): ResourceClientOptions
  client(options: ClientOptions): Promise<ResourceClient>
  login(client: ResourceClient, key: string): Promise<void>
  /** Token-endpoint requests since the mark `since` for `group`'s resources, or all of them. */
  tokenRequests(since: number, group?: ResourceGroup): Promise<TokenRequestRecord[]>
  /** Connections the resource server accepted and requests it answered so far. */
  resourceServerCounters(): Promise<{ connections: number; requests: number }>
  /**
   * The same Redis and resource server with another provider (e.g. `{ accessTokenTTL: 20 }`: the test
   * provider's token lifetime is one setting for all resources).
   */
  withProvider(options: TestProviderOptions): Promise<World>
}

/** Starts redis-server, the test provider and the resource server; `cleanup` stops them. */
export async function startWorld(cleanup: Cleanup): Promise<World> {
  const redis = await startRedis()
  cleanup.defer('redis-server', () => redis.stop())
  const serverWorker = startWorker('resource-server', cleanup)
  const { port } = await serverWorker.next<{ port: number }>('listening')
  return worldWith(cleanup, redis, { url: `http://127.0.0.1:${port}`, worker: serverWorker }, {})
}

async function worldWith(cleanup: Cleanup, redis: TestRedis, server: { url: string; worker: Worker }, providerOptions: TestProviderOptions): Promise<World> {
  const resourceServer = server.url
  const providerWorker = startWorker('provider', cleanup)
  // The provider stands in for a remote server: its CPU work (signing tokens) must not preempt the client under
  // measurement or the resource server on this machine's few cores. It runs when a core is free.
  if (providerWorker.pid !== undefined) setPriority(providerWorker.pid, PROVIDER_NICENESS)
  providerWorker.send(providerOptions)
  const info = await providerWorker.next<{ issuer: string; clientId: string; clientSecret: string; redirectUri: string }>('ready')

  const op: Provider = {
    issuer: info.issuer,
    clientId: info.clientId,
    clientSecret: info.clientSecret,
    redirectUri: info.redirectUri,
    login: (url) => callWorker(providerWorker, 'login', url.href),
    tokenRequestCount: () => callWorker(providerWorker, 'tokenRequestCount'),
    tokenRequests: (since) => callWorker(providerWorker, 'tokenRequests', since),
    reusedRefreshTokens: () => callWorker(providerWorker, 'reusedRefreshTokens'),
    failTokenRequestsBetween: (from, until, fault) => callWorker(providerWorker, 'failTokenRequestsBetween', from, until, fault),
  }
  const register = (resource: TestResource): Promise<void> => callWorker(providerWorker, 'registerResource', resource)

  const world: World = {
    op,
    redis,
    resourceServer,
    async group(name) {
      const contacts = `${resourceServer}/${name}/contacts`
      const calendar = `${resourceServer}/${name}/calendar`
      await register({ indicator: contacts, scope: 'contacts:read contacts:write' })
      await register({ indicator: calendar, scope: 'calendar:read' })
      return {
        name,
        contacts,
        calendar,
        definitions: [
          { url: contacts, scope: 'contacts:read', name: 'contacts', indicator: contacts },
          { url: calendar, scope: 'calendar:read', name: 'calendar', indicator: calendar },
        ],
      }
    },
    clientOptions(group) {
      return { issuer: op.issuer, clientId: op.clientId, clientSecret: op.clientSecret, redirectUri: op.redirectUri, resources: group.definitions, logger: {} }
    },
    async client({ store, group, cacheSize, keyPrefix = KEY_PREFIX, redisDb = 0, dispatcher, fetch }) {
      const base = { ...world.clientOptions(group), ...(cacheSize === undefined ? {} : { cacheSize }), ...(dispatcher === undefined ? {} : { dispatcher }), ...(fetch === undefined ? {} : { fetch }) } as ResourceClientOptions
      if (store === 'memory') {
        const client = await createResourceClient({ ...base, store: new MemoryStore() })
        cleanup.defer(`client ${group.name}`, () => client.close())
        return client
      }
      const redisStore = new RedisStore({ url: `${redis.url}/${redisDb}`, keyPrefix })
      cleanup.defer(`redis store ${group.name}`, () => redisStore.close())
      const client = await createResourceClient({ ...base, store: redisStore, encryption: { secrets: [ENCRYPTION_SECRET] } })
      cleanup.defer(`client ${group.name}`, () => client.close())
      return client
    },
    async login(client, key) {
      const { url } = await client.startLogin(key)
      await client.finishLogin(key, await op.login(url))
    },
    async tokenRequests(since, group) {
      const all = await op.tokenRequests(since)
      if (group === undefined) return all
      const ours = new Set([group.contacts, group.calendar])
      return all.filter((r) => r.resource?.some((indicator) => ours.has(indicator)) === true)
    },
    resourceServerCounters: () => callWorker(server.worker, 'counters'),
    withProvider: (options) => worldWith(cleanup, redis, server, options),
  }
  return world
}
