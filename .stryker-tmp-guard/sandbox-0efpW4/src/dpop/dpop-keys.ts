// @ts-nocheck
import { calculateJwkThumbprint, exportJWK, importJWK, type JWK } from 'jose'
import * as client from 'openid-client'
import { ResourceTokensError } from '../errors/resource-tokens-error.js'
import { BoundedMap } from '../lib/bounded-map.js'
import type { ProviderClient } from '../protocol/provider-client.js'

/** A DPoP key pair in the form it is stored with the grant (encrypted at rest by the store layer). */
export interface StoredDPoPKey {
  readonly privateJwk: Readonly<Record<string, unknown>>
  readonly publicJwk: Readonly<Record<string, unknown>>
}

const ALG = 'ES256'
const MAX_HANDLES = 10_000

/**
 * DPoP key pairs and their openid-client handles (RFC 9449). A grant has one key pair, created on its
 * first DPoP refresh and stored with the grant, so that every instance sharing the store proves
 * possession with the same key and can use a token another instance obtained. Handles are cached by the
 * key's thumbprint: a handle also remembers the DPoP nonces of the origins it has talked to.
 * The private key is imported non-extractable; it only leaves memory inside the (encrypted) grant record.
 */
export class DPoPKeys {
  readonly #handles = new BoundedMap<Promise<client.DPoPHandle>>(MAX_HANDLES)

  constructor(private readonly provider: ProviderClient) {}

  /** A new key pair, ready to store. */
  async generate(): Promise<StoredDPoPKey> {
    const pair = await client.randomDPoPKeyPair(ALG, { extractable: true })
    const [privateJwk, publicJwk] = await Promise.all([exportJWK(pair.privateKey), exportJWK(pair.publicKey)])
    return { privateJwk: { ...privateJwk, alg: ALG }, publicJwk: { ...publicJwk, alg: ALG } }
  }

  /** The handle for a stored key pair. */
  async handle(key: StoredDPoPKey): Promise<client.DPoPHandle> {
    const id = await calculateJwkThumbprint(key.publicJwk)
    let handle = this.#handles.get(id, 0)
    if (handle === undefined) {
      handle = this.#createHandle(key)
      handle.catch(() => this.#handles.delete(id))
      // Handles do not expire: they hold no secret beyond the key, and remember the resources' DPoP nonces.
      this.#handles.set(id, handle, Infinity, 0)
    }
    return handle
  }

  async #createHandle(key: StoredDPoPKey): Promise<client.DPoPHandle> {
    const [privateKey, publicKey] = await Promise.all([
      importJWK(key.privateJwk as JWK, ALG, { extractable: false }),
      importJWK(key.publicJwk as JWK, ALG, { extractable: true }),
    ])
    if (privateKey instanceof Uint8Array || publicKey instanceof Uint8Array || !(privateKey instanceof (globalThis as unknown as { CryptoKey: abstract new () => unknown }).CryptoKey)) throw new ResourceTokensError('invalid_argument', 'the stored DPoP key is not an asymmetric key pair')
    return client.getDPoPHandle(this.provider.config, { privateKey, publicKey })
  }
}
