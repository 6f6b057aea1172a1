import type { Redis, RedisOptions } from 'ioredis'
import { importPeer } from '../util/optional-import.js'
import { shareKey, withoutCredentials } from './address.js'

/** Where Redis is looked for when no address is given (MICRO_<BLOCK>_ADDRESS unset). */
export const DEFAULT_REDIS_ADDRESS = 'redis://127.0.0.1:6379'

/** The name our connections give the server (`CLIENT LIST`); dedicated ones add their role. */
export const REDIS_CONNECTION_NAME = 'micro-ts'

/**
 * Options of every Redis connection micro-ts opens: reconnect for ever (at most a second
 * apart), and fail fast while Redis is away. ioredis on its own keeps a command that was in
 * flight when the connection dropped until Redis is back (and then sends it again, which can
 * apply a write twice), leaving its caller hanging for as long as Redis is down. Here such
 * commands are rejected as soon as the connection closes and never resent; commands issued
 * while disconnected fail after one reconnect attempt.
 */
export const FAIL_FAST_REDIS: RedisOptions = {
  maxRetriesPerRequest: 1,
  autoResendUnfulfilledCommands: false,
  retryStrategy: (times) => Math.min(50 * times, 1000),
  connectTimeout: 5000,
}

/**
 * Options of a dedicated connection (a subscriber, a blocking reader) over the client's:
 * what it runs is a read that is safe to repeat, so a read cut by a dropped connection is
 * sent again once it is back (ioredis' own behaviour), and one issued while disconnected
 * waits for up to 20 reconnect attempts. Its user stops it by disconnecting.
 */
export const DEDICATED_REDIS: RedisOptions = {
  autoResendUnfulfilledCommands: true,
  maxRetriesPerRequest: 20,
}

/** `host:port` becomes `redis://host:port`; URLs pass; nothing (or blanks) is the default address. */
export function redisAddress(address: string | undefined): string {
  const text = address?.trim() ?? ''
  if (text === '') return DEFAULT_REDIS_ADDRESS
  return text.includes('://') ? text : `redis://${text}`
}

/** One client and who uses it. */
interface Entry {
  readonly key: string | undefined
  readonly client: Redis
  /** `host:port`, for errors. */
  readonly where: string
  /** Whether releasing the last user closes it (false for a client the caller passed in). */
  readonly owned: boolean
  users: number
  lastError: string
}

/** Clients shared by address. */
const shared = new Map<string, Entry>()
/** Connections this module opened and has not closed yet: shared, unshared and dedicated. */
const opened = new Set<Redis>()

/** Options of {@link acquireRedis}. */
export interface AcquireRedisOptions {
  /** `redis://[user:pass@]host:port[/db]` or `host:port`; default `redis://127.0.0.1:6379`. Ignored with `client`. */
  address?: string | undefined
  /** Use this client instead; it is never closed by us. */
  client?: Redis | undefined
  /**
   * Extra ioredis options, over {@link FAIL_FAST_REDIS}. A caller with options of its own
   * gets a client of its own: options cannot be compared.
   */
  options?: RedisOptions | undefined
  /** Named in the error when the client package is missing, e.g. `the redis store`. */
  usedBy: string
}

/**
 * A user's handle on a Redis client. Every block of this process that names the same
 * address (store, sync, events, broker) sends its commands over one connection; releasing
 * the last handle closes it. What cannot share that connection gets a dedicated one from
 * {@link RedisLink.dedicated}: a pub/sub subscriber (a subscribed connection runs no other
 * commands) and each blocking reader (BRPOP, XREADGROUP BLOCK hold the connection until
 * they return, which would stall every other command behind them).
 */
export class RedisLink<C extends Redis = Redis> {
  readonly client: C
  readonly #entry: Entry
  readonly #dedicated = new Set<Redis>()
  #released = false

  constructor(entry: Entry) {
    this.#entry = entry
    this.client = entry.client as C
  }

  /** `host:port` of the server, without credentials: for messages. */
  get where(): string {
    return this.#entry.where
  }

  /** Runs one command, with a clear error when Redis cannot be reached. */
  run<T>(command: (client: C) => Promise<T>): Promise<T> {
    return command(this.client).catch((error: unknown) => {
      throw this.explain(error)
    })
  }

  /**
   * Runs one command, waiting out an outage of up to `wait` ms: a command that could not be
   * sent because Redis is away is tried again once the connection is back. A command lost
   * in flight is not (it may have run); it fails with the connection error.
   */
  async runPatiently<T>(command: (client: C) => Promise<T>, wait: number): Promise<T> {
    const deadline = Date.now() + wait
    for (;;) {
      try {
        return await command(this.client)
      } catch (error) {
        const left = deadline - Date.now()
        if (!isUnsent(error) || left <= 0 || this.client.status === 'end') throw this.explain(error)
        await this.#back(left)
      }
    }
  }

  /** ioredis's "max retries per request" as "cannot reach redis at host:port (why)". */
  explain(error: unknown): unknown {
    if ((error as Error | undefined)?.name === 'MaxRetriesPerRequestError')
      return new Error(`cannot reach redis at ${this.where}${reason(this.#entry)}`, { cause: error })
    return error
  }

  /**
   * Resolves once the client is connected; rejects with the connection error when Redis
   * cannot be reached now (the client keeps trying in the background).
   */
  ready(): Promise<void> {
    const client = this.client
    if (client.status === 'ready') return Promise.resolve()
    if (client.status === 'end') return Promise.reject(new Error('the connection is closed'))
    return new Promise((resolve, reject) => {
      const settle = (error?: Error) => {
        client.off('ready', onReady)
        client.off('error', onError)
        client.off('end', onEnd)
        if (error) reject(error)
        else resolve()
      }
      const onReady = () => settle()
      const onError = (error: Error) => settle(error)
      const onEnd = () => settle(new Error('the connection is closed'))
      client.on('ready', onReady)
      client.on('error', onError)
      client.on('end', onEnd)
      if (client.status === 'wait') client.connect().catch(() => {})
    })
  }

  /** Resolves when the client is ready again, or after `ms`, whichever comes first. */
  #back(ms: number): Promise<void> {
    const client = this.client
    if (client.status === 'ready') return Promise.resolve()
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer)
        client.off('ready', done)
        client.off('end', done)
        resolve()
      }
      const timer = setTimeout(done, ms)
      client.on('ready', done)
      client.on('end', done)
    })
  }

  /**
   * A connection of this user's own, to the same server ({@link DEDICATED_REDIS} over the
   * client's options), for what cannot share the client: a subscriber, a blocking read. `role` names it on the server
   * (`micro-ts-<role>`). Closed by {@link drop} or, at the latest, by {@link release}.
   */
  dedicated(role: string, overrides: RedisOptions = {}, onError: (error: Error) => void = () => {}): Redis {
    const connection = this.client.duplicate({
      connectionName: `${REDIS_CONNECTION_NAME}-${role}`,
      ...DEDICATED_REDIS,
      ...overrides,
    })
    // ioredis reports connection trouble as 'error' events (commands fail on their own); an
    // unheard 'error' event would end the process.
    connection.on('error', onError)
    this.#dedicated.add(connection)
    opened.add(connection)
    connection.once('end', () => opened.delete(connection))
    return connection
  }

  /** Close a connection from {@link dedicated} at once (nothing is waiting on it). */
  drop(connection: Redis): void {
    this.#dedicated.delete(connection)
    opened.delete(connection)
    connection.disconnect()
  }

  /** Stop using the client (and close this user's dedicated connections); the last user of a client we opened closes it. */
  async release(): Promise<void> {
    if (this.#released) return
    this.#released = true
    for (const connection of [...this.#dedicated]) this.drop(connection)
    const entry = this.#entry
    if (--entry.users > 0 || !entry.owned) return
    if (entry.key !== undefined && shared.get(entry.key) === entry) shared.delete(entry.key)
    opened.delete(entry.client)
    await closeClient(entry.client)
  }
}

/**
 * A handle on the process's client for `address` (made on first use, connecting in the
 * background, shared by every later caller naming the same address), on a client of its
 * own when `options` are given, or on the caller's `client`.
 */
export async function acquireRedis<C extends Redis = Redis>(
  options: AcquireRedisOptions,
): Promise<RedisLink<C>> {
  if (options.client) {
    const client = options.client
    const where = client.options.path ?? `${client.options.host}:${client.options.port}`
    return new RedisLink<C>({ key: undefined, client, where, owned: false, users: 1, lastError: '' })
  }
  const { Redis } = await importPeer<typeof import('ioredis')>('ioredis', options.usedBy)
  // No await from here on: the look-up and the count change together.
  const address = redisAddress(options.address)
  const key = shareKey(address, options.options)
  let entry = key === undefined ? undefined : shared.get(key)
  if (!entry) {
    const client = new Redis(address, {
      connectionName: REDIS_CONNECTION_NAME,
      ...FAIL_FAST_REDIS,
      ...options.options,
    })
    entry = { key, client, where: hostOf(address), owned: true, users: 0, lastError: '' }
    watch(entry)
    opened.add(client)
    if (key !== undefined) shared.set(key, entry)
  }
  entry.users++
  return new RedisLink<C>(entry)
}

/** How many Redis connections this module holds open now (shared, unshared and dedicated): for tests and diagnostics. */
export function openRedisConnections(): number {
  return opened.size
}

function watch(entry: Entry): void {
  const client = entry.client
  client.on('error', (error: Error) => {
    entry.lastError = error.message
  })
  // ioredis emits 'close' on the next tick, after moving the commands in flight aside for
  // resending and before it reconnects: reject those commands now.
  client.on('close', () => {
    const queue = client as unknown as {
      flushQueue(error: Error, options: { offlineQueue: boolean; commandQueue: boolean }): void
    }
    queue.flushQueue(new Error(`connection to redis at ${entry.where} lost${reason(entry)}`), {
      offlineQueue: false,
      commandQueue: true,
    })
  })
}

/**
 * QUIT lets what is queued (acks, a last write) go out first, but waits for a server that
 * may not come back: give it a moment, then drop the connection.
 */
async function closeClient(client: Redis): Promise<void> {
  if (client.status === 'ready') {
    let timer: NodeJS.Timeout | undefined
    const late = new Promise((resolve) => {
      timer = setTimeout(resolve, 2000)
    })
    await Promise.race([client.quit().catch(() => undefined), late])
    clearTimeout(timer)
  }
  client.disconnect()
}

function hostOf(address: string): string {
  try {
    return new URL(address).host
  } catch {
    return withoutCredentials(address)
  }
}

/** A command that never reached Redis: it waited for a connection that did not come back in time. */
function isUnsent(error: unknown): boolean {
  return (error as Error | undefined)?.name === 'MaxRetriesPerRequestError'
}

function reason(entry: Entry): string {
  return entry.lastError ? ` (${entry.lastError})` : ''
}
