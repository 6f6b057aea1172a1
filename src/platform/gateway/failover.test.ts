import assert from 'node:assert/strict'
import { test } from 'node:test'
import { spawnNode } from '../../../test/support/process.js'
import { createLogger } from '../../logger/logger.js'
import { MdnsRegistry } from '../../registry/mdns.js'
import { serveGateway } from './serve.js'

test('an instance killed under load: no 5xx once the registry has dropped it', async () => {
  const namespace = `gw-failover-${process.pid}-${Date.now().toString(36)}`
  const env = {
    MICRO_NAMESPACE: namespace,
    MICRO_REGISTER_TTL: '2s',
    MICRO_REGISTER_INTERVAL: '500ms',
    MICRO_LOG_LEVEL: 'silent',
  }
  const children = [0, 1].map(() => spawnNode(['--import', 'tsx', 'test/fixtures/gateway-greeter.ts'], env))
  const registry = new MdnsRegistry()
  const gw = await serveGateway({
    address: '127.0.0.1:0',
    registry,
    namespace,
    rateLimit: false,
    logger: createLogger({ level: 'silent' }),
  })
  const base = `http://${gw.address}/api/greeter/hello`
  let stop = false
  let afterDrop = false
  const results = {
    before: new Map<number, number>(),
    after: new Map<number, number>(),
    pids: new Set<number>(),
  }
  const count = (map: Map<number, number>, status: number) => map.set(status, (map.get(status) ?? 0) + 1)
  try {
    const addresses = await Promise.all(
      children.map(async (c) => (await c.waitFor(/serving on (\S+)/, 30_000))[1]),
    )
    // Wait until the gateway sees both instances (each answers with its pid).
    const pids = new Set(children.map((c) => c.process.pid))
    while (results.pids.size < 2) {
      const r = await fetch(base, { method: 'POST', body: '{}' })
      if (r.status === 200) results.pids.add(((await r.json()) as { pid: number }).pid)
      else await r.text()
    }
    assert.deepEqual([...results.pids].sort(), [...pids].sort())

    const worker = async () => {
      while (!stop) {
        const started = afterDrop
        const r = await fetch(base, { method: 'POST', body: '{"name":"load"}' })
        await r.arrayBuffer()
        count(started ? results.after : results.before, r.status)
      }
    }
    const load = Promise.all(Array.from({ length: 8 }, worker))
    const victim = children[0]!
    // Deregistration as the gateway's cache learns it: the watch's delete event for the node.
    const watcher = registry.watch({ namespace, service: 'greeter' })
    const dropped = (async () => {
      for await (const event of watcher) {
        if (event.action === 'delete' && event.service.nodes.some((n) => n.address === addresses[0])) return
      }
    })()
    // Let the load run on both for a moment, measured in requests, not time.
    while ((results.before.get(200) ?? 0) < 200) await new Promise((r) => setTimeout(r, 10))
    victim.process.kill('SIGKILL')
    await victim.exited
    // The registry drops the node once its TTL runs out without renewal.
    await dropped
    watcher.stop()
    afterDrop = true
    while ((results.after.get(200) ?? 0) < 300) await new Promise((r) => setTimeout(r, 10))
    stop = true
    await load
    const fiveXx = [...results.after].filter(([status]) => status >= 500)
    assert.deepEqual(fiveXx, [], `after the drop: ${JSON.stringify([...results.after])}`)
    const other = [...results.after].filter(([status]) => status !== 200)
    assert.deepEqual(other, [], 'every request after the drop succeeded')
  } finally {
    stop = true
    for (const c of children) c.process.kill('SIGKILL')
    await gw.close()
    await registry.close()
  }
})
