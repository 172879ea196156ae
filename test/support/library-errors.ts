// Assertions on the library's own errors for tests that import src/ (the mutation-tested ones: `resource-tokens`
// resolves to dist/, whose classes are other classes than src/'s).
import assert from 'node:assert/strict'
import { GuardError, ResourceTokensError } from '../../src/index.js'

/** Resolves the `ResourceTokensError` (not a `GuardError`) `promise` rejects with, after checking its code and message. */
export async function failed(promise: Promise<unknown>, code: string, message: string): Promise<ResourceTokensError> {
  try {
    await promise
  } catch (err) {
    assert.ok(err instanceof ResourceTokensError && !(err instanceof GuardError), `expected a ResourceTokensError, got ${String(err)}`)
    assert.equal(err.code, code)
    assert.equal(err.message, message)
    return err
  }
  assert.fail(`expected ${code}, but it was accepted`)
}
