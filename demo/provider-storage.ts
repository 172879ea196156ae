// In-memory storage for the demo provider (oidc-provider's "adapter"). Everything is lost on restart, which
// is what a demo wants; unlike oidc-provider's built-in one it says so here instead of warning at startup.
// It keeps an index by grant, so revoking a refresh token removes every token of its grant.

type Payload = Record<string, unknown> & { grantId?: string; uid?: string; userCode?: string }

interface Entry {
  payload: Payload
  expiresAt: number
}

/** Returns oidc-provider's `adapter` option: a factory of one store per model name. */
export function memoryAdapter(): (model: string) => object {
  const entries = new Map<string, Entry>()
  const byGrant = new Map<string, Set<string>>()
  const alias = new Map<string, string>()

  const read = (key: string): Payload | undefined => {
    const entry = entries.get(key)
    if (entry === undefined) return undefined
    if (entry.expiresAt <= Date.now()) {
      entries.delete(key)
      return undefined
    }
    return entry.payload
  }

  let writes = 0
  // Expired entries go on the next read, or in a sweep every 500 writes, so a long demo does not grow.
  const sweep = () => {
    const now = Date.now()
    for (const [key, entry] of entries) if (entry.expiresAt <= now) entries.delete(key)
    for (const [grantId, members] of byGrant) {
      for (const member of members) if (!entries.has(member)) members.delete(member)
      if (members.size === 0) byGrant.delete(grantId)
    }
    for (const [name, id] of alias) if (!entries.has(`${name.slice(0, name.indexOf(':'))}:${id}`)) alias.delete(name)
  }

  return (model: string) => {
    const key = (id: string) => `${model}:${id}`
    return {
      async upsert(id: string, payload: Payload, expiresIn?: number) {
        if (++writes % 500 === 0) sweep()
        const expiresAt = typeof expiresIn === 'number' ? Date.now() + expiresIn * 1000 : Infinity
        entries.set(key(id), { payload, expiresAt })
        if (payload.uid !== undefined) alias.set(`${model}:uid:${payload.uid}`, id)
        if (payload.userCode !== undefined) alias.set(`${model}:userCode:${payload.userCode}`, id)
        if (payload.grantId !== undefined) {
          const members = byGrant.get(payload.grantId) ?? new Set<string>()
          members.add(key(id))
          byGrant.set(payload.grantId, members)
        }
      },
      async find(id: string) {
        return read(key(id))
      },
      async findByUid(uid: string) {
        const id = alias.get(`${model}:uid:${uid}`)
        return id === undefined ? undefined : read(key(id))
      },
      async findByUserCode(userCode: string) {
        const id = alias.get(`${model}:userCode:${userCode}`)
        return id === undefined ? undefined : read(key(id))
      },
      async consume(id: string) {
        const payload = read(key(id))
        if (payload !== undefined) payload['consumed'] = Math.floor(Date.now() / 1000)
      },
      async destroy(id: string) {
        entries.delete(key(id))
      },
      async revokeByGrantId(grantId: string) {
        for (const member of byGrant.get(grantId) ?? []) entries.delete(member)
        byGrant.delete(grantId)
      },
    }
  }
}
