import { existsSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { pathToFileURL } from 'node:url'
import { Client } from '../../src/client/client.js'
import { RegistryCache } from '../../src/registry/cache.js'
import { createRegistry } from '../../src/registry/from-env.js'
import type { Registry } from '../../src/registry/registry.js'
import { createSelector } from '../../src/selector/from-name.js'
import { MicroTransport } from '../../src/transport/micro-transport.js'
import { uuid } from '../../src/util/ids.js'
import { type Child, spawnNode } from './process.js'

const DIST = resolve('dist')
const definitionUrl = pathToFileURL(join(DIST, 'definition', 'index.js')).href
const serverUrl = pathToFileURL(join(DIST, 'server', 'index.js')).href

/** What a fixture service of the dev loop tests does. */
export interface FixtureService {
  name: string
  version?: string
  /** Services its onStart calls (`<Name>.Version`): it fails to start when one is not there. */
  calls?: string[]
  /** A file its onStop writes `stopped` to (proves a graceful stop ran the hooks). */
  marker?: string
}

/** The handler's class name: `users` -> `Users`. */
export function handlerOf(name: string): string {
  return name.charAt(0).toUpperCase() + name.slice(1).replace(/[^A-Za-z0-9]/g, '')
}

/**
 * A service.toml folder whose rpc handler `<Name>.Version` (idempotent) answers
 * `{ name, version, pid }`. It prints `<name> env GREETING=... MICRO_ENV=...` when it
 * starts. TypeScript (`ts: true`: service.ts, a tsconfig.json and a package.json of type
 * module, so the dev loop type-checks it) or plain JavaScript on dist/ (faster to start).
 */
export function writeFixtureService(
  dir: string,
  fixture: FixtureService,
  options: { ts?: boolean } = {},
): void {
  mkdirSync(dir, { recursive: true })
  const { name, version = '1.0.0', calls = [], marker } = fixture
  writeFileSync(join(dir, 'service.toml'), `name = "${name}"\ntypes = ["rpc"]\nversion = "${version}"\n`)
  const handler = handlerOf(name)
  const t = options.ts ? (type: string) => `: ${type}` : () => ''
  const source = `import { writeFileSync } from 'node:fs'
import { defineService } from '${options.ts ? join(DIST, 'definition', 'index.js') : definitionUrl}'
import { endpoint } from '${options.ts ? join(DIST, 'server', 'index.js') : serverUrl}'

const version${t('string')} = '${version}'

class ${handler} {
  Version = endpoint({ idempotent: true }, async () => ({ name: '${name}', version, pid: process.pid }))
}

export default defineService({
  rpc: () => new ${handler}(),
  onStart: async ({ client }) => {
    const calls${t('string[]')} = ${JSON.stringify(calls)}
    for (const dep of calls) {
      const handler = dep.charAt(0).toUpperCase() + dep.slice(1)
      await client.call(dep, handler + '.Version', {}, { timeout: 5000, retries: 0 })
    }
    console.log('${name} env GREETING=' + process.env.GREETING + ' MICRO_ENV=' + process.env.MICRO_ENV)
  },
  onStop: () => {
    ${marker ? `writeFileSync(${JSON.stringify(marker)}, 'stopped')` : ''}
  },
})
`
  writeFileSync(join(dir, options.ts ? 'service.ts' : 'service.js'), source)
  if (options.ts) {
    // Node's types, as a project with @types/node installed has them.
    mkdirSync(join(dir, 'node_modules', '@types'), { recursive: true })
    if (!existsSync(join(dir, 'node_modules', '@types', 'node'))) {
      symlinkSync(
        resolve('node_modules', '@types', 'node'),
        join(dir, 'node_modules', '@types', 'node'),
        'dir',
      )
    }
    writeFileSync(join(dir, 'package.json'), '{ "type": "module" }\n')
    writeFileSync(
      join(dir, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          strict: true,
          module: 'nodenext',
          moduleResolution: 'nodenext',
          target: 'es2023',
          skipLibCheck: true,
          noEmit: true,
          types: ['node'],
        },
        include: ['*.ts'],
      }),
    )
  }
}

/** An mDNS registry on a multicast port of its own, a namespace, and a client on them. */
export interface TestNetwork {
  env: Record<string, string>
  namespace: string
  registry: Registry
  client: Client
  close(): Promise<void>
}

export function testNetwork(): TestNetwork {
  const address = `224.0.0.251:${20_000 + Math.floor(Math.random() * 30_000)}`
  const namespace = `dev${uuid().slice(0, 8)}`
  const registry = createRegistry('mdns', address)
  const client = new Client({
    lookup: new RegistryCache(registry),
    transport: new MicroTransport(),
    selector: createSelector(),
    namespace,
    local: false,
    requestTimeout: 10_000,
  })
  return {
    env: {
      MICRO_REGISTRY: 'mdns',
      MICRO_REGISTRY_ADDRESS: address,
      MICRO_NAMESPACE: namespace,
      NO_COLOR: '1',
    },
    namespace,
    registry,
    client,
    async close() {
      await client.close()
      await registry.close()
    },
  }
}

const loops: Child[] = []

/** `micro run <args>` as a process, in `cwd`; {@link killDevLoops} ends any left. */
export function startDevLoop(args: string[], env: Record<string, string>, cwd?: string): Child {
  const child = spawnNode([join(DIST, 'cli', 'main.js'), 'run', ...args], env, cwd)
  loops.push(child)
  return child
}

/**
 * Kill the dev loops a failed test left running (their services stop themselves when
 * their dev loop is gone), so the test process can end.
 */
export async function killDevLoops(): Promise<void> {
  const running = loops.filter((c) => c.process.exitCode === null && c.process.signalCode === null)
  for (const child of running) child.process.kill('SIGKILL')
  await Promise.all(running.map((c) => c.exited))
}

/** Lines of `text` that match `pattern`. */
export function linesMatching(text: string, pattern: RegExp): string[] {
  return text.split('\n').filter((l) => pattern.test(l))
}
