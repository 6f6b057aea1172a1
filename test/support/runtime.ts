import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { pathToFileURL } from 'node:url'
import { LocalRuntime, type LocalRuntimeOptions } from '../../src/platform/runtime/local.js'
import { Runtime } from '../../src/platform/runtime/service.js'
import { MemoryRegistry } from '../../src/registry/memory.js'
import { createService, type Service } from '../../src/service/service.js'
import { MemoryStore } from '../../src/store/memory.js'
import { runNode } from './process.js'

/** The plain-script fixture (see its header). */
export const TICKER = resolve('test/fixtures/runtime/ticker.mjs')
const DIST = resolve('dist')

/** Fast back-off for tests: restarts are counted, never timed. */
export const FAST_BACKOFF = { initial: 20, max: 200, resetAfter: 60_000, crashLoopAfter: 3 }

/** A platform service on 127.0.0.1:0 whose only handler is the runtime. */
export interface TestPlatform {
  address: string
  runtime: LocalRuntime
  service: Service
  dir: string
  /** Run the built `micro` CLI against this platform. */
  cli(args: string[], env?: Record<string, string>): Promise<{ code: number; stdout: string; stderr: string }>
  close(): Promise<void>
}

/** Start a platform (`platform` service + LocalRuntime) in this process. */
export async function startPlatform(options: Partial<LocalRuntimeOptions> = {}): Promise<TestPlatform> {
  const dir = options.dir ?? mkdtempSync(join(tmpdir(), 'micro-runtime-'))
  const runtime = await LocalRuntime.open({
    store: new MemoryStore(),
    backoff: FAST_BACKOFF,
    stopTimeout: 5000,
    // Every fixture says when it is ready; none is taken as ready for merely being alive.
    readyAfter: 600_000,
    ...options,
    dir,
  })
  const service = createService({
    name: 'platform',
    address: '127.0.0.1:0',
    registry: new MemoryRegistry(),
    handleSignals: false,
  })
  service.handle(new Runtime(runtime))
  await service.run()
  const address = service.address as string
  const configDir = join(dir, 'cli-config')
  return {
    address,
    runtime,
    service,
    dir,
    cli: (args, env = {}) =>
      runNode([join(DIST, 'cli', 'main.js'), ...args, '--platform', address], {
        MICRO_CONFIG_DIR: configDir,
        ...env,
      }),
    async close() {
      await service.stop()
      await runtime.close()
      if (!options.dir) rmSync(dir, { recursive: true, force: true })
    },
  }
}

/**
 * Write a service.toml folder whose rpc handler `Roller.Version` (idempotent) answers
 * `{ version, pid }`. Plain JavaScript on dist/, so it starts fast.
 */
export function writeVersionedService(dir: string, name: string, version: string): void {
  mkdirSync(dir, { recursive: true })
  writeFileSync(join(dir, 'service.toml'), `name = "${name}"\ntypes = ["rpc"]\nversion = "${version}"\n`)
  const definition = pathToFileURL(join(DIST, 'definition', 'index.js')).href
  const server = pathToFileURL(join(DIST, 'server', 'index.js')).href
  writeFileSync(
    join(dir, 'service.js'),
    `import { defineService } from '${definition}'
import { endpoint } from '${server}'

class Roller {
  Version = endpoint({ idempotent: true }, async () => ({ version: '${version}', pid: process.pid }))
}

export default defineService({ rpc: () => new Roller() })
`,
  )
}

/** Poll `check` until it returns a value (not undefined/false); fail after `ms` with `what`. */
export async function waitUntil<T>(
  check: () => T | undefined | false | Promise<T | undefined | false>,
  what: string,
  ms = 60_000,
): Promise<T> {
  const deadline = Date.now() + ms
  let last: unknown
  while (Date.now() < deadline) {
    try {
      const value = await check()
      if (value !== undefined && value !== false) return value
    } catch (error) {
      last = error
    }
    await new Promise((r) => setTimeout(r, 50))
  }
  throw new Error(`timed out waiting for ${what}${last ? `: ${(last as Error).message}` : ''}`)
}
