import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { UsageError } from '../cli/args.js'
import { configCommand } from '../cli/commands/config.js'
import { MicroError } from '../errors/errors.js'
import { generateSecretKey } from './cipher.js'
import { loadConfig } from './config.js'
import { MemoryConfigKV } from './memory-kv.js'
import { storeSource } from './store-source.js'

// `micro config` against the in-memory KV, read back through the storeSource() source as a
// service would see it.

function cli(env: NodeJS.ProcessEnv = {}) {
  const kv = new MemoryConfigKV()
  let closed = 0
  const opened = Object.assign(kv, { close: async () => void closed++ })
  const run = async (...argv: string[]) => {
    const out: string[] = []
    const code = await configCommand(argv, (t) => out.push(t), { openKV: () => opened, env })
    return { code, out: out.join('\n') }
  }
  return { kv, run, closed: () => closed }
}

describe('micro config', () => {
  test('set stores JSON values or strings at dotted paths; get prints them', async () => {
    const { kv, run, closed } = cli()
    assert.equal((await run('set', 'db.url', 'postgres://db/shop')).code, 0)
    await run('set', 'db.pool', '10')
    await run('set', 'features', '{"checkout":true}')
    assert.equal((await run('get', 'db.url')).out, 'postgres://db/shop')
    assert.equal((await run('get', 'db.url', '--json')).out, '"postgres://db/shop"')
    assert.deepEqual(JSON.parse((await run('get', 'db')).out), { url: 'postgres://db/shop', pool: 10 })
    const config = await loadConfig({ sources: [storeSource(kv)], watch: false })
    assert.equal(config.get('features.checkout').bool(), true)
    assert.equal(config.get('db.pool').int(), 10)
    assert.equal(closed(), 6, 'the store is closed after every command')
  })

  test('namespaces and documents are separate', async () => {
    const { run } = cli()
    await run('set', 'a', '1', '--namespace', 'tenant-a')
    await run('set', 'a', '2', '--namespace', 'tenant-b')
    await run('set', 'a', '3', '--key', 'other', '--namespace', 'tenant-a')
    assert.equal((await run('get', 'a', '--namespace', 'tenant-a')).out, '1')
    assert.equal((await run('get', 'a', '--namespace', 'tenant-b')).out, '2')
    assert.equal((await run('get', 'a', '--namespace', 'tenant-a', '--key', 'other')).out, '3')
    await assert.rejects(run('get', 'a'), (e: unknown) => e instanceof MicroError && e.code === 404)
  })

  test('del removes a path; a missing path is a 404 naming it and the namespace', async () => {
    const { run } = cli()
    await run('set', 'a.b', 'x')
    assert.equal((await run('del', 'a.b')).code, 0)
    await assert.rejects(
      run('get', 'a.b'),
      (e: unknown) =>
        e instanceof MicroError &&
        e.code === 404 &&
        /config a\.b is not set in namespace micro/.test(e.detail),
    )
    await assert.rejects(run('delete', 'a.b'), (e: unknown) => e instanceof MicroError && e.code === 404)
  })

  test('--secret stores the value encrypted; get masks it unless asked with --secret', async () => {
    const env = { MICRO_CONFIG_SECRET_KEY: generateSecretKey() }
    const { kv, run } = cli(env)
    await run('set', 'db.password', '{"looks":"like json"}', '--secret')
    await run('set', 'db.user', 'app')
    const raw = (await kv.read('config', { namespace: 'micro' })) as string
    assert.ok(!raw.includes('looks'), raw)
    assert.deepEqual(JSON.parse((await run('get', 'db')).out), { password: '[secret]', user: 'app' })
    assert.equal((await run('get', 'db.password')).out, '[secret]')
    assert.equal((await run('get', 'db.password', '--secret')).out, '{"looks":"like json"}')
    assert.deepEqual(JSON.parse((await run('get', 'db', '--secret')).out), {
      password: '{"looks":"like json"}',
      user: 'app',
    })
    const config = await loadConfig({ sources: [storeSource(kv)], env, watch: false })
    assert.equal(config.get('db.password').string(), '{"looks":"like json"}')
    assert.equal(String(config.get('db.password').raw), '[secret]')
  })

  test('--secret without a key fails before anything is written, without echoing the value', async () => {
    const { kv, run } = cli({})
    await assert.rejects(
      run('set', 'db.password', 'hunter2', '--secret'),
      (e: unknown) =>
        e instanceof MicroError &&
        /MICRO_CONFIG_SECRET_KEY is not set/.test(e.detail) &&
        !e.detail.includes('hunter2'),
    )
    assert.equal(await kv.read('config', { namespace: 'micro' }), undefined)
    await assert.rejects(run('get', 'x', '--secret'), /MICRO_CONFIG_SECRET_KEY/)
  })

  test('usage mistakes are UsageErrors', async () => {
    const { run } = cli()
    for (const argv of [
      [],
      ['list'],
      ['del'],
      ['set', 'a'],
      ['get', 'a', 'b'],
      ['set', 'a', 'b', 'c'],
      ['get', 'a', '--bogus'],
    ])
      await assert.rejects(run(...argv), UsageError, argv.join(' '))
    await assert.rejects(
      run('get', 'a..b'),
      (e: unknown) => e instanceof UsageError && /empty segment/.test(e.message),
    )
  })

  test('--help prints usage; without a store factory the command says so', async () => {
    const { run } = cli()
    assert.match((await run('--help')).out, /Usage: micro config get \[path\]/)
    await assert.rejects(
      configCommand(['get', 'a'], () => undefined),
      (e: unknown) => e instanceof MicroError && e.code === 503,
    )
  })
})
