// @ts-nocheck
// The loggers people pass: real pino and winston instances writing to in-memory streams, console, functions.
import assert from 'node:assert/strict'
import { Console } from 'node:console'
import { Writable } from 'node:stream'
import { test } from 'node:test'
import { pino } from 'pino'
import winston from 'winston'

import { toLogger, type LogLevel } from '../../src/observability/logger-shapes.js'

/** A writable stream that keeps what it was given, line by line. */
function memoryStream(): { stream: Writable; lines: () => string[] } {
  const chunks: string[] = []
  const stream = new Writable({
    write(chunk: Buffer | string, _encoding, done) {
      chunks.push(chunk.toString())
      done()
    },
  })
  return { stream, lines: () => chunks.join('').split('\n').filter((l) => l !== '') }
}

const FIELDS = { grant: 'abc123def456', resource: 'contacts', code: 'token_endpoint_unavailable' }

test('pino: fields become the JSON object, the message is msg, levels map to pino levels', () => {
  const { stream, lines } = memoryStream()
  const logger = toLogger(pino({ level: 'debug' }, stream))
  logger.warn?.('refresh failed', FIELDS)
  logger.debug?.('login started', { grant: 'abc123def456', par: true })
  logger.info?.('no fields')
  logger.error?.('unexpected failure in the express adapter', { cause: 'boom' })
  const records = lines().map((l) => JSON.parse(l) as Record<string, unknown>)
  assert.equal(records.length, 4)
  assert.deepEqual(
    records.map((r) => [r['level'], r['msg']]),
    [
      [40, 'refresh failed'],
      [20, 'login started'],
      [30, 'no fields'],
      [50, 'unexpected failure in the express adapter'],
    ],
  )
  assert.equal(records[0]!['grant'], 'abc123def456')
  assert.equal(records[0]!['code'], 'token_endpoint_unavailable')
  assert.equal(records[0]!['component'], 'resource-tokens')
  assert.equal(records[1]!['par'], true)
  assert.ok(!lines().some((l) => l.includes('[object Object]')), 'no object was turned into a message')
})

test('pino: the logger level still filters, and an existing component binding is kept', () => {
  const { stream, lines } = memoryStream()
  const base = pino({ level: 'warn' }, stream).child({ component: 'billing-tokens' })
  const logger = toLogger(base)
  logger.debug?.('login started', { grant: 'x' })
  logger.info?.('login finished', { grant: 'x' })
  logger.warn?.('refresh failed', FIELDS)
  const records = lines().map((l) => JSON.parse(l) as Record<string, unknown>)
  assert.equal(records.length, 1)
  assert.equal(records[0]!['msg'], 'refresh failed')
  assert.equal(records[0]!['component'], 'billing-tokens')
  assert.equal(lines()[0]!.match(/"component"/g)?.length, 1, 'no duplicate key')
})

test('winston: message is the message, fields are the meta, levels map to winston levels', () => {
  const { stream, lines } = memoryStream()
  const base = winston.createLogger({ level: 'debug', format: winston.format.json(), transports: [new winston.transports.Stream({ stream })] })
  const logger = toLogger(base)
  logger.warn?.('refresh failed', FIELDS)
  logger.debug?.('login started', { grant: 'abc123def456', par: false })
  logger.info?.('no fields')
  const records = lines().map((l) => JSON.parse(l) as Record<string, unknown>)
  assert.deepEqual(
    records.map((r) => [r['level'], r['message']]),
    [
      ['warn', 'refresh failed'],
      ['debug', 'login started'],
      ['info', 'no fields'],
    ],
  )
  assert.equal(records[0]!['resource'], 'contacts')
  assert.equal(records[0]!['component'], 'resource-tokens')
  assert.equal(records[1]!['par'], false)
  assert.equal(Object.keys(records[2]!).sort().join(','), 'component,level,message', 'no stray meta without fields')
})

test('winston with syslog levels: warn goes to warning, and the level filters', () => {
  const { stream, lines } = memoryStream()
  const base = winston.createLogger({ levels: winston.config.syslog.levels, level: 'info', format: winston.format.json(), transports: [new winston.transports.Stream({ stream })] })
  const logger = toLogger(base)
  logger.warn?.('refresh failed', FIELDS)
  logger.debug?.('filtered out')
  logger.error?.('failed hard')
  const records = lines().map((l) => JSON.parse(l) as Record<string, unknown>)
  assert.deepEqual(records.map((r) => [r['level'], r['message']]), [
    ['warning', 'refresh failed'],
    ['error', 'failed hard'],
  ])
})

test('console (and any Console): every level, message prefixed, fields as the second argument', () => {
  const out = memoryStream()
  const err = memoryStream()
  const target = new Console({ stdout: out.stream, stderr: err.stream, colorMode: false })
  const logger = toLogger(target)
  logger.info?.('login finished', { grant: 'abc123def456' })
  logger.warn?.('refresh failed', FIELDS)
  logger.debug?.('no fields')
  assert.deepEqual(out.lines(), ["resource-tokens: login finished { grant: 'abc123def456' }", 'resource-tokens: no fields '])
  assert.match(err.lines().join('\n'), /^resource-tokens: refresh failed \{/)
  assert.match(err.lines().join('\n'), /code: 'token_endpoint_unavailable'/)
})

test('a function gets (level, message, fields)', () => {
  const calls: Array<[LogLevel, string, Record<string, unknown> | undefined]> = []
  const logger = toLogger((level, message, fields) => calls.push([level, message, fields]))
  logger.debug?.('a')
  logger.info?.('b', { grant: 'g' })
  logger.warn?.('c', FIELDS)
  logger.error?.('d')
  assert.deepEqual(calls, [
    ['debug', 'a', undefined],
    ['info', 'b', { grant: 'g' }],
    ['warn', 'c', FIELDS],
    ['error', 'd', undefined],
  ])
})

test('a Logger object ({ warn(message, fields) }) is used as it is', () => {
  const own = { warn: (_message: string, _fields?: Record<string, unknown>) => undefined }
  assert.equal(toLogger(own), own)
  const silent = {}
  assert.equal(toLogger(silent), silent)
})
