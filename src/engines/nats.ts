import type { NatsConnection, NodeConnectionOptions, Status } from '@nats-io/transport-node'
import { unsentError } from '../transport/transport-errors.js'
import { importPeer } from '../util/optional-import.js'
import { serverList, shareKey, withoutCredentials } from './address.js'

/** The lazily loaded `@nats-io/transport-node` module. */
export type NatsModule = typeof import('@nats-io/transport-node')

/**
 * Connection options of every NATS client micro-ts opens: keep reconnecting for ever
 * (services outlive a NATS restart), and notice a server that vanished without closing the
 * socket within ~30 s.
 */
export const LASTING_CONNECTION = {
  maxReconnectAttempts: -1,
  reconnectTimeWait: 250,
  reconnectJitter: 100,
  pingInterval: 10_000,
  maxPingOut: 2,
  timeout: 5000,
} as const

/** Where NATS is looked for when no address is given (MICRO_<BLOCK>_ADDRESS unset). */
export const DEFAULT_NATS_ADDRESS = 'nats://127.0.0.1:4222'

/** The name our connections give the server (shown by its monitoring, e.g. `/connz`). */
export const NATS_CONNECTION_NAME = 'micro-ts'

let loading: Promise<NatsModule> | undefined

/** Load the NATS client once per process; a missing package is a one-line error naming it. */
export function loadNats(usedBy: string): Promise<NatsModule> {
  loading ??= importPeer<NatsModule>('@nats-io/transport-node', usedBy).catch((error: unknown) => {
    loading = undefined
    throw error
  })
  return loading
}

/**
 * `nats://a:4222, nats://b:4222` (or bare `host:port`) as the server list nats.js takes:
 * trimmed, empty entries dropped, the default address when nothing is left.
 */
export function natsServers(address: string | undefined): string[] {
  const servers = serverList(address)
  return servers.length > 0 ? servers : [DEFAULT_NATS_ADDRESS]
}

/** One connection and who uses it. */
interface Entry {
  readonly key: string | undefined
  readonly connection: Promise<NatsConnection>
  readonly listeners: Set<(status: Status) => void>
  users: number
  connected: boolean
  /** Whether releasing the last user closes it (false for a connection the caller passed in). */
  owned: boolean
}

/** Connections shared by server list. */
const shared = new Map<string, Entry>()
/** Every connection this module opened and has not closed yet (shared or not). */
const opened = new Set<Entry>()

/** Options of {@link acquireNats}. */
export interface AcquireNatsOptions {
  /** NATS servers, comma-separated URLs; default `nats://127.0.0.1:4222`. Ignored with `connection`. */
  address?: string | undefined
  /** Use this connection instead; it is never closed by us. */
  connection?: NatsConnection | undefined
  /**
   * Extra connection options (user, pass, token, tls, ...), over {@link LASTING_CONNECTION}.
   * A caller with options of its own gets a connection of its own: options cannot be compared.
   */
  options?: Partial<NodeConnectionOptions> | undefined
  /** Named in the error when the client package is missing, e.g. `the nats transport`. */
  usedBy: string
}

/**
 * A user's handle on a NATS connection. Every block of this process that names the same
 * servers (registry, transport, broker, events, store, sync) shares one connection:
 * releasing the last handle closes it.
 */
export class NatsLink {
  readonly #entry: Entry
  readonly #listeners = new Set<(status: Status) => void>()
  #released = false

  constructor(entry: Entry) {
    this.#entry = entry
  }

  /** Resolves with the connection; rejects with an unsent 503 when the servers cannot be reached. */
  get ready(): Promise<NatsConnection> {
    return this.#entry.connection
  }

  /** Whether the connection is up now (false while it reconnects). */
  get connected(): boolean {
    return this.#entry.connected && !this.#released
  }

  /** Hear connection status changes (disconnect, reconnect, ...) until released; returns a way to stop. */
  onStatus(listener: (status: Status) => void): () => void {
    this.#listeners.add(listener)
    this.#entry.listeners.add(listener)
    return () => {
      this.#listeners.delete(listener)
      this.#entry.listeners.delete(listener)
    }
  }

  /** Stop using the connection; the last user of a connection we opened closes it. */
  async release(): Promise<void> {
    if (this.#released) return
    this.#released = true
    const entry = this.#entry
    for (const listener of this.#listeners) entry.listeners.delete(listener)
    if (--entry.users > 0 || !entry.owned) return
    if (entry.key !== undefined && shared.get(entry.key) === entry) shared.delete(entry.key)
    const connection = await entry.connection.catch(() => undefined)
    // close() sends what is still buffered before closing (drain would also wait for
    // subscriptions, which every user has ended by now, and hangs on a lost server).
    await connection?.close().catch(() => {})
    opened.delete(entry)
  }
}

/**
 * A handle on the process's connection to `address` (opened on first use, shared by
 * every later caller naming the same servers), on a connection of its own when `options`
 * are given, or on the caller's `connection`.
 */
export function acquireNats(options: AcquireNatsOptions): NatsLink {
  if (options.connection) {
    const entry = newEntry(undefined, Promise.resolve(options.connection), false)
    entry.users = 1
    return new NatsLink(entry)
  }
  const servers = natsServers(options.address)
  const key = shareKey(servers.join(','), options.options)
  let entry = key === undefined ? undefined : shared.get(key)
  if (!entry) {
    const created = newEntry(key, connectTo(servers, options.options, options.usedBy), true)
    opened.add(created)
    created.connection.catch(() => {
      // A failed connect is not kept: the next user tries again.
      opened.delete(created)
      if (key !== undefined && shared.get(key) === created) shared.delete(key)
    })
    if (key !== undefined) shared.set(key, created)
    entry = created
  }
  entry.users++
  return new NatsLink(entry)
}

/** How many NATS connections this module holds open (or is opening) now: for tests and diagnostics. */
export function openNatsConnections(): number {
  return opened.size
}

function newEntry(key: string | undefined, connection: Promise<NatsConnection>, owned: boolean): Entry {
  const entry: Entry = { key, connection, listeners: new Set(), users: 0, connected: false, owned }
  connection.then(
    (nc) => {
      entry.connected = !nc.isClosed()
      void watchStatus(nc, entry)
    },
    () => {},
  )
  return entry
}

async function connectTo(
  servers: string[],
  extra: Partial<NodeConnectionOptions> | undefined,
  usedBy: string,
): Promise<NatsConnection> {
  const nats = await loadNats(usedBy)
  try {
    return await nats.connect({ servers, name: NATS_CONNECTION_NAME, ...LASTING_CONNECTION, ...extra })
  } catch (error) {
    const where = servers.map(withoutCredentials).join(',')
    throw unsentError(`cannot connect to NATS at ${where}: ${(error as Error).message}`, error)
  }
}

async function watchStatus(nc: NatsConnection, entry: Entry): Promise<void> {
  try {
    for await (const status of nc.status()) {
      if (status.type === 'disconnect') entry.connected = false
      else if (status.type === 'reconnect') entry.connected = true
      for (const listener of [...entry.listeners]) listener(status)
    }
  } catch {
    // the status stream ends with the connection
  }
  entry.connected = false
  opened.delete(entry)
  // A closed connection is never handed out again.
  if (entry.key !== undefined && shared.get(entry.key) === entry) shared.delete(entry.key)
  const closed: Status = { type: 'close' }
  for (const listener of [...entry.listeners]) listener(closed)
}
