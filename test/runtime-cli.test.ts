import assert from 'node:assert/strict'
import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import { openPlatform, type PlatformClient } from '../src/cli/commands/runtime-client.js'
import { MicroError } from '../src/errors/errors.js'
import type { LogRecord, ServiceStatus } from '../src/platform/runtime/types.js'
import { runNode, spawnNode } from './support/process.js'
import { startPlatform, type TestPlatform, TICKER, waitUntil } from './support/runtime.js'

// `micro run -d`, status, logs, update and kill as child processes against a platform
// service (the Runtime handler on a LocalRuntime) running in this process.

let platform: TestPlatform
let client: PlatformClient

before(async () => {
  platform = await startPlatform()
  client = await openPlatform(platform.address)
})
after(async () => {
  await client.close()
  await platform.close()
})

async function status(name: string): Promise<ServiceStatus> {
  const r = await platform.cli(['status', name, '--json'])
  assert.equal(r.code, 0, r.stderr)
  return (JSON.parse(r.stdout) as ServiceStatus[])[0] as ServiceStatus
}

async function logs(name: string, ...args: string[]): Promise<LogRecord[]> {
  const r = await platform.cli(['logs', name, '--json', ...args])
  assert.equal(r.code, 0, r.stderr)
  return r.stdout
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as LogRecord)
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

async function serverError(call: Promise<unknown>, code: number, pattern: RegExp): Promise<void> {
  await assert.rejects(call, (error: unknown) => {
    assert.ok(error instanceof MicroError, String(error))
    assert.equal(error.code, code, error.detail)
    assert.match(error.detail, pattern)
    return true
  })
}

describe('micro run -d, status, kill', () => {
  test('two instances with env: status shows both running with pids and uptime; secrets stay hidden', async () => {
    const created = await platform.cli([
      'run',
      '-d',
      TICKER,
      '--name',
      'pair',
      '--instances',
      '2',
      '--env',
      'TICKER_GREETING=hello',
      '--env',
      'API_TOKEN=s3cret-value',
    ])
    assert.equal(created.code, 0, created.stderr)
    assert.match(created.stdout, /pair latest created on .*: 2 instances starting/)
    const running = await waitUntil(async () => {
      const s = await status('pair')
      return s.status === 'running' && s
    }, 'pair running')
    assert.deepEqual(running.instances, { desired: 2, running: 2 })
    assert.equal(running.source, TICKER)
    assert.equal(running.env.API_TOKEN, '[secret]')
    assert.equal(running.env.TICKER_GREETING, 'hello')
    const pids = running.processes.map((p) => p.pid as number)
    assert.equal(new Set(pids).size, 2)
    for (const p of running.processes) {
      assert.equal(p.state, 'running')
      assert.ok(alive(p.pid as number))
      assert.ok((p.uptime ?? -1) >= 0 && p.startedAt)
    }
    const table = await platform.cli(['status'])
    assert.equal(table.code, 0, table.stderr)
    const [header, ...rows] = table.stdout.trim().split('\n')
    assert.match(
      header as string,
      /^NAME\s+VERSION\s+SOURCE\s+STATUS\s+INSTANCES\s+RESTARTS\s+UPTIME\s+SINCE$/,
    )
    assert.ok(
      rows.some((r) => /^pair\s+latest\s+\S+ticker\.mjs\s+running\s+2\/2\s+0\s+\S+\s+\S+ ago$/.test(r)),
      table.stdout,
    )
    assert.doesNotMatch(table.stdout + (await platform.cli(['status', '--json'])).stdout, /s3cret/)
    // Output and the ready signal travel on different pipes: the lines may come just after.
    await waitUntil(async () => {
      const lines = (await logs('pair')).map((l) => l.line)
      return pids.every((pid) => lines.includes(`ticker ${pid} starting hello`))
    }, 'a starting line of each instance')

    const killed = await platform.cli(['kill', 'pair'])
    assert.equal(killed.code, 0, killed.stderr)
    assert.match(killed.stdout, /pair stopped and removed/)
    for (const pid of pids) assert.equal(alive(pid), false, `pid ${pid} stopped`)
    const gone = await platform.cli(['status', 'pair'])
    assert.equal(gone.code, 1)
    assert.match(gone.stderr, /no service pair in namespace micro/)
  })

  test('a crashing service backs off into crash-loop; status shows the restarts growing and the exit code', async () => {
    const created = await platform.cli(['run', '-d', TICKER, '--name', 'crashy', '--env', 'TICKER_EXIT=3'])
    assert.equal(created.code, 0, created.stderr)
    const looping = await waitUntil(async () => {
      const s = await status('crashy')
      return s.status === 'crash-loop' && s
    }, 'crash-loop')
    assert.equal(looping.processes[0]?.lastExit?.code, 3)
    assert.ok(looping.restarts >= 3)
    await waitUntil(async () => (await status('crashy')).restarts > looping.restarts, 'more restarts')
    const table = await platform.cli(['status'])
    assert.match(table.stdout, /crashy\s+latest\s+\S+\s+crash-loop\s+0\/1\s+\d+/)
    assert.match(table.stdout, /crashy: last exit code 3; see micro logs crashy/)
    const notes = (await logs('crashy')).filter((l) => l.stream === 'runtime').map((l) => l.line)
    assert.ok(
      notes.some((l) => /exited \(code 3\); restarting in \d+ ms \(crash loop\)/.test(l)),
      notes.join('\n'),
    )
    assert.equal((await platform.cli(['kill', 'crashy'])).code, 0)
  })
})

describe('micro run -d with a TypeScript module', () => {
  test('runs it through tsx, named after the file', async () => {
    const dir = join(platform.dir, 'typed')
    mkdirSync(dir, { recursive: true })
    const file = join(dir, 'typed-worker.ts')
    writeFileSync(
      file,
      `import { writeSync } from 'node:fs'
const fd: number = Number(process.env.MICRO_READY_FD)
const greeting: string = 'typed and running'
console.log(greeting)
writeSync(fd, 'ready\\n')
setInterval((): void => {}, 1 << 30)
`,
    )
    const created = await platform.cli(['run', '-d', file])
    assert.equal(created.code, 0, created.stderr)
    assert.match(created.stdout, /^typed-worker latest created/)
    await waitUntil(async () => (await status('typed-worker')).status === 'running', 'typed-worker running')
    // Its output and its ready signal travel on different pipes: wait for the line.
    await waitUntil(
      async () => (await logs('typed-worker')).some((l) => l.line === 'typed and running'),
      'its line',
    )
    const killed = await platform.cli(['kill', file])
    assert.equal(killed.code, 0, killed.stderr)
    assert.match(killed.stdout, /^typed-worker stopped and removed/, 'kill by source finds the service')
  })
})

describe('micro logs', () => {
  let pid: number
  before(async () => {
    const created = await platform.cli(['run', '-d', TICKER, '--name', 'talky'])
    assert.equal(created.code, 0, created.stderr)
    const s = await waitUntil(async () => {
      const s = await status('talky')
      return s.status === 'running' && s
    }, 'talky running')
    pid = s.processes[0]?.pid as number
  })
  after(async () => {
    await platform.cli(['kill', 'talky'])
  })

  async function poke(n: number): Promise<LogRecord> {
    process.kill(pid, 'SIGUSR2')
    return waitUntil(async () => (await logs('talky')).find((l) => l.line === `poked ${n}`), `poked ${n}`)
  }

  test('-n, --since (a time or a duration) and -f (a new line appears while following)', async () => {
    const first = await poke(1)
    const last = await logs('talky', '-n', '1')
    assert.deepEqual(
      last.map((l) => l.line),
      ['poked 1'],
    )
    assert.equal(last[0]?.stream, 'stdout')
    assert.equal(last[0]?.pid, pid)
    assert.equal(last[0]?.instance, 1)
    const second = await poke(2)
    assert.ok(Date.parse(second.time) > Date.parse(first.time))
    const after = new Date(Date.parse(first.time) + 1).toISOString()
    assert.deepEqual(
      (await logs('talky', '--since', after)).map((l) => l.line),
      ['poked 2'],
    )
    const recent = (await logs('talky', '--since', '10m')).map((l) => l.line)
    assert.ok(
      recent.includes(`ticker ${pid} starting`) && recent.includes('poked 1') && recent.includes('poked 2'),
    )
    const text = await platform.cli(['logs', 'talky', '-n', '2'])
    assert.match(text.stdout, /^\S+Z talky\[1\] poked 1\n\S+Z talky\[1\] poked 2\n$/)

    const follower = spawnNode(
      ['dist/cli/main.js', 'logs', 'talky', '-f', '-n', '1', '--platform', platform.address],
      {
        MICRO_CONFIG_DIR: join(platform.dir, 'cli-config'),
      },
    )
    await follower.waitFor(/poked 2\n/, 60_000)
    process.kill(pid, 'SIGUSR2')
    await follower.waitFor(/poked 3\n/, 60_000)
    assert.doesNotMatch(follower.stdout(), /poked 1/, '-n 1 limits the past lines only')
    follower.process.kill('SIGINT')
    assert.equal(await follower.exited, 0)
  })
})

describe('bad input: clear errors, and the platform keeps serving', () => {
  test('unknown names are 404s for every command', async () => {
    for (const args of [
      ['status', 'nosuch'],
      ['logs', 'nosuch'],
      ['update', 'nosuch'],
      ['kill', 'nosuch'],
    ]) {
      const r = await platform.cli(args)
      assert.equal(r.code, 1, `${args.join(' ')}: ${r.stdout}`)
      assert.match(r.stderr, /no service nosuch in namespace micro/)
      assert.match(r.stderr, /"code":404/)
    }
  })

  test('no platform at the address: the error says how to get one', async () => {
    const r = await runNode(['dist/cli/main.js', 'status', '--platform', '127.0.0.1:1'], {
      MICRO_CONFIG_DIR: join(platform.dir, 'cli-config'),
    })
    assert.equal(r.code, 1)
    assert.match(r.stderr, /no platform at 127\.0\.0\.1:1 .*start one with micro server/)
  })

  test('a folder with neither service.toml nor an entry is a 400 that says what is missing', async () => {
    const empty = join(platform.dir, 'empty-folder')
    mkdirSync(empty, { recursive: true })
    const r = await platform.cli(['run', '-d', empty])
    assert.equal(r.code, 1)
    assert.match(
      r.stderr,
      /has no service\.toml and no entry module: looked for service\.toml, package\.json "main"/,
    )
    assert.match(r.stderr, /"code":400/)
  })

  test('usage mistakes are caught by the CLI (exit 2)', async () => {
    for (const args of [
      ['run', '-d', TICKER, '--instances', '0'],
      ['run', '-d', TICKER, '--env', 'NOEQUALS'],
      ['run', TICKER, '--instances', '2'],
      ['logs', 'x', '--since', 'yesterday'],
      ['logs', 'x', '-n', 'ten'],
      ['run', '-d', join(platform.dir, 'not-there')],
    ]) {
      const r = await platform.cli(args)
      assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`)
    }
  })

  test('the Runtime endpoints refuse bad requests with 400/409 listing the problem', async () => {
    await serverError(client.call('Runtime.Create', { source: 5 }), 400, /source: must be string/)
    await serverError(client.call('Runtime.Create', {}), 400, /source: is required/)
    await serverError(
      client.call('Runtime.Create', { source: TICKER, extra: 1 }),
      400,
      /extra: is not a known field/,
    )
    await serverError(client.call('Runtime.Create', { source: 'relative/x' }), 400, /absolute path/)
    await serverError(
      client.call('Runtime.Create', { source: TICKER, name: '../../etc' }),
      400,
      /name: must match/,
    )
    await serverError(client.call('Runtime.Create', { source: TICKER, instances: 1000 }), 400, /at most 64/)
    await serverError(
      client.call('Runtime.Create', { source: TICKER, env: { 'BAD-NAME': 'x' } }),
      400,
      /env\.BAD-NAME: is not a valid name/,
    )
    for (const value of ['"x"', '{"polluted":"yes"}']) {
      const body = `{"source":${JSON.stringify(TICKER)},"name":"proto","env":{"__proto__":${value}}}`
      await serverError(
        client.call('Runtime.Create', JSON.parse(body)),
        400,
        /env\.__proto__: is not a valid name/,
      )
    }
    assert.equal(({} as Record<string, unknown>).polluted, undefined)
    await serverError(
      client.call('Runtime.Create', { source: TICKER, env: { MICRO_READY_FD: '1' } }),
      400,
      /MICRO_READY_FD is set by the runtime/,
    )
    await serverError(
      client.call('Runtime.Create', { source: TICKER, namespace: '..' }),
      400,
      /namespace: must match/,
    )
    await serverError(client.call('Runtime.Update', {}), 400, /needs a name or a source/)
    const created = await client.call<{ service: ServiceStatus }>('Runtime.Create', {
      source: TICKER,
      name: 'dupe',
    })
    assert.equal(created.service.name, 'dupe')
    await serverError(client.call('Runtime.Create', { source: TICKER, name: 'dupe' }), 409, /already exists/)
    const stream = client.stream<unknown, LogRecord>('Runtime.Logs')
    await stream.send({ name: 'dupe', since: 'last tuesday' })
    await stream.closeSend()
    await serverError(
      (async () => {
        for await (const _ of stream) {
        }
      })(),
      400,
      /since must be a duration/,
    )
    // Still serving.
    const { services } = await client.call<{ services: ServiceStatus[] }>('Runtime.Read', { name: 'dupe' })
    assert.equal(services[0]?.name, 'dupe')
    await client.call('Runtime.Delete', { name: 'dupe' })
  })
})
