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
import { ResourceMatcher } from '../resources/matcher.js'
import { MemoryStore } from '../stores/memory-store.js'
import { downscopingFor } from '../tokens/downscoping/index.js'
import { GrantDPoP } from '../tokens/grant-dpop.js'
import { GrantRefresher } from '../tokens/grant-refresher.js'
import { ScopeCheck } from '../tokens/scope-check.js'
import { ServiceTokens } from '../tokens/service-tokens.js'
import { TokenManager } from '../tokens/token-manager.js'
import { prepareStore } from './prepare-store.js'
import { ResourceClient } from './resource-client.js'

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
  const userStore = options.store
  const store = prepareStore(userStore ?? new MemoryStore({ now: resolved.now }), resolved.encryptionSecrets)
  const provider = await ProviderClient.discover(resolved)
  if (resolved.downscoping === 'none') {
    resolved.logger.warn?.('downscoping is "none": every resource receives the same full-scope token, so a compromised resource can replay it on the others')
  }
  if (resolved.downscoping === 'token-exchange' && provider.supportsGrant(TOKEN_EXCHANGE) === false) {
    throw new ResourceTokensConfigError('"downscoping" is "token-exchange" but the provider does not offer the token-exchange grant (RFC 8693)')
  }
  const events = new TypedEmitter()
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
  const refresher = new GrantRefresher({ provider, grants, writer, dpop, scopes, events, options: { ...tokenTimes, logger } })
  const tokens = new TokenManager({
    grants,
    lock: new GrantLock(store, { ttlMs: resolved.lockTtlMs, timeoutMs: resolved.lockTimeoutMs }),
    keys,
    downscoping: downscopingFor(resolved.downscoping, { provider, grants, refresher, writer, dpop, scopes, events, options: tokenTimes }),
    dpop,
    sessions,
    events,
    logger,
    now,
  })
  const service = new ServiceTokens(provider, dpopKeys, events, tokenTimes)
  const login = new LoginFlow({ provider, store, keys, writer, resources, options: resolved })
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
    matcher: new ResourceMatcher(resources),
    resources,
    events,
    ownedStore: userStore === undefined ? store : undefined,
    options: resolved,
  })
}
