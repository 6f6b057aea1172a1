import assert from 'node:assert/strict'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import { Client as McpClient, StreamableHTTPClientTransport } from '@modelcontextprotocol/client'
import type { Child } from './support/process.js'
import { waitUntil } from './support/runtime.js'
import {
  cli,
  post,
  type ServerChild,
  type ServerHome,
  serverHome,
  startGreeter,
  startServerChild,
  writeServiceFolder,
} from './support/server.js'

// Issue 11's example flow against a real `micro server` child process: a service started by
// hand is found, the gateway's three forms call it, the CLI calls it through the platform,
// the runtime runs, shows, tails, rolls and kills a service folder, and environments and
// namespaces switch what commands talk to.

let home: ServerHome
let server: ServerChild
let greeter: Child

before(async () => {
  home = serverHome()
  server = await startServerChild(home)
  greeter = await startGreeter(home)
})

after(async () => {
  greeter?.process.kill('SIGTERM')
  await greeter?.exited
  await server?.stop()
  await home?.remove()
})

describe('micro server: the gateway and the platform', () => {
  test('node greeter.js & is found; the three gateway forms call it', async () => {
    const hello = await waitUntil(async () => {
      const r = await post(server.http, '/api/greeter/hello', { name: 'Alice' })
      return r.status === 200 ? r : undefined
    }, 'the gateway to find greeter')
    assert.deepEqual(hello.body, { message: 'Hello Alice' })
    const dotted = await post(server.http, '/api/greeter/Greeter.Hello', { name: 'Alice' })
    assert.equal(dotted.status, 200)
    assert.deepEqual(dotted.body, { message: 'Hello Alice' })
    const rpc = await post(server.http, '/rpc', {
      service: 'greeter',
      endpoint: 'Greeter.Hello',
      request: { name: 'Alice' },
    })
    assert.equal(rpc.status, 200)
    assert.deepEqual(rpc.body, { message: 'Hello Alice' })
    const unknown = await post(server.http, '/api/nosuchservice/hello', {})
    assert.equal(unknown.status, 404)
  })

  test('micro greeter hello --name=Alice goes through the platform (MICRO_PLATFORM)', async () => {
    const r = await cli(home, server, ['greeter', 'hello', '--name=Alice'])
    assert.equal(r.code, 0, r.stderr)
    assert.match(r.stdout, /Hello Alice/)
  })

  test('the dashboard, the OpenAPI document, the JWKS and health answer on the HTTP port', async () => {
    const page = await fetch(`http://${server.http}/`)
    assert.equal(page.status, 200)
    assert.match(await page.text(), /<html/i)
    const info = (await (await fetch(`http://${server.http}/dashboard/api/info`)).json()) as any
    assert.equal(info.features.runtime, true)
    assert.equal(info.features.traces, true)
    assert.equal(info.features.auth, true)
    const openapi = (await (await fetch(`http://${server.http}/openapi.json`)).json()) as any
    assert.ok(openapi.paths['/api/greeter/Greeter.Hello'], Object.keys(openapi.paths).join(', '))
    for (const address of [server.http, server.platform]) {
      const jwks = (await (await fetch(`http://${address}/.well-known/jwks.json`)).json()) as any
      assert.ok(Array.isArray(jwks.keys) && jwks.keys.length > 0, address)
      for (const key of jwks.keys) assert.equal(key.d, undefined)
    }
    assert.equal((await fetch(`http://${server.http}/health/ready`)).status, 200)
    assert.equal((await fetch(`http://${server.platform}/health/ready`)).status, 200)
    assert.equal((await fetch(`http://${server.http}/nothing/here`)).status, 404)
  })

  test('/mcp: an MCP client (the official SDK) lists greeter as a tool and calls it', async () => {
    const client = new McpClient({ name: 'server-flow', version: '1' })
    await client.connect(new StreamableHTTPClientTransport(new URL(`http://${server.http}/mcp`)))
    try {
      const tools = await waitUntil(async () => {
        const listed = await client.listTools()
        return listed.tools.some((t) => t.name === 'greeter_Greeter_Hello') ? listed.tools : undefined
      }, 'greeter_Greeter_Hello among the tools')
      assert.ok(tools.length > 0)
      const result = await client.callTool({ name: 'greeter_Greeter_Hello', arguments: { name: 'Alice' } })
      assert.notEqual(result.isError, true, JSON.stringify(result))
      assert.match(JSON.stringify(result.structuredContent), /Alice/)
    } finally {
      await client.close()
    }
  })
})

describe('micro server: the runtime', () => {
  test('run -d, status, logs -n, update, kill', async () => {
    const folder = join(home.dir, 'svc')
    writeServiceFolder(folder, 'svc', '1.0.0')
    const created = await cli(home, server, ['run', '-d', folder])
    assert.equal(created.code, 0, created.stderr)
    const running = await waitUntil(async () => {
      const r = await cli(home, server, ['status', 'svc', '--json'])
      const [status] = JSON.parse(r.stdout) as any[]
      return status?.status === 'running' ? status : undefined
    }, 'svc to run')
    assert.equal(running.version, '1.0.0')
    // The runtime's child uses the platform's registry (MICRO_PLATFORM): the gateway finds it.
    const called = await waitUntil(async () => {
      const r = await post(server.http, '/api/svc/Counter.Version', {})
      return r.status === 200 ? r.body : undefined
    }, 'svc through the gateway')
    assert.equal(called.version, '1.0.0')
    const logs = await waitUntil(async () => {
      const r = await cli(home, server, ['logs', 'svc', '-n', '5'])
      return r.code === 0 && /version asked/.test(r.stdout) ? r.stdout : undefined
    }, 'the log line of the call')
    assert.ok(logs.trim().split('\n').length <= 5, logs)

    writeServiceFolder(folder, 'svc', '2.0.0')
    const updated = await cli(home, server, ['update', folder])
    assert.equal(updated.code, 0, updated.stderr)
    const after = await waitUntil(async () => {
      const r = await post(server.http, '/api/svc/Counter.Version', {})
      return r.status === 200 && r.body.version === '2.0.0' ? r.body : undefined
    }, 'the new version to answer')
    assert.notEqual(after.pid, called.pid)

    const killed = await cli(home, server, ['kill', 'svc'])
    assert.equal(killed.code, 0, killed.stderr)
    const gone = await cli(home, server, ['status', 'svc'])
    assert.notEqual(gone.code, 0)
    assert.match(gone.stderr, /no service svc/)
  })
})

describe('micro server: environments and namespaces', () => {
  test('env add/set points commands at the server; user set switches the namespace', async () => {
    const unset = { MICRO_PLATFORM: undefined, MICRO_NAMESPACE: undefined }
    const added = await cli(home, undefined, ['env', 'add', 'local', server.platform], unset)
    assert.equal(added.code, 0, added.stderr)
    assert.equal((await cli(home, undefined, ['env', 'set', 'local'], unset)).code, 0)
    assert.equal(
      (await cli(home, undefined, ['user', 'set', home.env.MICRO_NAMESPACE as string], unset)).code,
      0,
    )
    // No MICRO_PLATFORM, no MICRO_NAMESPACE: the environment and its namespace say where.
    const hello = await cli(home, undefined, ['greeter', 'hello', '--name=Bob'], unset)
    assert.equal(hello.code, 0, hello.stderr)
    assert.match(hello.stdout, /Hello Bob/)
    assert.equal((await cli(home, undefined, ['user', 'set', 'shop'], unset)).code, 0)
    const status = await cli(home, undefined, ['status'], unset)
    assert.equal(status.code, 0, status.stderr)
    assert.match(status.stdout, /namespace shop/)
    const missing = await cli(home, undefined, ['greeter', 'hello', '--name=Bob'], unset)
    assert.notEqual(missing.code, 0, 'greeter is not in namespace shop')
    assert.equal((await cli(home, undefined, ['env', 'unset'], unset)).code, 0)
  })
})
