import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { z } from 'zod'
import type { StandardSchema } from '../server/standard-schema.js'
import { type EnvInput, envPrefix, redactUrl, resolveEnv } from './env.js'
import type { EnvSpec } from './env-spec.js'
import { type Problem, Problems } from './problems.js'

async function resolve(
  spec: EnvInput['spec'],
  source: Record<string, string>,
  required: string[] = [],
): Promise<{ values: Record<string, unknown>; problems: Problem[] }> {
  const problems = new Problems()
  const values = await resolveEnv({ service: 'orders', spec, required, source }, problems)
  return { values, problems: problems.list }
}

async function oneProblem(spec: EnvSpec, source: Record<string, string>): Promise<Problem> {
  const { problems } = await resolve(spec, source)
  assert.equal(problems.length, 1, JSON.stringify(problems))
  return problems[0] as Problem
}

describe('environment', () => {
  test('values are parsed by type, with defaults and optional variables', async () => {
    const { values, problems } = await resolve(
      {
        DATABASE_URL: 'url',
        MAX_ITEMS: { type: 'int', default: 50 },
        WORKERS: 'int',
        DEBUG: 'bool',
        TIMEOUT: 'duration',
        MODE: { type: 'enum', values: ['dev', 'prod'] },
        NAME: 'string',
        NICKNAME: { type: 'string', optional: true },
      },
      {
        DATABASE_URL: 'postgres://db:5432/orders',
        WORKERS: '-3',
        DEBUG: 'yes',
        TIMEOUT: '1.5s',
        MODE: 'prod',
        NAME: 'orders',
      },
    )
    assert.deepEqual(problems, [])
    assert.deepEqual(values, {
      DATABASE_URL: 'postgres://db:5432/orders',
      MAX_ITEMS: 50,
      WORKERS: -3,
      DEBUG: true,
      TIMEOUT: 1500,
      MODE: 'prod',
      NAME: 'orders',
      NICKNAME: undefined,
    })
  })

  test('booleans accept true/false, 1/0, yes/no, on/off', async () => {
    for (const [text, value] of [
      ['TRUE', true],
      ['0', false],
      ['off', false],
      ['On', true],
    ] as const) {
      assert.equal((await resolve({ B: 'bool' }, { B: text })).values.B, value)
    }
  })

  test('missing variable', async () => {
    const p = await oneProblem({ DATABASE_URL: 'url' }, {})
    assert.equal(p.key, 'env.DATABASE_URL')
    assert.equal(p.message, 'missing')
    assert.match(p.fix ?? '', /set DATABASE_URL \(or ORDERS__DATABASE_URL for this service only\) \(url\)/)
  })

  test('a variable set but empty counts as missing', async () => {
    const p = await oneProblem({ NAME: 'string' }, { NAME: '' })
    assert.equal(p.key, 'env.NAME')
    assert.match(p.message, /NAME is set but empty/)
  })

  test('malformed int', async () => {
    for (const text of ['abc', '1.5', '12abc', '99999999999999999999']) {
      const p = await oneProblem({ MAX_ITEMS: 'int' }, { MAX_ITEMS: text })
      assert.equal(p.key, 'env.MAX_ITEMS')
      assert.equal(p.message, `"${text}" is not an integer`)
      assert.match(p.fix ?? '', /a whole number/)
    }
  })

  test('malformed bool', async () => {
    const p = await oneProblem({ DEBUG: 'bool' }, { DEBUG: 'maybe' })
    assert.equal(p.key, 'env.DEBUG')
    assert.equal(p.message, '"maybe" is not a boolean')
    assert.match(p.fix ?? '', /true or false/)
  })

  test('malformed duration', async () => {
    const p = await oneProblem({ TIMEOUT: 'duration' }, { TIMEOUT: 'ten seconds' })
    assert.equal(p.key, 'env.TIMEOUT')
    assert.equal(p.message, '"ten seconds" is not a duration')
    assert.match(p.fix ?? '', /500ms, 30s, 5m/)
  })

  test('malformed url', async () => {
    const p = await oneProblem({ API: 'url' }, { API: 'localhost' })
    assert.equal(p.key, 'env.API')
    assert.equal(p.message, '"localhost" is not a URL')
    assert.match(p.fix ?? '', /absolute URL/)
  })

  test('a value outside the enum', async () => {
    const p = await oneProblem({ MODE: { type: 'enum', values: ['dev', 'prod'] } }, { MODE: 'staging' })
    assert.equal(p.key, 'env.MODE')
    assert.equal(p.message, '"staging" is not one of the allowed values')
    assert.match(p.fix ?? '', /one of dev, prod/)
  })

  test('secret values are never printed: by declaration, by name, and passwords in URLs', async () => {
    const { problems } = await resolve(
      {
        PIN: { type: 'int', secret: true },
        API_TOKEN: { type: 'int' },
        DB_PASSWORD: 'bool',
        DATABASE_URL: { type: 'enum', values: ['x'] },
      },
      {
        PIN: 'hunter2',
        API_TOKEN: 's3cr3t-token',
        DB_PASSWORD: 'pa55word',
        DATABASE_URL: 'postgres://admin:pa55@db/orders',
      },
    )
    assert.equal(problems.length, 4)
    const text = JSON.stringify(problems)
    for (const secret of ['hunter2', 's3cr3t-token', 'pa55']) assert.ok(!text.includes(secret), text)
    assert.match(problems[0]?.message ?? '', /the value \(hidden: secret\) is not an integer/)
    assert.equal(redactUrl('postgres://admin:pa55@db/orders'), 'postgres://admin:***@db/orders')
    assert.equal(redactUrl('not a url://a:b@c'), 'not a url://a:***@c')
  })

  test('a malformed URL with credentials is shown with its password hidden', async () => {
    const p = await oneProblem({ UPSTREAM: 'url' }, { UPSTREAM: 'http//u:secretpw@host' })
    assert.equal(p.message, '"http//u:***@host" is not a URL')
  })

  test('<SERVICE>__NAME overrides NAME for this service', async () => {
    assert.equal(envPrefix('orders-api.v2'), 'ORDERS_API_V2__')
    const { values } = await resolve({ MAX: 'int' }, { MAX: '1', ORDERS__MAX: '2' })
    assert.equal(values.MAX, 2)
    const p = await oneProblem({ MAX: 'int' }, { MAX: '1', ORDERS__MAX: 'two' })
    assert.equal(p.message, '"two" is not an integer (from ORDERS__MAX)')
  })

  test('names listed in the toml are required strings unless the definition declares them', async () => {
    const { values, problems } = await resolve({ PORT: 'int' }, { PORT: '80', REGION: 'eu' }, [
      'REGION',
      'ZONE',
      'PORT',
    ])
    assert.deepEqual(values, { REGION: 'eu', PORT: 80 })
    assert.deepEqual(
      problems.map((p) => [p.key, p.message]),
      [['env.ZONE', 'missing']],
    )
  })

  test('every mistake is reported at once', async () => {
    const { problems } = await resolve(
      { A: 'int', B: 'bool', C: 'url', D: 'string' },
      { A: 'x', B: 'x', C: 'x' },
    )
    assert.deepEqual(
      problems.map((p) => p.key),
      ['env.A', 'env.B', 'env.C', 'env.D'],
    )
  })

  test('a Standard Schema validates the whole environment', async () => {
    const schema = z.object({
      PORT: z.coerce.number().int(),
      MODE: z.enum(['dev', 'prod']),
    }) as StandardSchema
    const ok = await resolve(schema, { PORT: '8080', MODE: 'dev', ORDERS__MODE: 'prod', UNRELATED: 'x' })
    assert.deepEqual(ok.problems, [])
    assert.deepEqual(ok.values, { PORT: 8080, MODE: 'prod' })
    const bad = await resolve(schema, { PORT: 'abc' }, ['REGION'])
    assert.deepEqual(bad.problems.map((p) => p.key).sort(), ['env.MODE', 'env.PORT', 'env.REGION'])
  })
})
