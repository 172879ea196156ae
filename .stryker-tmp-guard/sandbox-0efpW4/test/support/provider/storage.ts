// @ts-nocheck
// Per-provider storage. oidc-provider's default memory adapter is one process-wide LRU capped at 1000
// entries, so busy tests could see tokens evicted (spurious invalid_grant); this one is unbounded, isolated
// per provider, and keeps the grant index that revokeByGrantId needs (the provider revokes a whole grant
// on refresh-token reuse).

/** What oidc-provider stores for one model instance (token, session, grant, ...). */
export type Payload = Record<string, unknown> & { grantId?: string; uid?: string; userCode?: string }

/** Observes the provider's own bookkeeping: reuse detection and the quirks hook in here. */
export interface AdapterObserver {
  onFind(model: string, id: string): void
  onConsume(model: string, id: string): void
  /** May change what is stored (quirks that narrow a refresh token). */
  onUpsert(model: string, id: string, payload: Payload): void
  /** False to keep a grant that oidc-provider is about to revoke (quirk reuse: 'reject-only'). */
  mayRevokeGrant(): boolean
}

/** The storage of one provider: the adapter factory for its configuration, and direct access for quirks. */
export interface Storage {
  adapter: (model: string) => ModelAdapter
  /** The stored payload itself (mutations stick), for quirks that change a token after it was issued. */
  payload(model: string, id: string): Payload | undefined
}

// Models whose instances belong to a grant and go when it is revoked.
const GRANTABLE = new Set(['AccessToken', 'AuthorizationCode', 'RefreshToken', 'DeviceCode', 'BackchannelAuthenticationRequest'])

/** Creates the storage of one provider, reporting to `observer`. */
export function createStorage(observer: AdapterObserver): Storage {
  const store = new ExpiringMap()
  const grants = new Map<string, Set<string>>()
  return {
    adapter: (model) => new ModelAdapter(model, store, grants, observer),
    payload: (model, id) => store.get(`${model}:${id}`) as Payload | undefined,
  }
}

/** oidc-provider's adapter interface for one model, over the provider's shared map. */
class ModelAdapter {
  readonly #model: string
  readonly #store: ExpiringMap
  readonly #grants: Map<string, Set<string>>
  readonly #observer: AdapterObserver

  constructor(model: string, store: ExpiringMap, grants: Map<string, Set<string>>, observer: AdapterObserver) {
    this.#model = model
    this.#store = store
    this.#grants = grants
    this.#observer = observer
  }

  async upsert(id: string, payload: Payload, expiresIn?: number): Promise<void> {
    this.#observer.onUpsert(this.#model, id, payload)
    this.#store.set(this.#key(id), payload, expiresIn)
    if (this.#model === 'Session' && payload.uid) this.#store.set(`sessionUid:${payload.uid}`, id, expiresIn)
    if (payload.userCode) this.#store.set(`userCode:${payload.userCode}`, id, expiresIn)
    if (GRANTABLE.has(this.#model) && payload.grantId) {
      const members = this.#grants.get(payload.grantId) ?? new Set<string>()
      members.add(this.#key(id))
      this.#grants.set(payload.grantId, members)
    }
  }

  async find(id: string | undefined): Promise<Payload | undefined> {
    if (id === undefined) return undefined
    this.#observer.onFind(this.#model, id)
    return this.#store.get(this.#key(id)) as Payload | undefined
  }

  async findByUid(uid: string): Promise<Payload | undefined> {
    return this.find(this.#store.get(`sessionUid:${uid}`) as string | undefined)
  }

  async findByUserCode(code: string): Promise<Payload | undefined> {
    return this.find(this.#store.get(`userCode:${code}`) as string | undefined)
  }

  async consume(id: string): Promise<void> {
    const payload = this.#store.get(this.#key(id)) as Payload | undefined
    if (payload) payload['consumed'] = Math.floor(Date.now() / 1000)
    this.#observer.onConsume(this.#model, id)
  }

  async destroy(id: string): Promise<void> {
    if (this.#model === 'Grant' && !this.#observer.mayRevokeGrant()) return
    this.#store.delete(this.#key(id))
  }

  async revokeByGrantId(grantId: string): Promise<void> {
    if (!this.#observer.mayRevokeGrant()) return
    for (const member of this.#grants.get(grantId) ?? []) this.#store.delete(member)
    this.#grants.delete(grantId)
  }

  #key(id: string): string {
    return `${this.#model}:${id}`
  }
}

/** A map whose entries expire after the number of seconds oidc-provider gives; unbounded otherwise. */
class ExpiringMap {
  readonly #entries = new Map<string, { value: unknown; expiresAt: number }>()

  get(key: string): unknown {
    const entry = this.#entries.get(key)
    if (!entry) return undefined
    if (entry.expiresAt <= Date.now()) {
      this.#entries.delete(key)
      return undefined
    }
    return entry.value
  }

  set(key: string, value: unknown, expiresIn?: number): void {
    const expiresAt = typeof expiresIn === 'number' ? Date.now() + expiresIn * 1000 : Infinity
    this.#entries.set(key, { value, expiresAt })
  }

  delete(key: string): void {
    this.#entries.delete(key)
  }
}
