// @ts-nocheck
// Without @opentelemetry/api installed, telemetry is the no-op and nothing of OpenTelemetry is loaded.
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { test } from 'node:test'

const run = promisify(execFile)
const root = fileURLToPath(new URL('../../', import.meta.url))

test('an app without @opentelemetry/api gets the no-op telemetry and loads none of it', async () => {
  const script = `
    const { createTelemetry } = await import('./src/telemetry/create-telemetry.ts')
    const { resolveTelemetryOptions } = await import('./src/telemetry/options.ts')
    const { MemoryStore } = await import('resource-tokens')
    const { instrumentStore } = await import('./src/telemetry/instrumented-store.ts')
    const telemetry = await createTelemetry(resolveTelemetryOptions({}))
    const store = new MemoryStore()
    const result = {
      enabled: telemetry.enabled,
      sameStore: instrumentStore(store, telemetry) === store,
      ran: await telemetry.operation({ span: 'x' }, async () => 'ran'),
      // The hooks report loads through a port: let the last messages arrive.
      seen: await new Promise((r) => setTimeout(r, 100)).then(() => globalThis.__loadedModules.some((u) => u.includes('create-telemetry'))),
      loaded: globalThis.__loadedModules.filter((u) => u.includes('opentelemetry')),
    }
    console.log(JSON.stringify(result))
  `
  const { stdout } = await run(process.execPath, ['--import', './test/support/without-opentelemetry.mjs', '--import', 'tsx', '--input-type=module', '-e', script], { cwd: root })
  const result = JSON.parse(stdout.trim().split('\n').at(-1) ?? '{}') as Record<string, unknown>
  assert.deepEqual(result, { enabled: false, sameStore: true, ran: 'ran', seen: true, loaded: [] })
})

test('the same script with @opentelemetry/api installed loads it (the check above can fail)', async () => {
  const script = `
    const { createTelemetry } = await import('./src/telemetry/create-telemetry.ts')
    const { resolveTelemetryOptions } = await import('./src/telemetry/options.ts')
    const telemetry = await createTelemetry(resolveTelemetryOptions({}))
    console.log(JSON.stringify({ enabled: telemetry.enabled }))
  `
  const { stdout } = await run(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: root })
  assert.deepEqual(JSON.parse(stdout.trim().split('\n').at(-1) ?? '{}'), { enabled: true })
})
