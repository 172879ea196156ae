// One of the processes of the cross-process burst: its own client on the shared Redis, waiting for "go".
import { createResourceClient, type ResourceClientOptions } from 'resource-tokens'
import { RedisStore } from 'resource-tokens/redis'
import { burst, type Outcome } from '../lib/requests.js'
import { receive, runWorker, send } from '../lib/worker-channel.js'

export interface BurstJob {
  options: ResourceClientOptions
  redisUrl: string
  keyPrefix: string
  secret: string
  key: string
  urls: [string, string]
  count: number
  offset: number
}

export interface BurstReport {
  outcome: Outcome
  elapsedMs: number
  refreshFailedEvents: number
}

runWorker(async () => {
  const job = await receive<BurstJob>()
  const store = new RedisStore({ url: job.redisUrl, keyPrefix: job.keyPrefix })
  const client = await createResourceClient({ ...job.options, store, encryption: { secrets: [job.secret] } })
  let refreshFailedEvents = 0
  client.on('refresh_failed', () => refreshFailedEvents++)
  // Connects to Redis and reads the grant once, so the burst starts from a warm connection and a cold token cache.
  if (!(await client.hasGrant(job.key))) throw new Error('the grant is not in Redis')
  await send('ready')
  await receive<{ go: true }>()
  const started = performance.now()
  const outcome = await burst(client, job.key, job.urls, job.count, job.offset)
  const report: BurstReport = { outcome, elapsedMs: performance.now() - started, refreshFailedEvents }
  await send('result', { ...report })
  await client.close()
  await store.close()
})
