import { badRequest, notFound, serviceUnavailable } from '../../errors/errors.js'
import type { StoredEvent } from '../../events/events.js'
import type { StoreRecord } from '../../store/store.js'
import { maskSecrets } from '../config-source.js'
import type { ConfigSource, EventsSource } from '../sources.js'
import { DASHBOARD_ID, intParam, optionalString, startSse, stringField, stringMap } from './http.js'
import { HANDLED, type Route, type RouteContext } from './router.js'
import type { EventView, RecordView } from './types.js'

function events(ctx: RouteContext): EventsSource {
  if (!ctx.sources.events) throw serviceUnavailable(DASHBOARD_ID, 'no events are configured')
  return ctx.sources.events
}

function inspector(ctx: RouteContext) {
  const found = events(ctx).inspector
  if (!found)
    throw serviceUnavailable(
      DASHBOARD_ID,
      'these events cannot be inspected (memory, file, nats and redis can)',
    )
  return found
}

function store(ctx: RouteContext) {
  if (!ctx.sources.store) throw serviceUnavailable(DASHBOARD_ID, 'no store is configured')
  return ctx.sources.store
}

function config(ctx: RouteContext): ConfigSource {
  if (!ctx.sources.config) throw serviceUnavailable(DASHBOARD_ID, 'no config store is configured')
  return ctx.sources.config
}

/** An event as JSON: bytes as base64. */
export function eventView(event: StoredEvent): EventView {
  const view: EventView = {
    id: event.id,
    topic: event.topic,
    sequence: event.sequence,
    timestamp: event.timestamp.getTime(),
    metadata: event.metadata,
    contentType: event.contentType,
    payload:
      event.payload instanceof Uint8Array ? Buffer.from(event.payload).toString('base64') : event.payload,
  }
  if (event.decodeError !== undefined) view.decodeError = event.decodeError
  return view
}

function recordView(record: StoreRecord): RecordView {
  const bytes = record.value instanceof Uint8Array
  const view: RecordView = {
    key: record.key,
    value: bytes ? Buffer.from(record.value as Uint8Array).toString('base64') : record.value,
    metadata: record.metadata,
  }
  if (record.expiry !== undefined) view.expiry = record.expiry
  if (bytes) view.bytes = true
  return view
}

/** The store scope of a request: `?database=&table=` (or the body's). */
function scope(ctx: RouteContext, from: Record<string, unknown> = Object.fromEntries(ctx.query)) {
  return {
    namespace: ctx.namespace,
    database: optionalString(from, 'database', 256),
    table: optionalString(from, 'table', 256),
  }
}

/** Events (topics, groups, dead letters, tail, publish), the store and the config document. */
export function dataRoutes(): Route[] {
  return [
    {
      method: 'GET',
      path: '/events/topics',
      async handler(ctx) {
        const topics = await inspector(ctx).listTopics({ namespace: ctx.namespace })
        return {
          topics: topics.map((t) => ({
            topic: t.topic,
            events: t.events,
            lastSequence: t.lastSequence,
            lastTime: t.lastStored?.getTime(),
            dead: t.topic.endsWith('.dead'),
          })),
        }
      },
    },
    {
      method: 'GET',
      path: '/events/topics/:topic/groups',
      handler: async (ctx) => ({
        groups: await inspector(ctx).listGroups(ctx.params.topic as string, { namespace: ctx.namespace }),
      }),
    },
    {
      method: 'GET',
      path: '/events/topics/:topic/events',
      async handler(ctx) {
        const read = await events(ctx).events.read(ctx.params.topic as string, {
          namespace: ctx.namespace,
          offset: intParam(ctx.query.get('offset'), 'offset', 1, Number.MAX_SAFE_INTEGER, 1),
          limit: intParam(ctx.query.get('limit'), 'limit', 100, 1000, 1),
        })
        return { events: read.map(eventView) }
      },
    },
    {
      method: 'GET',
      path: '/events/topics/:topic/tail',
      async handler(ctx) {
        const source = events(ctx).events
        const topic = ctx.params.topic as string
        const namespace = ctx.namespace
        // Check the topic before answering 200; then follow it by reading, which settles nothing.
        await source.read(topic, { namespace, limit: 1 })
        let next = intParam(ctx.query.get('offset'), 'offset', 0, Number.MAX_SAFE_INTEGER)
        if (next === 0) {
          const info = (await inspector(ctx).listTopics({ namespace })).find((t) => t.topic === topic)
          next = (info?.lastSequence ?? 0) + 1
        }
        const sse = startSse(ctx.req, ctx.res)
        void (async () => {
          while (!sse.signal.aborted) {
            try {
              const batch = await source.read(topic, { namespace, offset: next, limit: 100 })
              for (const event of batch) sse.send('event', eventView(event))
              if (batch.length > 0) next = (batch.at(-1) as StoredEvent).sequence + 1
              if (batch.length === 100) continue
            } catch (error) {
              sse.send('error', { detail: (error as Error).message })
            }
            await new Promise((resolve) => setTimeout(resolve, 300).unref())
          }
        })()
        return HANDLED
      },
    },
    {
      method: 'POST',
      path: '/events/topics/:topic/publish',
      mutates: true,
      async handler(ctx) {
        const body = await ctx.body()
        if (!('payload' in body)) throw badRequest(DASHBOARD_ID, 'payload is required')
        const metadata = stringMap(body.metadata, 'metadata')
        const record = await events(ctx).events.publish(ctx.params.topic as string, body.payload, {
          namespace: ctx.namespace,
          ...(metadata ? { metadata } : {}),
        })
        return { ...record, timestamp: record.timestamp.getTime() }
      },
    },
    {
      method: 'POST',
      path: '/events/dead/:topic/:sequence/replay',
      mutates: true,
      async handler(ctx) {
        const sequence = intParam(ctx.params.sequence, 'sequence', 0, Number.MAX_SAFE_INTEGER, 1)
        const record = await inspector(ctx).replayDeadLetter(ctx.params.topic as string, sequence, {
          namespace: ctx.namespace,
        })
        return { ...record, timestamp: record.timestamp.getTime() }
      },
    },
    {
      method: 'GET',
      path: '/store/databases',
      handler: async (ctx) => ({ databases: await store(ctx).databases({ namespace: ctx.namespace }) }),
    },
    {
      method: 'GET',
      path: '/store/tables',
      handler: async (ctx) => {
        const database = optionalString(Object.fromEntries(ctx.query), 'database', 256)
        return { tables: await store(ctx).tables({ namespace: ctx.namespace, database }) }
      },
    },
    {
      method: 'GET',
      path: '/store/records',
      async handler(ctx) {
        const limit = intParam(ctx.query.get('limit'), 'limit', 100, 1000, 1)
        const records = await store(ctx).read({
          ...scope(ctx),
          prefix: ctx.query.get('prefix')?.slice(0, 1024) || undefined,
          offset: intParam(ctx.query.get('offset'), 'offset', 0, 1_000_000),
          limit: limit + 1,
        })
        return { records: records.slice(0, limit).map(recordView), more: records.length > limit }
      },
    },
    {
      method: 'GET',
      path: '/store/record',
      async handler(ctx) {
        const key = stringField(Object.fromEntries(ctx.query), 'key', 4096)
        return recordView(await store(ctx).read(key, scope(ctx)))
      },
    },
    {
      method: 'PUT',
      path: '/store/record',
      mutates: true,
      async handler(ctx) {
        const body = await ctx.body()
        const key = stringField(body, 'key', 4096)
        if (!('value' in body)) throw badRequest(DASHBOARD_ID, 'value is required')
        const ttl =
          body.ttl === undefined || body.ttl === null
            ? undefined
            : intParam(body.ttl, 'ttl', 0, 10 * 365 * 86_400_000, 1)
        const metadata = body.metadata
        if (
          metadata !== undefined &&
          (typeof metadata !== 'object' || metadata === null || Array.isArray(metadata))
        )
          throw badRequest(DASHBOARD_ID, 'metadata must be an object')
        await store(ctx).write(key, body.value, {
          ...scope(ctx, body),
          ...(ttl !== undefined ? { ttl } : {}),
          ...(metadata ? { metadata: metadata as Record<string, unknown> } : {}),
        })
        return { written: key }
      },
    },
    {
      method: 'DELETE',
      path: '/store/record',
      mutates: true,
      async handler(ctx) {
        const key = stringField(Object.fromEntries(ctx.query), 'key', 4096)
        await store(ctx).delete(key, scope(ctx))
        return { deleted: key }
      },
    },
    {
      method: 'GET',
      path: '/config',
      handler: async (ctx) => maskSecrets(await config(ctx).read(ctx.namespace)),
    },
    {
      method: 'PUT',
      path: '/config',
      mutates: true,
      async handler(ctx) {
        const body = await ctx.body()
        const path = stringField(body, 'path', 1024)
        if (!('value' in body)) throw badRequest(DASHBOARD_ID, 'value is required')
        await config(ctx).set(ctx.namespace, path, body.value, body.secret === true)
        return { set: path }
      },
    },
    {
      method: 'DELETE',
      path: '/config',
      mutates: true,
      async handler(ctx) {
        const path = stringField(Object.fromEntries(ctx.query), 'path', 1024)
        if (!(await config(ctx).delete(ctx.namespace, path)))
          throw notFound(DASHBOARD_ID, `nothing at ${path}`)
        return { deleted: path }
      },
    },
    {
      method: 'POST',
      path: '/config/reveal',
      mutates: true,
      admin: true,
      async handler(ctx) {
        const path = stringField(await ctx.body(), 'path', 1024)
        return { path, value: await config(ctx).reveal(ctx.namespace, path) }
      },
    },
  ]
}
