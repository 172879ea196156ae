// @ts-nocheck
import { execFileSync, spawn, type ChildProcess } from 'node:child_process'
import { connect, createServer } from 'node:net'
import { setTimeout as sleep } from 'node:timers/promises'

/** A redis-server child process on a free loopback port, for tests. */
export interface TestRedis {
  /** `redis://127.0.0.1:<port>`. */
  readonly url: string
  readonly port: number
  /** Stops the server gracefully (SIGTERM) and waits for it to exit. */
  stop(): Promise<void>
  /** Stops the server if it runs, then starts an empty one on the same port and waits until it answers. */
  restart(): Promise<void>
  /** Kills the server (SIGKILL) and waits for it to exit. */
  kill(): Promise<void>
  /** Freezes the server (SIGSTOP): connections stay open but nothing answers. */
  pause(): Promise<void>
  /** Unfreezes a paused server (SIGCONT). */
  resume(): Promise<void>
}

/**
 * Starts `redis-server` without persistence on a free port of 127.0.0.1 and resolves once it answers PING.
 * The server is killed when the test process exits, whatever happens.
 *
 * @throws {Error} when redis-server is not installed (the message says how to install it).
 */
export async function startRedis(): Promise<TestRedis> {
  const binary = findRedisServer()
  const port = await freePort()
  let child: ChildProcess | undefined

  const killOnExit = (): void => {
    child?.kill('SIGKILL')
  }
  process.on('exit', killOnExit)

  const start = async (): Promise<void> => {
    const started = spawn(binary, ['--bind', '127.0.0.1', '--port', String(port), '--save', '', '--appendonly', 'no'], {
      stdio: ['ignore', 'ignore', 'pipe'],
    })
    let stderr = ''
    started.stderr?.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk))
    child = started
    const deadline = Date.now() + 10_000
    while (!(await ping(port))) {
      if (started.exitCode !== null || started.signalCode !== null) {
        throw new Error(`redis-server exited before answering (code ${started.exitCode}): ${stderr.trim()}`)
      }
      if (Date.now() > deadline) throw new Error(`redis-server did not answer on port ${port} within 10 s`)
      await sleep(25)
    }
  }

  const end = async (signal: NodeJS.Signals): Promise<void> => {
    const running = child
    child = undefined
    if (running === undefined || running.exitCode !== null || running.signalCode !== null) return
    const exited = new Promise<void>((resolve) => running.once('exit', () => resolve()))
    running.kill('SIGCONT') // a paused server cannot act on SIGTERM
    running.kill(signal)
    await exited
  }

  const signal = async (name: NodeJS.Signals): Promise<void> => {
    if (child === undefined) throw new Error('redis-server is not running')
    child.kill(name)
  }

  await start()
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    stop: () => end('SIGTERM'),
    kill: () => end('SIGKILL'),
    restart: async () => {
      await end('SIGTERM')
      await start()
    },
    pause: () => signal('SIGSTOP'),
    resume: () => signal('SIGCONT'),
  }
}

function findRedisServer(): string {
  try {
    return execFileSync('which', ['redis-server'], { encoding: 'utf8' }).trim()
  } catch {
    throw new Error('redis-server not found on PATH: install it with `apt-get install redis-server`')
  }
}

async function freePort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, '127.0.0.1', resolve)
  })
  const address = server.address()
  await new Promise<void>((resolve) => server.close(() => resolve()))
  if (address === null || typeof address === 'string') throw new Error('could not find a free port')
  return address.port
}

/** True when a server on `port` answers an inline PING with +PONG. */
function ping(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port })
    let reply = ''
    const done = (ok: boolean): void => {
      socket.destroy()
      resolve(ok)
    }
    socket.setTimeout(500, () => done(false))
    socket.once('error', () => done(false))
    socket.once('connect', () => socket.write('PING\r\n'))
    socket.setEncoding('utf8').on('data', (chunk: string) => {
      reply += chunk
      if (reply.includes('\r\n')) done(reply.startsWith('+PONG'))
    })
  })
}
