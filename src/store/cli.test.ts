import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, test } from 'node:test'
import { UsageError } from '../cli/args.js'
import { storeCommand } from '../cli/commands/store.js'
import { MicroError } from '../errors/errors.js'
import { FileStore } from './file.js'

const directory = mkdtempSync(join(tmpdir(), 'micro-store-cli-'))
after(() => rmSync(directory, { recursive: true, force: true }))
const namespace = 'cli-test'

/** Runs `micro store ...` against the temporary file store; resolves with code and output. */
async function run(...argv: string[]): Promise<{ code: number; out: string }> {
  const lines: string[] = []
  const code = await storeCommand(
    [...argv, '--store', 'file', '--store_address', directory, '--namespace', namespace],
    (t) => lines.push(t),
  )
  return { code, out: lines.join('\n') }
}

test('write, read, list, delete through the command', async () => {
  assert.equal((await run('write', 'user:1', '{"name":"Alice"}', '--metadata', 'by=cli')).code, 0)
  await run('write', 'user:2', 'plain text')
  await run('write', 'user:3', '42', '--database', 'other', '--table', 'people')
  assert.deepEqual(JSON.parse((await run('read', 'user:1')).out), { name: 'Alice' })
  assert.equal((await run('read', 'user:2')).out, '"plain text"')
  const record = JSON.parse((await run('read', 'user:1', '--json')).out)
  assert.deepEqual(record, { key: 'user:1', value: { name: 'Alice' }, metadata: { by: 'cli' } })
  assert.equal((await run('list')).out, 'user:1\nuser:2')
  assert.equal((await run('list', '--order', 'desc', '--limit', '1')).out, 'user:2')
  assert.equal((await run('list', '--prefix', 'user:', '--offset', '1', '--json')).out, '["user:2"]')
  assert.equal((await run('read', '--prefix', 'user:')).out, 'user:1\t{"name":"Alice"}\nuser:2\t"plain text"')
  assert.equal((await run('databases')).out, 'micro\nother')
  assert.equal((await run('tables', '--database', 'other')).out, 'people')
  assert.equal((await run('delete', 'user:2')).code, 0)
  assert.equal((await run('list')).out, 'user:1')
})

test('--ttl expires the record; a missing key is a 404', async () => {
  // Read back with time to spare: a loaded machine may take longer than a short TTL between two commands.
  await run('write', 'brief', '1', '--ttl', '1m')
  const record = JSON.parse((await run('read', 'brief', '--json')).out)
  assert.ok(record.expiry > 30_000 && record.expiry <= 60_000, `expiry ${record.expiry}`)
  await run('write', 'briefer', '1', '--ttl', '200ms')
  // Gone once its 200 ms have passed: poll (bounded), since how soon the read runs is not ours to say.
  const deadline = Date.now() + 10_000
  for (;;) {
    const gone = await run('read', 'briefer').then(
      () => false,
      (e: unknown) => {
        assert.ok(e instanceof MicroError && e.code === 404, `got ${e}`)
        return true
      },
    )
    if (gone) break
    assert.ok(Date.now() < deadline, 'a 200 ms record still there after 10 s')
    await new Promise((r) => setTimeout(r, 50))
  }
  assert.equal(JSON.parse((await run('read', 'brief')).out), 1, 'the 1m record is still there')
})

test('MICRO_STORE and MICRO_STORE_ADDRESS choose the store when no flag does', async () => {
  const env = { store: process.env.MICRO_STORE, address: process.env.MICRO_STORE_ADDRESS }
  process.env.MICRO_STORE = 'file'
  process.env.MICRO_STORE_ADDRESS = directory
  try {
    const lines: string[] = []
    await storeCommand(['write', 'from-env', '"yes"'], (t) => lines.push(t))
    const store = new FileStore({ directory })
    assert.equal((await store.read('from-env')).value, 'yes')
    await store.close()
  } finally {
    for (const [name, value] of [
      ['MICRO_STORE', env.store],
      ['MICRO_STORE_ADDRESS', env.address],
    ] as const) {
      if (value === undefined) delete process.env[name]
      else process.env[name] = value
    }
  }
})

test('usage mistakes are UsageErrors; help prints', async () => {
  await assert.rejects(run('fetch', 'k'), UsageError)
  await assert.rejects(run('write', 'k'), /takes 2 arguments/)
  await assert.rejects(run('read', 'k', '--prefix', 'x'), UsageError)
  await assert.rejects(run('list', '--limit', 'ten'), /--limit/)
  await assert.rejects(run('list', '--order', 'up'), /--order/)
  await assert.rejects(
    run('write', 'k', '1', '--ttl', 'soon'),
    (e: unknown) => e instanceof UsageError && /--ttl/.test(e.message),
  )
  await assert.rejects(
    storeCommand(['list', '--store', 'mongo'], () => {}),
    /unknown store engine "mongo"/,
  )
  const lines: string[] = []
  assert.equal(await storeCommand(['--help'], (t) => lines.push(t)), 0)
  assert.match(lines.join('\n'), /Usage: micro store/)
})
