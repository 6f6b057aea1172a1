import assert from 'node:assert/strict'
import { writeFile } from 'node:fs/promises'
import { describe, test } from 'node:test'
import { MicroError } from '../errors/errors.js'
import { sourceConformance } from './conformance.js'
import { fileSource } from './file-source.js'
import { replaceByRename, tempDir, writeInPlace } from './test-files.js'

const FILES = {
  json: [
    'config.json',
    '{"db":{"url":"postgres://a","pool":5},"tags":["x","y"]}',
    '{"db":{"url":"postgres://b","pool":5},"tags":["x","y"]}',
  ],
  yaml: [
    'config.yaml',
    'db:\n  url: postgres://a\n  pool: 5\ntags: [x, y]\n',
    'db:\n  url: postgres://b\n  pool: 5\ntags: [x, y]\n',
  ],
  toml: [
    'config.toml',
    'tags = ["x", "y"]\n[db]\nurl = "postgres://a"\npool = 5\n',
    'tags = ["x", "y"]\n[db]\nurl = "postgres://b"\npool = 5\n',
  ],
} as const

for (const [format, [name, first, second]] of Object.entries(FILES)) {
  sourceConformance(`file (${format}, written in place)`, async () => {
    const tmp = await tempDir()
    await writeFile(tmp.path(name), first)
    return {
      source: fileSource(tmp.path(name), { debounce: 20 }),
      expected: { db: { url: 'postgres://a', pool: 5 }, tags: ['x', 'y'] },
      change: () => writeInPlace(tmp.path(name), second),
      changed: { db: { url: 'postgres://b', pool: 5 }, tags: ['x', 'y'] },
      cleanup: tmp.cleanup,
    }
  })
}

sourceConformance('file (yaml, replaced by rename)', async () => {
  const tmp = await tempDir()
  await writeFile(tmp.path('config.yml'), 'a: 1\n')
  return {
    source: fileSource(tmp.path('config.yml'), { debounce: 20 }),
    expected: { a: 1 },
    change: () => replaceByRename(tmp.path('config.yml'), 'a: 2\n'),
    changed: { a: 2 },
    cleanup: tmp.cleanup,
  }
})

describe('file source', () => {
  test('a missing file is a 404 naming the path and the optional flag; optional makes it empty', async () => {
    const tmp = await tempDir()
    try {
      const missing = tmp.path('absent.yaml')
      await assert.rejects(
        async () => fileSource(missing).read(),
        (e: unknown) =>
          e instanceof MicroError &&
          e.code === 404 &&
          e.detail.includes(missing) &&
          e.detail.includes('optional'),
      )
      assert.deepEqual(await fileSource(missing, { optional: true }).read(), {})
    } finally {
      await tmp.cleanup()
    }
  })

  test('an unknown extension is refused at once unless a format is given', async () => {
    const tmp = await tempDir()
    try {
      assert.throws(() => fileSource(tmp.path('config.ini')), /unknown extension/)
      await writeFile(tmp.path('config.conf'), 'a: 1\n')
      assert.deepEqual(await fileSource(tmp.path('config.conf'), { format: 'yaml' }).read(), { a: 1 })
    } finally {
      await tmp.cleanup()
    }
  })

  test('an empty or comment-only file is an empty config; a list at the top is a 400', async () => {
    const tmp = await tempDir()
    try {
      await writeFile(tmp.path('a.yaml'), '# nothing yet\n')
      assert.deepEqual(await fileSource(tmp.path('a.yaml')).read(), {})
      await writeFile(tmp.path('b.json'), '   \n')
      assert.deepEqual(await fileSource(tmp.path('b.json')).read(), {})
      await writeFile(tmp.path('c.yaml'), '- a\n- b\n')
      await assert.rejects(
        async () => fileSource(tmp.path('c.yaml')).read(),
        /mapping of keys at the top level/,
      )
    } finally {
      await tmp.cleanup()
    }
  })

  test('a directory in place of the file is a clear 500, not a crash', async () => {
    const tmp = await tempDir()
    try {
      await assert.rejects(
        async () => fileSource(`${tmp.dir}/.`, { format: 'json' }).read(),
        (e: unknown) => e instanceof MicroError && e.code === 500 && e.detail.includes('cannot be read'),
      )
    } finally {
      await tmp.cleanup()
    }
  })

  test('TOML dates become ISO strings and prototype keys are dropped', async () => {
    const tmp = await tempDir()
    try {
      await writeFile(tmp.path('c.toml'), 'at = 2024-01-02T03:04:05Z\n')
      assert.deepEqual(await fileSource(tmp.path('c.toml')).read(), { at: '2024-01-02T03:04:05.000Z' })
      await writeFile(tmp.path('c.json'), '{"__proto__":{"polluted":1},"ok":{"__proto__":{"x":1},"y":2}}')
      const data = await fileSource(tmp.path('c.json')).read()
      assert.deepEqual(data, { ok: { y: 2 } })
      assert.equal(({} as Record<string, unknown>).polluted, undefined)
    } finally {
      await tmp.cleanup()
    }
  })

  test('watching a directory that does not exist reports an error instead of throwing', async () => {
    const errors: unknown[] = []
    const unwatch = fileSource('/nonexistent-micro-config-dir/config.yaml').watch?.(
      () => undefined,
      (e) => errors.push(e),
    )
    unwatch?.()
    assert.equal(errors.length, 1)
  })
})
