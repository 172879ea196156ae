// @ts-nocheck
import { createCipheriv, createDecipheriv, createHmac, hkdfSync, randomBytes, type KeyObject, createSecretKey } from 'node:crypto'
import { ResourceTokensConfigError, ResourceTokensError } from '../errors/resource-tokens-error.js'

/** Options for {@link RecordCipher}. */
export interface RecordCipherOptions {
  /**
   * Encryption secrets, newest first: the first encrypts, every one decrypts. Rotate by putting a new
   * secret in front and keeping the old ones until every record has been rewritten (or has expired).
   * Each must be at least 32 characters (string) or 32 bytes (`Uint8Array`) of random data, not a password.
   */
  secrets: ReadonlyArray<string | Uint8Array>
}

const FORMAT_VERSION = 'v1'
const MIN_SECRET_LENGTH = 32
const IV_BYTES = 12
const TAG_BYTES = 16
const KEY_INFO = 'resource-tokens record v1'
const KEY_ID_LABEL = 'resource-tokens key id v1'
const BASE64URL = /^[A-Za-z0-9_-]*$/

interface RecordKey {
  readonly id: string
  readonly key: KeyObject
}

/**
 * Authenticated encryption of store records with AES-256-GCM (NIST SP 800-38D) from `node:crypto`.
 *
 * A record encrypts to the compact string `v1.<kid>.<iv>.<ciphertext>.<tag>` (each part base64url,
 * RFC 4648 §5): `kid` is a short, non-secret key id, so decryption picks the right secret without
 * trying each; the IV is 96 random bits; the store key the record lives under is the additional
 * authenticated data, so a record copied under another key does not decrypt.
 *
 * Keys are derived from the secrets with HKDF-SHA256 (RFC 5869) with a fixed `info` label and no salt.
 * The secrets must already be high-entropy (at least 32 random characters or bytes), so HKDF only has
 * to turn them into AES keys and separate this use from any other: RFC 5869 §3.1 makes the salt
 * optional, and without one the same secret yields the same key in every process with nothing extra
 * to store. HKDF does not slow down guessing: never use a password as a secret.
 *
 * @example
 * ```ts
 * const cipher = new RecordCipher({ secrets: [process.env.TOKENS_SECRET!, process.env.TOKENS_SECRET_OLD!] })
 * const sealed = cipher.encrypt('grant:alice', JSON.stringify(record))
 * const record = JSON.parse(cipher.decrypt('grant:alice', sealed))
 * ```
 */
export class RecordCipher {
  readonly #encryptWith: RecordKey
  readonly #byId: ReadonlyMap<string, RecordKey>

  /**
   * @throws {ResourceTokensConfigError} `invalid_config` when `secrets` is empty or one is shorter than
   *   32 characters or bytes (the message names the option, e.g. `"encryption.secrets[1]"`).
   */
  constructor(options: RecordCipherOptions) {
    const secrets: unknown = options?.secrets
    if (!Array.isArray(secrets) || secrets.length === 0) {
      throw new ResourceTokensConfigError('"encryption.secrets" must be a non-empty array of secrets')
    }
    const keys = secrets.map((secret: unknown, index) => deriveKey(secret, `"encryption.secrets[${index}]"`))
    this.#encryptWith = keys[0] as RecordKey
    const byId = new Map<string, RecordKey>()
    // A repeated secret gives a repeated id; the first occurrence is as good as any.
    for (const key of keys) if (!byId.has(key.id)) byId.set(key.id, key)
    this.#byId = byId
  }

  /**
   * Encrypts `plaintext` for storage under `storeKey`.
   *
   * @param storeKey The key the record is stored under; it must be given again to decrypt.
   * @param plaintext The serialized record.
   * @returns `v1.<kid>.<iv>.<ciphertext>.<tag>`.
   */
  encrypt(storeKey: string, plaintext: string): string {
    const iv = randomBytes(IV_BYTES)
    const cipher = createCipheriv('aes-256-gcm', this.#encryptWith.key, iv, { authTagLength: TAG_BYTES })
    cipher.setAAD(Buffer.from(storeKey, 'utf8'))
    const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()])
    const tag = cipher.getAuthTag()
    return [FORMAT_VERSION, this.#encryptWith.id, base64url(iv), base64url(ciphertext), base64url(tag)].join('.')
  }

  /**
   * Decrypts a value made by {@link RecordCipher.encrypt} for the same `storeKey`.
   *
   * @throws {ResourceTokensError} `decryption_failed` when the value is malformed, was made with a secret
   *   that is no longer configured, was moved from another store key, or was altered. The message never
   *   contains the value.
   */
  decrypt(storeKey: string, value: string): string {
    if (typeof value !== 'string') throw decryptionFailed('not a string')
    const parts = value.split('.')
    if (parts.length !== 5 || parts[0] !== FORMAT_VERSION) throw decryptionFailed('unknown format')
    const [, kid, ivPart, ciphertextPart, tagPart] = parts as [string, string, string, string, string]
    const recordKey = this.#byId.get(kid)
    if (recordKey === undefined) throw decryptionFailed('unknown key id')
    const iv = decodeBase64url(ivPart)
    const ciphertext = decodeBase64url(ciphertextPart)
    const tag = decodeBase64url(tagPart)
    if (iv?.length !== IV_BYTES || ciphertext === undefined || tag?.length !== TAG_BYTES) {
      throw decryptionFailed('malformed value')
    }
    try {
      const decipher = createDecipheriv('aes-256-gcm', recordKey.key, iv, { authTagLength: TAG_BYTES })
      decipher.setAAD(Buffer.from(storeKey, 'utf8'))
      decipher.setAuthTag(tag)
      return Buffer.concat([decipher.update(ciphertext), decipher.final()]).toString('utf8')
    } catch (cause) {
      // node:crypto's message ("Unsupported state or unable to authenticate data") holds no data.
      throw decryptionFailed('authentication failed', cause)
    }
  }
}

function deriveKey(secret: unknown, option: string): RecordKey {
  let material: Buffer
  if (typeof secret === 'string') {
    if (secret.length < MIN_SECRET_LENGTH) {
      throw new ResourceTokensConfigError(`${option} must be at least ${MIN_SECRET_LENGTH} characters`)
    }
    material = Buffer.from(secret, 'utf8')
  } else if (secret instanceof Uint8Array) {
    if (secret.byteLength < MIN_SECRET_LENGTH) {
      throw new ResourceTokensConfigError(`${option} must be at least ${MIN_SECRET_LENGTH} bytes`)
    }
    material = Buffer.from(secret)
  } else {
    throw new ResourceTokensConfigError(`${option} must be a string or a Uint8Array`)
  }
  const key = createSecretKey(Buffer.from(hkdfSync('sha256', material, Buffer.alloc(0), KEY_INFO, 32)))
  // The id is an HMAC of a fixed label: stable for a secret, and revealing nothing about it.
  const id = base64url(createHmac('sha256', material).update(KEY_ID_LABEL).digest().subarray(0, 8))
  return { id, key }
}

function base64url(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64url')
}

/** Strict decoding: Buffer.from ignores stray characters and trailing bits, so re-encode and compare. */
function decodeBase64url(text: string): Buffer | undefined {
  if (!BASE64URL.test(text)) return undefined
  const bytes = Buffer.from(text, 'base64url')
  return bytes.toString('base64url') === text ? bytes : undefined
}

function decryptionFailed(reason: string, cause?: unknown): ResourceTokensError {
  return new ResourceTokensError(
    'decryption_failed',
    `stored record did not decrypt: ${reason}`,
    cause === undefined ? {} : { cause },
  )
}
