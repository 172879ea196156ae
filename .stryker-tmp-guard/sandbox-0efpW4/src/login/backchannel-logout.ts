// @ts-nocheck
import { ResourceTokensError } from '../errors/resource-tokens-error.js'
import type { Logger } from '../observability/logger.js'

/** What the back-channel logout endpoint answers, for any framework to send as is. */
export interface BackchannelLogoutAnswer {
  /** 200 when the logout was done; 400 otherwise (Back-Channel Logout 1.0 section 2.8). */
  readonly status: 200 | 400
  /** Always `Cache-Control: no-store`; `Content-Type: application/json` with a body. */
  readonly headers: Readonly<Record<string, string>>
  /** `''` on success; `{"error":..., "error_description":...}` otherwise. */
  readonly body: string
}

/** The part of a client the endpoint needs. */
export interface BackchannelLogoutClient {
  handleBackchannelLogout(logoutToken: string): Promise<{ removed: number }>
}

/** Form bodies of logout requests are small; anything larger is refused unread. */
export const MAX_BACKCHANNEL_BODY_BYTES = 64 * 1024

/**
 * The back-channel logout endpoint (OpenID Connect Back-Channel Logout 1.0 section 2.5 and 2.8), framework-neutral:
 * give it the parsed form body (`logout_token`) and send back what it returns. No session cookie is read or
 * set, no CSRF token is asked for (the provider calls it, server to server) and it never redirects.
 *
 * - 200, empty body: the token was valid; every grant it names is gone (also when there were none).
 * - 400 `invalid_request`: no single `logout_token`, or it failed validation (`invalid_logout_token`).
 * - 400 `temporarily_unavailable`: the store failed; the token was not spent, so the provider may send it again.
 *
 * @example
 * ```ts
 * const answer = await backchannelLogoutResponse(client, new URLSearchParams(await request.text()))
 * return new Response(answer.body || null, { status: answer.status, headers: answer.headers })
 * ```
 */
export async function backchannelLogoutResponse(
  client: BackchannelLogoutClient,
  form: URLSearchParams | Readonly<Record<string, unknown>> | undefined,
  logger?: Logger,
): Promise<BackchannelLogoutAnswer> {
  const values = form instanceof URLSearchParams ? form.getAll('logout_token') : [form?.['logout_token']].flat().filter((v) => v !== undefined)
  const [token] = values
  if (values.length !== 1 || typeof token !== 'string' || token === '') {
    return failure('invalid_request', 'the request must carry exactly one logout_token form parameter')
  }
  try {
    await client.handleBackchannelLogout(token)
    return { status: 200, headers: { 'cache-control': 'no-store' }, body: '' }
  } catch (err) {
    if (err instanceof ResourceTokensError && err.code === 'invalid_logout_token') {
      logger?.warn?.('back-channel logout token refused', { reason: err.message })
      return failure('invalid_request', 'the logout token is not valid')
    }
    logger?.error?.('back-channel logout failed', { code: err instanceof ResourceTokensError ? err.code : 'error' })
    return failure('temporarily_unavailable', 'the logout could not be completed; try again')
  }
}

/**
 * {@link backchannelLogoutResponse} for the Fetch API's `Request` and `Response` (Hono, Next.js route handlers,
 * Cloudflare-style `fetch` handlers): checks the method and content type and reads a bounded form body.
 */
export async function handleBackchannelLogoutRequest(client: BackchannelLogoutClient, request: Request, logger?: Logger): Promise<Response> {
  let answer: BackchannelLogoutAnswer
  if (request.method !== 'POST') {
    answer = failure('invalid_request', 'use POST')
  } else if (!/^application\/x-www-form-urlencoded\b/i.test(request.headers.get('content-type') ?? '')) {
    answer = failure('invalid_request', 'the body must be application/x-www-form-urlencoded')
  } else {
    const body = await readBounded(request)
    answer = body === undefined ? failure('invalid_request', 'the body is too large') : await backchannelLogoutResponse(client, new URLSearchParams(body), logger)
  }
  const headers = request.method === 'POST' ? answer.headers : { ...answer.headers, allow: 'POST' }
  return new Response(answer.body === '' ? null : answer.body, { status: request.method === 'POST' ? answer.status : 405, headers })
}

function failure(error: string, description: string): BackchannelLogoutAnswer {
  return {
    status: 400,
    headers: { 'cache-control': 'no-store', 'content-type': 'application/json' },
    body: JSON.stringify({ error, error_description: description }),
  }
}

/** The body as text, or `undefined` past {@link MAX_BACKCHANNEL_BODY_BYTES}. */
async function readBounded(request: Request): Promise<string | undefined> {
  if (Number(request.headers.get('content-length') ?? 0) > MAX_BACKCHANNEL_BODY_BYTES) return undefined
  if (request.body === null) return ''
  const reader = request.body.getReader()
  const chunks: Uint8Array[] = []
  let size = 0
  for (;;) {
    const { done, value } = await reader.read()
    if (done) break
    size += value.byteLength
    if (size > MAX_BACKCHANNEL_BODY_BYTES) {
      await reader.cancel().catch(() => undefined)
      return undefined
    }
    chunks.push(value)
  }
  return Buffer.concat(chunks).toString('utf8')
}
