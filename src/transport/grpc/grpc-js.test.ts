import assert from 'node:assert/strict'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import { fromBinary } from '@bufbuild/protobuf'
import { FileDescriptorProtoSchema } from '@bufbuild/protobuf/wkt'
import * as grpc from '@grpc/grpc-js'
import * as loader from '@grpc/proto-loader'
import type { Service } from '../../service/service.js'
import type { GreeterLog } from './testdata/greeter.js'
import { PROTO_ROOT, serveGreeter, TESTDATA } from './testdata/serve.js'

// Interop with @grpc/grpc-js, the reference gRPC library for Node, using its own stubs
// (@grpc/proto-loader reads the .proto files): nothing here is micro-ts on the client side.

const LOAD = { keepCase: true, longs: String, enums: String, defaults: true, oneofs: true }
type Any = any

function loadPackage(file: string, includeDirs: string[]): Any {
  return grpc.loadPackageDefinition(loader.loadSync(file, { ...LOAD, includeDirs }))
}

const waitFor = async (check: () => boolean, ms = 5000) => {
  const end = Date.now() + ms
  while (!check()) {
    if (Date.now() > end) throw new Error('condition not met in time')
    await new Promise((r) => setTimeout(r, 5))
  }
}

function unary(
  client: Any,
  method: string,
  request: unknown,
  options: grpc.CallOptions = {},
  md?: grpc.Metadata,
) {
  return new Promise<Any>((resolve, reject) =>
    client[method](request, md ?? new grpc.Metadata(), options, (error: Any, reply: Any) =>
      error ? reject(error) : resolve(reply),
    ),
  )
}

function collect(call: Any): Promise<Any[]> {
  return new Promise((resolve, reject) => {
    const out: Any[] = []
    call.on('data', (m: Any) => out.push(m))
    call.on('end', () => resolve(out))
    call.on('error', reject)
  })
}

describe('gRPC interop: @grpc/grpc-js client against a micro-ts gRPC service', () => {
  let service: Service
  let log: GreeterLog
  let greeter: Any
  let health: Any
  const closers: (() => unknown)[] = []

  before(async () => {
    ;({ service, log } = await serveGreeter())
    const address = service.address as string
    const pkg = loadPackage('greeter.proto', [TESTDATA])
    greeter = new pkg.helloworld.v1.Greeter(address, grpc.credentials.createInsecure())
    const hpkg = loadPackage('grpc/health/v1/health.proto', [PROTO_ROOT])
    health = new hpkg.grpc.health.v1.Health(address, grpc.credentials.createInsecure())
    closers.push(
      () => greeter.close(),
      () => health.close(),
    )
  })
  after(async () => {
    for (const close of closers) close()
    await service.stop()
  })

  test('unary: protobuf request and reply, 64-bit integers and enums intact', async () => {
    const reply = await unary(greeter, 'SayHello', { name: 'Alice', count: '41', mood: 'MOOD_HAPPY' })
    assert.deepEqual(
      { message: reply.message, count: reply.count, mood: reply.mood },
      { message: 'Hello Alice', count: '42', mood: 'MOOD_HAPPY' },
    )
  })

  test('server streaming, client streaming and bidirectional streaming', async () => {
    const lots = await collect(greeter.Lots({ name: 'n', count: '3' }))
    assert.deepEqual(
      lots.map((m) => m.message),
      ['n 0', 'n 1', 'n 2'],
    )
    const gathered = await new Promise<Any>((resolve, reject) => {
      const call = greeter.Gather((error: Any, reply: Any) => (error ? reject(error) : resolve(reply)))
      for (const name of ['a', 'b', 'c']) call.write({ name })
      call.end()
    })
    assert.equal(gathered.message, 'a,b,c')
    assert.equal(gathered.count, '3')
    const chat = greeter.Chat()
    const replies = collect(chat)
    for (const name of ['x', 'y']) chat.write({ name })
    chat.end()
    assert.deepEqual(
      (await replies).map((m) => m.message),
      ['Hi x', 'Hi y'],
    )
  })

  test('errors map to gRPC status codes with the detail as the message', async () => {
    const cases: [string, number][] = [
      ['fail:404', grpc.status.NOT_FOUND],
      ['fail:400', grpc.status.INVALID_ARGUMENT],
      ['fail:403', grpc.status.PERMISSION_DENIED],
      ['fail:429', grpc.status.RESOURCE_EXHAUSTED],
      ['fail:503', grpc.status.UNAVAILABLE],
      ['throw', grpc.status.INTERNAL],
    ]
    for (const [name, code] of cases) {
      await assert.rejects(unary(greeter, 'SayHello', { name }), (e: Any) => {
        assert.equal(e.code, code, `${name} gave ${e.code}`)
        assert.match(e.details, name === 'throw' ? /a plain error/ : /asked to fail/)
        return true
      })
    }
  })

  test('an unknown method is UNIMPLEMENTED and the service keeps serving', async () => {
    const raw = new grpc.Client(service.address as string, grpc.credentials.createInsecure())
    closers.push(() => raw.close())
    await assert.rejects(
      new Promise((resolve, reject) =>
        raw.makeUnaryRequest(
          '/helloworld.v1.Greeter/Nope',
          (b: Buffer) => b,
          (b: Buffer) => b,
          Buffer.alloc(0),
          (e, v) => (e ? reject(e) : resolve(v)),
        ),
      ),
      (e: Any) => e.code === grpc.status.UNIMPLEMENTED,
    )
    assert.equal((await unary(greeter, 'SayHello', { name: 'after' })).message, 'Hello after')
  })

  test('metadata reaches the handler; binary metadata stays base64', async () => {
    const md = new grpc.Metadata()
    md.set('x-tenant', 'acme')
    md.set('x-blob-bin', Buffer.from([1, 2, 3]))
    await unary(greeter, 'SayHello', { name: 'meta' }, {}, md)
    const seen = log.metadata.at(-1) as Record<string, string>
    assert.equal(seen['x-tenant'], 'acme')
    assert.equal(Buffer.from(seen['x-blob-bin'] as string, 'base64').toString('hex'), '010203')
    assert.equal(seen['content-type'], 'application/protobuf')
  })

  test('a deadline reaches the handler and the call fails with DEADLINE_EXCEEDED', async () => {
    const before = log.waits.length
    await assert.rejects(
      unary(greeter, 'Wait', { name: 'slow' }, { deadline: Date.now() + 300 }),
      (e: Any) => e.code === grpc.status.DEADLINE_EXCEEDED,
    )
    const ctx = log.waits[before]
    assert.ok(ctx?.deadline !== undefined, 'the handler saw no deadline')
    await waitFor(() => ctx.signal.aborted)
  })

  test('a client cancel aborts the handler', async () => {
    const before = log.waits.length
    const call = greeter.Wait({ name: 'cancel me' }, () => {})
    await waitFor(() => log.waits.length > before)
    call.cancel()
    await waitFor(() => log.waits[before]?.signal.aborted === true)
  })

  test('grpc.health.v1: Check for the whole service, a served service and an unknown one', async () => {
    assert.equal((await unary(health, 'Check', { service: '' })).status, 'SERVING')
    assert.equal((await unary(health, 'Check', { service: 'helloworld.v1.Greeter' })).status, 'SERVING')
    assert.equal((await unary(health, 'Check', { service: 'greeter' })).status, 'SERVING')
    await assert.rejects(
      unary(health, 'Check', { service: 'no.Such' }),
      (e: Any) => e.code === grpc.status.NOT_FOUND,
    )
  })

  for (const version of ['v1', 'v1alpha']) {
    test(`server reflection ${version}: list services, describe one by symbol and by file`, async () => {
      const rpkg = loadPackage(`grpc/reflection/${version}/reflection.proto`, [PROTO_ROOT])
      const reflection = new rpkg.grpc.reflection[version].ServerReflection(
        service.address as string,
        grpc.credentials.createInsecure(),
      )
      closers.push(() => reflection.close())
      const call = reflection.ServerReflectionInfo()
      const replies = collect(call)
      call.write({ host: 'h', list_services: '' })
      call.write({ file_containing_symbol: 'helloworld.v1.Greeter.SayHello' })
      call.write({ file_by_filename: 'grpc/health/v1/health.proto' })
      call.write({ file_containing_symbol: 'no.Such' })
      call.end()
      const [list, bySymbol, byFile, missing] = await replies
      assert.equal(list.valid_host, 'h')
      assert.deepEqual(
        list.list_services_response.service.map((s: Any) => s.name),
        [
          'grpc.health.v1.Health',
          'grpc.reflection.v1.ServerReflection',
          'grpc.reflection.v1alpha.ServerReflection',
          'helloworld.v1.Greeter',
        ],
      )
      const file = fromBinary(
        FileDescriptorProtoSchema,
        bySymbol.file_descriptor_response.file_descriptor_proto[0],
      )
      assert.equal(file.name, 'greeter.proto')
      assert.deepEqual(
        file.service[0]?.method.map((m) => m.name),
        ['SayHello', 'Wait', 'Lots', 'Gather', 'Chat'],
      )
      const healthFile = fromBinary(
        FileDescriptorProtoSchema,
        byFile.file_descriptor_response.file_descriptor_proto[0],
      )
      assert.equal(healthFile.package, 'grpc.health.v1')
      assert.equal(missing.error_response.error_code, grpc.status.NOT_FOUND)
    })
  }

  test('the registry shows a grpc node and the endpoints with their gRPC paths', async () => {
    const [record] = await service.registry.getService('greeter')
    const node = record?.nodes[0]
    assert.equal(node?.metadata.protocol, 'grpc')
    assert.equal(node?.metadata.transport, 'grpc')
    const sayHello = record?.endpoints.find((e) => e.name === 'Greeter.SayHello')
    assert.equal(sayHello?.metadata.grpc, '/helloworld.v1.Greeter/SayHello')
    assert.equal(sayHello?.metadata.idempotent, 'true')
    assert.equal(record?.endpoints.find((e) => e.name === 'Greeter.Lots')?.metadata.stream, 'true')
    assert.equal(
      record?.endpoints.some((e) => e.name.startsWith('ServerReflection') || e.name === 'Health.Check'),
      false,
      'health and reflection are internal',
    )
  })
})

describe('gRPC interop: health Watch follows the service down', () => {
  test('Watch sends SERVING, then NOT_SERVING when the service drains, and the drain completes', async () => {
    const { service } = await serveGreeter()
    const hpkg = loadPackage(join('grpc/health/v1/health.proto'), [PROTO_ROOT])
    const health = new hpkg.grpc.health.v1.Health(
      service.address as string,
      grpc.credentials.createInsecure(),
    )
    try {
      const watch = health.Watch({ service: '' })
      const statuses: string[] = []
      const ended = new Promise<void>((resolve) => {
        watch.on('data', (m: Any) => statuses.push(m.status))
        watch.on('end', resolve)
        watch.on('error', () => resolve())
      })
      await waitFor(() => statuses.length === 1)
      assert.equal(statuses[0], 'SERVING')
      await service.stop()
      await ended
      assert.deepEqual(statuses, ['SERVING', 'NOT_SERVING'])
    } finally {
      health.close()
      await service.stop()
    }
  })
})
