import assert from 'node:assert/strict'
import { test } from 'node:test'
import {
  iterate,
  nextEvent,
  node,
  type SuiteContext,
  serviceRecord,
  uniqueName,
  waitFor,
  withTimeout,
} from './conformance-kit.js'
import { ANY_NAMESPACE, type WatchEvent } from './registry.js'

/** Watch tests of the registry conformance suite. */
export function watchConformance({ withRegistry, settle, settleMs }: SuiteContext): void {
  const wait = 2000 + settleMs

  test('watch: create on register, update on change, delete on deregister', () =>
    withRegistry(async (registry, namespace) => {
      const watcher = registry.watch({ namespace })
      const events = iterate(watcher)
      const record = serviceRecord(uniqueName(), '1.0.0', [node('n1')])
      await registry.register(record, { namespace })
      const created = await nextEvent(events, wait)
      assert.equal(created.action, 'create')
      assert.equal(created.namespace, namespace)
      assert.deepEqual(created.service, record)

      // A plain renewal changes nothing, so the next event is the metadata change.
      await registry.register(record, { namespace })
      const changed = { ...record, metadata: { owner: 'someone else' } }
      await registry.register(changed, { namespace })
      const updated = await nextEvent(events, wait)
      assert.equal(updated.action, 'update')
      assert.deepEqual(updated.service.metadata, { owner: 'someone else' })
      assert.deepEqual(
        updated.service.nodes.map((n) => n.id),
        ['n1'],
      )

      await registry.deregister(changed, { namespace })
      const deleted = await nextEvent(events, wait)
      assert.equal(deleted.action, 'delete')
      assert.equal(deleted.service.name, record.name)
      assert.deepEqual(
        deleted.service.nodes.map((n) => n.id),
        ['n1'],
      )
      watcher.stop()
    }))

  test('watch: a node whose TTL runs out is deleted', () =>
    withRegistry(async (registry, namespace) => {
      const watcher = registry.watch({ namespace })
      const events = iterate(watcher)
      const record = serviceRecord(uniqueName(), '1.0.0', [node('short')])
      await registry.register(record, { namespace, ttl: 1500 })
      assert.equal((await nextEvent(events, wait)).action, 'create')
      const started = Date.now()
      const deleted = await nextEvent(events, 1500 + 2500 + settleMs)
      assert.equal(deleted.action, 'delete')
      assert.deepEqual(
        deleted.service.nodes.map((n) => n.id),
        ['short'],
      )
      assert.ok(Date.now() - started >= 1000, 'deleted before its TTL ran out')
      watcher.stop()
    }))

  test('watch: the service filter passes only that service', () =>
    withRegistry(async (registry, namespace) => {
      const wanted = serviceRecord(uniqueName('wanted'), '1.0.0', [node('w1')])
      const other = serviceRecord(uniqueName('other'), '1.0.0', [node('o1')])
      const watcher = registry.watch({ namespace, service: wanted.name })
      const events = iterate(watcher)
      await registry.register(other, { namespace })
      await registry.register(wanted, { namespace })
      await registry.deregister(other, { namespace })
      await registry.deregister(wanted, { namespace })
      const first = await nextEvent(events, wait)
      assert.equal(first.service.name, wanted.name)
      assert.equal(first.action, 'create')
      const second = await nextEvent(events, wait)
      assert.equal(second.service.name, wanted.name)
      assert.equal(second.action, 'delete')
      watcher.stop()
    }))

  test('watch: the namespace filter passes only that namespace; ANY_NAMESPACE sees all', () =>
    withRegistry(async (registry, namespace) => {
      const elsewhere = `${namespace}-other`
      const name = uniqueName()
      const watcher = registry.watch({ namespace })
      const events = iterate(watcher)
      const everything = registry.watch({ namespace: ANY_NAMESPACE })
      const all = iterate(everything)
      await registry.register(serviceRecord(name, '1.0.0', [node('there')]), { namespace: elsewhere })
      await registry.register(serviceRecord(name, '1.0.0', [node('here')]), { namespace })
      const first = await nextEvent(events, wait)
      assert.equal(first.namespace, namespace)
      assert.deepEqual(
        first.service.nodes.map((n) => n.id),
        ['here'],
      )
      // ANY_NAMESPACE may also see other users of a shared network; keep only ours.
      const seen: string[] = []
      while (seen.length < 2) {
        const event = await nextEvent(all, wait)
        if (event.service.name === name) seen.push(event.namespace)
      }
      assert.deepEqual(seen.sort(), [elsewhere, namespace].sort())
      watcher.stop()
      everything.stop()
    }))

  test('watch: stop() ends the iteration', () =>
    withRegistry(async (registry, namespace) => {
      const watcher = registry.watch({ namespace })
      const events = iterate(watcher)
      const pending = events.next()
      watcher.stop()
      assert.equal((await withTimeout(pending, 1000, 'stopped watch')).done, true)
      await registry.register(serviceRecord(uniqueName(), '1.0.0', [node('n1')]), { namespace })
      await settle()
      assert.equal((await withTimeout(events.next(), 1000, 'stopped watch')).done, true)
    }))

  test('watch: aborting the signal ends the iteration', () =>
    withRegistry(async (registry, namespace) => {
      const controller = new AbortController()
      const watcher = registry.watch({ namespace, signal: controller.signal })
      const seen: WatchEvent[] = []
      const loop = (async () => {
        for await (const event of watcher) seen.push(event)
      })()
      await registry.register(serviceRecord(uniqueName(), '1.0.0', [node('n1')]), { namespace })
      await waitFor(() => seen.length === 1, wait, 'the create event')
      controller.abort()
      await withTimeout(loop, 1000, 'aborted watch')
      await registry.register(serviceRecord(uniqueName(), '1.0.0', [node('n2')]), { namespace })
      await settle()
      assert.equal(seen.length, 1)

      const aborted = registry.watch({ namespace, signal: AbortSignal.abort() })
      assert.equal((await withTimeout(iterate(aborted).next(), 1000, 'pre-aborted watch')).done, true)
    }))
}
