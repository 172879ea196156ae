// Client CPU per request beyond its transport's baseline, measured request by request: one request in flight,
// the variant and its baseline alternating in random order, the process's CPU read around each request. Both
// requests of a pair run on the same machine state, so the difference of the pair is far less noisy than the
// difference of two windows' CPU totals (which section 1 also reports); the median over thousands of pairs
// is the typical extra CPU, the mean includes the garbage collections that happened to land in a request.
import { inRandomOrder, median } from './measure.js'

export interface PairedCpu {
  pairs: number
  /** Median over all pairs of (variant − baseline) CPU µs. */
  medianUs: number
  /** Mean over all pairs of (variant − baseline) CPU µs, each side trimmed of its top 1 % (a GC or a context switch). */
  trimmedMeanUs: number
  /** The median of each repetition. */
  perRepetition: number[]
}

async function cpuOf(fn: () => Promise<void>): Promise<number> {
  const start = process.cpuUsage()
  await fn()
  const used = process.cpuUsage(start)
  return used.user + used.system
}

/** `repetitions` × `pairs` pairs of (`variant`, `baseline`) calls, one at a time. */
export async function pairedCpu(variant: () => Promise<void>, baseline: () => Promise<void>, options: { pairs: number; repetitions: number }): Promise<PairedCpu> {
  const all: number[] = []
  const base: number[] = []
  const mine: number[] = []
  const perRepetition: number[] = []
  for (let rep = 0; rep < options.repetitions; rep++) {
    const diffs: number[] = []
    for (let i = 0; i < options.pairs; i++) {
      const [a, b] = await inRandomOrder(variant, baseline, cpuOf)
      diffs.push(a - b)
      mine.push(a)
      base.push(b)
    }
    perRepetition.push(median(diffs))
    all.push(...diffs)
  }
  return { pairs: all.length, medianUs: median(all), trimmedMeanUs: trimmedMean(mine) - trimmedMean(base), perRepetition }
}

function trimmedMean(values: number[]): number {
  const sorted = [...values].sort((x, y) => x - y)
  const kept = sorted.slice(0, Math.max(1, Math.floor(sorted.length * 0.99)))
  return kept.reduce((sum, v) => sum + v, 0) / kept.length
}
