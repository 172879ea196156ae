// @ts-nocheck
import { resolveResources } from '../config/validate.js'
import { ResourceTokensError } from '../errors/resource-tokens-error.js'
import type { DiscoveryHints, ResourceDiscovery } from '../fetch/resource-discovery.js'
import type { Logger } from '../observability/logger.js'
import type { ResourceRegistry } from '../resources/resource-registry.js'
import type { RegisteredResource, ResourceDefinition } from '../resources/resource.js'

/** A resource registered at run time, as the app sees it. */
export interface RuntimeResourceInfo {
  /** Base URL requests are matched against. */
  url: string
  /** RFC 8707 resource indicator sent for it (`undefined`: scope-only down-scoping). */
  indicator: string | undefined
  scope: string
  name: string
}

/**
 * Registration of resources at run time, for one client: plain (`addResource`, validated as the options'
 * resources are) or from verified RFC 9728 metadata (`discoverResource`, automatic discovery).
 */
export class RuntimeResources {
  readonly #registry: ResourceRegistry
  readonly #discovery: ResourceDiscovery | undefined
  readonly #useIndicators: boolean
  readonly #logger: Logger

  constructor(parts: { registry: ResourceRegistry; discovery: ResourceDiscovery | undefined; useIndicators: boolean; logger: Logger }) {
    this.#registry = parts.registry
    this.#discovery = parts.discovery
    this.#useIndicators = parts.useIndicators
    this.#logger = parts.logger
  }

  get discovery(): ResourceDiscovery | undefined {
    return this.#discovery
  }

  add(definition: ResourceDefinition): RuntimeResourceInfo {
    return info(this.#registry.add(validate(definition, this.#useIndicators), 'added'))
  }

  remove(url: string | URL): boolean {
    const resource = validate({ url: url instanceof URL ? url.href : url, scope: 'x' }, false)
    const removed = this.#registry.remove(resource.id)
    if (removed) this.#logger.info?.('resource removed', { resource: resource.id })
    return removed
  }

  /** Discovers and registers the resource `url` belongs to; see {@link ResourceDiscovery.discover}. */
  async discover(url: string | URL, hints: DiscoveryHints = {}, signal?: AbortSignal): Promise<RegisteredResource> {
    if (this.#discovery === undefined) throw new ResourceTokensError('resource_not_allowed', 'discovery is off: set the "discovery.origins" option')
    const found = await this.#discovery.discover(url, hints, signal)
    const id = validate({ url: found.url, scope: found.scope }, false).id
    const existing = this.#registry.byId(id)
    // Configured resources are never replaced; a discovered one is, when its metadata changed what to ask.
    if (existing !== undefined && this.#registry.registrationOf(existing) === 'configured') return existing
    if (existing !== undefined && existing.indicator === found.indicator && existing.scope === found.scope && existing.dpop === found.dpop) return existing
    const resource = this.#registry.add(validate({ url: found.url, scope: found.scope, indicator: found.indicator, name: found.name, dpop: found.dpop }, false), 'discovered')
    this.#logger.info?.('resource discovered', { resource: resource.name, scope: resource.scope })
    return resource
  }
}

/** The resource as a run-time registration shows it. */
export function info(resource: RegisteredResource): RuntimeResourceInfo {
  return { url: resource.id, indicator: resource.indicator, scope: resource.scope, name: resource.name }
}

/** Validated as a resource of the options; a bad one is a bad argument here, not a bad configuration. */
function validate(definition: ResourceDefinition, useIndicators: boolean): RegisteredResource {
  try {
    const [resource] = resolveResources([definition], useIndicators)
    return resource!
  } catch (err) {
    if (err instanceof ResourceTokensError && err.code === 'invalid_config') {
      throw new ResourceTokensError('invalid_argument', err.message.replace('"resources[0]', '"resource').replace('"resources"', '"resource"'))
    }
    throw err
  }
}
