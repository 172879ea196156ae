import type { ResourceClientOptions } from '../config/options.js'
import { resolveOptions, resolveResources } from '../config/validate.js'
import { DPoPKeys } from '../dpop/dpop-keys.js'
import { ResourceTokensConfigError } from '../errors/resource-tokens-error.js'
import { GrantLock } from '../grants/grant-lock.js'
import { GrantRepository } from '../grants/grant-repository.js'
import { GrantTermination } from '../grants/grant-termination.js'
import { GrantWriter } from '../grants/grant-writer.js'
import { SessionIndex } from '../grants/session-index.js'
import { SessionLifetime } from '../grants/session-lifetime.js'
import { StoreKeys } from '../grants/store-keys.js'
import { LoginFlow } from '../login/login-flow.js'
import { LogoutTokenVerifier } from '../login/logout-token.js'
import { TypedEmitter } from '../observability/events.js'
import { ProviderClient, TOKEN_EXCHANGE } from '../protocol/provider-client.js'
import { resolveDiscovery, resolveMaxRuntimeResources } from '../config/runtime-resources.js'
import { ResourceDiscovery } from '../fetch/resource-discovery.js'
import { ResourceRegistry } from '../resources/resource-registry.js'
import { MemoryStore } from '../stores/memory-store.js'
import { downscopingFor } from '../tokens/downscoping/index.js'
import { GrantDPoP } from '../tokens/grant-dpop.js'
import { GrantRefresher } from '../tokens/grant-refresher.js'
import { ScopeCheck } from '../tokens/scope-check.js'
import { DeadRefreshTokens } from '../grants/dead-refresh-token.js'
import { ServiceTokens } from '../tokens/service-tokens.js'
import { TokenManager } from '../tokens/token-manager.js'
import { createTelemetry } from '../telemetry/create-telemetry.js'
import { countEvents } from '../telemetry/event-metrics.js'
import { instrumentStore } from '../telemetry/instrumented-store.js'
import { prepareStore } from './prepare-store.js'
import { ResourceClient } from './resource-client.js'
import { RuntimeResources } from './runtime-resources.js'

/**
 * Creates a client: validates the options, reads the provider's discovery document, and prepares the store.
 *
 * @throws `ResourceTokensConfigError` (`invalid_config`) for bad options, naming the option;
 * `ResourceTokensError` `discovery_failed` when discovery fails or its `issuer` differs from `issuer`.
 * @example
 * ```ts
 * const client = await createResourceClient({
 *   issuer: 'https://as.example.com',
 *   clientId: 'app', clientSecret: process.env.CLIENT_SECRET,
 *   redirectUri: 'https://app.example.com/callback',
 *   resources: [{ url: 'https://contacts.example.com/api', scope: 'contacts:read' }],
 * })
 * ```
 */
export async function createResourceClient(options: ResourceClientOptions): Promise<ResourceClient> {
  const resolved = resolveOptions(options)
  const resources = resolveResources(options.resources, resolved.resourceIndicators)
  const discoveryPolicy = resolveDiscovery(options.discovery)
  const registry = new ResourceRegistry(resources, resolveMaxRuntimeResources(options.maxRuntimeResources))
  const userStore = options.store
  // Loads @opentelemetry/api when installed and enabled; the no-op otherwise.
  const telemetry = await createTelemetry(resolved.telemetry)
  const store = instrumentStore(prepareStore(userStore ?? new MemoryStore({ now: resolved.now }), resolved.encryptionSecrets), telemetry)
  const provider = await ProviderClient.discover(resolved, telemetry)
  if (resolved.downscoping === 'none') {
    resolved.logger.warn?.('downscoping is "none": every resource receives the same full-scope token, so a compromised resource can replay it on the others')
  }
  if (resolved.downscoping === 'token-exchange' && provider.supportsGrant(TOKEN_EXCHANGE) === false) {
    throw new ResourceTokensConfigError('"downscoping" is "token-exchange" but the provider does not offer the token-exchange grant (RFC 8693)')
  }
  const events = new TypedEmitter()
  countEvents(events, telemetry)
  const { now, logger } = resolved
  const grants = new GrantRepository(store, { cacheSize: resolved.cacheSize, grantTtlSeconds: resolved.grantTtlSeconds, now })
  const keys = new StoreKeys(resolved.keyNamespace)
  const index = new SessionIndex({ store, namespace: resolved.keyNamespace, secrets: resolved.encryptionSecrets, ttlSeconds: resolved.grantTtlSeconds, now, logger })
  const writer = new GrantWriter({ grants, index, revoker: provider, events, logger, now })
  const termination = new GrantTermination({ grants, index, revoker: provider, events, logger })
  const sessions = new SessionLifetime({ absoluteMs: resolved.absoluteSessionMs, idleMs: resolved.idleSessionMs, termination, now })
  const logoutTokens = new LogoutTokenVerifier({
    metadata: provider.metadata,
    clientId: resolved.clientId,
    store,
    namespace: resolved.keyNamespace,
    now,
    timeoutSeconds: resolved.timeoutSeconds,
    fetch: resolved.fetch,
  })
  const dpopKeys = new DPoPKeys(provider)
  const dpop = new GrantDPoP({ keys: dpopKeys, writer })
  const tokenTimes = { now, skewMs: resolved.skewMs, defaultTokenLifetimeMs: resolved.defaultTokenLifetimeMs }
  const scopes = new ScopeCheck({ events, logger, strictScopes: resolved.strictScopes })
  const deadTokens = new DeadRefreshTokens({ now })
  const refresher = new GrantRefresher({ provider, grants, writer, dpop, scopes, deadTokens, events, options: { ...tokenTimes, logger } })
  const tokens = new TokenManager({
    grants,
    lock: new GrantLock(store, { ttlMs: resolved.lockTtlMs, timeoutMs: resolved.lockTimeoutMs, telemetry }),
    keys,
    downscoping: downscopingFor(resolved.downscoping, { provider, grants, refresher, writer, dpop, scopes, events, options: tokenTimes }),
    dpop,
    sessions,
    events,
    logger,
    now,
    telemetry,
    maxKeys: resolved.cacheSize,
    resourcesVersion: () => registry.version,
  })
  const service = new ServiceTokens(provider, dpopKeys, events, logger, tokenTimes, telemetry)
  // The registry's live list: a login also asks for the resources registered at run time.
  const login = new LoginFlow({ provider, store, keys, writer, resources: registry.all, options: resolved, telemetry })
  const discovery = discoveryPolicy === undefined ? undefined : new ResourceDiscovery({ issuer: provider.metadata.issuer, fetch: resolved.fetch, now, policy: discoveryPolicy })
  return new ResourceClient({
    provider,
    grants,
    keys,
    writer,
    index,
    termination,
    sessions,
    logoutTokens,
    tokens,
    service,
    login,
    registry,
    runtime: new RuntimeResources({ registry, discovery, useIndicators: resolved.resourceIndicators, logger }),
    events,
    ownedStore: userStore === undefined ? store : undefined,
    options: { ...resolved, automaticDiscovery: discoveryPolicy?.automatic ?? false },
  })
}
