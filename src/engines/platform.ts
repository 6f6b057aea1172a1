import { Client } from '../client/client.js'
import type { ClientStream } from '../client/client-stream.js'
import type { ServiceLookup } from '../client/lookup.js'
import type { CallOptions } from '../client/options.js'
import type { ClientTlsSlot } from '../client/transports.js'
import { serviceUnavailable } from '../errors/errors.js'
import { createSelector } from '../selector/from-name.js'
import { MicroTransport } from '../transport/micro-transport.js'
import { identityFromEnv, type PlatformIdentity, TOKEN_ENDPOINTS } from './platform-identity.js'

/** Where the platform is looked for when neither MICRO_<BLOCK>_ADDRESS nor MICRO_PLATFORM says. */
export const DEFAULT_PLATFORM_ADDRESS = '127.0.0.1:8081'
/** The name of the micro service the platform port hosts. */
export const PLATFORM_SERVICE = 'platform'
/** The variable that points every block whose MICRO_<BLOCK> is unset at a platform. */
export const PLATFORM_ENV = 'MICRO_PLATFORM'

/**
 * The platform address a `service` engine uses: its own `MICRO_<BLOCK>_ADDRESS` when given,
 * else MICRO_PLATFORM, else 127.0.0.1:8081. `host:port`, surrounding space trimmed.
 */
export function platformAddress(given: string | undefined, env: NodeJS.ProcessEnv = process.env): string {
  const address = given?.trim() || env[PLATFORM_ENV]?.trim() || DEFAULT_PLATFORM_ADDRESS
  return address.replace(/^micro:\/\//, '')
}

/** Options of a call through {@link PlatformLink}. */
export type PlatformCallOptions = Pick<CallOptions, 'timeout' | 'signal' | 'retries'> & {
  /** Metadata to send besides the identity's token (which a caller cannot replace). */
  metadata?: Record<string, string>
}

/** One client and who uses it. */
interface Entry {
  readonly address: string
  readonly client: Client
  users: number
  /** Whose token calls carry; none: calls go without one. */
  identity: PlatformIdentity | undefined
}

const shared = new Map<string, Entry>()

/**
 * A user's handle on the process's client of one platform address. Every `service` engine
 * of this process naming the same platform shares one client (one pooled TCP connection);
 * the last release closes it.
 */
export class PlatformLink {
  readonly #entry: Entry
  #released = false

  constructor(entry: Entry) {
    this.#entry = entry
  }

  /** `host:port` of the platform. */
  get address(): string {
    return this.#entry.address
  }

  /**
   * The token this process's calls to the platform carry (its identity: MICRO_AUTH_ID and
   * MICRO_AUTH_SECRET, logged in once and refreshed before expiry, shared by every user of
   * the link); undefined without an identity.
   */
  token(): Promise<string | undefined> {
    const identity = this.#entry.identity
    if (identity === undefined) return Promise.resolve(undefined)
    const token = identity.current()
    return token !== undefined ? Promise.resolve(token) : identity.token()
  }

  /** Call `endpoint` (`Store.Read`) of the platform service; rejects with a MicroError. */
  call<T>(endpoint: string, request: unknown, options: PlatformCallOptions = {}): Promise<T> {
    if (this.#released) return Promise.reject(released())
    const { client, address, identity } = this.#entry
    const send = (token: string | undefined) =>
      client.call<T>(PLATFORM_SERVICE, endpoint, request, {
        ...options,
        address,
        metadata: { ...options.metadata, ...bearer(token) },
      })
    if (identity === undefined || TOKEN_ENDPOINTS.has(endpoint)) return send(undefined)
    const token = identity.current()
    return token !== undefined ? send(token) : identity.token().then(send)
  }

  /**
   * Open a stream to a streaming endpoint of the platform service (`Registry.Watch`). It
   * carries the identity's token when one is at hand; the first stream of a process may
   * open before its first login is done, is refused, and is opened again by its owner.
   */
  stream<Req, Res>(endpoint: string, options: Pick<CallOptions, 'signal'> = {}): ClientStream<Req, Res> {
    if (this.#released) throw released()
    const { client, address, identity } = this.#entry
    const token = identity?.current()
    if (identity !== undefined && token === undefined) identity.token().catch(() => undefined)
    return client.stream<Req, Res>(PLATFORM_SERVICE, endpoint, {
      ...options,
      address,
      metadata: bearer(token),
    })
  }

  /** Stop using the client; the last user closes it. */
  async release(): Promise<void> {
    if (this.#released) return
    this.#released = true
    const entry = this.#entry
    if (--entry.users > 0) return
    if (shared.get(entry.address) === entry) shared.delete(entry.address)
    await entry.client.close()
  }
}

/** A handle on this process's client of the platform at `address` (made on first use). */
export function acquirePlatform(address: string): PlatformLink {
  let entry = shared.get(address)
  if (!entry) {
    const client = platformClient()
    const identity = identities.get(address) ?? identityFromEnv(client, address)
    // Logging in early, so the streams a service opens first carry the token too.
    identity?.token().catch(() => undefined)
    entry = { address, client, users: 0, identity }
    shared.set(address, entry)
  }
  entry.users++
  return new PlatformLink(entry)
}

const identities = new Map<string, PlatformIdentity>()

/**
 * Who this process is to the platform at `address` (the CLI's login), over the default
 * (MICRO_AUTH_ID and MICRO_AUTH_SECRET); undefined goes back to the default. Applies to
 * the client of that address from now on.
 */
export function setPlatformIdentity(address: string, identity: PlatformIdentity | undefined): void {
  if (identity === undefined) identities.delete(address)
  else identities.set(address, identity)
  const entry = shared.get(address)
  if (entry) entry.identity = identity ?? identityFromEnv(entry.client, address)
}

function bearer(token: string | undefined): Record<string, string> | undefined {
  return token === undefined ? undefined : { authorization: `Bearer ${token}` }
}

/** How many platform clients this process holds open: for tests and diagnostics. */
export function openPlatformClients(): number {
  return shared.size
}

/**
 * TLS of this process's platform clients: the first service that starts with TLS puts its
 * credentials here, so the `service` engines reach a TLS platform and are known to it by
 * that service's certificate.
 */
export const platformTls: ClientTlsSlot = { current: undefined }

function platformClient(): Client {
  return new Client({
    lookup: NO_LOOKUP,
    transport: new MicroTransport(),
    selector: createSelector(),
    local: false,
    caller: 'micro.platform-client',
    tls: platformTls,
  })
}

function released() {
  return serviceUnavailable('micro.platform', 'the platform client was released')
}

/** Every platform call names its address, so the client never looks anything up. */
const NO_LOOKUP: ServiceLookup = {
  peek: () => undefined,
  getService: () => Promise.reject(serviceUnavailable('micro.platform', 'the platform is called by address')),
  close: () => {},
}
