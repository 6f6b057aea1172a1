import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { MicroError } from '../errors/errors.js'
import { createLogger } from '../logger/logger.js'
import { MemoryRegistry } from '../registry/memory.js'
import { uuid } from '../util/ids.js'
import { defineService, type ServiceDefinition } from './define.js'
import { registerFeature, registerKind } from './plugins.js'
import { prepare } from './prepare.js'
import { ServiceRuntime } from './runtime.js'
import { parseToml } from './toml.js'

const events: string[] = []

registerKind({
  name: 'probe',
  configure: (reader) => ({
    label: reader.string('label') ?? 'probe',
    fail: reader.boolean('fail') ?? false,
  }),
  async start(ctx) {
    const { label, fail } = ctx.settings
    if (fail) throw new Error(`${label} cannot start`)
    await ctx.factory(ctx.deps)
    events.push(`${label} start`)
    return {
      info: () => ({ label }),
      async stop() {
        events.push(`${label} stop`)
      },
    }
  },
})

registerFeature({
  name: 'recorder',
  configure: (reader) => ({ fail: reader.string('fail') }),
  init(ctx) {
    events.push('recorder init')
    if (ctx.config.fail === 'init') throw new Error('boom in init')
    return {
      api: { greeting: () => `hello from ${ctx.service.name}` },
      start() {
        events.push('recorder start')
        if (ctx.config.fail === 'start') throw new Error('boom in start')
      },
      stop() {
        events.push('recorder stop')
      },
    }
  },
})

declare module './deps.js' {
  interface FeatureApis {
    recorder: { greeting(): string }
  }
}

class Greeter {
  async Hello() {
    return 'hi'
  }
}

async function runtimeOf(toml: string, definition: ServiceDefinition, lifecycle = true) {
  const prepared = await prepare({ raw: parseToml(toml), source: 'service.toml', definition, envSource: {} })
  const registry = new MemoryRegistry()
  const runtime = new ServiceRuntime({
    prepared,
    registry,
    ownsRegistry: true,
    namespace: `rt-${uuid().slice(0, 8)}`,
    logger: createLogger({ level: 'silent' }),
    portOverride: 0,
    lifecycle,
  })
  return { runtime, registry }
}

const recorded = defineService({
  rpc: () => {
    events.push('rpc factory')
    return new Greeter()
  },
  kinds: { probe: ({ features }) => events.push(`probe factory sees ${features.recorder?.greeting()}`) },
  onStart: () => void events.push('onStart'),
  onStop: () => void events.push('onStop'),
})

describe('service runtime', () => {
  test('start: features init, onStart, kinds in types order, features start; stop in reverse', async () => {
    events.length = 0
    const { runtime } = await runtimeOf(
      `name = "svc"\nversion = "1.0.0"\ntypes = ["probe", "rpc"]\n[features.recorder]\n[runtime.probe]\nlabel = "first"`,
      recorded,
    )
    await runtime.start()
    assert.deepEqual(events, [
      'recorder init',
      'onStart',
      'probe factory sees hello from svc',
      'first start',
      'rpc factory',
      'recorder start',
    ])
    assert.equal(runtime.extensions.health.ready, true)
    events.length = 0
    await runtime.stop()
    assert.deepEqual(events, ['recorder stop', 'first stop', 'onStop'])
    assert.equal(runtime.extensions.health.ready, false)
    await runtime.stop() // idempotent
    assert.deepEqual(events, ['recorder stop', 'first stop', 'onStop'])
  })

  test('lifecycle hooks are skipped when not asked for', async () => {
    events.length = 0
    const { runtime } = await runtimeOf(`name = "svc"\nversion = "1.0.0"\ntypes = ["rpc"]`, recorded, false)
    await runtime.start()
    await runtime.stop()
    assert.deepEqual(events, ['rpc factory'])
  })

  test('a feature that throws in start stops the service cleanly, with the reason; started kinds are stopped', async () => {
    events.length = 0
    const { runtime, registry } = await runtimeOf(
      `name = "svc"\nversion = "1.0.0"\ntypes = ["rpc", "probe"]\n[features.recorder]\nfail = "start"`,
      recorded,
    )
    const namespace = runtime.info.namespace
    await assert.rejects(runtime.start(), (e: MicroError) => {
      assert.ok(e instanceof MicroError)
      assert.equal(e.detail, 'feature recorder failed to start: boom in start')
      return true
    })
    assert.deepEqual(events, [
      'recorder init',
      'onStart',
      'rpc factory',
      'probe factory sees hello from svc',
      'probe start',
      'recorder start',
      'recorder stop',
      'probe stop',
      'onStop',
    ])
    // The rpc kind was stopped too: deregistered, and its in-process server gone.
    await assert.rejects(registry.getService('svc', { namespace }), (e: MicroError) => e.code === 404)
    await runtime.stop()
  })

  test('a feature that throws in init stops the features already initialised; no kind starts', async () => {
    events.length = 0
    const { runtime } = await runtimeOf(
      `name = "svc"\nversion = "1.0.0"\ntypes = ["probe"]\n[features.recorder]\nfail = "init"`,
      recorded,
    )
    await assert.rejects(runtime.start(), /feature recorder failed to initialise: boom in init/)
    assert.deepEqual(events, ['recorder init'])
  })

  test('a kind that fails to start stops the kinds before it', async () => {
    events.length = 0
    const { runtime, registry } = await runtimeOf(
      `name = "svc"\nversion = "1.0.0"\ntypes = ["rpc", "probe"]\n[runtime.probe]\nfail = true`,
      recorded,
      false,
    )
    const namespace = runtime.info.namespace
    await assert.rejects(runtime.start(), /kind probe failed to start: probe cannot start/)
    assert.deepEqual(events, ['rpc factory'])
    await assert.rejects(registry.getService('svc', { namespace }), (e: MicroError) => e.code === 404)
  })

  test("a script's result is the exit code, and the service stops after it", async () => {
    const { runtime } = await runtimeOf(
      `name = "job"\nversion = "1.0.0"\ntypes = ["script"]`,
      defineService({ script: async () => 7 }),
    )
    await runtime.start()
    assert.deepEqual(await runtime.exited, { code: 7 })
  })

  test('a script that throws exits 1 with the reason; one that returns nothing exits 0', async () => {
    const failing = await runtimeOf(
      `name = "job"\nversion = "1.0.0"\ntypes = ["script"]`,
      defineService({
        script: () => {
          throw new Error('no data')
        },
      }),
    )
    await failing.runtime.start()
    const exit = await failing.runtime.exited
    assert.equal(exit.code, 1)
    assert.match(String(exit.reason), /no data/)
    const quiet = await runtimeOf(
      `name = "job"\nversion = "1.0.0"\ntypes = ["script"]`,
      defineService({ script: () => {} }),
    )
    await quiet.runtime.start()
    assert.deepEqual(await quiet.runtime.exited, { code: 0 })
  })

  test('a worker that fails ends the service with exit code 1; stop aborts a running one', async () => {
    let release!: () => void
    const failing = await runtimeOf(
      `name = "w"\nversion = "1.0.0"\ntypes = ["worker", "rpc"]`,
      defineService({
        rpc: () => new Greeter(),
        worker: () => async () => {
          await new Promise<void>((r) => {
            release = r
          })
          throw new Error('lost the queue')
        },
      }),
    )
    await failing.runtime.start()
    release()
    const exit = await failing.runtime.exited
    assert.equal(exit.code, 1)
    assert.match(String(exit.reason), /lost the queue/)

    let aborted = false
    const running = await runtimeOf(
      `name = "w"\nversion = "1.0.0"\ntypes = ["worker"]`,
      defineService({
        worker: () => ({
          start: (signal: AbortSignal) =>
            new Promise<void>((r) =>
              signal.addEventListener('abort', () => {
                aborted = true
                r()
              }),
            ),
        }),
      }),
    )
    await running.runtime.start()
    await running.runtime.stop()
    assert.equal(aborted, true)
  })

  test('registerKind and registerFeature refuse duplicates and malformed plugins', () => {
    assert.throws(
      () => registerKind({ name: 'rpc', configure: () => ({}), start: async () => ({}) as never }),
      /already registered/,
    )
    assert.throws(() => registerKind({ name: 'x' } as never), /registerKind needs a kind/)
    assert.throws(
      () => registerFeature({ name: 'tracing', configure: () => ({}), init: () => ({}) }),
      /already registered/,
    )
  })
})
