import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import type { LogLine } from '../../dashboard/api/types.js'
import type { MicroError } from '../../errors/errors.js'
import { LogRing } from './log-ring.js'
import { devRuntimeSource } from './runtime-source.js'
import type { DevEvent, DevServiceStatus } from './types.js'

/**
 * The part of the dev loop the source reads: its status list and its events, with restart
 * and stop changing the status as the dev loop's do (a new pid; stopped without one).
 */
class LoopState {
  readonly namespace = 'dev'
  readonly listeners = new Set<(event: DevEvent) => void>()
  readonly statuses: DevServiceStatus[] = [
    {
      name: 'users',
      source: '/p/users',
      state: 'ready',
      version: '1.0.0',
      pid: 100,
      restarts: 0,
      reloads: 0,
    },
    {
      name: 'orders',
      source: '/p/orders',
      state: 'failed',
      version: '2.0.0',
      pid: 200,
      restarts: 7,
      reloads: 0,
      crashLoop: true,
      lastExitCode: 1,
    },
  ]
  services = () => this.statuses.map((s) => ({ ...s }))
  subscribe = (listener: (event: DevEvent) => void) => {
    this.listeners.add(listener)
    return () => this.listeners.delete(listener)
  }
  restart = async (name: string) => {
    const status = this.statuses.find((s) => s.name === name) as DevServiceStatus
    status.state = 'ready'
    status.pid = (status.pid ?? 0) + 1
  }
  stop = async (name: string) => {
    const status = this.statuses.find((s) => s.name === name) as DevServiceStatus
    status.state = 'stopped'
  }
  emit(event: DevEvent): void {
    for (const listener of this.listeners) listener(event)
  }
  say(service: string, line: string, stream: 'stdout' | 'stderr' = 'stdout'): void {
    this.emit({ type: 'output', service, stream, line, pid: 1 })
  }
}

async function collect(lines: AsyncIterable<LogLine>): Promise<LogLine[]> {
  const out: LogLine[] = []
  for await (const line of lines) out.push(line)
  return out
}

describe('LogRing', () => {
  test('keeps the last lines of each service, oldest first, and merges services in time order', () => {
    const ring = new LogRing(3)
    for (let i = 1; i <= 5; i++) ring.add({ service: 'a', time: i * 10, text: `a${i}` })
    ring.add({ service: 'b', time: 35, text: 'b1' })
    assert.deepEqual(
      ring.last('a', 10).map((l) => l.text),
      ['a3', 'a4', 'a5'],
    )
    assert.deepEqual(
      ring.last('a', 2).map((l) => l.text),
      ['a4', 'a5'],
    )
    assert.deepEqual(
      ring.last(undefined, 3).map((l) => l.text),
      ['b1', 'a4', 'a5'],
    )
    assert.deepEqual(ring.last('nobody', 5), [])
    assert.deepEqual(ring.last('a', 0), [])
    assert.throws(() => new LogRing(0), /at least 1/)
  })
})

describe('devRuntimeSource', () => {
  test('lists the dev loop services as the dashboard shows them (crash loop, exit code, namespace)', async () => {
    const loop = new LoopState()
    const source = devRuntimeSource(loop)
    const [users, orders] = await source.list('dev')
    assert.deepEqual(users, {
      name: 'users',
      namespace: 'dev',
      version: '1.0.0',
      status: 'running',
      restarts: 0,
      crashLoop: false,
      source: '/p/users',
      pid: 100,
    })
    assert.equal(orders?.status, 'crashed')
    assert.equal(orders?.crashLoop, true)
    assert.equal(orders?.lastExitCode, 1)
    assert.equal(orders?.restarts, 7)
    assert.deepEqual(await source.list('other'), [], 'the dev loop runs one namespace')
    source.close()
  })

  test('logs: the past lines with level and trace id from JSON, then followed lines until aborted', async () => {
    const loop = new LoopState()
    const source = devRuntimeSource(loop, { lines: 100 })
    const trace = 'ab'.repeat(16)
    loop.say('users', 'plain start line')
    loop.say('users', JSON.stringify({ level: 40, msg: 'slow', trace_id: trace }))
    loop.say('orders', 'orders line', 'stderr')
    loop.emit({ type: 'exited', service: 'orders', detail: 'code 1' })

    const past = await collect(
      source.logs({
        service: 'users',
        namespace: 'dev',
        lines: 10,
        follow: false,
        signal: new AbortController().signal,
      }),
    )
    assert.deepEqual(
      past.map((l) => [l.text.slice(0, 16), l.level, l.traceId, l.stream]),
      [
        ['plain start line', 'info', undefined, 'stdout'],
        ['{"level":40,"msg', 'warn', trace, 'stdout'],
      ],
    )
    const all = await collect(
      source.logs({ namespace: 'dev', lines: 2, follow: false, signal: new AbortController().signal }),
    )
    assert.deepEqual(
      all.map((l) => [l.service, l.text, l.level]),
      [
        ['orders', 'orders line', 'error'],
        ['orders', 'exited: code 1', 'error'],
      ],
    )

    const stop = new AbortController()
    const followed: LogLine[] = []
    const tail = (async () => {
      for await (const line of source.logs({
        service: 'users',
        namespace: 'dev',
        lines: 1,
        follow: true,
        signal: stop.signal,
      })) {
        followed.push(line)
        if (followed.length === 1) {
          // After the past line: new ones of users come, another service's do not.
          loop.say('orders', 'not for this tail')
          loop.say('users', 'new line')
          loop.emit({ type: 'ready', service: 'users', pid: 101 })
        }
        if (followed.length === 3) stop.abort()
      }
    })()
    await tail
    assert.deepEqual(
      followed.map((l) => l.text),
      ['{"level":40,"msg":"slow","trace_id":"' + trace + '"}', 'new line', 'ready (pid 101)'],
    )
    assert.deepEqual(
      await collect(source.logs({ namespace: 'other', lines: 10, follow: true, signal: stop.signal })),
      [],
    )
    source.close()
    loop.say('users', 'after close')
    const last = await collect(
      source.logs({ service: 'users', namespace: 'dev', lines: 1, follow: false, signal: stop.signal }),
    )
    assert.equal(last[0]?.text, 'ready (pid 101)', 'closed: no more capture')
  })

  test('restart and stop go to the dev loop; unknown names and other namespaces are 404', async () => {
    const loop = new LoopState()
    const source = devRuntimeSource(loop)
    await source.restart('users', 'dev')
    assert.equal((await source.list('dev'))[0]?.pid, 101)
    await source.stop('users', 'dev')
    const stopped = (await source.list('dev'))[0]
    assert.equal(stopped?.status, 'stopped')
    assert.equal(stopped?.pid, undefined, 'a stopped service shows no pid')
    for (const [name, namespace] of [
      ['nobody', 'dev'],
      ['users', 'other'],
    ] as const) {
      await assert.rejects(source.restart(name, namespace), (e: MicroError) => e.code === 404)
      await assert.rejects(source.stop(name, namespace), (e: MicroError) => e.code === 404)
    }
    source.close()
  })
})
