import type { Redis } from 'ioredis'
import { acquireRedis, type RedisLink } from '../engines/redis.js'
import { MicroError, serviceUnavailable } from '../errors/errors.js'
import type { EventMetadata } from './events.js'
import { EVENTS_ERROR_ID } from './names.js'
import { JSON_TYPE, metadataFromJson, type RawEvent } from './payload.js'
import { ADD } from './redis-scripts.js'

/** An entry as XRANGE / XREADGROUP return it with Buffer replies. */
export type Entry = [id: Buffer, fields: Buffer[]]

/** What an event's entry holds besides its id. */
export interface EntryValues {
  id: string
  timestamp: number
  metadata: EventMetadata
  contentType: string
  data: Uint8Array
}

/** How long a publish waits for a lost connection to come back before failing with a 503, ms. */
export const PUBLISH_WAIT = 5000

/** Options of {@link RedisStreams}. */
export interface RedisStreamsOptions {
  address?: string
  client?: Redis
  prefix: string
}

/**
 * The connection (the process's shared client for the address, src/engines/redis.ts, taken
 * on first use; ioredis reconnects by itself) and the layout: one stream per namespace and
 * topic, at the key `<prefix><namespace>:<topic>`, whose entry ids are `0-<sequence>`.
 */
export class RedisStreams {
  readonly #options: RedisStreamsOptions
  #link: Promise<RedisLink> | undefined

  constructor(options: RedisStreamsOptions) {
    this.#options = options
  }

  key(namespace: string, topic: string): string {
    return `${this.#options.prefix}${namespace}:${topic}`
  }

  async client(): Promise<Redis> {
    return (await this.#handle()).client
  }

  /** A connection of its own, for a consumer's blocking reads; closed with this object. */
  async duplicate(): Promise<Redis> {
    return (await this.#handle()).dedicated('events-reader')
  }

  /** Close a connection from `duplicate()`. */
  drop(connection: Redis): void {
    connection.disconnect()
    // Made through the link, which stops tracking it (a closed link has dropped it already).
    void this.#link?.then((link) => link.drop(connection)).catch(() => {})
  }

  /**
   * Append an event; resolves with its sequence. While Redis is away it waits up to
   * {@link PUBLISH_WAIT} ms for it to come back.
   */
  async add(namespace: string, topic: string, values: EntryValues): Promise<number> {
    const link = await this.#handle()
    try {
      const id = await link.runPatiently(
        (redis) => ADD.run(redis, [this.key(namespace, topic)], entryArgs(values)),
        PUBLISH_WAIT,
      )
      return sequenceOf(String(id))
    } catch (error) {
      throw redisError(error, `publishing to ${topic}`)
    }
  }

  /** Up to `count` events of a topic from sequence `from` on. */
  async range(namespace: string, topic: string, from: number, count: number): Promise<RawEvent[]> {
    const redis = await this.client()
    const key = this.key(namespace, topic)
    const entries = (await redis.callBuffer(
      'XRANGE',
      key,
      `0-${Math.max(from, 1)}`,
      '+',
      'COUNT',
      count,
    )) as Entry[]
    return entries.map((entry) => parseEntry(topic, entry))
  }

  /** The first sequence stored at or after `time` (server time), or the one after the last. */
  async sequenceAt(namespace: string, topic: string, time: number): Promise<number> {
    const redis = await this.client()
    const key = this.key(namespace, topic)
    const last = (await redis.callBuffer('XREVRANGE', key, '+', '-', 'COUNT', 1)) as Entry[]
    if (last.length === 0) return 1
    // The smallest start whose first entry was stored at or after `time`: stored times grow
    // with the sequence, so this is a binary search.
    let low = 1
    let high = sequenceOf(String(last[0]![0])) + 1
    while (low < high) {
      const mid = Math.floor((low + high) / 2)
      const [entry] = (await redis.callBuffer('XRANGE', key, `0-${mid}`, '+', 'COUNT', 1)) as Entry[]
      if (!entry || Number(field(entry[1], 's') ?? 0) >= time) high = mid
      else low = sequenceOf(String(entry[0])) + 1
    }
    return low
  }

  /** Lets go of the client (and closes the blocking connections still open). */
  async close(): Promise<void> {
    const linking = this.#link
    this.#link = undefined
    await (await linking?.catch(() => undefined))?.release()
  }

  #handle(): Promise<RedisLink> {
    this.#link ??= acquireRedis({
      address: this.#options.address,
      client: this.#options.client,
      usedBy: 'the Redis events',
    })
    return this.#link
  }
}

/** The script arguments that store an event: id, timestamp, metadata, content type, data. */
export function entryArgs(values: EntryValues): (string | Uint8Array)[] {
  return [
    values.id,
    String(values.timestamp),
    JSON.stringify(values.metadata),
    values.contentType,
    values.data,
  ]
}

/** The sequence of an entry id `0-<n>`. */
export function sequenceOf(id: string): number {
  return Number(id.slice(id.indexOf('-') + 1))
}

// The field names' bytes: i(d), t(imestamp), s(tored), m(etadata), c(ontent type), d(ata).
const I = 0x69
const T = 0x74
const S = 0x73
const M = 0x6d
const C = 0x63
const D = 0x64

/**
 * An entry as a raw event. An entry written by something else than micro-ts gets what can
 * be made of it (and, lacking a JSON payload, goes to the dead letters when consumed).
 */
export function parseEntry(topic: string, [id, fields]: Entry): RawEvent {
  const entryId = String(id)
  // One pass over the fields, matching the one-letter names by their byte.
  let eventId: Buffer | undefined
  let time: Buffer | undefined
  let stored: Buffer | undefined
  let metadata: Buffer | undefined
  let contentType: Buffer | undefined
  let data: Buffer | undefined
  for (let i = 0; i + 1 < fields.length; i += 2) {
    const name = fields[i] as Buffer
    if (name.length !== 1) continue
    const value = fields[i + 1] as Buffer
    switch (name[0]) {
      case I:
        eventId ??= value
        break
      case T:
        time ??= value
        break
      case S:
        stored ??= value
        break
      case M:
        metadata ??= value
        break
      case C:
        contentType ??= value
        break
      case D:
        data ??= value
        break
    }
  }
  const timestamp = Number(time ?? stored ?? Number.NaN)
  return {
    id: eventId?.toString() || `redis-${entryId}`,
    topic,
    sequence: sequenceOf(entryId),
    timestamp: Number.isFinite(timestamp) ? timestamp : 0,
    metadata: metadataFromJson(metadata?.toString(), 'micro-metadata'),
    contentType: contentType?.toString() || JSON_TYPE,
    data: data ?? new Uint8Array(0),
  }
}

function field(fields: Buffer[], name: string): Buffer | undefined {
  for (let i = 0; i + 1 < fields.length; i += 2) if (fields[i]!.toString() === name) return fields[i + 1]
  return undefined
}

/** A Redis failure as a MicroError: a 503 (connection trouble is retried by consumers). */
export function redisError(error: unknown, doing: string): MicroError {
  if (error instanceof MicroError) return error
  return serviceUnavailable(EVENTS_ERROR_ID, `Redis failed ${doing}: ${(error as Error)?.message ?? error}`)
}
