// A closed-loop load runner: `inFlight` lanes, each awaiting one request after another. Unlike tinybench
// it measures throughput and CPU over one window of wall-clock time (warm-up excluded), so that CPU per
// request covers exactly the requests counted.
import type { Figures } from './measure.js'

/** What one variant did over the measured window. Latencies in microseconds. */
export interface LoadFigures extends Figures {
  inFlight: number
  /** Requests completed within the measured window (the throughput count). */
  completed: number
  /** Latency samples: requests that started and completed within the window. */
  samples: number
  /** Completed requests per second of the window. */
  rps: number
  /** Process CPU (user + system) over the window divided by the requests completed in it. */
  cpuUs: number
  windowMs: number
}

export interface LoadOptions {
  inFlight: number
  /** The measured window. */
  timeMs: number
  /** Load before the window starts: connections opened, code optimized. */
  warmupMs: number
}

/** The raw outcome of one measured window: what `figures` combines. */
export interface Slice {
  inFlight: number
  completed: number
  windowMs: number
  /** Process CPU over the window, microseconds. */
  cpuUs: number
  /** Latencies in microseconds of the requests that started and completed within the window. */
  latencies: number[]
}

/** Keeps `inFlight` calls of `fn` going; measures the window after the warm-up. Rejects if any call fails. */
export async function runLoad(fn: () => Promise<void>, options: LoadOptions): Promise<LoadFigures> {
  return figures([await runSlice(fn, options)])
}

/** One window of load; see `runLoad`. */
export async function runSlice(fn: () => Promise<void>, options: LoadOptions): Promise<Slice> {
  let phase: 'warmup' | 'measure' | 'stop' = 'warmup'
  const latencies: number[] = []
  let completed = 0
  let t0 = 0
  let t1 = 0
  let cpu0: NodeJS.CpuUsage | undefined
  let cpu: NodeJS.CpuUsage | undefined
  let failure: Error | undefined
  const stop = (): void => {
    if (phase === 'stop') return
    t1 = performance.now()
    cpu = process.cpuUsage(cpu0)
    phase = 'stop'
  }
  const lane = async (): Promise<void> => {
    while (phase !== 'stop') {
      const measured = phase === 'measure'
      const start = performance.now()
      try {
        await fn()
      } catch (err) {
        failure ??= err instanceof Error ? err : new Error(String(err))
        stop()
        return
      }
      if (phase !== 'measure') continue
      completed++
      if (measured) latencies.push((performance.now() - start) * 1000)
    }
  }
  let stopTimer: NodeJS.Timeout | undefined
  const begin = (): void => {
    t0 = performance.now()
    cpu0 = process.cpuUsage()
    phase = 'measure'
    stopTimer = setTimeout(stop, options.timeMs)
  }
  const startTimer = options.warmupMs > 0 ? setTimeout(begin, options.warmupMs) : undefined
  if (startTimer === undefined) begin()
  await Promise.all(Array.from({ length: options.inFlight }, lane))
  clearTimeout(startTimer)
  clearTimeout(stopTimer)
  if (failure !== undefined) throw failure
  const used = cpu!
  return { inFlight: options.inFlight, completed, windowMs: t1 - t0, cpuUs: used.user + used.system, latencies }
}

/** The figures of one or more slices of the same variant, taken together. */
export function figures(slices: readonly Slice[]): LoadFigures {
  const completed = slices.reduce((sum, s) => sum + s.completed, 0)
  const windowMs = slices.reduce((sum, s) => sum + s.windowMs, 0)
  const cpuUs = slices.reduce((sum, s) => sum + s.cpuUs, 0)
  const sorted = Float64Array.from(slices.flatMap((s) => s.latencies)).sort()
  return {
    inFlight: slices[0]!.inFlight,
    completed,
    samples: sorted.length,
    rps: (completed / windowMs) * 1000,
    medianUs: percentile(sorted, 0.5),
    p99Us: percentile(sorted, 0.99),
    meanUs: sorted.reduce((sum, v) => sum + v, 0) / Math.max(sorted.length, 1),
    cpuUs: cpuUs / Math.max(completed, 1),
    windowMs,
  }
}

/** Nearest-rank percentile of ascending `sorted` (`q` in 0..1); NaN when empty. */
export function percentile(sorted: ArrayLike<number>, q: number): number {
  if (sorted.length === 0) return Number.NaN
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))
  return sorted[rank]!
}
