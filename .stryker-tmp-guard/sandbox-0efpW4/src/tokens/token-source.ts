// @ts-nocheck
import type * as client from 'openid-client'
import type { CachedToken } from '../grants/grant-record.js'

/**
 * The access token of one (grant, resource) pair, as `fetch` needs it. Handed to fetch by the client, so
 * fetch never sees grant keys, resources of other grants, or how tokens are obtained.
 */
export interface TokenSource {
  /** A usable token: cached, or obtained now. `rejected` names a token the resource just refused: not returned again. */
  token(rejected?: string): Promise<CachedToken>
  /** The DPoP handle a `dpop` token is sent with. */
  dpopHandle(): Promise<client.DPoPHandle | undefined>
}
