/**
 * Everything the benchmark starts registers how to stop it here; `run` stops it all, newest first, even
 * when the benchmark failed half way. A failing step is reported and does not keep the others from running.
 */
export class Cleanup {
  readonly #steps: Array<{ name: string; stop: () => Promise<void> | void }> = []
  #done = false

  defer(name: string, stop: () => Promise<void> | void): void {
    this.#steps.push({ name, stop })
  }

  async run(): Promise<void> {
    if (this.#done) return
    this.#done = true
    for (const step of this.#steps.reverse()) {
      try {
        await withTimeout(Promise.resolve(step.stop()), 5000)
      } catch (err) {
        console.error(`cleanup: stopping ${step.name} failed: ${err instanceof Error ? err.message : String(err)}`)
      }
    }
  }
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms)
  })
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer))
}
