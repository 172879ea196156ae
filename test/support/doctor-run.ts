// Runs `resource-tokens doctor` as a child process against a test provider, the way a user runs it; the login
// it asks for is done by the test provider's headless login() on the URL the doctor prints.
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { createServer } from 'node:net'
import { fileURLToPath } from 'node:url'
import { startTestProvider, type ProviderQuirks, type TestProvider, type TestResource } from './provider.js'

const ROOT = fileURLToPath(new URL('../../', import.meta.url))
export const DOCTOR_SECRET = 'doctor-secret-for-tests-only-0123456789'

export interface DoctorRun {
  code: number | null
  stdout: string
  stderr: string
}

/** Runs the CLI; when it prints the login URL, `onLoginUrl` plays the person at the browser. */
export function runDoctorCli(args: string[], onLoginUrl?: (url: string) => Promise<void>): Promise<DoctorRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli.ts', 'doctor', ...args], { cwd: ROOT, env: { ...process.env, NO_COLOR: '1' } })
    let stdout = ''
    let stderr = ''
    let driving: Promise<void> | undefined
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()))
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString()
      const match = /log in: (\S+)\n/.exec(stderr)
      if (match?.[1] !== undefined && onLoginUrl !== undefined && driving === undefined) {
        driving = onLoginUrl(match[1]).catch((err: unknown) => {
          child.kill()
          reject(err)
        })
      }
    })
    child.on('error', reject)
    child.on('close', (code) => resolve({ code, stdout, stderr }))
  })
}

/** A loopback port that was free a moment ago (for the doctor's --redirect-port). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const address = server.address()
      const port = typeof address === 'object' && address !== null ? address.port : 0
      server.close(() => resolve(port))
    })
  })
}

export interface DoctorWorld {
  op: TestProvider
  /** --issuer, --client-id, --client-secret, --redirect-port */
  args: string[]
}

/** A test provider with a `doctor` client whose redirect URI is the doctor's loopback callback. */
export async function startDoctorWorld(options: { quirks?: ProviderQuirks; resources: TestResource[]; resourceIndicators?: boolean; extraScopes?: string[] }): Promise<DoctorWorld> {
  const port = await freePort()
  const op = await startTestProvider({
    quirks: options.quirks ?? {},
    resources: options.resources,
    ...(options.resourceIndicators === undefined ? {} : { resourceIndicators: options.resourceIndicators }),
    ...(options.extraScopes === undefined ? {} : { extraScopes: options.extraScopes }),
    clients: [
      {
        client_id: 'doctor',
        client_secret: DOCTOR_SECRET,
        redirect_uris: [`http://127.0.0.1:${port}/callback`],
        grant_types: ['authorization_code', 'refresh_token'],
        response_types: ['code'],
      },
    ],
  })
  return { op, args: ['--issuer', op.issuer, '--client-id', 'doctor', '--client-secret', DOCTOR_SECRET, '--redirect-port', String(port)] }
}

/** Logs in at the URL the doctor printed and delivers the callback to the doctor's loopback server. */
export function loginAs(op: TestProvider): (url: string) => Promise<void> {
  return async (url) => {
    const callback = await op.login(url)
    const res = await fetch(callback)
    assert.equal(res.status, 200, await res.text())
  }
}
