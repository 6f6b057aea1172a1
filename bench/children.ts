/**
 * Child processes for the bench: spawn a built fixture (optionally pinned to a core),
 * wait for its JSON lines with a time limit, stop it, and make sure none outlives the run.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process'
import { createServer } from 'node:net'
import { availableParallelism } from 'node:os'
import { createInterface } from 'node:readline'

/** A JSON line a fixture printed, with when the orchestrator received it. */
export interface Line {
  data: Record<string, unknown>
  receivedAt: number
}

export interface Fixture {
  readonly process: ChildProcess
  readonly pid: number
  /** `performance.now()` just before spawning. */
  readonly spawnedAt: number
  /** Resolves with the first JSON line having `key`; rejects after `ms` or if the fixture exits first. */
  waitFor(key: string, ms: number): Promise<Line>
  /** Resolves true once the fixture has exited, false if `ms` pass first. */
  exited(ms: number): Promise<boolean>
  /** SIGTERM, then SIGKILL if it has not exited within `graceMs`. */
  stop(graceMs?: number): Promise<void>
  stderr(): string
}

const live = new Set<ChildProcess>()
let cleanupInstalled = false

/** Whether the server and client can be pinned to cores 0 and 1. */
export const canPin: boolean =
  availableParallelism() >= 2 && spawnSync('taskset', ['-c', '0', 'true']).status === 0

/**
 * Spawn `node <script> ...args`. With `core` set (and pinning available) it runs under
 * `taskset -c <core>`; taskset execs node, so the pid is node's own.
 */
export function spawnFixture(
  script: string,
  options: {
    args?: string[]
    env?: Record<string, string>
    core?: number
    /** Node flags for this fixture alone (before the script), e.g. V8 memory flags. */
    nodeArgs?: string[]
    /** Called with every JSON line as it arrives. */
    onLine?: (line: Line) => void
  } = {},
): Fixture {
  installCleanup()
  // BENCH_CPU_PROF=<dir> profiles every fixture (written when it exits).
  const profile = process.env.BENCH_CPU_PROF
    ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_CPU_PROF}`]
    : []
  // BENCH_NODE_ARGS adds node flags to every fixture, e.g. `--trace-gc` while investigating.
  const extra = process.env.BENCH_NODE_ARGS?.split(' ').filter(Boolean) ?? []
  const nodeArgs = [...profile, ...extra, ...(options.nodeArgs ?? []), script, ...(options.args ?? [])]
  const pinned = options.core !== undefined && canPin
  const command = pinned ? 'taskset' : process.execPath
  const args = pinned ? ['-c', String(options.core), process.execPath, ...nodeArgs] : nodeArgs
  const spawnedAt = performance.now()
  const child = spawn(command, args, {
    env: { ...process.env, MICRO_LOG_LEVEL: 'silent', ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  live.add(child)
  const lines: Line[] = []
  const listeners = new Set<() => void>()
  let stderr = ''
  let exited = false
  const exit = new Promise<void>((resolve) => {
    child.once('exit', () => {
      exited = true
      live.delete(child)
      for (const l of listeners) l()
      resolve()
    })
  })
  createInterface({ input: child.stdout! }).on('line', (text) => {
    const receivedAt = performance.now()
    let data: unknown
    try {
      data = JSON.parse(text)
    } catch {
      return // not one of our lines
    }
    if (data && typeof data === 'object') {
      const line = { data: data as Record<string, unknown>, receivedAt }
      lines.push(line)
      options.onLine?.(line)
    }
    for (const l of listeners) l()
  })
  child.stderr!.on('data', (chunk: Buffer) => {
    // Keep the tail only: enough to explain a failure.
    stderr = (stderr + chunk.toString()).slice(-4000)
  })
  return {
    process: child,
    pid: child.pid ?? -1,
    spawnedAt,
    stderr: () => stderr,
    waitFor(key, ms) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const line = lines.find((l) => key in l.data)
          if (line) finish(() => resolve(line))
          else if (exited)
            finish(() => reject(new Error(`${script} exited before printing "${key}"\n${stderr}`)))
        }
        const timer = setTimeout(
          () => finish(() => reject(new Error(`${script} printed no "${key}" within ${ms} ms\n${stderr}`))),
          ms,
        )
        const finish = (settle: () => void) => {
          clearTimeout(timer)
          listeners.delete(check)
          settle()
        }
        listeners.add(check)
        check()
      })
    },
    exited(ms) {
      if (exited) return Promise.resolve(true)
      return new Promise((resolve) => {
        const timer = setTimeout(() => resolve(false), ms)
        void exit.then(() => {
          clearTimeout(timer)
          resolve(true)
        })
      })
    },
    // Writing a CPU profile on exit can take seconds; give profiled fixtures longer.
    async stop(graceMs = profile.length > 0 ? 20_000 : 3000) {
      if (exited) return
      child.kill('SIGTERM')
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs)
      await exit
      clearTimeout(timer)
    },
  }
}

/** A TCP port that was free a moment ago on 127.0.0.1 (for Moleculer's static url). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen({ host: '127.0.0.1', port: 0 }, () => {
      const address = server.address()
      const port = typeof address === 'object' && address ? address.port : 0
      server.close(() => resolve(port))
    })
  })
}

/** Kill every fixture still running when the orchestrator exits or is interrupted. */
function installCleanup(): void {
  if (cleanupInstalled) return
  cleanupInstalled = true
  const killAll = () => {
    for (const child of live) child.kill('SIGKILL')
  }
  process.once('exit', killAll)
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      killAll()
      process.exit(130)
    })
  }
}
