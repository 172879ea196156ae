import { VARIANTS, type VariantId } from '../sections/transports.js'
import { storeName, TRANSPORT_TARGETS, type Results } from './results.js'

// A hand-written SVG: grouped bars for latencies and throughput, and a row per provider-load scenario.

const WIDTH = 960
const COLORS = { a: '#8c8c8c', b: '#4e79a7', c: '#f28e2b', on: '#59a14f', off: '#e15759', ok: '#59a14f', bad: '#e15759' }
/** One colour per transport variant: greys for the baselines, blues and oranges for the library, red for the hand-rolled one. */
const VARIANT_COLORS: Record<VariantId, string> = {
  fetch: '#8c8c8c',
  http: '#b5b5b5',
  undici: '#5f5f5f',
  fetchControl: '#d0d0d0',
  undiciControl: '#d0d0d0',
  fetchMemory: '#4e79a7',
  fetchRedis: '#a0cbe8',
  requestMemory: '#f28e2b',
  requestRedis: '#ffbe7d',
  handRolled: '#e15759',
}
/** Short names under the bars. */
const SHORT: Record<VariantId, string> = {
  fetch: 'fetch',
  http: 'node:http',
  undici: 'undici',
  fetchControl: 'fetch again',
  undiciControl: 'undici again',
  fetchMemory: 'c.fetch mem',
  fetchRedis: 'c.fetch redis',
  requestMemory: 'c.request mem',
  requestRedis: 'c.request redis',
  handRolled: 'hand-rolled',
}
const FONT = 'font-family="system-ui, -apple-system, Segoe UI, Helvetica, Arial, sans-serif"'

interface Bar {
  value: number
  color: string
  /** Text above the bar. */
  label: string
  /** Second line above the bar (e.g. the ratio). */
  note?: string
  /** Drawn as a dashed line across the bar: the target for this value. */
  target?: number
}

interface Group {
  label: string
  bars: Bar[]
}

interface Panel {
  x: number
  y: number
  width: number
  height: number
  title: string
  groups: Group[]
  legend: Array<{ color: string; label: string }>
}

export function chart(results: Results): string {
  const parts: string[] = []
  let y = 16
  const m = results.machine
  parts.push(text(20, (y += 14), `resource-tokens benchmarks, ${results.startedAt.slice(0, 10)}`, { size: 18, weight: 'bold' }))
  parts.push(text(20, (y += 20), `${m.cpus} × ${m.cpuModel}, ${m.memoryGiB} GiB, Node ${m.node}, Redis ${m.redis}, load ${m.loadAverage.start.toFixed(1)}→${m.loadAverage.end.toFixed(1)}${results.quick ? ' (quick mode)' : ''}`, { size: 12, color: '#555' }))
  y += 16

  const t = results.transports
  if (t !== undefined) {
    for (const level of t.levels) {
      const variants = VARIANTS.filter((v) => level.summary[v.id] !== undefined && !isControl(v.id))
      const bars = (pick: 'medianUs' | 'rps'): Bar[] =>
        variants.map((v) => {
          const f = level.summary[v.id]!
          const own = v.against === v.id
          const base = level.summary[v.against]
          if (pick === 'rps') return { value: f.rps, color: VARIANT_COLORS[v.id], label: f.rps.toFixed(0), note: `×${f.rpsVsFetch.toFixed(2)}` }
          return {
            value: f.medianUs,
            color: VARIANT_COLORS[v.id],
            label: `${f.medianUs.toFixed(0)} µs`,
            ...(own ? {} : { note: `×${f.vsTransport.median.toFixed(3)}` }),
            ...(own || base === undefined || v.id === 'http' || v.id === 'handRolled' ? {} : { target: base.medianUs * TRANSPORT_TARGETS.median }),
          }
        })
      parts.push(
        barPanel({
          x: 20,
          y,
          width: 440,
          height: 230,
          title: `${level.inFlight} in flight: median µs, ratio to its transport (dashed: target)`,
          groups: [{ label: `medians of ${t.repetitions} repetitions`, bars: bars('medianUs') }],
          legend: [],
        }),
      )
      parts.push(
        barPanel({
          x: 500,
          y,
          width: 440,
          height: 230,
          title: `${level.inFlight} in flight: requests/s, ratio to global fetch`,
          groups: [{ label: `medians of ${t.repetitions} repetitions`, bars: bars('rps') }],
          legend: [],
        }),
      )
      y += 250
    }
    const legend = VARIANTS.filter((v) => t.levels[0]!.summary[v.id] !== undefined && !isControl(v.id))
    let lx = 20
    for (const v of legend) {
      parts.push(`<rect x="${lx}" y="${y}" width="10" height="10" fill="${VARIANT_COLORS[v.id]}"/>`)
      parts.push(text(lx + 14, y + 9, SHORT[v.id], { size: 11 }))
      lx += 24 + SHORT[v.id].length * 6.2
    }
    y += 24
  }
  const scale = results.manyUsers?.redis
  if (scale !== undefined) {
    parts.push(
      barPanel({
        x: 20,
        y,
        width: 440,
        height: 210,
        title: 'Fetch latency against grants in Redis: median µs',
        groups: scale.points.map((p) => ({
          label: `${p.grants.toLocaleString('en')} grants`,
          bars: [
            { value: p.medianUs.a, color: COLORS.a, label: `${p.medianUs.a.toFixed(0)}` },
            { value: p.medianUs.cached, color: COLORS.on, label: `${p.medianUs.cached.toFixed(0)}`, note: `×${p.ratio.cached.toFixed(2)}` },
            { value: p.medianUs.uncached, color: COLORS.off, label: `${p.medianUs.uncached.toFixed(0)}`, note: `×${p.ratio.uncached.toFixed(2)}` },
          ],
        })),
        legend: [
          { color: COLORS.a, label: '(a) fetch' },
          { color: COLORS.on, label: 'grant cache on' },
          { color: COLORS.off, label: 'grant cache off' },
        ],
      }),
    )
  }
  if (scale !== undefined) y += 230

  const rows: Array<{ label: string; count: number; minimum: number; failed: number }> = []
  for (const b of results.providerLoad?.bursts ?? []) rows.push({ label: `cold burst of ${b.fetches}, ${storeName(b.store)}`, count: b.tokenRequests, minimum: b.minimum, failed: b.outcome.failed })
  for (const s of results.providerLoad?.sustained ?? []) rows.push({ label: `${s.durationS} s, ${s.tokenLifetimeS} s tokens, ${storeName(s.store)}`, count: s.tokenRequests, minimum: s.minimum, failed: s.outcome.failed })
  for (const h of results.providerLoad?.handRolled ?? []) {
    rows.push({ label: h.scenario === 'burst' ? `cold burst of ${h.fetches}, hand-rolled` : `${h.durationS} s, ${h.tokenLifetimeS} s tokens, hand-rolled`, count: h.tokenRequests, minimum: h.minimum, failed: h.outcome.failed })
  }
  for (const r of results.renewal?.load ?? []) rows.push({ label: `renewal A, ${r.durationS} s, ${r.tokenLifetimeS} s tokens, ${storeName(r.store)}`, count: r.tokenRequests, minimum: r.minimum, failed: r.outcome.failed })
  const x = results.crossProcess
  if (x !== undefined) rows.push({ label: `cold burst of ${x.fetches} in ${x.processes} processes`, count: x.tokenRequests, minimum: x.minimum, failed: x.outcome.failed })
  if (rows.length > 0) {
    parts.push(text(20, (y += 16), 'Token-endpoint requests (bar) against the minimum (black tick); green when at most the minimum with no failures', { size: 13, weight: 'bold' }))
    y += 10
    // The hand-rolled client's thousands of requests would flatten every other bar: bars stop at 4 × the
    // largest minimum, the figure beside them says the rest.
    const most = Math.max(...rows.map((r) => Math.max(Math.min(r.count, 4 * r.minimum), r.minimum)), 1)
    const barX = 330
    const barWidth = WIDTH - barX - 180
    for (const row of rows) {
      const met = row.count <= row.minimum && row.failed === 0
      const w = (Math.min(row.count, most) / most) * barWidth
      const tick = barX + (row.minimum / most) * barWidth
      parts.push(text(20, y + 14, row.label, { size: 12 }))
      parts.push(`<rect x="${barX}" y="${y + 3}" width="${Math.max(w, 1).toFixed(1)}" height="14" fill="${met ? COLORS.ok : COLORS.bad}"/>`)
      parts.push(`<line x1="${tick.toFixed(1)}" x2="${tick.toFixed(1)}" y1="${y}" y2="${y + 20}" stroke="#000" stroke-width="2"/>`)
      parts.push(text(barX + barWidth + 12, y + 14, `${row.count} (min ${row.minimum}), ${row.failed} failed`, { size: 12 }))
      y += 22
    }
  }
  const renewal = results.renewal
  if (renewal !== undefined) {
    y += 10
    for (const run of renewal.load) {
      const met = run.p99Ratio <= TRANSPORT_TARGETS.p99
      parts.push(text(20, (y += 18), `Renewal under load, ${storeName(run.store)}: p99 during renewals ${run.inRenewal.p99Us.toFixed(0)} µs / warm ${run.warm.p99Us.toFixed(0)} µs = ${run.p99Ratio.toFixed(2)} (target ≤ 1.10)`, { size: 13, weight: 'bold', color: met ? '#2e6b26' : '#b00020' }))
    }
    for (const c of renewal.outage?.clients ?? []) {
      const met = c.outcome.failed === 0 && c.renewedAfterS !== undefined
      const o = renewal.outage!
      parts.push(text(20, (y += 18), `Token endpoint down ${o.outageS} s (${o.tokenLifetimeS} s tokens), ${storeName(c.store)}: ${c.outcome.failed} failed of ${c.fetches}, ${c.refreshFailedEvents} refresh_failed (target 0 failed)`, { size: 13, weight: 'bold', color: met ? '#2e6b26' : '#b00020' }))
    }
  }
  const heap = results.manyUsers?.heap
  if (heap !== undefined) {
    y += 10
    const met = heap.overheadPerCachedToken <= 2048
    parts.push(text(20, (y += 16), `Heap per cached token beyond its own ${heap.tokenBytes.toFixed(0)} bytes: ${heap.overheadPerCachedToken.toFixed(0)} B (target ≤ 2048 B)`, { size: 13, weight: 'bold', color: met ? '#2e6b26' : '#b00020' }))
    parts.push(text(20, (y += 18), `${heap.bytesPerGrant.toFixed(0)} B of heap per grant with two cached tokens, everything included (memory store, ${heap.grants.toLocaleString('en')} grants)`, { size: 12, color: '#333' }))
  }
  y += 20
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${y}" viewBox="0 0 ${WIDTH} ${y}" ${FONT}>\n<rect width="100%" height="100%" fill="#fff"/>\n${parts.join('\n')}\n</svg>\n`
}

function barPanel(panel: Panel): string {
  const out: string[] = []
  out.push(text(panel.x, panel.y + 14, panel.title, { size: 13, weight: 'bold' }))
  const legendHeight = panel.legend.length > 0 ? 18 : 0
  let lx = panel.x
  for (const item of panel.legend) {
    out.push(`<rect x="${lx}" y="${panel.y + 22}" width="10" height="10" fill="${item.color}"/>`)
    out.push(text(lx + 14, panel.y + 31, item.label, { size: 11 }))
    lx += 20 + item.label.length * 6.2
  }
  const top = panel.y + 30 + legendHeight + 24
  const bottom = panel.y + panel.height - 20
  const max = Math.max(...panel.groups.flatMap((g) => g.bars.map((b) => b.value)), 1)
  const plotHeight = bottom - top
  const groupWidth = panel.width / panel.groups.length
  out.push(`<line x1="${panel.x}" x2="${panel.x + panel.width}" y1="${bottom}" y2="${bottom}" stroke="#999"/>`)
  panel.groups.forEach((group, gi) => {
    const gx = panel.x + gi * groupWidth
    const barWidth = Math.min(70, (groupWidth - 30) / group.bars.length)
    const start = gx + (groupWidth - barWidth * group.bars.length) / 2
    group.bars.forEach((bar, bi) => {
      const h = (bar.value / max) * plotHeight
      const bx = start + bi * barWidth
      out.push(`<rect x="${(bx + 3).toFixed(1)}" y="${(bottom - h).toFixed(1)}" width="${(barWidth - 6).toFixed(1)}" height="${h.toFixed(1)}" fill="${bar.color}"/>`)
      if (bar.target !== undefined) {
        const ty = bottom - (bar.target / max) * plotHeight
        out.push(`<line x1="${(bx + 1).toFixed(1)}" x2="${(bx + barWidth - 1).toFixed(1)}" y1="${ty.toFixed(1)}" y2="${ty.toFixed(1)}" stroke="#000" stroke-width="1.5" stroke-dasharray="4 3"/>`)
      }
      const cx = bx + barWidth / 2
      out.push(text(cx, bottom - h - (bar.note === undefined ? 4 : 17), bar.label, { size: 11, anchor: 'middle' }))
      if (bar.note !== undefined) out.push(text(cx, bottom - h - 4, bar.note, { size: 11, anchor: 'middle', weight: 'bold' }))
    })
    out.push(text(gx + groupWidth / 2, bottom + 15, group.label, { size: 12, anchor: 'middle', color: '#333' }))
  })
  return out.join('\n')
}

function text(x: number, y: number, content: string, style: { size: number; weight?: string; anchor?: string; color?: string }): string {
  const attributes = [`x="${x.toFixed(1)}"`, `y="${y.toFixed(1)}"`, `font-size="${style.size}"`]
  if (style.weight !== undefined) attributes.push(`font-weight="${style.weight}"`)
  if (style.anchor !== undefined) attributes.push(`text-anchor="${style.anchor}"`)
  attributes.push(`fill="${style.color ?? '#111'}"`)
  return `<text ${attributes.join(' ')}>${escape(content)}</text>`
}

function escape(value: string): string {
  return value.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')
}

/** The control rows (a baseline against itself) are in the tables, not in the chart. */
function isControl(id: VariantId): boolean {
  return id === 'fetchControl' || id === 'undiciControl'
}
