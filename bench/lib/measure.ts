import { Bench, type Task } from 'tinybench'

/** Latency figures of one task, in microseconds; `rps` is requests per second. */
export interface Figures {
  samples: number
  rps: number
  medianUs: number
  p99Us: number
  meanUs: number
  /**
   * CPU time of this process (user + system) per request while the task ran. Less sensitive than latency
   * to other work on the machine; with one request in flight it is what the client side costs.
   */
  cpuUs: number
}

export interface Variant {
  name: string
  fn: () => Promise<void>
}

/**
 * Runs `variants` one after the other, one request at a time, each for `timeMs` (after a 1 s warm-up),
 * with tinybench. Requests per second at concurrency 1 is 1 / mean latency.
 */
export async function sequential(variants: readonly Variant[], timeMs: number): Promise<Record<string, Figures>> {
  const bench = new Bench({ time: timeMs, warmupTime: 1000, warmupIterations: 50, throws: true })
  for (const variant of variants) bench.add(variant.name, variant.fn)
  const cpu = measureCpu(bench.tasks)
  await bench.run()
  const figures: Record<string, Figures> = {}
  for (const task of bench.tasks) {
    const { latency } = completed(task)
    figures[task.name] = {
      samples: latency.samplesCount,
      rps: 1000 / latency.mean,
      medianUs: latency.p50 * 1000,
      p99Us: latency.p99 * 1000,
      meanUs: latency.mean * 1000,
      cpuUs: cpu.get(task.name)! / latency.samplesCount,
    }
  }
  return figures
}

/**
 * Keeps `concurrency` requests of one variant in flight for `timeMs` with tinybench's task concurrency.
 * tinybench reports per-request latency; the throughput is requests completed over the wall-clock time of
 * the measured run (warm-up excluded).
 */
export async function concurrent(variant: Variant, concurrency: number, timeMs: number): Promise<Figures> {
  const bench = new Bench({ concurrency: 'task', threshold: concurrency, iterations: 0, time: timeMs, warmupTime: 500, warmupIterations: 0, throws: true })
  bench.add(variant.name, variant.fn)
  let started = 0
  bench.addEventListener('start', () => {
    started = performance.now()
  })
  const cpu = measureCpu(bench.tasks)
  await bench.run()
  const wallMs = performance.now() - started
  const task = bench.tasks[0]!
  const { latency } = completed(task)
  return {
    samples: latency.samplesCount,
    rps: (latency.samplesCount / wallMs) * 1000,
    medianUs: latency.p50 * 1000,
    p99Us: latency.p99 * 1000,
    meanUs: latency.mean * 1000,
    cpuUs: cpu.get(task.name)! / latency.samplesCount,
  }
}

/** Process CPU microseconds spent by each task between its start and complete events (warm-up excluded). */
function measureCpu(tasks: readonly Task[]): Map<string, number> {
  const spent = new Map<string, number>()
  for (const task of tasks) {
    let start: NodeJS.CpuUsage | undefined
    task.addEventListener('start', () => {
      start = process.cpuUsage()
    })
    task.addEventListener('complete', () => {
      const used = process.cpuUsage(start)
      spent.set(task.name, used.user + used.system)
    })
  }
  return spent
}

function completed(task: Task): Extract<Task['result'], { state: 'completed' }> {
  const result = task.result
  if (result.state === 'errored') throw new Error(`${task.name} failed: ${result.error.message}`, { cause: result.error })
  if (result.state !== 'completed') throw new Error(`${task.name} did not complete (${result.state})`)
  return result
}

/** Median of a few numbers (of the repetitions). */
export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  const mid = Math.floor(sorted.length / 2)
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2
}

/**
 * Measures `a` and `b` once each, back to back, in random order, so that neither always runs second (and
 * another process's burst lands on both sides of a pair alike). Resolves `[measure of a, measure of b]`.
 */
export async function inRandomOrder(a: () => Promise<void>, b: () => Promise<void>, measure: (fn: () => Promise<void>) => Promise<number>): Promise<[number, number]> {
  if (Math.random() < 0.5) {
    const first = await measure(a)
    return [first, await measure(b)]
  }
  const second = await measure(b)
  return [await measure(a), second]
}
