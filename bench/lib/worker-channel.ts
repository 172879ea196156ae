/**
 * The worker side of `startWorker`: messages over the IPC channel, and calls the parent makes with
 * `callWorker`. A worker whose parent goes away exits at once, so a crashed benchmark leaves nothing running.
 */
if (process.send === undefined) throw new Error('run this file through bench/run.ts: it needs an IPC channel')
process.on('disconnect', () => process.exit(0))

type Handler = (...args: never[]) => unknown

interface Call {
  type: 'call'
  id: number
  method: string
  args: unknown[]
}

const inbox: unknown[] = []
const waiting: Array<(m: unknown) => void> = []
const handlers = new Map<string, Handler>()

process.on('message', (message: { type?: unknown }) => {
  if (message.type === 'call') {
    void answer(message as Call)
    return
  }
  const waiter = waiting.shift()
  if (waiter !== undefined) waiter(message)
  else inbox.push(message)
})

async function answer(call: Call): Promise<void> {
  const handler = handlers.get(call.method)
  try {
    if (handler === undefined) throw new Error(`no method ${call.method}`)
    const result = await (handler as (...args: unknown[]) => unknown)(...call.args)
    await send(`reply:${call.id}`, { result })
  } catch (err) {
    await send(`reply:${call.id}`, { error: err instanceof Error ? err.message : String(err) })
  }
}

/** The next message from the parent that is not a call. */
export function receive<T>(): Promise<T> {
  if (inbox.length > 0) return Promise.resolve(inbox.shift() as T)
  return new Promise((resolve) => waiting.push(resolve as (m: unknown) => void))
}

export function send(type: string, payload: Record<string, unknown> = {}): Promise<void> {
  return new Promise((resolve, reject) => process.send!({ type, ...payload }, (err: Error | null) => (err ? reject(err) : resolve())))
}

/** Makes `methods` callable by the parent (`callWorker(worker, name, ...args)`). */
export function serve(methods: Record<string, Handler>): void {
  for (const [name, handler] of Object.entries(methods)) handlers.set(name, handler)
}

/** Runs the worker's body; any failure is sent to the parent, then the worker exits. */
export function runWorker(body: () => Promise<void>): void {
  body().then(
    () => process.disconnect?.(),
    async (err: unknown) => {
      await send('error', { message: err instanceof Error ? (err.stack ?? err.message) : String(err) }).catch(() => undefined)
      process.exit(1)
    },
  )
}
