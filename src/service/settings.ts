import { Codecs } from '../codec/codecs.js'
import { createJsonCodec, DEFAULT_MAX_JSON_DEPTH } from '../codec/json.js'
import { msgpackCodec } from '../codec/msgpack.js'
import { rawCodec } from '../codec/raw.js'
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

/** Resolve options: an explicit option wins, then the MICRO_* variable, then the default. */
export function resolveSettings(options: ServiceOptions, env: NodeJS.ProcessEnv = process.env): Settings {
  if (!options.name || typeof options.name !== 'string') throw new TypeError('createService needs a name')
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
    transportName: env.MICRO_TRANSPORT || undefined,
    transportAddress: env.MICRO_TRANSPORT_ADDRESS || undefined,
    registryName: env.MICRO_REGISTRY || undefined,
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

function envBytes(env: NodeJS.ProcessEnv, name: string): number | undefined {
  const value = env[name]
  return value === undefined || value.trim() === '' ? undefined : parseBytes(value, name)
}

/** The default codecs, with another JSON depth limit when one is configured. */
function codecsFor(maxJsonDepth: number): Codecs | undefined {
  if (maxJsonDepth === DEFAULT_MAX_JSON_DEPTH) return undefined
  return new Codecs([createJsonCodec({ maxDepth: maxJsonDepth }), msgpackCodec, rawCodec])
}
