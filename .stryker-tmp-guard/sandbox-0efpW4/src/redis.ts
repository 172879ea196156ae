// @ts-nocheck
// The `resource-tokens/redis` entry point: kept apart so that ioredis stays an optional peer.
export { RedisStore } from './stores/redis-store.js'
export type { RedisStoreOptions } from './stores/redis-store.js'
