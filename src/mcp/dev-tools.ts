import { badRequest, notFound } from '../errors/errors.js'
import type { ServiceRecord } from '../registry/registry.js'
import { jsonValue, objectSchema, since, text, whole } from './arguments.js'
import { ADMIN_SCOPE, readStore } from './platform-tools.js'
import type { CallSource, DevSources, ServiceSource } from './sources.js'
import type { ToolEntry } from './tools.js'

const READ = { readOnlyHint: true, destructiveHint: false, idempotentHint: true } as const
const SINCE = {
  type: 'string',
  description: 'Only since then: a duration back from now (10m, 2h) or an ISO time.',
}

/** A developer tool: admin-only over HTTP, the CLI user's own over stdio. */
function devTool(
  name: string,
  description: string,
  inputSchema: ReturnType<typeof objectSchema>,
  endpoint: string,
  run: ToolEntry['run'],
): ToolEntry {
  return {
    kind: 'dev',
    target: { service: 'platform', endpoint, scopes: [ADMIN_SCOPE], admin: true },
    tool: { name, title: name.replace(/_/g, ' '), description, inputSchema, annotations: READ },
    run,
  }
}

/**
 * The developer-facing tools of `micro mcp serve --dev` (Encore's idea: an agent working on
 * the code can see the running system): services and endpoints, calling an endpoint, recent
 * traces and their spans, a service's logs, the store, event topics, events and dead
 * letters. A tool appears only when its source is there.
 */
export function devTools(services: ServiceSource, client: CallSource, sources: DevSources): ToolEntry[] {
  const tools: ToolEntry[] = [
    devTool(
      'get_services',
      'Lists the running services with their versions and endpoints; with `service`, that service in full (request and response JSON Schemas, metadata, nodes).',
      objectSchema({ service: { type: 'string' } }),
      'Registry.ListServices',
      async (args, run) => {
        const records = await services.listServices(run.namespace)
        const name = text(args, 'service')
        if (name !== undefined) {
          const found = records.filter((s) => s.name === name)
          if (found.length === 0)
            throw notFound('micro.mcp', `no service ${name} in namespace ${run.namespace}`)
          return { services: found }
        }
        return { services: summarize(records) }
      },
    ),
    {
      kind: 'dev',
      target: { service: '', endpoint: '', scopes: [] },
      targetOf: (args, scopesOf) => {
        const service = text(args, 'service', true)
        const endpoint = text(args, 'endpoint', true)
        return { service, endpoint, scopes: scopesOf(service, endpoint) }
      },
      tool: {
        name: 'call_endpoint',
        title: 'call endpoint',
        description:
          'Calls an endpoint of a service (`Handler.Method`) with a JSON request and answers with its reply, or the error JSON {id, code, detail, status}.',
        inputSchema: objectSchema(
          {
            service: { type: 'string' },
            endpoint: { type: 'string', description: 'Handler.Method, e.g. Greeter.Hello' },
            request: { description: 'The JSON request (default {}).' },
            timeout: { type: 'integer', minimum: 1, maximum: 300_000, description: 'ms' },
          },
          ['service', 'endpoint'],
        ),
        annotations: { readOnlyHint: false, destructiveHint: true, openWorldHint: true },
      },
      run: (args, run) =>
        client.call(text(args, 'service', true), text(args, 'endpoint', true), args.request ?? {}, {
          metadata: run.metadata,
          signal: run.signal,
          timeout: whole(args, 'timeout', run.timeout, 300_000),
          namespace: run.namespace,
        }),
    },
  ]
  const { traces, logs, store, events } = sources
  if (traces) {
    tools.push(
      devTool(
        'get_traces',
        'Lists recent traces, newest first: root span name, services, duration, span and error counts. Filter by service, endpoint (any span name), status, minimum duration (ms) and time.',
        objectSchema({
          service: { type: 'string' },
          endpoint: { type: 'string' },
          status: { type: 'string', enum: ['ok', 'error'] },
          minDuration: { type: 'number', minimum: 0 },
          since: SINCE,
          limit: { type: 'integer', minimum: 1, maximum: 200, default: 20 },
        }),
        'Traces.List',
        async (args) => {
          const status = text(args, 'status')
          if (status !== undefined && status !== 'ok' && status !== 'error')
            throw badRequest('micro.mcp', 'status must be ok or error')
          const minDuration = args.minDuration
          if (minDuration !== undefined && (typeof minDuration !== 'number' || !(minDuration >= 0)))
            throw badRequest('micro.mcp', 'minDuration must be a number of ms')
          return {
            traces: await traces.list({
              service: text(args, 'service'),
              endpoint: text(args, 'endpoint'),
              status,
              minDuration,
              since: since(args, 'since'),
              limit: whole(args, 'limit', 20, 200),
            }),
          }
        },
      ),
      devTool(
        'get_trace_spans',
        'Every span of one trace: names, services, kinds, timings, status, attributes and events.',
        objectSchema({ traceId: { type: 'string', pattern: '^[0-9a-f]{32}$' } }, ['traceId']),
        'Traces.Get',
        async (args) => {
          const traceId = text(args, 'traceId', true)
          if (!/^[0-9a-f]{32}$/.test(traceId))
            throw badRequest('micro.mcp', 'traceId must be 32 hex characters')
          const spans = await traces.get(traceId)
          if (spans === undefined) throw notFound('micro.mcp', `no trace ${traceId}`)
          return { traceId, spans }
        },
      ),
    )
  }
  if (logs) {
    tools.push(
      devTool(
        'get_logs',
        "A service's recent output (stdout, stderr and the runtime's notes), oldest first.",
        objectSchema(
          {
            service: { type: 'string' },
            lines: { type: 'integer', minimum: 1, maximum: 1000, default: 100 },
            since: SINCE,
          },
          ['service'],
        ),
        'Runtime.Logs',
        async (args, run) => {
          const name = text(args, 'service', true)
          const lines = whole(args, 'lines', 100, 1000)
          const out = []
          for await (const record of logs.logs(
            { namespace: run.namespace, name },
            { lines, since: since(args, 'since'), follow: false, signal: run.signal },
          )) {
            out.push(record)
            if (out.length >= lines) break
          }
          return { service: name, lines: out }
        },
      ),
    )
  }
  if (store) {
    tools.push(
      devTool(
        'store_read',
        'Reads the store: one key, or up to `limit` records whose keys start with `prefix`, in a database and table (default micro/micro).',
        objectSchema({
          key: { type: 'string' },
          prefix: { type: 'string' },
          database: { type: 'string' },
          table: { type: 'string' },
          limit: { type: 'integer', minimum: 1, maximum: 100, default: 20 },
        }),
        'Store.Read',
        (args, run) => readStore(store, args, run.namespace),
      ),
    )
  }
  if (events) {
    const { inspector } = events
    if (inspector) {
      tools.push(
        devTool(
          'get_event_topics',
          'Event topics (dead-letter topics too) with their event counts, and each consumer group with its position, pending, lag and retrying counts.',
          objectSchema({}),
          'Events.Topics',
          async (_args, run) => {
            const topics = await inspector.listTopics({ namespace: run.namespace })
            return {
              topics: await Promise.all(
                topics.map(async (t) => ({
                  ...t,
                  groups: await inspector.listGroups(t.topic, { namespace: run.namespace }),
                })),
              ),
            }
          },
        ),
      )
    }
    const readEvents = async (topic: string, args: Record<string, unknown>, namespace: string) => {
      const offset =
        args.offset === undefined ? undefined : whole(args, 'offset', 0, Number.MAX_SAFE_INTEGER, 0)
      const after = since(args, 'since')
      const stored = await events.events.read(topic, {
        namespace,
        offset,
        since: after === undefined ? undefined : new Date(after),
        limit: whole(args, 'limit', 20, 200),
      })
      return stored.map((e) => {
        const out: Record<string, unknown> = {
          id: e.id,
          sequence: e.sequence,
          timestamp: e.timestamp.toISOString(),
          metadata: e.metadata,
          contentType: e.contentType,
          payload: jsonValue(e.payload),
        }
        if (e.decodeError !== undefined) out.decodeError = e.decodeError
        return out
      })
    }
    const page = {
      offset: { type: 'integer', minimum: 0, description: 'The first sequence number.' },
      since: SINCE,
      limit: { type: 'integer', minimum: 1, maximum: 200, default: 20 },
    }
    tools.push(
      devTool(
        'get_events',
        'Events of a topic in order, from an offset or a time: id, sequence, time, metadata and payload.',
        objectSchema({ topic: { type: 'string' }, ...page }, ['topic']),
        'Events.Read',
        async (args, run) => {
          const topic = text(args, 'topic', true)
          return { topic, events: await readEvents(topic, args, run.namespace) }
        },
      ),
      devTool(
        'get_dead_letters',
        'Events that failed on a topic (its dead-letter topic, `<topic>.dead` unless `deadTopic` names another), each with the reason, group and attempts in its metadata.',
        objectSchema({ topic: { type: 'string' }, deadTopic: { type: 'string' }, ...page }, ['topic']),
        'Events.Read',
        async (args, run) => {
          const topic = text(args, 'topic', true)
          const dead = text(args, 'deadTopic') ?? `${topic}.dead`
          return { topic, deadTopic: dead, events: await readEvents(dead, args, run.namespace) }
        },
      ),
    )
  }
  return tools
}

/** Services by name: versions, node count, endpoints with their descriptions. */
function summarize(records: readonly ServiceRecord[]) {
  type Entry = { name: string; versions: string[]; nodes: number; endpoints: Map<string, unknown> }
  const byName = new Map<string, Entry>()
  for (const record of records) {
    const entry: Entry = byName.get(record.name) ?? {
      name: record.name,
      versions: [],
      nodes: 0,
      endpoints: new Map(),
    }
    entry.versions.push(record.version)
    entry.nodes += (record.nodes ?? []).length
    for (const endpoint of record.endpoints ?? []) {
      if (entry.endpoints.has(endpoint.name)) continue
      const summary: Record<string, unknown> = { name: endpoint.name }
      if (endpoint.metadata?.description) summary.description = endpoint.metadata.description
      if (endpoint.metadata?.stream === 'true') summary.stream = true
      if (endpoint.metadata?.scopes) summary.scopes = endpoint.metadata.scopes.split(',')
      entry.endpoints.set(endpoint.name, summary)
    }
    byName.set(record.name, entry)
  }
  return [...byName.values()]
    .sort((a, b) => (a.name < b.name ? -1 : 1))
    .map((e) => ({
      name: e.name,
      versions: e.versions,
      nodes: e.nodes,
      endpoints: [...e.endpoints.values()],
    }))
}
