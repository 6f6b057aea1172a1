/** Plain-text tables and the targets summary for the bench report. */
import type { InProcessSummary } from './inprocess.js'
import type { RemoteSummary } from './remote.js'
import type { StartupResult } from './startup.js'
import { formatFixed, formatInt, formatRatio } from './stats.js'

/** A left-aligned first column and right-aligned others, two spaces apart. */
export function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)))
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i === 0 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0)))
      .join('  ')
      .trimEnd()
  return [line(header), ...rows.map(line)].map((l) => `  ${l}`).join('\n')
}

const IN_PROCESS_LABELS = {
  'micro-call': 'micro-ts client.call',
  'micro-proxy': 'micro-ts typed proxy',
  moleculer: 'Moleculer broker.call',
  direct: '(reference) await handler',
} as const

/** One row per case: median ops/s over rounds, then each round's. */
export function inProcessTable(rows: InProcessSummary[]): string {
  return table(
    ['system', 'ops/s', 'ns/call', 'other CPU%', 'ops/s per round'],
    rows.map((r) => [
      IN_PROCESS_LABELS[r.case],
      formatInt(r.opsPerSec),
      formatInt(r.nsPerOp),
      formatInt(100 * r.otherCpu),
      r.rounds.map((x) => formatInt(x.opsPerSec)).join(' '),
    ]),
  )
}

/** How a table of pair runs names things: the rate, the two processes, the engine between them. */
export interface PairTableOptions {
  /** Rate unit. Default `req/s`. */
  rate?: string
  /** Short names of server and client. Default `srv`, `cli`. */
  roles?: [string, string]
  /** Short name of the engine (e.g. `nats`); its CPU gets a share of its own. */
  engine?: string
  /** The first two columns' headers. Default `system`, `in flight`. */
  level?: string
  /** Show the messages lost (pub/sub). */
  lost?: boolean
}

/** One row per system and concurrency: medians over rounds, then each round's rate. */
export function remoteTable(rows: RemoteSummary[], options: PairTableOptions = {}): string {
  const pct = (share: number) => formatInt(100 * share)
  const rate = options.rate ?? 'req/s'
  const [srv, cli] = options.roles ?? ['srv', 'cli']
  const engine = options.engine
  const unit = rate.split('/')[0]
  const cpuHeader = engine ? `CPU% ${srv}/${cli}/${engine}/other` : `CPU% ${srv}/${cli}/other`
  return table(
    [
      'system',
      options.level ?? 'in flight',
      rate,
      'p50 ms',
      'p99 ms',
      'max ms',
      cpuHeader,
      `CPU µs/${unit} ${srv}/${cli}${engine ? `/${engine}` : ''}`,
      `${rate} per round`,
      ...(options.lost ? ['lost'] : []),
      'errors',
    ],
    rows.map((r) => [
      r.system,
      String(r.concurrency),
      formatInt(r.rps),
      formatFixed(r.p50Ms, 3),
      formatFixed(r.p99Ms, 3),
      formatFixed(r.maxMs, 2),
      engine
        ? `${pct(r.serverCpu)}/${pct(r.clientCpu)}/${pct(r.engineCpu)}/${pct(r.otherCpu)}`
        : `${pct(r.serverCpu)}/${pct(r.clientCpu)}/${pct(r.otherCpu)}`,
      `${formatFixed(r.serverUsPerCall, 1)}/${formatFixed(r.clientUsPerCall, 1)}${engine ? `/${formatFixed(r.engineUsPerCall, 1)}` : ''}`,
      r.rounds.map((x) => formatInt(x.rps)).join(' '),
      ...(options.lost ? [String(r.rounds.reduce((sum, x) => sum + (x.lost ?? 0), 0))] : []),
      r.errors > 0 ? `${r.errors} (${r.firstError})` : '0',
    ]),
  )
}

export function startupTable(results: StartupResult[]): string {
  return table(
    ['system', 'spawn→ready ms', 'serving at ms', 'idle RSS MB', 'other CPU%', 'runs (serving ms / RSS MB)'],
    results.map((r) => [
      r.system,
      formatFixed(r.median.wallMs, 1),
      formatFixed(r.median.servingMs, 1),
      formatFixed(r.median.rssMb, 1),
      formatInt(100 * r.median.otherCpu),
      r.runs.map((x) => `${x.servingMs.toFixed(0)}/${x.rssMb.toFixed(1)}`).join(' '),
    ]),
  )
}

/** One line of the summary: a target, what was measured, and the verdict. */
export interface TargetCheck {
  target: string
  measured: string
  /** undefined: informational, no verdict; null: could not be measured. */
  pass: boolean | undefined | null
  /** The phase that measures it (a run of some phases only checks theirs). */
  phase?: number
}

/** A check of `value >= min` (or `value <= max`) shown as a ratio or a number with `unit`. */
export function check(
  target: string,
  value: number | undefined,
  bound: { min?: number; max?: number; below?: number },
  show: (v: number) => string = formatRatio,
): TargetCheck {
  if (value === undefined || !Number.isFinite(value)) return { target, measured: 'not measured', pass: null }
  const pass =
    (bound.min === undefined || value >= bound.min) &&
    (bound.max === undefined || value <= bound.max) &&
    (bound.below === undefined || value < bound.below)
  return { target, measured: show(value), pass }
}

export function summaryTable(checks: TargetCheck[]): string {
  const verdict = (c: TargetCheck) =>
    c.pass === undefined ? 'info' : c.pass === null ? 'ERROR' : c.pass ? 'PASS' : 'FAIL'
  return table(
    ['target', 'measured', 'result'],
    checks.map((c) => [c.target, c.measured, verdict(c)]),
  )
}
