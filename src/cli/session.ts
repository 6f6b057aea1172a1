import { Client } from '../client/client.js'
import type { CallOptions } from '../client/options.js'
import { RegistryCache } from '../registry/cache.js'
import { createRegistry } from '../registry/from-env.js'
import type { ServiceRecord } from '../registry/registry.js'
import { createSelector } from '../selector/from-name.js'
import { MicroTransport } from '../transport/micro-transport.js'
import type { GlobalOptions } from './args.js'
import { cliAuthWrapper, cliUserToken, explainRefusal } from './auth-tokens.js'
import { withCommandContext } from './command-context.js'
import { DeferredStream } from './deferred-stream.js'
import { platformDirectory } from './platform/directory.js'
import { PlatformClient } from './platform/platform-client.js'
import { proxyCall, proxyStream } from './platform/proxy.js'

/** Where commands find services: the registry on this machine, or a platform's. */
export interface ServiceDirectory {
  /** Every version of a service with its nodes; a 404 MicroError when there is none. */
  getService(name: string, namespace: string): Promise<readonly ServiceRecord[]>
  /** Every service version in a namespace (`*`: all of them). */
  listServices(namespace: string): Promise<ServiceRecord[]>
}

/** A bidirectional stream to an endpoint, direct or through a platform. */
export interface CallStream<Req = unknown, Res = unknown> extends AsyncIterable<Res> {
  send(message: Req): Promise<void>
  /** Half-close: no more requests; replies keep coming. */
  closeSend(): Promise<void>
  /** Send every message of `input`, then half-close. */
  sendAll(input: AsyncIterable<Req> | Iterable<Req>): Promise<void>
  cancel(detail?: string): void
}

/**
 * What a command talks to services with. Without a platform it is this machine: the
 * registry the global options name and direct calls. With one (an environment is set, or
 * `--platform` / MICRO_PLATFORM) it is the platform: its `Registry` for lookups and its
 * `Proxy` for calls and streams, so the command code is the same either way. Close it
 * before exiting.
 */
export interface Session {
  /** The namespace the command works in. */
  readonly namespace: string
  /** The platform's `host:port`, or undefined when working on this machine directly. */
  readonly platform: string | undefined
  readonly services: ServiceDirectory
  /** Call an endpoint; `options.namespace` overrides the session's. */
  call(service: string, endpoint: string, request: unknown, options?: CallOptions): Promise<unknown>
  /** Open a stream to a streaming endpoint. */
  stream(service: string, endpoint: string, options?: CallOptions): CallStream
  /**
   * The underlying client. With a platform it reaches only what is given an `address`
   * (the platform itself: see PlatformClient).
   */
  readonly client: Client
  close(): Promise<void>
}

/**
 * Open the session the global options describe: a platform's, or this machine's. Either
 * way calls and streams carry the user's token (MICRO_AUTH_TOKEN, else what `micro login`
 * kept: for the current environment, or for this machine's platform at its default
 * address), so services that enforce auth accept a logged-in user.
 */
export function openSession(options: GlobalOptions, env: NodeJS.ProcessEnv = process.env): Session {
  return options.platform === undefined
    ? openDirectSession(options, env)
    : openPlatformSession(options, options.platform)
}

function openDirectSession(options: GlobalOptions, env: NodeJS.ProcessEnv): Session {
  // A command looks a service up once: over mDNS it waits up to a second for a busy service
  // to answer before saying it is not there.
  const registry = createRegistry(options.registry, options.registryAddress, env, {
    notFoundTimeout: 1000,
  })
  const lookup = new RegistryCache(registry)
  const client = new Client({
    lookup,
    transport: new MicroTransport(),
    selector: createSelector(),
    namespace: options.namespace,
    local: false,
    retry: { retries: 1 },
    caller: 'micro.cli',
  })
  // Calls pass through client wrappers; streams do not, so they get the token here.
  client.wrap(cliAuthWrapper(undefined, env))
  const userToken = cliUserToken(undefined, env)
  const openStream = async (service: string, endpoint: string, callOptions: CallOptions | undefined) => {
    const applied = withCommandContext(callOptions)
    const user = await userToken()
    const metadata =
      applied.metadata?.authorization !== undefined || user.token === undefined
        ? applied.metadata
        : { ...applied.metadata, authorization: `Bearer ${user.token}` }
    return { stream: client.stream(service, endpoint, { ...applied, metadata }), user }
  }
  return {
    namespace: options.namespace,
    platform: undefined,
    services: {
      // Through the cache, so the call that follows a lookup reuses it.
      getService: (name, namespace) => lookup.getService(name, namespace),
      listServices: (namespace) => registry.listServices({ namespace }),
    },
    call: (service, endpoint, request, callOptions) =>
      client.call(service, endpoint, request, withCommandContext(callOptions)),
    stream: (service, endpoint, callOptions) => {
      const opened = openStream(service, endpoint, callOptions)
      let user: Awaited<typeof opened>['user'] = { token: undefined }
      return new DeferredStream(
        opened.then((o) => {
          user = o.user
          return o.stream
        }),
        (error) => explainRefusal(error, user),
      )
    },
    client,
    async close() {
      await client.close()
      await registry.close()
    },
  }
}

function openPlatformSession(options: GlobalOptions, address: string): Session {
  const platform = PlatformClient.connect(address, options.namespace)
  const namespace = options.namespace
  return {
    namespace,
    platform: address,
    services: platformDirectory(platform),
    // A call given a node's address (micro call --address) goes to that node itself.
    call: (service, endpoint, request, callOptions = {}) =>
      callOptions.address !== undefined
        ? platform.client.call(service, endpoint, request, withCommandContext(callOptions))
        : proxyCall(platform, namespace, service, endpoint, request, callOptions),
    stream: (service, endpoint, callOptions = {}) =>
      callOptions.address !== undefined
        ? platform.client.stream(service, endpoint, withCommandContext(callOptions))
        : proxyStream(platform, namespace, service, endpoint, callOptions),
    client: platform.client,
    close: () => platform.close(),
  }
}
