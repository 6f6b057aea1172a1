import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, describe, test } from 'node:test'
import { ConfigDocument } from '../config/store-document.js'
import { storeKV } from '../config/store-kv.js'
import { openLmdbEnvironments } from '../engines/lmdb.js'
import { createLogger } from '../logger/logger.js'
import { MemoryRegistry } from '../registry/memory.js'
import { FileStore } from '../store/file.js'
import { createService } from './service.js'

const quiet = createLogger({ level: 'silent' })
const folders: string[] = []
after(() => {
  for (const dir of folders) rmSync(dir, { recursive: true, force: true })
})
function folder(): string {
  const dir = mkdtempSync(join(tmpdir(), 'micro-lazy-blocks-'))
  folders.push(dir)
  return dir
}

describe("a service's blocks", () => {
  test('on the default file engines, start opens no database; the first store call does', async () => {
    const env = {
      MICRO_STORE_ADDRESS: folder(),
      MICRO_SYNC_ADDRESS: folder(),
      MICRO_EVENTS_ADDRESS: folder(),
    }
    const service = createService({
      name: 'lazy',
      namespace: 'lazy-blocks',
      env,
      registry: new MemoryRegistry(),
      logger: quiet,
      handleSignals: false,
    })
    const before = openLmdbEnvironments()
    await service.start()
    try {
      assert.equal(service.store.name, 'file')
      assert.equal(service.sync.name, 'file')
      assert.equal(service.events.name, 'file')
      assert.equal(service.broker.name, 'default')
      assert.equal(openLmdbEnvironments(), before, 'start and naming the blocks opened a database')
      await service.store.write('k', 'v')
      assert.equal((await service.store.read('k')).value, 'v')
      assert.equal(openLmdbEnvironments(), before + 1)
    } finally {
      await service.stop()
    }
    assert.equal(openLmdbEnvironments(), before, 'stop closed what the store opened')
  })

  test('a config document set before start is read from the store at start', async () => {
    const directory = folder()
    const writer = new FileStore({ directory, durable: false })
    await new ConfigDocument(storeKV(writer), { namespace: 'lazy-config' }).set('greeting', 'hi')
    await writer.close()
    const service = createService({
      name: 'lazy',
      namespace: 'lazy-config',
      env: { MICRO_STORE_ADDRESS: directory },
      registry: new MemoryRegistry(),
      logger: quiet,
      handleSignals: false,
    })
    await service.start()
    try {
      assert.equal(service.config.get('greeting').string(), 'hi')
    } finally {
      await service.stop()
    }
  })
})
