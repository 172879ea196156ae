// @ts-nocheck
import type { Capability } from './capabilities.js'
import type { ProbeResult, ProbeStep } from './login-probe.js'
import type { RecommendedConfiguration, Verdict } from './verdict.js'

/** Everything the doctor found; printed as text or JSON. Holds no secret and no token. */
export interface DoctorReport {
  issuer: string
  clientId: string
  /** Always masked. */
  clientSecret: string
  /** Set when discovery failed: nothing else could be checked. */
  discoveryError?: string
  capabilities: Capability[]
  probe?: ProbeResult
  verdict: Verdict
}

export const MASKED_SECRET = '********'

type Paint = (text: string, colour: 'green' | 'red' | 'yellow' | 'bold') => string

const CODES = { green: 32, red: 31, yellow: 33, bold: 1 } as const

/** Colours only for a terminal (and never with NO_COLOR set). */
export function painter(colour: boolean): Paint {
  return colour ? (text, name) => `\u001b[${CODES[name]}m${text}\u001b[0m` : (text) => text
}

/** The plain-text report: capability table, probe table, verdict, problems, notes, configuration. */
export function renderText(report: DoctorReport, paint: Paint): string {
  const out: string[] = []
  out.push(paint(`resource-tokens doctor: ${report.issuer}`, 'bold') + ` (client ${report.clientId}, secret ${report.clientSecret})`, '')
  if (report.discoveryError !== undefined) {
    out.push(`Discovery failed: ${report.discoveryError}`, '')
  } else {
    out.push(
      ...table(
        ['Capability', 'Status', 'Detail'],
        report.capabilities.map((c) => [c.name, c.status, c.detail]),
        (column, value) => (column === 1 ? paint(value, value === 'yes' ? 'green' : value === 'no' ? 'red' : 'yellow') : value),
      ),
      '',
    )
  }
  if (report.probe !== undefined) {
    const probe = report.probe
    if (probe.login.ok) {
      out.push(
        ...table(
          ['Refresh probe', 'Result', 'Requested', 'Granted', 'Token'],
          probe.steps.map((s) => [`${s.resource} (${s.round === 1 ? 'round 1' : 'again'})`, s.outcome, s.requested, s.granted ?? `(${s.error ?? s.code ?? 'none'})`, tokenText(s)]),
          (column, value) => (column === 1 ? paint(value, value === 'ok' ? 'green' : 'red') : value),
        ),
        `Refresh-token rotation: ${probe.rotation}`,
        '',
      )
    } else {
      out.push(`Login: ${paint('failed', 'red')} (see the problems below)`, '')
    }
  }
  const verdict = report.verdict
  out.push(`Verdict: ${paint(verdict.sound ? 'SOUND' : 'NOT SOUND', verdict.sound ? 'green' : 'red')}: ${verdict.summary}`)
  if (verdict.problems.length > 0) out.push('', 'Problems:', ...verdict.problems.map((p) => `  - ${p}`))
  if (verdict.notes.length > 0) out.push('', 'Notes:', ...verdict.notes.map((n) => `  - ${n}`))
  if (report.discoveryError === undefined) out.push('', 'Configuration to use:', ...configurationSnippet(verdict.configuration).map((line) => `  ${line}`))
  return `${out.join('\n')}\n`
}

/** The JSON report (`--json`). */
export function renderJson(report: DoctorReport): string {
  return `${JSON.stringify(report, null, 2)}\n`
}

/** The recommended options as code to paste; the secret comes from the environment. */
export function configurationSnippet(config: RecommendedConfiguration): string[] {
  const q = (s: string) => `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`
  const lines = [
    'const client = await createResourceClient({',
    `  issuer: ${q(config.issuer)},`,
    `  clientId: ${q(config.clientId)},`,
    '  clientSecret: process.env.CLIENT_SECRET,',
    `  clientAuth: ${q(config.clientAuth)},`,
    `  downscoping: ${q(config.downscoping)},`,
  ]
  if (config.resourceIndicators === true) lines.push('  resourceIndicators: true,')
  lines.push("  redirectUri: 'https://app.example.com/callback', // your app's registered redirect URI", '  resources: [')
  if (config.resources.length === 0) lines.push('    // one entry per API: --resource URL=SCOPE[=INDICATOR]')
  for (const r of config.resources) lines.push(`    { url: ${q(r.url)}, scope: ${q(r.scope)}${r.indicator === undefined ? '' : `, indicator: ${q(r.indicator)}`} },`)
  lines.push('  ],', '})')
  return lines
}

function tokenText(step: ProbeStep): string {
  if (step.format === undefined) return ''
  const parts: string[] = [step.format]
  if (step.audience !== undefined) parts.push(`aud ${step.audience.join(' ') || '(none)'}`)
  if (step.scopeBasis === 'token') parts.push('scope omitted, read from the JWT')
  if (step.scopeBasis === 'none') parts.push('scope omitted: cannot tell')
  if (step.tokenType !== undefined && step.tokenType !== 'bearer') parts.push(step.tokenType)
  if (step.rotated !== undefined) parts.push(step.rotated ? 'rotated' : 'not rotated')
  return parts.join(', ')
}

/** Left-aligned columns, padded on the plain text so colours do not break the alignment. */
function table(header: string[], rows: string[][], style: (column: number, value: string) => string): string[] {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)))
  const line = (cells: string[], styled: boolean) =>
    cells
      .map((cell, i) => {
        const pad = i === cells.length - 1 ? '' : ' '.repeat((widths[i] ?? 0) - cell.length + 2)
        return (styled ? style(i, cell) : cell) + pad
      })
      .join('')
      .trimEnd()
  return [line(header, false), line(header.map((_, i) => '-'.repeat(widths[i] ?? 0)), false), ...rows.map((r) => line(r, true))]
}
