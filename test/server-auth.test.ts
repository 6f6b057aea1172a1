import assert from 'node:assert/strict'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'
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

// Issue 12's flow against a real `micro server --auth` child process: the one-time login
// line, `micro login --token`, 401s until a rule opens the gateway, namespaces that refuse
// each other's tokens on the gateway and the platform port, and the runtime's services
// running with identities of their own.

let home: ServerHome
let server: ServerChild
let greeter: Child
let ns: string

/** POST to the platform port's HTTP side (`/Store/Read`) with a bearer token. */
function platformCall(endpoint: string, body: unknown, token?: string) {
  return post(
    server.platform,
    `/${endpoint.replace('.', '/')}`,
    body,
    token ? { authorization: `Bearer ${token}` } : {},
  )
}

async function login(namespace: string, id: string, secret: string): Promise<string> {
  const r = await platformCall('Auth.Login', { namespace, id, secret })
  assert.equal(r.status, 200, JSON.stringify(r.body))
  return r.body.token.accessToken as string
}

before(async () => {
  home = serverHome()
  ns = home.env.MICRO_NAMESPACE as string
  server = await startServerChild(home, ['--auth'])
  greeter = await startGreeter(home)
})

after(async () => {
  greeter?.process.kill('SIGTERM')
  await greeter?.exited
  await server?.stop()
  await home?.remove()
})

describe('micro server --auth', () => {
  test('prints the one-time login line; micro login --token works once', async () => {
    assert.match(server.child.stdout(), /auth enforced/)
    assert.ok(server.bootstrapToken, server.child.stdout())
    const first = await cli(home, server, ['login', '--token', server.bootstrapToken as string])
    assert.equal(first.code, 0, first.stderr)
    const again = await cli(home, server, ['login', '--token', server.bootstrapToken as string], {
      MICRO_CONFIG_DIR: join(home.dir, 'other-cli'),
    })
    assert.notEqual(again.code, 0, 'the bootstrap token is single use')
    // No log line of the server holds it.
    assert.doesNotMatch(server.child.stderr(), new RegExp(server.bootstrapToken as string))
  })

  test('the gateway answers 401 without a token until a rule opens the endpoint', async () => {
    const refused = await post(server.http, '/api/greeter/hello', { name: 'Alice' })
    assert.equal(refused.status, 401)
    assert.equal(refused.body.code, 401)
    assert.equal((await fetch(`http://${server.http}/openapi.json`)).status, 401)
    assert.equal((await post(server.http, '/v1/traces', { resourceSpans: [] })).status, 401)
    assert.equal((await fetch(`http://${server.http}/dashboard/api/services`)).status, 401)
    const rule = await cli(home, server, [
      'auth',
      'create',
      'rule',
      'public-greeter',
      '--scope',
      '',
      '--resource',
      'service:greeter:*',
    ])
    assert.equal(rule.code, 0, rule.stderr)
    const opened = await waitUntil(async () => {
      const r = await post(server.http, '/api/greeter/hello', { name: 'Alice' })
      return r.status === 200 ? r.body : undefined
    }, 'the public rule to let the call through')
    assert.deepEqual(opened, { message: 'Hello Alice' })
    const deleted = await cli(home, server, ['auth', 'delete', 'rule', 'public-greeter'])
    assert.equal(deleted.code, 0, deleted.stderr)
    assert.equal((await post(server.http, '/api/greeter/hello', { name: 'Alice' })).status, 401)
  })

  test("a token of one namespace is refused in another, on the gateway and the platform's blocks", async () => {
    const members = await cli(home, server, [
      'auth',
      'create',
      'rule',
      'members',
      '--scope',
      '*',
      '--resource',
      'service:greeter:*',
    ])
    assert.equal(members.code, 0, members.stderr)
    for (const [namespace, id] of [
      [ns, 'carol'],
      ['other', 'bob'],
    ] as const) {
      const created = await cli(
        home,
        server,
        ['auth', 'create', 'account', id, '--secret-stdin', '--namespace', namespace],
        {},
        `${id}-secret-123\n`,
      )
      assert.equal(created.code, 0, created.stderr)
    }
    const carol = await login(ns, 'carol', 'carol-secret-123')
    const bob = await login('other', 'bob', 'bob-secret-123')
    const asCarol = await post(
      server.http,
      '/api/greeter/hello',
      { name: 'C' },
      { authorization: `Bearer ${carol}` },
    )
    assert.equal(asCarol.status, 200, JSON.stringify(asCarol.body))
    // Bob names carol's namespace (Micro-Namespace): refused by its rules' namespace check.
    const asBob = await post(
      server.http,
      '/api/greeter/hello',
      { name: 'B' },
      { authorization: `Bearer ${bob}`, 'micro-namespace': ns },
    )
    assert.equal(asBob.status, 403, JSON.stringify(asBob.body))
    assert.match(asBob.body.detail, new RegExp(`of namespace other may not act in namespace ${ns}`))
    // Without the header he is in his own namespace, where no rule lets him call anything.
    const bobAtHome = await post(
      server.http,
      '/api/greeter/hello',
      { name: 'B' },
      { authorization: `Bearer ${bob}` },
    )
    assert.equal(bobAtHome.status, 403, JSON.stringify(bobAtHome.body))
    assert.match(bobAtHome.body.detail, /no rule grants access/)

    // The platform port: bob may not read the namespace's store, events or registry.
    for (const [endpoint, body] of [
      ['Store.Read', { namespace: ns, key: 'x' }],
      ['Events.Read', { namespace: ns, topic: 'orders' }],
      ['Registry.ListServices', { namespace: ns }],
    ] as const) {
      const r = await platformCall(endpoint, body, bob)
      assert.ok(r.status === 401 || r.status === 403, `${endpoint}: ${r.status} ${JSON.stringify(r.body)}`)
    }
    // Carol, a plain user of the namespace, may not write its registry or read its store.
    const register = await platformCall(
      'Registry.Register',
      { namespace: ns, service: { name: 'fake', version: '1', metadata: {}, endpoints: [], nodes: [] } },
      carol,
    )
    assert.equal(register.status, 403, JSON.stringify(register.body))
    const store = await platformCall('Store.Read', { namespace: ns, key: 'x' }, carol)
    assert.equal(store.status, 403, JSON.stringify(store.body))
    // Without a token nothing is served but login.
    assert.equal((await platformCall('Store.Read', { namespace: ns, key: 'x' })).status, 401)
  })

  test('micro run -d under auth: the service runs with its own identity and its secret shows nowhere', async () => {
    const folder = join(home.dir, 'secure')
    writeServiceFolder(folder, 'secure', '1.0.0')
    const created = await cli(home, server, ['run', '-d', folder])
    assert.equal(created.code, 0, created.stderr)
    await waitUntil(async () => {
      const r = await cli(home, server, ['status', 'secure', '--json'])
      const [status] = r.code === 0 ? (JSON.parse(r.stdout) as any[]) : []
      return status?.status === 'running' ? status : undefined
    }, 'the service to run (it registers through the platform with its own token)')
    const status = await cli(home, server, ['status', 'secure', '--json'])
    assert.doesNotMatch(status.stdout, /MICRO_AUTH_SECRET/)
    const accounts = await cli(home, server, ['auth', 'list', 'accounts', '--namespace', ns])
    assert.equal(accounts.code, 0, accounts.stderr)
    assert.match(accounts.stdout, /secure/)
    // The admin (the CLI's login) may call it through the platform's proxy.
    const called = await waitUntil(async () => {
      const r = await cli(home, server, ['call', 'secure', 'Counter.Version', '{}'])
      return r.code === 0 ? r.stdout : undefined
    }, 'a call through the platform')
    assert.equal(JSON.parse(called).version, '1.0.0')
    const killed = await cli(home, server, ['kill', 'secure'])
    assert.equal(killed.code, 0, killed.stderr)
    const after = await cli(home, server, ['auth', 'list', 'accounts', '--namespace', ns])
    assert.doesNotMatch(after.stdout, /secure/, 'killing the service deletes its account')
  })
})
