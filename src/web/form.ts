// Reading the URL-encoded form of a request, bounded: a logout form has one field.
import type { ParsedForm } from './handler-context.js'

/** The largest URL-encoded form the handlers read (a logout form has one field). */
const FORM_LIMIT_BYTES = 8 * 1024
const FORM_PARAMETER_LIMIT = 20

/**
 * The URL-encoded form of the request: `undefined` when there is none (another content type, or a body the
 * framework has read already), `null` when it is too large or has too many fields. Reads at most
 * {@link FORM_LIMIT_BYTES}, so a huge body costs no memory.
 */
export async function readForm(request: Request): Promise<URLSearchParams | undefined | null> {
  const type = (request.headers.get('content-type') ?? '').split(';')[0]?.trim().toLowerCase()
  if (type !== 'application/x-www-form-urlencoded' || request.body === null || request.bodyUsed) return undefined
  const declared = Number(request.headers.get('content-length') ?? '0')
  if (declared > FORM_LIMIT_BYTES) return null
  const body = await readBounded(request.body)
  if (body === null) return null
  const form = new URLSearchParams(body)
  let count = 0
  for (const _ of form.keys()) if (++count > FORM_PARAMETER_LIMIT) return null
  return form
}

/** The body as UTF-8, or `null` when it exceeds {@link FORM_LIMIT_BYTES} or cannot be read. */
async function readBounded(stream: ReadableStream<Uint8Array>): Promise<string | null> {
  const reader = stream.getReader()
  const chunks: Uint8Array[] = []
  let size = 0
  try {
    for (;;) {
      const { done, value } = await reader.read()
      if (done) break
      size += value.byteLength
      if (size > FORM_LIMIT_BYTES) {
        await reader.cancel()
        return null
      }
      chunks.push(value)
    }
  } catch {
    return null
  }
  return Buffer.concat(chunks).toString('utf8')
}

/** One field of a form, however it was parsed. */
export function formField(form: ParsedForm | undefined, name: string): unknown {
  if (form === undefined) return undefined
  return form instanceof URLSearchParams ? form.get(name) : form[name]
}
