import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { homedir, tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, test } from 'node:test'
import { pathToFileURL } from 'node:url'
import { lmdbDirectory, openLmdb, openLmdbEnvironments } from './lmdb.js'

const root = mkdtempSync(join(tmpdir(), 'engines-lmdb-'))
after(() => rmSync(root, { recursive: true, force: true }))

test('lmdbDirectory: ~/.micro/<block> by default; a path or file:// URL, trimmed', () => {
  assert.equal(lmdbDirectory(undefined, 'store'), join(homedir(), '.micro', 'store'))
  assert.equal(lmdbDirectory('   ', 'events'), join(homedir(), '.micro', 'events'))
  assert.equal(lmdbDirectory(` ${root} `, 'store'), root)
  assert.equal(lmdbDirectory(pathToFileURL(join(root, 'x')).href, 'store'), join(root, 'x'))
})

test('two opens of one path share one environment; it closes when both are released', async () => {
  const before = openLmdbEnvironments()
  const path = join(root, 'shared.mdb')
  const a = await openLmdb<string, string>(path)
  // Another spelling of the same path is the same environment.
  const b = await openLmdb<string, string>(join(root, '.', 'x', '..', 'shared.mdb'))
  assert.equal(a.root, b.root)
  assert.equal(openLmdbEnvironments(), before + 1)
  await a.root.put('k', 'v')
  await a.release()
  await a.release() // a second release of one handle changes nothing
  assert.equal(openLmdbEnvironments(), before + 1)
  assert.equal(b.root.get('k'), 'v', 'still open for the other user')
  await b.release()
  assert.equal(openLmdbEnvironments(), before)
  // Opened again after the close, with what was written.
  const c = await openLmdb<string, string>(path)
  assert.notEqual(c.root, a.root)
  assert.equal(c.root.get('k'), 'v')
  await c.release()
  assert.equal(openLmdbEnvironments(), before)
})
