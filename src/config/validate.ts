import type { Dispatcher } from 'undici'
import type { CryptoKey } from 'openid-client'
import { ResourceTokensConfigError } from '../errors/resource-tokens-error.js'
import { isScopeToken } from '../lib/scope-token.js'
import { defaultLogger } from '../observability/logger.js'
import { isLoggerInput, toLogger } from '../observability/logger-shapes.js'
import { resolveTelemetryOptions } from '../telemetry/options.js'
import { isLoopbackHost, isSecureOrLoopback } from '../resources/loopback.js'
import type { RegisteredResource, ResourceDefinition } from '../resources/resource.js'
import type { ClientAuthMethod, ResolvedOptions, ResourceClientOptions } from './options.js'

const AUTH_METHODS: readonly ClientAuthMethod[] = ['client_secret_basic', 'client_secret_post', 'client_secret_jwt', 'private_key_jwt']

/** Validates options once and fills in defaults. Throws `ResourceTokensConfigError` naming the option. */
export function resolveOptions(options: ResourceClientOptions): ResolvedOptions {
  if (typeof options !== 'object' || options === null) fail('options must be an object')
  const issuer = parseUrl(options.issuer, '"issuer"')
  if (issuer.search !== '' || issuer.hash !== '') fail('"issuer" must not have a query or fragment')
  requireSecure(issuer, '"issuer"')
  noUserinfo(issuer, '"issuer"')
  const clientId = requireString(options.clientId, '"clientId"')
  const clientSecret = optionalString(options.clientSecret, '"clientSecret"')
  const clientPrivateKey = resolvePrivateKey(options.clientPrivateKey)
  const clientAuth = options.clientAuth ?? (clientPrivateKey !== undefined && clientSecret === undefined ? 'private_key_jwt' : 'client_secret_basic')
  if (!AUTH_METHODS.includes(clientAuth)) fail(`"clientAuth" must be one of ${AUTH_METHODS.join(', ')}`)
  if (clientAuth === 'private_key_jwt' && clientPrivateKey === undefined) fail('"clientPrivateKey" is required for private_key_jwt')
  if (clientAuth !== 'private_key_jwt' && clientSecret === undefined) fail(`"clientSecret" is required for ${clientAuth}`)

  const redirectUri = parseUrl(options.redirectUri, '"redirectUri"')
  requireSecure(redirectUri, '"redirectUri"')
  noUserinfo(redirectUri, '"redirectUri"')
  if (redirectUri.hash !== '') fail('"redirectUri" must not have a fragment')
  let postLogoutRedirectUri: string | undefined
  if (options.postLogoutRedirectUri !== undefined) {
    const url = parseUrl(options.postLogoutRedirectUri, '"postLogoutRedirectUri"')
    requireSecure(url, '"postLogoutRedirectUri"')
    noUserinfo(url, '"postLogoutRedirectUri"')
    postLogoutRedirectUri = url.href
  }

  const loginScope = options.loginScope === undefined ? [] : splitScope(options.loginScope, '"loginScope"', true)
  const encryptionSecrets = options.encryption?.secrets
  if (options.encryption !== undefined && (!Array.isArray(encryptionSecrets) || encryptionSecrets.length === 0)) {
    fail('"encryption.secrets" must be a non-empty array')
  }

  return {
    issuer,
    clientId,
    clientSecret,
    clientAuth,
    clientPrivateKey,
    redirectUri: redirectUri.href,
    postLogoutRedirectUri,
    resourceIndicators: optionalBoolean(options.resourceIndicators, '"resourceIndicators"') ?? false,
    downscoping: oneOf(options.downscoping, '"downscoping"', ['scope', 'token-exchange', 'none'] as const) ?? 'scope',
    endpoints: resolveEndpoints(options.endpoints),
    pushedAuthorizationRequests: oneOf(options.pushedAuthorizationRequests, '"pushedAuthorizationRequests"', ['auto', 'never'] as const) ?? 'auto',
    loginScope,
    offlineAccess: optionalBoolean(options.offlineAccess, '"offlineAccess"') ?? true,
    skewMs: seconds(options.skewSeconds, '"skewSeconds"', 30, 0) * 1000,
    defaultTokenLifetimeMs: seconds(options.defaultTokenLifetimeSeconds, '"defaultTokenLifetimeSeconds"', 60, 1) * 1000,
    strictScopes: optionalBoolean(options.strictScopes, '"strictScopes"') ?? true,
    timeoutSeconds: seconds(options.timeoutSeconds, '"timeoutSeconds"', 10, 1),
    lockTimeoutMs: seconds(options.lockTimeoutMs, '"lockTimeoutMs"', 10_000, 1),
    lockTtlMs: seconds(options.lockTtlMs, '"lockTtlMs"', 3_000, 100),
    loginTtlSeconds: seconds(options.loginTtlSeconds, '"loginTtlSeconds"', 600, 1),
    grantTtlSeconds: seconds(options.grantTtlSeconds, '"grantTtlSeconds"', 30 * 24 * 3600, 60),
    absoluteSessionMs: optionalSeconds(options.absoluteSessionSeconds, '"absoluteSessionSeconds"'),
    idleSessionMs: optionalSeconds(options.idleSessionSeconds, '"idleSessionSeconds"'),
    cacheSize: seconds(options.cacheSize, '"cacheSize"', 10_000, 0),
    logger: resolveLogger(options.logger),
    telemetry: resolveTelemetryOptions(options),
    fetch: options.fetch ?? globalThis.fetch,
    dispatcher: resolveDispatcher(options.dispatcher),
    now: options.now ?? Date.now,
    encryptionSecrets,
    keyNamespace: `${issuer.href}\n${clientId}`,
  }
}

function resolveDispatcher(value: unknown): Dispatcher | undefined {
  if (value === undefined) return undefined
  if (typeof value !== 'object' || value === null || typeof (value as { dispatch?: unknown }).dispatch !== 'function') {
    fail('"dispatcher" must be an undici Dispatcher (an Agent, Pool or Client of the undici package)')
  }
  return value as Dispatcher
}

/** Validates the resource list and returns the registered resources in the given order. */
export function resolveResources(resources: readonly ResourceDefinition[] | undefined, useIndicators: boolean): RegisteredResource[] {
  if (!Array.isArray(resources) || resources.length === 0) fail('"resources" must be a non-empty array')
  const seen = new Set<string>()
  return resources.map((resource, index) => {
    const at = `"resources[${index}]`
    if (typeof resource !== 'object' || resource === null) fail(`${at}" must be an object`)
    const url = parseUrl(resource.url, `${at}.url"`)
    requireSecure(url, `${at}.url"`)
    noUserinfo(url, `${at}.url"`)
    if (url.search !== '' || url.hash !== '') fail(`${at}.url" must not have a query or fragment`)
    const pathPrefix = url.pathname.replace(/\/+$/, '')
    const id = url.origin + pathPrefix
    if (seen.has(id)) fail(`${at}.url" duplicates another resource`)
    seen.add(id)
    const scope = splitScope(resource.scope, `${at}.scope"`, false).join(' ')
    let indicator = optionalString(resource.indicator, `${at}.indicator"`)
    if (indicator !== undefined) {
      const parsed = parseUrl(indicator, `${at}.indicator"`)
      if (parsed.hash !== '') fail(`${at}.indicator" must not have a fragment (RFC 8707)`)
    } else if (useIndicators) {
      indicator = url.href
    }
    return {
      id,
      name: optionalString(resource.name, `${at}.name"`) ?? id,
      origin: url.origin,
      pathPrefix,
      scope,
      indicator,
      dpop: dpopMode(resource.dpop, `${at}.dpop"`) !== false,
      dpopRequired: resource.dpop === 'required',
      insecureLoopback: url.protocol === 'http:',
    }
  })
}

const ENDPOINT_METADATA = {
  revocation: 'revocation_endpoint',
  introspection: 'introspection_endpoint',
  endSession: 'end_session_endpoint',
  token: 'token_endpoint',
  pushedAuthorizationRequest: 'pushed_authorization_request_endpoint',
} as const

/** Endpoint overrides as discovery metadata names (`revocation` → `revocation_endpoint`). */
function resolveEndpoints(value: ResourceClientOptions['endpoints']): Record<string, string> {
  if (value === undefined) return {}
  if (typeof value !== 'object' || value === null) fail('"endpoints" must be an object')
  const resolved: Record<string, string> = {}
  for (const [name, url] of Object.entries(value)) {
    if (!(name in ENDPOINT_METADATA)) fail(`"endpoints.${name}" is not a known endpoint`)
    if (url === undefined) continue
    const parsed = parseUrl(url, `"endpoints.${name}"`)
    requireSecure(parsed, `"endpoints.${name}"`)
    resolved[ENDPOINT_METADATA[name as keyof typeof ENDPOINT_METADATA]] = parsed.href
  }
  return resolved
}

function oneOf<T extends string>(value: unknown, name: string, allowed: readonly T[]): T | undefined {
  if (value === undefined) return undefined
  if (typeof value !== 'string' || !(allowed as readonly string[]).includes(value)) fail(`${name} must be one of ${allowed.join(', ')}`)
  return value as T
}

/** A resource's `dpop`: `true`, `false` (default) or `'required'`. */
function dpopMode(value: unknown, name: string): boolean | 'required' {
  if (value === undefined) return false
  if (typeof value !== 'boolean' && value !== 'required') fail(`${name} must be true, false or "required"`)
  return value
}

function fail(message: string): never {
  throw new ResourceTokensConfigError(message)
}

function parseUrl(value: unknown, name: string): URL {
  if (typeof value !== 'string' || value === '') fail(`${name} must be a non-empty string`)
  try {
    return new URL(value)
  } catch {
    fail(`${name} must be an absolute URL`)
  }
}

function requireSecure(url: URL, name: string): void {
  if (!isSecureOrLoopback(url)) {
    fail(url.protocol === 'http:' && !isLoopbackHost(url.hostname) ? `${name} must be https outside loopback` : `${name} must be an https URL`)
  }
}

/** A credential in a URL would reach messages, logs and the provider: refused everywhere. */
function noUserinfo(url: URL, name: string): void {
  if (url.username !== '' || url.password !== '') fail(`${name} must not contain userinfo`)
}

function requireString(value: unknown, name: string): string {
  if (typeof value !== 'string' || value === '') fail(`${name} must be a non-empty string`)
  return value
}

function optionalString(value: unknown, name: string): string | undefined {
  return value === undefined ? undefined : requireString(value, name)
}

function optionalBoolean(value: unknown, name: string): boolean | undefined {
  if (value !== undefined && typeof value !== 'boolean') fail(`${name} must be a boolean`)
  return value
}

function seconds(value: unknown, name: string, fallback: number, min: number): number {
  if (value === undefined) return fallback
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min) fail(`${name} must be a number of at least ${min}`)
  return value
}

/** An optional lifetime in seconds (at least 1), as milliseconds; `undefined` when not set. */
function optionalSeconds(value: unknown, name: string): number | undefined {
  return value === undefined ? undefined : seconds(value, name, 0, 1) * 1000
}

function splitScope(value: unknown, name: string, allowEmpty: boolean): string[] {
  if (typeof value !== 'string') fail(`${name} must be a string`)
  const tokens = value.split(' ').filter((t) => t !== '')
  if (!allowEmpty && tokens.length === 0) fail(`${name} must not be empty`)
  for (const token of tokens) if (!isScopeToken(token)) fail(`${name} has an invalid scope token`)
  return tokens
}

function resolvePrivateKey(value: ResourceClientOptions['clientPrivateKey']): { key: CryptoKey; kid?: string } | undefined {
  if (value === undefined) return undefined
  if (isCryptoKey(value)) return { key: value }
  if (typeof value === 'object' && value !== null && isCryptoKey(value.key)) {
    return value.kid === undefined ? { key: value.key } : { key: value.key, kid: value.kid }
  }
  fail('"clientPrivateKey" must be a CryptoKey or { key: CryptoKey, kid?: string }')
}

function isCryptoKey(value: unknown): value is CryptoKey {
  return value instanceof (globalThis as unknown as { CryptoKey: abstract new () => CryptoKey }).CryptoKey
}

/** The logger in this library's shape, whatever shape the app passed (pino, winston, console, a function). */
function resolveLogger(logger: ResourceClientOptions['logger']): ResolvedOptions['logger'] {
  if (logger === undefined) return defaultLogger
  if (!isLoggerInput(logger)) fail('"logger" must be a logger (pino, winston, console), a function, or an object with debug/info/warn/error methods')
  return toLogger(logger)
}
