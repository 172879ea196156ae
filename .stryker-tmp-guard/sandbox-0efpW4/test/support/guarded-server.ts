// @ts-nocheck
// A resource server built on the library's own guard (verifyAccessToken), for DPoP nonce and replay tests.
import { createServer, type IncomingHttpHeaders } from 'node:http'
import type { AddressInfo } from 'node:net'
import { createAccessTokenVerifier, GuardError, type VerifyAccessTokenOptions } from 'resource-tokens'

export interface GuardedServer {
  url: string
  /** Responses by status, in order. */
  statuses: number[]
  close(): Promise<void>
}

export async function startGuardedServer(options: (url: string) => VerifyAccessTokenOptions): Promise<GuardedServer> {
  const statuses: number[] = []
  let verify: ReturnType<typeof createAccessTokenVerifier> | undefined
  let base = ''
  const server = createServer((req, res) => {
    const answer = (status: number, headers: Record<string, string>, body: unknown): void => {
      statuses.push(status)
      res.writeHead(status, { 'content-type': 'application/json', ...headers }).end(JSON.stringify(body))
    }
    verify!({ method: req.method ?? 'GET', url: `${base}${req.url ?? '/'}`, headers: toHeaders(req.headers) }).then(
      (token) => answer(200, {}, { sub: token.subject, scopes: token.scopes, bound: token.bound !== undefined }),
      (err: unknown) => {
        if (err instanceof GuardError) {
          const { status, headers } = err.challenge()
          answer(status, headers, err.toJSON())
        } else answer(500, {}, { error: 'server_error' })
      },
    )
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  server.unref()
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  verify = createAccessTokenVerifier(options(base))
  return {
    url: base,
    statuses,
    close: () => new Promise((resolve) => { server.closeAllConnections(); server.close(() => resolve()) }),
  }
}

function toHeaders(headers: IncomingHttpHeaders): Record<string, string | string[] | undefined> {
  return { ...headers }
}
