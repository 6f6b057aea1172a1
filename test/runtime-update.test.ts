import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import { Client } from '../src/client/client.js'
import { RegistryCache } from '../src/registry/cache.js'
import { createRegistry } from '../src/registry/from-env.js'
import type { Registry } from '../src/registry/registry.js'
import { createSelector } from '../src/selector/from-name.js'
import { MicroTransport } from '../src/transport/micro-transport.js'
import { uuid } from '../src/util/ids.js'
import { startPlatform, type TestPlatform, waitUntil, writeVersionedService } from './support/runtime.js'

// `micro update` under load: a client calls an idempotent endpoint of a two-instance
// service in a loop while the runtime rolls it onto a new version. The services and this
// test discover each other over mDNS on loopback, on a multicast port of this test's own.

const REGISTRY_ADDRESS = `224.0.0.251:${20_000 + Math.floor(Math.random() * 30_000)}`
const NAMESPACE = `upd${uuid().slice(0, 8)}`

let platform: TestPlatform
let registry: Registry
let client: Client
const work = mkdtempSync(join(tmpdir(), 'micro-update-'))

before(async () => {
  platform = await startPlatform({
    env: { ...process.env, MICRO_REGISTRY: 'mdns', MICRO_REGISTRY_ADDRESS: REGISTRY_ADDRESS },
    readyTimeout: 120_000,
  })
  registry = createRegistry('mdns', REGISTRY_ADDRESS)
  client = new Client({
    lookup: new RegistryCache(registry),
    transport: new MicroTransport(),
    selector: createSelector(),
    namespace: NAMESPACE,
    local: false,
    requestTimeout: 10_000,
  })
})
after(async () => {
  await client.close()
  await registry.close()
  await platform.close()
  rmSync(work, { recursive: true, force: true })
})

describe('micro update', () => {
  test('rolls two instances onto a new version with no failed call to an idempotent endpoint', async () => {
    const dir = join(work, 'roller')
    writeVersionedService(dir, 'roller', '1.0.0')
    const created = await platform.cli(['run', '-d', dir, '--instances', '2', '--namespace', NAMESPACE])
    assert.equal(created.code, 0, created.stderr)
    await waitUntil(async () => {
      const [s] = await platform.runtime.read({ namespace: NAMESPACE, name: 'roller' })
      return s?.status === 'running'
    }, 'roller running')
    const before = (await platform.runtime.read({ namespace: NAMESPACE, name: 'roller' }))[0]
    assert.equal(before?.version, '1.0.0')
    await waitUntil(async () => {
      const nodes = (await registry.getService('roller', { namespace: NAMESPACE })).flatMap((r) => r.nodes)
      return nodes.length === 2
    }, 'both instances registered')

    const seen = new Map<string, number>()
    const failures: string[] = []
    let calls = 0
    let stop = false
    const loop = async () => {
      while (!stop) {
        try {
          const reply = await client.call<{ version: string }>('roller', 'Roller.Version', {})
          seen.set(reply.version, (seen.get(reply.version) ?? 0) + 1)
        } catch (error) {
          failures.push((error as Error).message)
        }
        calls++
      }
    }
    const loops = Array.from({ length: 4 }, loop)
    await waitUntil(() => (seen.get('1.0.0') ?? 0) > 10, 'calls to 1.0.0')

    writeVersionedService(dir, 'roller', '2.0.0')
    const callsBefore = calls
    const updated = await platform.cli(['update', dir, '--namespace', NAMESPACE])
    assert.equal(updated.code, 0, updated.stderr)
    assert.match(updated.stdout, /roller updated to 2\.0\.0: 2 instance/)
    const duringUpdate = calls - callsBefore
    const newOnes = seen.get('2.0.0') ?? 0
    await waitUntil(() => (seen.get('2.0.0') ?? 0) > newOnes + 10, 'calls served by 2.0.0')
    stop = true
    await Promise.all(loops)

    assert.deepEqual(failures, [], 'no call failed')
    assert.ok(duringUpdate > 0, 'calls were made during the update')
    const [after] = await platform.runtime.read({ namespace: NAMESPACE, name: 'roller' })
    assert.equal(after?.version, '2.0.0')
    assert.equal(after?.status, 'running')
    assert.deepEqual(
      after?.processes.map((p) => p.version),
      ['2.0.0', '2.0.0'],
    )
    const oldPids = before?.processes.map((p) => p.pid)
    for (const p of after?.processes ?? []) assert.ok(!oldPids?.includes(p.pid))

    // A version that cannot start is rolled back: the service keeps serving 2.0.0.
    writeVersionedService(dir, 'roller', '3.0.0')
    const { writeFileSync } = await import('node:fs')
    writeFileSync(join(dir, 'service.js'), 'throw new Error("3.0.0 is broken")\n')
    const broken = await platform.cli(['update', 'roller', '--namespace', NAMESPACE])
    assert.equal(broken.code, 1)
    assert.match(
      broken.stderr,
      /update of roller failed: instance 1 \(3\.0\.0\) exited \(code 1\) before it was ready/,
    )
    const [kept] = await platform.runtime.read({ namespace: NAMESPACE, name: 'roller' })
    assert.deepEqual(
      kept?.processes.map((p) => p.pid),
      after?.processes.map((p) => p.pid),
    )
    assert.equal(kept?.version, '2.0.0')
    assert.match(kept?.error ?? '', /update failed/)
    const reply = await client.call<{ version: string }>('roller', 'Roller.Version', {})
    assert.equal(reply.version, '2.0.0')
    assert.equal((await platform.cli(['kill', 'roller', '--namespace', NAMESPACE])).code, 0)
  })
})
