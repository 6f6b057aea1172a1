import assert from 'node:assert/strict'
import { existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { after, describe, test } from 'node:test'
import { pathToFileURL } from 'node:url'
import { resolveSource } from '../runtime/source.js'
import { SourceChecker } from './check.js'

const work = mkdtempSync(join(tmpdir(), 'micro-check-'))
after(() => rmSync(work, { recursive: true, force: true }))

let n = 0
/** A service folder with `files`; `tsconfig` adds one (and Node's types, as a project has them). */
function folder(files: Record<string, string>, tsconfig = false): string {
  const dir = join(work, `s${n++}`)
  mkdirSync(dir, { recursive: true })
  writeFileSync(join(dir, 'service.toml'), `name = "s${n}"\ntypes = ["rpc"]\n`)
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text)
  if (tsconfig) {
    writeFileSync(join(dir, 'package.json'), '{ "type": "module" }')
    mkdirSync(join(dir, 'node_modules', '@types'), { recursive: true })
    symlinkSync(resolve('node_modules/@types/node'), join(dir, 'node_modules', '@types', 'node'), 'dir')
    writeFileSync(
      join(dir, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: { strict: true, module: 'nodenext', noEmit: true, types: ['node'] },
      }),
    )
  }
  return dir
}

async function check(dir: string) {
  const notes: string[] = []
  const checker = new SourceChecker('s', { cwd: dir, note: (l) => notes.push(l) })
  return { outcome: await checker.check(await resolveSource(dir)), notes }
}

describe('SourceChecker', () => {
  test('without a tsconfig: esbuild parses the entry and its local imports, and lists them', async () => {
    const dir = folder({
      'service.ts': "import { cents } from './money.js'\nexport default { cents }\n",
      'money.ts': 'export const cents: number = 100\n',
    })
    const { outcome } = await check(dir)
    assert.deepEqual(outcome.tools, ['esbuild'])
    assert.equal(outcome.ok, true)
    assert.deepEqual(outcome.files.sort(), [join(dir, 'money.ts'), join(dir, 'service.ts')])
  })

  test('a syntax error, and an import of a missing file, fail with where they are', async () => {
    const broken = await check(folder({ 'service.ts': 'export const x = (1 +\n' }))
    assert.equal(broken.outcome.ok, false)
    assert.equal(broken.outcome.failed, 'syntax')
    assert.match(broken.outcome.error ?? '', /service\.ts:2:1: error: /)
    const missing = await check(folder({ 'service.ts': "import './gone.js'\n" }))
    assert.equal(missing.outcome.failed, 'syntax')
    assert.match(missing.outcome.error ?? '', /Could not resolve "\.\/gone\.js"/)
  })

  test('with a tsconfig: a type error fails with the compiler’s diagnostic; a good graph passes', async () => {
    const dir = folder(
      {
        'service.ts': "import { cents } from './money.js'\nexport const total: string = cents\n",
        'money.ts': 'export const cents: number = 100\n',
        'unrelated.ts': 'export const broken: number = "not checked: not imported"\n',
      },
      true,
    )
    const bad = await check(dir)
    assert.deepEqual(bad.outcome.tools, ['tsc', 'esbuild'])
    assert.equal(bad.outcome.failed, 'types')
    assert.match(bad.outcome.error ?? '', /service\.ts\(2,14\): error TS2322/)
    assert.doesNotMatch(bad.outcome.error ?? '', /unrelated/, 'only what the entry imports is checked')
    writeFileSync(
      join(dir, 'service.ts'),
      "import { cents } from './money.js'\nexport const total: number = cents\n",
    )
    const good = await check(dir)
    assert.equal(good.outcome.ok, true, good.outcome.error)
  })

  test('a JavaScript entry is not type-checked even with a tsconfig', async () => {
    const dir = folder({ 'service.js': 'export const x = 1\n' }, true)
    const { outcome } = await check(dir)
    assert.deepEqual(outcome.tools, ['esbuild'])
    assert.equal(outcome.ok, true)
  })
})

describe('SourceChecker.build with a bundle', () => {
  test('an ES module TypeScript entry is bundled: it runs, keeps its file location and class names, imports JavaScript in place', async () => {
    const dir = folder(
      {
        'service.ts': [
          "import { helper } from './helper.js'",
          "import { Money } from './money.js'",
          'export class Orders {}',
          'export const where = import.meta.url',
          'export const names = [Orders.name, Money.name]',
          'export const fromHelper = helper()',
        ].join('\n'),
        'money.ts': 'export class Money {}\n',
        'helper.js': 'export const helper = () => import.meta.url\n',
      },
      true,
    )
    const checker = new SourceChecker('orders', { cwd: dir, note: () => {} })
    const built = await checker.build(await resolveSource(dir), { bundle: true })
    assert.equal(built.ok, true, built.error)
    assert.ok(built.bundle?.startsWith(join(dir, '.micro', 'dev')), built.bundle)
    assert.ok(built.files.includes(join(dir, 'helper.js')), 'the JavaScript it imports is watched too')
    const module = (await import(pathToFileURL(built.bundle as string).href)) as Record<string, unknown>
    assert.equal(module.where, pathToFileURL(join(dir, 'service.ts')).href)
    assert.deepEqual(module.names, ['Orders', 'Money'])
    assert.equal(
      module.fromHelper,
      pathToFileURL(join(dir, 'helper.js')).href,
      'helper.js ran from its own place',
    )
    await checker.prune()
    assert.ok(!existsSync(built.bundle as string), 'prune deletes the bundles')
  })

  test('no bundle for CommonJS TypeScript (it runs through tsx, as it would without the dev loop)', async () => {
    const commonjs = folder({ 'service.ts': 'export const x = 1\n' })
    const checker = new SourceChecker('c', { cwd: commonjs, note: () => {} })
    const built = await checker.build(await resolveSource(commonjs), { bundle: true })
    assert.equal(built.ok, true)
    assert.equal(built.bundle, undefined, 'no package.json of type module')
  })
})
