// A local issuer for the guard's tests: its discovery document and its JWKS on 127.0.0.1, nothing else.
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { JWK } from 'jose'

export interface LocalIssuer {
  /** `http://127.0.0.1:<port>`: the issuer identifier. */
  readonly url: string
  /** The keys `/jwks` serves; set them before the first verification. */
  jwks: JWK[]
  close(): Promise<void>
}

/** Serves `/.well-known/openid-configuration` (issuer and `jwks_uri`) and `/jwks`; anything else is a 404. */
export async function startLocalIssuer(): Promise<LocalIssuer> {
  let url = ''
  const issuer = { jwks: [] as JWK[] }
  const server = createServer((req, res) => {
    const found = req.url === '/jwks' || req.url === '/.well-known/openid-configuration'
    res.writeHead(found ? 200 : 404, { 'content-type': 'application/json' })
    if (req.url === '/jwks') return res.end(JSON.stringify({ keys: issuer.jwks }))
    if (found) return res.end(JSON.stringify({ issuer: url, jwks_uri: `${url}/jwks` }))
    res.end('{}')
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  server.unref()
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  return {
    url,
    get jwks() {
      return issuer.jwks
    },
    set jwks(keys: JWK[]) {
      issuer.jwks = keys
    },
    async close() {
      server.closeAllConnections()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    },
  }
}
