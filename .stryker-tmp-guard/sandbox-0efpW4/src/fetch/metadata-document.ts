/** How long reading one metadata document may take. */
// @ts-nocheck

export const METADATA_TIMEOUT_MS = 5000
/** A metadata document is a few hundred bytes; a resource must not make this client buffer more. */
export const MAX_METADATA_BYTES = 64 * 1024

/** Why a metadata document was not read; the reason is ours, never the document's words. */
export class MetadataReadRefusal extends Error {
  constructor(readonly reason: string) {
    super(reason)
  }
}

/**
 * Reads an RFC 9728 metadata document: no credentials, no redirects (a 3xx is refused, never followed: it
 * could point this client anywhere), at most {@link METADATA_TIMEOUT_MS} and {@link MAX_METADATA_BYTES}.
 * Resolves a response whose body is in memory (empty unless the status is 200), for oauth4webapi to validate.
 *
 * @throws {@link MetadataReadRefusal}
 */
export async function readMetadataDocument(fetchFn: typeof fetch, url: URL | string, signal: AbortSignal | undefined): Promise<Response> {
  const timeout = AbortSignal.timeout(METADATA_TIMEOUT_MS)
  let response: Response
  try {
    response = await fetchFn(url, { headers: { accept: 'application/json' }, redirect: 'manual', signal: signal === undefined ? timeout : AbortSignal.any([signal, timeout]) })
  } catch {
    throw new MetadataReadRefusal('could not be read (unreachable, timed out, or redirected)')
  }
  if (response.status >= 300 && response.status < 400) {
    await response.body?.cancel().catch(() => undefined)
    throw new MetadataReadRefusal(`redirects elsewhere (HTTP ${response.status}, not followed)`)
  }
  if (response.status !== 200) {
    // Only a 200 is read; the body of anything else is not wanted (and 204 or 304 may not have one).
    await response.body?.cancel().catch(() => undefined)
    return new Response(null, { status: response.status, headers: response.headers })
  }
  const declared = Number(response.headers.get('content-length') ?? '0')
  if (declared > MAX_METADATA_BYTES) {
    await response.body?.cancel().catch(() => undefined)
    throw new MetadataReadRefusal('is too large')
  }
  const chunks: Uint8Array[] = []
  let size = 0
  const reader = response.body?.getReader()
  try {
    if (reader !== undefined) {
      for (;;) {
        const { done, value } = await reader.read()
        if (done) break
        size += value.byteLength
        if (size > MAX_METADATA_BYTES) {
          await reader.cancel().catch(() => undefined)
          throw new MetadataReadRefusal('is too large')
        }
        chunks.push(value)
      }
    }
  } catch (err) {
    if (err instanceof MetadataReadRefusal) throw err
    throw new MetadataReadRefusal('could not be read (unreachable, timed out, or redirected)')
  }
  return new Response(Buffer.concat(chunks), { status: response.status, headers: response.headers })
}
