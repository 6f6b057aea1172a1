import assert from 'node:assert/strict'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { after, before, describe, test } from 'node:test'
import { Validator } from '@seriousme/openapi-schema-validator'
import { startShop } from '../../../test/support/shop-services.js'
import { MemoryRegistry } from '../../registry/memory.js'
import type { ServiceRecord } from '../../registry/registry.js'
import { buildOpenApiDocument, type OpenApiDocument, openApiDocument } from './document.js'
import { createOpenApiHandler } from './handler.js'

/** Validate with a maintained OpenAPI validator (the official 3.1 schema) and resolve every $ref. */
async function assertValid(document: unknown): Promise<void> {
  const validator = new Validator()
  const result = await validator.validate(structuredClone(document) as Parameters<Validator['validate']>[0])
  assert.deepEqual(result.errors ?? [], [], 'the document is valid OpenAPI')
  assert.equal(result.valid, true)
  assert.equal(validator.version, '3.1')
  assert.doesNotThrow(() => validator.resolveRefs(), 'every $ref resolves')
  for (const ref of refsIn(document)) {
    if (!ref.startsWith('#/')) continue
    const target = ref
      .slice(2)
      .split('/')
      .reduce<unknown>((node, part) => (node as Record<string, unknown> | undefined)?.[part], document)
    assert.ok(target !== undefined, `${ref} points at something`)
  }
}

function refsIn(value: unknown, out: string[] = []): string[] {
  if (Array.isArray(value)) for (const v of value) refsIn(v, out)
  else if (typeof value === 'object' && value !== null) {
    for (const [k, v] of Object.entries(value)) {
      if (k === '$ref' && typeof v === 'string') out.push(v)
      else refsIn(v, out)
    }
  }
  return out
}

describe('OpenAPI from the registry', () => {
  const registry = new MemoryRegistry()
  const namespace = `openapi-${Math.random().toString(16).slice(2)}`
  let stop: () => Promise<void>
  let document: OpenApiDocument
  before(async () => {
    stop = (await startShop(registry, namespace)).stop
    document = await openApiDocument(registry, {
      namespace,
      title: 'Shop',
      serverUrl: 'http://127.0.0.1:8080',
    })
  })
  after(async () => {
    await stop()
    await registry.close()
  })

  test('is valid OpenAPI 3.1 with one operation per endpoint plus /rpc', async () => {
    await assertValid(document)
    assert.equal(document.openapi, '3.1.1')
    assert.deepEqual(Object.keys(document.paths).sort(), [
      '/api/greeter/Greeter.Hello',
      '/api/shop/Shop.Cancel',
      '/api/shop/Shop.Order',
      '/api/shop/Shop.Quote',
      '/api/shop/Shop.Tree',
      '/api/shop/Shop.Watch',
      '/rpc',
    ])
    const order = document.paths['/api/shop/Shop.Order']?.post
    assert.equal(order?.operationId, 'shop.Shop.Order')
    assert.equal(order?.['x-micro-service'], 'shop')
    assert.equal(order?.['x-micro-endpoint'], 'Shop.Order')
    assert.deepEqual(document.servers, [{ url: 'http://127.0.0.1:8080' }])
  })

  test('bodies are the published schemas, deduplicated into components', () => {
    const schemas = document.components.schemas
    const order = document.paths['/api/shop/Shop.Order']?.post as any
    const requestRef = order.requestBody.content['application/json'].schema.$ref as string
    const request = schemas[requestRef.split('/').pop() as string] as any
    assert.deepEqual(request.required.sort(), ['items', 'kind'])
    assert.deepEqual(request.properties.kind.enum, ['retail', 'trade'])
    assert.equal(request.$schema, undefined, 'the dialect is the document default')
    // Quote's request is different (no kind), but the Item inside both is the same schema text.
    const quote = document.paths['/api/shop/Shop.Quote']?.post as any
    assert.notEqual(quote.requestBody.content['application/json'].schema.$ref, requestRef)
    // Recursive zod schemas: $defs hoisted into components, refs rewritten.
    const tree = document.paths['/api/shop/Shop.Tree']?.post as any
    const treeResponse = schemas[
      (tree.responses['200'].content['application/json'].schema.$ref as string).split('/').pop() as string
    ] as any
    const refs = refsIn(treeResponse)
    assert.ok(
      refs.length > 0 && refs.every((r) => r.startsWith('#/components/schemas/')),
      JSON.stringify(treeResponse),
    )
    // Cancel and Watch take the same request ({id}): one component, two refs.
    const cancel = document.paths['/api/shop/Shop.Cancel']?.post as any
    const watch = document.paths['/api/shop/Shop.Watch']?.post as any
    assert.equal(
      cancel.requestBody.content['application/json'].schema.$ref,
      watch.requestBody.content['application/json'].schema.$ref,
    )
    // An endpoint without schemas takes and gives any JSON.
    const hello = document.paths['/api/greeter/Greeter.Hello']?.post as any
    assert.deepEqual(hello.requestBody.content['application/json'].schema, {})
  })

  test('errors are the error JSON with their status codes; flags and scopes are marked', () => {
    const order = document.paths['/api/shop/Shop.Order']?.post as any
    for (const code of ['400', '404', '408', '429', '500', '503']) {
      assert.equal(order.responses[code].$ref, `#/components/responses/Error${code}`)
    }
    const errorResponse = (document.components.responses as any).Error404
    assert.equal(errorResponse.content['application/json'].schema.$ref, '#/components/schemas/MicroError')
    assert.deepEqual((document.components.schemas.MicroError as any).required, [
      'id',
      'code',
      'detail',
      'status',
    ])
    const quote = document.paths['/api/shop/Shop.Quote']?.post as any
    assert.equal(quote['x-micro-idempotent'], true)
    assert.equal(order['x-micro-idempotent'], undefined)
    const watch = document.paths['/api/shop/Shop.Watch']?.post as any
    assert.equal(watch['x-micro-stream'], true)
    assert.ok(watch.responses['200'].content['text/event-stream']['x-micro-message'].$ref)
    assert.match(watch.responses['200'].description, /Server-Sent Events/)
    const cancel = document.paths['/api/shop/Shop.Cancel']?.post as any
    assert.deepEqual(cancel.security, [{ micro: ['orders.write', 'admin'] }])
    assert.equal(cancel.responses['401'].$ref, '#/components/responses/Error401')
    assert.equal(order.security, undefined, 'an endpoint without scopes needs no token')
    assert.equal((document.components.securitySchemes as any).micro.scheme, 'bearer')
  })

  test('one service alone', async () => {
    const shopOnly = await openApiDocument(registry, { namespace, service: 'shop' })
    await assertValid(shopOnly)
    assert.ok(Object.keys(shopOnly.paths).every((p) => p.startsWith('/api/shop/') || p === '/rpc'))
  })

  test('GET /openapi.json on a real server; other paths are left alone', async () => {
    const handler = createOpenApiHandler(registry, { namespace })
    const server = createServer((req, res) => {
      if (!handler.handle(req, res)) res.writeHead(404).end('not mine')
    })
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
    try {
      const res = await fetch(`${origin}/openapi.json`)
      assert.equal(res.status, 200)
      assert.equal(res.headers.get('content-type'), 'application/json')
      await assertValid(await res.json())
      const one = (await (await fetch(`${origin}/openapi.json?service=greeter`)).json()) as OpenApiDocument
      assert.deepEqual(Object.keys(one.paths), ['/api/greeter/Greeter.Hello', '/rpc'])
      const missing = await fetch(`${origin}/openapi.json?service=nobody`)
      assert.equal(missing.status, 404)
      assert.equal(((await missing.json()) as { code: number }).code, 404)
      const post = await fetch(`${origin}/openapi.json`, { method: 'POST', body: '{}' })
      assert.equal(post.status, 405)
      assert.equal(await (await fetch(`${origin}/other`)).text(), 'not mine')
    } finally {
      await new Promise((resolve) => server.close(resolve))
    }
  })
})

describe('OpenAPI from hostile or odd registrations', () => {
  test('versions merge (newest first); unroutable names, bad refs, $id and deep nesting still give a valid document', async () => {
    let deep: Record<string, unknown> = { type: 'string' }
    for (let i = 0; i < 500; i++) deep = { type: 'array', items: deep }
    const records: ServiceRecord[] = [
      record('greeter', '1.9.0', [{ name: 'Greeter.Hello', metadata: { description: 'old' } }]),
      record('greeter', '1.10.0', [
        { name: 'Greeter.Hello', metadata: { description: 'Says hello.' } },
        { name: 'Greeter.Bye', metadata: {} },
      ]),
      record('bad name!', '1.0.0', [{ name: 'X.Y', metadata: {} }]),
      record('odd', '1.0.0', [
        { name: 'not-an-endpoint', metadata: {} },
        {
          name: 'Odd.Call',
          metadata: { stream: 'true' },
          request: {
            $id: 'https://elsewhere.example/schema',
            $schema: 'http://json-schema.org/draft-07/schema#',
            type: 'object',
            properties: {
              gone: { $ref: '#/$defs/missing' },
              far: { $ref: '../other.json' },
              self: { $ref: '#' },
              legacy: { $ref: '#/definitions/Old' },
              deep,
              ['__proto__']: { type: 'string' },
            },
            definitions: { Old: { type: 'integer' } },
          },
        },
      ]),
    ]
    const document = buildOpenApiDocument(records)
    await assertValid(document)
    assert.deepEqual(Object.keys(document.paths).sort(), [
      '/api/greeter/Greeter.Bye',
      '/api/greeter/Greeter.Hello',
      '/api/odd/Odd.Call',
      '/rpc',
    ])
    assert.equal(document.paths['/api/greeter/Greeter.Hello']?.post?.description, 'Says hello.')
    const schema = Object.values(document.components.schemas).find(
      (s) => (s as any).properties?.legacy,
    ) as any
    assert.deepEqual(schema.properties.gone, {})
    assert.deepEqual(schema.properties.far, {})
    assert.match(schema.properties.self.$ref, /^#\/components\/schemas\/odd\.Odd\.Call\.Request$/)
    assert.match(schema.properties.legacy.$ref, /^#\/components\/schemas\/odd\.Odd\.Call\.Request\.Old$/)
    assert.equal(schema.$id, undefined)
    assert.equal(Object.getPrototypeOf(schema.properties), Object.prototype)
  })
})

function record(name: string, version: string, endpoints: ServiceRecord['endpoints']): ServiceRecord {
  return { name, version, metadata: {}, endpoints, nodes: [] }
}
