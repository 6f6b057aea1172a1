import assert from 'node:assert/strict'
import { join } from 'node:path'
import { after, test } from 'node:test'
import { waitUntil } from './support/runtime.js'
import {
  cli,
  type ServerChild,
  type ServerHome,
  serverHome,
  startServerChild,
  writeServiceFolder,
} from './support/server.js'

// Issue 11's fault: a `micro server` killed with SIGKILL restarts with the store, config,
// events and runtime state it had. The server keeps them in its file-backed engines under
// ~/.micro (a home of the test's own); the runtime's service is started again (its old
// process, left running by the killed server, is stopped: pid and start time match).

const home: ServerHome = serverHome()
let server: ServerChild | undefined

after(async () => {
  if (server) {
    await cli(home, server, ['kill', 'keeper'])
    await server.stop()
  }
  await home.remove()
})

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

async function runningPid(current: ServerChild): Promise<number> {
  const status = await waitUntil(async () => {
    const r = await cli(home, current, ['status', 'keeper', '--json'])
    const [s] = r.code === 0 ? (JSON.parse(r.stdout) as any[]) : []
    return s?.status === 'running' && s.processes[0]?.pid ? s : undefined
  }, 'keeper to run')
  return status.processes[0].pid as number
}

test('kill -9 the server, start it again on the same home: store, config, events and runtime services are back', async () => {
  const first = await startServerChild(home)
  server = first
  const ok = async (args: string[]) => {
    const r = await cli(home, server, args)
    assert.equal(r.code, 0, `${args.join(' ')}: ${r.stderr}`)
    return r.stdout
  }
  await ok(['store', 'write', 'user:1', '{"name":"Ann"}'])
  await ok(['config', 'set', 'db.url', 'postgres://db/shop'])
  await ok(['stream', 'publish', 'orders', '{"id":7}'])
  const folder = join(home.dir, 'keeper')
  writeServiceFolder(folder, 'keeper', '1.0.0')
  await ok(['run', '-d', folder])
  const before = await runningPid(first)

  first.child.process.kill('SIGKILL')
  await first.child.exited
  server = await startServerChild(home)

  assert.deepEqual(JSON.parse(await ok(['store', 'read', 'user:1'])), { name: 'Ann' })
  assert.equal((await ok(['config', 'get', 'db.url'])).trim(), 'postgres://db/shop')
  const events = (await ok(['stream', 'read', 'orders']))
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line))
  assert.deepEqual(
    events.map((e) => e.payload),
    [{ id: 7 }],
  )
  const after = await runningPid(server)
  assert.notEqual(after, before, 'the service runs in a new process')
  await waitUntil(() => !alive(before), 'the process the killed server left to be stopped')
})
