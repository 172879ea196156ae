// @ts-nocheck
// Real multi-node Redis deployments on loopback for tests: a Redis Cluster (masters + replicas, built with
// `redis-cli --cluster create`) and a Sentinel setup (a master, a replica and three sentinels), from the Debian
// `redis-server` and `redis-sentinel` packages. Every process is a child of the test process, runs in a temporary
// folder of its own, listens on 127.0.0.1 only and is killed when the test process exits, whatever happens.
import { execFile, execFileSync, spawn, type ChildProcess } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { promisify } from 'node:util'

const run = promisify(execFile)

/** One redis-server or redis-sentinel child process. */
export interface TopologyNode {
  readonly port: number
  readonly child: ChildProcess
}

function which(binary: string, pkg: string): string {
  try {
    return execFileSync('which', [binary], { encoding: 'utf8' }).trim()
  } catch {
    throw new Error(`${binary} not found on PATH: install it with \`apt-get install ${pkg}\``)
  }
}

async function portIsFree(port: number): Promise<boolean> {
  const server = createServer()
  return new Promise((resolve) => {
    server.once('error', () => resolve(false))
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)))
  })
}

/** A free port whose cluster bus port (port + 10000) is free too. */
async function freePort(taken: Set<number>): Promise<number> {
  for (;;) {
    const port = 20_000 + Math.floor(Math.random() * 30_000)
    if (taken.has(port) || taken.has(port + 10_000)) continue
    if ((await portIsFree(port)) && (await portIsFree(port + 10_000))) {
      taken.add(port)
      taken.add(port + 10_000)
      return port
    }
  }
}

/** `redis-cli -p <port> <args>`: the reply as text. */
export async function cli(port: number, ...args: string[]): Promise<string> {
  const { stdout } = await run('redis-cli', ['-h', '127.0.0.1', '-p', String(port), ...args], { timeout: 10_000 })
  return stdout.trim()
}

async function waitFor(what: string, check: () => Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    try {
      if (await check()) return
    } catch {
      // not yet
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await sleep(100)
  }
}

class Processes {
  readonly nodes: TopologyNode[] = []
  readonly dir = mkdtempSync(join(tmpdir(), 'rt-redis-'))
  readonly taken = new Set<number>()
  readonly #killOnExit = (): void => {
    for (const node of this.nodes) node.child.kill('SIGKILL')
  }

  constructor() {
    process.on('exit', this.#killOnExit)
  }

  start(binary: string, args: string[], name: string, port: number): TopologyNode {
    const cwd = join(this.dir, name)
    execFileSync('mkdir', ['-p', cwd])
    const child = spawn(binary, args, { cwd, stdio: ['ignore', 'ignore', 'ignore'] })
    const node = { port, child }
    this.nodes.push(node)
    return node
  }

  async stop(): Promise<void> {
    await Promise.all(
      this.nodes.map(async ({ child }) => {
        if (child.exitCode !== null || child.signalCode !== null) return
        const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
        child.kill('SIGCONT')
        child.kill('SIGKILL')
        await exited
      }),
    )
    process.off('exit', this.#killOnExit)
    rmSync(this.dir, { recursive: true, force: true })
  }
}

function serverArgs(port: number, extra: string[] = []): string[] {
  return ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', ...extra]
}

/** A Redis Cluster of `masters` masters with `replicas` replicas each, all on 127.0.0.1. */
export interface TestRedisCluster {
  /** Every node (masters first as created; roles change with failovers: ask {@link TestRedisCluster.roles}). */
  readonly ports: readonly number[]
  /** Startup nodes for ioredis `Cluster`. */
  readonly startupNodes: ReadonlyArray<{ host: string; port: number }>
  /** The current role of every node, and for a replica the port of its master. */
  roles(): Promise<Array<{ port: number; role: 'master' | 'slave'; masterPort?: number }>>
  /** `CLUSTER FAILOVER` on a replica of the master on `masterPort`; resolves once that replica is a master. */
  failover(masterPort: number): Promise<{ newMasterPort: number; ms: number }>
  stop(): Promise<void>
}

export async function startRedisCluster(options: { masters?: number; replicas?: number } = {}): Promise<TestRedisCluster> {
  const masters = options.masters ?? 3
  const replicas = options.replicas ?? 1
  const binary = which('redis-server', 'redis-server')
  const processes = new Processes()
  try {
    const ports: number[] = []
    for (let i = 0; i < masters * (1 + replicas); i++) {
      const port = await freePort(processes.taken)
      ports.push(port)
      processes.start(binary, serverArgs(port, ['--cluster-enabled', 'yes', '--cluster-config-file', 'nodes.conf', '--cluster-node-timeout', '3000']), `node-${port}`, port)
    }
    for (const port of ports) await waitFor(`redis-server on ${port}`, async () => (await cli(port, 'ping')) === 'PONG')
    await run('redis-cli', ['--cluster', 'create', ...ports.map((p) => `127.0.0.1:${p}`), '--cluster-replicas', String(replicas), '--cluster-yes'], { timeout: 30_000 })
    for (const port of ports) {
      await waitFor(`cluster state ok on ${port}`, async () => (await cli(port, 'cluster', 'info')).includes('cluster_state:ok'))
    }
    const roles = async (): Promise<Array<{ port: number; role: 'master' | 'slave'; masterPort?: number }>> =>
      Promise.all(
        ports.map(async (port) => {
          const info = await cli(port, 'info', 'replication')
          const role = /role:(\w+)/.exec(info)?.[1] === 'master' ? 'master' : 'slave'
          const masterPort = /master_port:(\d+)/.exec(info)?.[1]
          return role === 'master' ? { port, role } : { port, role, masterPort: Number(masterPort) }
        }),
      )
    // Every replica has synced with its master before anyone uses the cluster.
    await waitFor('replicas in sync', async () => {
      const infos = await Promise.all(ports.map((p) => cli(p, 'info', 'replication')))
      return infos.every((i) => i.includes('role:master') || i.includes('master_link_status:up'))
    })
    return {
      ports,
      startupNodes: ports.map((port) => ({ host: '127.0.0.1', port })),
      roles,
      failover: async (masterPort) => {
        const replica = (await roles()).find((r) => r.role === 'slave' && r.masterPort === masterPort)
        if (replica === undefined) throw new Error(`no replica of ${masterPort}`)
        const started = Date.now()
        const reply = await cli(replica.port, 'cluster', 'failover')
        if (reply !== 'OK') throw new Error(`CLUSTER FAILOVER: ${reply}`)
        await waitFor(`replica ${replica.port} promoted`, async () => (await cli(replica.port, 'info', 'replication')).includes('role:master'))
        return { newMasterPort: replica.port, ms: Date.now() - started }
      },
      stop: () => processes.stop(),
    }
  } catch (err) {
    await processes.stop()
    throw err
  }
}

/** A master, `replicas` replicas (default 2) and three sentinels (quorum 2) watching them as `name`. */
export interface TestRedisSentinel {
  readonly name: string
  /** For ioredis `{ sentinels, name }`. */
  readonly sentinels: ReadonlyArray<{ host: string; port: number }>
  /** The master as the sentinels see it now. */
  masterPort(): Promise<number>
  /** `SENTINEL FAILOVER`; resolves once every sentinel names the new master. */
  failover(): Promise<{ from: number; to: number; ms: number }>
  stop(): Promise<void>
}

export async function startRedisSentinel(options: { replicas?: number } = {}): Promise<TestRedisSentinel> {
  const server = which('redis-server', 'redis-server')
  const sentinelBinary = which('redis-sentinel', 'redis-sentinel')
  const name = 'rtmaster'
  const processes = new Processes()
  try {
    const master = await freePort(processes.taken)
    processes.start(server, serverArgs(master), `master-${master}`, master)
    const replicaPorts: number[] = []
    for (let i = 0; i < (options.replicas ?? 2); i++) {
      const replica = await freePort(processes.taken)
      replicaPorts.push(replica)
      processes.start(server, serverArgs(replica, ['--replicaof', '127.0.0.1', String(master)]), `replica-${replica}`, replica)
    }
    for (const replica of replicaPorts) {
      await waitFor('replica in sync', async () => (await cli(replica, 'info', 'replication')).includes('master_link_status:up'))
    }
    const sentinelPorts: number[] = []
    for (let i = 0; i < 3; i++) {
      const port = await freePort(processes.taken)
      sentinelPorts.push(port)
      const dir = join(processes.dir, `sentinel-${port}`)
      execFileSync('mkdir', ['-p', dir])
      // Sentinel rewrites its configuration file: it must be a file of its own, writable.
      const conf = join(dir, 'sentinel.conf')
      writeFileSync(
        conf,
        [
          `port ${port}`,
          'bind 127.0.0.1',
          `sentinel monitor ${name} 127.0.0.1 ${master} 2`,
          `sentinel down-after-milliseconds ${name} 2000`,
          `sentinel failover-timeout ${name} 10000`,
          `sentinel parallel-syncs ${name} 1`,
          '',
        ].join('\n'),
      )
      processes.start(sentinelBinary, [conf], `sentinel-${port}`, port)
    }
    const masterPort = async (port = sentinelPorts[0] as number): Promise<number> => {
      const reply = await cli(port, 'sentinel', 'get-master-addr-by-name', name)
      return Number(reply.split('\n')[1])
    }
    for (const port of sentinelPorts) {
      await waitFor(`sentinel ${port} sees the replica and the other sentinels`, async () => {
        const replicas = await cli(port, 'sentinel', 'replicas', name)
        const others = await cli(port, 'sentinel', 'sentinels', name)
        return replicaPorts.every((replica) => replicas.includes(String(replica))) && (others.match(/^name$/gm)?.length ?? 0) >= 2
      })
    }
    return {
      name,
      sentinels: sentinelPorts.map((port) => ({ host: '127.0.0.1', port })),
      masterPort: () => masterPort(),
      failover: async () => {
        const from = await masterPort()
        const started = Date.now()
        const reply = await cli(sentinelPorts[0] as number, 'sentinel', 'failover', name)
        if (reply !== 'OK') throw new Error(`SENTINEL FAILOVER: ${reply}`)
        let to = from
        await waitFor('every sentinel names the new master', async () => {
          const seen = await Promise.all(sentinelPorts.map((p) => masterPort(p)))
          to = seen[0] as number
          return seen.every((p) => p === to && p !== from) && (await cli(to, 'info', 'replication')).includes('role:master')
        })
        return { from, to, ms: Date.now() - started }
      },
      stop: () => processes.stop(),
    }
  } catch (err) {
    await processes.stop()
    throw err
  }
}
