import type { Redis } from 'ioredis'
import { compareKeys, makeRecord, type Query } from './scope.js'
import type { StoreRecord } from './store.js'
import { decodeEntry } from './value.js'

// The Redis store's default mode keeps nothing but the records (one SET per write), so
// queries walk the keyspace with SCAN MATCH: O(keys in the database) per query, correct
// (SCAN returns every key that exists throughout the walk and skips expired ones;
// duplicates are removed), then sorted, filtered and paged here. The `index` option
// trades write speed for indexed queries (redis-scripts.ts).

/** Every key matching the glob `match`, without duplicates. */
export async function scanAll(client: Redis, match: string): Promise<string[]> {
  const found = new Set<string>()
  let cursor = '0'
  do {
    const [next, keys] = await client.scan(cursor, 'MATCH', match, 'COUNT', 1000)
    for (const key of keys) found.add(key)
    cursor = next
  } while (cursor !== '0')
  return [...found]
}

/** `text` as a literal inside a Redis glob pattern. */
export function globEscape(text: string): string {
  return text.replace(/[*?[\]\\]/g, (c) => `\\${c}`)
}

/**
 * The live records (or keys) of one table matching the query, in order, paged. Values
 * are fetched with MGET in batches; keys gone since the SCAN are skipped.
 */
export async function scanTable(
  client: Redis,
  recordPrefix: string,
  query: Query,
  values: boolean,
): Promise<StoreRecord[]> {
  const keys = (await scanAll(client, `${globEscape(recordPrefix + query.prefix)}*`))
    .map((full) => full.slice(recordPrefix.length))
    .filter((key) => key.endsWith(query.suffix))
  keys.sort(query.desc ? (a, b) => compareKeys(b, a) : compareKeys)
  const out: StoreRecord[] = []
  let skipped = 0
  const now = Date.now()
  for (let i = 0; i < keys.length; i += 256) {
    const batch = keys.slice(i, i + 256)
    // Only the values decide liveness; `list` fetches them too rather than trust the SCAN.
    const entries = await client.mgetBuffer(...batch.map((key) => recordPrefix + key))
    for (const [j, entry] of entries.entries()) {
      if (!entry) continue
      if (skipped < query.offset) {
        skipped++
        continue
      }
      const key = batch[j] as string
      if (values) {
        const { value, metadata, expiresAt } = decodeEntry(entry)
        out.push(makeRecord(key, value, metadata, expiresAt, now))
      } else {
        out.push({ key, value: undefined, metadata: {} })
      }
      if (query.limit !== 0 && out.length >= query.limit) return out
    }
  }
  return out
}

/** The `[database, table]` parts (still encoded) of every record key of a namespace. */
export async function scanTableNames(client: Redis, namespacePrefix: string): Promise<[string, string][]> {
  const seen = new Map<string, [string, string]>()
  for (const full of await scanAll(client, `${globEscape(namespacePrefix)}*`)) {
    const rest = full.slice(namespacePrefix.length)
    const a = rest.indexOf(':')
    const b = rest.indexOf(':', a + 1)
    if (a < 0 || b < 0) continue
    const id = rest.slice(0, b)
    if (!seen.has(id)) seen.set(id, [rest.slice(0, a), rest.slice(a + 1, b)])
  }
  return [...seen.values()]
}
