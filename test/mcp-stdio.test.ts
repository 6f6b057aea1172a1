import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { randomUUID } from 'node:crypto'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { after, before, describe, test } from 'node:test'
import { Client, type Tool } from '@modelcontextprotocol/client'
import { StdioClientTransport } from '@modelcontextprotocol/client/stdio'
import { FileEvents } from '../src/events/file.js'
import type { Service } from '../src/service/service.js'
import { FileStore } from '../src/store/file.js'
import { Greeter, startService } from './support/mcp.js'
import { until } from './support/until.js'

// `micro mcp serve --dev` as a child process (the built CLI), driven by the official SDK's
// client over stdio in both protocol eras, against real services found over mDNS in a
// namespace of its own, and a file store and file events shared with this process.

const namespace = `mcp-${randomUUID().slice(0, 8)}`
let dir: string
let env: Record<string, string>
let greeter: Service
let store: FileStore
let events: FileEvents

class Extra {
  async Ping() {
    return { pong: true }
  }
}

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'micro-mcp-stdio-'))
  env = {}
  for (const [key, value] of Object.entries(process.env)) {
    if (value !== undefined && !/^MICRO_(PLATFORM|REGISTRY|NAMESPACE|AUTH_TOKEN|STORE|EVENTS)/.test(key))
      env[key] = value
  }
  Object.assign(env, {
    MICRO_CONFIG_DIR: join(dir, 'config'),
    MICRO_NAMESPACE: namespace,
    MICRO_STORE: 'file',
    MICRO_STORE_ADDRESS: join(dir, 'store'),
    MICRO_EVENTS: 'file',
    MICRO_EVENTS_ADDRESS: join(dir, 'events'),
    MICRO_LOG_LEVEL: 'warn',
  })
  greeter = await startService(undefined, 'greeter', [new Greeter()], { namespace })
  store = new FileStore({ directory: join(dir, 'store') })
  await store.write('answer', { value: 42 }, { namespace })
  events = new FileEvents({ directory: join(dir, 'events') })
  await events.publish('orders', { order: 1 }, { namespace })
  // A real dead letter: a group that gives up on the event at once.
  const consumer = events.consume('orders', {
    namespace,
    group: 'billing',
    retryLimit: 0,
    offset: 1,
    ack: 'manual',
  })
  for await (const event of consumer) {
    await event.nack('no card on file')
    break
  }
  consumer.stop()
})

after(async () => {
  await greeter?.stop()
  await events?.close()
  await store?.close()
  await rm(dir, { recursive: true, force: true })
})

function serve(args: string[] = ['--dev']) {
  return new StdioClientTransport({
    command: process.execPath,
    args: ['dist/cli/main.js', 'mcp', 'serve', ...args],
    env,
    stderr: 'pipe',
  })
}

for (const mode of ['legacy', '2026-07-28'] as const) {
  describe(`micro mcp serve over stdio (${mode === 'legacy' ? '2025-11-25' : '2026-07-28'})`, () => {
    let client: Client
    const changes: string[][] = []
    before(async () => {
      client = new Client(
        { name: 'stdio-test', version: '1.0.0' },
        {
          versionNegotiation: { mode: mode === 'legacy' ? 'legacy' : { pin: mode } },
          listChanged: {
            tools: {
              debounceMs: 0,
              onChanged: (error: Error | null, tools: Tool[] | null) => {
                if (!error && tools) changes.push(tools.map((t) => t.name))
              },
            },
          },
        },
      )
      await client.connect(serve())
    })
    after(async () => {
      await client.close()
    })

    test('lists the endpoint tools and the developer tools', async () => {
      const names = (await client.listTools()).tools.map((t) => t.name)
      for (const name of ['greeter_Greeter_Hello', 'greeter_Greeter_Refuse', 'get_services', 'call_endpoint'])
        assert.ok(names.includes(name), `${name} in ${names.join(', ')}`)
      for (const name of ['store_read', 'get_event_topics', 'get_events', 'get_dead_letters'])
        assert.ok(names.includes(name), `${name} in ${names.join(', ')}`)
      assert.ok(!names.includes('micro_store_read'), 'platform tools are off unless asked for')
    })

    test('calls an endpoint tool; a service error is isError with the error JSON', async () => {
      const hello = await client.callTool({ name: 'greeter_Greeter_Hello', arguments: { name: 'Stdio' } })
      assert.deepEqual(hello.structuredContent, { message: 'Hello Stdio' })
      const refused = await client.callTool({ name: 'greeter_Greeter_Refuse', arguments: {} })
      assert.equal(refused.isError, true)
      assert.deepEqual(refused.structuredContent, {
        id: 'greeter',
        code: 409,
        detail: 'not yours',
        status: 'Conflict',
      })
    })

    test('developer tools: services, call_endpoint, store, events and dead letters', async () => {
      const services = await client.callTool({ name: 'get_services', arguments: {} })
      const list = (
        services.structuredContent as { services: { name: string; endpoints: { name: string }[] }[] }
      ).services
      const found = list.find((s) => s.name === 'greeter')
      assert.ok(found?.endpoints.some((e) => e.name === 'Greeter.Hello'))
      const called = await client.callTool({
        name: 'call_endpoint',
        arguments: { service: 'greeter', endpoint: 'Greeter.Hello', request: { name: 'Dev' } },
      })
      assert.deepEqual(called.structuredContent, { message: 'Hello Dev' })
      const record = await client.callTool({ name: 'store_read', arguments: { key: 'answer' } })
      assert.deepEqual((record.structuredContent as { value: unknown }).value, { value: 42 })
      const missing = await client.callTool({ name: 'store_read', arguments: { key: 'nope' } })
      assert.equal(missing.isError, true)
      assert.equal((missing.structuredContent as { code: number }).code, 404)
      const read = await client.callTool({ name: 'get_events', arguments: { topic: 'orders' } })
      const got = (read.structuredContent as { events: { payload: unknown }[] }).events
      assert.deepEqual(got[0]?.payload, { order: 1 })
      const dead = await client.callTool({ name: 'get_dead_letters', arguments: { topic: 'orders' } })
      const letters = (dead.structuredContent as { events: { metadata: Record<string, string> }[] }).events
      assert.match(letters[0]?.metadata['dead-letter-reason'] ?? '', /no card on file/)
      const topics = await client.callTool({ name: 'get_event_topics', arguments: {} })
      const t = (topics.structuredContent as { topics: { topic: string }[] }).topics.map((x) => x.topic)
      assert.ok(t.includes('orders') && t.includes('orders.dead'), t.join(', '))
      const bad = await client.callTool({ name: 'get_events', arguments: { topic: 'orders', limit: 'many' } })
      assert.equal(bad.isError, true)
      assert.match((bad.structuredContent as { detail: string }).detail, /limit must be a whole number/)
    })

    test('a service registering shows up as tools and is announced (tools/list_changed)', async () => {
      const extra = await startService(undefined, 'extra', [new Extra()], { namespace })
      try {
        await until(() => changes.some((names) => names.includes('extra_Extra_Ping')), 'list_changed', 20_000)
        const pong = await client.callTool({ name: 'extra_Extra_Ping', arguments: {} })
        assert.deepEqual(pong.structuredContent, { pong: true })
      } finally {
        await extra.stop()
      }
      await until(() => !(changes.at(-1) ?? []).includes('extra_Extra_Ping'), 'extra gone', 20_000)
    })
  })
}

describe('bad input over stdio', () => {
  test('parse errors, invalid messages and oversized lines are answered; the server keeps serving', async () => {
    const child = spawn(process.execPath, ['dist/cli/main.js', 'mcp', 'serve'], {
      env,
      stdio: ['pipe', 'pipe', 'pipe'],
    })
    const kill = () => child.kill('SIGKILL')
    process.once('exit', kill)
    const replies: any[] = []
    createInterface({ input: child.stdout }).on('line', (line) => replies.push(JSON.parse(line)))
    try {
      child.stdin.write('{"jsonrpc": "2.0", "id": 1, "method": \n')
      await until(() => replies.length >= 1, 'the parse error')
      assert.equal(replies[0].error.code, -32700)
      child.stdin.write('{"hello": "world", "id": 5}\n')
      await until(() => replies.length >= 2, 'the invalid request')
      assert.equal(replies[1].error.code, -32600)
      assert.equal(replies[1].id, 5)
      child.stdin.write(
        `{"jsonrpc":"2.0","id":2,"method":"tools/list","params":{"x":"${'y'.repeat(5 * 1024 * 1024)}"}}\n`,
      )
      await until(() => replies.length >= 3, 'the oversized line', 20_000)
      assert.equal(replies[2].error.code, -32600)
      assert.match(replies[2].error.message, /over the \d+-byte limit/)
      const init = {
        jsonrpc: '2.0',
        id: 3,
        method: 'initialize',
        params: {
          protocolVersion: '2025-11-25',
          capabilities: {},
          clientInfo: { name: 'raw', version: '1' },
        },
      }
      child.stdin.write(`${JSON.stringify(init)}\n`)
      await until(() => replies.length >= 4, 'the initialize answer')
      assert.equal(replies[3].id, 3)
      assert.equal(replies[3].result.protocolVersion, '2025-11-25')
      child.stdin.write('{"jsonrpc":"2.0","method":"notifications/initialized"}\n')
      child.stdin.write(
        '{"jsonrpc":"2.0","id":4,"method":"tools/call","params":{"name":"no_such_tool","arguments":{}}}\n',
      )
      await until(() => replies.length >= 5, 'the unknown tool')
      assert.equal(replies[4].error.code, -32602)
      child.stdin.write(
        '{"jsonrpc":"2.0","id":6,"method":"tools/call","params":{"name":"greeter_Greeter_Hello","arguments":{"name":"again"}}}\n',
      )
      await until(() => replies.length >= 6, 'a good call')
      assert.deepEqual(replies[5].result.structuredContent, { message: 'Hello again' })
      child.stdin.end()
      const code = await new Promise<number | null>((resolve) => child.once('exit', (exit) => resolve(exit)))
      assert.equal(code, 0, 'stdin closed: the server exits cleanly')
    } finally {
      process.off('exit', kill)
      child.kill('SIGKILL')
    }
  })
})
