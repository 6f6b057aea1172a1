import assert from 'node:assert/strict'
import { mkdirSync, rmSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { join, resolve } from 'node:path'
import { after, describe, test } from 'node:test'
import { UsageError } from '../src/cli/args.js'
import { runCommand } from '../src/cli/commands/run.js'
import { uuid } from '../src/util/ids.js'
import { type Child, runNode, spawnNode } from './support/process.js'

// `micro run --inline`: the service in the CLI's own process (plain `micro run` is the dev loop).
const RUN = ['dist/cli/main.js', 'run', '--inline']
const MULTI = 'test/fixtures/definitions/multi'
const BASE_ENV = { MICRO_REGISTRY: 'memory', MICRO_HTTP_PORT: '0', REGION: 'eu-west' }

type Line = Record<string, unknown> & { msg: string }

function logLines(child: { stderr: () => string }): Line[] {
  return child
    .stderr()
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Line)
}

function runningAddresses(match: RegExpMatchArray): { rpc: string; http: string } {
  const line = match[0]
  return {
    rpc: /rpc on (\S+?),/.exec(line)?.[1] as string,
    http: /http on (http:\/\/\S+?)\/multi/.exec(line)?.[1] as string,
  }
}

const children: Child[] = []
function start(args: string[], env: Record<string, string>): Child {
  const child = spawnNode([...RUN, ...args], env)
  children.push(child)
  return child
}
after(() => {
  for (const c of children) c.process.kill('SIGKILL')
})

describe('micro run (a process)', () => {
  test('runs rpc, http and worker in one process; logs carry service, version, product, kind', async () => {
    const child = start([MULTI], BASE_ENV)
    const { rpc, http } = runningAddresses(await child.waitFor(/multi 2\.1\.0 is running: .*\n/, 20_000))
    const hello = await fetch(`http://${rpc}/Multi/Hello`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"name":"Ann"}',
    })
    assert.deepEqual(await hello.json(), { message: 'Hello Ann from eu-west' })
    assert.deepEqual(await (await fetch(`${http}/multi/x`)).json(), { path: '/x' })
    assert.equal((await fetch(`${http}/health`)).status, 200)
    assert.match(
      await (await fetch(`${http}/metrics`)).text(),
      /micro_requests_total\{code="200",endpoint="GET \/multi\/x"/,
    )
    child.process.kill('SIGTERM')
    assert.equal(await child.exited, 0)
    const lines = logLines(child)
    assert.ok(lines.length > 5)
    for (const line of lines) {
      assert.equal(line.service, 'multi', JSON.stringify(line))
      assert.equal(line.version, '2.1.0')
      assert.equal(line.product, 'fixtures')
      assert.equal(line.team, 'core')
      assert.match(String(line.kind), /^(rpc|http|worker|rpc,http,worker)$/)
    }
    assert.equal(lines.find((l) => l.msg === 'rpc ready')?.kind, 'rpc')
    assert.equal(lines.find((l) => l.msg === 'worker started')?.kind, 'worker')
  })

  test('SIGTERM stops the kinds in reverse order, then onStop, and exits 0', async () => {
    const child = start([MULTI], BASE_ENV)
    await child.waitFor(/is running/, 20_000)
    child.process.kill('SIGTERM')
    assert.equal(await child.exited, 0)
    const order = logLines(child)
      .map((l) => l.msg)
      .filter((m) => /^(received|stopping|\w+ stopped|onStop ran|multi stopped)/.test(m))
    assert.deepEqual(order, [
      'received SIGTERM, shutting down',
      'stopping multi',
      'worker stopped',
      'http stopped',
      'rpc stopped',
      'onStop ran',
      'multi stopped',
    ])
  })

  test('a second signal during a slow stop exits at once', async () => {
    const child = start([MULTI], { ...BASE_ENV, SLOW_STOP: '60s' })
    await child.waitFor(/is running/, 20_000)
    child.process.kill('SIGINT')
    const deadline = Date.now() + 5000
    while (!logLines(child).some((l) => l.msg === 'stopping multi') && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 20))
    }
    const sent = Date.now()
    child.process.kill('SIGINT')
    assert.equal(await child.exited, 130)
    assert.ok(Date.now() - sent < 5000)
  })

  test('every toml mistake is listed at once, each with its key, and the exit code is 1', async () => {
    const { code, stderr, stdout } = await runNode([...RUN, 'test/fixtures/definitions/bad'], BASE_ENV)
    assert.equal(code, 1)
    assert.equal(stdout, '')
    assert.match(stderr, /bad[/\\]service\.toml has 8 problems:/)
    assert.match(stderr, /types\[3\]: the service runs http but its definition has no http factory/)
    for (const key of [
      'name',
      'version',
      'types\\[1\\]',
      'types\\[2\\]',
      'types\\[3\\]',
      'colour',
      'runtime\\.http\\.base_path',
    ]) {
      assert.match(stderr, new RegExp(`^ {2}- ${key}: .+\\. Fix: `, 'm'), key)
    }
  })

  test('environment mistakes are listed at once; secrets are never printed', async () => {
    const { code, stderr } = await runNode([...RUN, MULTI], {
      MICRO_REGISTRY: 'memory',
      MAX_ITEMS: 'many',
      WEBHOOK_SECRET: 'hunter2-not-a-url',
    })
    assert.equal(code, 1)
    assert.match(stderr, /service\.toml has 3 problems:/)
    assert.match(
      stderr,
      /- env\.REGION: missing\. Fix: set REGION \(or MULTI__REGION for this service only\)/,
    )
    assert.match(stderr, /- env\.MAX_ITEMS: "many" is not an integer/)
    assert.match(stderr, /- env\.WEBHOOK_SECRET: the value \(hidden: secret\) is not a URL/)
    assert.ok(!stderr.includes('hunter2'), stderr)
  })

  test('a feature that throws in start stops the kinds already started and exits 1 with the reason', async () => {
    const blocker = createServer()
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', r))
    const port = (blocker.address() as { port: number }).port
    const dir = resolve('build', 'test-definitions', uuid())
    mkdirSync(dir, { recursive: true })
    const toml = join(dir, 'service.toml')
    writeFileSync(
      toml,
      `name = "multi"\ntypes = ["rpc", "http"]\nversion = "1.0.0"\nentry = "${resolve(MULTI, 'service.ts')}"\n\n[features.metrics]\nport = ${port}\n`,
    )
    try {
      const { code, stderr } = await runNode([...RUN, dir], { ...BASE_ENV, MICRO_LOG_LEVEL: 'info' })
      assert.equal(code, 1)
      assert.match(stderr, /multi failed to start: feature metrics failed to start: listen EADDRINUSE.*:\d+/)
      const msgs = logLines({ stderr: () => stderr }).map((l) => l.msg)
      assert.ok(msgs.includes('rpc is running') && msgs.includes('http is running'), msgs.join('\n'))
      assert.deepEqual(
        msgs.filter((m) => / stopped$/.test(m)),
        ['http stopped', 'rpc stopped'],
      )
    } finally {
      blocker.close()
      rmSync(dir, { recursive: true, force: true })
    }
  })

  test('node on the service file runs it too (runIfMain)', async () => {
    const child = spawnNode(['--import', 'tsx', join(MULTI, 'service.ts')], BASE_ENV)
    children.push(child)
    await child.waitFor(/multi 2\.1\.0 is running/, 20_000)
    child.process.kill('SIGINT')
    assert.equal(await child.exited, 0)
  })

  test('a folder without a service.toml', async () => {
    const missing = await runNode([...RUN, 'test/fixtures/definitions/nowhere'], BASE_ENV)
    assert.equal(missing.code, 1)
    assert.match(missing.stderr, /nowhere[/\\]service\.toml has a problem:\n {2}- file: not found/)
  })

  test('--config picks another toml; --help; a missing folder argument is a usage error', async () => {
    const config = resolve('test/fixtures/definitions/bad/service.toml')
    const { code, stderr } = await runNode([...RUN, MULTI, '--config', config], BASE_ENV)
    assert.equal(code, 1)
    assert.match(stderr, /bad[/\\]service\.toml has 8 problems/)
    let help = ''
    assert.equal(await runCommand(['--help'], (t) => (help = t)), 0)
    assert.match(help, /Usage: micro run \[options\] \[folders\.\.\.\]/)
    await assert.rejects(
      runCommand(['--inline'], () => {}),
      (e: UsageError) => e instanceof UsageError && /one service folder/.test(e.message),
    )
  })
})
