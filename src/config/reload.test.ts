import assert from 'node:assert/strict'
import { rm, writeFile } from 'node:fs/promises'
import { describe, test } from 'node:test'
import { MicroError } from '../errors/errors.js'
import { createLogger } from '../logger/logger.js'
import { loadConfig } from './config.js'
import { fileSource } from './file-source.js'
import { MemoryConfigKV } from './memory-kv.js'
import { storeSource } from './store-source.js'
import { replaceByRename, tempDir, until, writeInPlace } from './test-files.js'
import type { Value } from './value.js'

// Real files in a temp directory, real fs.watch: a bad save must leave the running config
// alone, log the file and the parser's reason, fire no watcher, and the next good save wins.

type Line = { level: string; msg: string; source?: string; error?: string }

function capture() {
  const lines: Line[] = []
  const logger = createLogger({ level: 'trace', write: (l) => lines.push(JSON.parse(l) as Line) })
  return { lines, logger, errors: () => lines.filter((l) => l.level === 'error') }
}

function collect(watcher: AsyncIterable<Value>): Value[] {
  const values: Value[] = []
  void (async () => {
    for await (const value of watcher) values.push(value)
  })()
  return values
}

const CASES = [
  {
    format: 'YAML',
    name: 'config.yaml',
    good: (url: string) => `db:\n  url: ${url}\n  password: hunter2\n`,
    bad: 'db:\n  url: [unclosed\n  password: hunter2\n',
  },
  {
    format: 'JSON',
    name: 'config.json',
    good: (url: string) => JSON.stringify({ db: { url, password: 'hunter2' } }),
    bad: '{"db": {"url": "x", "password": hunter2}}',
  },
  {
    format: 'TOML',
    name: 'config.toml',
    good: (url: string) => `[db]\nurl = "${url}"\npassword = "hunter2"\n`,
    bad: '[db]\nurl = "x"\npassword = hunter2\n',
  },
] as const

describe('hot reload with bad input', () => {
  for (const c of CASES) {
    for (const how of ['written in place', 'replaced by rename'] as const) {
      test(`${c.format} ${how}: a bad save keeps the old config and is logged; the next good save wins`, async () => {
        const tmp = await tempDir()
        const path = tmp.path(c.name)
        const save = (text: string) =>
          how === 'written in place' ? writeInPlace(path, text) : replaceByRename(path, text)
        const log = capture()
        try {
          await writeFile(path, c.good('postgres://one'))
          const config = await loadConfig({
            sources: [fileSource(path, { debounce: 20 })],
            logger: log.logger,
          })
          const seen = collect(config.watch('db.url'))

          await save(c.bad)
          await until(() => log.errors().length > 0, 'the parse error to be logged')
          const [error] = log.errors()
          assert.equal(error?.source, `file:${path}`)
          assert.ok(error?.error?.includes(path), error?.error)
          assert.match(error?.error ?? '', new RegExp(`invalid ${c.format}: line \\d+, column \\d+: \\S`))
          assert.ok(!JSON.stringify(log.lines).includes('hunter2'), 'no file content in the log')
          assert.equal(config.get('db.url').string(), 'postgres://one')
          assert.equal(seen.length, 0, 'watchers are not fired by a bad save')

          await save(c.good('postgres://two'))
          await until(() => seen.length > 0, 'the good save to reach the watcher')
          assert.equal(seen.at(-1)?.string(), 'postgres://two')
          assert.equal(config.get('db.url').string(), 'postgres://two')
          assert.ok(log.lines.some((l) => l.msg === 'config source recovered'))
          await config.close()
        } finally {
          await tmp.cleanup()
        }
      })
    }
  }

  test('the same error is logged once, however many bad saves repeat it', async () => {
    const tmp = await tempDir()
    const path = tmp.path('c.yaml')
    const log = capture()
    try {
      await writeFile(path, 'a: 1\n')
      const config = await loadConfig({ sources: [fileSource(path, { debounce: 10 })], logger: log.logger })
      const seen = collect(config.watch('a'))
      writeInPlace(path, 'a: [\n')
      await until(() => log.errors().length > 0, 'the first error')
      writeInPlace(path, 'a: [\n')
      await replaceByRename(path, 'a: [\n')
      writeInPlace(path, 'a: 2\n')
      await until(() => seen.length > 0, 'the good save')
      assert.equal(config.get('a').int(), 2)
      assert.equal(log.errors().length, 1)
      await config.close()
    } finally {
      await tmp.cleanup()
    }
  })

  test('a file deleted at run time keeps its values; a new file is picked up', async () => {
    const tmp = await tempDir()
    const path = tmp.path('c.json')
    const log = capture()
    try {
      await writeFile(path, '{"a":1}')
      const config = await loadConfig({ sources: [fileSource(path, { debounce: 20 })], logger: log.logger })
      const seen = collect(config.watch('a'))
      await rm(path)
      await until(() => log.errors().length > 0, 'the missing file to be logged')
      assert.match(log.errors()[0]?.error ?? '', /not found/)
      assert.equal(config.get('a').int(), 1)
      writeInPlace(path, '{"a":2}')
      await until(() => seen.length > 0, 'the new file')
      assert.equal(config.get('a').int(), 2)
      await config.close()
    } finally {
      await tmp.cleanup()
    }
  })

  test('missing at load: a clear 404; optional: starts empty and picks the file up later', async () => {
    const tmp = await tempDir()
    const path = tmp.path('later.toml')
    try {
      await assert.rejects(
        loadConfig({ sources: [fileSource(path)] }),
        (e: unknown) => e instanceof MicroError && e.code === 404 && e.detail.includes(path),
      )
      const config = await loadConfig({ sources: [fileSource(path, { optional: true, debounce: 20 })] })
      assert.equal(config.get('a').exists, false)
      const seen = collect(config.watch('a'))
      writeInPlace(path, 'a = "here"\n')
      await until(() => seen.length > 0, 'the created file')
      assert.equal(config.get('a').string(), 'here')
      await config.close()
    } finally {
      await tmp.cleanup()
    }
  })

  test('invalid at load: a 400 naming the file and line, and nothing is left watching', async () => {
    const tmp = await tempDir()
    const path = tmp.path('bad.yaml')
    try {
      await writeFile(path, 'a: 1\nb: [\n')
      await assert.rejects(
        loadConfig({ sources: [fileSource(path)] }),
        (e: unknown) =>
          e instanceof MicroError && e.code === 400 && e.detail.includes(path) && /line \d+/.test(e.detail),
      )
    } finally {
      await tmp.cleanup()
    }
  })

  test('store: a document replaced with bad JSON keeps the old config; the next good one wins', async () => {
    const kv = new MemoryConfigKV()
    const log = capture()
    await kv.write('config', '{"a":1}', { namespace: 'micro' })
    const config = await loadConfig({ sources: [storeSource(kv, { pollInterval: 20 })], logger: log.logger })
    const seen = collect(config.watch('a'))
    await kv.write('config', '{"a":', { namespace: 'micro' })
    await until(() => log.errors().length > 0, 'the bad document to be logged')
    assert.match(log.errors()[0]?.error ?? '', /store:micro\/config is not valid JSON/)
    assert.equal(config.get('a').int(), 1)
    assert.equal(seen.length, 0)
    await kv.write('config', '{"a":2}', { namespace: 'micro' })
    await until(() => seen.length > 0, 'the good document')
    assert.equal(config.get('a').int(), 2)
    await config.close()
  })
})
