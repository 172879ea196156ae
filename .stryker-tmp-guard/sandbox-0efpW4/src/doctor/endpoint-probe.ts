// @ts-nocheck
import { randomBytes } from 'node:crypto'
import * as client from 'openid-client'
import { RevocationCapture } from '../protocol/revocation-capture.js'
import type { RevocationVerdict } from '../protocol/revocation-outcome.js'
import { isLoopbackHost } from '../resources/loopback.js'
import type { DoctorClientAuth, DoctorOptions } from './arguments.js'

/**
 * How the token endpoint answered a refresh token it cannot know: `invalid_grant` is what RFC 6749 section 5.2
 * asks for; another OAuth error (`error`) is what the dead-refresh-token rule is for; `failed` when there was no
 * OAuth answer (network, 5xx, not JSON, or it even succeeded).
 */
export type UnknownRefreshTokenAnswer =
  | { kind: 'oauth_error'; error: string; status: number }
  | { kind: 'failed'; message: string }

/** What the endpoint probes found. */
export interface EndpointProbe {
  unknownRefreshToken: UnknownRefreshTokenAnswer
  /** How the revocation endpoint answered the revocation of a made-up token; undefined without an endpoint. */
  revocation?: RevocationVerdict
}

/**
 * Two harmless requests with a made-up token (random, never issued): a refresh, to see how an unknown refresh
 * token is answered, and a revocation (RFC 7009 answers 200 for unknown tokens too), to see whether the
 * revocation endpoint speaks RFC 7009 at all. Run only with --login: a static report sends no credentials.
 */
export async function probeEndpoints(options: DoctorOptions, clientAuth: DoctorClientAuth, metadata: Readonly<Record<string, unknown>>): Promise<EndpointProbe> {
  const capture = new RevocationCapture()
  const revocationEndpoint = typeof metadata['revocation_endpoint'] === 'string' ? metadata['revocation_endpoint'] : undefined
  const config = new client.Configuration(
    metadata as client.ServerMetadata,
    options.clientId,
    undefined,
    clientAuth === 'client_secret_post' ? client.ClientSecretPost(options.clientSecret) : client.ClientSecretBasic(options.clientSecret),
  )
  if (options.issuer.protocol === 'http:' && isLoopbackHost(options.issuer.hostname)) client.allowInsecureRequests(config)
  config.timeout = 15
  config[client.customFetch] = capture.wrap((url, init) => fetch(url, init)) as client.CustomFetch

  const madeUp = randomBytes(32).toString('base64url')
  const result: EndpointProbe = { unknownRefreshToken: await refreshUnknown(config, madeUp) }
  if (revocationEndpoint !== undefined) {
    const { outcome, reason } = await capture.judge(() => client.tokenRevocation(config, madeUp, { token_type_hint: 'refresh_token' }))
    result.revocation = reason === undefined ? { outcome } : { outcome, reason }
  }
  return result
}

async function refreshUnknown(config: client.Configuration, madeUp: string): Promise<UnknownRefreshTokenAnswer> {
  try {
    await client.refreshTokenGrant(config, madeUp)
    return { kind: 'failed', message: 'the provider accepted a made-up refresh token' }
  } catch (err) {
    if (err instanceof client.ResponseBodyError && err.status < 500) return { kind: 'oauth_error', error: err.error, status: err.status }
    if (err instanceof client.WWWAuthenticateChallengeError) {
      const error = err.cause.map((c) => c.parameters.error).find((e) => typeof e === 'string') ?? 'invalid_client'
      return { kind: 'oauth_error', error, status: err.response.status }
    }
    return { kind: 'failed', message: err instanceof Error ? err.message : 'unknown error' }
  }
}
