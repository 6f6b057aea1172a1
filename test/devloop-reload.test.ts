import assert from 'node:assert/strict'
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { type AddressInfo, createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { after, describe, test } from 'node:test'
import { pathToFileURL } from 'node:url'
import {
  killDevLoops,
  linesMatching,
  startDevLoop,
  type TestNetwork,
  testNetwork,
  writeFixtureService,
} from './support/devloop.js'
import type { Child } from './support/process.js'
import { waitUntil } from './support/runtime.js'

// Hot reload in `micro run`: a client calls an idempotent endpoint in a loop while the
// dev loop swaps the service, and while broken versions are saved (they must never take
// over). Services and client meet over mDNS on a multicast port of this test's own.

const work = mkdtempSync(join(tmpdir(), 'micro-devreload-'))
const networks: TestNetwork[] = []
after(async () => {
  await killDevLoops()
  await Promise.all(networks.map((n) => n.close()))
  rmSync(work, { recursive: true, force: true })
})

interface Reply {
  version: string
  pid: number
}

/** Callers looping on `<service>.Version` until stopped; every reply and failure kept. */
function callInLoop(net: TestNetwork, service: string, endpoint: string, callers = 3) {
  const replies: Reply[] = []
  const failures: string[] = []
  let stopped = false
  const loop = async () => {
    while (!stopped) {
      try {
        replies.push(await net.client.call<Reply>(service, endpoint, {}))
      } catch (error) {
        failures.push((error as Error).message)
      }
    }
  }
  const loops = Array.from({ length: callers }, loop)
  return {
    replies,
    failures,
    count: (version: string) => replies.filter((r) => r.version === version).length,
    async stop() {
      stopped = true
      await Promise.all(loops)
    },
  }
}

/** Wait until stdout has `count` more matches of `pattern` than it had at `since`. */
async function moreOutput(child: Child, pattern: RegExp, since: number, what: string): Promise<string> {
  try {
    return await waitUntil(
      () => {
        const text = child.stdout().slice(since)
        return pattern.test(text) && text
      },
      what,
      60_000,
    )
  } catch (error) {
    throw new Error(`${(error as Error).message}; the dev loop said:\n${child.stdout().slice(since)}`)
  }
}

describe('micro run: hot reload', () => {
  test('an edit swaps in the new version with no failed call to an idempotent endpoint', async () => {
    const net = testNetwork()
    networks.push(net)
    const dir = join(work, 'roller')
    writeFixtureService(dir, { name: 'roller', version: '1.0.0' })
    const child = startDevLoop([dir, '--no-gateway'], net.env)
    await child.waitFor(/1 of 1 ready/, 120_000)
    const calls = callInLoop(net, 'roller', 'Roller.Version')
    await waitUntil(() => calls.count('1.0.0') > 20, 'calls to 1.0.0')

    const since = child.stdout().length
    writeFixtureService(dir, { name: 'roller', version: '2.0.0' })
    await moreOutput(child, /roller - reloaded in \d+ ms/, since, 'the reload')
    const atSwap = calls.count('2.0.0')
    await waitUntil(() => calls.count('2.0.0') > atSwap + 20, 'calls served by 2.0.0')
    await calls.stop()

    assert.deepEqual(calls.failures, [], 'no call failed')
    const pids = new Set(calls.replies.map((r) => `${r.version} ${r.pid}`))
    assert.equal(pids.size, 2, `one process per version: ${[...pids].join(', ')}`)
    child.process.kill('SIGINT')
    assert.equal(await child.exited, 0)
  })

  test('a service on a fixed port is swapped stop-then-start; a script runs again on a change', async () => {
    const net = testNetwork()
    networks.push(net)
    const dir = join(work, 'fixed')
    const port = await freePort()
    writeFixtureService(join(dir, 'pinned'), { name: 'pinned', version: '1.0.0' })
    writeScript(join(dir, 'once'), 'first')
    writeFileSync(
      join(dir, 'micro.toml'),
      `[services.pinned]\npath = "pinned"\nport = ${port}\n\n[services.once]\npath = "once"\n`,
    )
    const child = startDevLoop(['--no-gateway'], net.env, dir)
    await child.waitFor(/2 of 2 ready/, 120_000)
    assert.match(child.stdout(), new RegExp(`pinned - ready in \\d+ ms: rpc on 127\\.0\\.0\\.1:${port}`))
    assert.match(child.stdout(), /once\s+\| script says first/)
    assert.match(child.stdout(), /once\s+- finished in \d+ ms/)

    let since = child.stdout().length
    writeFixtureService(join(dir, 'pinned'), { name: 'pinned', version: '2.0.0' })
    await moreOutput(
      child,
      new RegExp(`pinned - reloaded in \\d+ ms: rpc on 127\\.0\\.0\\.1:${port}`),
      since,
      'the swap',
    )
    const reply = await net.client.call<Reply>('pinned', 'Pinned.Version', {})
    assert.equal(reply.version, '2.0.0')

    since = child.stdout().length
    writeFileSync(join(dir, 'pinned', 'service.js'), 'throw new Error("pinned is broken")\n')
    await moreOutput(
      child,
      new RegExp(`port ${port} is fixed: the old version was stopped first`),
      since,
      'the failure',
    )

    since = child.stdout().length
    writeScript(join(dir, 'once'), 'second')
    await moreOutput(child, /once\s+\| script says second/, since, 'the script again')
    child.process.kill('SIGINT')
    assert.equal(await child.exited, 0)
  })

  test('a syntax error, a type error and a crash on start leave the old version serving; each error shows once', async () => {
    const net = testNetwork()
    networks.push(net)
    const dir = join(work, 'typed')
    writeFixtureService(dir, { name: 'typed', version: '1.0.0' }, { ts: true })
    const file = join(dir, 'service.ts')
    const good = readFileSync(file, 'utf8')
    const child = startDevLoop([dir, '--no-gateway'], net.env)
    await child.waitFor(/1 of 1 ready/, 120_000)
    const calls = callInLoop(net, 'typed', 'Typed.Version', 2)
    await waitUntil(() => calls.count('1.0.0') > 10, 'calls to 1.0.0')
    const servingPid = calls.replies[0]?.pid

    // A syntax error: esbuild finds it before any process starts.
    let since = child.stdout().length
    const broken = good.replace("const version: string = '1.0.0'", "const version: string = ('1.0.0'")
    writeFileSync(file, broken)
    let out = await moreOutput(
      child,
      /typed\s+! the code does not compile; the old version keeps serving/,
      since,
      'the syntax error',
    )
    await waitUntil(() => /service\.ts:\d+:\d+: error:/.test(child.stdout().slice(since)), 'its location')
    // Saved again with the same error: a reminder, not the error again.
    since = child.stdout().length
    writeFileSync(file, `${broken}\n`)
    out = await moreOutput(child, /the same error as above/, since, 'the reminder')
    assert.deepEqual(linesMatching(out, /error:/), [], `the error is not printed again: ${out}`)

    // A type error: tsc finds it (the service has a tsconfig.json).
    since = child.stdout().length
    writeFileSync(file, good.replace("const version: string = '1.0.0'", "const version: number = '1.0.0'"))
    out = await moreOutput(
      child,
      /typed\s+! the code does not type-check; the old version keeps serving/,
      since,
      'the type error',
    )
    await waitUntil(() => /error TS2322/.test(child.stdout().slice(since)), 'the TS2322 diagnostic')

    // Compiles, but throws while starting: the new process never becomes ready.
    since = child.stdout().length
    writeFileSync(file, `${good}\nthrow new Error('boom while starting')\n`)
    out = await moreOutput(
      child,
      /typed\s+! the new version did not start; the old version keeps serving/,
      since,
      'the crash',
    )
    await waitUntil(() => /boom while starting/.test(child.stdout().slice(since)), 'the crash reason')

    const before = calls.replies.length
    await waitUntil(() => calls.replies.length > before + 10, 'more calls')
    assert.ok(
      calls.replies.every((r) => r.version === '1.0.0' && r.pid === servingPid),
      'every call was served by the first process',
    )

    // Fixed: the next save swaps.
    since = child.stdout().length
    writeFileSync(file, good.replace("'1.0.0'", "'1.1.0'"))
    await moreOutput(child, /typed - reloaded in \d+ ms/, since, 'the reload of the fix')
    await waitUntil(() => calls.count('1.1.0') > 5, 'calls served by 1.1.0')
    await calls.stop()
    assert.deepEqual(calls.failures, [], 'no call failed')
    child.process.kill('SIGINT')
    assert.equal(await child.exited, 0)
  })
})

/** A script-only service that prints `script says <word>` and exits 0. */
function writeScript(dir: string, word: string): void {
  mkdirSync(dir, { recursive: true })
  writeFileSync(join(dir, 'service.toml'), 'name = "once"\ntypes = ["script"]\nversion = "1.0.0"\n')
  writeFileSync(
    join(dir, 'service.js'),
    `import { defineService } from '${pathToFileURL(resolve('dist/definition/index.js')).href}'\n` +
      `export default defineService({ script: () => { console.log('script says ${word}') } })\n`,
  )
}

function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo
      server.close(() => resolvePort(port))
    })
  })
}
