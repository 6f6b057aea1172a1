import { type ResolvedServiceAuth, resolveServiceAuth } from '../auth/service-option.js'
import { type ResolvedServiceTls, resolveServiceTls } from '../auth/tls/settings.js'
import { Client } from '../client/client.js'
import { localServices } from '../client/local.js'
import type { ClientTlsSlot } from '../client/transports.js'
import type { ClientWrapper } from '../client/wrappers.js'
import { createLogger, type Logger } from '../logger/logger.js'
import { RegistryCache } from '../registry/cache.js'
import { createRegistry } from '../registry/from-env.js'
import type { Registry } from '../registry/registry.js'
import { loadResiliencePolicies } from '../resilience/load.js'
import type { Resilience } from '../resilience/resilience.js'
import { resilienceWrapper } from '../resilience/server-wrapper.js'
import { createSelector } from '../selector/from-name.js'
import { Server } from '../server/server.js'
import type { HandlerWrapper } from '../server/wrappers.js'
import { createTransport } from '../transport/from-env.js'
import type { Transport } from '../transport/transport.js'
import { ServiceBlocks } from './blocks.js'
import type { Extensions } from './extensions.js'
import { lateClientWrapper, lateServerWrapper } from './late-wrappers.js'
import type { ServiceOptions } from './options.js'
import { resolveSettings, type Settings } from './settings.js'

/** What a Service is made of. */
export interface ServiceParts {
  settings: Settings
  logger: Logger
  registry: Registry
  ownsRegistry: boolean
  transport: Transport
  server: Server
  client: Client
  blocks: ServiceBlocks
  /** The service's auth settings and the wrapper lists `start()` fills; undefined without auth. */
  auth: AuthSlots | undefined
  /** The service's TLS settings and the client's TLS slot `start()` fills; undefined without TLS. */
  tls: TlsSlots | undefined
}

/** TLS settings, and where the client finds its TLS once `start()` made it. */
export interface TlsSlots {
  settings: ResolvedServiceTls
  client: ClientTlsSlot
}

/** Where auth's wrappers go once built at start (building them loads the JWT library). */
export interface AuthSlots {
  settings: ResolvedServiceAuth
  server: HandlerWrapper[]
  client: ClientWrapper[]
}

/**
 * Make the parts of a service from its options, the MICRO_* variables of `options.env`
 * and the defaults. With `options.features`, the features' wrappers (filled at start)
 * are placed outermost, around the caller's own.
 */
export function serviceParts(options: ServiceOptions, extensions: Extensions): ServiceParts {
  const env = options.env ?? process.env
  const settings = resolveSettings(options, env)
  const { name } = options
  const logger = options.logger ?? createLogger({ fields: { service: name, version: settings.version } })
  const registry = options.registry ?? createRegistry(settings.registryName, settings.registryAddress)
  const transport =
    options.transport ??
    createTransport(settings.transportName, settings.transportAddress, {
      maxFrameSize: settings.maxFrameSize,
    })
  const late = options.features !== undefined && options.extensions === undefined
  const authSettings = resolveServiceAuth(options.auth, env)
  const auth = authSettings && { settings: authSettings, server: [], client: [] }
  const tlsSettings = resolveServiceTls(options.tls, env, settings.address, authSettings?.enforce ?? false)
  const tls = tlsSettings && { settings: tlsSettings, client: { current: undefined } }
  const lookup = new RegistryCache(registry)
  const resilience = resilienceOf(options, env)
  const server = new Server({
    name,
    codecs: settings.codecs,
    // Auth runs inside the features (a denied call is traced) and outside the caller's own
    // wrappers (they see only trusted metadata and callerOf(ctx)).
    wrappers: [
      ...(late ? [lateServerWrapper(extensions.serverWrappers)] : []),
      ...(auth ? [lateServerWrapper(auth.server)] : []),
      // Inside auth (a refused caller costs no bulkhead slot), before the service's own.
      ...(resilience?.hasInbound ? [resilienceWrapper(resilience)] : []),
      ...(options.wrappers ?? []),
    ],
    logger,
  })
  const storeDefaults = options.storeTable === undefined ? undefined : { table: options.storeTable }
  const blocks = new ServiceBlocks(
    {
      name,
      namespace: settings.namespace,
      registry,
      lookup,
      transport,
      logger,
      env,
      storeDefaults,
      brokerWrappers: extensions.brokerWrappers,
    },
    options,
  )
  const client = new Client({
    lookup,
    transport,
    broker: () => blocks.broker,
    selector: options.selector ?? createSelector(settings.selectorName),
    codecs: settings.codecs,
    namespace: settings.namespace,
    requestTimeout: settings.requestTimeout,
    retry: options.retry,
    wrappers: [
      ...(late ? [lateClientWrapper(extensions.clientWrappers)] : []),
      ...(options.clientWrappers ?? []),
      ...(auth ? [lateClientWrapper(auth.client)] : []),
    ],
    local: localServices,
    caller: name,
    resilience,
    ...(tls ? { tls: tls.client } : {}),
  })
  return {
    settings,
    logger,
    registry,
    ownsRegistry: options.registry === undefined,
    transport,
    server,
    client,
    blocks,
    auth,
    tls,
  }
}

/** The service's policies: the option, else MICRO_RESILIENCE_FILE's, else none. */
function resilienceOf(options: ServiceOptions, env: NodeJS.ProcessEnv): Resilience | undefined {
  if (options.resilience !== undefined) return loadResiliencePolicies(options.resilience)
  const file = env.MICRO_RESILIENCE_FILE
  return file ? loadResiliencePolicies(file) : undefined
}
