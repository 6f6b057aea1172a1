import assert from 'node:assert/strict'
import { type ChildProcess, spawn, spawnSync } from 'node:child_process'
import { randomUUID } from 'node:crypto'
import { once } from 'node:events'
import { createServer } from 'node:net'
import { after, before, describe, test } from 'node:test'
import { MicroError } from '../src/errors/errors.js'
import { createLogger } from '../src/logger/logger.js'
import { createService, type Service } from '../src/service/service.js'
import { httpCall } from '../src/testing/http-call.js'
import { type Child, spawnNode } from './support/process.js'
import { until } from './support/until.js'

/**
 * examples/sidecar-python end to end: the Python app (standard library only, the machine's
 * python3) behind a real `micro sidecar` process, the TypeScript `pricing` example in a
 * third process, all found through mDNS in a namespace of their own. Each path is checked
 * from outside: a call into the Python service, its call to TypeScript, errors both ways,
 * state with ETags, config, a publish a TypeScript subscriber sees, a subscription the
 * Python app gets, and the durable stream.
 */
const PYTHON = process.env.PYTHON ?? 'python3'
const hasPython = spawnSync(PYTHON, ['--version'], { encoding: 'utf8' }).status === 0

interface Order {
  id: string
  item: string
  quantity: number
  total: number
  currency: string
  etag: string
}

async function freePort(): Promise<number> {
  const server = createServer().listen(0, '127.0.0.1')
  await once(server, 'listening')
  const port = (server.address() as { port: number }).port
  await new Promise((resolve) => server.close(resolve))
  return port
}

/** Spawn python3 with the app; stdout collected, killed at the end of the run if still alive. */
function spawnPython(env: Record<string, string>): {
  process: ChildProcess
  stdout: () => string
  stderr: () => string
} {
  const child = spawn(PYTHON, ['examples/sidecar-python/app.py'], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let out = ''
  let err = ''
  child.stdout?.on('data', (d: Buffer) => {
    out += d.toString()
  })
  child.stderr?.on('data', (d: Buffer) => {
    err += d.toString()
  })
  process.once('exit', () => child.kill('SIGKILL'))
  return { process: child, stdout: () => out, stderr: () => err }
}

/** Resolves once `check` answers true, asking every 100 ms; rejects naming `what` after `ms`. */
async function eventually(what: string, check: () => Promise<boolean>, ms = 20_000): Promise<void> {
  const end = Date.now() + ms
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
}

describe('examples/sidecar-python: a Python service behind micro sidecar', {
  skip: !hasPython && process.env.CI !== 'true' ? `${PYTHON} not found` : false,
}, () => {
  const namespace = `sc-py-${randomUUID().slice(0, 8)}`
  const env = {
    MICRO_NAMESPACE: namespace,
    MICRO_LOG_LEVEL: 'warn',
    MICRO_STORE: 'memory',
    MICRO_EVENTS: 'memory',
    MICRO_SYNC: 'memory',
  }
  let pricing: Child
  let sidecar: Child
  let python: ReturnType<typeof spawnPython>
  let api: string
  let caller: Service
  let orders: {
    Create(req: unknown): Promise<Order>
    Get(req: unknown): Promise<Order>
    Received(req: unknown): Promise<{ prices: { message: unknown }[] }>
  }

  before(async () => {
    assert.ok(hasPython, `${PYTHON} is missing: the sidecar example needs the machine's python3`)
    pricing = spawnNode(['build/examples/sidecar-python/pricing.js'], env)
    await pricing.waitFor(/pricing serving on/, 20_000)
    const appPort = await freePort()
    // The sidecar starts first and waits for the app: the documented order works either way.
    sidecar = spawnNode(
      ['dist/cli/main.js', 'sidecar', '--name', 'py-orders', '--app-port', String(appPort), '--port', '0'],
      {
        ...env,
        PY_ORDERS__ORDERS__CURRENCY: 'USD',
      },
    )
    api = `http://${(await sidecar.waitFor(/serving its API on http:\/\/(\S+) /, 20_000))[1]}`
    python = spawnPython({ APP_PORT: String(appPort), MICRO_SIDECAR: api })
    await until(
      () => /py-orders ready/.test(python.stdout()),
      `the Python app to be ready (${python.stderr()})`,
      30_000,
    )
    await sidecar.waitFor(/py-orders is registered/)
    caller = createService({
      name: 'py-test',
      namespace,
      logger: createLogger({ level: 'warn' }),
      handleSignals: false,
    })
    orders = caller.client.service('py-orders') as never
    // mDNS may need a moment to show py-orders to this process: wait for the first answer.
    await eventually('py-orders to be found', async () => {
      try {
        await caller.client.call('py-orders', 'Orders.Received', {}, { timeout: 2000 })
        return true
      } catch (error) {
        if (MicroError.from(error).code !== 503) throw error
        return false
      }
    })
  })
  after(async () => {
    await caller?.stop()
    python?.process.kill('SIGTERM')
    sidecar?.process.kill('SIGTERM')
    pricing?.process.kill('SIGTERM')
    if (sidecar) assert.equal(await sidecar.exited, 0, `the sidecar exits 0 on SIGTERM: ${sidecar.stderr()}`)
  })

  test('an order: a call into Python, its call to TypeScript, state, config, publish and the stream', async () => {
    const order = await orders.Create({ item: 'tea', quantity: 2 })
    assert.equal(order.total, 8, 'pricing quoted 2 teas at 4')
    assert.equal(order.currency, 'USD', 'the currency came from the config')
    assert.equal(order.etag, '1', 'stored as new state')
    // The TypeScript subscriber saw the Python app's publish, from py-orders.
    await until(() => pricing.stdout().includes(order.id), 'pricing to print the order')
    const line = pricing
      .stdout()
      .split('\n')
      .find((l) => l.includes(order.id)) as string
    assert.equal(JSON.parse(line).caller, 'py-orders')
    // State read back through the Python app, with its ETag.
    const read = await orders.Get({ id: order.id })
    assert.deepEqual(read, order)
    // The durable stream holds it too.
    const events = await httpCall(api, 'GET', '/v1/events/orders', undefined)
    assert.ok((events.body as { data: Order }[]).some((e) => e.data.id === order.id))
  })

  test("errors both ways: TypeScript's 404 through Python, Python's own 400", async () => {
    const unknown = (await orders
      .Create({ item: 'wine', quantity: 1 })
      .catch((e: unknown) => e)) as MicroError
    assert.deepEqual(
      [unknown.id, unknown.code, unknown.detail],
      ['py-orders', 404, 'pricing: no price for wine'],
    )
    const bad = (await orders.Create({ item: 'tea' }).catch((e: unknown) => e)) as MicroError
    assert.equal(bad.code, 400)
    assert.match(bad.detail, /quantity/)
    const missing = (await orders.Get({ id: 'nope' }).catch((e: unknown) => e)) as MicroError
    assert.equal(missing.code, 404)
  })

  test('a subscription: a price change TypeScript publishes reaches the Python app', async () => {
    await caller.client.call('pricing', 'Pricing.Set', { item: 'coffee', price: 9 })
    let prices: { message: unknown }[] = []
    await eventually('the Python app to get the price change', async () => {
      prices = (await orders.Received({})).prices
      return prices.length > 0
    })
    assert.deepEqual(prices, [{ message: { item: 'coffee', price: 9 }, attempt: '1' }])
  })
})
