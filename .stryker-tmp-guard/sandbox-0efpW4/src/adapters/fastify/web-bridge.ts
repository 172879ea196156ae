// @ts-nocheck
// Fastify request -> Web Request (headers, method, path; no body) and Web Response -> Fastify reply.
import type { FastifyReply, FastifyRequest } from 'fastify'
import { webRequestFrom } from '../../web/node-request.js'

/**
 * A bodyless Web `Request` with the method, path, query and headers of `request`. The origin is the app's
 * configured one: the web handlers use only the path and query of the URL, never the `Host` header.
 */
export function toWebRequest(request: FastifyRequest, origin: string): Request {
  return webRequestFrom(request.method, request.url, request.headers, origin)
}

/** Sends a Web `Response` through the reply (status, headers, every `Set-Cookie`, body). */
export async function sendWebResponse(reply: FastifyReply, response: Response): Promise<FastifyReply> {
  reply.code(response.status)
  for (const [name, value] of response.headers) {
    if (name.toLowerCase() !== 'set-cookie') reply.header(name, value)
  }
  const cookies = response.headers.getSetCookie()
  if (cookies.length > 0) reply.header('set-cookie', cookies)
  const body = response.body === null ? '' : Buffer.from(await response.arrayBuffer())
  return reply.send(body)
}
