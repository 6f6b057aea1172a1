/** The kinds `micro new` scaffolds. */
export const SCAFFOLD_KINDS = ['rpc', 'http', 'worker', 'script'] as const
/** One of SCAFFOLD_KINDS. */
export type ScaffoldKind = (typeof SCAFFOLD_KINDS)[number]

/** The files of a new service folder, by file name. */
export type Scaffold = Record<string, string>

/** `orders-api` → `OrdersApi`: the handler class name of an rpc service. */
export function pascalCase(name: string): string {
  const words = name.split(/[^a-zA-Z0-9]+/).filter(Boolean)
  const joined = words.map((w) => w[0]?.toUpperCase() + w.slice(1)).join('')
  return /^[A-Za-z]/.test(joined) ? joined : `S${joined}`
}

/**
 * The service.toml, service.ts and service.test.ts of a new service of one kind. The test
 * passes as generated: it runs the service in-process with micro-ts/testing.
 */
export function scaffold(name: string, kind: ScaffoldKind): Scaffold {
  const files = { rpc, http, worker, script }[kind](name)
  return {
    'service.toml': files.toml,
    'service.ts': `${files.code}\nexport default service\n// \`node\` on this file (once built) runs the service too; \`micro run\` and tests only import it.\nservice.runIfMain(import.meta)\n`,
    'service.test.ts': files.test,
  }
}

interface Files {
  toml: string
  code: string
  test: string
}

function toml(name: string, types: string, extra = ''): string {
  return `# The service's definition: micro run reads it, checks it and starts every kind in types.
name = "${name}"
types = [${types}]
version = "v0.1.0"
product = "${name}"

[features.logging]
level = "info"

[features.health]
enabled = true
${extra}`
}

const TEST_HEAD = `import assert from 'node:assert/strict'
import { test } from 'node:test'
import { testService } from 'micro-ts/testing'
import service from './service.js'
`

function rpc(name: string): Files {
  const handler = pascalCase(name)
  return {
    toml: toml(name, '"rpc"'),
    code: `import { defineService } from 'micro-ts'

/** ${handler}: every public method is an endpoint, ${handler}.Method. */
export class ${handler} {
  constructor(private readonly greeting: string) {}

  async Hello(req: { name?: string }) {
    return { message: \`\${this.greeting} \${req.name ?? 'stranger'}\` }
  }
}

const service = defineService({
  env: { GREETING: { type: 'string', default: 'Hello' } },
  rpc: ({ env }) => new ${handler}(env.GREETING),
})
`,
    test: `${TEST_HEAD}
test('${handler}.Hello greets by name', async () => {
  const t = await testService(service, { env: { GREETING: 'Hi' } })
  try {
    assert.deepEqual(await t.call('${handler}.Hello', { name: 'Alice' }), { message: 'Hi Alice' })
  } finally {
    await t.stop()
  }
})
`,
  }
}

function http(name: string): Files {
  return {
    toml: toml(name, '"http:8080"', `\n[runtime.http]\nbase_path = "/${name}"\n`),
    code: `import { defineService } from 'micro-ts'

const service = defineService({
  // A fetch-style handler: (request) => Response. A Hono app's app.fetch fits as it is.
  http: ({ logger }) => async (request: Request) => {
    const url = new URL(request.url)
    if (request.method === 'GET' && url.pathname === '/hello') {
      logger.debug('hello', { name: url.searchParams.get('name') })
      return Response.json({ message: \`Hello \${url.searchParams.get('name') ?? 'stranger'}\` })
    }
    return Response.json({ error: \`no route \${request.method} \${url.pathname}\` }, { status: 404 })
  },
})
`,
    test: `${TEST_HEAD}
test('GET /${name}/hello greets by name', async () => {
  const t = await testService(service)
  try {
    const res = await t.http('GET', '/${name}/hello?name=Alice')
    assert.equal(res.status, 200)
    assert.deepEqual(res.body, { message: 'Hello Alice' })
    assert.equal((await t.http('GET', '/health')).status, 200)
  } finally {
    await t.stop()
  }
})
`,
  }
}

function worker(name: string): Files {
  return {
    toml: toml(name, '"worker"'),
    code: `import { setTimeout as sleep } from 'node:timers/promises'
import { defineService } from 'micro-ts'

const service = defineService({
  env: { INTERVAL: { type: 'duration', default: 1000 } },
  // Runs until the service stops (its signal aborts); here it counts ticks in the store.
  worker: ({ env, store, logger }) => async (signal: AbortSignal) => {
    for (let ticks = 1; !signal.aborted; ticks++) {
      await store.write('ticks', ticks)
      logger.info('tick', { ticks })
      await sleep(env.INTERVAL, undefined, { signal }).catch(() => {})
    }
  },
})
`,
    test: `${TEST_HEAD}
test('the worker ticks until stopped', async () => {
  const t = await testService(service, { env: { INTERVAL: '10ms' } })
  try {
    const deadline = Date.now() + 5000
    let ticks = 0
    while (ticks < 3 && Date.now() < deadline) {
      ticks = await t.store.read<number>('ticks').then((r) => r.value, () => 0)
      await new Promise((r) => setTimeout(r, 10))
    }
    assert.ok(ticks >= 3, \`only \${ticks} ticks\`)
  } finally {
    await t.stop()
  }
})
`,
  }
}

function script(name: string): Files {
  return {
    toml: toml(name, '"script"'),
    code: `import { defineService } from 'micro-ts'

const service = defineService({
  env: { WHO: { type: 'string', default: 'world' } },
  // Runs once; the number it returns is the process's exit code.
  script: async ({ env, store, logger }) => {
    await store.write('greeting', \`hello \${env.WHO}\`)
    logger.info(\`hello \${env.WHO}\`)
    return 0
  },
})
`,
    test: `${TEST_HEAD}
test('the script greets and exits 0', async () => {
  const t = await testService(service, { env: { WHO: 'Alice' } })
  try {
    assert.equal(await t.script(), 0)
    assert.equal((await t.store.read('greeting')).value, 'hello Alice')
  } finally {
    await t.stop()
  }
})
`,
  }
}
