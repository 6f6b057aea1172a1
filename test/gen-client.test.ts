import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { randomUUID } from 'node:crypto'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { after, before, describe, test } from 'node:test'
import { promisify } from 'node:util'
import { Validator } from '@seriousme/openapi-schema-validator'
import { type ServedGateway, serveGateway } from '../src/platform/gateway/serve.js'
import { buildOpenApiDocument } from '../src/platform/openapi/document.js'
import { generateTsClient } from '../src/platform/openapi/ts-client.js'
import type { ServiceRecord } from '../src/registry/registry.js'
import { runCli } from './support/cli.js'
import { startShop } from './support/shop-services.js'

// `micro gen client` as a child process finds real services over mDNS; the generated file
// is compiled with tsc --strict, then imported and called through the real gateway.

const run = promisify(execFile)

/** What the test reads of the generated module (its own types were checked by tsc above). */
interface Generated {
  Client: new (options?: { baseUrl?: string }) => any
  MicroApiError: new (...args: any[]) => Error & { id: string; code: number; detail: string; status: string }
}
const TSC = resolve('node_modules/typescript/bin/tsc')
const namespace = `gen-${randomUUID().slice(0, 8)}`
const configDir = await mkdtemp(join(tmpdir(), 'micro-gen-config-'))
const micro = (args: string[]) => runCli(args, { MICRO_CONFIG_DIR: configDir, MICRO_NAMESPACE: namespace })

/** Compile `files` in `dir` with the strictest settings a user may have; throws tsc's output. */
async function compile(dir: string, files: string[]): Promise<void> {
  const config = {
    compilerOptions: {
      strict: true,
      noEmit: true,
      target: 'es2022',
      module: 'esnext',
      moduleResolution: 'bundler',
      lib: ['es2022', 'dom', 'dom.iterable', 'dom.asynciterable'],
      types: [],
      exactOptionalPropertyTypes: true,
      noUncheckedIndexedAccess: true,
      noImplicitOverride: true,
      allowImportingTsExtensions: true,
    },
    files,
  }
  await writeFile(join(dir, 'tsconfig.json'), JSON.stringify(config))
  try {
    await run(process.execPath, [TSC, '-p', join(dir, 'tsconfig.json')])
  } catch (error) {
    const e = error as { stdout?: string; stderr?: string }
    throw new Error(`tsc failed:\n${e.stdout ?? ''}${e.stderr ?? ''}`)
  }
}

describe('micro gen client', () => {
  let shop: Awaited<ReturnType<typeof startShop>>
  let gateway: ServedGateway & { url: string }
  let dir: string
  before(async () => {
    shop = await startShop(undefined, namespace)
    // The real gateway, finding the shop as any gateway would: in the registry (mDNS on loopback).
    const served = await serveGateway({ address: '127.0.0.1:0', namespace, rateLimit: false })
    gateway = Object.assign(served, { url: `http://${served.address}` })
    dir = await mkdtemp(join(tmpdir(), 'micro-gen-client-'))
  })
  after(async () => {
    await gateway.close()
    await shop.stop()
    await rm(dir, { recursive: true, force: true })
    await rm(configDir, { recursive: true, force: true })
  })

  test('--lang ts writes one file that compiles with tsc --strict and calls the gateway, typed', async () => {
    const file = join(dir, 'api.ts')
    const result = await micro(['gen', 'client', '--out', file, '--gateway', gateway.url])
    assert.equal(result.code, 0, result.stderr)
    assert.match(result.stdout, /wrote .*api\.ts: 6 endpoints of 2 service\(s\)/)
    const source = await readFile(file, 'utf8')
    assert.doesNotMatch(source, /^import /m, 'no dependencies')
    // A user's file: right calls compile, a wrong one must not (the @ts-expect-error would be unused).
    await writeFile(
      join(dir, 'use.ts'),
      `import { Client, MicroApiError, type ShopShopOrderRequest } from './api.ts'
const api = new Client()
const order: ShopShopOrderRequest = { items: [{ sku: 'a', quantity: 1, note: null }], kind: 'retail' }
export const placed: Promise<{ id: string; total: number; status: 'open' | 'held' }> = api.shop.Shop.Order(order)
// @ts-expect-error kind is an enum
export const wrong = api.shop.Shop.Order({ items: [], kind: 'wholesale' })
export async function watch(): Promise<string[]> {
  const states: string[] = []
  for await (const m of api.shop.Shop.Watch({ id: 'o-1' })) states.push(m.state)
  return states
}
export const isError = (e: unknown) => e instanceof MicroApiError && e.code === 404
`,
    )
    await compile(dir, ['api.ts', 'use.ts'])
    const { Client, MicroApiError } = (await import(file)) as Generated
    const api = new Client()
    assert.deepEqual(
      await api.shop.Shop.Order({ items: [{ sku: 'a', quantity: 2, note: null }], kind: 'retail' }),
      { id: 'o-1', total: 2, status: 'open' },
    )
    assert.deepEqual(await api.shop.Shop.Quote({ items: [] }), { total: 0 })
    assert.deepEqual(await api.greeter.Greeter.Hello({ name: 'Ann' }), { message: 'Hello Ann' })
    const states: string[] = []
    for await (const m of api.shop.Shop.Watch({ id: 'o-1' })) states.push(m.state)
    assert.deepEqual(states, ['packed', 'shipped'])
    // Errors come back typed: the service's own, and the 400 its schema check gives.
    const notFound = await api.shop.Shop.Order({
      items: [{ sku: 'gone', quantity: 1, note: null }],
      kind: 'trade',
    }).catch((e: unknown) => e)
    assert.ok(notFound instanceof MicroApiError)
    assert.deepEqual(
      { ...notFound, message: notFound.message },
      {
        name: 'MicroApiError',
        id: 'shop',
        code: 404,
        detail: 'no such sku: gone',
        status: 'Not Found',
        message: 'no such sku: gone',
      },
    )
    const invalid = await api.shop.Shop.Order({ items: [], kind: 'retail' }).catch((e: unknown) => e)
    assert.ok(invalid instanceof MicroApiError)
    assert.equal(invalid.code, 400)
    assert.match(invalid.detail, /items/)
    // Another base URL and headers per client; a gateway that is not there fails as a fetch error.
    const elsewhere = new Client({ baseUrl: 'http://127.0.0.1:9/' })
    await assert.rejects(elsewhere.greeter.Greeter.Hello({ name: 'x' }))
  })

  test('--lang openapi writes the document; --service narrows it', async () => {
    const result = await micro(['gen', 'client', '--lang', 'openapi', '--service', 'greeter'])
    assert.equal(result.code, 0, result.stderr)
    const document = JSON.parse(result.stdout)
    const validation = await new Validator().validate(document)
    assert.equal(validation.valid, true, JSON.stringify(validation.errors))
    assert.deepEqual(Object.keys(document.paths), ['/api/greeter/Greeter.Hello', '/rpc'])
    assert.deepEqual(document.servers, [{ url: 'http://127.0.0.1:8080' }])
  })

  test('bad usage exits 2 saying why; an unknown service exits 1', async () => {
    const lang = await micro(['gen', 'client', '--lang', 'go'])
    assert.equal(lang.code, 2)
    assert.match(lang.stderr, /--lang is ts or openapi/)
    const gatewayFlag = await micro(['gen', 'client', '--gateway', 'ftp://x'])
    assert.equal(gatewayFlag.code, 2)
    const target = await micro(['gen', 'server'])
    assert.equal(target.code, 2)
    assert.match(target.stderr, /gen client/)
    const missing = await micro(['gen', 'client', '--service', 'nobody'])
    assert.equal(missing.code, 1)
    assert.match(missing.stderr, /service nobody not found/)
    const help = await micro(['gen', 'client', '--help'])
    assert.equal(help.code, 0)
    assert.match(help.stdout, /--lang ts/)
  })
})

describe('generated TypeScript from hostile or odd schemas', () => {
  test('names, comments and literals from the registry cannot break out of the generated code', async () => {
    const nasty = '*/ throw new Error("pwned") /*'
    const records: ServiceRecord[] = [
      {
        name: 'odd-name_2',
        version: '1',
        metadata: {},
        nodes: [],
        endpoints: [
          {
            name: 'constructor.__proto__',
            metadata: { description: nasty },
            request: {
              type: 'object',
              description: nasty,
              properties: {
                'quote"key': { type: 'string', description: nasty },
                'line\nbreak': { enum: ['a"b', 'c\\d', 1, true, null] },
                tuple: {
                  type: 'array',
                  prefixItems: [{ type: 'string' }, { type: 'integer' }],
                  items: false,
                },
                open: { type: 'object', additionalProperties: { type: 'number' } },
                both: {
                  anyOf: [
                    { type: 'object', properties: { a: { type: 'string' } }, required: ['a'] },
                    { type: 'null' },
                  ],
                },
                list: { type: 'array', items: { type: ['string', 'null'] } },
                all: {
                  allOf: [{ type: 'object', properties: { x: { type: 'number' } } }, { type: 'object' }],
                },
                never: false,
                anything: true,
                unknownKind: { type: 'mystery' },
              },
              required: ['tuple'],
            },
            response: { $ref: '#' },
          },
        ],
      },
      {
        name: '9lives',
        version: '1',
        metadata: {},
        nodes: [],
        endpoints: [{ name: 'Cat.Nap', metadata: { stream: 'true' } }],
      },
    ]
    const source = generateTsClient(buildOpenApiDocument(records), {
      generatedBy: nasty,
      baseUrl: 'http://x"y',
    })
    assert.doesNotMatch(source, /\*\/ throw new Error/, 'no comment is ended by a description')
    const dir = await mkdtemp(join(tmpdir(), 'micro-gen-odd-'))
    try {
      await writeFile(join(dir, 'odd.ts'), source)
      await compile(dir, ['odd.ts'])
      const mod = (await import(join(dir, 'odd.ts'))) as Record<string, any>
      const api = new mod.Client({
        fetch: async (url: string, init: { body: string }) =>
          new Response(JSON.stringify({ url, body: JSON.parse(init.body) })),
      })
      // An own property named __proto__, not the object's prototype.
      const method = Object.getOwnPropertyDescriptor(api.oddName2.constructor_, '__proto__')?.value
      assert.equal(typeof method, 'function', 'a method named __proto__ is a method')
      const reply = await method({ tuple: ['a', 1] })
      assert.deepEqual(reply, {
        url: 'http://x"y/api/odd-name_2/constructor.__proto__',
        body: { tuple: ['a', 1] },
      })
      assert.equal(typeof api._9lives.Cat.Nap, 'function')
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  })
})
