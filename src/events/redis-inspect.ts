import type { Redis } from 'ioredis'
import type { GroupInfo, TopicInfo } from './inspector.js'
import { isTopic } from './names.js'
import { PRIVATE_GROUP_PREFIX } from './options.js'
import { type RedisStreams, redisError, sequenceOf } from './redis-streams.js'

/** Keys asked for per SCAN step, streams looked at at once, pending entries per XPENDING page. */
const SCAN_COUNT = 500
const LOOKS = 32
const PENDING_PAGE = 1000

/** An entry of an XPENDING page: id, consumer, idle ms, deliveries. */
type PendingEntry = [string, string, number, number]

/** A Redis reply of alternating names and values (XINFO) as a map. */
type Fields = Map<string, unknown>

/**
 * What an EventsInspector sees on Redis Streams: the topics of a namespace are the stream
 * keys under `<prefix><ns>:` (found with SCAN ... TYPE stream, so the `<stream>:groups`
 * hashes of epochs are left out; dead letters are topics like any other), each counted with
 * XINFO STREAM; the groups of a topic are its consumer groups (XINFO GROUPS), with the
 * retries counted from XPENDING's delivery counts. Nothing here creates a key.
 */
export class RedisInspect {
  readonly #streams: RedisStreams

  constructor(streams: RedisStreams) {
    this.#streams = streams
  }

  /** Topics of a (checked) namespace, sorted; none when it has no streams. */
  async topics(namespace: string): Promise<TopicInfo[]> {
    const head = this.#streams.key(namespace, '')
    try {
      const redis = await this.#streams.client()
      const keys = [...(await scanStreams(redis, `${globEscape(head)}*`))]
        .filter((key) => key.startsWith(head) && isTopic(key.slice(head.length)))
        .sort()
      const out: TopicInfo[] = []
      for (let i = 0; i < keys.length; i += LOOKS) {
        const batch = keys.slice(i, i + LOOKS)
        const infos = await Promise.all(batch.map((key) => streamInfo(redis, key)))
        batch.forEach((key, n) => {
          const info = infos[n]
          if (info) out.push({ topic: key.slice(head.length), ...info })
        })
      }
      return out
    } catch (error) {
      throw redisError(error, 'listing the topics')
    }
  }

  /** Groups of a (checked) topic, sorted by name; none when its stream does not exist. */
  async groups(namespace: string, topic: string): Promise<GroupInfo[]> {
    const key = this.#streams.key(namespace, topic)
    try {
      const redis = await this.#streams.client()
      const stream = await streamInfo(redis, key)
      if (!stream) return []
      const replies = (await redis.call('XINFO', 'GROUPS', key)) as unknown[][]
      const out: GroupInfo[] = []
      for (const reply of replies) {
        const fields = fieldsOf(reply)
        const group = String(fields.get('name'))
        const position = sequenceOf(String(fields.get('last-delivered-id') ?? '0-0'))
        const pending = Number(fields.get('pending') ?? 0)
        // Redis counts the lag itself unless it cannot tell (then it says nil); sequences
        // are contiguous, so what is stored after the position is the difference.
        const lag = fields.get('lag')
        out.push({
          group,
          position,
          pending,
          lag: typeof lag === 'number' ? lag : Math.max(0, stream.lastSequence - position),
          retrying: pending > 0 ? await retrying(redis, key, group) : 0,
          // Redis keeps nothing else that tells: a consumer without a group makes one by this prefix.
          private: group.startsWith(PRIVATE_GROUP_PREFIX),
        })
      }
      return out.sort((a, b) => (a.group < b.group ? -1 : a.group > b.group ? 1 : 0))
    } catch (error) {
      throw redisError(error, `listing the groups of ${topic}`)
    }
  }
}

/** Every stream key matching `pattern` (SCAN may repeat a key: a set). */
async function scanStreams(redis: Redis, pattern: string): Promise<Set<string>> {
  const keys = new Set<string>()
  let cursor = '0'
  do {
    const [next, found] = (await redis.call(
      'SCAN',
      cursor,
      'MATCH',
      pattern,
      'COUNT',
      SCAN_COUNT,
      'TYPE',
      'stream',
    )) as [string, string[]]
    cursor = next
    for (const key of found) keys.add(key)
  } while (cursor !== '0')
  return keys
}

/** Count, last sequence and last stored time of a stream; undefined when it is not one (any more). */
async function streamInfo(redis: Redis, key: string): Promise<Omit<TopicInfo, 'topic'> | undefined> {
  let reply: unknown[]
  try {
    reply = (await redis.call('XINFO', 'STREAM', key)) as unknown[]
  } catch (error) {
    // Removed since the scan, or a key of another type: not a topic.
    if (/no such key|WRONGTYPE/i.test((error as Error).message)) return undefined
    throw error
  }
  const fields = fieldsOf(reply)
  const last = fields.get('last-entry') as [string, string[]] | null | undefined
  const info: Omit<TopicInfo, 'topic'> = {
    events: Number(fields.get('length') ?? 0),
    lastSequence: last ? sequenceOf(String(last[0])) : 0,
  }
  const stored = last ? Number(fieldOf(last[1], 's')) : Number.NaN
  if (Number.isFinite(stored) && stored > 0) info.lastStored = new Date(stored)
  return info
}

/** Pending entries of the group delivered more than once, a page of XPENDING at a time. */
async function retrying(redis: Redis, key: string, group: string): Promise<number> {
  let count = 0
  let start = '-'
  for (;;) {
    const page = (await redis.call('XPENDING', key, group, start, '+', PENDING_PAGE)) as PendingEntry[]
    for (const [, , , deliveries] of page) if (Number(deliveries) > 1) count++
    const last = page.at(-1)
    if (!last || page.length < PENDING_PAGE) return count
    start = `(${last[0]}`
  }
}

function fieldsOf(reply: unknown[]): Fields {
  const fields: Fields = new Map()
  for (let i = 0; i + 1 < reply.length; i += 2) fields.set(String(reply[i]), reply[i + 1])
  return fields
}

function fieldOf(fields: string[], name: string): string | undefined {
  for (let i = 0; i + 1 < fields.length; i += 2) if (fields[i] === name) return fields[i + 1]
  return undefined
}

/** `text` matched literally by a SCAN pattern. */
function globEscape(text: string): string {
  return text.replace(/[*?[\]\\]/g, '\\$&')
}
