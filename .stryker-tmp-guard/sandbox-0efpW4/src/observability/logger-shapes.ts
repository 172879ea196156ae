// @ts-nocheck
import { Console } from 'node:console'
import type { Logger } from './logger.js'

/** The levels this library logs at. */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error'

/** A plain function: called with the level, the message and the fields (which may be omitted). */
export type LogFunction = (level: LogLevel, message: string, fields?: Record<string, unknown>) => void

/**
 * A pino logger (recognised by pino's `levels.values` and `levels.labels`; called as `(fields, message)`).
 * Only what recognition needs is typed: any pino instance fits.
 */
export interface PinoLikeLogger {
  levels: { values: Record<string, number>; labels: Record<number, string> }
}

/**
 * A winston logger (recognised by its numeric `levels` map and `log`; called as `log(level, message, meta)`).
 * Only what recognition needs is typed: any winston logger fits.
 */
export interface WinstonLikeLogger {
  levels: Record<string, number>
  log(level: string, message: string, meta?: Record<string, unknown>): unknown
}

/**
 * What the `logger` option accepts:
 * - an object with `debug`/`info`/`warn`/`error` methods called as `(message, fields)` (this library's
 *   {@link Logger}; `{}` is silence);
 * - `console` (or a `Console`): every level, messages prefixed with `resource-tokens:`;
 * - a pino logger: called as `(fields, message)`, through `child({ component: 'resource-tokens' })`;
 * - a winston logger: called as `log(level, message, fields)`, through `child({ component: 'resource-tokens' })`;
 *   with the syslog levels, `warn` goes to `warning`;
 * - a function `(level, message, fields)`.
 * Fields are the same whatever the shape: never a token, code, verifier, secret or the raw grant key.
 */
// `console` fits `Logger` as it is; it is recognised at run time.
export type LoggerInput = Logger | PinoLikeLogger | WinstonLikeLogger | LogFunction

const LEVELS: readonly LogLevel[] = ['debug', 'info', 'warn', 'error']

/** Where a level goes when a logger does not have it (custom or syslog levels), nearest first. */
const FALLBACKS: Readonly<Record<LogLevel, readonly string[]>> = {
  debug: ['debug', 'verbose', 'trace', 'info'],
  info: ['info', 'notice', 'debug'],
  warn: ['warn', 'warning', 'notice', 'error'],
  error: ['error', 'err', 'crit', 'fatal', 'warn'],
}

const COMPONENT = 'resource-tokens'

/**
 * Turns whatever logger the app passes into this library's {@link Logger} shape. The shape is detected
 * once, when options are validated: pino by `levels.values`, winston by a numeric `levels` map and `log`,
 * `console` by identity (or `instanceof Console`), a function by its type; anything else is taken as a
 * {@link Logger} already and returned unchanged.
 */
export function toLogger(input: LoggerInput): Logger {
  if (typeof input === 'function') return fromFunction(input)
  if (isPino(input)) return fromPino(input)
  if (isWinston(input)) return fromWinston(input)
  if (input === globalThis.console || input instanceof Console) return fromConsole(input as unknown as Console)
  return input as Logger
}

/** True when `input` is something {@link toLogger} can use. */
export function isLoggerInput(input: unknown): input is LoggerInput {
  if (typeof input === 'function') return true
  if (typeof input !== 'object' || input === null) return false
  // A Logger object: every level it has must be a function.
  return LEVELS.every((level) => {
    const method = (input as Record<string, unknown>)[level]
    return method === undefined || typeof method === 'function'
  })
}

/** What the adapter calls on a pino logger: its level methods, and `child`/`bindings` when present. */
type PinoInstance = PinoLikeLogger & { child?(bindings: Record<string, unknown>): PinoInstance; bindings?(): Record<string, unknown> } & Record<string, unknown>

/** What the adapter calls on a winston logger. */
type WinstonInstance = WinstonLikeLogger & { child?(meta: Record<string, unknown>): WinstonInstance; defaultMeta?: unknown }

function isPino(input: object): input is PinoInstance {
  const levels = (input as { levels?: { values?: unknown; labels?: unknown } }).levels
  return typeof levels === 'object' && levels !== null && typeof levels.values === 'object' && levels.values !== null && typeof levels.labels === 'object'
}

function isWinston(input: object): input is WinstonInstance {
  const candidate = input as { levels?: unknown; log?: unknown }
  if (typeof candidate.log !== 'function' || typeof candidate.levels !== 'object' || candidate.levels === null) return false
  const values = Object.values(candidate.levels)
  return values.length > 0 && values.every((v) => typeof v === 'number')
}

function fromFunction(log: LogFunction): Logger {
  return {
    debug: (message, fields) => log('debug', message, fields),
    info: (message, fields) => log('info', message, fields),
    warn: (message, fields) => log('warn', message, fields),
    error: (message, fields) => log('error', message, fields),
  }
}

function fromPino(input: PinoInstance): Logger {
  const bound = typeof input.bindings === 'function' && 'component' in input.bindings()
  const logger = !bound && typeof input.child === 'function' ? input.child({ component: COMPONENT }) : input
  const out: Logger = {}
  for (const level of LEVELS) {
    const name = FALLBACKS[level].find((candidate) => candidate in logger.levels.values && typeof logger[candidate] === 'function')
    if (name === undefined) continue
    const method = logger[name] as (fields: Record<string, unknown>, message: string) => void
    out[level] = (message, fields) => method.call(logger, fields ?? {}, message)
  }
  return out
}

function fromWinston(input: WinstonInstance): Logger {
  const meta = input.defaultMeta
  const bound = typeof meta === 'object' && meta !== null && 'component' in meta
  const logger = !bound && typeof input.child === 'function' ? input.child({ component: COMPONENT }) : input
  const out: Logger = {}
  for (const level of LEVELS) {
    const name = FALLBACKS[level].find((candidate) => candidate in logger.levels)
    if (name === undefined) continue
    out[level] = (message, fields) => {
      // Two arguments when there are no fields: winston would format an `undefined` meta into the message.
      if (fields === undefined) logger.log(name, message)
      else logger.log(name, message, { ...fields })
    }
  }
  return out
}

function fromConsole(target: Console): Logger {
  return {
    debug: (message, fields) => target.debug(`${COMPONENT}: ${message}`, fields ?? ''),
    info: (message, fields) => target.info(`${COMPONENT}: ${message}`, fields ?? ''),
    warn: (message, fields) => target.warn(`${COMPONENT}: ${message}`, fields ?? ''),
    error: (message, fields) => target.error(`${COMPONENT}: ${message}`, fields ?? ''),
  }
}
