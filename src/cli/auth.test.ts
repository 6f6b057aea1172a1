import assert from 'node:assert/strict'
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Readable } from 'node:stream'
import { after, before, describe, test } from 'node:test'
import { startPlatform, type TestPlatform } from '../../test/support/auth-platform.js'
import { tokenDigest } from '../auth/secrets.js'
import { DEFAULT_AUTH_TABLES, tableOptions } from '../auth/tables.js'
import type { MicroError } from '../errors/errors.js'
import { attachDashValues } from './args.js'
import { cliAuthWrapper, cliIdentity, platformClient, savedLogin, tokenTarget } from './auth-tokens.js'
import { authCommand } from './commands/auth.js'
import { loginCommand } from './commands/login.js'
import { logoutCommand } from './commands/logout.js'
import { configFile, readCliConfig, writeCliConfig } from './environments.js'

/** micro login / logout / auth against a real platform, with the config in a temporary directory. */

let platform: TestPlatform
let dir: string
let env: NodeJS.ProcessEnv

before(async () => {
  platform = await startPlatform()
  dir = await mkdtemp(join(tmpdir(), 'micro-cli-auth-'))
  env = { MICRO_CONFIG_DIR: dir, HOME: dir }
})

after(async () => {
  await platform.close()
  await rm(dir, { recursive: true, force: true })
})

async function run(
  command: typeof authCommand,
  argv: string[],
  stdin?: string,
): Promise<{ code: number; out: string }> {
  const lines: string[] = []
  const code = await command([...argv, '--platform', platform.address], (t) => lines.push(t), {
    env,
    stdin: stdin === undefined ? undefined : Readable.from([stdin]),
  })
  return { code, out: lines.join('\n') }
}

describe('micro login and micro auth', () => {
  test('micro login --token exchanges the one-time admin token; tokens are kept 0600 per platform', async () => {
    const token = (await platform.authority.bootstrap()) as string
    const login = await run(loginCommand, ['--token', token])
    assert.equal(login.code, 0)
    assert.match(login.out, /logged in to .* as admin \(namespace micro\)/)
    assert.ok(!login.out.includes(token))
    assert.equal((await stat(configFile(env))).mode & 0o777, 0o600)
    const saved = await savedLogin(await tokenTarget(platform.address, env), env)
    assert.equal(saved?.account, 'admin')
    const printed = await run(authCommand, ['token'])
    assert.equal(printed.out, saved?.accessToken)
  })

  test('micro auth create/list/delete account and rule, and check', async () => {
    const created = await run(authCommand, [
      'create',
      'account',
      'bob',
      '--scopes',
      'orders:read,orders:write',
    ])
    assert.equal(created.code, 0)
    const secret = /secret \(shown once\): (\S+)/.exec(created.out)?.[1]
    assert.ok(secret)
    const accounts = await run(authCommand, ['list', 'accounts'])
    assert.match(accounts.out, /^ID\s+Type\s+Scopes/m)
    assert.match(accounts.out, /bob\s+user\s+orders:read,orders:write/)
    assert.ok(!accounts.out.includes(secret), 'no secret in a listing')
    assert.equal(
      (
        await run(authCommand, [
          'create',
          'rule',
          'readers',
          '--resource',
          'service:orders:*',
          '--scope',
          'orders:read',
          '--priority',
          '3',
        ])
      ).code,
      0,
    )
    const rules = await run(authCommand, ['list', 'rules'])
    assert.match(rules.out, /readers\s+orders:read\s+granted\s+service:orders:\*\s+3/)
    assert.match(rules.out, /public-auth-login\s+<public>/)
    const allowed = await run(authCommand, ['check', 'bob', 'orders', 'Orders.List'])
    assert.equal(allowed.code, 0)
    assert.match(allowed.out, /^allowed: rule readers grants access/)
    const denied = await run(authCommand, ['check', 'bob', 'billing', 'Billing.Pay'])
    assert.equal(denied.code, 1)
    assert.match(denied.out, /^denied: no rule grants access/)
    assert.equal((await run(authCommand, ['delete', 'rule', 'readers'])).code, 0)
    assert.equal((await run(authCommand, ['delete', 'account', 'bob'])).code, 0)
    await assert.rejects(run(authCommand, ['delete', 'account', 'bob']), (e: MicroError) => e.code === 404)
  })

  test('micro login --id with the secret on stdin; a wrong secret is a 401', async () => {
    await run(authCommand, ['create', 'account', 'carol', '--secret-stdin'], 'carol-secret-1\n')
    const login = await run(loginCommand, ['--id', 'carol', '--secret-stdin'], 'carol-secret-1\n')
    assert.match(login.out, /as carol/)
    await assert.rejects(
      run(loginCommand, ['--id', 'carol', '--secret-stdin'], 'wrong-secret\n'),
      (e: MicroError) => e.code === 401,
    )
    await assert.rejects(run(loginCommand, []), /either --token or --id/)
  })

  test('a token close to expiry is refreshed (rotated) before use', async () => {
    const target = await tokenTarget(platform.address, env)
    const before = await savedLogin(target, env)
    assert.ok(before)
    const config = (await readCliConfig(env)) as Awaited<ReturnType<typeof readCliConfig>> & {
      tokens: Record<string, { expiry: number }>
    }
    ;(config.tokens[target.key] as { expiry: number }).expiry = Date.now() + 1000
    await writeCliConfig(config, env)
    const printed = await run(authCommand, ['token'])
    const after = await savedLogin(target, env)
    assert.notEqual(after?.refreshToken, before.refreshToken)
    assert.equal(printed.out, after?.accessToken)
    assert.ok((after?.expiry ?? 0) > Date.now() + 60_000)
    // The refreshed token works.
    const me = await platform.call<{ account: { id: string } }>('Auth.Inspect', {}, after?.accessToken)
    assert.equal(me.account.id, 'carol')
  })

  test('the session hook sends the kept token with calls', async () => {
    const client = platformClient()
    client.wrap(cliAuthWrapper(platform.address, env))
    try {
      const me = await client.call<{ account: { id: string } }>(
        'platform',
        'Auth.Inspect',
        {},
        { address: platform.address },
      )
      assert.equal(me.account.id, 'carol')
    } finally {
      await client.close()
    }
  })

  test('MICRO_AUTH_TOKEN is the token of platform sessions and of the session hook, over any kept login', async () => {
    const fixed = { ...env, MICRO_AUTH_TOKEN: 'given-token' }
    const identity = cliIdentity(platform.address, fixed)
    assert.equal(await identity.token(), 'given-token')
    assert.equal(identity.current(), 'given-token')
    const seen: (string | undefined)[] = []
    const hook = cliAuthWrapper(
      platform.address,
      fixed,
    )(async (request) => {
      seen.push(request.options.metadata?.authorization)
      return {}
    })
    await hook({ service: 'greeter', endpoint: 'Greeter.Hello', body: {}, options: {} })
    assert.deepEqual(seen, ['Bearer given-token'])
  })

  test('micro logout revokes the login and forgets it', async () => {
    const target = await tokenTarget(platform.address, env)
    const saved = await savedLogin(target, env)
    const out = await run(logoutCommand, [])
    assert.match(out.out, /logged out/)
    assert.equal(await savedLogin(target, env), undefined)
    await assert.rejects(
      platform.call('Auth.Token', { refreshToken: saved?.refreshToken }),
      (e: MicroError) => e.code === 401,
    )
    await assert.rejects(
      run(authCommand, ['token']),
      (e: MicroError) => e.code === 401 && /micro login/.test(e.detail),
    )
    assert.match((await run(logoutCommand, [])).out, /not logged in/)
    // No token was ever written anywhere but the config file's tokens.
    assert.ok(!(await readFile(configFile(env), 'utf8')).includes(saved?.accessToken as string))
  })

  test('micro login --token <t> takes a token that starts with "-"', async () => {
    // A one-time admin token starting with '-' (as randomToken drew one in 64 before it stopped):
    // the parser used to refuse it as "--token argument is ambiguous".
    const token = '-dash-first-admin-token-0123456789abcdef'
    await platform.store.write('admin', tokenDigest(token), {
      ...tableOptions(DEFAULT_AUTH_TABLES, 'bootstrap'),
      ttl: 60_000,
    })
    const login = await run(loginCommand, ['--token', token])
    assert.equal(login.code, 0)
    assert.match(login.out, /logged in to .* as admin-/)
    assert.ok(!login.out.includes(token))
    // Used once: the same token again is refused by the platform (not by the parser).
    await assert.rejects(run(loginCommand, ['--token', token]), (e: MicroError) => e.code === 401)
  })
})

describe('command-line values starting with "-"', () => {
  const spec = {
    token: { type: 'string' },
    lines: { type: 'string', short: 'n' },
    json: { type: 'boolean' },
    help: { type: 'boolean', short: 'h' },
  } as const

  test('a value after an option that takes one is attached, by long or short name', () => {
    assert.deepEqual(attachDashValues(['--token', '-abc', 'x'], spec), ['--token=-abc', 'x'])
    assert.deepEqual(attachDashValues(['-n', '-5'], spec), ['--lines=-5'])
    assert.deepEqual(attachDashValues(['--token', '--unknown-looking'], spec), ['--token=--unknown-looking'])
  })

  test("another of the command's options is not taken as the value; nor anything after --", () => {
    assert.deepEqual(attachDashValues(['--token', '--json'], spec), ['--token', '--json'])
    assert.deepEqual(attachDashValues(['--token', '-h'], spec), ['--token', '-h'])
    assert.deepEqual(attachDashValues(['--json', '-x'], spec), ['--json', '-x'])
    assert.deepEqual(attachDashValues(['--', '--token', '-abc'], spec), ['--', '--token', '-abc'])
    assert.deepEqual(attachDashValues(['--token=-abc'], spec), ['--token=-abc'])
  })

  test('a forgotten value stays a usage error', async () => {
    await assert.rejects(run(loginCommand, ['--token', '--json']), /ambiguous|argument missing|--token/)
  })
})
