// 4. Cross-process: several processes share one grant in Redis and all want its tokens at once.
import { startWorker } from '../lib/child.js'
import type { Cleanup } from '../lib/cleanup.js'
import type { Outcome } from '../lib/requests.js'
import { ENCRYPTION_SECRET, type World } from '../lib/world.js'
import type { BurstJob, BurstReport } from '../workers/burst.js'

const XPROC_PREFIX = 'bench:xproc:'

export interface CrossProcessResult {
  processes: number
  fetches: number
  tokenRequests: number
  minimum: number
  outcome: Outcome
  reusedRefreshTokens: number
  refreshFailedEvents: number
  /** Until the last process had all its answers, from "go". */
  elapsedMs: number
  perProcess: BurstReport[]
}

export async function crossProcess(world: World, cleanup: Cleanup, options: { processes: number; total: number }): Promise<CrossProcessResult> {
  const group = await world.group('xproc')
  const client = await world.client({ store: 'redis', group, keyPrefix: XPROC_PREFIX })
  const key = 'xproc-user'
  await world.login(client, key)
  const count = options.total / options.processes
  const workers = Array.from({ length: options.processes }, () => startWorker('burst', cleanup))
  workers.forEach((worker, i) => {
    const job: BurstJob = {
      options: world.clientOptions(group),
      redisUrl: world.redis.url,
      keyPrefix: XPROC_PREFIX,
      secret: ENCRYPTION_SECRET,
      key,
      urls: [group.contacts, group.calendar],
      count,
      offset: i * count,
    }
    worker.send(job)
  })
  await Promise.all(workers.map((worker) => worker.next('ready')))
  const since = await world.op.tokenRequestCount()
  const reusedBefore = await world.op.reusedRefreshTokens()
  const started = performance.now()
  for (const worker of workers) worker.send({ go: true })
  const reports = await Promise.all(workers.map((worker) => worker.next<BurstReport>('result')))
  const elapsedMs = performance.now() - started
  await Promise.all(workers.map((worker) => worker.exited()))

  const total: Outcome = { ok: 0, failed: 0, reasons: {} }
  for (const { outcome } of reports) {
    total.ok += outcome.ok
    total.failed += outcome.failed
    for (const [reason, n] of Object.entries(outcome.reasons)) total.reasons[reason] = (total.reasons[reason] ?? 0) + n
  }
  return {
    processes: options.processes,
    fetches: options.total,
    tokenRequests: (await world.tokenRequests(since)).length,
    minimum: 2,
    outcome: total,
    reusedRefreshTokens: (await world.op.reusedRefreshTokens()) - reusedBefore,
    refreshFailedEvents: reports.reduce((sum, r) => sum + r.refreshFailedEvents, 0),
    elapsedMs,
    perProcess: reports.map(({ outcome, elapsedMs, refreshFailedEvents }) => ({ outcome, elapsedMs, refreshFailedEvents })),
  }
}
