import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { after, before, describe, test } from 'node:test'
import { createService } from '../src/index.js'
import { createLogger, type Logger } from '../src/logger/logger.js'
import { MemoryRegistry } from '../src/registry/memory.js'
import type { Child } from './support/process.js'
import { waitUntil } from './support/runtime.js'
import {
  cli,
  post,
  type ServerChild,
  type ServerHome,
  serverHome,
  startGreeter,
  startServerChild,
} from './support/server.js'

// Spans to a platform that enforces auth (`micro server --auth`, a real child process): a
// service started with its credentials (MICRO_AUTH_ID/MICRO_AUTH_SECRET of a service
// account of its namespace) exports to the platform's Traces.Export with its own token, and
// the platform keeps the spans; an exporter without a token is refused, and the service
// says so once and goes on serving.

let home: ServerHome
let server: ServerChild
let ns: string
let admin: string
const children: Child[] = []

before(async () => {
  home = serverHome()
  ns = home.env.MICRO_NAMESPACE as string
  server = await startServerChild(home, ['--auth'])
  const login = await cli(home, server, ['login', '--token', server.bootstrapToken as string])
  assert.equal(login.code, 0, login.stderr)
  const token = await cli(home, server, ['auth', 'token'])
  assert.equal(token.code, 0, token.stderr)
  admin = token.stdout.trim()
})

after(async () => {
  for (const child of children) {
    child.process.kill('SIGTERM')
    await child.exited
  }
  await server?.stop()
  await home?.remove()
})

/** The traces the platform holds for `service` (an admin of `micro` may read them all). */
async function tracesOf(service: string): Promise<{ rootName: string; services: string[] }[]> {
  const r = await post(server.platform, '/Traces/List', { service }, { authorization: `Bearer ${admin}` })
  assert.equal(r.status, 200, JSON.stringify(r.body))
  return r.body.traces
}

describe('trace export to a platform that enforces auth', () => {
  test('a service with its credentials exports with its own token; the platform keeps its spans', async () => {
    // A service registers under its own account's name.
    const name = `traced-${randomUUID().slice(0, 8)}`
    const created = await cli(home, server, [
      'auth',
      'create',
      'account',
      name,
      '--type',
      'service',
      '--scopes',
      'service',
    ])
    assert.equal(created.code, 0, created.stderr)
    const secret = created.stdout.match(/secret[^\n:]*:\s*(\S+)/i)?.[1]
    assert.ok(secret, created.stdout)
    // Every block on the platform (MICRO_PLATFORM), which also turns trace export on.
    const greeter = await startGreeter(home, {
      GREETER_NAME: name,
      MICRO_PLATFORM: server.platform,
      MICRO_AUTH_ID: name,
      MICRO_AUTH_SECRET: secret,
    })
    children.push(greeter)
    // The admin's call through the platform's proxy: a server span in the greeter.
    const called = await cli(home, server, ['call', name, 'Greeter.Hello', '{"name":"Ann"}'])
    assert.equal(called.code, 0, called.stderr)
    assert.deepEqual(JSON.parse(called.stdout), { message: 'Hello Ann' })
    const traces = await waitUntil(
      async () => {
        const found = await tracesOf(name)
        return found.length > 0 ? found : undefined
      },
      "the greeter's spans at the platform",
      15_000,
    )
    assert.equal(traces[0]?.rootName, 'Greeter.Hello')
    assert.deepEqual(traces[0]?.services, [name])
    assert.doesNotMatch(greeter.stderr() + greeter.stdout(), /trace export/, 'no export failed')
    assert.ok(!(greeter.stderr() + greeter.stdout()).includes(secret))
  })

  test('an exporter without a token is refused (401); the service warns once and keeps serving', async () => {
    const warnings: string[] = []
    const logger = {
      ...createLogger({ level: 'silent' }),
      warn: (message: string) => void warnings.push(message),
      child: () => logger,
    } as Logger
    const name = `anonymous-${randomUUID().slice(0, 8)}`
    const service = createService({
      name,
      namespace: ns,
      registry: new MemoryRegistry(),
      logger,
      handleSignals: false,
      env: { OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: `http://${server.platform}/Traces/Export` },
    })
    service.handle({ Hello: async () => ({ ok: true }) }, { name: 'Anon' })
    await service.start()
    try {
      // More spans than one request carries (512): several requests, each refused.
      for (let i = 0; i < 600; i++)
        assert.deepEqual(await service.client.call(name, 'Anon.Hello', {}), { ok: true })
    } finally {
      await service.stop()
    }
    const refused = warnings.filter((w) => /trace export/.test(w))
    assert.equal(refused.length, 1, warnings.join('\n'))
    assert.match(refused[0] as string, /401/)
    assert.match(refused[0] as string, /MICRO_AUTH_ID/, 'it says how to export with credentials')
    assert.deepEqual(await tracesOf(name), [])
  })
})
