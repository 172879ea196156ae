// @ts-nocheck
// `resource-tokens doctor` against the providers of issue 13: one that ignores scope on refresh and leaves it out of
// its responses (the JWT access token tells), answers an unknown refresh token with invalid_request, leaves
// offline_access out of scopes_supported and has a revocation endpoint that answers HTML; and one that omits scope
// with opaque tokens (the doctor cannot tell, and says so).
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { DOCTOR_SECRET, loginAs, runDoctorCli, startDoctorWorld, type DoctorRun } from '../support/doctor-run.js'

const CONTACTS = 'https://contacts.example.test/api'
const CONTACTS_ADMIN = 'https://contacts.example.test/admin'
const CALENDAR = 'https://calendar.example.test/'

interface Report {
  capabilities: Array<{ id: string; status: string; detail: string }>
  probe: { steps: Array<{ resource: string; round: number; outcome: string; granted?: string; scopeBasis?: string; responseScope?: string }>; endpoints?: { unknownRefreshToken: { kind: string; error?: string }; revocation?: { outcome: string } } }
  verdict: { sound: boolean; summary: string; problems: string[]; notes: string[] }
}

function assertNoSecret(run: DoctorRun): void {
  assert.ok(!run.stdout.includes(DOCTOR_SECRET) && !run.stderr.includes(DOCTOR_SECRET), 'the client secret is never printed')
}

describe('resource-tokens doctor against the issue-13 provider', () => {
  test('(simulated provider quirks: scope ignored and omitted on refresh, invalid_request for unknown refresh tokens, offline_access unadvertised, HTML revocation) not sound: a resource would get a broader token', async () => {
    const world = await startDoctorWorld({
      quirks: { ignoreRefreshScope: true, omitRefreshScope: true, unknownRefreshToken: 'invalid_request', unadvertisedScopes: ['offline_access'], revocationHtml: true },
      resources: [{ indicator: CONTACTS, scope: 'contacts:read contacts:write' }],
    })
    try {
      // Two APIs behind one audience, told apart by scope: the grant holds both scopes.
      const resources = ['--resource', `${CONTACTS}=contacts:read=${CONTACTS}`, '--resource', `${CONTACTS_ADMIN}=contacts:write=${CONTACTS}`]
      const run = await runDoctorCli([...world.args, ...resources, '--login', '--json'], loginAs(world.op))
      assert.equal(run.code, 1, run.stderr + run.stdout)
      assertNoSecret(run)
      const report = JSON.parse(run.stdout) as Report
      assert.equal(report.verdict.sound, false)
      const first = report.probe.steps[0]
      assert.equal(first?.outcome, 'broader_scope')
      assert.deepEqual(first?.granted?.split(' ').sort(), ['contacts:read', 'contacts:write'])
      assert.equal(first?.scopeBasis, 'token')
      assert.equal(first?.responseScope, 'omitted')
      const problems = report.verdict.problems.join('\n')
      assert.match(problems, /ignores the scope on refresh: https:\/\/contacts\.example\.test\/api asked for "contacts:read" and got "(contacts:read contacts:write|contacts:write contacts:read)" \(read from the JWT access token/)
      assert.match(problems, /a resource would get a broader token/)
      assert.match(problems, /omits scope in responses/)
      const notes = report.verdict.notes.join('\n')
      assert.match(notes, /an unknown refresh token answers invalid_request \(HTTP 400\), not invalid_grant/)
      assert.match(notes, /the revocation endpoint answers HTML/)
      const row = (id: string) => report.capabilities.find((c) => c.id === id)
      assert.equal(row('unknown_refresh_token')?.status, 'no')
      assert.equal(row('revocation')?.status, 'no')
      assert.equal(row('offline_access')?.status, 'yes')
      assert.match(row('offline_access')?.detail ?? '', /not in scopes_supported, but a refresh token was issued/)
      assert.equal(report.probe.endpoints?.revocation?.outcome, 'failed')
      assert.equal(world.op.reusedRefreshTokens(), 0)
    } finally {
      await world.op.close()
    }
  })

  test('the text report names each behaviour', async () => {
    const world = await startDoctorWorld({
      quirks: { ignoreRefreshScope: true, omitRefreshScope: true, unknownRefreshToken: 'invalid_request', revocationHtml: true },
      resources: [{ indicator: CONTACTS, scope: 'contacts:read contacts:write' }],
    })
    try {
      const resources = ['--resource', `${CONTACTS}=contacts:read=${CONTACTS}`, '--resource', `${CONTACTS_ADMIN}=contacts:write=${CONTACTS}`]
      const run = await runDoctorCli([...world.args, ...resources, '--login'], loginAs(world.op))
      assert.equal(run.code, 1, run.stderr + run.stdout)
      assert.match(run.stdout, /Verdict: NOT SOUND/)
      assert.match(run.stdout, /ignores the scope on refresh/)
      assert.match(run.stdout, /omits scope in responses/)
      assert.match(run.stdout, /revocation endpoint answers HTML/)
      assert.match(run.stdout, /unknown refresh token answers invalid_request/)
      assert.match(run.stdout, /scope omitted, read from the JWT/)
      assert.match(run.stdout, /Unknown refresh token is invalid_grant\s+no/)
    } finally {
      await world.op.close()
    }
  })
})

describe('resource-tokens doctor when scope is omitted and tokens are opaque', () => {
  test('(simulated provider quirk: scope omitted from refresh responses) sound, but it says it cannot tell', async () => {
    const world = await startDoctorWorld({ quirks: { omitRefreshScope: true }, resources: [], resourceIndicators: false, extraScopes: ['contacts:read', 'calendar:read'] })
    try {
      const run = await runDoctorCli([...world.args, '--resource', `${CONTACTS}=contacts:read`, '--resource', `${CALENDAR}=calendar:read`, '--login', '--json'], loginAs(world.op))
      assert.equal(run.code, 0, run.stderr + run.stdout)
      const report = JSON.parse(run.stdout) as Report
      assert.deepEqual(report.probe.steps.filter((s) => s.round === 1).map((s) => [s.scopeBasis, s.responseScope]), [['none', 'omitted'], ['none', 'omitted']])
      assert.match(report.verdict.summary, /cannot be told/)
      assert.match(report.verdict.notes.join('\n'), /omits scope in responses and its access tokens are opaque, so nobody can tell/)
      // The well-behaved parts are said to be so.
      const row = (id: string) => report.capabilities.find((c) => c.id === id)
      assert.equal(row('unknown_refresh_token')?.status, 'yes')
      assert.match(row('revocation')?.detail ?? '', /answers as RFC 7009/)
    } finally {
      await world.op.close()
    }
  })
})
