import { createStore, STORE_NAMES } from '../../store/from-env.js'
import type { QueryOptions, Store, StoreRecord } from '../../store/store.js'
import { parseDuration } from '../../util/duration.js'
import { GLOBAL_HELP, type GlobalOptions, parseCommand, UsageError } from '../args.js'
import { readStdin } from '../input.js'
import { platformStore } from '../platform/blocks.js'

export const STORE_HELP = `Usage: micro store <read|write|delete|list|databases|tables> [options]

Read and change records in the store: the platform's when one is in use (micro env),
else the file store in ~/.micro/store (or --store).

  micro store write user:1 '{"name":"Alice"}' --ttl 1h
  micro store read user:1
  micro store read --prefix user: --limit 10
  micro store list --prefix user: --order desc
  micro store delete user:1
  micro store databases
  micro store tables --database shop

A written value is taken as JSON when it parses, else as a string ('-' reads standard
input). read prints the value of one key, or 'key<TAB>value' lines for a query.

Options:
  --database <db>           database (default micro)
  --table <table>           table (default micro)
  --prefix <text>           read/list: keys starting with this
  --suffix <text>           read/list: keys ending with this
  --limit <n>               read/list: at most n (0: no limit)
  --offset <n>              read/list: skip the first n matches
  --order <asc|desc>        read/list: key order (default asc)
  --ttl <duration>          write: expire after this long (e.g. 30s, 1h)
  --metadata <key=value>    write: metadata (repeatable)
  --store <name>            ${STORE_NAMES.join(', ')} (MICRO_STORE, default file)
  --store_address <addr>    the store's directory or URL (MICRO_STORE_ADDRESS)
${GLOBAL_HELP}`

const SUBCOMMANDS = ['read', 'write', 'delete', 'list', 'databases', 'tables']

/** `micro store ...`: the store from the command line. */
export async function storeCommand(argv: string[], out: (text: string) => void): Promise<number> {
  const { global, values, positionals } = parseCommand(argv, {
    database: { type: 'string' },
    table: { type: 'string' },
    prefix: { type: 'string' },
    suffix: { type: 'string' },
    limit: { type: 'string' },
    offset: { type: 'string' },
    order: { type: 'string' },
    ttl: { type: 'string' },
    metadata: { type: 'string', multiple: true },
    store: { type: 'string' },
    store_address: { type: 'string' },
  })
  const [action, ...args] = positionals
  if (global.help || !action) {
    out(STORE_HELP)
    return global.help ? 0 : 2
  }
  if (!SUBCOMMANDS.includes(action))
    throw new UsageError(`unknown store command ${action}; choose one of ${SUBCOMMANDS.join(', ')}`)
  const scope = {
    namespace: global.namespace,
    database: values.database as string | undefined,
    table: values.table as string | undefined,
  }
  const query: QueryOptions = { ...scope, ...queryOf(values) }
  const input = args[1] === '-' ? await readStdin() : args[1]
  const expected = { read: 1, write: 2, delete: 1, list: 0, databases: 0, tables: 0 }[action] ?? 0
  if (args.length > expected || (action !== 'read' && args.length < expected))
    throw new UsageError(
      `store ${action} takes ${expected} argument${expected === 1 ? '' : 's'}, got ${args.length}`,
    )
  if (
    action === 'read' &&
    args[0] !== undefined &&
    (values.prefix !== undefined || values.suffix !== undefined)
  )
    throw new UsageError('store read takes a key, or --prefix/--suffix for a query, not both')
  const store = openStore(global, values)
  try {
    switch (action) {
      case 'read':
        if (args[0] !== undefined) printRecord(await store.read(args[0], scope), global.json, out)
        else printRecords(await store.read(query), global.json, out)
        break
      case 'write':
        await store.write(args[0] as string, parseValue(input as string), {
          ...scope,
          ttl: values.ttl === undefined ? undefined : ttlOf(values.ttl as string),
          metadata: parseMetadata((values.metadata as string[] | undefined) ?? []),
        })
        break
      case 'delete':
        await store.delete(args[0] as string, scope)
        break
      case 'list':
        printList(await store.list(query), global.json, out)
        break
      case 'databases':
        printList(await store.databases({ namespace: global.namespace }), global.json, out)
        break
      case 'tables':
        printList(
          await store.tables({ namespace: global.namespace, database: scope.database }),
          global.json,
          out,
        )
        break
    }
    return 0
  } finally {
    await store.close()
  }
}

/** The platform's store when one is in use, else the one the options (or MICRO_STORE) name. */
function openStore(global: GlobalOptions, values: Record<string, unknown>): Store {
  if (global.platform !== undefined) return platformStore(global.platform)
  const name = (values.store as string | undefined) ?? (process.env.MICRO_STORE || undefined)
  const address =
    (values.store_address as string | undefined) ?? (process.env.MICRO_STORE_ADDRESS || undefined)
  try {
    return createStore(name, address)
  } catch (error) {
    throw new UsageError((error as Error).message)
  }
}

function queryOf(values: Record<string, unknown>): QueryOptions {
  const order = values.order as string | undefined
  if (order !== undefined && order !== 'asc' && order !== 'desc')
    throw new UsageError(`--order must be asc or desc, not ${order}`)
  return {
    prefix: values.prefix as string | undefined,
    suffix: values.suffix as string | undefined,
    limit: count(values.limit, '--limit'),
    offset: count(values.offset, '--offset'),
    order,
  }
}

function count(value: unknown, name: string): number | undefined {
  if (value === undefined) return undefined
  if (!/^\d+$/.test(value as string)) throw new UsageError(`${name} must be a whole number, not ${value}`)
  return Number(value)
}

function ttlOf(text: string): number {
  try {
    return parseDuration(text, '--ttl')
  } catch (error) {
    throw new UsageError((error as Error).message)
  }
}

function parseValue(text: string): unknown {
  try {
    return JSON.parse(text)
  } catch {
    return text
  }
}

function parseMetadata(pairs: string[]): Record<string, unknown> | undefined {
  if (pairs.length === 0) return undefined
  const metadata: Record<string, unknown> = {}
  for (const pair of pairs) {
    const eq = pair.indexOf('=')
    if (eq <= 0) throw new UsageError(`--metadata wants key=value, got ${pair}`)
    metadata[pair.slice(0, eq)] = pair.slice(eq + 1)
  }
  return metadata
}

/** Values as text: JSON for data, UTF-8 for bytes. */
function show(value: unknown): string {
  return value instanceof Uint8Array ? Buffer.from(value).toString('utf8') : JSON.stringify(value)
}

/** Records as JSON, bytes as `{"base64": ...}`. */
function toJson(record: StoreRecord): unknown {
  const value =
    record.value instanceof Uint8Array
      ? { base64: Buffer.from(record.value).toString('base64') }
      : record.value
  return { ...record, value }
}

function printRecord(record: StoreRecord, json: boolean, out: (text: string) => void): void {
  if (json) out(JSON.stringify(toJson(record), null, 2))
  else out(record.value instanceof Uint8Array ? show(record.value) : JSON.stringify(record.value, null, 2))
}

function printRecords(records: StoreRecord[], json: boolean, out: (text: string) => void): void {
  if (json) out(JSON.stringify(records.map(toJson), null, 2))
  else if (records.length > 0) out(records.map((r) => `${r.key}\t${show(r.value)}`).join('\n'))
}

function printList(items: string[], json: boolean, out: (text: string) => void): void {
  if (json) out(JSON.stringify(items))
  else if (items.length > 0) out(items.join('\n'))
}
