import assert from 'node:assert/strict'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { after, describe, test } from 'node:test'
import { pathToFileURL } from 'node:url'
import type { LogLine, RuntimeService, SpanRecord } from '../src/dashboard/api/types.js'
import { uuid } from '../src/util/ids.js'
import { api, readSse } from './support/dashboard/http.js'
import { killDevLoops, startDevLoop, type TestNetwork, testNetwork } from './support/devloop.js'
import { waitUntil } from './support/runtime.js'

// The dashboard under `micro run` (a real dev loop process, its service found over mDNS on
// a multicast port of its own, the HTTP side on port 0): the Logs page's API over the dev
// loop's output, restart and stop through the runtime API, and explorer calls traced from
// the dashboard's own client span.

const DIST = resolve('dist')
const work = mkdtempSync(join(tmpdir(), 'micro-devdash-'))
const networks: TestNetwork[] = []
after(async () => {
  await killDevLoops()
  await Promise.all(networks.map((n) => n.close()))
  rmSync(work, { recursive: true, force: true })
})

/** A service `echo` whose `Echo.Log` logs `text` as a JSON warn line carrying its trace id. */
function writeEchoService(dir: string): void {
  mkdirSync(dir, { recursive: true })
  writeFileSync(join(dir, 'service.toml'), 'name = "echo"\ntypes = ["rpc"]\nversion = "1.0.0"\n')
  const definition = pathToFileURL(join(DIST, 'definition', 'index.js')).href
  const server = pathToFileURL(join(DIST, 'server', 'index.js')).href
  writeFileSync(
    join(dir, 'service.js'),
    `import { defineService } from '${definition}'
import { endpoint } from '${server}'

class Echo {
  constructor(deps) { this.deps = deps }
  Log = endpoint({}, async (req) => {
    this.deps.logger.warn(req.text, { trace_id: this.deps.features.tracing?.traceId() })
    return { pid: process.pid }
  })
}

export default defineService({
  rpc: (deps) => new Echo(deps),
  onStart: () => console.log('echo started in ' + process.pid),
})
`,
  )
}

async function echoOf(base: string): Promise<RuntimeService | undefined> {
  const res = await api(base, 'GET', '/runtime')
  assert.equal(res.status, 200)
  return (res.body as { services: RuntimeService[] }).services.find((s) => s.name === 'echo')
}

describe("micro run's dashboard", () => {
  test('logs (past, followed, level and trace id), a traced explorer call, restart and stop', async () => {
    const dir = join(work, 'echo')
    writeEchoService(dir)
    const net = testNetwork()
    networks.push(net)
    const child = startDevLoop(['--address', '127.0.0.1:0'], net.env, dir)
    await child.waitFor(/1 of 1 ready/, 120_000)
    const base = new URL(
      (child.stdout().match(/Dashboard\s+(http:\/\/\S+)/) as RegExpMatchArray)[1] as string,
    ).origin

    const info = (await api(base, 'GET', '/info')).body as { features: Record<string, boolean> }
    assert.equal(info.features.runtime, true, 'the Logs page and the runtime buttons are on')
    const first = await echoOf(base)
    assert.equal(first?.status, 'running')
    assert.equal(first?.crashLoop, false)
    assert.ok(first?.pid, 'a pid')

    // The past: what the service printed when it started.
    const past = await readSse(`${base}/dashboard/api/logs?service=echo&follow=0`, (e) =>
      e.some((x) => x.event === 'end'),
    )
    const pastLines = past.events.filter((e) => e.event === 'line').map((e) => e.data as LogLine)
    assert.ok(
      pastLines.some((l) => l.text === `echo started in ${first?.pid}` && l.stream === 'stdout'),
      JSON.stringify(pastLines),
    )

    // Followed: a line logged after the tail opened, read for its level and trace id.
    const text = `hello-${uuid()}`
    let traceId = ''
    const followed = await readSse(
      `${base}/dashboard/api/logs?service=echo&lines=0`,
      (e) => e.some((x) => x.event === 'line' && (x.data as LogLine).text.includes(text)),
      {
        ms: 30_000,
        onOpen: async () => {
          const call = await api(base, 'POST', '/call', {
            service: 'echo',
            endpoint: 'Echo.Log',
            request: { text },
          })
          assert.equal(call.status, 200, JSON.stringify(call.body))
          traceId = call.headers.get('micro-trace-id') as string
        },
      },
    )
    const logged = followed.events
      .filter((e) => e.event === 'line')
      .map((e) => e.data as LogLine)
      .find((l) => l.text.includes(text))
    assert.ok(logged, JSON.stringify(followed.events))
    assert.equal(logged.level, 'warn')
    assert.match(traceId, /^[0-9a-f]{32}$/)
    assert.equal(logged.traceId, traceId, 'the line links to the call')

    // The call's trace: the dashboard's client span is the root and the service's server span's parent.
    const spans = await waitUntil(async () => {
      const res = await api(base, 'GET', `/traces/${traceId}`)
      const got = res.status === 200 ? (res.body as { spans: SpanRecord[] }).spans : []
      return got.length >= 2 ? got : undefined
    }, 'the service to export its server span')
    assert.equal(spans.length, 2, JSON.stringify(spans))
    const client = spans.find((s) => s.kind === 'client')
    const server = spans.find((s) => s.kind === 'server')
    assert.equal(client?.service, 'micro.dashboard')
    assert.equal(client?.name, 'Echo.Log')
    assert.equal(client?.attributes['rpc.method'], 'Echo.Log')
    assert.equal(client?.attributes['server.address'], 'echo')
    assert.equal(client?.attributes['rpc.response.status_code'], '200')
    assert.equal(client?.parentSpanId, undefined, 'the call is the root')
    assert.equal(server?.service, 'echo')
    assert.equal(server?.parentSpanId, client?.spanId)

    // Restart: the dev loop's safe swap, a new process.
    const restarted = await api(base, 'POST', '/runtime/echo/restart', {})
    assert.equal(restarted.status, 200, JSON.stringify(restarted.body))
    const second = await waitUntil(async () => {
      const now = await echoOf(base)
      return now?.status === 'running' && now.pid !== first?.pid ? now : undefined
    }, 'a new echo process')
    assert.ok(second.pid)
    const again = await api(base, 'POST', '/call', {
      service: 'echo',
      endpoint: 'Echo.Log',
      request: { text },
    })
    assert.equal((again.body as { pid: number }).pid, second.pid, 'the new process serves')
    assert.match(child.stdout(), /echo\s+- restarting \(asked for\)/)

    // Stop: listed as stopped, without a pid; a restart starts it again.
    assert.equal((await api(base, 'POST', '/runtime/echo/stop', {})).status, 200)
    const stopped = await echoOf(base)
    assert.equal(stopped?.status, 'stopped')
    assert.equal(stopped?.pid, undefined)
    assert.equal((await api(base, 'POST', '/runtime/nobody/stop', {})).status, 404)
    assert.equal((await api(base, 'POST', '/runtime/echo/restart', {})).status, 200)
    const third = await waitUntil(async () => {
      const now = await echoOf(base)
      return now?.status === 'running' && now.pid !== second.pid ? now : undefined
    }, 'echo started again')
    assert.ok(third.pid)

    child.process.kill('SIGINT')
    assert.equal(await child.exited, 0)
  })
})
