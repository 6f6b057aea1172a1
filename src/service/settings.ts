import { BROKER_ENGINES } from '../broker/engine-names.js'
import { Codecs } from '../codec/codecs.js'
import { createJsonCodec, DEFAULT_MAX_JSON_DEPTH } from '../codec/json.js'
import { msgpackCodec } from '../codec/msgpack.js'
import { rawCodec } from '../codec/raw.js'
import { EVENTS_ENGINES } from '../events/engine-names.js'
import { REGISTRY_ENGINES } from '../registry/engine-names.js'
import { STORE_ENGINES } from '../store/engine-names.js'
import { SYNC_ENGINES } from '../sync/engine-names.js'
import { TRANSPORT_ENGINES } from '../transport/engine-names.js'
import { parseBytes, resolveLimits, type ServerLimits } from '../transport/limits.js'
import { envDuration } from '../util/duration.js'
import type { ServiceOptions } from './options.js'

/** Options resolved against the environment (MICRO_*) and defaults. */
export interface Settings {
  version: string
  namespace: string
  metadata: Record<string, string>
  address: string
  advertise: string | undefined
  transportName: string | undefined
  transportAddress: string | undefined
  registryName: string | undefined
  registryAddress: string | undefined
  selectorName: string | undefined
  registerTtl: number
  registerInterval: number
  shutdownTimeout: number
  requestTimeout: number
  handleSignals: boolean
  maxFrameSize: number | undefined
  limits: ServerLimits
  /** The codecs option, or the default set with the JSON depth limit when it is not the default. */
  codecs: Codecs | undefined
}

/**
 * Resolve options: an explicit option wins, then the MICRO_* variable, then the default.
 * An unknown engine in MICRO_REGISTRY, MICRO_TRANSPORT, MICRO_BROKER, MICRO_EVENTS,
 * MICRO_STORE or MICRO_SYNC (for a block the options do not give) is a TypeError naming the
 * known ones, here at start rather than when the block is first used.
 */
export function resolveSettings(options: ServiceOptions, env: NodeJS.ProcessEnv = process.env): Settings {
  if (!options.name || typeof options.name !== 'string') throw new TypeError('createService needs a name')
  checkBlockEngines(options, env)
  const registerTtl = options.registerTtl ?? envDuration(env, 'MICRO_REGISTER_TTL', 30_000)
  const registerInterval =
    options.registerInterval ?? envDuration(env, 'MICRO_REGISTER_INTERVAL', registerTtl / 3)
  if (registerInterval >= registerTtl) {
    throw new TypeError(
      `register interval (${registerInterval} ms) must be shorter than the TTL (${registerTtl} ms)`,
    )
  }
  const limits = resolveLimits(options.limits, env)
  return {
    version: options.version ?? env.MICRO_SERVER_VERSION ?? 'latest',
    namespace: options.namespace ?? env.MICRO_NAMESPACE ?? 'micro',
    metadata: options.metadata ?? {},
    address: options.address ?? env.MICRO_SERVER_ADDRESS ?? '127.0.0.1:0',
    advertise: options.advertise ?? (env.MICRO_SERVER_ADVERTISE || undefined),
    transportName: options.transport ? undefined : TRANSPORT_ENGINES.fromEnv(env, 'MICRO_TRANSPORT'),
    transportAddress: env.MICRO_TRANSPORT_ADDRESS || undefined,
    registryName: options.registry ? undefined : REGISTRY_ENGINES.fromEnv(env, 'MICRO_REGISTRY'),
    registryAddress: env.MICRO_REGISTRY_ADDRESS || undefined,
    selectorName: env.MICRO_SELECTOR || undefined,
    registerTtl,
    registerInterval,
    shutdownTimeout: options.shutdownTimeout ?? envDuration(env, 'MICRO_SHUTDOWN_TIMEOUT', 10_000),
    requestTimeout: options.requestTimeout ?? envDuration(env, 'MICRO_CLIENT_REQUEST_TIMEOUT', 30_000),
    handleSignals: options.handleSignals ?? true,
    maxFrameSize: options.maxFrameSize ?? envBytes(env, 'MICRO_SERVER_MAX_FRAME_SIZE'),
    limits,
    codecs: options.codecs ?? codecsFor(limits.maxJsonDepth),
  }
}

/** The blocks made on first use from MICRO_*: their engine names are checked now. */
function checkBlockEngines(options: ServiceOptions, env: NodeJS.ProcessEnv): void {
  if (!options.broker) BROKER_ENGINES.fromEnv(env, 'MICRO_BROKER')
  if (!options.events) EVENTS_ENGINES.fromEnv(env, 'MICRO_EVENTS')
  if (!options.store) STORE_ENGINES.fromEnv(env, 'MICRO_STORE')
  if (!options.sync) SYNC_ENGINES.fromEnv(env, 'MICRO_SYNC')
}

function envBytes(env: NodeJS.ProcessEnv, name: string): number | undefined {
  const value = env[name]
  return value === undefined || value.trim() === '' ? undefined : parseBytes(value, name)
}

/** The default codecs, with another JSON depth limit when one is configured. */
function codecsFor(maxJsonDepth: number): Codecs | undefined {
  if (maxJsonDepth === DEFAULT_MAX_JSON_DEPTH) return undefined
  return new Codecs([createJsonCodec({ maxDepth: maxJsonDepth }), msgpackCodec, rawCodec])
}
