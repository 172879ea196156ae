// @ts-nocheck
// One HTTP request with exactly the headers given (node:http, so `Host` and `Origin` can be anything), and
// cookie helpers. For tests that play a browser, or an attacker.
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http'

export interface Reply {
  status: number
  headers: IncomingHttpHeaders
  body: string
  location: string | undefined
  setCookies: string[]
}

export function send(url: string, options: { method?: string; headers?: Record<string, string>; body?: string } = {}): Promise<Reply> {
  const target = new URL(url)
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      { host: target.hostname, port: target.port, path: `${target.pathname}${target.search}`, method: options.method ?? 'GET', headers: options.headers ?? {} },
      (res) => {
        const chunks: Buffer[] = []
        res.on('data', (chunk: Buffer) => chunks.push(chunk))
        res.on('end', () => {
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8'), location: res.headers.location, setCookies: res.headers['set-cookie'] ?? [] })
        })
      },
    )
    req.on('error', reject)
    req.end(options.body)
  })
}

/** The value a `Set-Cookie` line sets for `name`, or undefined. */
export function cookieValue(setCookies: string[], name: string): string | undefined {
  for (const line of setCookies) {
    const [pair = ''] = line.split(';')
    const eq = pair.indexOf('=')
    if (pair.slice(0, eq) === name) return pair.slice(eq + 1)
  }
  return undefined
}

export function cookieLine(setCookies: string[], name: string): string | undefined {
  return setCookies.find((line) => line.startsWith(`${name}=`))
}

export const HTML = { accept: 'text/html,application/xhtml+xml' }
export const JSON_ACCEPT = { accept: 'application/json' }
