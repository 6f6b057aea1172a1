import assert from 'node:assert/strict'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { after, describe, test } from 'node:test'
import { createLogger } from '../src/logger/logger.js'
import { MemoryRegistry } from '../src/registry/memory.js'
import { createService } from '../src/service/service.js'
import { removeNatsStreams } from '../src/testing/cleanup.js'
import { testServer } from '../src/testing/servers.js'
import { uuid } from '../src/util/ids.js'
import { type Child, runNode, spawnNode } from './support/process.js'

// `micro run` and `micro config` are the built CLI, run as other processes.
const CLI = 'dist/cli/main.js'
const PACKAGE = resolve('dist/index.js')
const nats = testServer('nats')

const folders: string[] = []
const children: Child[] = []
after(() => {
  for (const c of children) c.process.kill('SIGKILL')
  for (const f of folders) rmSync(f, { recursive: true, force: true })
})

/** `promise`, or a failure naming `what` if it has not settled in 15 s (it should take well under one). */
function soon<T>(promise: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not happen within 15 s`)), 15_000)
  })
  return Promise.race([promise, late]).finally(() => clearTimeout(timer))
}

/** A service folder: its toml and one module file. */
function serviceFolder(toml: string, file: string, source: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'micro-stack-'))
  folders.push(dir)
  writeFileSync(join(dir, 'service.toml'), toml)
  writeFileSync(join(dir, file), source)
  return dir
}

/** A script service that says which engines its deps got and uses each of them. */
const ENGINES_SCRIPT = `
import { defineService } from ${JSON.stringify(PACKAGE)}
export default defineService({
  script: async ({ events, broker, store, sync, config, client }) => {
    await events.publish('audit', { n: 1 })
    const read = await events.read('audit')
    await store.write('k', 'v')
    const lock = await sync.lock('job')
    await lock.unlock()
    console.log(JSON.stringify({
      events: events.name, broker: broker.name, store: store.name, read: read.length,
      tables: await store.tables(), locked: Boolean(lock), greeting: config.get('greeting').string(''),
      client: typeof client.call,
    }))
    return 0
  },
})
`

describe('micro run on the one service stack', () => {
  test('MICRO_EVENTS=nats works under micro run; deps carry every block', { skip: nats.skip }, async () => {
    const namespace = `stack${uuid().slice(0, 8)}`
    const dir = serviceFolder(
      'name = "engines"\nversion = "1.0.0"\ntypes = ["script"]\n',
      'service.mjs',
      ENGINES_SCRIPT,
    )
    try {
      const result = await runNode([CLI, 'run', '--inline', dir], {
        MICRO_NAMESPACE: namespace,
        MICRO_REGISTRY: 'memory',
        MICRO_EVENTS: 'nats',
        MICRO_EVENTS_ADDRESS: nats.address as string,
        MICRO_BROKER: 'nats',
        MICRO_BROKER_ADDRESS: nats.address as string,
        MICRO_STORE: 'memory',
        MICRO_SYNC: 'memory',
        ENGINES__GREETING: 'hi',
        MICRO_LOG_LEVEL: 'warn',
      })
      assert.equal(result.code, 0, result.stderr)
      assert.deepEqual(JSON.parse(result.stdout.trim()), {
        events: 'nats',
        broker: 'nats',
        store: 'memory',
        read: 1,
        tables: ['engines'],
        locked: true,
        greeting: 'hi',
        client: 'function',
      })
    } finally {
      await removeNatsStreams(nats.address as string, `MICRO_EVENTS_${namespace}`)
    }
  })

  for (const ext of ['mjs', 'mts', 'cjs', 'cts']) {
    test(`an entry module service.${ext} is found and run without an entry key`, async () => {
      const esm = ext.startsWith('m')
      const typed = ext.endsWith('ts') ? 'const code: number = 0' : 'const code = 0'
      const source = esm
        ? `import { defineService } from ${JSON.stringify(PACKAGE)}\n${typed}\nexport default defineService({ script: () => { console.log('ran ${ext}'); return code } })\n`
        : `${typed}\nmodule.exports = import(${JSON.stringify(PACKAGE)}).then(({ defineService }) =>\n  defineService({ script: () => { console.log('ran ${ext}'); return code } }))\n`
      const dir = serviceFolder(
        `name = "entry-${ext}"\nversion = "1.0.0"\ntypes = ["script"]\n`,
        `service.${ext}`,
        source,
      )
      const result = await runNode([CLI, 'run', '--inline', dir], {
        MICRO_REGISTRY: 'memory',
        MICRO_LOG_LEVEL: 'warn',
      })
      assert.equal(result.code, 0, result.stderr)
      assert.match(result.stdout, new RegExp(`ran ${ext}`))
    })
  }

  test('a service.ts with ES syntax in a CommonJS package (package.json without "type") runs', async () => {
    // The `micro new` template: import syntax and import.meta in a .ts file that node, by
    // the package type, would load as CommonJS. A global tsx hook failed it as "not yet
    // fully loaded" (require(esm) racing the pending import).
    const dir = serviceFolder(
      'name = "cjs-package"\nversion = "1.0.0"\ntypes = ["script"]\n',
      'service.ts',
      `import { defineService } from ${JSON.stringify(PACKAGE)}
const service = defineService({ script: () => { console.log('ran in a commonjs package'); return 0 } })
export default service
service.runIfMain(import.meta)
`,
    )
    writeFileSync(join(dir, 'package.json'), '{"name":"cjs-package"}\n')
    const result = await runNode([CLI, 'run', '--inline', dir], {
      MICRO_REGISTRY: 'memory',
      MICRO_LOG_LEVEL: 'warn',
    })
    assert.equal(result.code, 0, result.stderr)
    assert.match(result.stdout, /ran in a commonjs package/)
  })

  test('an http-only service shows in micro services with its address and routes', async () => {
    const namespace = `stack-${uuid().slice(0, 8)}`
    const dir = serviceFolder(
      'name = "web-only"\nversion = "1.0.0"\ntypes = ["http"]\n',
      'service.mjs',
      `import { defineService } from ${JSON.stringify(PACKAGE)}
export default defineService({
  http: () => ({ routes: [{ method: 'GET', path: '/hello' }], fetch: () => new Response('hello') }),
})
`,
    )
    const child = spawnNode([CLI, 'run', '--inline', dir], {
      MICRO_NAMESPACE: namespace,
      MICRO_HTTP_PORT: '0',
      MICRO_LOG_LEVEL: 'warn',
    })
    children.push(child)
    const address = (await child.waitFor(/http on (http:\/\/\S+)/, 20_000))[1] as string
    const deadline = Date.now() + 15_000
    for (;;) {
      const listed = await runNode([CLI, 'services', '--namespace', namespace])
      assert.ok(Date.now() < deadline, `micro services never listed ${address}: ${listed.stdout}`)
      if (listed.stdout.includes(new URL(address).host)) {
        assert.match(listed.stdout, /web-only\s+1\.0\.0/)
        assert.match(listed.stdout, /endpoint\s+GET \/hello/)
        break
      }
      await new Promise((r) => setTimeout(r, 100))
    }
    child.process.kill('SIGTERM')
    assert.equal(await child.exited, 0)
  })

  test("micro config set reaches a running service's config.watch", async () => {
    const storeDir = mkdtempSync(join(tmpdir(), 'micro-stack-store-'))
    folders.push(storeDir)
    const namespace = `stack-${uuid().slice(0, 8)}`
    const env = { MICRO_STORE: 'file', MICRO_STORE_ADDRESS: storeDir }
    const service = createService({
      name: 'watcher',
      namespace,
      env,
      registry: new MemoryRegistry(),
      logger: createLogger({ level: 'silent' }),
      handleSignals: false,
    })
    await service.start()
    try {
      assert.equal(service.config.get('feature.on').exists, false)
      const changes = service.config.watch('feature.on')
      const set = await runNode([CLI, 'config', 'set', 'feature.on', 'true', '--namespace', namespace], env)
      assert.equal(set.code, 0, set.stderr)
      const next = await soon(changes.next(), 'the watch')
      assert.equal(next.value?.bool(), true)
    } finally {
      await service.stop()
    }
  })
})
