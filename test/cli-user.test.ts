import assert from 'node:assert/strict'
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, describe, test } from 'node:test'
import { eachLimit, runCli } from './support/cli.js'

// `micro user` as a user runs it (`micro env`: cli-env.test.ts): the built CLI in a child
// process, its config in a temporary MICRO_CONFIG_DIR.

const root = await mkdtemp(join(tmpdir(), 'micro-cli-user-'))
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
// own config dir. Apart from cli-env.test.ts so that each file has its own time budget.
describe('micro user', { concurrency: 2 }, () => {
  test('user set stores the namespace in the current environment, or for this machine without one', async () => {
    const { micro, read } = freshConfig()
    const shown = await micro(['user'])
    assert.equal(shown.code, 0, shown.stderr)
    assert.match(shown.stdout, /^environment +none$/m)
    assert.match(shown.stdout, /^platform +none: this machine directly$/m)
    assert.match(shown.stdout, /^namespace +micro \(the default\)$/m)

    assert.equal((await micro(['user', 'set', 'local-ns'])).code, 0)
    assert.equal((await read()).namespace, 'local-ns')
    assert.match((await micro(['user'])).stdout, /^namespace +local-ns \(micro user set\)$/m)

    await micro(['env', 'add', 'prod', 'p.example.com'])
    await micro(['env', 'set', 'prod'])
    assert.match(
      (await micro(['user'])).stdout,
      /^namespace +micro \(the default\)$/m,
      'each environment has its own',
    )
    const set = await micro(['user', 'set', 'shop'])
    assert.match(set.stdout, /namespace shop is set for environment prod/)
    const config = await read()
    assert.equal(config.environments.prod.namespace, 'shop')
    assert.equal(config.namespace, 'local-ns', "this machine's namespace is kept")
    const user = await micro(['user', '--json'])
    assert.deepEqual(JSON.parse(user.stdout), {
      environment: 'prod',
      platform: 'p.example.com:8081',
      namespace: 'shop',
      namespaceFrom: 'micro user set, in this environment',
      account: null,
    })

    // --namespace wins, then MICRO_NAMESPACE, then the environment's.
    assert.match(
      (await micro(['user'], { MICRO_NAMESPACE: 'from-env' })).stdout,
      /namespace +from-env \(MICRO_NAMESPACE\)/,
    )
    assert.match(
      (await micro(['user', '--namespace', 'flagged'], { MICRO_NAMESPACE: 'from-env' })).stdout,
      /namespace +flagged \(--namespace\)/,
    )
    assert.match(
      (await micro(['user'], { MICRO_PLATFORM: 'other.example.com' })).stdout,
      /^platform +other\.example\.com:8081 \(from MICRO_PLATFORM\)$/m,
    )

    await micro(['env', 'unset'])
    assert.match((await micro(['user'])).stdout, /^namespace +local-ns \(micro user set\)$/m)
  })

  test('a bad namespace is refused wherever it comes from', async () => {
    const { file, micro } = freshConfig()
    const cases = [
      [['user', 'set', 'b/d'], {}],
      [['user', 'set', ''], {}],
      [['user', 'set', 'a', 'b'], {}],
      [['user', 'frob'], {}],
      [['services', '--namespace', 'b d'], {}],
      [['user'], { MICRO_NAMESPACE: '../x' }],
    ] as [string[], Record<string, string>][]
    await eachLimit(cases, 4, async ([args, env]) => {
      const run = await micro(args, env)
      assert.equal(run.code, 2, `micro ${args.join(' ')}: ${run.stderr}`)
    })
    await assert.rejects(stat(file), 'nothing was written')
  })
})
