import { forbidden } from '../errors/errors.js'
import { objectSchema, recordJson, text, whole } from './arguments.js'
import type { PlatformSources, ServiceSource } from './sources.js'
import type { ToolEntry } from './tools.js'

/** The scope platform tools need: the platform's administrators. */
export const ADMIN_SCOPE = 'admin'

const NAMESPACE = { type: 'string', description: 'The namespace (default: the one served).' }

/**
 * The admin-only platform tools, Go Micro 6's names: `micro_registry_list`,
 * `micro_store_read` and `micro_broker_publish` (the last two only with a store and a
 * publisher). Off unless the server is given them; each needs the `admin` scope (over HTTP a
 * verified token holding it), and the store's `auth` database of namespace `micro` is never
 * read.
 */
export function platformTools(services: ServiceSource, sources: PlatformSources): ToolEntry[] {
  const tools: ToolEntry[] = [
    {
      kind: 'platform',
      target: { service: 'platform', endpoint: 'Registry.ListServices', scopes: [ADMIN_SCOPE], admin: true },
      tool: {
        name: 'micro_registry_list',
        title: 'List services',
        description:
          'Lists the registered services of a namespace: versions, endpoints and node count. Admins only.',
        inputSchema: objectSchema({ namespace: NAMESPACE }),
        annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true },
      },
      async run(args, run) {
        const namespace = text(args, 'namespace') ?? run.namespace
        const records = await services.listServices(namespace)
        return {
          services: records.map((s) => ({
            name: s.name,
            version: s.version,
            endpoints: (s.endpoints ?? []).map((e) => e.name),
            nodes: (s.nodes ?? []).length,
          })),
        }
      },
    },
  ]
  const { store, publisher } = sources
  if (store) {
    tools.push({
      kind: 'platform',
      target: { service: 'platform', endpoint: 'Store.Read', scopes: [ADMIN_SCOPE], admin: true },
      tool: {
        name: 'micro_store_read',
        title: 'Read the store',
        description:
          'Reads records from the store: one key, or up to `limit` records whose keys start with `prefix`. Admins only.',
        inputSchema: objectSchema({
          key: { type: 'string' },
          prefix: { type: 'string' },
          database: { type: 'string' },
          table: { type: 'string' },
          namespace: NAMESPACE,
          limit: { type: 'integer', minimum: 1, maximum: 100, default: 20 },
        }),
        annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true },
      },
      run: (args, run) => readStore(store, args, text(args, 'namespace') ?? run.namespace),
    })
  }
  if (publisher) {
    tools.push({
      kind: 'platform',
      target: { service: 'platform', endpoint: 'Broker.Publish', scopes: [ADMIN_SCOPE], admin: true },
      tool: {
        name: 'micro_broker_publish',
        title: 'Publish a message',
        description: 'Publishes a JSON message on a broker topic and answers its id. Admins only.',
        inputSchema: objectSchema({ topic: { type: 'string' }, message: {}, namespace: NAMESPACE }, [
          'topic',
        ]),
        annotations: {
          readOnlyHint: false,
          destructiveHint: false,
          idempotentHint: false,
          openWorldHint: true,
        },
      },
      async run(args, run) {
        const topic = text(args, 'topic', true)
        const id = await publisher.publish(topic, args.message ?? {}, {
          namespace: text(args, 'namespace') ?? run.namespace,
        })
        return { topic, id }
      },
    })
  }
  return tools
}

/** One record by key, or a page of records by prefix; never the platform's auth records. */
export async function readStore(
  store: NonNullable<PlatformSources['store']>,
  args: Record<string, unknown>,
  namespace: string,
): Promise<unknown> {
  const database = text(args, 'database')
  const table = text(args, 'table')
  if (namespace === 'micro' && database === 'auth')
    throw forbidden('micro.mcp', 'the auth database of namespace micro is not readable through MCP')
  const key = text(args, 'key')
  const scope = { namespace, database, table }
  if (key !== undefined) return recordJson(await store.read(key, scope))
  const limit = whole(args, 'limit', 20, 100)
  const records = await store.read({ ...scope, prefix: text(args, 'prefix'), limit })
  return { records: records.map(recordJson) }
}
