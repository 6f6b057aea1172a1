// biome-ignore-all lint/suspicious/noTemplateCurlyInString: these strings test ${VAR} expansion
import assert from 'node:assert/strict'
import { getEventListeners } from 'node:events'
import { describe, test } from 'node:test'
import { loadConfig } from './config.js'
import { within } from './conformance.js'
import { envSource } from './env-source.js'
import { flagsSource } from './flags-source.js'
import { memorySource } from './memory-source.js'
import type { Source } from './source.js'
import type { Value } from './value.js'

const quiet = { trace() {}, debug() {}, info() {}, warn() {}, error() {}, child: () => quiet }

/** Iterate `watcher` in the background, collecting what it yields. */
function collect(watcher: AsyncIterable<Value>): { values: Value[]; done: Promise<void> } {
  const values: Value[] = []
  const done = (async () => {
    for await (const value of watcher) values.push(value)
  })()
  return { values, done }
}

/** Memory changes propagate synchronously; one macrotask lets the consumer run. */
const settle = () => new Promise((r) => setImmediate(r))

describe('loadConfig: merging', () => {
  test('later sources win; objects merge key by key; arrays are replaced, not concatenated', async () => {
    const config = await loadConfig({
      sources: [
        memorySource({ db: { url: 'file-url', pool: 5 }, hosts: ['a', 'b'], keep: true }),
        envSource({ prefix: 'SHOP', env: { SHOP_DB_URL: 'env-url' } }),
        memorySource({ hosts: ['c'] }),
        flagsSource(['--db-pool=9']),
      ],
      logger: quiet,
    })
    assert.deepEqual(config.all(), { db: { url: 'env-url', pool: '9' }, hosts: ['c'], keep: true })
    assert.equal(config.get('db.pool').int(1), 9)
    await config.close()
  })

  test('a later scalar replaces an object and a later object replaces a scalar', async () => {
    const config = await loadConfig({
      sources: [memorySource({ a: { b: 1 }, c: 'text' }), memorySource({ a: 'flat', c: { d: 2 } })],
    })
    assert.deepEqual(config.all(), { a: 'flat', c: { d: 2 } })
    await config.close()
  })

  test('${VAR} and ${VAR:-default} expand from the environment in every string, $${ escapes', async () => {
    const config = await loadConfig({
      sources: [
        memorySource({
          db: { url: 'postgres://${DB_HOST}:${DB_PORT:-5432}/shop' },
          list: ['${DB_HOST}', 'plain $HOME'],
          empty: '${EMPTY:-fallback}',
          unset: '[${NOPE}]',
          literal: '$${DB_HOST}',
        }),
      ],
      env: { DB_HOST: 'db.local', EMPTY: '' },
    })
    assert.deepEqual(config.all(), {
      db: { url: 'postgres://db.local:5432/shop' },
      list: ['db.local', 'plain $HOME'],
      empty: 'fallback',
      unset: '[]',
      literal: '${DB_HOST}',
    })
    await config.close()
  })

  test('the loaded tree is frozen: callers cannot change it', async () => {
    const config = await loadConfig({ sources: [memorySource({ a: { b: [1] } })] })
    const a = config.get('a').map<number[]>({})
    assert.throws(() => {
      ;(a as Record<string, unknown>).c = 1
    }, TypeError)
    assert.throws(() => (a.b as number[]).push(2), TypeError)
    await config.close()
  })

  test('a source that fails at load rejects loadConfig with its error', async () => {
    const broken: Source = {
      name: 'broken',
      read: async () => {
        throw new Error('cannot reach the config server')
      },
    }
    await assert.rejects(
      loadConfig({ sources: [memorySource({}), broken] }),
      /cannot reach the config server/,
    )
  })
})

describe('Config: get, set, delete', () => {
  test('set overrides every source until deleted; get sees it at once', async () => {
    const config = await loadConfig({ sources: [memorySource({ a: { b: 'source', c: 1 } })] })
    config.set('a.b', 'override')
    assert.equal(config.get('a.b').string(), 'override')
    assert.equal(config.get('a.c').int(), 1)
    assert.equal(config.delete('a.b'), true)
    assert.equal(config.get('a.b').string(), 'source')
    assert.equal(config.delete('a.b'), false)
    config.set('', { only: 'this' })
    assert.deepEqual(config.all(), { a: { b: 'source', c: 1 }, only: 'this' })
    assert.throws(() => config.set('', 'x'), TypeError)
    config.delete('')
    assert.deepEqual(config.all(), { a: { b: 'source', c: 1 } })
    await config.close()
  })

  test('null masks a value from an earlier source', async () => {
    const config = await loadConfig({ sources: [memorySource({ a: 'x' })] })
    config.set('a', null)
    assert.equal(config.get('a').exists, false)
    assert.equal(config.get('a').string('default'), 'default')
    await config.close()
  })

  test('exists, and getters on missing paths return their defaults or undefined', async () => {
    const config = await loadConfig({ sources: [memorySource({ a: { b: 0 } })] })
    assert.equal(config.get('a.b').exists, true)
    assert.equal(config.get('a.x').exists, false)
    assert.equal(config.get('a.b.c').exists, false)
    assert.equal(config.get('a.x').string(), undefined)
    assert.equal(config.get('a.x').number(7), 7)
    assert.equal(config.get('').map()?.a !== undefined, true)
    await config.close()
  })
})

describe('Config.watch', () => {
  test('yields the new value when the path changes, and nothing for other changes', async () => {
    const source = memorySource({ features: { checkout: false }, other: 1 })
    const config = await loadConfig({ sources: [source] })
    const seen = collect(config.watch('features.checkout'))
    source.set('other', 2)
    await settle()
    assert.equal(seen.values.length, 0)
    source.set('features.checkout', true)
    await settle()
    assert.equal(seen.values.length, 1)
    assert.equal(seen.values[0]?.bool(), true)
    assert.equal(seen.values[0]?.path, 'features.checkout')
    source.set('features', { checkout: true })
    await settle()
    assert.equal(seen.values.length, 1, 'same value, no event')
    await config.close()
    await within(seen.done, 1000, 'the watch to end on close')
  })

  test('config.set and delete fire watchers; a parent path sees child changes', async () => {
    const config = await loadConfig({ sources: [memorySource({ db: { url: 'a' } })] })
    const watcher = config.watch('db')
    config.set('db.url', 'b')
    assert.deepEqual((await watcher.next()).value?.raw, { url: 'b' })
    config.delete('db.url')
    assert.deepEqual((await watcher.next()).value?.raw, { url: 'a' })
    config.set('db', null)
    const gone = await watcher.next()
    assert.equal(gone.value?.exists, false)
    await config.close()
  })

  test('a slow consumer gets the latest value, not every intermediate one', async () => {
    const source = memorySource({ n: 0 })
    const config = await loadConfig({ sources: [source] })
    const watcher = config.watch('n')
    for (let i = 1; i <= 5; i++) source.set('n', i)
    assert.equal((await watcher.next()).value?.int(), 5)
    await config.close()
    assert.deepEqual(await watcher.next(), { value: undefined, done: true })
  })

  test('initial: true yields the current value first', async () => {
    const config = await loadConfig({ sources: [memorySource({ n: 1 })] })
    const watcher = config.watch('n', { initial: true })
    assert.equal((await watcher.next()).value?.int(), 1)
    config.set('n', 2)
    assert.equal((await watcher.next()).value?.int(), 2)
    await config.close()
  })

  test('an AbortSignal ends the iteration; break ends it too; both stop receiving', async () => {
    const source = memorySource({ n: 0 })
    const config = await loadConfig({ sources: [source] })
    const controller = new AbortController()
    const seen: number[] = []
    const loop = (async () => {
      for await (const v of config.watch('n', { signal: controller.signal })) seen.push(v.int(0))
    })()
    source.set('n', 1)
    await new Promise((r) => setImmediate(r))
    controller.abort()
    await within(loop, 1000, 'the loop to end')
    source.set('n', 2)
    assert.deepEqual(seen, [1])

    for await (const v of config.watch('n', { initial: true })) {
      if (v.int(0) === 3) break
      source.set('n', 3)
    }
    const aborted = config.watch('n', { signal: AbortSignal.abort() })
    assert.deepEqual(await aborted.next(), { value: undefined, done: true })
    await config.close()
  })

  test('watching after close ends at once; values stay readable', async () => {
    const config = await loadConfig({ sources: [memorySource({ n: 1 })] })
    await config.close()
    assert.deepEqual(await config.watch('n').next(), { value: undefined, done: true })
    assert.equal(config.get('n').int(), 1)
  })

  test('watch: false reads once and never re-reads', async () => {
    const source = memorySource({ n: 1 })
    const config = await loadConfig({ sources: [source], watch: false })
    source.set('n', 2)
    assert.equal(config.get('n').int(), 1)
    await config.reload()
    assert.equal(config.get('n').int(), 2)
    await config.close()
  })

  test('reload rejects with a failing source and keeps its previous values', async () => {
    let fail = false
    const source: Source = {
      name: 'flaky',
      read: async () => {
        if (fail) throw new Error('flaky source down')
        return { n: 1 }
      },
    }
    const config = await loadConfig({ sources: [source] })
    fail = true
    await assert.rejects(config.reload(), /flaky source down/)
    assert.equal(config.get('n').int(), 1)
    await config.close()
  })

  test('an AbortSignal shared by many watches does not collect listeners', async () => {
    const config = await loadConfig({ sources: [memorySource({ n: 1 })] })
    const controller = new AbortController()
    for (let i = 0; i < 5; i++) {
      for await (const _ of config.watch('n', { signal: controller.signal, initial: true })) break
    }
    assert.equal(getEventListeners(controller.signal, 'abort').length, 0)
    await config.close()
  })
})

describe('re-reading a changing source', () => {
  test('reads never overlap; changes during a read cause exactly one more read, newest wins', async () => {
    let reads = 0
    let active = 0
    let version = 1
    const gates: Array<() => void> = []
    let notify: () => void = () => {}
    const slow: Source = {
      name: 'slow',
      read: async () => {
        reads++
        active++
        assert.equal(active, 1, 'reads overlap')
        const seen = version
        await new Promise<void>((resolve) => gates.push(resolve))
        active--
        return { v: seen }
      },
      watch(onChange) {
        notify = onChange
        return () => {}
      },
    }
    const loading = loadConfig({ sources: [slow] })
    gates.shift()?.()
    const config = await loading
    const watcher = config.watch('v')
    version = 2
    notify()
    await settle()
    version = 3
    notify()
    notify()
    gates.shift()?.() // the read that saw version 2
    assert.equal((await watcher.next()).value?.int(), 2)
    await settle()
    gates.shift()?.() // one queued read for both later changes
    assert.equal((await watcher.next()).value?.int(), 3)
    assert.equal(reads, 3)
    assert.equal(gates.length, 0)
    await config.close()
  })

  test('a source that reads something other than an object is refused', async () => {
    const odd: Source = { name: 'odd', read: () => ['a'] as unknown as Record<string, unknown> }
    await assert.rejects(loadConfig({ sources: [odd] }), /read something other than an object/)
  })
})
