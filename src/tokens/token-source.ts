import type * as client from 'openid-client'
import type { CachedToken } from '../grants/grant-record.js'
import type { RegisteredResource } from '../resources/resource.js'

/**
 * The access tokens of one grant (a user's, or the app's own), as `fetch` needs them. Handed to fetch by the
 * client, so fetch never sees grant keys, other grants, or how tokens are obtained.
 */
export interface TokenSource {
  /**
   * The cached token for `resource` when one can be used now, without waiting for anything; `undefined` when
   * it must be read or obtained first ({@link token}). A token in its renewal window is returned and renewed
   * in the background.
   */
  ready(resource: RegisteredResource): CachedToken | undefined
  /** A usable token: cached, or obtained now. `rejected` names a token the resource just refused: not returned again. */
  token(resource: RegisteredResource, rejected?: string): Promise<CachedToken>
  /** The DPoP handle a `dpop` token is sent with. */
  dpopHandle(): Promise<client.DPoPHandle | undefined>
  /**
   * `fetch(input)` (a plain GET, `input` parsed to `url`, located in `resource`) is being sent with the bearer
   * `token` that {@link ready} gave: the source may remember it, so that the same call again goes straight out.
   */
  sent?(input: string, url: URL, resource: RegisteredResource, token: CachedToken, authorization: string): void
}
