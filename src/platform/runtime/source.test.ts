import assert from 'node:assert/strict'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, describe, test } from 'node:test'
import { MicroError } from '../../errors/errors.js'
import { commandFor } from './command.js'
import { resolveSource } from './source.js'

const root = mkdtempSync(join(tmpdir(), 'micro-source-'))
after(() => rmSync(root, { recursive: true, force: true }))

function folder(name: string, files: Record<string, string>): string {
  const dir = join(root, name)
  mkdirSync(dir, { recursive: true })
  for (const [file, text] of Object.entries(files)) writeFileSync(join(dir, file), text)
  return dir
}

async function badRequest(path: string, pattern: RegExp): Promise<void> {
  await assert.rejects(resolveSource(path), (error: unknown) => {
    assert.ok(error instanceof MicroError)
    assert.equal(error.code, 400)
    assert.match(error.detail, pattern)
    return true
  })
}

const context = { namespace: 'shop', baseEnv: { PATH: '/bin' }, env: { A: '1' }, microCli: ['/cli.js'] }

describe('resolveSource', () => {
  test('a service.toml folder runs through `micro run`, named and versioned by the toml', async () => {
    const dir = folder('orders', { 'service.toml': 'name = "orders"\ntypes = ["rpc"]\nversion = "v1.2.0"\n' })
    const source = await resolveSource(dir)
    assert.equal(source.kind, 'definition')
    assert.equal(source.name, 'orders')
    assert.equal(source.version, '1.2.0')
    const command = commandFor(source, context)
    assert.deepEqual(command.args, ['/cli.js', 'run', '--inline', dir])
    assert.equal(command.cwd, dir)
    assert.equal(command.readiness, 'signal')
    assert.deepEqual([command.env.MICRO_NAMESPACE, command.env.A, command.env.PATH], ['shop', '1', '/bin'])
    assert.equal((await resolveSource(join(dir, 'service.toml'))).kind, 'definition')
  })

  test('a script-only toml is ready once alive (it prints no running line)', async () => {
    const dir = folder('once', { 'service.toml': 'name = "once"\ntypes = ["script"]\nversion = "1.0.0"\n' })
    assert.equal(commandFor(await resolveSource(dir), context).readiness, 'alive')
  })

  test('a module, package.json main, or a conventional entry; TypeScript through tsx', async () => {
    const js = folder('plain', { 'main.js': '', 'package.json': '{"name":"@acme/plain","version":"3.0.0"}' })
    const plain = await resolveSource(js)
    assert.deepEqual(
      [plain.kind, plain.file, plain.name, plain.version],
      ['entry', join(js, 'main.js'), 'plain', '3.0.0'],
    )
    const pkg = folder('pkg', { 'package.json': '{"main":"lib/start.mjs"}', 'index.js': '' })
    mkdirSync(join(pkg, 'lib'))
    writeFileSync(join(pkg, 'lib', 'start.mjs'), '')
    assert.equal((await resolveSource(pkg)).file, join(pkg, 'lib', 'start.mjs'))
    const ts = folder('typed', { 'index.ts': '' })
    const typed = await resolveSource(ts)
    assert.equal(typed.name, 'typed')
    const command = commandFor(typed, context)
    assert.equal(command.args[0], '--import')
    assert.match(command.args[1] as string, /^file:.*tsx/)
    assert.equal(command.args[2], join(ts, 'index.ts'))
    assert.equal(commandFor(await resolveSource(join(js, 'main.js')), context).args[0], join(js, 'main.js'))
  })

  test('bad sources are 400s that say what is missing', async () => {
    await badRequest('relative/path', /absolute path/)
    await badRequest(join(root, 'nowhere'), /does not exist/)
    await badRequest(
      folder('empty', {}),
      /no service\.toml and no entry module: looked for service\.toml, package\.json "main", service\.js/,
    )
    await badRequest(join(folder('text', { 'notes.txt': 'x' }), 'notes.txt'), /neither a service\.toml nor/)
    await badRequest(folder('nameless', { 'service.toml': 'types = ["rpc"]\n' }), /has no name/)
    await badRequest(folder('broken', { 'service.toml': 'name = \n' }), /is not valid TOML/)
    // A package.json main pointing outside the folder is not followed.
    await badRequest(folder('escape', { 'package.json': '{"main":"../plain/main.js"}' }), /no entry module/)
  })
})
