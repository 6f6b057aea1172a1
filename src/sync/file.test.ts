import assert from 'node:assert/strict'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, describe, test } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import { pathToFileURL } from 'node:url'
import { openLmdb } from '../engines/lmdb.js'
import { syncConformance } from './conformance.js'
import { expectCode } from './conformance-kit.js'
import { FileSync } from './file.js'
import { FileLockTable } from './file-table.js'

const root = mkdtempSync(join(tmpdir(), 'micro-sync-file-'))
after(() => rmSync(root, { recursive: true, force: true }))

describe('file sync', () => {
  const directory = join(root, 'conformance')
  syncConformance('file', () => new FileSync({ directory }), {
    steal: async (namespace, id) => {
      const table = await FileLockTable.open(directory)
      try {
        assert.ok(await table.forget(namespace, id), 'there was a record to take away')
      } finally {
        await table.close()
      }
    },
  })
})

/** A FileSync whose waiters, once they have tried, sleep an hour unless a release wakes them. */
class SleepyFileSync extends FileSync {
  attempts = 0
  protected override pollDelay(): number {
    this.attempts++
    return 3_600_000
  }
}

describe('file sync on disk', () => {
  test('a release wakes the waiters of every FileSync of the process at once, not by polling', async () => {
    const directory = join(root, 'wake')
    const holder = new FileSync({ directory })
    const waiters = [new SleepyFileSync({ directory }), new SleepyFileSync({ directory })]
    try {
      // A long TTL: the waiters' pauses are cut to the holder's TTL, so only a wake-up ends them.
      const held = await holder.lock('job', { ttl: 600_000 })
      const waiting = waiters.map((sync) => sync.lock('job', { ttl: 600_000 }))
      while (waiters.some((sync) => sync.attempts === 0)) await sleep(5)
      await held.unlock()
      const first = await Promise.race(waiting)
      assert.ok(first.token > held.token)
      await first.unlock()
      const both = await Promise.all(waiting)
      assert.ok(both.every((lock) => lock.token > held.token))
      await Promise.all(both.map((lock) => lock.unlock()))
    } finally {
      await Promise.all([holder, ...waiters].map((sync) => sync.close()))
    }
  })

  test('fencing tokens keep increasing after every handle of the directory is closed', async () => {
    const directory = join(root, 'restart')
    const first = new FileSync({ directory })
    const a = await first.lock('job')
    const b = await first.lock('other')
    await first.close()
    // Nothing of this process has the environment open now: the next one reads the file.
    const second = new FileSync({ directory: pathToFileURL(directory).href })
    try {
      const c = await second.lock('job', { wait: 0 })
      assert.ok(c.token > Math.max(a.token, b.token), `${c.token} after ${a.token} and ${b.token}`)
      assert.equal(second.directory, directory)
    } finally {
      await second.close()
    }
  })

  test('an unreadable lock record guards nothing: the lock is taken and tokens still grow', async () => {
    const directory = join(root, 'garbage')
    const sync = new FileSync({ directory })
    try {
      const before = await sync.lock('job')
      await before.unlock()
      const handle = await openLmdb<Buffer, [string, string]>(join(directory, 'sync.mdb'))
      try {
        const locks = handle.root.openDB<Buffer, [string, string]>({ name: 'locks', encoding: 'binary' })
        await locks.put(['micro', 'job'], Buffer.from('{"owner": 42, not json'))
        await locks.put(['micro', 'other'], Buffer.from(JSON.stringify({ owner: 'x', expiresAt: 'soon' })))
      } finally {
        await handle.release()
      }
      const job = await sync.lock('job', { wait: 0 })
      const other = await sync.lock('other', { wait: 0 })
      assert.ok(job.token > before.token)
      assert.ok(other.token > job.token)
      await Promise.all([job.unlock(), other.unlock()])
    } finally {
      await sync.close()
    }
  })

  test('an unreadable fencing counter is a 503 that names the file; nothing is handed out', async () => {
    const directory = join(root, 'bad-counter')
    const sync = new FileSync({ directory })
    try {
      await (await sync.lock('job')).unlock()
      const setCounter = async (value: string) => {
        const handle = await openLmdb<Buffer, string>(join(directory, 'sync.mdb'))
        try {
          const meta = handle.root.openDB<Buffer, string>({ name: 'meta', encoding: 'binary' })
          await meta.put('fence', Buffer.from(value))
        } finally {
          await handle.release()
        }
      }
      await setCounter('minus one')
      await assert.rejects(sync.lock('job', { wait: 0 }), (error: unknown) => {
        assert.equal((error as { code?: number }).code, 503)
        assert.match((error as Error).message, /^file sync: the fencing counter in .*sync\.mdb is unreadable/)
        return true
      })
      // The failed attempt left the lock free, and the counter is read afresh.
      await setCounter('100')
      const lock = await sync.lock('job', { wait: 0 })
      assert.equal(lock.token, 101)
      await lock.unlock()
    } finally {
      await sync.close()
    }
  })

  test('a directory that cannot be made is a 503 naming it; the sync works once it can', async () => {
    const blocker = join(root, 'not-a-directory')
    writeFileSync(blocker, 'a file in the way')
    const sync = new FileSync({ directory: join(blocker, 'sync') })
    try {
      await assert.rejects(sync.lock('job'), (error: unknown) => {
        assert.equal((error as { code?: number }).code, 503)
        assert.match((error as Error).message, /^file sync: cannot open the lock table .*not-a-directory/)
        return true
      })
      rmSync(blocker)
      const lock = await sync.lock('job', { wait: 0 })
      assert.ok(lock.token > 0)
      await lock.unlock()
    } finally {
      await sync.close()
    }
  })

  test('the longest id and namespace fit in a record', async () => {
    const sync = new FileSync({ directory: join(root, 'long') })
    try {
      const lock = await sync.lock('i'.repeat(1024), { namespace: 'n'.repeat(255), wait: 0 })
      await expectCode(sync.lock('i'.repeat(1025)), 400)
      await lock.unlock()
    } finally {
      await sync.close()
    }
  })

  test('the sweep removes the records of holders that died, not of live ones', async () => {
    const directory = join(root, 'sweep')
    const table = await FileLockTable.open(directory)
    try {
      assert.ok(typeof (await table.take('micro', 'dead', 'a', 10, false)) === 'object')
      assert.ok(typeof (await table.take('micro', 'alive', 'b', 60_000, false)) === 'object')
      const deadline = Date.now() + 5000
      while (table.peek('micro', 'dead') > 0) {
        assert.ok(Date.now() < deadline, 'the short TTL never ran out')
        await new Promise((r) => setTimeout(r, 5))
      }
      assert.equal(await table.sweep(), 1)
      assert.equal(await table.forget('micro', 'dead'), false, 'the dead record was removed')
      assert.ok(table.peek('micro', 'alive') > 0)
      assert.equal(await table.renew('micro', 'alive', 'not-b', 60_000), false, 'renewal is owner-checked')
      assert.equal(await table.release('micro', 'alive', 'not-b'), false, 'release is owner-checked')
      assert.equal(await table.release('micro', 'alive', 'b'), true)
    } finally {
      await table.close()
    }
  })
})
