import { Client } from '../../client/client.js'
import type { ClientStream } from '../../client/client-stream.js'
import type { CallOptions } from '../../client/options.js'
import { badRequest } from '../../errors/errors.js'
import { DEFAULT_NAMESPACE } from '../../registry/registry.js'
import { createSelector } from '../../selector/from-name.js'
import { MicroTransport } from '../../transport/micro-transport.js'
import { type CliIdentity, cliIdentity } from '../auth-tokens.js'
import { withCommandContext } from '../command-context.js'

/** The name of the one service a platform port hosts (PLATFORM.md). */
export const PLATFORM_SERVICE = 'platform'

/**
 * Calls to the `platform` service at one address, e.g. `Store.Read` or `Proxy.Call`. The
 * platform service itself lives in the `micro` namespace; what a request concerns names its
 * own namespace in the body.
 */
export class PlatformClient {
  readonly client: Client
  readonly address: string
  /** Whose token goes with every call (the login `micro login` kept); none: calls go without one. */
  readonly identity: CliIdentity | undefined

  constructor(client: Client, address: string, identity?: CliIdentity) {
    this.client = client
    this.address = address
    this.identity = identity
  }

  /**
   * A client of the platform at `address` with a client of its own, which looks nothing
   * up: everything it calls names the platform's address. Close it when done.
   */
  static connect(address: string, namespace: string = DEFAULT_NAMESPACE): PlatformClient {
    const client = new Client({
      lookup: {
        peek: () => undefined,
        getService: (name) =>
          Promise.reject(badRequest('micro.cli', `${name} is reached through the platform at ${address}`)),
        close: () => {},
      },
      transport: new MicroTransport(),
      selector: createSelector(),
      namespace,
      local: false,
      retry: { retries: 1 },
      caller: 'micro.cli',
    })
    return new PlatformClient(client, address, cliIdentity(address))
  }

  /** Close the client's connections. */
  close(): Promise<void> {
    return this.client.close()
  }

  /** Call `endpoint` (e.g. `Registry.GetService`) of the platform service, with the login's token. */
  async call<T = unknown>(endpoint: string, body: unknown, options: CallOptions = {}): Promise<T> {
    return this.client.call<T>(PLATFORM_SERVICE, endpoint, body, await this.#options(options))
  }

  /** Open a stream to `endpoint` (e.g. `Proxy.Stream`) of the platform service, with the login's token. */
  async stream<Req = unknown, Res = unknown>(
    endpoint: string,
    options: CallOptions = {},
  ): Promise<ClientStream<Req, Res>> {
    return this.client.stream<Req, Res>(PLATFORM_SERVICE, endpoint, await this.#options(options))
  }

  async #options(options: CallOptions): Promise<CallOptions> {
    const token = options.metadata?.authorization === undefined ? await this.identity?.token() : undefined
    const metadata =
      token === undefined ? options.metadata : { ...options.metadata, authorization: `Bearer ${token}` }
    // A command run for someone else (the bot) carries their token instead (withCommandContext).
    return withCommandContext({ ...options, metadata, address: this.address, namespace: DEFAULT_NAMESPACE })
  }
}

/** A reply's list under `field`, or the reply itself when it is already the list. */
export function listOf<T>(reply: unknown, field: string): T[] {
  if (Array.isArray(reply)) return reply as T[]
  const list = (reply as Record<string, unknown> | null)?.[field]
  return Array.isArray(list) ? (list as T[]) : []
}
