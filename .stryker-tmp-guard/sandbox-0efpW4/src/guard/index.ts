// @ts-nocheck
// The resource-server guard: verify access tokens (RFC 9068, RFC 7662, RFC 6750, RFC 9449) and
// describe the resource (RFC 9728). Framework-neutral; its Express middleware is in src/adapters/express/.
// Only re-exports.
export { createAccessTokenVerifier, verifyAccessToken } from './verify-access-token.js'
export type {
  AccessTokenRequest,
  AccessTokenVerifier,
  VerifiedAccessToken,
  VerifyAccessTokenOptions,
} from './verify-access-token.js'
export type { RequestHeaders } from './request-credentials.js'
export { GuardError } from './guard-error.js'
export type {
  GuardChallenge,
  GuardChallengeContext,
  GuardErrorCode,
  GuardErrorOptions,
  GuardErrorStatus,
  GuardScheme,
} from './guard-error.js'
export { protectedResourceMetadata, protectedResourceMetadataUrl } from './protected-resource-metadata.js'
export type { ProtectedResourceMetadata, ProtectedResourceMetadataOptions } from './protected-resource-metadata.js'
