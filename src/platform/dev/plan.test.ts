import assert from 'node:assert/strict'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, describe, test } from 'node:test'
import { planServices } from './plan.js'

const work = mkdtempSync(join(tmpdir(), 'micro-plan-'))
after(() => rmSync(work, { recursive: true, force: true }))

function service(dir: string, name: string, types = '["rpc"]'): string {
  mkdirSync(dir, { recursive: true })
  writeFileSync(join(dir, 'service.toml'), `name = "${name}"\ntypes = ${types}\nversion = "v1.2.0"\n`)
  writeFileSync(join(dir, 'service.js'), 'export default {}\n')
  return dir
}

/** A DefinitionError whose detail (what the CLI prints) matches. */
async function rejectsWith(promise: Promise<unknown>, pattern: RegExp): Promise<void> {
  await assert.rejects(promise, (error: { detail?: string }) => {
    assert.match(error.detail ?? '', pattern)
    return true
  })
}

const names = (plan: Awaited<ReturnType<typeof planServices>>) => plan.services.map((s) => s.spec.name)

describe('what micro run runs', () => {
  test('folders given: one service each, named by their service.toml, kinds and ports read', async () => {
    const a = service(join(work, 'given', 'a'), 'users', '["rpc", "http:8081"]')
    const b = service(join(work, 'given', 'b'), 'orders')
    const plan = await planServices({
      targets: [a, 'b'],
      cwd: join(work, 'given'),
      environment: 'development',
    })
    assert.deepEqual(names(plan), ['users', 'orders'])
    assert.equal(plan.services[0]?.source.version, '1.2.0')
    assert.deepEqual(plan.services[0]?.kinds, [{ kind: 'rpc' }, { kind: 'http', port: 8081 }])
    assert.equal(plan.services[1]?.spec.source, b)
  })

  test('no folder: the project file here; else this service folder; else the service folders in it', async () => {
    const root = join(work, 'implicit')
    service(join(root, 'users'), 'users')
    service(join(root, 'orders'), 'orders')
    mkdirSync(join(root, 'node_modules', 'x'), { recursive: true })
    const found = await planServices({ targets: [], cwd: root, environment: 'development' })
    assert.deepEqual(names(found), ['orders', 'users'])
    assert.deepEqual(names(await planServices({ targets: [], cwd: join(root, 'users'), environment: 'x' })), [
      'users',
    ])
    writeFileSync(
      join(root, 'micro.toml'),
      '[services.users]\npath = "users"\n[services.orders]\npath = "orders"\ndepends = ["users"]\n',
    )
    const project = await planServices({ targets: [], cwd: root, environment: 'development' })
    assert.equal(project.project?.file, join(root, 'micro.toml'))
    assert.deepEqual(names(project), ['users', 'orders'])
    // A folder holding a project file (and no service.toml) is that project.
    assert.deepEqual(
      names(await planServices({ targets: ['implicit'], cwd: work, environment: 'development' })),
      ['users', 'orders'],
    )
    await rejectsWith(
      planServices({ targets: [], cwd: join(root, 'node_modules'), environment: 'development' }),
      /nothing to run here/,
    )
  })

  test("a project key must be its folder's service name; names must be unique; --config goes with one folder", async () => {
    const root = join(work, 'mismatch')
    service(join(root, 'users'), 'accounts')
    writeFileSync(join(root, 'micro.toml'), '[services.users]\npath = "users"\n')
    await rejectsWith(
      planServices({ targets: [], cwd: root, environment: 'development' }),
      /services\.users: .* is the service "accounts".*name it accounts in the project file/s,
    )
    const twins = join(work, 'twins')
    service(join(twins, 'one'), 'same')
    service(join(twins, 'two'), 'same')
    await rejectsWith(
      planServices({ targets: ['one', 'two'], cwd: twins, environment: 'development' }),
      /same: two services have this name/,
    )
    await rejectsWith(
      planServices({ targets: ['one', 'two'], cwd: twins, environment: 'development', config: 'x.toml' }),
      /--config: goes with exactly one service folder/,
    )
    await rejectsWith(
      planServices({ targets: ['nowhere'], cwd: twins, environment: 'development' }),
      /source .*nowhere does not exist/,
    )
  })
})
