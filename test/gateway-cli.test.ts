import assert from 'node:assert/strict'
import { test } from 'node:test'
import { MdnsRegistry } from '../src/registry/mdns.js'
import { httpCall } from '../src/testing/http-call.js'
import { Greeter, startService } from './support/gateway.js'
import { runNode, spawnNode } from './support/process.js'

const FORM = { 'content-type': 'application/x-www-form-urlencoded' }

test('micro api: serves the registry on the printed address; SIGTERM stops it with 0', async () => {
  const namespace = `gw-cli-${process.pid}-${Date.now().toString(36)}`
  const registry = new MdnsRegistry()
  const greeter = await startService(registry, 'greeter', [new Greeter()], { namespace })
  const api = spawnNode(['dist/cli/main.js', 'api', '--address', '127.0.0.1:0', '--namespace', namespace], {
    MICRO_LOG_LEVEL: 'silent',
  })
  try {
    const address = (await api.waitFor(/serving on http:\/\/(\S+)/, 20_000))[1] as string
    assert.match(api.stdout(), /curl -XPOST/)
    const base = `http://${address}`
    // mDNS discovery may need a moment: wait for the first success, not a fixed time.
    let first = await httpCall(base, 'POST', '/api/greeter/hello', '{"name":"Alice"}', FORM)
    while (first.status === 404)
      first = await httpCall(base, 'POST', '/api/greeter/hello', '{"name":"Alice"}', FORM)
    assert.deepEqual([first.status, first.body], [200, { message: 'Hello Alice' }])
    const dotted = await httpCall(base, 'POST', '/api/greeter/Greeter.Hello', '{"name":"Bob"}', FORM)
    assert.deepEqual(dotted.body, { message: 'Hello Bob' })
    const rpc = await httpCall(
      base,
      'POST',
      '/rpc',
      '{"service":"greeter","endpoint":"Greeter.Hello","request":{"name":"Carol"}}',
      FORM,
    )
    assert.deepEqual(rpc.body, { message: 'Hello Carol' })
    assert.equal((await httpCall(base, 'GET', '/health/ready', undefined)).status, 200)
    api.process.kill('SIGTERM')
    assert.equal(await api.exited, 0)
  } finally {
    api.process.kill('SIGKILL')
    await greeter.stop()
    await registry.close()
  }
})

test('micro api: bad options are usage errors (exit 2) naming the option', async () => {
  const bad = await runNode(['dist/cli/main.js', 'api', '--rate_limit', 'lots'])
  assert.equal(bad.code, 2)
  assert.match(bad.stderr, /--rate_limit/)
  const taken = await runNode(['dist/cli/main.js', 'api', '--address', 'nonsense'])
  assert.equal(taken.code, 1)
  assert.match(taken.stderr, /address nonsense has no port/)
})
