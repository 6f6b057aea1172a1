/**
 * Phase 15 of `npm run bench` (alone: BENCH_PHASES=15, or `node build/bench/devloop.js`):
 * the dev loop. `micro run` of a project of three TypeScript services (orders and shop
 * depend on users; each has a tsconfig.json, so reloads are type-checked) is timed from
 * spawn to its "3 of 3 ready" line; then an edit of users/service.ts is timed from the
 * write to the first call answered by the new version (a client calls in a loop).
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { fileURLToPath } from 'node:url'
import { Client } from 'micro-ts/client'
import { createRegistry, RegistryCache } from 'micro-ts/registry'
import { createSelector } from 'micro-ts/selector'
import { MicroTransport } from 'micro-ts/transport'
import { check, type TargetCheck, table } from './report.js'
import { attempt, checkQuiet } from './session.js'
import { median } from './stats.js'

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..')
const DIST = join(ROOT, 'dist')

export interface DevLoopConfig {
  /** Cold starts of the dev loop measured. */
  starts: number
  /** Edits measured in the last start. */
  reloads: number
}

export interface DevLoopResults {
  /** Spawn to "3 of 3 ready", ms, per start. */
  startMs: number[]
  /** Write of the edit to the first reply from the new version, ms, per edit. */
  reloadMs: number[]
}

/** The project: users, then orders and shop (both depend on users). */
function writeProject(dir: string, version: string): void {
  for (const name of ['users', 'orders', 'shop']) writeService(join(dir, name), name, version)
  writeFileSync(
    join(dir, 'micro.toml'),
    '[services.users]\npath = "users"\n\n[services.orders]\npath = "orders"\ndepends = ["users"]\n\n' +
      '[services.shop]\npath = "shop"\ndepends = ["users"]\n',
  )
}

function writeService(dir: string, name: string, version: string): void {
  mkdirSync(join(dir, 'node_modules', '@types'), { recursive: true })
  const types = join(dir, 'node_modules', '@types', 'node')
  if (!existsSync(types)) symlinkSync(join(ROOT, 'node_modules', '@types', 'node'), types, 'dir')
  const handler = name.charAt(0).toUpperCase() + name.slice(1)
  writeFileSync(join(dir, 'service.toml'), `name = "${name}"\ntypes = ["rpc"]\nversion = "1.0.0"\n`)
  writeFileSync(join(dir, 'package.json'), '{ "type": "module" }\n')
  writeFileSync(
    join(dir, 'tsconfig.json'),
    JSON.stringify({
      compilerOptions: {
        strict: true,
        module: 'nodenext',
        noEmit: true,
        skipLibCheck: true,
        types: ['node'],
      },
    }),
  )
  writeFileSync(
    join(dir, 'service.ts'),
    `import { defineService } from '${join(DIST, 'definition', 'index.js')}'
import { endpoint } from '${join(DIST, 'server', 'index.js')}'

const version: string = '${version}'

class ${handler} {
  Version = endpoint({ idempotent: true }, async () => ({ version, pid: process.pid }))
}

export default defineService({ rpc: () => new ${handler}() })
`,
  )
}

interface Loop {
  child: ChildProcess
  output(): string
  waitFor(pattern: RegExp, ms: number): Promise<number>
  stop(): Promise<void>
}

function startLoop(dir: string, env: Record<string, string>): Loop {
  const child = spawn(process.execPath, [join(DIST, 'cli', 'main.js'), 'run', '--address', '127.0.0.1:0'], {
    cwd: dir,
    env: { ...process.env, ...env, NO_COLOR: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let out = ''
  const waiters = new Set<() => void>()
  child.stdout?.on('data', (d: Buffer) => {
    out += d.toString()
    for (const w of waiters) w()
  })
  child.stderr?.resume()
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  process.once('exit', () => child.kill('SIGKILL'))
  return {
    child,
    output: () => out,
    waitFor(pattern, ms) {
      const since = out.length
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          waiters.delete(check)
          reject(new Error(`no ${pattern} within ${ms} ms: ${out.slice(-2000)}`))
        }, ms)
        function check() {
          if (!pattern.test(out.slice(since))) return
          clearTimeout(timer)
          waiters.delete(check)
          resolve(performance.now())
        }
        waiters.add(check)
      })
    },
    async stop() {
      child.kill('SIGINT')
      await Promise.race([exited, sleep(15_000).then(() => child.kill('SIGKILL'))])
    },
  }
}

/** Measure the dev loop: cold starts, then reloads in the last one. */
export async function measureDevLoop(config: DevLoopConfig): Promise<DevLoopResults> {
  const results: DevLoopResults = { startMs: [], reloadMs: [] }
  const dir = mkdtempSync(join(tmpdir(), 'micro-bench-devloop-'))
  const registryAddress = `224.0.0.251:${20_000 + Math.floor(Math.random() * 30_000)}`
  const namespace = `benchdev${process.pid}`
  const env = { MICRO_REGISTRY: 'mdns', MICRO_REGISTRY_ADDRESS: registryAddress, MICRO_NAMESPACE: namespace }
  const registry = createRegistry('mdns', registryAddress)
  const client = new Client({
    lookup: new RegistryCache(registry),
    transport: new MicroTransport(),
    selector: createSelector(),
    namespace,
    local: false,
    requestTimeout: 5000,
  })
  let loop: Loop | undefined
  try {
    writeProject(dir, 'v0')
    for (let i = 0; i < config.starts; i++) {
      const spawnedAt = performance.now()
      loop = startLoop(dir, env)
      const readyAt = await loop.waitFor(/3 of 3 ready/, 60_000)
      results.startMs.push(readyAt - spawnedAt)
      if (i < config.starts - 1) {
        await loop.stop()
        loop = undefined
      }
    }
    if (!loop) return results
    // Let the start's background checks finish, as a developer's first edit comes later.
    await sleep(2000)
    for (let i = 1; i <= config.reloads; i++) {
      const version = `v${i}`
      const savedAt = performance.now()
      writeService(join(dir, 'users'), 'users', version)
      for (;;) {
        const reply = await client
          .call<{ version: string }>('users', 'Users.Version', {})
          .catch(() => undefined)
        if (reply?.version === version) break
        if (performance.now() - savedAt > 30_000)
          throw new Error(`${version} never answered: ${loop.output().slice(-2000)}`)
        await sleep(5)
      }
      results.reloadMs.push(performance.now() - savedAt)
      await sleep(1000)
    }
    return results
  } finally {
    await loop?.stop()
    await client.close()
    await registry.close()
    rmSync(dir, { recursive: true, force: true })
  }
}

/** Run phase 15 when selected; prints its table. */
export async function runDevLoopPhase(
  config: DevLoopConfig,
  phases: Set<number>,
): Promise<DevLoopResults | undefined> {
  if (!phases.has(15)) return undefined
  console.log(
    '\n15. Dev loop: micro run of 3 TypeScript services to all ready; an edit to the new version answering',
  )
  await checkQuiet('phase 15')
  const results = await attempt('dev loop', () => measureDevLoop(config))
  if (results) {
    console.log(
      table(
        ['measure', 'median ms', 'each run ms'],
        [
          ['micro run -> 3 of 3 ready', fmt(median(results.startMs)), results.startMs.map(fmt).join(' ')],
          ['save -> new version answers', fmt(median(results.reloadMs)), results.reloadMs.map(fmt).join(' ')],
        ],
      ),
    )
  }
  return results
}

/** The phase's targets. */
export function devLoopChecks(results: DevLoopResults | undefined): TargetCheck[] {
  const ms = (v: number) => `${fmt(v)} ms`
  return [
    {
      ...check('micro run: 3 services to all ready < 1.5 s', at(results?.startMs), { below: 1500 }, ms),
      phase: 15,
    },
    {
      ...check(
        'hot reload: save to the new version answering < 1 s',
        at(results?.reloadMs),
        { below: 1000 },
        ms,
      ),
      phase: 15,
    },
  ]
}

function at(values: number[] | undefined): number | undefined {
  return values && values.length > 0 ? median(values) : undefined
}

function fmt(v: number): string {
  return v.toFixed(0)
}

// Alone: `node build/bench/devloop.js`.
if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const config = {
    starts: Number(process.env.DEVLOOP_STARTS ?? 3),
    reloads: Number(process.env.DEVLOOP_RELOADS ?? 3),
  }
  const results = await runDevLoopPhase(config, new Set([15]))
  const checks = devLoopChecks(results)
  for (const c of checks)
    console.log(`  ${c.target}: ${c.measured} ${c.pass ? 'PASS' : c.pass === null ? 'ERROR' : 'FAIL'}`)
  process.exit(0)
}
