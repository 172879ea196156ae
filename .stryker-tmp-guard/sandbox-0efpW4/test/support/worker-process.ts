// @ts-nocheck
// Parent side of the cross-process tests: starts test/support/worker-fetcher.ts in a child Node process
// (its own ResourceClient, its own in-process cache, its own Redis connections) and talks to it in JSON
// lines, commands on stdin and messages on stdout.
import { spawn, type ChildProcess } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import type { ResourceClientOptions } from 'resource-tokens'

/** The client options a worker gets: the JSON-safe part of {@link ResourceClientOptions}. */
export type WorkerClientOptions = Pick<ResourceClientOptions, 'issuer' | 'clientId' | 'clientSecret' | 'redirectUri' | 'resources' | 'skewSeconds' | 'lockTtlMs' | 'lockTimeoutMs'>

/** Everything a worker needs, passed in the `WORKER_CONFIG` environment variable. */
export interface WorkerConfig {
  client: WorkerClientOptions
  redis: { url: string; keyPrefix: string }
  /** The `encryption.secrets` of every instance. */
  secrets: string[]
  /** Report every store change notification as a `changed` message. */
  reportChanges?: boolean
}

/** What a load run saw, per worker. */
export interface LoadReport {
  fetches: number
  ok: number
  /** Failed fetches by `ResourceTokensError` code, `http_<status>` or error name. */
  failed: Record<string, number>
  /** Epoch ms of the first fetch started and of the last fetch settled. */
  firstStartedAt: number
  lastSettledAt: number
  /** Epoch ms at which the first successful fetch settled (0 when none did). */
  firstOkAt: number
  maxLatencyMs: number
}

export type WorkerCommand =
  | { id: number; op: 'fetch'; key: string; url: string }
  | { id: number; op: 'accessToken'; key: string; url: string }
  | { id: number; op: 'hasGrant'; key: string }
  /** `client.handleBackchannelLogout(token)`; the value is `removed`. */
  | { id: number; op: 'backchannelLogout'; token: string }
  /** `client.logoutAll({ sub })`; the value is `removed`. */
  | { id: number; op: 'logoutAll'; sub: string }
  /** Keep `concurrency` fetches of `urls` (taken in turn) in flight from `startAt` for `durationMs`. */
  | { id: number; op: 'load'; key: string; urls: string[]; startAt: number; durationMs: number; concurrency: number }
  | { id: number; op: 'exit' }

/** Distributes `Omit` over the union, so that each command keeps its own fields. */
type WithoutId<T> = T extends unknown ? Omit<T, 'id'> : never

export type WorkerMessage =
  | { type: 'ready' }
  | { type: 'changed'; key: string }
  /** `status` for fetch, `value` for hasGrant and accessToken (a token's expiry, never the token), `code` on failure. */
  | { type: 'result'; id: number; ok: true; status?: number; value?: unknown }
  | { type: 'result'; id: number; ok: false; code: string; message: string }
  | { type: 'load'; id: number; report: LoadReport }

export type WorkerResult = Extract<WorkerMessage, { type: 'result' | 'load' }>

/** A running worker. */
export interface Worker {
  readonly pid: number
  readonly child: ChildProcess
  /** Sends a command and resolves with its reply (no timeout: a killed worker never replies). */
  request(command: WithoutId<WorkerCommand>): Promise<WorkerResult>
  /** Sends a command without waiting for the reply. */
  send(command: WithoutId<WorkerCommand>): void
  /** The first message (past or future) that `match` accepts and no one took yet. */
  next(match: (message: WorkerMessage) => boolean, timeoutMs?: number): Promise<WorkerMessage>
  /** Resolves with the exit code or signal once the process is gone. */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>
  /** Everything the worker wrote to stderr, for failure messages. */
  stderr(): string
  /** Asks the worker to close its client and exit; SIGKILLs it after `graceMs`. Idempotent. */
  stop(graceMs?: number): Promise<void>
  kill(signal?: NodeJS.Signals): Promise<void>
}

const SCRIPT = fileURLToPath(new URL('./worker-fetcher.ts', import.meta.url))
const ROOT = fileURLToPath(new URL('../..', import.meta.url))

/** Starts a worker and resolves once its client is created (after discovery), or rejects if it dies first. */
export async function startWorker(config: WorkerConfig, readyTimeoutMs = 20_000): Promise<Worker> {
  const child = spawn(process.execPath, ['--import', 'tsx', SCRIPT], {
    cwd: ROOT,
    env: { ...process.env, WORKER_CONFIG: JSON.stringify(config) },
    stdio: ['pipe', 'pipe', 'pipe'],
  })
  // Whatever happens to the test, no worker outlives it.
  const killOnExit = (): void => void child.kill('SIGKILL')
  process.on('exit', killOnExit)

  let stderr = ''
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('exit', (code, signal) => {
      process.off('exit', killOnExit)
      resolve({ code, signal })
    })
    // Could not be started at all: there will be no 'exit'.
    child.once('error', (err) => {
      stderr += String(err)
      if (child.pid === undefined) resolve({ code: null, signal: null })
    })
  })
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk))

  const queue: WorkerMessage[] = []
  const waiters: Array<{ match: (m: WorkerMessage) => boolean; resolve: (m: WorkerMessage) => void }> = []
  let buffered = ''
  child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
    buffered += chunk
    let newline: number
    while ((newline = buffered.indexOf('\n')) >= 0) {
      const line = buffered.slice(0, newline)
      buffered = buffered.slice(newline + 1)
      if (line.trim() === '') continue
      const message = JSON.parse(line) as WorkerMessage
      const waiter = waiters.findIndex((w) => w.match(message))
      if (waiter >= 0) waiters.splice(waiter, 1)[0]?.resolve(message)
      else queue.push(message)
    }
  })
  // A worker killed mid-write must not crash the test with EPIPE.
  child.stdin?.on('error', () => {})

  let nextId = 1
  const next = (match: (m: WorkerMessage) => boolean, timeoutMs = 30_000): Promise<WorkerMessage> => {
    const index = queue.findIndex(match)
    if (index >= 0) return Promise.resolve(queue.splice(index, 1)[0] as WorkerMessage)
    return new Promise((resolve, reject) => {
      const waiter = {
        match,
        resolve: (m: WorkerMessage) => {
          clearTimeout(timer)
          resolve(m)
        },
      }
      const timer = setTimeout(() => {
        waiters.splice(waiters.indexOf(waiter), 1)
        reject(new Error(`worker ${child.pid}: no such message within ${timeoutMs} ms; stderr: ${stderr.slice(-2000)}`))
      }, timeoutMs)
      waiters.push(waiter)
    })
  }
  const send = (command: WithoutId<WorkerCommand>): number => {
    const id = nextId++
    child.stdin?.write(`${JSON.stringify({ ...command, id })}\n`)
    return id
  }
  const kill = async (signal: NodeJS.Signals = 'SIGKILL'): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) child.kill(signal)
    await exited
  }

  const worker: Worker = {
    pid: child.pid ?? -1,
    child,
    exited,
    stderr: () => stderr,
    next,
    send: (command) => void send(command),
    request: (command) => {
      const id = send(command)
      return next((m) => (m.type === 'result' || m.type === 'load') && m.id === id, 120_000) as Promise<WorkerResult>
    },
    kill,
    stop: async (graceMs = 3000) => {
      if (child.exitCode !== null || child.signalCode !== null) return
      send({ op: 'exit' })
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs)
      await exited
      clearTimeout(timer)
    },
  }

  const died = exited.then(({ code, signal }) => {
    throw new Error(`worker exited before it was ready (code ${code}, signal ${signal}): ${stderr.slice(-2000)}`)
  })
  try {
    await Promise.race([next((m) => m.type === 'ready', readyTimeoutMs), died])
  } catch (err) {
    await kill()
    throw err
  }
  died.catch(() => {})
  return worker
}
