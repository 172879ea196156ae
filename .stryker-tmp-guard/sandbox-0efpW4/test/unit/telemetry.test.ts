// @ts-nocheck
// The telemetry module against the real OpenTelemetry SDK (in-memory exporters), before any wiring.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { trace } from '@opentelemetry/api'
import { MemoryStore } from 'resource-tokens'

// From the source, as the module under test: the status message is kept for this library's errors only.
import { ResourceTokensError } from '../../src/errors/resource-tokens-error.js'
import { createTelemetry } from '../../src/telemetry/create-telemetry.js'
import { instrumentStore } from '../../src/telemetry/instrumented-store.js'
import { ATTR, METRIC, SPAN } from '../../src/telemetry/names.js'
import { resolveTelemetryOptions } from '../../src/telemetry/options.js'
import { NOOP_TELEMETRY } from '../../src/telemetry/telemetry.js'
import { startTestTelemetry } from '../support/telemetry.js'

test('an operation is a child span of the active context, with outcome, metrics and dimensions', async () => {
  const sdk = startTestTelemetry()
  const telemetry = await createTelemetry(resolveTelemetryOptions({ tracerProvider: sdk.tracerProvider, meterProvider: sdk.meterProvider }))
  assert.equal(telemetry.enabled, true)
  const app = sdk.tracerProvider.getTracer('app')
  await app.startActiveSpan('GET /inbox', async (parent) => {
    await telemetry.operation(
      { span: SPAN.tokenRequest, attributes: { [ATTR.grant]: 'abc123def456' }, dimensions: { [ATTR.tokenRequestKind]: 'refresh', [ATTR.resource]: 'contacts' }, duration: 'tokenRequestDuration', count: 'tokenRequests' },
      async (scope) => {
        scope.set({ [ATTR.rotated]: true, ignored: undefined })
      },
    )
    parent.end()
  })
  const [span] = sdk.spansNamed(SPAN.tokenRequest)
  const [parent] = sdk.spansNamed('GET /inbox')
  assert.ok(span !== undefined && parent !== undefined)
  assert.equal(span.parentSpanContext?.spanId, parent.spanContext().spanId)
  assert.deepEqual(span.attributes, {
    [ATTR.grant]: 'abc123def456',
    [ATTR.tokenRequestKind]: 'refresh',
    [ATTR.resource]: 'contacts',
    [ATTR.rotated]: true,
    [ATTR.outcome]: 'ok',
  })
  assert.equal(await sdk.counter(METRIC.tokenRequests, { [ATTR.tokenRequestKind]: 'refresh', [ATTR.resource]: 'contacts', [ATTR.outcome]: 'ok' }), 1)
  const duration = await sdk.histogram(METRIC.tokenRequestDuration, { [ATTR.outcome]: 'ok' })
  assert.equal(duration.count, 1)
  const metric = (await sdk.metrics()).find((m) => m.descriptor.name === METRIC.tokenRequestDuration)
  assert.equal(metric?.descriptor.unit, 's')
  const grantOnMetric = (await sdk.metrics()).some((m) => m.dataPoints.some((p) => ATTR.grant in p.attributes))
  assert.equal(grantOnMetric, false, 'the grant reference is span-only')
  await sdk.shutdown()
})

test('a failed operation records error.type, the OAuth error and status, and counts a failure', async () => {
  const sdk = startTestTelemetry()
  const telemetry = await createTelemetry(resolveTelemetryOptions({ tracerProvider: sdk.tracerProvider, meterProvider: sdk.meterProvider }))
  const failure = new ResourceTokensError('token_endpoint_error', 'refresh for contacts failed: invalid_scope', { error: 'invalid_scope', status: 400 })
  await assert.rejects(
    telemetry.operation({ span: SPAN.tokenRequest, dimensions: { [ATTR.resource]: 'contacts' }, count: 'tokenRequests', failures: 'refreshFailures' }, async () => {
      throw failure
    }),
    (err) => err === failure,
  )
  await assert.rejects(telemetry.operation({ span: 'other', failures: 'refreshFailures' }, async () => Promise.reject(new TypeError('fetch failed: https://user:pass@x'))))
  const [span, other] = sdk.spans()
  assert.equal(span?.attributes[ATTR.errorType], 'token_endpoint_error')
  assert.equal(span?.attributes[ATTR.outcome], 'token_endpoint_error')
  assert.equal(span?.attributes[ATTR.oauthError], 'invalid_scope')
  assert.equal(span?.attributes[ATTR.httpStatus], 400)
  assert.equal(span?.status.code, 2)
  assert.equal(span?.status.message, failure.message)
  assert.equal(other?.attributes[ATTR.errorType], 'TypeError')
  assert.equal(other?.status.message, undefined, 'foreign messages may carry URLs: not recorded')
  assert.equal(await sdk.counter(METRIC.refreshFailures, { [ATTR.resource]: 'contacts', [ATTR.errorType]: 'token_endpoint_error' }), 1)
  assert.equal(await sdk.counter(METRIC.tokenRequests, { [ATTR.outcome]: 'token_endpoint_error' }), 1)
  await sdk.shutdown()
})

test('cache lookups are counted per resource by an asynchronous counter', async () => {
  const sdk = startTestTelemetry()
  const telemetry = await createTelemetry(resolveTelemetryOptions({ tracerProvider: sdk.tracerProvider, meterProvider: sdk.meterProvider }))
  for (let i = 0; i < 5; i++) telemetry.cacheLookup('contacts', true)
  telemetry.cacheLookup('contacts', false)
  telemetry.cacheLookup('calendar', false)
  assert.equal(await sdk.counter(METRIC.cacheLookups, { [ATTR.resource]: 'contacts', [ATTR.cacheResult]: 'hit' }), 5)
  assert.equal(await sdk.counter(METRIC.cacheLookups, { [ATTR.resource]: 'contacts', [ATTR.cacheResult]: 'miss' }), 1)
  assert.equal(await sdk.counter(METRIC.cacheLookups, { [ATTR.resource]: 'calendar', [ATTR.cacheResult]: 'miss' }), 1)
  assert.equal(sdk.spans().length, 0, 'a lookup is never a span')
  await sdk.shutdown()
})

test('identity attributes only when the user opted in', async () => {
  for (const recordIdentity of [false, true]) {
    const sdk = startTestTelemetry()
    const telemetry = await createTelemetry(resolveTelemetryOptions({ tracerProvider: sdk.tracerProvider, meterProvider: sdk.meterProvider, telemetry: { recordIdentity } }))
    await telemetry.operation({ span: SPAN.loginCallback }, async (scope) => scope.identity('alice', 'sid-1'))
    const [span] = sdk.spans()
    assert.equal(span?.attributes[ATTR.enduserId], recordIdentity ? 'alice' : undefined)
    assert.equal(span?.attributes[ATTR.sessionId], recordIdentity ? 'sid-1' : undefined)
    await sdk.shutdown()
  }
})

test('the instrumented store: spans for data operations, metrics only for lock polling, failures counted', async () => {
  const sdk = startTestTelemetry()
  const telemetry = await createTelemetry(resolveTelemetryOptions({ tracerProvider: sdk.tracerProvider, meterProvider: sdk.meterProvider }))
  const inner = new MemoryStore()
  const store = instrumentStore(inner, telemetry)
  assert.equal(store.inProcess, true)
  assert.equal(typeof store.subscribe, 'function')
  await store.set('grant:k', 'v')
  assert.equal(await store.get('grant:k'), 'v')
  assert.equal(await store.compareAndSet('grant:k', 'v', 'w'), true)
  assert.equal(await store.take('grant:k'), 'w')
  assert.equal(await store.tryLock('lock:k', 'me', 1000), true)
  await store.unlock('lock:k', 'me')
  assert.deepEqual(sdk.spans().map((s) => s.name), ['resource_tokens.store.set', 'resource_tokens.store.get', 'resource_tokens.store.compare_and_set', 'resource_tokens.store.take'])
  assert.equal((await sdk.histogram(METRIC.storeOperationDuration, { [ATTR.storeOperation]: 'try_lock' })).count, 1)
  // A simulated backend outage (mock, named so): a real Redis outage is exercised in redis-outage.test.ts.
  class DownStore extends MemoryStore {
    override get(): Promise<string | undefined> {
      return Promise.reject(new ResourceTokensError('store_unavailable', 'redis is down'))
    }
    override tryLock(): Promise<boolean> {
      return Promise.reject(new ResourceTokensError('store_unavailable', 'redis is down'))
    }
  }
  const failing = instrumentStore(new DownStore(), telemetry)
  await assert.rejects(failing.get('grant:k'))
  await assert.rejects(failing.tryLock('lock:k', 'me', 1000))
  assert.equal(await sdk.counter(METRIC.storeFailures, { [ATTR.storeOperation]: 'get', [ATTR.errorType]: 'store_unavailable' }), 1)
  assert.equal(await sdk.counter(METRIC.storeFailures, { [ATTR.storeOperation]: 'try_lock', [ATTR.errorType]: 'store_unavailable' }), 1)
  for (const span of sdk.spans()) assert.ok(!Object.values(span.attributes).some((v) => String(v).includes('grant:k')), 'store keys are not recorded')
  await sdk.shutdown()
})

test('telemetry turned off, or unconfigured: the no-op, and the global providers by default', async () => {
  assert.equal(await createTelemetry(resolveTelemetryOptions({ telemetry: { enabled: false } })), NOOP_TELEMETRY)
  const store = new MemoryStore()
  assert.equal(instrumentStore(store, NOOP_TELEMETRY), store, 'no wrapper, no cost')
  const sdk = startTestTelemetry()
  trace.setGlobalTracerProvider(sdk.tracerProvider)
  try {
    const telemetry = await createTelemetry(resolveTelemetryOptions({}))
    await telemetry.operation({ span: SPAN.guardVerify }, async () => undefined)
    assert.deepEqual(sdk.spans().map((s) => s.name), [SPAN.guardVerify])
  } finally {
    trace.disable()
    await sdk.shutdown()
  }
})

test('bad telemetry options are configuration errors', () => {
  assert.throws(() => resolveTelemetryOptions({ tracerProvider: {} as never }), { code: 'invalid_config', message: /tracerProvider/ })
  assert.throws(() => resolveTelemetryOptions({ meterProvider: 'x' as never }), { code: 'invalid_config', message: /meterProvider/ })
  assert.throws(() => resolveTelemetryOptions({ telemetry: { recordIdentity: 'yes' as never } }), { code: 'invalid_config', message: /recordIdentity/ })
})
