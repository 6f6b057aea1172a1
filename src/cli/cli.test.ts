import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { BROKER_NAMES, createBroker } from '../broker/from-env.js'
import { MemoryConfigKV } from '../config/memory-kv.js'
import { createEvents, EVENTS_NAMES } from '../events/from-env.js'
import { createRegistry, REGISTRY_NAMES } from '../registry/from-env.js'
import { createStore, STORE_NAMES } from '../store/from-env.js'
import { UsageError } from './args.js'
import { main } from './cli.js'
import { configCommand } from './commands/config.js'

/** The output of `micro <argv>`, which must exit 0. */
async function help(...argv: string[]): Promise<string> {
  const out: string[] = []
  assert.equal(await main(argv, (t) => out.push(t), assert.fail), 0)
  return out.join('\n')
}

/** The engine names an option's help line lists, e.g. `--broker <name>  a, b, c (MICRO_BROKER ...)`. */
function listed(text: string, option: string): string[] {
  const line = text.split('\n').find((l) => l.trimStart().startsWith(`${option} <name>`))
  assert.ok(line, `${option} in\n${text}`)
  const names = line.replace(/^\s*\S+ <name>\s+/, '').split(' (')[0] as string
  return names.split(', ')
}

describe('micro help', () => {
  test('each engine option lists every engine its factory knows', async () => {
    const engines: [string, string, readonly string[], (name: string) => unknown][] = [
      ['call', '--registry', REGISTRY_NAMES, (n) => createRegistry(n)],
      ['publish', '--broker', BROKER_NAMES, (n) => createBroker(n)],
      ['subscribe', '--broker', BROKER_NAMES, (n) => createBroker(n)],
      ['store', '--store', STORE_NAMES, (n) => createStore(n)],
      ['stream', '--events', EVENTS_NAMES, (n) => createEvents(n)],
    ]
    for (const [command, option, names, create] of engines) {
      assert.deepEqual(
        listed(await help(command, '--help'), option),
        [...names],
        `micro ${command} ${option}`,
      )
      // The list is the factory's own: any other name is refused with the same list.
      assert.throws(() => create('no-such-engine'), new RegExp(`known: ${names.join(', ')}$`))
    }
    assert.deepEqual(REGISTRY_NAMES, ['mdns', 'memory', 'nats', 'service'])
  })
})

describe('micro config get', () => {
  function run(kv: MemoryConfigKV, ...argv: string[]) {
    const out: string[] = []
    return configCommand(argv, (t) => out.push(t), { openKV: () => kv, env: {} }).then((code) => ({
      code,
      out: out.join('\n'),
    }))
  }

  test('without a path prints the whole document', async () => {
    const kv = new MemoryConfigKV()
    assert.deepEqual(JSON.parse((await run(kv, 'get')).out), {}, 'an empty document is {}')
    await run(kv, 'set', 'db.url', 'postgres://db/shop')
    await run(kv, 'set', 'features', '{"checkout":true}')
    const whole = await run(kv, 'get')
    assert.equal(whole.code, 0)
    assert.deepEqual(JSON.parse(whole.out), {
      db: { url: 'postgres://db/shop' },
      features: { checkout: true },
    })
  })

  test('set and del still need a path: an empty one is refused, the document untouched', async () => {
    const kv = new MemoryConfigKV()
    await run(kv, 'set', 'a', '1')
    await assert.rejects(
      run(kv, 'set', '', '{"b":2}'),
      (e: unknown) => e instanceof UsageError && /needs a path/.test(e.message),
    )
    await assert.rejects(
      run(kv, 'del'),
      (e: unknown) => e instanceof UsageError && /needs a path/.test(e.message),
    )
    await assert.rejects(run(kv, 'del', ''), (e: unknown) => e instanceof UsageError)
    assert.deepEqual(JSON.parse((await run(kv, 'get')).out), { a: 1 })
  })
})
