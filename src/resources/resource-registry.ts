import { ResourceTokensError } from '../errors/resource-tokens-error.js'
import { ResourceMatcher, type Located } from './matcher.js'
import type { RegisteredResource } from './resource.js'

/** How a resource came to be known: from the options, `addResource`, or RFC 9728 discovery. */
export type ResourceRegistration = 'configured' | 'added' | 'discovered'

/**
 * The resources of one client: those of the options (fixed) and those registered at run time (bounded in
 * number, removable). Run-time resources go through the same matcher as configured ones, so the same
 * matching rules apply: origin, path-boundary prefix, longest prefix wins, no userinfo.
 *
 * `all` is one array updated in place, so that parts holding it (the login flow) see run-time resources
 * without being told.
 */
export class ResourceRegistry {
  readonly #all: RegisteredResource[]
  readonly #configured: ReadonlySet<string>
  readonly #runtime = new Map<string, ResourceRegistration>()
  readonly #max: number
  #matcher: ResourceMatcher
  #version = 0

  constructor(configured: readonly RegisteredResource[], maxRuntime: number) {
    this.#all = [...configured]
    this.#configured = new Set(configured.map((r) => r.id))
    this.#max = maxRuntime
    this.#matcher = new ResourceMatcher(this.#all)
  }

  /** Every resource, configured first, then run-time ones in the order they were registered. Live view. */
  get all(): readonly RegisteredResource[] {
    return this.#all
  }

  /** The resource `input` belongs to, or `undefined` (as {@link ResourceMatcher.match}). */
  match(input: string | URL): RegisteredResource | undefined {
    return this.#matcher.match(input)
  }

  /** As {@link match}, but refuses a resource URL whose path hides a dot segment (as {@link ResourceMatcher.resolve}). */
  resolve(input: string | URL): RegisteredResource | undefined {
    return this.#matcher.resolve(input)
  }

  /** Incremented whenever a resource is added or removed: what was located before may belong elsewhere now. */
  get version(): number {
    return this.#version
  }

  /** The URL of a request, parsed, and its resource (as {@link ResourceMatcher.locate}). */
  locate(input: string | URL): Located {
    return this.#matcher.locate(input)
  }

  registrationOf(resource: RegisteredResource): ResourceRegistration {
    return this.#runtime.get(resource.id) ?? 'configured'
  }

  /** The resource with this id (normalized base URL), if any. */
  byId(id: string): RegisteredResource | undefined {
    return this.#all.find((r) => r.id === id)
  }

  /**
   * Registers `resource` at run time. One with the same base URL registered at run time is replaced; a
   * configured one is never replaced.
   *
   * @throws `invalid_argument` when a configured resource has the same base URL; `too_many_resources` at the bound.
   */
  add(resource: RegisteredResource, registration: Exclude<ResourceRegistration, 'configured'>): RegisteredResource {
    if (this.#configured.has(resource.id)) throw new ResourceTokensError('invalid_argument', `${resource.id} is a configured resource; it cannot be registered again`)
    const index = this.#all.findIndex((r) => r.id === resource.id)
    if (index === -1 && this.#runtime.size >= this.#max) {
      throw new ResourceTokensError('too_many_resources', `${this.#max} resources are registered at run time already (maxRuntimeResources); remove one first`)
    }
    if (index === -1) this.#all.push(resource)
    else this.#all[index] = resource
    this.#runtime.set(resource.id, registration)
    this.#rebuild()
    return resource
  }

  /**
   * Forgets a run-time resource (by its base URL): from now on no token is attached to its URLs. Tokens
   * already cached for it in grants are not sent any more and expire there.
   *
   * @returns `false` when no run-time resource has this base URL.
   * @throws `invalid_argument` for a configured resource.
   */
  remove(id: string): boolean {
    if (this.#configured.has(id)) throw new ResourceTokensError('invalid_argument', `${id} is a configured resource; only resources registered at run time can be removed`)
    if (!this.#runtime.delete(id)) return false
    const index = this.#all.findIndex((r) => r.id === id)
    if (index !== -1) this.#all.splice(index, 1)
    this.#rebuild()
    return true
  }

  /** A new matcher for the resources now registered, and a new version: nothing located before is used again. */
  #rebuild(): void {
    this.#matcher = new ResourceMatcher(this.#all)
    this.#version++
  }
}
