import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { mkdtemp, rm } from 'node:fs/promises'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import type { Broker } from '../src/broker/broker.js'
import { publish } from '../src/broker/publish.js'
import { writeCliConfig } from '../src/cli/environments.js'
import type { Events } from '../src/events/events.js'
import { createLogger } from '../src/logger/logger.js'
import { type MicroServer, startServer } from '../src/platform/server/server.js'
import { sharedMemoryRegistry } from '../src/registry/memory-shared.js'
import type { Service } from '../src/service/service.js'
import type { Store } from '../src/store/store.js'
import { type CliRun, runCli } from './support/cli.js'
import { startShop } from './support/cli-shop.js'
import { spawnNode } from './support/process.js'

// Every command that talks to services works against the current environment's platform.
// The services here are registered only in this process's memory registry, so the CLI (a
// child process) can reach them only through the platform: its Registry for lookups, its
// Proxy for calls and streams, its Store, Events and Broker for the rest. The platform is
// a real `micro server` (startServer) in this process, on memory engines: its registry is
// this process's shared memory registry (MICRO_REGISTRY=memory), where the services are.

const tag = randomUUID().slice(0, 8)
const shopNs = `shop-${tag}`
const otherNs = `other-${tag}`
const root = await mkdtemp(join(tmpdir(), 'micro-cli-platform-'))
let made = 0

// Tests run three at a time (each CLI process costs seconds on a loaded machine): each has
// its own config dir, topics and keys.
describe('the CLI through a platform', { concurrency: 3 }, () => {
  let server: MicroServer
  const platform = {} as { address: string; store: Store; events: Events; broker: Broker }
  const services: Service[] = []
  before(async () => {
    const registry = sharedMemoryRegistry()
    server = await startServer({
      address: '127.0.0.1:0',
      platformAddress: '127.0.0.1:0',
      auth: false,
      runtimeDir: join(root, 'runtime'),
      authDir: join(root, 'auth'),
      logger: createLogger({ level: 'silent' }),
      env: {
        MICRO_REGISTRY: 'memory',
        MICRO_STORE: 'memory',
        MICRO_EVENTS: 'memory',
        MICRO_BROKER: 'memory',
      },
    })
    Object.assign(platform, { address: server.platformAddress, ...server.platform.engines })
    for (const [namespace, from] of [
      [shopNs, 'shop-ns'],
      [otherNs, 'other-ns'],
      ['micro', 'micro-ns'],
    ] as const) {
      services.push((await startShop({ namespace, from, registry })).service)
    }
    // Only in the micro namespace: found from any namespace, as Micro v3 looked up.
    services.push(
      (await startShop({ name: 'billing', namespace: 'micro', from: 'billing', registry })).service,
    )
  })
  after(async () => {
    for (const service of services) await service.stop()
    await server.close()
    await rm(root, { recursive: true, force: true })
  })

  /** A `micro` runner with its own config dir. */
  function freshConfig() {
    const dir = join(root, `cfg-${++made}`)
    const micro = (args: string[], env: Record<string, string> = {}, input?: string) =>
      runCli(args, { MICRO_CONFIG_DIR: dir, ...env }, input)
    return { dir, micro }
  }

  /**
   * A fresh config dir where `prod` is the current environment, pointing at the platform.
   * Written with the CLI's own writer: each CLI process costs seconds on a loaded machine,
   * and the first test (and test/cli-env.test.ts) make it with `micro env` commands.
   */
  async function withEnvironment(namespace?: string) {
    const { dir, micro } = freshConfig()
    const prod =
      namespace === undefined ? { address: platform.address } : { address: platform.address, namespace }
    await writeCliConfig({ current: 'prod', environments: { prod } }, { MICRO_CONFIG_DIR: dir })
    return micro
  }

  test('the user view: env add, env set, user set, then a dynamic command', async () => {
    const { micro } = freshConfig()
    ok(await micro(['env', 'add', 'prod', platform.address]))
    ok(await micro(['env', 'set', 'prod']))
    ok(await micro(['user', 'set', shopNs]))
    const hello = await micro(['shop', 'hello', '--name=Alice'])
    ok(hello)
    assert.deepEqual(JSON.parse(hello.stdout), { from: 'shop-ns', message: 'Hello Alice' })
    const user = await micro(['user'])
    assert.match(user.stdout, new RegExp(`^platform +${platform.address}$`, 'm'))
    assert.match(
      user.stdout,
      new RegExp(`^namespace +${shopNs} \\(micro user set, in this environment\\)$`, 'm'),
    )
  })

  test('the namespace: --namespace > MICRO_NAMESPACE > micro user set > micro; else found in micro', async () => {
    const micro = await withEnvironment(shopNs)
    const from = async (args: string[], env: Record<string, string> = {}) => {
      const run = await micro(args, env)
      ok(run)
      return JSON.parse(run.stdout).from
    }
    assert.equal(await from(['shop', 'hello', '--name=x']), 'shop-ns')
    assert.equal(await from(['shop', 'hello', '--name=x'], { MICRO_NAMESPACE: otherNs }), 'other-ns')
    assert.equal(
      await from(['shop', 'hello', '--name=x', '--namespace', 'micro'], { MICRO_NAMESPACE: otherNs }),
      'micro-ns',
    )
    assert.equal(
      await from(['billing', 'hello', '--name=x']),
      'billing',
      'not in the namespace: found in micro',
    )
    const unset = await withEnvironment()
    assert.equal(JSON.parse((await unset(['shop', 'hello', '--name=x'])).stdout).from, 'micro-ns')
  })

  test('MICRO_PLATFORM or --platform without any environment', async () => {
    const dir = join(root, `cfg-${++made}`)
    const env = { MICRO_CONFIG_DIR: dir, MICRO_NAMESPACE: shopNs }
    const viaVariable = await runCli(['shop', 'hello', '--name=V'], {
      ...env,
      MICRO_PLATFORM: platform.address,
    })
    ok(viaVariable)
    assert.equal(JSON.parse(viaVariable.stdout).message, 'Hello V')
    const viaFlag = await runCli(['shop', 'hello', '--name=F', '--platform', platform.address], env)
    ok(viaFlag)
    assert.equal(JSON.parse(viaFlag.stdout).from, 'shop-ns')
    // Without a platform the CLI works on this machine, where these services are not.
    const local = await runCli(['shop', 'hello', '--name=L', '--registry', 'memory'], env)
    assert.equal(local.code, 1)
    assert.match(local.stderr, /no service named shop/)
  })

  test('typed flags, nested fields and help through the platform', async () => {
    const micro = await withEnvironment(shopNs)
    const order = await micro([
      'shop',
      'place-order',
      '--item=tea',
      '--count=2',
      '--gift',
      '--address.city=Oslo',
    ])
    ok(order)
    assert.deepEqual(JSON.parse(order.stdout).order, {
      item: 'tea',
      count: 2,
      gift: true,
      address: { city: 'Oslo' },
    })
    const help = await micro(['shop', '--help'])
    ok(help)
    assert.match(
      help.stdout,
      new RegExp(`Endpoints of shop \\(namespace ${shopNs}, platform ${platform.address}\\)`),
    )
    assert.match(help.stdout, /--count integer +required; how many/)
    const bad = await micro(['shop', 'place-order', '--count=lots'])
    assert.equal(bad.code, 2)
  })

  test('streams go through Proxy.Stream: standard input lines and a server stream', async () => {
    const micro = await withEnvironment(shopNs)
    const chat = await micro(['shop', 'chat'], {}, '{"name":"A"}\n{"name":"B"}\n')
    ok(chat)
    assert.deepEqual(
      chat.stdout
        .trimEnd()
        .split('\n')
        .map((l) => JSON.parse(l).message),
      ['Hello A', 'Hello B'],
    )
    const counted = await micro(['shop', 'count', '--to=2'])
    ok(counted)
    assert.deepEqual(counted.stdout.trimEnd().split('\n'), ['{"n":1}', '{"n":2}'])
    const call = await micro(['call', 'shop', 'Shop.Chat', '[{"name":"C"}]'])
    ok(call)
    assert.equal(JSON.parse(call.stdout).message, 'Hello C')
  })

  test('call, services and describe use the platform', async () => {
    const micro = await withEnvironment(shopNs)
    const call = await micro(['call', 'shop', 'Shop.Hello', '{"name":"Cy"}'])
    ok(call)
    assert.deepEqual(JSON.parse(call.stdout), { from: 'shop-ns', message: 'Hello Cy' })
    const listed = await micro(['services'])
    ok(listed)
    assert.match(listed.stdout, /^shop +latest +\(1 node\)$/m)
    assert.doesNotMatch(listed.stdout, /billing/, 'only the namespace asked for')
    const described = await micro(['describe', 'shop'])
    ok(described)
    assert.ok(
      JSON.parse(described.stdout)[0].endpoints.some((e: { name: string }) => e.name === 'Admin.Reset'),
    )
    const missing = await micro(['call', 'nosuch', 'X.Y', '{}'])
    assert.equal(missing.code, 1)
    assert.match(missing.stderr, /service nosuch not found/)
    const unknown = await micro(['nosuch'])
    assert.equal(unknown.code, 1)
    assert.match(
      unknown.stderr,
      new RegExp(`no service named nosuch in namespace ${shopNs} or micro on the platform at`),
    )
  })

  test('store and config are the platform store, in the namespace', async () => {
    const micro = await withEnvironment(shopNs)
    ok(await micro(['store', 'write', 'user:1', '{"name":"Ann"}']))
    const stored = await platform.store.read('user:1', { namespace: shopNs })
    assert.deepEqual(stored.value, { name: 'Ann' }, 'written on the platform, in the namespace')
    const read = await micro(['store', 'read', 'user:1'])
    ok(read)
    assert.deepEqual(JSON.parse(read.stdout), { name: 'Ann' })
    assert.equal((await micro(['store', 'list', '--prefix', 'user:'])).stdout.trim(), 'user:1')
    assert.match((await micro(['store', 'databases'])).stdout, /micro/)
    ok(await micro(['store', 'delete', 'user:1']))
    const gone = await micro(['store', 'read', 'user:1'])
    assert.equal(gone.code, 1)
    assert.match(gone.stderr, /"code":404/)

    ok(await micro(['config', 'set', 'db.url', 'postgres://db/shop']))
    const got = await micro(['config', 'get', 'db'])
    ok(got)
    assert.deepEqual(JSON.parse(got.stdout), { url: 'postgres://db/shop' })
    const inOther = await micro(['config', 'get', 'db'], { MICRO_NAMESPACE: otherNs })
    assert.equal(inOther.code, 1, 'another namespace has its own config')
  })

  test('publish and stream publish/read go to the platform', async () => {
    const micro = await withEnvironment(shopNs)
    const published = await micro(['stream', 'publish', `orders-${tag}`, '{"id":1}'])
    ok(published)
    const events = await platform.events.read(`orders-${tag}`, { namespace: shopNs })
    assert.deepEqual(
      events.map((e) => e.payload),
      [{ id: 1 }],
    )
    const read = await micro(['stream', 'read', `orders-${tag}`])
    ok(read)
    assert.deepEqual(JSON.parse(read.stdout).payload, { id: 1 })

    const received: unknown[] = []
    await platform.broker.subscribe(`${shopNs}.news-${tag}`, (delivery) => {
      received.push(JSON.parse(Buffer.from(delivery.body).toString()))
    })
    const sent = await micro(['publish', `news-${tag}`, '{"n":1}'])
    ok(sent)
    assert.match(JSON.parse(sent.stdout).id, /\S/)
    await until(() => received.length > 0)
    assert.deepEqual(received, [{ n: 1 }])
  })

  test('subscribe and stream consume go through the platform, until the count or Ctrl-C', async () => {
    const dir = join(root, `cfg-${++made}`)
    const env = { MICRO_CONFIG_DIR: dir, MICRO_PLATFORM: platform.address, MICRO_NAMESPACE: shopNs }
    const subscriber = runCli(['subscribe', `alerts-${tag}`, '--count', '1'], env)
    let done = false
    void subscriber.finally(() => {
      done = true
    })
    // The subscription is live some time after the CLI starts: publish until it has one.
    while (!done) {
      await publish(platform.broker, `${shopNs}.alerts-${tag}`, { level: 'high' })
      await new Promise((resolve) => setTimeout(resolve, 50))
    }
    const got = await subscriber
    ok(got)
    const line = JSON.parse(got.stdout.trim())
    assert.equal(line.topic, `alerts-${tag}`)
    assert.deepEqual(line.payload, { level: 'high' })

    await platform.events.publish(`jobs-${tag}`, { job: 7 }, { namespace: shopNs })
    const consumer = spawnNode(['dist/cli/main.js', 'stream', 'consume', `jobs-${tag}`, '--offset', '1'], env)
    await consumer.waitFor(/"job":7/)
    consumer.process.kill('SIGINT')
    assert.equal(await consumer.exited, 0)
    assert.deepEqual(JSON.parse(consumer.stdout().trim()).payload, { job: 7 })
  })

  test('a platform that is not there is a clear error, not a hang', async () => {
    const closed = await unusedAddress()
    const dir = join(root, `cfg-${++made}`)
    const run = await runCli(['shop', 'hello', '--name=x'], { MICRO_CONFIG_DIR: dir, MICRO_PLATFORM: closed })
    assert.equal(run.code, 1)
    assert.match(run.stderr, /"code":5\d\d/)
  })
})

/** Resolve once `condition` holds, checking every few milliseconds. */
async function until(condition: () => boolean): Promise<void> {
  while (!condition()) await new Promise((resolve) => setTimeout(resolve, 10))
}

function ok(run: CliRun): void {
  assert.equal(run.code, 0, `exit ${run.code}\nstdout: ${run.stdout}\nstderr: ${run.stderr}`)
}

/** A loopback address nothing listens on (a port bound and released). */
async function unusedAddress(): Promise<string> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as { port: number }
  await new Promise<void>((resolve) => server.close(() => resolve()))
  return `127.0.0.1:${port}`
}
