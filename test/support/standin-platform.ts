// A stand-in for the platform service (src/platform/services), for the CLI's tests until
// that is merged: a real service named `platform` on a real port whose Registry, Proxy,
// Store, Events and Broker handlers are tiny real implementations over real blocks,
// speaking the request shapes documented in src/cli/platform/*.ts. The lead switches
// these tests to the real platform service once both are on main.
import type { Broker } from '../../src/broker/broker.js'
import { createBroker } from '../../src/broker/from-env.js'
import { publish } from '../../src/broker/publish.js'
import { defaultCodecs } from '../../src/codec/codecs.js'
import { notFound } from '../../src/errors/errors.js'
import type { Events } from '../../src/events/events.js'
import { createEvents } from '../../src/events/from-env.js'
import { createLogger } from '../../src/logger/logger.js'
import type { Registry } from '../../src/registry/registry.js'
import type { Context } from '../../src/server/context.js'
import { createService, type Service } from '../../src/service/service.js'
import { createStore } from '../../src/store/from-env.js'
import type { QueryOptions, Store } from '../../src/store/store.js'

type Body = Record<string, any>

/** A running stand-in platform: its address, and the blocks behind it for assertions. */
export interface StandInPlatform {
  address: string
  service: Service
  store: Store
  events: Events
  broker: Broker
  stop(): Promise<void>
}

/** Start the stand-in on 127.0.0.1 port 0, finding services in `registry`. */
export async function startStandInPlatform(registry: Registry): Promise<StandInPlatform> {
  const store = createStore('memory')
  const events = createEvents('memory')
  const broker = createBroker('memory')
  const service = createService({
    name: 'platform',
    namespace: 'micro',
    address: '127.0.0.1:0',
    registry,
    logger: createLogger({ level: 'silent' }),
    handleSignals: false,
  })
  const client = service.client

  service.handle(
    {
      GetService: async (req: Body) => ({
        services: await registry.getService(req.service, { namespace: req.namespace }),
      }),
      ListServices: async (req: Body) => ({
        services: await registry.listServices({ namespace: req.namespace }),
      }),
    },
    { name: 'Registry', endpoints: ['GetService', 'ListServices'] },
  )

  service.handle(
    {
      Call: (req: Body) =>
        client.call(req.service, req.endpoint, req.request ?? {}, {
          namespace: req.namespace,
          metadata: req.metadata,
          timeout: req.timeout,
          version: req.version,
        }),
      async *Stream(input: AsyncIterable<Body>, ctx: Context) {
        const messages = input[Symbol.asyncIterator]()
        const first = await messages.next()
        if (first.done) return
        const target = first.value
        const stream = client.stream(target.service, target.endpoint, {
          namespace: target.namespace,
          metadata: target.metadata,
          version: target.version,
          signal: ctx.signal,
        })
        stream.sendAll({ [Symbol.asyncIterator]: () => messages }).catch(() => stream.cancel('input failed'))
        yield* stream
      },
    },
    { name: 'Proxy', endpoints: ['Call', 'Stream'] },
  )

  service.handle(
    {
      Read: async (req: Body) => {
        const scope = { namespace: req.namespace, database: req.database, table: req.table }
        if (typeof req.key === 'string') return { records: [await store.read(req.key, scope)] }
        return { records: await store.read({ ...scope, ...query(req) }) }
      },
      Write: async (req: Body) => {
        const { key, value, metadata, ttl, namespace, database, table } = req
        await store.write(key, value, { metadata, ttl, namespace, database, table })
        return {}
      },
      Delete: async (req: Body) => {
        await store.delete(req.key, { namespace: req.namespace, database: req.database, table: req.table })
        return {}
      },
      List: async (req: Body) => ({
        keys: await store.list({
          namespace: req.namespace,
          database: req.database,
          table: req.table,
          ...query(req),
        }),
      }),
      Databases: async (req: Body) => ({ databases: await store.databases({ namespace: req.namespace }) }),
      Tables: async (req: Body) => ({
        tables: await store.tables({ namespace: req.namespace, database: req.database }),
      }),
    },
    { name: 'Store', endpoints: ['Read', 'Write', 'Delete', 'List', 'Databases', 'Tables'] },
  )

  service.handle(
    {
      Publish: (req: Body) =>
        events.publish(req.topic, req.payload, { namespace: req.namespace, metadata: req.metadata }),
      Read: async (req: Body) => ({
        events: (
          await events.read(req.topic, {
            namespace: req.namespace,
            offset: req.offset,
            since: req.since ? new Date(req.since) : undefined,
            limit: req.limit,
          })
        ).map(({ raw: _raw, ...event }) => event),
      }),
      async *Consume(input: AsyncIterable<Body>, ctx: Context) {
        const messages = input[Symbol.asyncIterator]()
        const first = await messages.next()
        if (first.done) return
        const req = first.value
        const stop = new AbortController()
        ctx.signal.addEventListener('abort', () => stop.abort(), { once: true })
        const offset = typeof req.offset === 'string' ? new Date(req.offset) : req.offset
        const consumer = events.consume(req.topic, {
          namespace: req.namespace,
          group: req.group,
          offset,
          ack: req.ack === 'manual' ? 'manual' : 'auto',
          signal: stop.signal,
        })
        const pending = new Map<string, { ack(): Promise<void>; nack(reason?: string): Promise<void> }>()
        const acks = (async () => {
          for (let m = await messages.next(); !m.done; m = await messages.next()) {
            const id = m.value.ack ?? m.value.nack
            const event = pending.get(id)
            pending.delete(id)
            if (m.value.ack) await event?.ack()
            else await event?.nack(m.value.reason)
          }
        })().catch(() => {})
        try {
          for await (const event of consumer) {
            pending.set(event.id, event)
            const { raw: _raw, ack: _ack, nack: _nack, ...shown } = event
            yield shown
          }
        } finally {
          stop.abort()
          void acks
        }
      },
    },
    { name: 'Events', endpoints: ['Publish', 'Read', 'Consume'] },
  )

  service.handle(
    {
      Publish: async (req: Body) => ({
        id: await publish(broker, `${req.namespace}.${req.topic}`, req.message, { metadata: req.metadata }),
      }),
      async *Subscribe(input: AsyncIterable<Body>, ctx: Context) {
        const messages = input[Symbol.asyncIterator]()
        const first = await messages.next()
        if (first.done) return
        const req = first.value
        const queue: Body[] = []
        let wake: () => void = () => {}
        const stop = new AbortController()
        ctx.signal.addEventListener(
          'abort',
          () => {
            stop.abort()
            wake()
          },
          { once: true },
        )
        await broker.subscribe(
          `${req.namespace}.${req.topic}`,
          (delivery) => {
            const codec = defaultCodecs.get(delivery.headers['content-type'])
            queue.push({
              topic: req.topic,
              id: delivery.id,
              headers: delivery.headers,
              payload: codec ? codec.decode(delivery.body) : Buffer.from(delivery.body).toString('base64'),
            })
            wake()
          },
          { queue: req.queue, signal: stop.signal },
        )
        try {
          while (!stop.signal.aborted) {
            while (queue.length > 0) yield queue.shift()
            await new Promise<void>((resolve) => {
              wake = resolve
              if (stop.signal.aborted) resolve()
            })
          }
        } finally {
          stop.abort()
        }
      },
    },
    { name: 'Broker', endpoints: ['Publish', 'Subscribe'] },
  )

  await service.start()
  const address = service.address
  if (!address) throw notFound('standin', 'the stand-in platform has no address')
  return {
    address,
    service,
    store,
    events,
    broker,
    async stop() {
      await service.stop()
      await Promise.all([store.close(), events.close(), broker.close()])
    },
  }
}

function query(req: Body): QueryOptions {
  return { prefix: req.prefix, suffix: req.suffix, limit: req.limit, offset: req.offset, order: req.order }
}
