// @ts-nocheck
import { ResourceTokensError, type LoginParameters } from '../errors/resource-tokens-error.js'
import type { GrantRecord } from '../grants/grant-record.js'
import type { RegisteredResource } from '../resources/resource.js'

/**
 * Whether the grant's logins asked for `resource` (its RFC 8707 indicator); `undefined` when unknown (a grant
 * stored before this was recorded, or imported). A resource without an indicator is down-scoped by scope alone.
 */
export function covers(record: GrantRecord, resource: RegisteredResource): boolean | undefined {
  if (resource.indicator === undefined || record.resources === undefined) return undefined
  return record.resources.includes(resource.indicator)
}

/** `resource` as this grant asks for it: its scope plus what incremental logins added for it. */
export function asGranted(record: GrantRecord, resource: RegisteredResource): RegisteredResource {
  const extra = record.extraScopes?.[resource.id]
  if (extra === undefined) return resource
  const scope = [...new Set([...resource.scope.split(' '), ...extra.split(' ')])].join(' ')
  return scope === resource.scope ? resource : { ...resource, scope }
}

/** The `startLogin` parameters that would add `resource` (and `scope`) to a grant. */
export function loginFor(resource: RegisteredResource, scope?: string): LoginParameters {
  return {
    ...(resource.indicator === undefined ? {} : { resources: [resource.indicator] }),
    ...(scope === undefined || scope === '' ? {} : { scope }),
  }
}

/** The provider refused `resource` (`invalid_target`, `invalid_scope`): the grant does not cover it; a login can add it. */
export function notCovered(resource: RegisteredResource, error: string, status: number, cause: Error): ResourceTokensError {
  return new ResourceTokensError('token_endpoint_error', `refresh for ${resource.name}: the provider answered ${error}: the grant does not cover this resource or scope; a login with \`login\` adds it`, {
    error,
    status,
    cause,
    login: loginFor(resource, resource.scope),
  })
}
