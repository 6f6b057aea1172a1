import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { cpSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, describe, test } from 'node:test'
import { LocalRuntime } from '../src/platform/runtime/local.js'
import { processStartTime } from '../src/platform/runtime/proc.js'
import { stopOrphan } from '../src/platform/runtime/state.js'
import type { LogRecord } from '../src/platform/runtime/types.js'
import { FileStore } from '../src/store/file.js'
import { spawnNode } from './support/process.js'
import { FAST_BACKOFF, TICKER, waitUntil } from './support/runtime.js'

// A runtime that stops (closed, or killed with its process) and is opened again on the same
// file store runs the services it had: the killed one's leftover processes are stopped
// (found by pid and start time) and every service starts again.

const work = mkdtempSync(join(tmpdir(), 'micro-restart-'))
const stores: FileStore[] = []
const runtimes: LocalRuntime[] = []
const leftovers: number[] = []
after(async () => {
  for (const pid of leftovers) {
    if (await alive(pid)) process.kill(pid, 'SIGKILL')
  }
  await Promise.all(runtimes.map((r) => r.close()))
  await Promise.all(stores.map((s) => s.close()))
  rmSync(work, { recursive: true, force: true })
})

async function open(dir: string): Promise<LocalRuntime> {
  const store = new FileStore({ directory: join(dir, 'store') })
  stores.push(store)
  const runtime = await LocalRuntime.open({
    store,
    dir,
    backoff: FAST_BACKOFF,
    readyAfter: 600_000,
    stopTimeout: 5000,
  })
  runtimes.push(runtime)
  return runtime
}

async function running(runtime: LocalRuntime, name: string) {
  return waitUntil(async () => {
    const [s] = await runtime.read({ name })
    return s?.status === 'running' && s
  }, `${name} running`)
}

async function lines(runtime: LocalRuntime, name: string): Promise<LogRecord[]> {
  const out: LogRecord[] = []
  for await (const r of runtime.logs({ name })) out.push(r)
  return out
}

/** Running, not a zombie: an orphan's exit is reaped by whoever adopted it, maybe never. */
async function alive(pid: number): Promise<boolean> {
  return (await processStartTime(pid)) !== undefined
}

describe('a runtime opened again on its store', () => {
  test('after close: starts its services again, keeps their logs; a vanished source is an error state', async () => {
    const dir = join(work, 'closed')
    const first = await open(dir)
    const gone = join(work, 'gone-source')
    cpSync(TICKER, join(gone, 'main.mjs'), { recursive: true })
    await first.create({ name: 'keeper', source: TICKER, instances: 2, env: { TICKER_GREETING: 'again' } })
    await first.create({ name: 'orphaned', source: gone })
    const before = await running(first, 'keeper')
    await running(first, 'orphaned')
    await first.close()
    for (const p of before.processes)
      assert.equal(await alive(p.pid as number), false, 'close stops the processes')
    rmSync(gone, { recursive: true })

    const second = await open(dir)
    const after = await running(second, 'keeper')
    assert.equal(after.created, before.created)
    assert.deepEqual(after.env, { TICKER_GREETING: 'again' })
    assert.equal(after.processes.length, 2)
    for (const p of after.processes) assert.ok(!before.processes.some((b) => b.pid === p.pid))
    await waitUntil(async () => {
      const text = (await lines(second, 'keeper')).map((l) => l.line)
      return [...before.processes, ...after.processes].every((p) =>
        text.includes(`ticker ${p.pid} starting again`),
      )
    }, 'the lines of the old and the new processes')
    const [broken] = await second.read({ name: 'orphaned' })
    assert.equal(broken?.status, 'error')
    assert.match(broken?.error ?? '', /cannot start again: source .*gone-source does not exist/)
    // An update with a source that exists brings it back.
    const fixed = await second.update({ name: 'orphaned', source: TICKER })
    assert.equal(fixed.source, TICKER)
    assert.equal(fixed.error, undefined)
    await running(second, 'orphaned')
    await second.delete({ name: 'orphaned' })
  })

  test('after its process was killed: the processes it left are stopped, then its services start again', async () => {
    const dir = join(work, 'killed')
    const host = spawnNode(['--import', 'tsx', 'test/fixtures/runtime/host.ts'], { RUNTIME_DIR: dir })
    const [, pidsText] = await host.waitFor(/running (\[.*\])\n/, 120_000)
    const left = JSON.parse(pidsText as string) as number[]
    // Should the test fail half-way, nothing it started outlives it.
    leftovers.push(...left)
    host.process.kill('SIGKILL')
    await host.exited
    for (const pid of left) assert.ok(await alive(pid), `pid ${pid} outlived its runtime`)

    const runtime = await open(dir)
    for (const pid of left) assert.equal(await alive(pid), false, `pid ${pid} was stopped by the new runtime`)
    const s = await running(runtime, 'survivor')
    for (const p of s.processes) assert.ok(!left.includes(p.pid as number))
    const notes = (await lines(runtime, 'survivor')).filter((l) => l.stream === 'runtime').map((l) => l.line)
    for (const pid of left) {
      const note = `stopped pid ${pid}, left running by the previous runtime`
      assert.ok(notes.includes(note), `${note} in:\n${notes.join('\n')}`)
    }
    await runtime.delete({ name: 'survivor' })
  })

  test('a recorded pid that now belongs to another process is never signalled', async () => {
    const stranger = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], {
      stdio: 'ignore',
      detached: true,
    })
    const pid = stranger.pid as number
    try {
      const startTime = await waitUntil(() => processStartTime(pid), 'its start time')
      assert.equal(await stopOrphan({ pid, startTime: `${startTime}-not-the-same` }, 1000), false)
      assert.ok(await alive(pid), 'left alone')
      assert.equal(await stopOrphan({ pid, startTime }, 5000), true)
      await waitUntil(
        () => !alive(pid) || stranger.exitCode !== null || stranger.signalCode !== null,
        'it stopped',
      )
    } finally {
      stranger.kill('SIGKILL')
    }
  })
})
