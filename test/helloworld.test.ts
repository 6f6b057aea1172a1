import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { randomUUID } from 'node:crypto'
import { after, before, describe, test } from 'node:test'
import { promisify } from 'node:util'
import { MicroError } from '../src/errors/errors.js'
import { createLogger } from '../src/logger/logger.js'
import { MdnsRegistry } from '../src/registry/mdns.js'
import { createService, type Service } from '../src/service/service.js'
import { type Child, runNode, spawnNode } from './support/process.js'

const run = promisify(execFile)
const namespace = `hw-${randomUUID().slice(0, 8)}`
const env = { MICRO_NAMESPACE: namespace, MICRO_LOG_LEVEL: 'warn' }
const cli = (...args: string[]) => runNode(['dist/cli/main.js', ...args, '--namespace', namespace])

describe('examples/helloworld as a separate process', () => {
  let child: Child
  let address: string
  let caller: Service
  const registry = new MdnsRegistry({ queryTimeout: 1000 })

  before(async () => {
    child = spawnNode(['build/examples/helloworld/main.js'], env)
    address = (await child.waitFor(/serving on (\S+)/))[1] as string
    caller = createService({
      name: 'hw-caller',
      namespace,
      logger: createLogger({ level: 'warn' }),
      handleSignals: false,
      // The default mDNS registry, gathering answers for a second instead of 100 ms: a
      // loaded machine can take longer than that to let the example answer.
      registry,
    })
  })
  after(async () => {
    await caller.stop()
    await registry.close()
    child.process.kill('SIGKILL')
  })

  test('found by mDNS and called over the micro protocol', async () => {
    const greeter = caller.client.service<{
      Hello(req: { name: string }): Promise<{ message: string; from: string }>
    }>('greeter')
    const reply = await greeter.Hello({ name: 'Alice' })
    assert.deepEqual(reply, { message: 'Hello Alice', from: 'hw-caller' })
  })

  test('streams over the micro protocol', async () => {
    const stream = caller.client.stream<{ name: string }, { message: string }>('greeter', 'Greeter.Chat')
    await stream.send({ name: 'A' })
    await stream.send({ name: 'B' })
    await stream.closeSend()
    const messages: string[] = []
    for await (const m of stream) messages.push(m.message)
    assert.deepEqual(messages, ['Hello A', 'Hello B'])
  })

  test('answers the Go Micro curl call and POST /Greeter/Hello', async () => {
    const { stdout } = await run('curl', [
      '-s',
      '-XPOST',
      '-H',
      'Content-Type: application/json',
      '-H',
      'Micro-Endpoint: Greeter.Hello',
      '-d',
      '{"name":"Alice"}',
      `http://${address}`,
    ])
    assert.deepEqual(JSON.parse(stdout), { message: 'Hello Alice', from: 'http' })
    const res = await fetch(`http://${address}/Greeter/Hello`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"name":"Bob"}',
    })
    assert.equal(res.status, 200)
    assert.deepEqual(await res.json(), { message: 'Hello Bob', from: 'http' })
    const missing = await fetch(`http://${address}/Greeter/Nope`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{}',
    })
    assert.equal(missing.status, 404)
    assert.equal(((await missing.json()) as { code: number }).code, 404)
    assert.match(missing.headers.get('micro-error') ?? '', /"code":404/)
  })

  test('the CLI calls, lists and describes it, with clear errors', async () => {
    const call = await cli('call', 'greeter', 'Greeter.Hello', '{"name":"Alice"}')
    assert.equal(call.code, 0, call.stderr)
    assert.deepEqual(JSON.parse(call.stdout), { message: 'Hello Alice', from: 'the CLI' })
    const services = await cli('services')
    assert.equal(services.code, 0)
    assert.match(services.stdout, /greeter {2}1\.0\.0 {2}\(1 node\)/)
    assert.match(services.stdout, /endpoint {2}Greeter\.Chat {2}\(stream\)/)
    const described = await cli('describe', 'greeter')
    assert.equal(JSON.parse(described.stdout)[0].endpoints.length, 2)
    const unknownService = await cli('call', 'nosuch', 'X.Y', '{}')
    assert.equal(unknownService.code, 1)
    assert.match(unknownService.stderr, /service nosuch not found in namespace/)
    const unknownEndpoint = await cli('call', 'greeter', 'Greeter.Hullo', '{}')
    assert.equal(unknownEndpoint.code, 1)
    assert.match(unknownEndpoint.stderr, /no endpoint Greeter.Hullo; it has: Greeter.Chat, Greeter.Hello/)
    const badJson = await cli('call', 'greeter', 'Greeter.Hello', '{name:')
    assert.equal(badJson.code, 2)
    assert.match(badJson.stderr, /not valid JSON/)
    const help = await runNode(['dist/cli/main.js', 'call', '--help'])
    assert.equal(help.code, 0)
    assert.match(help.stdout, /Usage: micro call/)
    // A name that is no command is a service (a dynamic command); no such service is exit 1.
    const unknownCommand = await cli('frobnicate')
    assert.equal(unknownCommand.code, 1)
    assert.match(
      unknownCommand.stderr,
      /no service named frobnicate in namespace .*; micro services lists them/,
    )
    const dynamic = await cli('greeter', 'hello', '--name=Dyn')
    assert.equal(dynamic.code, 0, dynamic.stderr)
    assert.deepEqual(JSON.parse(dynamic.stdout), { message: 'Hello Dyn', from: 'the CLI' })
  })

  test('SIGTERM deregisters, lets the open stream finish, and exits 0', async () => {
    const other = spawnNode(['build/examples/helloworld/main.js'], { ...env, MICRO_SHUTDOWN_TIMEOUT: '60s' })
    const otherAddress = (await other.waitFor(/serving on (\S+)/))[1] as string
    assert.equal((await caller.registry.getService('greeter', { namespace }))[0]?.nodes.length, 2)
    const stream = caller.client.stream<{ name: string }, { message: string }>('greeter', 'Greeter.Chat', {
      address: otherAddress,
    })
    await stream.send({ name: 'before' })
    const replies = stream[Symbol.asyncIterator]()
    assert.deepEqual((await replies.next()).value, { message: 'Hello before' })
    other.process.kill('SIGTERM')
    // Gone from the registry once its goodbye is out: asked again until then (bounded).
    const addresses = async () =>
      ((await caller.registry.getService('greeter', { namespace }))[0]?.nodes ?? []).map((n) => n.address)
    const end = Date.now() + 15_000
    let left = await addresses()
    while (left.length > 1 && Date.now() < end) left = await addresses()
    assert.deepEqual(left, [address], 'the stopping node is gone from the registry')
    assert.equal(other.process.exitCode, null, 'it waits for the open stream')
    await stream.send({ name: 'during' })
    assert.deepEqual((await replies.next()).value, { message: 'Hello during' })
    await stream.closeSend()
    assert.equal((await replies.next()).done, true)
    assert.equal(await other.exited, 0)
  })

  test('a second signal during a slow shutdown exits at once', async () => {
    const other = spawnNode(['build/examples/helloworld/main.js'], { ...env, MICRO_SHUTDOWN_TIMEOUT: '60s' })
    const otherAddress = (await other.waitFor(/serving on (\S+)/))[1] as string
    const stream = caller.client.stream<{ name: string }, { message: string }>('greeter', 'Greeter.Chat', {
      address: otherAddress,
    })
    await stream.send({ name: 'hold' })
    const replies = stream[Symbol.asyncIterator]()
    await replies.next()
    other.process.kill('SIGTERM')
    await new Promise((r) => setTimeout(r, 200))
    assert.equal(other.process.exitCode, null, 'the first signal waits for the open stream')
    const sent = Date.now()
    other.process.kill('SIGTERM')
    assert.equal(await other.exited, 143)
    assert.ok(Date.now() - sent < 2000)
    await assert.rejects(replies.next(), (e: unknown) => e instanceof MicroError && e.code === 503)
  })

  test('errors from the service reach the client as MicroErrors', async () => {
    await assert.rejects(
      caller.client.call('greeter', 'Greeter.Nope', {}),
      (e: unknown) => e instanceof MicroError && e.code === 404 && e.id === 'greeter',
    )
  })
})
