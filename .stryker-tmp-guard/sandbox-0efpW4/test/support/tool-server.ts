// @ts-nocheck
// A tool server (as an MCP server is one): a resource server that accepts only tokens for its own resource
// indicator, serves its RFC 9728 protected-resource metadata at the well-known URL (path-suffix form), and
// answers a request without a token with a 401 whose challenge points at that metadata (RFC 9728 section 5.1).
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { TestProvider } from './provider.js'
import { startResourceServer, type TestResourceServer } from './resource-server.js'

export interface ToolServer {
  server: TestResourceServer
  /** The resource identifier: `${server.url}${path}`. */
  indicator: string
  /** The well-known metadata URL (RFC 9728 section 3.1, path-suffix form). */
  metadataUrl: string
  /** The metadata served; change it (or `serveMetadata`) to misbehave. */
  metadata: Record<string, unknown>
  /** Replaces how the metadata is answered; return true when it answered. */
  serveMetadata(handler?: (req: IncomingMessage, res: ServerResponse) => void): void
  /** Where the 401 challenge points (default `metadataUrl`). */
  challengeMetadataUrl: string
  /** Requests that carried an Authorization header. */
  tokensReceived(): string[]
  close(): Promise<void>
}

export async function startToolServer(op: TestProvider, options: { path?: string; scope?: string; name?: string; register?: boolean } = {}): Promise<ToolServer> {
  const path = options.path ?? '/mcp'
  const scope = options.scope ?? 'tools:call'
  const name = options.name ?? 'tools'
  const server = await startResourceServer({
    name,
    issuer: op.issuer,
    scope,
    audience: (url) => `${url}${path}`,
    introspection: { clientId: 'rs', clientSecret: 'rs-secret-for-tests-only-0123456789' },
  })
  const indicator = `${server.url}${path}`
  if (options.register !== false) op.registerResource({ indicator, scope })
  let custom: ((req: IncomingMessage, res: ServerResponse) => void) | undefined
  const tool: ToolServer = {
    server,
    indicator,
    metadataUrl: `${server.url}/.well-known/oauth-protected-resource${path}`,
    metadata: { resource: indicator, authorization_servers: [op.issuer], scopes_supported: scope.split(' '), resource_name: name, bearer_methods_supported: ['header'] },
    serveMetadata: (handler) => (custom = handler),
    challengeMetadataUrl: '',
    tokensReceived: () => server.requests.map((r) => r.headers.authorization).filter((a): a is string => typeof a === 'string'),
    close: () => server.close(),
  }
  tool.challengeMetadataUrl = tool.metadataUrl
  server.respond((req, res) => {
    if (req.url?.startsWith('/.well-known/oauth-protected-resource') === true) {
      if (custom !== undefined) custom(req, res)
      else if (req.url === `/.well-known/oauth-protected-resource${path}`) res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(tool.metadata))
      else res.writeHead(404).end()
      return true
    }
    if (req.headers.authorization === undefined) {
      res.writeHead(401, { 'www-authenticate': `Bearer resource_metadata="${tool.challengeMetadataUrl}"` }).end()
      return true
    }
    return false
  })
  return tool
}
