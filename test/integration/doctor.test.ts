// `resource-tokens doctor` run as a child process against the test provider, the way a user runs it.
// The login it asks for is done by the test provider's headless login() on the URL the doctor prints.
import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import { DOCTOR_SECRET as SECRET, freePort, runDoctorCli as doctor, type DoctorRun as Run } from '../support/doctor-run.js'
import { startTestProvider, type ProviderQuirks, type TestProvider } from '../support/provider.js'

const CONTACTS = 'https://contacts.example.test/api'
const CALENDAR = 'https://calendar.example.test/'
const RESOURCES = ['--resource', `${CONTACTS}=contacts:read=${CONTACTS}`, '--resource', `${CALENDAR}=calendar:read=${CALENDAR}`]

interface DoctorWorld {
  op: TestProvider
  port: number
  args: string[]
}

/** A test provider with a `doctor` client whose redirect URI is the doctor's loopback callback. */
async function startWorld(quirks: ProviderQuirks = {}, tokenExchange = false): Promise<DoctorWorld> {
  const port = await freePort()
  const op = await startTestProvider({
    quirks,
    tokenExchange,
    resources: [
      { indicator: CONTACTS, scope: 'contacts:read contacts:write' },
      { indicator: CALENDAR, scope: 'calendar:read' },
    ],
    clients: [
      {
        client_id: 'doctor',
        client_secret: SECRET,
        redirect_uris: [`http://127.0.0.1:${port}/callback`],
        grant_types: ['authorization_code', 'refresh_token', ...(tokenExchange ? ['urn:ietf:params:oauth:grant-type:token-exchange'] : [])],
        response_types: ['code'],
      },
    ],
  })
  return { op, port, args: ['--issuer', op.issuer, '--client-id', 'doctor', '--client-secret', SECRET, '--redirect-port', String(port)] }
}

/** Logs in at the URL the doctor printed and delivers the callback to the doctor's loopback server. */
function loginAs(op: TestProvider): (url: string) => Promise<void> {
  return async (url) => {
    const callback = await op.login(url)
    const res = await fetch(callback)
    assert.equal(res.status, 200, await res.text())
  }
}

function assertNoSecret(run: Run): void {
  assert.ok(!run.stdout.includes(SECRET) && !run.stderr.includes(SECRET), 'the client secret is never printed')
}

describe('resource-tokens doctor against a well-behaved provider', () => {
  let world: DoctorWorld
  before(async () => {
    world = await startWorld()
  })
  after(() => world.op.close())

  test('static report: every capability row, exit 0', async () => {
    const run = await doctor(world.args)
    assert.equal(run.code, 0, run.stderr)
    assertNoSecret(run)
    const rows = new Map(run.stdout.split('\n').map((line) => [line.split(/\s{2,}/)[0] ?? '', line]))
    const row = (name: string) => rows.get(name) ?? assert.fail(`no row "${name}" in:\n${run.stdout}`)
    assert.match(row('PKCE S256 (RFC 7636)'), /\byes\b.*S256/)
    assert.match(row('Resource indicators (RFC 8707)'), /unknown\s+no standard metadata: unknown until --login/)
    assert.match(row('DPoP (RFC 9449)'), /\byes\b.*algorithms: .*ES256/)
    assert.match(row('Pushed authorization requests (RFC 9126)'), /\byes\b/)
    assert.match(row('iss in authorization responses (RFC 9207)'), /\byes\b/)
    assert.match(row('Token revocation (RFC 7009)'), /\byes\b.*\/token\/revocation/)
    assert.match(row('Token introspection (RFC 7662)'), /\byes\b/)
    assert.match(row('End session (RP-initiated logout)'), /\byes\b/)
    assert.match(row('Token exchange (RFC 8693)'), /\bno\b/)
    assert.match(row('JWT access tokens (RFC 9068)'), /unknown\s+unknown until --login/)
    assert.match(row('Client authentication'), /\byes\b.*client_secret_basic.*using client_secret_basic/)
    assert.match(run.stdout, /Verdict: SOUND/)
    assert.match(run.stdout, /run with --login/)
    assert.match(run.stdout, /clientSecret: process\.env\.CLIENT_SECRET/)
    assert.ok(!run.stdout.includes('\u001b['), 'no colours when stdout is not a terminal')
    assert.match(run.stderr, /doctor: reading discovery from/)
    assert.equal(world.op.tokenRequests.length, 0)
  })

  test('--login: probes each resource, then the first again; sound, exit 0; no refresh token reused; --logout revokes', async () => {
    world.op.resetCounters()
    const run = await doctor([...world.args, ...RESOURCES, '--login', '--logout', '--json'], loginAs(world.op))
    assert.equal(run.code, 0, run.stderr + run.stdout)
    assertNoSecret(run)
    const report = JSON.parse(run.stdout) as {
      clientSecret: string
      capabilities: Array<{ id: string; status: string }>
      probe: { login: { ok: boolean }; steps: Array<{ resource: string; round: number; outcome: string; granted?: string; format?: string; audience?: string[] }>; rotation: string; logout?: { refreshToken: string } }
      verdict: { sound: boolean; problems: string[]; configuration: { downscoping: string; resourceIndicators?: boolean; clientAuth: string } }
    }
    assert.equal(report.clientSecret, '********')
    assert.equal(report.probe.login.ok, true)
    assert.deepEqual(report.probe.steps.map((s) => [s.resource, s.round, s.outcome, s.granted]), [
      [CONTACTS, 1, 'ok', 'contacts:read'],
      [CALENDAR, 1, 'ok', 'calendar:read'],
      [CONTACTS, 2, 'ok', 'contacts:read'],
    ])
    assert.deepEqual(report.probe.steps.map((s) => s.audience), [[CONTACTS], [CALENDAR], [CONTACTS]])
    assert.equal(report.probe.rotation, 'yes')
    assert.equal(report.probe.logout?.refreshToken, 'revoked')
    const status = (id: string) => report.capabilities.find((c) => c.id === id)?.status
    assert.equal(status('resource_indicators'), 'yes')
    assert.equal(status('jwt_access_tokens'), 'yes')
    assert.equal(report.verdict.sound, true, report.verdict.problems.join('\n'))
    assert.deepEqual(report.verdict.configuration, { ...report.verdict.configuration, downscoping: 'scope', resourceIndicators: true, clientAuth: 'client_secret_basic' })
    // Progress was visible while it ran, and the doctor never presented a refresh token twice.
    assert.match(run.stderr, /open this URL in a browser and log in: http:\/\/127\.0\.0\.1:\d+\/auth\?/)
    assert.match(run.stderr, /refreshing for https:\/\/contacts\.example\.test\/api again, after the others/)
    // Three probes, and one made-up refresh token (how is an unknown refresh token answered?).
    assert.equal(world.op.tokenRequests.filter((r) => r.grantType === 'refresh_token').length, 4)
    assert.equal(world.op.reusedRefreshTokens(), 0)
  })

  test('--login with a wrong secret: exit 1, the login failure with advice, neither secret printed', async () => {
    const wrong = 'wrong-secret-with:special/chars'
    const args = world.args.map((a) => (a === SECRET ? wrong : a))
    const run = await doctor([...args, ...RESOURCES, '--login'])
    assert.equal(run.code, 1, run.stderr + run.stdout)
    assert.match(run.stdout, /Login: failed/)
    assert.match(run.stdout, /the login failed: .*invalid_client \(HTTP 401\).*--client-auth client_secret_post/)
    assert.ok(!run.stdout.includes(wrong) && !run.stderr.includes(wrong))
    assert.ok(!run.stdout.includes(encodeURIComponent(wrong)))
  })

  test('bad arguments: exit 2 with the usage', async () => {
    const runs = await Promise.all([
      doctor([]),
      doctor(['--client-id', 'doctor', '--client-secret', SECRET]),
      doctor([...world.args, '--frobnicate']),
      doctor([...world.args, '--resource', 'not-a-url']),
      doctor([...world.args, '--resource', `${CONTACTS}=`]),
      doctor([...world.args, '--login']),
      doctor([...world.args, '--logout']),
      doctor(['--issuer', 'http://provider.example.com', '--client-id', 'doctor', '--client-secret', SECRET]),
      doctor([...world.args, '--redirect-port', 'eighty']),
    ])
    for (const run of runs) {
      assert.equal(run.code, 2, run.stderr)
      assert.match(run.stderr, /usage: resource-tokens doctor/)
      assert.equal(run.stdout, '')
      assertNoSecret(run)
    }
    assert.match(runs[1]?.stderr ?? '', /--issuer is required/)
    assert.match(runs[5]?.stderr ?? '', /--login needs at least one --resource/)
    assert.match(runs[7]?.stderr ?? '', /--issuer must be https/)
  })
})

describe('resource-tokens doctor against a provider that narrows the refresh token', () => {
  test('--login: exit 1, the verdict names the narrowing and recommends token exchange', async () => {
    const world = await startWorld({ narrowRefreshToken: 'rotated' }, true)
    try {
      const run = await doctor([...world.args, ...RESOURCES, '--login'], loginAs(world.op))
      assert.equal(run.code, 1, run.stderr + run.stdout)
      assertNoSecret(run)
      assert.match(run.stdout, /Verdict: NOT SOUND/)
      assert.match(run.stdout, /narrows the refresh token to the scope asked for: https:\/\/calendar\.example\.test\/ was refused with invalid_scope/)
      assert.match(run.stdout, /downscoping: 'token-exchange'/)
      assert.match(run.stdout, /Token exchange \(RFC 8693\)\s+yes/)
      assert.match(run.stdout, /the narrowing sticks/)
      assert.equal(world.op.reusedRefreshTokens(), 0)
    } finally {
      await world.op.close()
    }
  })

  test('--login without token exchange at the provider: recommends downscoping "none" and the provider fix', async () => {
    const world = await startWorld({ narrowRefreshToken: 'same' })
    try {
      const run = await doctor([...world.args, ...RESOURCES, '--login', '--json'], loginAs(world.op))
      assert.equal(run.code, 1, run.stderr + run.stdout)
      const report = JSON.parse(run.stdout) as { verdict: { sound: boolean; problems: string[]; configuration: { downscoping: string } } }
      assert.equal(report.verdict.sound, false)
      assert.equal(report.verdict.configuration.downscoping, 'none')
      assert.ok(report.verdict.problems.some((p) => /fix the provider: keep the refresh token's scope/.test(p)))
    } finally {
      await world.op.close()
    }
  })
})

describe('resource-tokens doctor when discovery fails', () => {
  let world: DoctorWorld
  before(async () => {
    world = await startWorld({ discoveryTrailingSlashOnly: true })
  })
  after(() => world.op.close())

  test('(simulated provider quirk: discovery only with a trailing slash) exit 1 and says where the document is', async () => {
    const run = await doctor(world.args)
    assert.equal(run.code, 1, run.stderr)
    assert.match(run.stdout, /Discovery failed: .*HTTP 404, but .*openid-configuration\/ \(with a trailing slash\) serves the document/)
    assert.match(run.stdout, /Verdict: NOT SOUND/)
  })
})
