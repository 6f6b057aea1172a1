import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { after, before, describe, test } from 'node:test'
import { UsageError } from '../src/cli/args.js'
import { newCommand } from '../src/cli/commands/new.js'
import { uuid } from '../src/util/ids.js'
import { spawnNode } from './support/process.js'

const ROOT = resolve('build', 'test-definitions-new', uuid())

/**
 * The generated files import 'micro-ts' and 'micro-ts/testing'. Inside this repository
 * those would resolve to dist/ (the package itself); here a package.json ends that scope
 * and node_modules/micro-ts points at the sources, so the test needs no build.
 */
function linkSources(root: string): void {
  const src = resolve('src')
  const pkg = join(root, 'node_modules', 'micro-ts')
  mkdirSync(pkg, { recursive: true })
  writeFileSync(join(root, 'package.json'), '{ "type": "module", "private": true }\n')
  writeFileSync(
    join(pkg, 'package.json'),
    JSON.stringify({
      name: 'micro-ts',
      type: 'module',
      exports: { '.': './index.ts', './testing': './testing.ts' },
    }),
  )
  writeFileSync(
    join(pkg, 'index.ts'),
    `export * from '${join(src, 'index.ts')}'\nexport * from '${join(src, 'definition', 'index.ts')}'\n`,
  )
  writeFileSync(join(pkg, 'testing.ts'), `export * from '${join(src, 'testing', 'index.ts')}'\n`)
}

/**
 * Run a test file with `node --test` as a user would: outside this test run (with
 * NODE_TEST_CONTEXT set, node would refuse to run files from inside a test).
 */
async function runTestFile(file: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const env = { ...process.env }
  delete env.NODE_TEST_CONTEXT
  return new Promise((resolvePromise) => {
    execFile(process.execPath, ['--import', 'tsx', '--test', file], { env }, (error, stdout, stderr) => {
      resolvePromise({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr })
    })
  })
}

async function scaffold(name: string, kind: string): Promise<{ folder: string; out: string }> {
  let out = ''
  const code = await newCommand([name, '--kind', kind, '--dir', ROOT], (t) => {
    out += t
  })
  assert.equal(code, 0)
  return { folder: join(ROOT, name), out }
}

describe('micro new', () => {
  before(() => linkSources(ROOT))
  after(() => rmSync(ROOT, { recursive: true, force: true }))

  for (const kind of ['rpc', 'http', 'worker', 'script']) {
    test(`--kind ${kind} scaffolds a service whose test passes`, async () => {
      const { folder, out } = await scaffold(`orders-${kind}`, kind)
      assert.deepEqual(readdirSync(folder).sort(), ['service.test.ts', 'service.toml', 'service.ts'])
      assert.match(out, new RegExp(`created .*orders-${kind}/ \\(${kind}\\)`))
      assert.match(readFileSync(join(folder, 'service.toml'), 'utf8'), new RegExp(`types = \\["${kind}`))
      const run = await runTestFile(join(folder, 'service.test.ts'))
      assert.equal(run.code, 0, `${run.stdout}\n${run.stderr}`)
      assert.match(run.stdout, /# pass 1\n# fail 0/)
    })
  }

  test('a scaffolded service runs with micro run', async () => {
    const { folder } = await scaffold('runnable', 'rpc')
    const child = spawnNode(['dist/cli/main.js', 'run', '--inline', folder], {
      MICRO_REGISTRY: 'memory',
    })
    const address = (await child.waitFor(/runnable 0\.1\.0 is running: rpc on (\S+)/, 20_000))[1]
    const res = await fetch(`http://${address}/Runnable/Hello`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"name":"Bo"}',
    })
    assert.deepEqual(await res.json(), { message: 'Hello Bo' })
    child.process.kill('SIGTERM')
    assert.equal(await child.exited, 0)
  })

  test('usage mistakes: a bad name, an unknown kind, a folder that is not empty', async () => {
    await assert.rejects(
      newCommand(['Orders Service'], () => {}),
      (e: UsageError) => {
        assert.ok(e instanceof UsageError)
        assert.match(e.message, /Orders Service is not a valid service name/)
        return true
      },
    )
    await assert.rejects(
      newCommand(['ok', '--kind', 'grpc', '--dir', ROOT], () => {}),
      /--kind grpc is not a kind micro new knows: use one of rpc, http, worker, script/,
    )
    await scaffold('taken', 'rpc')
    await assert.rejects(
      newCommand(['taken', '--dir', ROOT], () => {}),
      /taken already exists and is not empty/,
    )
    await assert.rejects(
      newCommand([], () => {}),
      /new needs one service name/,
    )
    let help = ''
    assert.equal(await newCommand(['--help'], (t) => (help = t)), 0)
    assert.match(help, /Usage: micro new/)
  })
})
