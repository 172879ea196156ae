import { readFileSync } from 'node:fs'
import { availableParallelism, loadavg, release, totalmem } from 'node:os'

export interface Machine {
  cpus: number
  cpuModel: string
  memoryGiB: number
  node: string
  kernel: string
  redis: string
  /** 1-minute load average when the run started and when it ended: other work on the machine skews figures. */
  loadAverage: { start: number; end: number }
}

export function cpuModel(): string {
  try {
    return /^model name\s*:\s*(.+)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1]?.trim() ?? 'unknown'
  } catch {
    return 'unknown'
  }
}

export function describeMachine(redis: string, loadAtStart: number): Machine {
  return {
    cpus: availableParallelism(),
    cpuModel: cpuModel(),
    memoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    node: process.version,
    kernel: `${process.platform} ${release()}`,
    redis,
    loadAverage: { start: loadAtStart, end: loadavg()[0]! },
  }
}
