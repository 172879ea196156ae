// @ts-nocheck
// The `code` of a library error, or undefined for anything else: what tests assert on.
import { ResourceTokensError } from 'resource-tokens'

export function code(err: unknown): string | undefined {
  return err instanceof ResourceTokensError ? err.code : undefined
}
