// @ts-nocheck
// Child side of the cross-process tests: one app instance with its own ResourceClient on a shared Redis,
// driven by test/support/worker-process.ts. Reads JSON-line commands on stdin, writes JSON-line messages on
// stdout and nothing else there. Consumes the library through its public entry points only.
import { createInterface } from 'node:readline'
import { setTimeout as sleep } from 'node:timers/promises'
import { createResourceClient, ResourceTokensError } from 'resource-tokens'
import { RedisStore } from 'resource-tokens/redis'
import type { LoadReport, WorkerCommand, WorkerConfig, WorkerMessage } from './worker-process.js'

const config = JSON.parse(process.env['WORKER_CONFIG'] ?? 'null') as WorkerConfig | null
if (config === null) throw new Error('WORKER_CONFIG is not set: this script is started by test/support/worker-process.ts')

function post(message: WorkerMessage): void {
  process.stdout.write(`${JSON.stringify(message)}\n`)
}

function failure(err: unknown): { code: string; message: string } {
  if (err instanceof ResourceTokensError) return { code: err.code, message: err.message }
  if (err instanceof Error) return { code: `error:${err.name}`, message: err.message }
  return { code: 'error:unknown', message: String(err) }
}

const store = new RedisStore({ url: config.redis.url, keyPrefix: config.redis.keyPrefix })
const client = await createResourceClient({ ...config.client, store, encryption: { secrets: config.secrets }, logger: {} })
if (config.reportChanges === true) store.subscribe((key) => post({ type: 'changed', key }))

async function load(command: Extract<WorkerCommand, { op: 'load' }>): Promise<LoadReport> {
  const report: LoadReport = { fetches: 0, ok: 0, failed: {}, firstStartedAt: 0, lastSettledAt: 0, firstOkAt: 0, maxLatencyMs: 0 }
  await sleep(Math.max(0, command.startAt - Date.now()))
  const end = command.startAt + command.durationMs
  let turn = 0
  const lane = async (): Promise<void> => {
    // No fetch starts after `end`: the parent counts renewal windows over exactly `durationMs`.
    while (Date.now() < end) {
      const url = command.urls[turn++ % command.urls.length] as string
      const startedAt = Date.now()
      if (report.firstStartedAt === 0) report.firstStartedAt = startedAt
      report.fetches++
      let outcome: string | undefined
      try {
        const res = await client.fetch(command.key, url)
        await res.arrayBuffer()
        if (res.status !== 200) outcome = `http_${res.status}`
      } catch (err) {
        outcome = failure(err).code
      }
      const settledAt = Date.now()
      report.lastSettledAt = Math.max(report.lastSettledAt, settledAt)
      report.maxLatencyMs = Math.max(report.maxLatencyMs, settledAt - startedAt)
      if (outcome === undefined) {
        report.ok++
        if (report.firstOkAt === 0) report.firstOkAt = settledAt
      }
      else report.failed[outcome] = (report.failed[outcome] ?? 0) + 1
    }
  }
  await Promise.all(Array.from({ length: command.concurrency }, lane))
  return report
}

async function handle(command: WorkerCommand): Promise<void> {
  try {
    switch (command.op) {
      case 'fetch': {
        const res = await client.fetch(command.key, command.url)
        await res.arrayBuffer()
        post({ type: 'result', id: command.id, ok: true, status: res.status })
        return
      }
      case 'accessToken': {
        const token = await client.accessToken(command.key, command.url)
        post({ type: 'result', id: command.id, ok: true, value: token.expiresAt })
        return
      }
      case 'hasGrant':
        post({ type: 'result', id: command.id, ok: true, value: await client.hasGrant(command.key) })
        return
      case 'backchannelLogout':
        post({ type: 'result', id: command.id, ok: true, value: (await client.handleBackchannelLogout(command.token)).removed })
        return
      case 'logoutAll':
        post({ type: 'result', id: command.id, ok: true, value: (await client.logoutAll({ sub: command.sub })).removed })
        return
      case 'load':
        post({ type: 'load', id: command.id, report: await load(command) })
        return
      case 'exit':
        await client.close()
        await store.close()
        process.exit(0)
    }
  } catch (err) {
    post({ type: 'result', id: command.id, ok: false, ...failure(err) })
  }
}

createInterface({ input: process.stdin }).on('line', (line) => {
  if (line.trim() !== '') void handle(JSON.parse(line) as WorkerCommand)
})
// The parent went away (or closed our stdin): nothing left to do.
process.stdin.on('end', () => process.exit(0))
post({ type: 'ready' })
