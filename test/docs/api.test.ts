import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { mkdirSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, test } from 'node:test'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'

// Every public export carries a doc comment: TypeDoc's validation over every entry of
// package.json `exports` (docs/typedoc.config.mjs, with warnings as errors) passes, and the
// same validation fails on an entry with an undocumented export.

const run = promisify(execFile)
const root = fileURLToPath(new URL('../..', import.meta.url))
const docs = join(root, 'docs')
const typedoc = join(docs, 'node_modules/.bin/typedoc')

async function typedocRun(args: string[], cwd = docs): Promise<{ code: number; out: string }> {
  return run(typedoc, args, { cwd, maxBuffer: 16 * 1024 * 1024, timeout: 110_000 }).then(
    (r) => ({ code: 0, out: `${r.stdout}${r.stderr}` }),
    (e: { code?: number; stdout?: string; stderr?: string }) => ({
      code: e.code ?? 1,
      out: `${e.stdout ?? ''}${e.stderr ?? ''}`,
    }),
  )
}

describe('API reference', () => {
  test('every public export of every entry point is documented', async () => {
    const out = join(root, 'build/docs-api-check')
    const result = await typedocRun(['--options', 'typedoc.config.mjs', '--out', out, '--emit', 'none'])
    rmSync(out, { recursive: true, force: true })
    assert.equal(result.code, 0, result.out)
    assert.doesNotMatch(result.out, /warning/)
  })

  test('an undocumented export fails the check', async () => {
    const dir = join(root, 'build/docs-api-drift')
    rmSync(dir, { recursive: true, force: true })
    mkdirSync(dir, { recursive: true })
    writeFileSync(
      join(dir, 'entry.ts'),
      '/** Documented. */\nexport function documented(): number {\n  return 1\n}\n\nexport function forgotten(): number {\n  return 2\n}\n',
    )
    writeFileSync(
      join(dir, 'tsconfig.json'),
      JSON.stringify({ extends: '../../tsconfig.base.json', include: ['entry.ts'] }),
    )
    const { documentationRules } = await import(join(docs, 'typedoc.config.mjs'))
    writeFileSync(
      join(dir, 'typedoc.json'),
      JSON.stringify({
        ...documentationRules,
        entryPoints: ['entry.ts'],
        tsconfig: 'tsconfig.json',
        emit: 'none',
      }),
    )
    const result = await typedocRun(['--options', join(dir, 'typedoc.json')], dir)
    rmSync(dir, { recursive: true, force: true })
    assert.notEqual(result.code, 0, result.out)
    assert.match(result.out, /forgotten.*does not have any documentation/)
    assert.doesNotMatch(result.out, /documented \(Function\).*does not have/)
  })
})
