import { spawn, type ChildProcess } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import type { Cleanup } from './cleanup.js'

const ROOT = fileURLToPath(new URL('../../', import.meta.url))

/** A worker process (a file of `bench/workers`) spoken to over IPC. */
export interface Worker {
  readonly name: string
  readonly pid: number | undefined
  send(message: unknown): void
  /** The next message of `type` (resolves with the whole message), or rejects when the worker fails or exits. */
  next<T>(type: string): Promise<T>
  /** Waits for the worker to exit by itself; kills it after `ms`. */
  exited(ms?: number): Promise<void>
}

/**
 * Starts `bench/workers/<name>.ts` with tsx, an IPC channel and the parent's stdout/stderr. The worker is
 * killed by `cleanup` if it still runs then.
 */
export function startWorker(name: string, cleanup: Cleanup, options: { exposeGc?: boolean } = {}): Worker {
  const args = [...(options.exposeGc === true ? ['--expose-gc'] : []), '--import', 'tsx', `bench/workers/${name}.ts`]
  const child: ChildProcess = spawn(process.execPath, args, { cwd: ROOT, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] })
  const inbox: Array<{ type: string }> = []
  const waiting: Array<{ type: string; resolve: (m: never) => void; reject: (e: Error) => void }> = []
  let failure: Error | undefined

  const deliver = (): void => {
    for (let i = 0; i < waiting.length; i++) {
      const waiter = waiting[i]!
      const index = inbox.findIndex((m) => m.type === waiter.type)
      if (index >= 0) {
        const [message] = inbox.splice(index, 1)
        waiting.splice(i--, 1)
        waiter.resolve(message as never)
      } else if (failure !== undefined) {
        waiting.splice(i--, 1)
        waiter.reject(failure)
      }
    }
  }
  child.on('message', (message: { type: string; message?: string }) => {
    if (message.type === 'error') failure = new Error(`worker ${name} failed: ${message.message ?? 'unknown error'}`)
    else inbox.push(message)
    deliver()
  })
  const exit = new Promise<void>((resolve) => {
    child.once('exit', (code, signal) => {
      failure ??= new Error(`worker ${name} exited (${signal ?? `code ${code}`}) before answering`)
      deliver()
      resolve()
    })
  })
  child.once('error', (err) => {
    failure = err
    deliver()
  })
  cleanup.defer(`worker ${name} (${child.pid})`, async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL')
      await exit
    }
  })

  return {
    name,
    pid: child.pid,
    send: (message) => child.send(message as object),
    next: <T>(type: string) =>
      new Promise<T>((resolve, reject) => {
        waiting.push({ type, resolve: resolve, reject })
        deliver()
      }),
    exited: async (ms = 5000) => {
      const timer = setTimeout(() => child.kill('SIGKILL'), ms)
      await exit
      clearTimeout(timer)
    },
  }
}

let lastCall = 0

/** Calls a method the worker offers with `serve` and resolves with its result. */
export async function callWorker<T>(worker: Worker, method: string, ...args: unknown[]): Promise<T> {
  const id = ++lastCall
  const reply = worker.next<{ result?: T; error?: string }>(`reply:${id}`)
  worker.send({ type: 'call', id, method, args })
  const { result, error } = await reply
  if (error !== undefined) throw new Error(`${worker.name}.${method}: ${error}`)
  return result as T
}
