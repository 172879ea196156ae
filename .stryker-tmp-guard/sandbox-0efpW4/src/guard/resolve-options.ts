// @ts-nocheck
// Validates VerifyAccessTokenOptions once, eagerly, and turns them into the shape the verifier runs on.
import { ResourceTokensConfigError } from '../errors/resource-tokens-error.js'
import { isSecureOrLoopback } from '../resources/loopback.js'
import type { GuardChallengeContext } from './guard-error.js'
import type { VerifyAccessTokenOptions } from './verify-access-token.js'
import type { TokenStore } from '../stores/token-store.js'
import { isScopeToken } from '../lib/scope-token.js'

/** Signature algorithms a verifier may be configured with: asymmetric only, never `none` or HMAC. */
export const ASYMMETRIC_ALGORITHMS: ReadonlySet<string> = new Set([
  'RS256', 'RS384', 'RS512',
  'PS256', 'PS384', 'PS512',
  'ES256', 'ES384', 'ES512',
  'EdDSA', 'Ed25519',
])

export const DEFAULT_ALGORITHMS = ['RS256', 'PS256', 'ES256', 'EdDSA'] as const
export const DEFAULT_DPOP_ALGORITHMS = ['ES256', 'EdDSA', 'Ed25519', 'PS256', 'RS256'] as const

export interface ResolvedIntrospection {
  endpoint: URL | undefined
  clientId: string
  clientSecret: string
  cacheMs: number
  /** Refuse introspected tokens without `aud` (default): a token meant for no one in particular is not ours. */
  requireAudience: boolean
}

export interface ResolvedDpop {
  required: boolean
  algorithms: string[]
  iatWindowSeconds: number
  nonce: { key: Uint8Array; windowMs: number } | undefined
}

export interface ResolvedOptions {
  issuer: string
  audience: string
  scopes: string[]
  algorithms: string[]
  leewaySeconds: number
  jwksUri: URL | undefined
  jwksCooldownMs: number
  introspection: ResolvedIntrospection | undefined
  dpop: ResolvedDpop | undefined
  /** Shared DPoP replay cache, when given. */
  store: TokenStore | undefined
  challenge: GuardChallengeContext
  fetch: typeof fetch
  now: () => number
}

function fail(message: string): never {
  throw new ResourceTokensConfigError(message)
}

function nonEmptyString(value: unknown, name: string): string {
  if (typeof value !== 'string' || value.length === 0) fail(`"${name}" must be a non-empty string`)
  return value
}

function secureUrl(value: unknown, name: string): URL {
  const text = nonEmptyString(value, name)
  let url: URL
  try {
    url = new URL(text)
  } catch {
    return fail(`"${name}" must be an absolute URL`)
  }
  if (!isSecureOrLoopback(url)) fail(`"${name}" must be https outside loopback`)
  if (url.hash !== '') fail(`"${name}" must not have a fragment`)
  return url
}

function seconds(value: unknown, name: string, fallback: number, { positive = false } = {}): number {
  if (value === undefined) return fallback
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || (positive && value === 0)) {
    fail(`"${name}" must be a ${positive ? 'positive' : 'non-negative'} number of seconds`)
  }
  return value
}

function algorithmList(value: unknown, name: string, fallback: readonly string[]): string[] {
  if (value === undefined) return [...fallback]
  if (!Array.isArray(value) || value.length === 0) fail(`"${name}" must be a non-empty array`)
  return value.map((alg: unknown, index) => {
    if (typeof alg !== 'string' || !ASYMMETRIC_ALGORITHMS.has(alg)) {
      fail(`"${name}[${index}]" must be one of ${[...ASYMMETRIC_ALGORITHMS].join(', ')}`)
    }
    return alg
  })
}

function secretBytes(value: unknown, name: string): Uint8Array {
  const bytes = typeof value === 'string' ? new TextEncoder().encode(value) : value instanceof Uint8Array ? value : undefined
  if (bytes === undefined) fail(`"${name}" must be a string or a Uint8Array`)
  if (bytes.byteLength < 32) fail(`"${name}" must be at least 32 bytes`)
  return Uint8Array.from(bytes)
}

function scopeList(value: unknown): string[] {
  if (value === undefined) return []
  if (!Array.isArray(value)) fail('"scopes" must be an array of strings')
  return value.map((scope: unknown, index) => {
    if (typeof scope !== 'string' || !isScopeToken(scope)) fail(`"scopes[${index}]" must be a scope token`)
    return scope
  })
}

function resolveIntrospection(config: NonNullable<VerifyAccessTokenOptions['introspection']>): ResolvedIntrospection {
  if (typeof config !== 'object' || config === null) fail('"introspection" must be an object')
  return {
    endpoint: config.endpoint === undefined ? undefined : secureUrl(config.endpoint, 'introspection.endpoint'),
    clientId: nonEmptyString(config.clientId, 'introspection.clientId'),
    clientSecret: nonEmptyString(config.clientSecret, 'introspection.clientSecret'),
    cacheMs: seconds(config.cacheSeconds, 'introspection.cacheSeconds', 30) * 1000,
    requireAudience: config.requireAudience ?? true,
  }
}

function resolveDpop(config: NonNullable<VerifyAccessTokenOptions['dpop']>): ResolvedDpop {
  if (typeof config !== 'object' || config === null) fail('"dpop" must be an object')
  if (config.required !== undefined && typeof config.required !== 'boolean') fail('"dpop.required" must be a boolean')
  let nonce: ResolvedDpop['nonce']
  if (config.nonce !== undefined) {
    if (typeof config.nonce !== 'object' || config.nonce === null) fail('"dpop.nonce" must be an object')
    nonce = {
      key: secretBytes(config.nonce.secret, 'dpop.nonce.secret'),
      windowMs: seconds(config.nonce.windowSeconds, 'dpop.nonce.windowSeconds', 300, { positive: true }) * 1000,
    }
  }
  return {
    required: config.required ?? false,
    algorithms: algorithmList(config.algorithms, 'dpop.algorithms', DEFAULT_DPOP_ALGORITHMS),
    iatWindowSeconds: seconds(config.iatWindowSeconds, 'dpop.iatWindowSeconds', 60, { positive: true }),
    nonce,
  }
}

/** Checks every option and fills in defaults. Throws {@link ResourceTokensConfigError}. */
export function resolveOptions(options: VerifyAccessTokenOptions): ResolvedOptions {
  if (typeof options !== 'object' || options === null) fail('options must be an object')
  const issuerUrl = secureUrl(options.issuer, 'issuer')
  const issuer = options.issuer
  if (issuerUrl.search !== '') fail('"issuer" must not have a query')
  const audience = nonEmptyString(options.audience, 'audience')

  const scopes = scopeList(options.scopes)

  const algorithms = algorithmList(options.algorithms, 'algorithms', DEFAULT_ALGORITHMS)
  const leewaySeconds = seconds(options.leewaySeconds, 'leewaySeconds', 5)
  const jwksUri = options.jwksUri === undefined ? undefined : secureUrl(options.jwksUri, 'jwksUri')
  const jwksCooldownMs = seconds(options.jwksCooldownSeconds, 'jwksCooldownSeconds', 30) * 1000

  const introspection = options.introspection === undefined ? undefined : resolveIntrospection(options.introspection)
  const dpop = options.dpop === undefined ? undefined : resolveDpop(options.dpop)

  const challenge: GuardChallengeContext = { bearer: dpop?.required !== true }
  if (dpop !== undefined) challenge.dpopAlgorithms = dpop.algorithms
  if (options.resourceMetadataUrl !== undefined) {
    challenge.resourceMetadataUrl = secureUrl(options.resourceMetadataUrl, 'resourceMetadataUrl').href
  }

  if (options.fetch !== undefined && typeof options.fetch !== 'function') fail('"fetch" must be a function')
  if (options.now !== undefined && typeof options.now !== 'function') fail('"now" must be a function')
  const store = options.store
  if (store !== undefined && (typeof store !== 'object' || store === null || typeof store.compareAndSet !== 'function')) {
    fail('"store" must be a TokenStore (e.g. a RedisStore)')
  }

  return {
    issuer,
    audience,
    scopes,
    algorithms,
    leewaySeconds,
    jwksUri,
    jwksCooldownMs,
    introspection,
    dpop,
    store,
    challenge,
    fetch: options.fetch ?? ((input, init) => fetch(input, init)),
    now: options.now ?? Date.now,
  }
}
