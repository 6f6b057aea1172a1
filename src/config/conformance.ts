import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import { loadConfig } from './config.js'
import type { Source } from './source.js'
import type { ConfigObject } from './tree.js'

export { configKVConformance } from './conformance-kv.js'

/** What each conformance test gets from the implementation's factory. */
export interface SourceHarness {
  source: Source
  /** What the first `read()` must return. */
  expected: ConfigObject
  /** Change the source's data to `changed` (watchable sources only). */
  change?: () => Promise<void> | void
  /** What `read()` returns after `change()`. */
  changed?: ConfigObject
  cleanup?: () => Promise<void> | void
}

/** Options of {@link sourceConformance}. */
export interface SourceConformanceOptions {
  /** How long a change may take to be noticed, in ms (polling sources: more than the interval). Default 5000. */
  changeTimeout?: number
  /** How long to wait when asserting that nothing is reported, in ms. Default 300. */
  quietMs?: number
}

/**
 * The behaviour every config Source must show, as node:test tests. Each test gets a fresh
 * harness from `create` and cleans it up. Sources with a `watch` are tested for it when the
 * harness can `change` them.
 */
export function sourceConformance(
  name: string,
  create: () => Promise<SourceHarness> | SourceHarness,
  options: SourceConformanceOptions = {},
): void {
  const changeTimeout = options.changeTimeout ?? 5000
  const quietMs = options.quietMs ?? 300
  const withHarness = async (fn: (h: SourceHarness) => Promise<void>) => {
    const harness = await create()
    try {
      await fn(harness)
    } finally {
      await harness.cleanup?.()
    }
  }

  describe(`config source conformance: ${name}`, () => {
    test('has a name and reads its config as a plain tree', () =>
      withHarness(async ({ source, expected }) => {
        assert.ok(source.name.length > 0)
        assert.deepEqual(await source.read(), expected)
      }))

    test('every read is a fresh copy the caller may change', () =>
      withHarness(async ({ source, expected }) => {
        const first = await source.read()
        first.injected = 'by the caller'
        for (const key of Object.keys(expected)) delete first[key]
        assert.deepEqual(await source.read(), expected)
      }))

    test('loads into a config', () =>
      withHarness(async ({ source, expected }) => {
        const config = await loadConfig({ sources: [source], watch: false })
        assert.deepEqual(JSON.parse(JSON.stringify(config.all())), expected)
        await config.close()
      }))

    test('watch reports a change, after which read returns the new config', (t) =>
      withHarness(async ({ source, change, changed }) => {
        if (!source.watch || !change || !changed) return t.skip('not watchable')
        let resolve = () => {}
        const promise = new Promise<void>((r) => {
          resolve = r
        })
        const unwatch = source.watch(
          () => resolve(),
          (error) => assert.fail(String(error)),
        )
        try {
          await change()
          await within(promise, changeTimeout, 'no change reported')
          assert.deepEqual(await source.read(), changed)
        } finally {
          unwatch()
        }
      }))

    test('a change reaches config.watch through loadConfig', (t) =>
      withHarness(async ({ source, change, changed }) => {
        if (!source.watch || !change || !changed) return t.skip('not watchable')
        const config = await loadConfig({ sources: [source] })
        try {
          const watcher = config.watch()
          await change()
          const next = await within(watcher.next(), changeTimeout, 'config.watch saw no change')
          assert.equal(next.done, false)
          assert.deepEqual(JSON.parse(JSON.stringify(next.value?.raw)), changed)
        } finally {
          await config.close()
        }
      }))

    test('after unwatch nothing more is reported', (t) =>
      withHarness(async ({ source, change, changed }) => {
        if (!source.watch || !change || !changed) return t.skip('not watchable')
        let calls = 0
        const unwatch = source.watch(
          () => calls++,
          () => undefined,
        )
        unwatch()
        await change()
        await sleep(quietMs)
        assert.equal(calls, 0)
      }))
  })
}

/** `promise`, or a failure naming `what` after `ms`. */
export async function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} within ${ms} ms`)), ms)
  })
  try {
    return await Promise.race([promise, timeout])
  } finally {
    clearTimeout(timer)
  }
}
