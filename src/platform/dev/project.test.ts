import assert from 'node:assert/strict'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, describe, test } from 'node:test'
import { DefinitionError } from '../../definition/problems.js'
import { findProjectFile, loadProject } from './project.js'

const work = mkdtempSync(join(tmpdir(), 'micro-project-'))
after(() => rmSync(work, { recursive: true, force: true }))

let n = 0
function project(name: string, text: string, folders: string[] = ['users', 'orders']): string {
  const dir = join(work, `p${n++}`)
  for (const folder of folders) mkdirSync(join(dir, folder), { recursive: true })
  writeFileSync(join(dir, name), text)
  return join(dir, name)
}

async function problems(file: string, environment?: string): Promise<string> {
  try {
    await loadProject(file, environment)
  } catch (error) {
    assert.ok(error instanceof DefinitionError, String(error))
    return error.detail
  }
  assert.fail('expected a DefinitionError')
}

describe('project file', () => {
  test('micro.toml: services with paths, depends, port; variables per environment (own over shared)', async () => {
    const file = project(
      'micro.toml',
      `[services.users]
path = "./users"
port = 9001
[services.users.env.prod]
GREETING = "users-prod"
LIMIT = 5

[services.orders]
path = "orders"
depends = ["users"]

[env.development]
GREETING = "dev"
[env.prod]
GREETING = "prod"
DEBUG = false
`,
    )
    const dev = await loadProject(file)
    assert.equal(dev.environment, 'development')
    assert.deepEqual(dev.environments, ['development', 'prod'])
    const [users, orders] = dev.services
    assert.deepEqual(users, {
      name: 'users',
      source: join(file, '..', 'users'),
      depends: [],
      env: { GREETING: 'dev' },
      port: 9001,
    })
    assert.deepEqual(orders?.depends, ['users'])
    const prod = await loadProject(file, 'prod')
    assert.deepEqual(prod.services[0]?.env, { GREETING: 'users-prod', LIMIT: '5', DEBUG: 'false' })
    assert.deepEqual(prod.services[1]?.env, { GREETING: 'prod', DEBUG: 'false' })
  })

  test("micro.json in Go Micro's shape (deploy blocks are accepted and ignored)", async () => {
    const file = project(
      'micro.json',
      JSON.stringify({
        services: {
          users: { path: './users', port: 8081 },
          orders: { path: './orders', depends: ['users'] },
        },
        env: { development: { STORE_ADDRESS: 'file://./data' } },
        deploy: { prod: { ssh: 'deploy@example.com' } },
      }),
    )
    const loaded = await loadProject(file)
    assert.deepEqual(
      loaded.services.map((s) => [s.name, s.depends, s.env.STORE_ADDRESS]),
      [
        ['users', [], 'file://./data'],
        ['orders', ['users'], 'file://./data'],
      ],
    )
  })

  test('every problem is listed at once, each with its key', async () => {
    const file = project(
      'micro.toml',
      `servces = 1
[services.users]
path = "./users"
port = 70000
depend = ["x"]
[services.orders]
path = "./nowhere"
depends = ["payments"]
[services.Bad_Name]
path = "./users"
[services.nopath]
[env.development]
MICRO_NAMESPACE = "other"
"bad-name" = "x"
LIST = [1, 2]
`,
    )
    const detail = await problems(file)
    for (const expected of [
      /servces: is not a known field\. Fix: did you mean services\?/,
      /services\.users\.port: must be a whole number from 1 to 65535/,
      /services\.users\.depend: is not a known field\. Fix: did you mean depends\?/,
      /services\.orders\.path: \.\/nowhere does not exist/,
      /services\.orders\.depends: names payments, which is not a service here/,
      /services\.Bad_Name: is not a valid service name/,
      /services\.nopath\.path: is required/,
      /env\.development\.MICRO_NAMESPACE: is set by micro run/,
      /env\.development\.bad-name: is not a valid variable name/,
      /env\.development\.LIST: must be a string, number or boolean/,
    ]) {
      assert.match(detail, expected)
    }
  })

  test('an environment the file does not define is an error naming the ones it has', async () => {
    const file = project(
      'micro.toml',
      `[services.users]\npath = "users"\n[env.dev]\nA = "1"\n[env.prod]\nA = "2"\n`,
    )
    assert.match(await problems(file, 'staging'), /env: has no environment "staging" \(it has dev, prod\)/)
    // Without any env block, any environment is fine (there is nothing to choose).
    const plain = project('micro.toml', `[services.users]\npath = "users"\n`)
    assert.equal((await loadProject(plain, 'staging')).environment, 'staging')
  })

  test('two services on one port, a syntax error, an empty file', async () => {
    const ports = project(
      'micro.toml',
      `[services.users]\npath = "users"\nport = 9000\n[services.orders]\npath = "orders"\nport = 9000\n`,
    )
    assert.match(await problems(ports), /services\.orders\.port: 9000 is also users's port/)
    assert.match(await problems(project('micro.toml', 'services = [')), /syntax: /)
    assert.match(await problems(project('micro.json', '{"services": ')), /syntax: /)
    assert.match(await problems(project('micro.toml', '')), /services: lists no service/)
  })

  test('findProjectFile: micro.toml or micro.json, none, or both (an error)', async () => {
    const dir = join(work, 'find')
    mkdirSync(dir, { recursive: true })
    assert.equal(await findProjectFile(dir), undefined)
    writeFileSync(join(dir, 'micro.json'), '{}')
    assert.equal(await findProjectFile(dir), join(dir, 'micro.json'))
    writeFileSync(join(dir, 'micro.toml'), '')
    await assert.rejects(findProjectFile(dir), /both micro\.toml and micro\.json exist/)
  })
})
