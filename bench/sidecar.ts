/**
 * Phase 17 of `npm run bench`: the sidecar (src/sidecar). (a) Idle RSS of `micro sidecar`
 * once it has registered an app, with the default flags and with V8 memory flags, next to
 * a bare `node` process with the same flags (the floor on this machine). (b) Added latency
 * per hop, one call at a time: app -> sidecar -> TypeScript service against app ->
 * TypeScript service over HTTP (outbound), and caller -> sidecar -> app against caller ->
 * app (inbound), interleaved blocks in one run, p50s.
 */
import { readFile } from 'node:fs/promises'
import { setTimeout as sleep } from 'node:timers/promises'
import { fileURLToPath } from 'node:url'
import { type Fixture, freePort, spawnFixture } from './children.js'
import { machineBusyMs, readCpuMs, readRssMb } from './proc.js'
import { uniqueName } from './remote.js'
import { check, type TargetCheck, table } from './report.js'
import { attempt, checkQuiet } from './session.js'
import { formatFixed, type LatencySummary, median } from './stats.js'

/** Settings of phase 17 (durations in ms). */
export interface SidecarBenchConfig {
  /** Idle RSS runs per flag set (median reported). */
  runs: number
  idleMs: number
  warmupMs: number
  durationMs: number
  rounds: number
  /** Node flag sets the idle RSS is measured with (the first is the default: none). */
  flags: string[][]
}

/** Idle memory of one process kind with one flag set: medians over runs (MB). */
export interface IdleMemory {
  process: 'micro sidecar' | 'bare node'
  flags: string
  rssMb: number
  pssMb: number
  anonMb: number
  rssRuns: number[]
}

/** One latency comparison: through the sidecar and without it, in one run. */
export interface HopLatency {
  direction: 'outbound' | 'inbound'
  round: number
  via: LatencySummary
  direct: LatencySummary
  /** Share of a core other processes used during the measured window. */
  otherCpu: number
}

/** What phase 17 measured. */
export interface SidecarResults {
  sidecarIdle: IdleMemory[]
  sidecarHops: HopLatency[]
}

const CLI = fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url))
const fixture = (name: string) => fileURLToPath(new URL(`./fixtures/${name}.js`, import.meta.url))

/** Run phase 17 when selected. */
export async function runSidecarPhase(
  config: SidecarBenchConfig,
  phases: Set<number>,
): Promise<SidecarResults> {
  const out: SidecarResults = { sidecarIdle: [], sidecarHops: [] }
  if (!phases.has(17)) return out
  console.log(
    `\n17. Sidecar: idle RSS of micro sidecar with an app registered (${config.runs} run(s) per flag set, ` +
      `${config.idleMs / 1000} s idle, medians) and added latency per hop, one call at a time over keep-alive ` +
      `HTTP, ${config.warmupMs / 1000} s warm-up + ${config.durationMs / 1000} s, ${config.rounds} round(s); ` +
      'sidecar, app and service on core 0, the load on core 1.',
  )
  await checkQuiet('phase 17')
  for (const flags of config.flags) {
    for (const kind of ['micro sidecar', 'bare node'] as const) {
      const runs: { rss: number; pss: number; anon: number }[] = []
      for (let i = 0; i < config.runs; i++) {
        const run = await attempt(`sidecar idle ${kind} [${flags.join(' ')}] run ${i + 1}`, () =>
          kind === 'micro sidecar' ? idleSidecar(flags, config.idleMs) : idleNode(flags, config.idleMs),
        )
        if (run) runs.push(run)
      }
      if (runs.length === 0) continue
      out.sidecarIdle.push({
        process: kind,
        flags: flags.join(' ') || '(none)',
        rssMb: median(runs.map((r) => r.rss)),
        pssMb: median(runs.map((r) => r.pss)),
        anonMb: median(runs.map((r) => r.anon)),
        rssRuns: runs.map((r) => r.rss),
      })
    }
  }
  console.log(
    table(
      ['process', 'node flags', 'RSS MB', 'PSS MB', 'anon MB', 'RSS per run'],
      out.sidecarIdle.map((m) => [
        m.process,
        m.flags,
        formatFixed(m.rssMb, 1),
        formatFixed(m.pssMb, 1),
        formatFixed(m.anonMb, 1),
        m.rssRuns.map((r) => formatFixed(r, 1)).join(' '),
      ]),
    ),
  )
  for (let round = 1; round <= config.rounds; round++) {
    for (const direction of ['outbound', 'inbound'] as const) {
      const hop = await attempt(`sidecar ${direction} hop round ${round}`, () =>
        hopLatency(direction, round, config),
      )
      if (hop) out.sidecarHops.push(hop)
    }
  }
  console.log(
    table(
      ['hop', 'round', 'p50 via', 'p50 direct', 'added p50', 'p99 via', 'p99 direct', 'other CPU%'],
      out.sidecarHops.map((h) => [
        h.direction === 'outbound' ? 'app -> sidecar -> service' : 'caller -> sidecar -> app',
        String(h.round),
        formatFixed(h.via.p50Ms, 3),
        formatFixed(h.direct.p50Ms, 3),
        formatFixed(h.via.p50Ms - h.direct.p50Ms, 3),
        formatFixed(h.via.p99Ms, 3),
        formatFixed(h.direct.p99Ms, 3),
        formatFixed(100 * h.otherCpu, 0),
      ]),
    ),
  )
  return out
}

/** The app fixture on a free port, ready. */
async function startApp(core?: number): Promise<{ app: Fixture; port: number }> {
  const app = spawnFixture(fixture('sidecar-app'), {
    env: { BENCH_APP_PORT: '0' },
    ...(core !== undefined ? { core } : {}),
  })
  const ready = await app.waitFor('ready', 15_000)
  return { app, port: ready.data.port as number }
}

/** `micro sidecar` for the app on `appPort`, its API on a free port; resolves once /v1/healthz answers 204. */
async function startSidecar(
  appPort: number,
  namespace: string,
  options: { flags?: string[]; core?: number } = {},
): Promise<{ sidecar: Fixture; api: string }> {
  const apiPort = await freePort()
  const sidecar = spawnFixture(CLI, {
    nodeArgs: options.flags ?? [],
    args: ['sidecar', '--name', 'bench-sidecar', '--app-port', String(appPort), '--port', String(apiPort)],
    env: { MICRO_NAMESPACE: namespace },
    ...(options.core !== undefined ? { core: options.core } : {}),
  })
  const api = `http://127.0.0.1:${apiPort}`
  const end = Date.now() + 20_000
  for (;;) {
    const status = await fetch(`${api}/v1/healthz`).then(
      (r) => r.status,
      () => 0,
    )
    if (status === 204) return { sidecar, api }
    if (Date.now() > end || (await sidecar.exited(0))) {
      await sidecar.stop()
      throw new Error(`micro sidecar did not become ready (last /v1/healthz: ${status})\n${sidecar.stderr()}`)
    }
    await sleep(50)
  }
}

async function idleSidecar(flags: string[], idleMs: number) {
  const { app, port } = await startApp()
  try {
    const { sidecar } = await startSidecar(port, uniqueName('bench-sidecar'), { flags })
    try {
      await sleep(idleMs)
      return await memoryOf(sidecar.pid)
    } finally {
      await sidecar.stop()
    }
  } finally {
    await app.stop()
  }
}

/** A bare node process that only stays alive: the floor under any Node program here. */
async function idleNode(flags: string[], idleMs: number) {
  const idle = spawnFixture('-e', {
    nodeArgs: flags,
    args: ['setInterval(() => {}, 1000); console.log(JSON.stringify({ ready: true }))'],
  })
  try {
    await idle.waitFor('ready', 10_000)
    await sleep(idleMs)
    return await memoryOf(idle.pid)
  } finally {
    await idle.stop()
  }
}

async function memoryOf(pid: number): Promise<{ rss: number; pss: number; anon: number }> {
  const rss = await readRssMb(pid)
  const status = await readFile(`/proc/${pid}/status`, 'utf8')
  const rollup = await readFile(`/proc/${pid}/smaps_rollup`, 'utf8').catch(() => '')
  const kb = (text: string, field: string) =>
    Number(new RegExp(`^${field}:\\s+(\\d+)`, 'm').exec(text)?.[1] ?? Number.NaN)
  return { rss, pss: kb(rollup, 'Pss') / 1024, anon: kb(status, 'RssAnon') / 1024 }
}

/**
 * One comparison. Outbound: the load (the app's role) calls the greeter through the
 * sidecar's /v1/invoke and over the greeter's own HTTP port. Inbound: the load (a caller's
 * role) calls the sidecar's service port over HTTP and the app directly.
 */
async function hopLatency(
  direction: 'outbound' | 'inbound',
  round: number,
  config: SidecarBenchConfig,
): Promise<HopLatency> {
  const namespace = uniqueName('bench-sidecar')
  const servers: Fixture[] = []
  try {
    const greeter = spawnFixture(fixture('micro-server'), { env: { BENCH_NAMESPACE: namespace }, core: 0 })
    servers.push(greeter)
    const greeterAddress = (await greeter.waitFor('ready', 15_000)).data.address as string
    const { app, port } = await startApp(0)
    servers.push(app)
    const { sidecar, api } = await startSidecar(port, namespace, { core: 0 })
    servers.push(sidecar)
    const serviceAddress = ((await (await fetch(`${api}/v1/metadata`)).json()) as { address: string }).address
    const [via, direct] =
      direction === 'outbound'
        ? [`${api}/v1/invoke/greeter/Greeter.Hello`, `http://${greeterAddress}/Greeter/Hello`]
        : [`http://${serviceAddress}/Echo/Call`, `http://127.0.0.1:${port}/Echo.Call`]
    let before = { machine: 0, ours: 0, at: 0 }
    const ours = () => servers.reduce((sum, s) => sum + readCpuMs(s.pid), 0)
    let window = { machine: 0, ours: 0, ms: 0 }
    const load = spawnFixture(fixture('sidecar-load'), {
      core: 1,
      env: {
        BENCH_VIA: via,
        BENCH_DIRECT: direct,
        BENCH_WARMUP_MS: String(config.warmupMs),
        BENCH_DURATION_MS: String(config.durationMs),
      },
      onLine: ({ data }) => {
        if (data.mark === 'start')
          before = { machine: machineBusyMs(), ours: ours() + readCpuMs(load.pid), at: performance.now() }
        if (data.mark === 'end') {
          window = {
            machine: machineBusyMs() - before.machine,
            ours: ours() + readCpuMs(load.pid) - before.ours,
            ms: performance.now() - before.at,
          }
        }
      },
    })
    try {
      const result = await load.waitFor('result', config.warmupMs + config.durationMs + 60_000)
      const otherCpu = window.ms > 0 ? Math.max(0, window.machine - window.ours) / window.ms : 0
      return {
        direction,
        round,
        via: result.data.via as LatencySummary,
        direct: result.data.direct as LatencySummary,
        otherCpu,
      }
    } finally {
      if (!(await load.exited(20_000))) await load.stop()
    }
  } finally {
    for (const server of servers.reverse()) await server.stop()
  }
}

/** The targets of phase 17: idle RSS (default flags) and the outbound hop's added p50. */
export function sidecarChecks({ sidecarIdle, sidecarHops }: SidecarResults): TargetCheck[] {
  const plain = sidecarIdle.find((m) => m.process === 'micro sidecar' && m.flags === '(none)')
  const added = (direction: HopLatency['direction']) => {
    const hops = sidecarHops.filter((h) => h.direction === direction)
    return hops.length === 0 ? undefined : median(hops.map((h) => h.via.p50Ms - h.direct.p50Ms))
  }
  const ms = (v: number) => `${formatFixed(v, 3)} ms`
  const checks: TargetCheck[] = [
    check('idle RSS of micro sidecar <= 40 MB', plain?.rssMb, { max: 40 }, (v) => `${formatFixed(v, 1)} MB`),
    check(
      'sidecar adds <= 0.3 ms p50 per hop (app -> sidecar -> service vs app -> service)',
      added('outbound'),
      { max: 0.3 },
      ms,
    ),
    {
      ...check('inbound hop added p50 (caller -> sidecar -> app vs caller -> app)', added('inbound'), {}, ms),
      pass: undefined,
    },
  ]
  for (const m of sidecarIdle) {
    if (m === plain) continue
    checks.push({
      target: `idle RSS of ${m.process} with ${m.flags}`,
      measured: `${formatFixed(m.rssMb, 1)} MB (PSS ${formatFixed(m.pssMb, 1)})`,
      pass: undefined,
    })
  }
  return checks.map((c) => ({ ...c, phase: 17 }))
}

/** Other processes' CPU during the latency windows (the noise of phase 17). */
export function sidecarNoise({ sidecarHops }: SidecarResults): Record<string, number> {
  return sidecarHops.length === 0 ? {} : { sidecar: Math.max(...sidecarHops.map((h) => h.otherCpu)) }
}
