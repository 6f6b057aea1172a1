import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { defineService } from './define.js'
import { prepare } from './prepare.js'
import { DefinitionError, type Problem } from './problems.js'
import { parseToml } from './toml.js'

class Orders {
  async Create() {
    return {}
  }
}

/** A definition with a factory for every built-in kind, so only the toml can be wrong. */
const every = defineService({
  rpc: () => new Orders(),
  grpc: () => new Orders(),
  http: () => () => new Response('ok'),
  worker: () => ({ start() {} }),
  script: () => 0,
})

const BASE = `
name = "orders"
types = ["rpc", "http:8080"]
version = "v1.2.0"
product = "shop"
`

const VALID = `
name = "orders"
types = ["rpc", "http:8080"]
version = "v1.2.0"
product = "shop"
envs = ["DATABASE_URL"]

[features.tracing]
enabled = true

[clients.users]

[runtime.http]
base_path = "/orders"
`

async function check(text: string, env: Record<string, string> = { DATABASE_URL: 'x' }) {
  return prepare({ raw: parseToml(text), source: 'service.toml', definition: every, envSource: env })
}

/** The problems of a toml that must not pass, with the error's full text. */
async function problemsOf(text: string): Promise<{ problems: readonly Problem[]; detail: string }> {
  try {
    await check(text)
  } catch (error) {
    assert.ok(error instanceof DefinitionError, `expected a DefinitionError, got ${error}`)
    return { problems: error.problems, detail: error.detail }
  }
  assert.fail('the toml was accepted')
}

/** Replace one line of a small valid toml (matched by its start) or drop it (`undefined`). */
function variant(start: string, replacement: string | undefined): string {
  const lines = BASE.split('\n')
  const i = lines.findIndex((l) => l.startsWith(start))
  assert.notEqual(i, -1, `no line starts with ${start}`)
  if (replacement === undefined) lines.splice(i, 1)
  else lines[i] = replacement
  return lines.join('\n')
}

function only(problems: readonly Problem[]): Problem {
  assert.equal(problems.length, 1, JSON.stringify(problems))
  return problems[0] as Problem
}

describe('service.toml', () => {
  test('the example of the issue is valid, with every key read', async () => {
    const { config, kinds, features } = await check(VALID)
    assert.equal(config.name, 'orders')
    assert.equal(config.version, '1.2.0')
    assert.equal(config.product, 'shop')
    assert.deepEqual(config.types, [
      { kind: 'rpc', port: undefined, index: 0 },
      { kind: 'http', port: 8080, index: 1 },
    ])
    assert.deepEqual(config.envs, ['DATABASE_URL'])
    assert.deepEqual([...config.clients.keys()], ['users'])
    assert.deepEqual(
      kinds.map((k) => k.entry.kind),
      ['rpc', 'http'],
    )
    assert.equal((kinds[1]?.settings as { basePath: string } | undefined)?.basePath, '/orders')
    assert.deepEqual(
      features.map((f) => f.name),
      ['tracing'],
    )
  })

  test('versions are semver, with or without a leading v', async () => {
    for (const version of ['1.2.0', 'v1.2.0', 'v0.0.1-rc.1', '10.20.30+build.5']) {
      const { config } = await check(variant('version', `version = "${version}"`))
      assert.equal(config.version, version.replace(/^v/, ''))
    }
  })

  test('missing name', async () => {
    const p = only((await problemsOf(variant('name', undefined))).problems)
    assert.equal(p.key, 'name')
    assert.match(p.message, /missing/)
    assert.match(p.fix ?? '', /name = "/)
  })

  test('a name that is not a service name', async () => {
    const p = only((await problemsOf(variant('name', 'name = "Orders Service"'))).problems)
    assert.equal(p.key, 'name')
    assert.match(p.message, /"Orders Service" is not a valid service name/)
  })

  test('bad version', async () => {
    for (const version of ['1.2', 'v1', 'latest', '1.2.0.0', '01.2.3']) {
      const p = only((await problemsOf(variant('version', `version = "${version}"`))).problems)
      assert.equal(p.key, 'version')
      assert.match(p.message, new RegExp(`"${version.replace(/\./g, '\\.')}" is not a semantic version`))
      assert.match(p.fix ?? '', /MAJOR\.MINOR\.PATCH/)
    }
  })

  test('missing version, and version of the wrong type', async () => {
    assert.equal(only((await problemsOf(variant('version', undefined))).problems).key, 'version')
    const p = only((await problemsOf(variant('version', 'version = 1'))).problems)
    assert.equal(p.key, 'version')
    assert.match(p.message, /must be a string, not 1/)
  })

  test('unknown kind, with a suggestion', async () => {
    const p = only((await problemsOf(variant('types', 'types = ["rpc", "htp"]'))).problems)
    assert.equal(p.key, 'types[1]')
    assert.match(p.message, /unknown kind "htp"/)
    assert.match(p.fix ?? '', /did you mean http\?/)
    assert.match(p.fix ?? '', /registerKind/)
  })

  test('grpc is a kind that takes a port; it cannot share the process with rpc', async () => {
    const prepared = await check(variant('types', 'types = ["grpc:7070", "worker"]'))
    assert.deepEqual(
      prepared.config.types.map((t) => [t.kind, t.port]),
      [
        ['grpc', 7070],
        ['worker', undefined],
      ],
    )
    const p = only((await problemsOf(variant('types', 'types = ["rpc", "grpc"]'))).problems)
    assert.equal(p.key, 'types')
    assert.match(p.message, /rpc and grpc both serve the RPC port/)
  })

  test('duplicate kind', async () => {
    const { problems } = await problemsOf(variant('types', 'types = ["rpc", "http:8080", "rpc:7070"]'))
    const p = only(problems)
    assert.equal(p.key, 'types[2]')
    assert.match(p.message, /duplicate kind "rpc"/)
  })

  test('port out of range', async () => {
    for (const port of ['70000', '-1', 'abc', '80:81']) {
      const p = only((await problemsOf(variant('types', `types = ["rpc", "http:${port}"]`))).problems)
      assert.equal(p.key, 'types[1]')
      assert.match(p.message, /port ".*" is out of range/)
      assert.match(p.fix ?? '', /from 0 to 65535/)
    }
  })

  test('a port on a kind that does not listen', async () => {
    const p = only((await problemsOf(variant('types', 'types = ["rpc", "worker:9000"]'))).problems)
    assert.equal(p.key, 'types[1]')
    assert.match(p.message, /the worker kind does not listen on a port/)
  })

  test('script mixed with other kinds', async () => {
    const { problems } = await problemsOf(variant('types', 'types = ["script", "worker"]'))
    const p = problems.find((x) => x.key === 'types')
    assert.ok(p, JSON.stringify(problems))
    assert.match(p.message, /script cannot be mixed with other kinds \(script, worker\)/)
    assert.match(p.fix ?? '', /types = \["script"\]/)
  })

  test('missing and empty types', async () => {
    assert.match(only((await problemsOf(variant('types', undefined))).problems).message, /missing/)
    const empty = only((await problemsOf(variant('types', 'types = []'))).problems)
    assert.equal(empty.key, 'types')
    assert.match(empty.message, /is empty/)
  })

  test('unknown key at the top, with a suggestion', async () => {
    const p = only((await problemsOf(VALID.replace('[features', 'verison = "1"\n\n[features'))).problems)
    assert.equal(p.key, 'verison')
    assert.match(p.message, /unknown key/)
    assert.match(p.fix ?? '', /did you mean version\?/)
  })

  test('unknown keys in nested tables are reported with their full key', async () => {
    const { problems } = await problemsOf(
      VALID.replace('base_path = "/orders"', 'base_path = "/orders"\nbase_pth = "x"')
        .replace('[clients.users]', '[clients.users]\nhost = "x"')
        .replace('enabled = true', 'enabled = true\nsampling = 1'),
    )
    assert.deepEqual(problems.map((p) => p.key).sort(), [
      'clients.users.host',
      'features.tracing.sampling',
      'runtime.http.base_pth',
    ])
    for (const p of problems) assert.match(p.message, /unknown key/)
  })

  test('unknown feature, and [runtime] of a kind the service does not run', async () => {
    const { problems } = await problemsOf(
      `${VALID}\n[features.tracng]\n\n[runtime.worker]\nshutdown_timeout = "1s"\n`,
    )
    const feature = problems.find((p) => p.key === 'features.tracng')
    assert.match(feature?.message ?? '', /unknown feature "tracng"/)
    assert.match(feature?.fix ?? '', /did you mean tracing\?/)
    const runtime = problems.find((p) => p.key === 'runtime.worker')
    assert.match(runtime?.message ?? '', /kind worker is not in types/)
  })

  test('wrong values in kind settings name their key and say how to fix them', async () => {
    const { problems } = await problemsOf(
      VALID.replace(
        'base_path = "/orders"',
        'base_path = "orders"\nhandler_timeout = "soon"\nbody_limit = "lots"\n[runtime.http.cors]\norigins = ["*"]\ncredentials = true',
      ),
    )
    const byKey = new Map(problems.map((p) => [p.key, p]))
    assert.match(byKey.get('runtime.http.base_path')?.message ?? '', /must start with \//)
    assert.match(byKey.get('runtime.http.handler_timeout')?.message ?? '', /"soon" is not a duration/)
    assert.match(byKey.get('runtime.http.body_limit')?.message ?? '', /must be a size/)
    assert.match(
      byKey.get('runtime.http.cors.origins')?.message ?? '',
      /"\*" cannot be used with credentials/,
    )
  })

  test('every problem is listed at once, one line each with its key and fix', async () => {
    const { problems, detail } = await problemsOf(`
types = ["rpc", "rpc", "nope"]
version = "one"
colour = "blue"
`)
    assert.deepEqual(problems.map((p) => p.key).sort(), ['colour', 'name', 'types[1]', 'types[2]', 'version'])
    const lines = detail.split('\n')
    assert.equal(lines[0], 'service.toml has 5 problems:')
    assert.equal(lines.length, 6)
    for (const line of lines.slice(1)) assert.match(line, /^ {2}- \S+: .+\. Fix: .+/)
  })

  test('a kind in types without a factory in the definition', async () => {
    const rpcOnly = defineService({ rpc: () => new Orders() })
    await assert.rejects(
      prepare({
        raw: parseToml(VALID),
        source: 'service.toml',
        definition: rpcOnly,
        envSource: { DATABASE_URL: 'x' },
      }),
      (e: DefinitionError) => {
        const p = only(e.problems)
        assert.equal(p.key, 'types[1]')
        assert.match(p.message, /runs http but its definition has no http factory/)
        return true
      },
    )
  })

  test('a module that exports no definition', async () => {
    await assert.rejects(
      prepare({
        raw: parseToml(VALID),
        source: 'service.toml',
        definition: { rpc: () => ({}) },
        envSource: {},
      }),
      /does not export a service definition/,
    )
  })

  test('a TOML syntax error names the line and column', () => {
    assert.throws(
      () => parseToml('name = "orders"\ntypes = [\n', 'svc/service.toml'),
      (e: DefinitionError) => {
        assert.match(e.detail, /^svc\/service\.toml has a problem:/)
        assert.match(only(e.problems).key, /^line \d+, column \d+$/)
        assert.match(only(e.problems).message, /invalid TOML/)
        return true
      },
    )
  })
})
