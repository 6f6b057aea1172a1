import assert from 'node:assert/strict'
import { resolve } from 'node:path'
import { after, describe, test } from 'node:test'
import { FAST_BACKOFF, waitUntil } from '../../../test/support/runtime.js'
import type { Command } from './instance.js'
import { Supervisor, type SupervisorOptions } from './supervisor.js'
import type { LogRecord } from './types.js'

const TICKER = resolve('test/fixtures/runtime/ticker.mjs')

function ticker(env: Record<string, string> = {}, version = '1.0.0'): Command {
  return {
    file: process.execPath,
    args: [TICKER],
    cwd: process.cwd(),
    env: { PATH: process.env.PATH, ...env },
    readiness: 'signal',
    version,
  }
}

const running: Supervisor[] = []
function supervise(options: Partial<SupervisorOptions> & { command: Command }): {
  supervisor: Supervisor
  logs: LogRecord[]
} {
  const logs: LogRecord[] = []
  const supervisor = new Supervisor({
    instances: 1,
    backoff: FAST_BACKOFF,
    stopTimeout: 5000,
    onLog: (r) => logs.push(r),
    ...options,
  })
  running.push(supervisor)
  supervisor.start()
  return { supervisor, logs }
}
after(async () => {
  await Promise.all(running.map((s) => s.stop()))
})

describe('Supervisor', () => {
  test('starts N processes, ready when they write to MICRO_READY_FD; output is split by stream', async () => {
    const { supervisor, logs } = supervise({ command: ticker(), instances: 2 })
    await supervisor.whenRunning()
    const status = supervisor.status()
    assert.equal(status.state, 'running')
    assert.equal(status.running, 2)
    const pids = status.instances.map((i) => i.pid)
    assert.equal(new Set(pids).size, 2)
    for (const i of status.instances) {
      assert.equal(i.state, 'running')
      assert.ok(typeof i.uptime === 'number' && i.uptime >= 0)
    }
    // Output and the ready signal travel on different pipes: the lines may come just after.
    await waitUntil(() => logs.filter((l) => l.stream !== 'runtime').length === 4, 'two lines of each')
    for (const [index, pid] of pids.entries()) {
      const own = logs.filter((l) => l.pid === pid)
      assert.ok(own.every((l) => l.instance === index + 1))
      assert.ok(own.some((l) => l.stream === 'stdout' && l.line === `ticker ${pid} starting`))
      assert.ok(own.some((l) => l.stream === 'stderr' && l.line === `ticker ${pid} says hello on stderr`))
    }
    await supervisor.stop()
    assert.equal(supervisor.status().state, 'stopped')
    assert.ok(
      logs.some((l) => l.line === 'ticker stopping'),
      'SIGTERM let it stop by itself',
    )
  })

  test('a process that keeps exiting backs off into a crash loop and is still restarted', async () => {
    const { supervisor, logs } = supervise({ command: ticker({ TICKER_EXIT: '3' }) })
    const looping = await waitUntil(() => {
      const s = supervisor.status()
      return s.state === 'crash-loop' && s
    }, 'crash-loop')
    const [instance] = looping.instances
    assert.equal(instance?.state, 'crash-loop')
    assert.ok((instance?.restarts ?? 0) >= FAST_BACKOFF.crashLoopAfter)
    assert.equal(instance?.lastExit?.code, 3)
    // Still retried (at the longest delay): the restart count keeps growing.
    const seen = looping.restarts
    await waitUntil(() => supervisor.status().restarts >= seen + 2, 'more restarts')
    const notes = logs
      .filter((l) => l.stream === 'runtime' && /restarting in/.test(l.line))
      .map((l) => l.line)
    const delays = notes.map((l) => Number(/restarting in (\d+) ms/.exec(l)?.[1]))
    assert.deepEqual(delays.slice(0, 3), [20, 40, 200], 'doubling, then the longest delay once looping')
    assert.match(notes[2] as string, /crash loop/)
  })

  test('alive readiness: a process that signals nothing is ready once it has stayed up readyAfter', async () => {
    const { supervisor } = supervise({
      command: { ...ticker({ TICKER_QUIET: '1' }), readiness: 'alive' },
      readyAfter: 100,
    })
    await supervisor.whenRunning()
    assert.equal(supervisor.status().instances[0]?.state, 'running')
    assert.equal(supervisor.status().restarts, 0)
  })

  test('a start that never becomes ready is stopped after readyTimeout and counted as a crash', async () => {
    const { supervisor } = supervise({ command: ticker({ TICKER_QUIET: '1' }), readyTimeout: 300 })
    const status = await waitUntil(() => {
      const s = supervisor.status()
      return (s.instances[0]?.restarts ?? 0) >= 1 && s
    }, 'a restart')
    assert.match(status.instances[0]?.lastExit?.reason ?? '', /not ready within 300 ms/)
  })

  test('a gated command loads at once and starts when its gate opens; its ready timeout counts from then', async () => {
    let open: (start: boolean) => void = () => {}
    const gate = new Promise<boolean>((resolve) => {
      open = resolve
    })
    // 2 s, not less: under a loaded CI machine a node process can take most of a second to
    // boot, and the held one must boot and answer its gate within the timeout once it opens.
    const { supervisor: gated, logs } = supervise({ command: { ...ticker(), gate }, readyTimeout: 2000 })
    const { supervisor: control } = supervise({ command: ticker({ TICKER_QUIET: '1' }), readyTimeout: 2000 })
    // Started together: once the ungated one has timed out, the held one would have too.
    await waitUntil(() => (control.status().instances[0]?.restarts ?? 0) >= 1, 'the control to time out')
    assert.equal(gated.status().instances[0]?.state, 'starting')
    assert.equal(gated.status().instances[0]?.restarts, 0, 'not timed out while held')
    open(true)
    await gated.whenRunning()
    await waitUntil(() => logs.some((l) => l.line === 'ticker gate opened'), 'the start line')

    // An update whose gate stays shut: the new process exits without starting; the old one serves on.
    const pid = gated.status().instances[0]?.pid
    await assert.rejects(
      gated.update({ ...ticker({}, '2.0.0'), gate: Promise.resolve(false) }),
      /exited \(code 0\) before it was ready/,
    )
    assert.equal(gated.status().instances[0]?.pid, pid)
    assert.equal(gated.status().state, 'running')
    await waitUntil(() => logs.some((l) => l.line === 'ticker told not to start'), 'the refusal')
  })

  test('stop: SIGTERM first, SIGKILL after stopTimeout for a process that ignores it', async () => {
    // The process must get to its SIGTERM handler before the SIGKILL: 1.5 s leaves room on a
    // loaded machine.
    const { supervisor, logs } = supervise({ command: ticker({ TICKER_STUBBORN: '1' }), stopTimeout: 1500 })
    await supervisor.whenRunning()
    await supervisor.stop()
    const [instance] = supervisor.status().instances
    assert.equal(instance?.state, 'stopped')
    assert.equal(instance?.lastExit?.signal, 'SIGKILL')
    assert.ok(logs.some((l) => l.line === 'ignoring SIGTERM'))
  })

  test('update rolls one instance at a time: a new process is ready before an old one stops', async () => {
    let fewest = Number.POSITIVE_INFINITY
    let updating = false
    const { supervisor, logs } = supervise({
      command: ticker(),
      instances: 2,
      onChange: () => {
        if (updating) fewest = Math.min(fewest, supervisor.status().running)
      },
    })
    await supervisor.whenRunning()
    const before = supervisor.status().instances.map((i) => i.pid)
    updating = true
    await supervisor.update(ticker({ TICKER_GREETING: 'v2' }, '2.0.0'))
    updating = false
    const after = supervisor.status()
    assert.equal(after.state, 'running')
    assert.equal(fewest, 2, 'two ready instances at every moment of the update')
    assert.deepEqual(
      after.instances.map((i) => i.version),
      ['2.0.0', '2.0.0'],
    )
    for (const pid of after.instances.map((i) => i.pid)) assert.ok(!before.includes(pid))
    // Each old process was told to stop only after its replacement said it was ready.
    for (const [i, old] of before.entries()) {
      const replacement = after.instances[i]?.pid
      const replaced = logs.findIndex((l) => l.line === `replaced pid ${old} by pid ${replacement}`)
      const stopping = logs.findIndex((l) => l.pid === old && l.line === 'ticker stopping')
      const started = logs.findIndex(
        (l) => l.stream === 'runtime' && l.line === `started pid ${replacement} (2.0.0)`,
      )
      assert.ok(started !== -1 && started < replaced && replaced < stopping, `order for instance ${i + 1}`)
    }
  })

  test('an update whose new process fails is rolled back and rejects with the reason', async () => {
    const { supervisor } = supervise({ command: ticker(), instances: 2 })
    await supervisor.whenRunning()
    const before = supervisor.status().instances.map((i) => i.pid)
    await assert.rejects(
      supervisor.update(ticker({ TICKER_EXIT: '7' }, '2.0.0')),
      /instance 1 \(2\.0\.0\) exited \(code 7\)/,
    )
    const status = supervisor.status()
    assert.equal(status.state, 'running')
    assert.deepEqual(
      status.instances.map((i) => i.pid),
      before,
    )
    assert.match(status.error ?? '', /update failed/)
    assert.equal(supervisor.command.version, '1.0.0')
  })

  test('an update brings a crash-looping service back, and can change the number of instances', async () => {
    const { supervisor } = supervise({ command: ticker({ TICKER_EXIT: '1' }) })
    await waitUntil(() => supervisor.status().state === 'crash-loop', 'crash-loop')
    await supervisor.update(ticker({}, '1.0.1'), 3)
    await supervisor.whenRunning()
    const status = supervisor.status()
    assert.equal(status.running, 3)
    await supervisor.update(ticker({}, '1.0.2'), 1)
    assert.equal(supervisor.status().instances.length, 1)
    assert.equal(supervisor.status().instances[0]?.version, '1.0.2')
  })
})
