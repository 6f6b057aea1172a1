import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, describe, test } from 'node:test'
import {
  killDevLoops,
  linesMatching,
  startDevLoop,
  type TestNetwork,
  testNetwork,
  writeFixtureService,
} from './support/devloop.js'
import { runNode } from './support/process.js'
import { waitUntil } from './support/runtime.js'

// `micro run` (the dev loop) as a real process, on services in temporary folders that
// find each other over mDNS on a multicast port of their own. Every gateway binds port 0
// or a port this test holds.

const work = mkdtempSync(join(tmpdir(), 'micro-devloop-'))
const networks: TestNetwork[] = []
function network(): TestNetwork {
  const net = testNetwork()
  networks.push(net)
  return net
}
after(async () => {
  await killDevLoops()
  await Promise.all(networks.map((n) => n.close()))
  rmSync(work, { recursive: true, force: true })
})

function gone(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return false
  } catch {
    return true
  }
}

describe('micro run (the dev loop)', () => {
  test('starts three services in dependency order, serves their list, and Ctrl-C drains them', async () => {
    const dir = join(work, 'ordered')
    const marker = (name: string) => join(dir, `${name}.stopped`)
    // Each one's onStart calls what it depends on, so it cannot start before them.
    writeFixtureService(join(dir, 'users'), { name: 'users', marker: marker('users') })
    writeFixtureService(join(dir, 'orders'), { name: 'orders', calls: ['users'], marker: marker('orders') })
    writeFixtureService(join(dir, 'shop'), {
      name: 'shop',
      calls: ['orders', 'users'],
      marker: marker('shop'),
    })
    // Listed dependents first: the order comes from depends, not from the file.
    writeFileSync(
      join(dir, 'micro.toml'),
      `[services.shop]\npath = "./shop"\ndepends = ["orders", "users"]\n\n[services.orders]\npath = "./orders"\ndepends = ["users"]\n\n[services.users]\npath = "./users"\n`,
    )
    const net = network()
    const child = startDevLoop(['--address', '127.0.0.1:0'], net.env, dir)
    await child.waitFor(/3 of 3 ready/, 120_000)
    const out = child.stdout()
    const readyAt = (name: string) => out.search(new RegExp(`^${name}\\s+- ready in`, 'm'))
    assert.ok(readyAt('users') >= 0 && readyAt('users') < readyAt('orders'), out)
    assert.ok(readyAt('orders') < readyAt('shop'), out)
    assert.deepEqual(linesMatching(out, /exited|did not start/), [], 'no service failed to start')

    const url = (out.match(/Services\s+(http:\/\/\S+)/) as RegExpMatchArray)[1] as string
    const listed = (await (await fetch(url)).json()) as {
      services: { name: string; state: string; pid: number }[]
    }
    assert.deepEqual(
      listed.services.map((s) => [s.name, s.state]),
      [
        ['users', 'ready'],
        ['orders', 'ready'],
        ['shop', 'ready'],
      ],
    )
    const reply = await net.client.call<{ name: string }>('shop', 'Shop.Version', {})
    assert.equal(reply.name, 'shop')
    // micro run serves micro server's HTTP side: the dashboard at /, the gateway under /api/.
    const base = new URL(url).origin
    assert.match(await (await fetch(`${base}/`)).text(), /<html/i, 'the dashboard')
    const viaGateway = await fetch(`${base}/api/shop/Shop.Version`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{}',
    })
    assert.equal(viaGateway.status, 200)
    assert.equal(((await viaGateway.json()) as { name: string }).name, 'shop')

    child.process.kill('SIGINT')
    assert.equal(await child.exited, 0)
    for (const name of ['users', 'orders', 'shop'])
      assert.ok(existsSync(marker(name)), `${name}'s onStop ran`)
    for (const { pid } of listed.services) assert.ok(gone(pid), `pid ${pid} exited`)
    // Dependents stop first, each by SIGTERM from the dev loop.
    const stopping = child.stdout().slice(child.stdout().indexOf('micro  - stopping'))
    const stopAt = (name: string) =>
      stopping.search(new RegExp(`^${name}\\s+\\| info\\s+received SIGTERM`, 'm'))
    assert.ok(stopAt('shop') >= 0 && stopAt('shop') < stopAt('orders'), stopping)
    assert.ok(stopAt('orders') < stopAt('users'), stopping)
  })

  test("a project file's environments: shared variables, a service's own, MICRO_ENV; --no-gateway serves nothing", async () => {
    const dir = join(work, 'environments')
    writeFixtureService(join(dir, 'users'), { name: 'users' })
    writeFixtureService(join(dir, 'orders'), { name: 'orders' })
    writeFileSync(
      join(dir, 'micro.json'),
      JSON.stringify({
        services: {
          users: { path: 'users', env: { prod: { GREETING: 'users-prod' } } },
          orders: { path: 'orders' },
        },
        env: { development: { GREETING: 'dev-hi' }, prod: { GREETING: 'prod-hi' } },
      }),
    )
    const net = network()
    const child = startDevLoop(['--env', 'prod', '--no-gateway'], net.env, dir)
    await child.waitFor(/2 of 2 ready/, 120_000)
    const out = child.stdout()
    assert.match(out, /users\s+\| users env GREETING=users-prod MICRO_ENV=prod/)
    assert.match(out, /orders\s+\| orders env GREETING=prod-hi MICRO_ENV=prod/)
    assert.doesNotMatch(out, /Services\s+http|is in use/)
    child.process.kill('SIGTERM')
    assert.equal(await child.exited, 0)

    const unknown = await runNode(
      [join('dist', 'cli', 'main.js'), 'run', '--project', join(dir, 'micro.json'), '--env', 'staging'],
      net.env,
    )
    assert.equal(unknown.code, 1)
    assert.match(unknown.stderr, /env: has no environment "staging" \(it has development, prod\)/)
  })

  test('a dependency cycle is an error naming it; nothing starts', async () => {
    const dir = join(work, 'cycle')
    for (const name of ['a', 'b', 'c']) writeFixtureService(join(dir, name), { name })
    writeFileSync(
      join(dir, 'micro.toml'),
      `[services.a]\npath = "a"\ndepends = ["b"]\n[services.b]\npath = "b"\ndepends = ["c"]\n[services.c]\npath = "c"\ndepends = ["a"]\n`,
    )
    const result = await runNode([join('dist', 'cli', 'main.js'), 'run', dir, '--no-gateway'], network().env)
    assert.equal(result.code, 1)
    assert.match(result.stderr, /services depend on each other in a cycle: a -> b -> c -> a/)
    assert.doesNotMatch(result.stdout, /ready/)
  })

  test('when the address is taken it says so and the services still start', async () => {
    const holder: Server = createServer((_req, res) => res.end('someone else'))
    await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve))
    const address = `127.0.0.1:${(holder.address() as AddressInfo).port}`
    try {
      const dir = join(work, 'taken')
      writeFixtureService(dir, { name: 'taken' })
      const child = startDevLoop([dir, '--address', address], network().env)
      await child.waitFor(/1 of 1 ready/, 120_000)
      assert.match(
        child.stdout(),
        new RegExp(
          `${address} is in use \\(another micro run or micro server\\?\\): services are reachable through it`,
        ),
      )
      assert.doesNotMatch(child.stdout(), /Services\s+http/)
      child.process.kill('SIGINT')
      assert.equal(await child.exited, 0)
    } finally {
      holder.close()
    }
  })

  test('a service whose dev loop is killed stops itself (its onStop runs)', async () => {
    const dir = join(work, 'orphan')
    const marker = join(work, 'orphan.stopped')
    writeFixtureService(dir, { name: 'orphan', marker })
    const child = startDevLoop([dir, '--no-gateway', '--no-watch'], network().env)
    await child.waitFor(/1 of 1 ready/, 120_000)
    child.process.kill('SIGKILL')
    await child.exited
    await waitUntil(() => existsSync(marker), 'the orphaned service to stop itself', 30_000)
  })

  test('micro run --inline with a start gate loads, then starts on `start` or exits on the end of input', async () => {
    const dir = join(work, 'gated')
    writeFixtureService(dir, { name: 'gated' })
    const net = network()
    const gated = (input: string) => {
      const child = spawn(process.execPath, [join('dist', 'cli', 'main.js'), 'run', '--inline', dir], {
        env: { ...process.env, ...net.env, MICRO_START_GATE: 'stdin' },
        stdio: ['pipe', 'pipe', 'pipe'],
      })
      let out = ''
      child.stdout.on('data', (d: Buffer) => {
        out += d.toString()
      })
      child.stdin.end(input)
      return { child, out: () => out, exited: once(child, 'exit') }
    }
    const started = gated('start\n')
    await waitUntil(() => /gated 1\.0\.0 is running/.test(started.out()), 'the start')
    started.child.kill('SIGTERM')
    assert.deepEqual(await started.exited, [0, null])
    const refused = gated('')
    assert.deepEqual(await refused.exited, [0, null])
    assert.doesNotMatch(refused.out(), /is running/)
  })

  test('usage mistakes are exit code 2 with the reason', async () => {
    const cli = join('dist', 'cli', 'main.js')
    const cases: [string[], RegExp][] = [
      [['run', '--inline', 'a', 'b'], /run --inline needs one service folder/],
      [['run', 'a', '--env', 'REGION=eu'], /--env names an environment of the project file/],
      [
        ['run', 'a', '--no-gateway', '--address', '127.0.0.1:0'],
        /--address and --no-gateway do not go together/,
      ],
      [['run', 'a', '--address', 'nonsense'], /--address must be host:port/],
      [['run', '--inline', 'a', '--no-watch'], /--no-watch is an option of the dev loop/],
      [['run', 'a', '--instances', '2'], /--instances goes with -d/],
    ]
    for (const [args, message] of cases) {
      const result = await runNode([cli, ...args])
      assert.equal(result.code, 2, `${args.join(' ')}: ${result.stderr}`)
      assert.match(result.stderr, message)
    }
  })
})
