// @ts-nocheck
// Issue 19: each rule of checkReturnTo on its own. Every refused value below breaks exactly one rule and
// sits next to an accepted value that differs from it only in what that rule looks at, so a rule that is
// dropped or loosened (an off-by-one on the length, a `||` for an `&&`) is noticed by its own test, not
// only by the later, percent-decoded re-check.
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { ResourceTokensError } from '../../src/errors/resource-tokens-error.js'
import { checkReturnTo } from '../../src/login/return-to.js'

const MESSAGE = '"returnTo" must be a relative path on this app (starting with a single "/")'

function assertRefused(value: unknown): void {
  assert.throws(
    () => checkReturnTo(value),
    (err) => err instanceof ResourceTokensError && err.code === 'invalid_argument' && err.message === MESSAGE,
    `${JSON.stringify(value)?.slice(0, 60)} must be refused with invalid_argument`,
  )
}

function assertAccepted(value: string): void {
  assert.equal(checkReturnTo(value), value, `${JSON.stringify(value).slice(0, 60)} must be accepted unchanged`)
}

describe('checkReturnTo, rule by rule', () => {
  test('rule: a string (no coercion of objects that print as a path)', () => {
    for (const value of [undefined, null, 1, true, ['/x'], new String('/x'), { toString: () => '/x' }, new URL('https://app.test/x')]) assertRefused(value)
    assertAccepted('/x')
  })

  test('rule: not empty', () => {
    assertRefused('')
    assertAccepted('/')
  })

  test('rule: at most 2048 characters (2048 accepted, 2049 refused)', () => {
    assertAccepted(`/${'a'.repeat(2047)}`)
    assertRefused(`/${'a'.repeat(2048)}`)
  })

  test('rule: starts with "/"', () => {
    for (const value of ['x', 'a/b', '.', '?q', '#f', ' /x', '%2Fx', 'https://app.test/']) assertRefused(value)
    assertAccepted('/x')
  })

  test('rule: the second character is not "/" (protocol-relative), including the bare "//"', () => {
    for (const value of ['//', '//x', '///x']) assertRefused(value)
    assertAccepted('/x/')
    assertAccepted('/x//y')
  })

  test('rule: the second character is not "\\"', () => {
    assertRefused('/\\x')
    assertRefused('/\\')
  })

  test('rule: no backslash anywhere (a browser reads it as "/")', () => {
    for (const value of ['/a\\b', '/a/\\', '/x?q=\\']) assertRefused(value)
    assertAccepted('/a/b')
  })

  test('rule: no dot segment, "." or "..", at the start, in the middle, at the end, before "?" or "#"', () => {
    for (const value of ['/.', '/..', '/./x', '/../x', '/a/./b', '/a/../b', '/a/.', '/a/..', '/a/.?q', '/a/..?q', '/a/.#f', '/a/..#f']) assertRefused(value)
    // Dots that are not a whole segment are ordinary characters.
    for (const value of ['/.x', '/..x', '/x.', '/x..', '/...', '/a/.../b', '/a.b/c', '/.well-known/x', '/a?.', '/a?x=/..y']) assertAccepted(value)
  })

  test('rule: no control character: U+0000 to U+001F and U+007F refused; U+0020 and U+0080 are not controls', () => {
    for (const c of ['\u0000', '\u0009', '\u000a', '\u000d', '\u001f', '\u007f']) assertRefused(`/a${c}b`)
    assertAccepted('/a b')
    assertAccepted('/a\u0080b')
    assertAccepted('/a~b')
  })

  test('rule: a malformed percent escape is refused (not a crash)', () => {
    for (const value of ['/%', '/%2', '/%zz', '/%E0%A4%A', '/%C0']) assertRefused(value)
    assertAccepted('/%25')
    assertAccepted('/%41')
  })

  test('rule: the percent-decoded value obeys the same rules, each of them', () => {
    const refused = {
      'second char "/" once decoded': '/%2Fx',
      'second char "\\" once decoded': '/%5Cx',
      'backslash later once decoded': '/a%5Cb',
      'dot segment once decoded': '/a/%2E%2E/b',
      'single dot segment once decoded': '/a/%2e/b',
      'control character once decoded': '/a%00b',
      'DEL once decoded': '/a%7Fb',
    }
    for (const [why, value] of Object.entries(refused)) assert.throws(() => checkReturnTo(value), ResourceTokensError, why)
    // The same characters encoded once more decode into harmless text: accepted, and returned undecoded.
    for (const value of ['/%252Fx', '/%255Cx', '/a/%252E%252E/b', '/a%2500b']) assertAccepted(value)
  })

  test('rule: resolved by a browser against any origin, it stays on that origin', () => {
    // Each of these passes the character rules above only if they are loosened; the URL check is the last
    // line: the values are built so that a browser would leave the origin.
    for (const value of ['//evil.test', '/\\evil.test', '/\t/evil.test']) assertRefused(value)
    for (const value of ['/@evil.test', '/:evil.test', '/evil.test', '/a?next=//evil.test', '/a#//evil.test']) {
      assertAccepted(value)
      assert.equal(new URL(value, 'https://app.example/').origin, 'https://app.example')
    }
  })

  test('an accepted value is returned as the very same string, not normalized', () => {
    for (const value of ['/a//b', '/A%2fb'.replace('%2f', '%2F').replace('%2F', '%252F'), '/caf%C3%A9', '/café', '/a?b=c&d=e#f']) assertAccepted(value)
  })
})
