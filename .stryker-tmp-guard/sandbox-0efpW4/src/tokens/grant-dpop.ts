// @ts-nocheck
import type * as client from 'openid-client'
import type { DPoPKeys } from '../dpop/dpop-keys.js'
import type { GrantSnapshot } from '../grants/grant-repository.js'
import type { GrantWriter } from '../grants/grant-writer.js'
import type { GrantKeys } from '../grants/store-keys.js'

/** A grant's DPoP key (RFC 9449): created and stored with the grant on first use, so every instance shares it. */
export class GrantDPoP {
  readonly #keys: DPoPKeys
  readonly #writer: GrantWriter

  constructor(options: { keys: DPoPKeys; writer: GrantWriter }) {
    this.#keys = options.keys
    this.#writer = options.writer
  }

  /** The grant's DPoP handle, its key created and stored first when it has none (the caller holds the grant lock). */
  async forRequest(keys: GrantKeys, snapshot: GrantSnapshot): Promise<{ handle: client.DPoPHandle; snapshot: GrantSnapshot }> {
    const stored = snapshot.record.dpopKey
    if (stored !== undefined) return { handle: await this.#keys.handle(stored), snapshot }
    const added = await this.#writer.addDPoPKey(keys, snapshot, await this.#keys.generate())
    return { handle: await this.#keys.handle(added.dpopKey), snapshot: added.snapshot }
  }

  /** The handle of the grant's DPoP key, when it has one. */
  async handleOf(snapshot: GrantSnapshot | undefined): Promise<client.DPoPHandle | undefined> {
    const stored = snapshot?.record.dpopKey
    return stored === undefined ? undefined : this.#keys.handle(stored)
  }
}
