// @ts-nocheck
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { describe, test } from 'node:test'
import fc from 'fast-check'
import { ResourceTokensConfigError, ResourceTokensError } from '../../src/errors/resource-tokens-error.js'
import { RecordCipher } from '../../src/vault/record-cipher.js'

const OLD_SECRET = 'old-secret-old-secret-old-secret-0001'
const NEW_SECRET = randomBytes(32)

function assertCode(code: string): (error: unknown) => boolean {
  return (error) => {
    assert.ok(error instanceof ResourceTokensError, `expected a ResourceTokensError, got ${String(error)}`)
    assert.equal(error.code, code)
    return true
  }
}

const decryptionFailed = assertCode('decryption_failed')

describe('RecordCipher', () => {
  test('round-trips any string, in the compact v1 format', () => {
    const cipher = new RecordCipher({ secrets: [OLD_SECRET] })
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme' }), fc.string(), (plaintext, storeKey) => {
        const sealed = cipher.encrypt(storeKey, plaintext)
        assert.match(sealed, /^v1\.[A-Za-z0-9_-]{11}\.[A-Za-z0-9_-]{16}\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]{22}$/)
        assert.equal(cipher.decrypt(storeKey, sealed), plaintext)
      }),
    )
  })

  test('encrypts the same plaintext differently every time (random IV)', () => {
    const cipher = new RecordCipher({ secrets: [OLD_SECRET] })
    const a = cipher.encrypt('grant:a', 'same')
    const b = cipher.encrypt('grant:a', 'same')
    assert.notEqual(a, b)
    assert.notEqual(a.split('.')[2], b.split('.')[2])
  })

  test('the ciphertext does not contain the plaintext', () => {
    const cipher = new RecordCipher({ secrets: [OLD_SECRET] })
    const sealed = cipher.encrypt('grant:a', 'refresh-token-value')
    assert.ok(!sealed.includes('refresh-token-value'))
    assert.ok(!sealed.includes(Buffer.from('refresh-token-value').toString('base64url').slice(0, 12)))
  })

  test('key rotation: the new secret encrypts, the old one still decrypts', () => {
    const before = new RecordCipher({ secrets: [OLD_SECRET] })
    const after = new RecordCipher({ secrets: [NEW_SECRET, OLD_SECRET] })
    const old = before.encrypt('grant:a', 'old record')
    assert.equal(after.decrypt('grant:a', old), 'old record')

    const fresh = after.encrypt('grant:a', 'new record')
    assert.notEqual(fresh.split('.')[1], old.split('.')[1], 'a different key id')
    assert.equal(new RecordCipher({ secrets: [NEW_SECRET] }).decrypt('grant:a', fresh), 'new record')
    assert.throws(() => before.decrypt('grant:a', fresh), decryptionFailed, 'the old secret alone cannot read it')
  })

  test('a string secret and a byte secret with the same content give the same key', () => {
    const text = new RecordCipher({ secrets: [OLD_SECRET] })
    const bytes = new RecordCipher({ secrets: [new TextEncoder().encode(OLD_SECRET)] })
    assert.equal(bytes.decrypt('k', text.encrypt('k', 'v')), 'v')
  })

  test('the store key is bound as AAD: a record moved to another key does not decrypt', () => {
    const cipher = new RecordCipher({ secrets: [OLD_SECRET] })
    const sealed = cipher.encrypt('grant:alice', 'token')
    assert.throws(() => cipher.decrypt('grant:mallory', sealed), decryptionFailed)
    assert.throws(() => cipher.decrypt('grant:alice ', sealed), decryptionFailed)
  })

  test('an unknown key id fails with decryption_failed', () => {
    const sealed = new RecordCipher({ secrets: [OLD_SECRET] }).encrypt('k', 'v')
    assert.throws(() => new RecordCipher({ secrets: [NEW_SECRET] }).decrypt('k', sealed), decryptionFailed)
  })

  test('the error message never contains the value', () => {
    const cipher = new RecordCipher({ secrets: [OLD_SECRET] })
    const sealed = cipher.encrypt('k', 'secret-plaintext')
    const tampered = `${sealed.slice(0, -3)}AAA`
    for (const value of [tampered, 'v1.garbage-value-here', sealed]) {
      try {
        cipher.decrypt('other-key', value)
        assert.fail('expected a failure')
      } catch (error) {
        assert.ok(error instanceof ResourceTokensError)
        assert.ok(!error.message.includes(value))
        assert.ok(!error.message.includes('secret-plaintext'))
        assert.ok(!error.message.includes(value.split('.')[3] ?? '\0'))
      }
    }
  })

  test('secrets shorter than 32 characters or bytes are refused, naming the option', () => {
    assert.throws(
      () => new RecordCipher({ secrets: [OLD_SECRET, 'too-short'] }),
      (error: unknown) => {
        assert.ok(error instanceof ResourceTokensConfigError)
        assert.equal(error.code, 'invalid_config')
        assert.match(error.message, /"encryption\.secrets\[1\]"/)
        assert.ok(!error.message.includes('too-short'))
        return true
      },
    )
    assert.throws(() => new RecordCipher({ secrets: [randomBytes(31)] }), /"encryption\.secrets\[0\]" must be at least 32 bytes/)
    assert.throws(() => new RecordCipher({ secrets: [] }), assertCode('invalid_config'))
    assert.throws(() => new RecordCipher({ secrets: [42 as unknown as string] }), assertCode('invalid_config'))
  })

  test('decrypting garbage only ever throws decryption_failed', () => {
    const cipher = new RecordCipher({ secrets: [NEW_SECRET, OLD_SECRET] })
    const valid = cipher.encrypt('grant:k', 'a record of some length')
    const kid = valid.split('.')[1] ?? ''
    const b64url = fc.string({ unit: fc.constantFrom(...'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_=+/.'.split('')) })
    const garbage = fc.oneof(
      fc.string({ unit: 'binary' }),
      fc.tuple(b64url, b64url, b64url).map(([iv, ct, tag]) => `v1.${kid}.${iv}.${ct}.${tag}`),
      fc.array(b64url, { maxLength: 7 }).map((parts) => ['v1', ...parts].join('.')),
      // One character of a valid record changed.
      fc
        .tuple(fc.nat({ max: valid.length - 1 }), fc.constantFrom(...'Aa0-_.x'.split('')))
        .filter(([index, char]) => valid[index] !== char)
        .map(([index, char]) => valid.slice(0, index) + char + valid.slice(index + 1)),
    )
    fc.assert(
      fc.property(garbage, (value) => {
        assert.throws(() => cipher.decrypt('grant:k', value), decryptionFailed)
      }),
      { numRuns: 500 },
    )
  })

  test('a non-canonical base64url encoding (same bytes, different text) is refused', () => {
    const cipher = new RecordCipher({ secrets: [OLD_SECRET] })
    const parts = cipher.encrypt('k', 'v').split('.')
    const tag = parts[4] ?? ''
    // The last of 22 characters carries 4 data bits and 2 padding bits: flip a padding bit.
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'
    const last = alphabet.indexOf(tag.at(-1) ?? 'A')
    parts[4] = tag.slice(0, -1) + alphabet[last ^ 1]
    assert.deepEqual(Buffer.from(parts[4], 'base64url'), Buffer.from(tag, 'base64url'))
    assert.throws(() => cipher.decrypt('k', parts.join('.')), decryptionFailed)
  })
})
