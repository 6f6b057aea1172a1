import assert from 'node:assert/strict'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, describe, test } from 'node:test'
import { waitUntil } from '../../../test/support/runtime.js'
import { isSourceFile, SourceWatcher, watchable } from './watch.js'

const work = mkdtempSync(join(tmpdir(), 'micro-watch-'))
const watchers: SourceWatcher[] = []
after(() => {
  for (const w of watchers) w.close()
  rmSync(work, { recursive: true, force: true })
})

function watcher(): { watcher: SourceWatcher; batches: string[][] } {
  const batches: string[][] = []
  const w = new SourceWatcher({ debounceMs: 50, onChange: (files) => batches.push(files.sort()) })
  watchers.push(w)
  return { watcher: w, batches }
}

describe('SourceWatcher', () => {
  test('reports changed source files in a batch; skips node_modules, hidden folders, tests and other files', async () => {
    const dir = join(work, 'tree')
    for (const sub of ['lib', 'node_modules/pkg', '.git', 'dist'])
      mkdirSync(join(dir, sub), { recursive: true })
    const { watcher: w, batches } = watcher()
    await w.addTree(dir)
    assert.equal(w.size, 2, 'the folder and lib/ only')
    writeFileSync(join(dir, 'node_modules', 'pkg', 'index.js'), '1')
    writeFileSync(join(dir, '.git', 'HEAD'), '1')
    writeFileSync(join(dir, 'dist', 'out.js'), '1')
    writeFileSync(join(dir, 'data.mdb'), '1')
    writeFileSync(join(dir, 'service.test.ts'), '1')
    writeFileSync(join(dir, 'service.ts'), '1')
    writeFileSync(join(dir, 'lib', 'util.ts'), '1')
    writeFileSync(join(dir, 'service.ts'), '2')
    await waitUntil(() => batches.length > 0, 'a batch')
    assert.deepEqual(batches[0], [join(dir, 'lib', 'util.ts'), join(dir, 'service.ts')])
  })

  test('a folder created after the start is watched too', async () => {
    const dir = join(work, 'grows')
    mkdirSync(dir, { recursive: true })
    const { watcher: w, batches } = watcher()
    await w.addTree(dir)
    mkdirSync(join(dir, 'handlers', 'v2'), { recursive: true })
    await waitUntil(() => w.size === 3, 'the new folders watched')
    writeFileSync(join(dir, 'handlers', 'v2', 'orders.ts'), 'export {}')
    await waitUntil(() => batches.flat().includes(join(dir, 'handlers', 'v2', 'orders.ts')), 'the new file')
  })

  test('addFile watches the folder of a file outside the trees', async () => {
    const shared = join(work, 'shared')
    mkdirSync(shared, { recursive: true })
    const { watcher: w, batches } = watcher()
    w.addFile(join(shared, 'money.ts'))
    writeFileSync(join(shared, 'money.ts'), 'export const cents = 100')
    await waitUntil(() => batches.flat().includes(join(shared, 'money.ts')), 'the shared file')
  })

  test('which files count', () => {
    for (const name of ['service.ts', 'a.mts', 'b.cjs', 'service.toml', 'tsconfig.json', 'x.yaml']) {
      assert.ok(isSourceFile(name), name)
    }
    for (const name of [
      'a.test.ts',
      'a.spec.js',
      '.service.ts.swp',
      'service.ts~',
      '4913',
      'data.mdb',
      'README.md',
    ]) {
      assert.ok(!isSourceFile(name), name)
    }
    assert.ok(watchable('/p/shared/money.ts', '/p'))
    assert.ok(!watchable('/p/node_modules/x/index.js', '/p'))
    assert.ok(!watchable('/p/dist/chunk.js', '/p'))
    assert.ok(!watchable('/elsewhere/x.ts', '/p'), 'outside the project')
    // The project folder's own path does not matter, only what is under it.
    assert.ok(watchable('/home/me/build/project/shared/x.ts', '/home/me/build/project'))
  })
})
