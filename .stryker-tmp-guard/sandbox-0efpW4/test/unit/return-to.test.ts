// @ts-nocheck
// `returnTo` is where the app sends the browser after login: anything but a path on the app itself makes
// the app an open redirector (threat model draft 4.2.4; RFC 9700 section 4.11). The values below are the
// usual ways to smuggle another origin past a naive "starts with /" check.
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { ResourceTokensError } from '../../src/errors/resource-tokens-error.js'
import { checkReturnTo } from '../../src/login/return-to.js'

function refused(value: unknown): boolean {
  try {
    checkReturnTo(value)
    return false
  } catch (err) {
    assert.ok(err instanceof ResourceTokensError, String(err))
    assert.equal(err.code, 'invalid_argument')
    assert.equal(err.message, '"returnTo" must be a relative path on this app (starting with a single "/")')
    return true
  }
}

describe('checkReturnTo', () => {
  test('plain paths on the app are returned unchanged', () => {
    for (const value of ['/', '/inbox', '/inbox?tab=1#top', '/a/b/c/', '/search?q=https://evil.test', '/path%20with%20space', '/%7Euser', '/a//b', '/café', '/.well-known/x']) {
      assert.equal(checkReturnTo(value), value, value)
    }
  })

  test('protocol-relative and backslash tricks are refused: //evil.test, /\\evil.test, \\\\evil.test', () => {
    for (const value of ['//evil.test', '//evil.test/path', '/\\evil.test', '\\\\evil.test', '\\/evil.test', '/\\/evil.test', '///evil.test']) {
      assert.ok(refused(value), JSON.stringify(value))
    }
  })

  test('percent-encoded slashes and backslashes that decode into another origin are refused', () => {
    for (const value of ['%2F%5Cevil.test', '/%2F%5Cevil.test', '/%2Fevil.test', '/%2F/evil.test', '/%5Cevil.test', '/%5C%5Cevil.test', '%2F%2Fevil.test', '/%09/evil.test', '/%0D%0A/evil.test', '/%00']) {
      assert.ok(refused(value), value)
    }
  })

  test('absolute URLs and other schemes are refused', () => {
    for (const value of ['https://evil.test', 'http://evil.test/', 'HTTPS://evil.test', 'javascript:alert(1)', 'data:text/html,x', 'evil.test', 'inbox', '.', '../x', '?x=1', '#x', ' /inbox', 'https:evil.test', 'https:/evil.test']) {
      assert.ok(refused(value), value)
    }
  })

  test('control characters, which browsers strip before resolving, are refused', () => {
    for (const value of ['/\t/evil.test', '/\n/evil.test', '/\r\n/evil.test', '/ok\r\nSet-Cookie: x=1', '/\u0000', '/\u007f', '/x\u001b']) {
      assert.ok(refused(value), JSON.stringify(value))
    }
  })

  test('malformed escapes, empty, too long and non-string values are refused', () => {
    for (const value of ['', '/%', '/%E0%A4%A', '/%zz', `/${'a'.repeat(2048)}`, undefined, null, 42, ['/'], { toString: () => '/' }]) {
      assert.ok(refused(value), String(value).slice(0, 40))
    }
    assert.equal(checkReturnTo(`/${'a'.repeat(2046)}`).length, 2047)
  })

  test('what is accepted stays on the app when a browser resolves it against any origin', () => {
    const accepted = ['/', '/inbox', '/a//b', '/.//evil.test', '/x/..//evil.test', '/%252F%252Fevil.test', '/@evil.test', '/:evil.test']
    for (const value of accepted) {
      if (refused(value)) continue
      for (const origin of ['https://app.example.com', 'https://app.example.com:8443', 'http://127.0.0.1:3000']) {
        assert.equal(new URL(value, origin).origin, origin, `${value} against ${origin}`)
      }
    }
  })
})
