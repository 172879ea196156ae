// @ts-nocheck
// Type-level tests of the error contract: one class to catch, a closed union of stable codes to branch on.
import { expectTypeOf } from 'expect-type'
import type { GuardError, GuardErrorCode, LoginParameters, ResourceTokensConfigError, ResourceTokensError, ResourceTokensErrorCode } from 'resource-tokens'

// The complete list of codes. Adding one is a minor change, removing or renaming one a breaking change:
// either way, update CHANGELOG.md and the TSDoc of ResourceTokensErrorCode with this list.
type DocumentedCodes =
  | 'invalid_config'
  | 'discovery_failed'
  | 'login_required'
  | 'invalid_callback'
  | 'authorization_error'
  | 'invalid_id_token'
  | 'refresh_token_missing'
  | 'token_endpoint_unavailable'
  | 'token_endpoint_error'
  | 'scope_broadened'
  | 'unknown_resource'
  | 'insufficient_scope'
  | 'redirect_refused'
  | 'store_unavailable'
  | 'lock_timeout'
  | 'decryption_failed'
  | 'invalid_argument'
  | 'introspection_failed'
  | 'refresh_token_narrowed'
  | 'resource_metadata_mismatch'
  | 'resource_not_allowed'
  | 'too_many_resources'
  | 'insufficient_user_authentication'
  | 'invalid_logout_token'
  | 'ambiguous_path'
  | 'invalid_token_response'
expectTypeOf<ResourceTokensErrorCode>().toEqualTypeOf<DocumentedCodes>()

declare const err: ResourceTokensError
expectTypeOf(err).toExtend<Error>()
expectTypeOf(err.code).toEqualTypeOf<ResourceTokensErrorCode>()
expectTypeOf(err.error).toEqualTypeOf<string | undefined>()
expectTypeOf(err.status).toEqualTypeOf<number | undefined>()
expectTypeOf<ResourceTokensConfigError>().toExtend<ResourceTokensError>()

// Narrowing on code is what users write; a misspelt code is a compile error.
if (err.code === 'login_required') expectTypeOf(err.code).toEqualTypeOf<'login_required'>()
//  not a code
if (err.code === 'login-required') throw err

// The guard's codes are the RFC 6750 / RFC 9449 `error` values it answers with.
expectTypeOf<GuardErrorCode>().toEqualTypeOf<'invalid_request' | 'invalid_token' | 'insufficient_scope' | 'invalid_dpop_proof' | 'use_dpop_nonce' | 'insufficient_user_authentication'>()
// An error that a login can fix says which login (incremental authorization, RFC 9470 step-up).
expectTypeOf(err.login).toEqualTypeOf<LoginParameters | undefined>()
expectTypeOf<GuardError>().toExtend<Error>()
// One error base: whatever the library throws, `instanceof ResourceTokensError` catches it.
expectTypeOf<GuardError>().toExtend<ResourceTokensError<GuardErrorCode>>()
