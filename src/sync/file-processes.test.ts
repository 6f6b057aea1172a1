import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, describe, test } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import { type Child, spawnNode } from '../../test/support/process.js'
import { readSections } from './fixtures/sections.js'

const root = mkdtempSync(join(tmpdir(), 'micro-sync-processes-'))
after(() => rmSync(root, { recursive: true, force: true }))

interface Run {
  children: Child[]
  log: string
  go: string
  hold: string
}

/** Starts `count` contender processes on one directory; they begin once every one is ready. */
async function contenders(
  engine: 'file' | 'memory',
  count: number,
  runMs: number,
  hold = false,
): Promise<Run> {
  const dir = mkdtempSync(join(root, `${engine}-`))
  const run: Run = {
    children: [],
    log: join(dir, 'sections.log'),
    go: join(dir, 'go'),
    hold: join(dir, 'hold'),
  }
  writeFileSync(run.log, '')
  const config = {
    engine,
    directory: join(dir, 'sync'),
    namespace: `t-${randomUUID()}`,
    id: 'critical',
    log: run.log,
    go: run.go,
    runMs,
    holdUntil: hold ? run.hold : undefined,
  }
  for (let i = 0; i < count; i++)
    run.children.push(
      spawnNode(['--import', 'tsx', 'src/sync/fixtures/contender.ts', JSON.stringify(config)]),
    )
  await Promise.all(run.children.map((child) => child.waitFor(/ready/, 60_000)))
  writeFileSync(run.go, '')
  return run
}

async function finished(run: Run): Promise<void> {
  const codes = await Promise.all(run.children.map((child) => child.exited))
  codes.forEach((code, i) => {
    assert.equal(code, 0, `contender ${i} exited with ${code}: ${run.children[i]!.stderr()}`)
  })
}

function killAll(run: Run | undefined): void {
  for (const child of run?.children ?? []) child.process.kill('SIGKILL')
}

describe('file sync across processes', () => {
  test('the section log reader counts overlaps and tokens out of order', () => {
    const report = readSections(
      [
        'enter 1 1',
        'leave 1 1',
        'enter 2 3',
        'enter 1 2',
        'leave 2 3',
        'leave 1 2',
        'enter 2 2',
        'bogus',
        '',
      ].join('\n'),
    )
    assert.equal(report.overlaps, 1)
    assert.deepEqual(report.tokens, [1, 3, 2, 2])
    assert.equal(report.outOfOrder, 2)
    assert.deepEqual(
      [...report.byProcess],
      [
        ['1', 2],
        ['2', 2],
      ],
    )
    assert.equal(report.malformed, 1)
  })

  test('control: memory syncs in two processes both hold the lock at once (what the file sync prevents)', async () => {
    let run: Run | undefined
    try {
      run = await contenders('memory', 2, 0, true)
      const inside = run
      const deadline = Date.now() + 30_000
      while (readSections(readFileSync(inside.log, 'utf8')).tokens.length < 2) {
        assert.ok(Date.now() < deadline, `both did not enter: ${readFileSync(inside.log, 'utf8')}`)
        await sleep(10)
      }
      writeFileSync(run.hold, '')
      await finished(run)
      const report = readSections(readFileSync(run.log, 'utf8'))
      assert.equal(report.overlaps, 1)
      assert.deepEqual(report.tokens, [1, 1], 'each process hands out its own token 1')
    } finally {
      killAll(run)
    }
  })

  test('four processes for 4 s: no overlap, fencing tokens strictly increase, everyone gets turns', async () => {
    let run: Run | undefined
    try {
      run = await contenders('file', 4, 4000)
      await finished(run)
      const report = readSections(readFileSync(run.log, 'utf8'))
      assert.equal(report.malformed, 0, 'every section was left')
      assert.equal(report.overlaps, 0, 'two processes in the critical section at once')
      assert.equal(report.outOfOrder, 0, `tokens repeated or went back: ${report.tokens.join(' ')}`)
      assert.equal(new Set(report.tokens).size, report.tokens.length)
      assert.equal(report.byProcess.size, 4, `only ${report.byProcess.size} processes got the lock`)
      const done = run.children.map((child) => Number(child.stdout().match(/done (\d+)/)?.[1]))
      assert.deepEqual(
        done,
        run.children.map((child) => report.byProcess.get(String(child.process.pid))),
        'each process logged every section it counted',
      )
    } finally {
      killAll(run)
    }
  })
})
