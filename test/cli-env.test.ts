import assert from 'node:assert/strict'
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, describe, test } from 'node:test'
import { eachLimit, runCli } from './support/cli.js'

// `micro env` and `micro user` as a user runs them: the built CLI in a child process, its
// config in a temporary MICRO_CONFIG_DIR.

const root = await mkdtemp(join(tmpdir(), 'micro-cli-env-'))
after(() => rm(root, { recursive: true, force: true }))
let made = 0

/** A fresh config directory and a `micro` runner using it. */
function freshConfig() {
  const dir = join(root, `cfg-${++made}`)
  const micro = (args: string[], env: Record<string, string> = {}) =>
    runCli(args, { MICRO_CONFIG_DIR: dir, ...env })
  const file = join(dir, 'config.json')
  return { dir, file, micro, read: async () => JSON.parse(await readFile(file, 'utf8')) }
}

// Tests run side by side (each CLI process costs seconds on a loaded machine): each has its
// own config dir.
describe('micro env', { concurrency: 3 }, () => {
  test('add, list, set, get and del; the file and its directory are private to the owner', async () => {
    const { dir, file, micro, read } = freshConfig()
    const empty = await micro(['env'])
    assert.equal(empty.code, 0, empty.stderr)
    assert.match(empty.stdout, /no environments/, 'nothing is built in')

    const add = await micro(['env', 'add', 'prod', 'platform.example.com', '--description', 'production'])
    assert.equal(add.code, 0, add.stderr)
    assert.match(add.stdout, /platform\.example\.com:8081/, 'an address without a port gets :8081')
    assert.equal((await micro(['env', 'add', 'staging', '10.0.0.7:9000'])).code, 0)
    assert.equal((await stat(file)).mode & 0o777, 0o600)
    assert.equal((await stat(dir)).mode & 0o777, 0o700)

    const listed = await micro(['env', 'list'])
    assert.deepEqual(listed.stdout.trimEnd().split('\n'), [
      '  prod     platform.example.com:8081  production',
      '  staging  10.0.0.7:9000',
    ])
    assert.match((await micro(['env', 'get'])).stdout, /^none: commands work on this machine directly/)

    assert.equal((await micro(['env', 'set', 'staging'])).code, 0)
    assert.match((await micro(['env', 'list'])).stdout, /^\* staging +10\.0\.0\.7:9000$/m)
    assert.equal((await micro(['env', 'get'])).stdout.trim(), 'staging  10.0.0.7:9000')
    assert.deepEqual(JSON.parse((await micro(['env', 'get', '--json'])).stdout), {
      name: 'staging',
      address: '10.0.0.7:9000',
    })
    assert.equal((await read()).current, 'staging')

    const deleted = await micro(['env', 'del', 'staging'])
    assert.equal(deleted.code, 0, deleted.stderr)
    assert.match(deleted.stdout, /none is current now/, 'deleting the current environment unsets it')
    assert.match((await micro(['env', 'get'])).stdout, /^none/)
    assert.deepEqual(await read(), {
      environments: { prod: { address: 'platform.example.com:8081', description: 'production' } },
    })
    assert.equal((await stat(file)).mode & 0o777, 0o600, 'still 0600 after rewrites')

    assert.equal((await micro(['env', 'set', 'prod'])).code, 0)
    assert.equal((await micro(['env', 'unset'])).code, 0)
    assert.equal((await read()).current, undefined)
  })

  test('addresses: IPv6, explicit ports, and the default port', async () => {
    const { micro, read } = freshConfig()
    for (const [name, given] of [
      ['a', '127.0.0.1'],
      ['b', '[::1]:9'],
      ['c', '::1'],
      ['d', 'host-1.example:65535'],
    ])
      assert.equal((await micro(['env', 'add', name as string, given as string])).code, 0)
    const { environments } = await read()
    assert.deepEqual(
      Object.fromEntries(
        Object.entries(environments).map(([k, v]) => [k, (v as { address: string }).address]),
      ),
      { a: '127.0.0.1:8081', b: '[::1]:9', c: '[::1]:8081', d: 'host-1.example:65535' },
    )
  })

  test('bad input is refused with a clear error and changes nothing', async () => {
    const { file, micro } = freshConfig()
    await micro(['env', 'add', 'prod', 'p.example.com:8081'])
    await micro(['env', 'set', 'prod'])
    const before = await readFile(file, 'utf8')
    const cases: [string[], number, RegExp][] = [
      [['env', 'add', 'b@d', 'x'], 2, /bad environment name "b@d"/],
      [['env', 'add', '-x', 'x'], 2, /./],
      [['env', 'add', '__proto__', 'x'], 2, /bad environment name/],
      [['env', 'add', 'web', 'http://x.example.com'], 2, /host\[:port\].*not a URL/],
      [['env', 'add', 'web', 'x.example.com:0'], 2, /port must be 1-65535/],
      [['env', 'add', 'web', 'x.example.com:99999'], 2, /port must be 1-65535/],
      [['env', 'add', 'web', 'x.example.com:port'], 2, /port must be 1-65535/],
      [['env', 'add', 'web', ''], 2, /bad platform address/],
      [['env', 'add', 'web'], 2, /env add takes 2 arguments/],
      [['env', 'add', 'prod', 'other:1'], 1, /environment prod exists \(p\.example\.com:8081\)/],
      [['env', 'set', 'local'], 1, /no environment named local; there are: prod/],
      [['env', 'del', 'nope'], 1, /no environment named nope/],
      [['env', 'frob'], 2, /unknown env command frob/],
      [['env', 'set', 'prod', '--description', 'x'], 2, /--description goes with env add/],
    ]
    // Refusals change nothing, so they can run side by side.
    await eachLimit(cases, 4, async ([args, code, pattern]) => {
      const run = await micro(args)
      assert.equal(run.code, code, `micro ${args.join(' ')}: ${run.stderr}`)
      assert.match(run.stderr, pattern, `micro ${args.join(' ')}`)
    })
    assert.equal(await readFile(file, 'utf8'), before, 'the file is untouched')
  })

  test('a broken config file is named in the error, not silently replaced', async () => {
    const { dir, file, micro } = freshConfig()
    await micro(['env', 'add', 'prod', 'p.example.com'])
    await writeFile(file, '{"environments": {')
    await eachLimit([['env', 'list'], ['user'], ['services']], 3, async (args) => {
      const run = await micro(args)
      assert.equal(run.code, 1, `micro ${args.join(' ')}`)
      assert.ok(run.stderr.includes(join(dir, 'config.json')), run.stderr)
      assert.match(run.stderr, /not valid JSON: fix or delete it/)
    })
    assert.equal(await readFile(file, 'utf8'), '{"environments": {')
  })
})
