import assert from 'node:assert/strict'
import { after, describe, test } from 'node:test'
import type { MicroError } from '../src/errors/errors.js'
import { createLogger } from '../src/logger/logger.js'
import { MemoryRegistry } from '../src/registry/memory.js'
import { createService } from '../src/service/service.js'
import { type Child, runNode, spawnNode } from './support/process.js'

// Each example of examples/kinds runs as its own process, through `micro run`.
const RUN = ['dist/cli/main.js', 'run', '--inline']
const ENV = { MICRO_REGISTRY: 'memory', MICRO_HTTP_PORT: '0' }

const children: Child[] = []
function start(folder: string, env: Record<string, string> = {}): Child {
  const child = spawnNode([...RUN, folder], { ...ENV, ...env })
  children.push(child)
  return child
}
after(() => {
  for (const c of children) c.process.kill('SIGKILL')
})

/** Wait (bounded) until stderr has `count` lines matching `pattern`. */
async function stderrLines(child: Child, pattern: RegExp, count: number, ms = 10_000): Promise<string[]> {
  const deadline = Date.now() + ms
  for (;;) {
    const lines = child
      .stderr()
      .split('\n')
      .filter((l) => pattern.test(l))
    if (lines.length >= count) return lines
    if (Date.now() > deadline) assert.fail(`only ${lines.length} lines match ${pattern}: ${child.stderr()}`)
    await new Promise((r) => setTimeout(r, 20))
  }
}

describe('examples/kinds as separate processes', () => {
  test('rpc: inventory serves calls and streams, and stops on SIGTERM', async () => {
    const child = start('examples/kinds/rpc', { INITIAL_STOCK: '3' })
    const address = (await child.waitFor(/inventory 1\.0\.0 is running: rpc on (\S+)/, 20_000))[1] as string
    const caller = createService({
      name: 'example-caller',
      registry: new MemoryRegistry(),
      logger: createLogger({ level: 'silent' }),
      handleSignals: false,
    })
    try {
      const reserve = (req: unknown) => caller.client.call('inventory', 'Inventory.Reserve', req, { address })
      assert.deepEqual(await reserve({ item: 'book', count: 2 }), { item: 'book', left: 1 })
      await assert.rejects(reserve({ item: 'book', count: 2 }), (e: MicroError) => {
        assert.equal(e.code, 409)
        assert.equal(e.detail, 'only 1 book left')
        return true
      })
      await assert.rejects(reserve({ item: 'lamp' }), (e: MicroError) => e.code === 400)
      const stream = caller.client.stream<{ item: string }, { item: string; left: number }>(
        'inventory',
        'Inventory.Stock',
        {
          address,
        },
      )
      await stream.sendAll([{ item: 'book' }, { item: 'pen' }])
      const stock: unknown[] = []
      for await (const m of stream) stock.push(m)
      assert.deepEqual(stock, [
        { item: 'book', left: 1 },
        { item: 'pen', left: 3 },
      ])
      assert.deepEqual(await caller.client.call('inventory', 'Health.Ready', {}, { address }), {
        status: 'ok',
        checks: {},
      })
    } finally {
      await caller.stop()
    }
    child.process.kill('SIGTERM')
    assert.equal(await child.exited, 0)
  })

  test('http: shop under /shop with CORS, a body limit, /health and /metrics', async () => {
    const child = start('examples/kinds/http', { SHOP_TITLE: 'Demo' })
    const base = (await child.waitFor(/shop 1\.0\.0 is running: http on (\S+)/, 20_000))[1] as string
    assert.match(base, /\/shop$/)
    const origin = base.replace(/\/shop$/, '')
    assert.deepEqual(await (await fetch(`${base}/`)).json(), { title: 'Demo', items: 0 })
    const created = await fetch(`${base}/items`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', origin: 'https://shop.example.com' },
      body: '{"name":"pen"}',
    })
    assert.equal(created.status, 201)
    assert.equal(created.headers.get('access-control-allow-origin'), 'https://shop.example.com')
    assert.deepEqual(await created.json(), { id: 1, name: 'pen' })
    const big = await fetch(`${base}/items`, { method: 'POST', body: 'x'.repeat(20_000) })
    assert.equal(big.status, 413)
    assert.equal((await fetch(`${origin}/health`)).status, 200)
    const metrics = await (await fetch(`${origin}/metrics`)).text()
    assert.match(metrics, /^shop_items_added_total 1$/m)
    assert.match(
      metrics,
      /micro_requests_total\{code="201",endpoint="POST \/shop\/items",kind="http",service="shop"\} 1/,
    )
    child.process.kill('SIGTERM')
    assert.equal(await child.exited, 0)
  })

  test('http: a missing required variable stops it before it starts', async () => {
    const { code, stderr } = await runNode([...RUN, 'examples/kinds/http'], ENV)
    assert.equal(code, 1)
    assert.match(
      stderr,
      /- env\.SHOP_TITLE: missing\. Fix: set SHOP_TITLE \(or SHOP__SHOP_TITLE for this service only\)/,
    )
  })

  test('worker: ticker ticks until SIGTERM, then stops cleanly', async () => {
    const child = start('examples/kinds/worker', { INTERVAL: '30ms' })
    await child.waitFor(/ticker 1\.0\.0 is running: worker/, 20_000)
    const ticks = await stderrLines(child, /"msg":"tick"/, 3)
    assert.match(ticks[0] as string, /"kind":"worker"/)
    child.process.kill('SIGTERM')
    assert.equal(await child.exited, 0)
    await stderrLines(child, /"msg":"ticker done"/, 1)
    await stderrLines(child, /"msg":"ticker stopped"/, 1)
  })

  test('script: report prints its lines and its result is the exit code', async () => {
    const ok = await runNode([...RUN, 'examples/kinds/script'], ENV)
    assert.equal(ok.code, 0, ok.stderr)
    assert.equal(ok.stdout, 'line 1\nline 2\nline 3\n')
    const three = await runNode([...RUN, 'examples/kinds/script'], {
      ...ENV,
      EXIT_CODE: '3',
      COUNT: '1',
      FORMAT: 'json',
    })
    assert.equal(three.code, 3)
    assert.equal(three.stdout, '{"line":1}\n')
    const bad = await runNode([...RUN, 'examples/kinds/script'], { ...ENV, FORMAT: 'xml' })
    assert.equal(bad.code, 1)
    assert.equal(bad.stdout, '')
    assert.match(
      bad.stderr,
      /- env\.FORMAT: "xml" is not one of the allowed values\. Fix: set FORMAT to one of text, json/,
    )
  })
})
