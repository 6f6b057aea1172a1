// A NATS or Redis server of a test's own, on a free loopback port, for tests that stop and
// restart an engine: the shared servers are never touched.

import { type ChildProcess, spawn, spawnSync } from 'node:child_process'
import { once } from 'node:events'
import { mkdtempSync, rmSync } from 'node:fs'
import { connect, createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { killWithTestProcess } from './process.js'

/** Which engine binary, and how it is started on `port` (with `dir` for its files). */
const ENGINES = {
  nats: {
    binary: 'nats-server',
    args: (port: number, dir: string, monitor?: number) => [
      '-js',
      '-a',
      '127.0.0.1',
      '-p',
      String(port),
      '-sd',
      dir,
      ...(monitor === undefined ? [] : ['-m', String(monitor)]),
    ],
    url: (port: number) => `nats://127.0.0.1:${port}`,
  },
  // No persistence at all: a restart loses every key, as a Redis without AOF or RDB does.
  redis: {
    binary: 'redis-server',
    args: (port: number, dir: string) => [
      '--port',
      String(port),
      '--bind',
      '127.0.0.1',
      '--save',
      '',
      '--appendonly',
      'no',
      '--dir',
      dir,
    ],
    url: (port: number) => `redis://127.0.0.1:${port}`,
  },
} as const

export type EngineName = keyof typeof ENGINES

/** Options of {@link EngineServer.start}. */
export interface EngineServerOptions {
  /** NATS only: serve the HTTP monitoring endpoints (`/connz`) on a free port too. */
  monitor?: boolean
}

/**
 * Whether the engine's binary is installed: the reason to skip when it is not, or false.
 * In CI (`CI=true`) a missing binary fails instead, like a missing test server.
 */
export function engineSkip(name: EngineName): string | false {
  const found = spawnSync(ENGINES[name].binary, ['--version'], { stdio: 'ignore' }).status === 0
  if (found) return false
  if (process.env.CI === 'true') throw new Error(`${ENGINES[name].binary} is required in CI`)
  return `${ENGINES[name].binary} is not installed`
}

/** A server of the test's own: stop, start again on the same port and data directory, remove. */
export class EngineServer {
  readonly url: string
  /** `http://127.0.0.1:<port>` of NATS's monitoring endpoints, when asked for. */
  readonly monitor: string | undefined
  readonly #name: EngineName
  readonly #port: number
  readonly #monitorPort: number | undefined
  readonly #dir: string
  #process: ChildProcess | undefined

  private constructor(name: EngineName, port: number, dir: string, monitorPort: number | undefined) {
    this.#name = name
    this.#port = port
    this.#dir = dir
    this.#monitorPort = monitorPort
    this.url = ENGINES[name].url(port)
    this.monitor = monitorPort === undefined ? undefined : `http://127.0.0.1:${monitorPort}`
  }

  /** Start one on a free port; resolves once it takes connections. */
  static async start(name: EngineName, options: EngineServerOptions = {}): Promise<EngineServer> {
    const monitorPort = options.monitor && name === 'nats' ? await freePort() : undefined
    const dir = mkdtempSync(join(tmpdir(), `micro-${name}-`))
    const server = new EngineServer(name, await freePort(), dir, monitorPort)
    await server.resume()
    return server
  }

  /** Start it (again); resolves once it takes connections. */
  async resume(): Promise<void> {
    const { binary, args } = ENGINES[this.#name]
    const child = spawn(binary, args(this.#port, this.#dir, this.#monitorPort), { stdio: 'ignore' })
    this.#process = child
    killWithTestProcess(child)
    const until = Date.now() + 20_000
    while (!(await accepts(this.#port))) {
      if (child.exitCode !== null) throw new Error(`${binary} exited with ${child.exitCode}`)
      if (Date.now() > until) throw new Error(`${binary} did not start on port ${this.#port}`)
      await sleep(25)
    }
  }

  /** Stop it with `signal` (SIGTERM: a clean shutdown; SIGKILL: a crash) and wait for it to exit. */
  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    const child = this.#process
    this.#process = undefined
    if (!child || child.exitCode !== null || child.signalCode !== null) return
    const exited = once(child, 'exit')
    child.kill(signal)
    await exited
  }

  /** Stop it (SIGKILL) and remove its files. */
  async remove(): Promise<void> {
    await this.stop('SIGKILL')
    rmSync(this.#dir, { recursive: true, force: true })
  }
}

async function freePort(): Promise<number> {
  const server = createServer()
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  const { port } = server.address() as { port: number }
  server.close()
  await once(server, 'close')
  return port
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1')
    socket.once('connect', () => {
      socket.destroy()
      resolve(true)
    })
    socket.once('error', () => resolve(false))
  })
}
