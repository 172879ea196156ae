// @ts-nocheck
// The login start computes the RFC 7636 S256 challenge synchronously (issue 12, item 1: a flood of starts paid a
// WebCrypto round trip each). It must equal openid-client's calculatePKCECodeChallenge for every verifier.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import fc from 'fast-check'
import * as client from 'openid-client'
import { pkceChallenge } from '../../src/login/login-flow.js'

test('pkceChallenge equals openid-client\'s calculatePKCECodeChallenge (RFC 7636 appendix B vector and random verifiers)', async () => {
  assert.equal(pkceChallenge('dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk'), 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM')
  await fc.assert(
    fc.asyncProperty(fc.stringMatching(/^[A-Za-z0-9\-._~]{43,128}$/), async (verifier) => {
      assert.equal(pkceChallenge(verifier), await client.calculatePKCECodeChallenge(verifier))
    }),
  )
  for (let i = 0; i < 20; i++) {
    const verifier = client.randomPKCECodeVerifier()
    assert.equal(pkceChallenge(verifier), await client.calculatePKCECodeChallenge(verifier))
  }
})
