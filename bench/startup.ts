/**
 * Phase 3: start to serving and idle RSS of one service, micro-ts (default registry and
 * transport) against Moleculer (TCP transporter broker with one service).
 */
import { setTimeout as sleep } from 'node:timers/promises'
import { fileURLToPath } from 'node:url'
import { spawnFixture } from './children.js'
import { machineBusyMs, readCpuMs, readRssMb } from './proc.js'
import { median } from './stats.js'

export type StartupSystem = 'micro-ts' | 'moleculer'

export interface StartupRun {
  /** Spawn to ready line received, as the orchestrator saw it (ms). */
  wallMs: number
  /** `performance.now()` when serving, i.e. ms since the process started, as the fixture printed it. */
  servingMs: number
  /** VmRSS after `idleMs` of idling (MB). */
  rssMb: number
  /** Share of a core other processes used from spawn to the RSS reading (noise check). */
  otherCpu: number
}

export interface StartupResult {
  system: StartupSystem
  runs: StartupRun[]
  median: StartupRun
}

const scripts: Record<StartupSystem, string> = {
  'micro-ts': fileURLToPath(new URL('./fixtures/micro-server.js', import.meta.url)),
  moleculer: fileURLToPath(new URL('./fixtures/moleculer-server.js', import.meta.url)),
}

/** One start: spawn, wait for the ready line, idle, read RSS, stop. */
export async function startOnce(system: StartupSystem, idleMs: number): Promise<StartupRun> {
  const machineBefore = machineBusyMs()
  const child = spawnFixture(scripts[system], {
    env: {
      // A fresh namespace per run, so no run finds services left from another.
      BENCH_NAMESPACE: `bench-start-${process.pid}-${Date.now().toString(36)}`,
      // Node reads this bundle before any code runs (about 50 ms on the bench machine, whose
      // environment sets it for its own tools): a cost of the machine, not of the service.
      NODE_EXTRA_CA_CERTS: '',
    },
  })
  try {
    const ready = await child.waitFor('ready', 15_000)
    const wallMs = ready.receivedAt - child.spawnedAt
    await sleep(idleMs)
    const rssMb = await readRssMb(child.pid)
    const elapsed = performance.now() - child.spawnedAt
    const otherMs = machineBusyMs() - machineBefore - readCpuMs(child.pid)
    return {
      wallMs,
      servingMs: ready.data.servingMs as number,
      rssMb,
      otherCpu: Math.max(0, otherMs) / elapsed,
    }
  } finally {
    await child.stop()
  }
}

/** Summarise runs as per-metric medians. */
export function summarizeStartup(system: StartupSystem, runs: StartupRun[]): StartupResult {
  return {
    system,
    runs,
    median: {
      wallMs: median(runs.map((r) => r.wallMs)),
      servingMs: median(runs.map((r) => r.servingMs)),
      rssMb: median(runs.map((r) => r.rssMb)),
      otherCpu: Math.max(...runs.map((r) => r.otherCpu)),
    },
  }
}
