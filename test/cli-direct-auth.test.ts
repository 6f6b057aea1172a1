import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { after, before, describe, test } from 'node:test'
import { DEFAULT_PLATFORM_ADDRESS, readCliConfig, writeCliConfig } from '../src/cli/environments.js'
import { createLogger } from '../src/logger/logger.js'
import { createService, type Service } from '../src/service/service.js'
import { runCli } from './support/cli.js'
import {
  cli,
  post,
  type ServerChild,
  type ServerHome,
  serverHome,
  startServerChild,
} from './support/server.js'

// The CLI's direct session (no environment, no --platform: the registry on this machine and
// calls straight to the service) sends the user's token, as the platform session does: a
// service that enforces auth refuses the anonymous `micro call` and takes it after `micro
// login`, or with MICRO_AUTH_TOKEN. Against a real `micro server --auth` child (it issues
// the tokens and the keys the service verifies them with); the service finds its callers
// through mDNS, in a namespace of its own.

class Greeter {
  async Hello(req: { name?: string }) {
    return { message: `Hello ${req?.name ?? 'stranger'}` }
  }
  async *Chat(input: AsyncIterable<{ name: string }>) {
    for await (const req of input) yield { message: `Hello ${req.name}` }
  }
}

let home: ServerHome
let server: ServerChild
let service: Service
let ns: string
const name = `greeter-${randomUUID().slice(0, 8)}`

/** The built CLI on this machine directly: the home's environment without MICRO_PLATFORM. */
function direct(args: string[], env: Record<string, string | undefined> = {}, input?: string) {
  return runCli(args, { ...home.env, ...env }, input)
}

before(async () => {
  home = serverHome()
  ns = home.env.MICRO_NAMESPACE as string
  server = await startServerChild(home, ['--auth'])
  const admin = await cli(home, server, ['login', '--token', server.bootstrapToken as string])
  assert.equal(admin.code, 0, admin.stderr)
  const created = await cli(
    home,
    server,
    ['auth', 'create', 'account', 'carol', '--secret-stdin'],
    {},
    'carol-secret-1\n',
  )
  assert.equal(created.code, 0, created.stderr)
  // Enforces auth: keys from the platform, and (no credentials of its own) any account of its namespace.
  service = createService({
    name,
    namespace: ns,
    auth: { platform: server.platform },
    logger: createLogger({ level: 'silent' }),
    handleSignals: false,
    env: {},
  })
  service.handle(new Greeter())
  await service.start()
})

after(async () => {
  await service?.stop()
  await server?.stop()
  await home?.remove()
})

describe('CLI direct sessions carry the user token', () => {
  test('anonymous: micro call and a streaming call are refused (401)', async () => {
    const unary = await direct(['call', name, 'Greeter.Hello', '{"name":"Ann"}'])
    assert.notEqual(unary.code, 0, unary.stdout)
    assert.match(unary.stderr, /"code":401/)
    const stream = await direct(['call', name, 'Greeter.Chat', '[{"name":"A"}]'])
    assert.notEqual(stream.code, 0, stream.stdout)
    assert.match(stream.stderr, /"code":401/)
  })

  test('with MICRO_AUTH_TOKEN: micro call, the dynamic command and a stream are accepted', async () => {
    // The platform port's HTTP side hands out tokens.
    const login = await post(server.platform, '/Auth/Login', {
      namespace: ns,
      id: 'carol',
      secret: 'carol-secret-1',
    })
    assert.equal(login.status, 200, JSON.stringify(login.body))
    const token = login.body.token.accessToken as string
    const env = { MICRO_AUTH_TOKEN: token }
    const unary = await direct(['call', name, 'Greeter.Hello', '{"name":"Ann"}'], env)
    assert.equal(unary.code, 0, unary.stderr)
    assert.deepEqual(JSON.parse(unary.stdout), { message: 'Hello Ann' })
    const dynamic = await direct([name, 'hello', '--name', 'Bob'], env)
    assert.equal(dynamic.code, 0, dynamic.stderr)
    assert.deepEqual(JSON.parse(dynamic.stdout), { message: 'Hello Bob' })
    const stream = await direct(['call', name, 'Greeter.Chat', '[{"name":"A"},{"name":"B"}]'], env)
    assert.equal(stream.code, 0, stream.stderr)
    assert.deepEqual(
      stream.stdout
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l)),
      [{ message: 'Hello A' }, { message: 'Hello B' }],
    )
    // The token is never printed.
    assert.ok(!`${unary.stderr}${dynamic.stderr}${stream.stderr}`.includes(token))
  })

  test('after micro login: the kept login goes with direct calls; an expired one says to log in again', async () => {
    const login = await cli(
      home,
      server,
      ['login', '--id', 'carol', '--secret-stdin'],
      {},
      'carol-secret-1\n',
    )
    assert.equal(login.code, 0, login.stderr)
    // Without an environment, direct sessions use the login of this machine's platform at
    // its default address (what `micro login` with no --platform makes). The test's server
    // is on a port of its own (never 8081), so the login moves to that slot; its address
    // (where it is refreshed) stays the test server's.
    const env = { MICRO_CONFIG_DIR: home.env.MICRO_CONFIG_DIR }
    const config = (await readCliConfig(env)) as { tokens?: Record<string, Record<string, unknown>> }
    const saved = config.tokens?.[`address:${server.platform}`]
    assert.equal(saved?.account, 'carol')
    config.tokens = { [`address:${DEFAULT_PLATFORM_ADDRESS}`]: saved as Record<string, unknown> }
    await writeCliConfig(config as never, env)

    const unary = await direct(['call', name, 'Greeter.Hello', '{"name":"Cy"}'])
    assert.equal(unary.code, 0, unary.stderr)
    assert.deepEqual(JSON.parse(unary.stdout), { message: 'Hello Cy' })
    const dynamic = await direct([name, 'hello', '--name', 'Di'])
    assert.equal(dynamic.code, 0, dynamic.stderr)
    assert.deepEqual(JSON.parse(dynamic.stdout), { message: 'Hello Di' })
    const stream = await direct(['call', name, 'Greeter.Chat', '{"name":"Ed"}'])
    assert.equal(stream.code, 0, stream.stderr)
    assert.deepEqual(JSON.parse(stream.stdout), { message: 'Hello Ed' })

    // A login past its refresh expiry: the call goes without a token, and the refusal says why.
    const slot = config.tokens[`address:${DEFAULT_PLATFORM_ADDRESS}`] as Record<string, unknown>
    slot.expiry = Date.now() - 1000
    slot.refreshExpiry = Date.now() - 1000
    await writeCliConfig(config as never, env)
    const expired = await direct(['call', name, 'Greeter.Hello', '{"name":"Fay"}'])
    assert.notEqual(expired.code, 0, expired.stdout)
    assert.match(expired.stderr, /expired or was revoked: run micro login/)
    assert.match(expired.stderr, /"code":401/)
  })
})
