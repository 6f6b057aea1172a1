import { existsSync } from 'node:fs'
import { resolve } from 'node:path'
import { Client } from '../../client/client.js'
import type { ClientStream } from '../../client/client-stream.js'
import type { CallOptions } from '../../client/options.js'
import { MicroError } from '../../errors/errors.js'
import { RegistryCache } from '../../registry/cache.js'
import { MemoryRegistry } from '../../registry/memory.js'
import { createSelector } from '../../selector/from-name.js'
import { MicroTransport } from '../../transport/micro-transport.js'
import { UsageError } from '../args.js'
import { cliIdentity } from '../auth-tokens.js'
import { withCommandContext } from '../command-context.js'
import { platformAddress } from '../environments.js'

/** The `--platform` option every runtime command takes. */
export const PLATFORM_OPTION = { platform: { type: 'string' } } as const

export const PLATFORM_HELP = `  --platform <host:port>    the platform to talk to (MICRO_PLATFORM, else the current
                            environment (micro env), else 127.0.0.1:8081)`

/** A client for the platform service at one address (no registry: the address is known). */
export interface PlatformClient {
  address: string
  call<T>(endpoint: string, request: unknown, options?: CallOptions): Promise<T>
  stream<Req, Res>(endpoint: string, options?: CallOptions): ClientStream<Req, Res>
  /** The error, with a hint when it says the platform is not there. */
  explain(error: unknown): unknown
  close(): Promise<void>
}

/** Connect to the platform that `--platform`, MICRO_PLATFORM or the current environment names. */
export async function openPlatform(flag: string | undefined): Promise<PlatformClient> {
  const address = await platformAddress(flag)
  const registry = new MemoryRegistry()
  const client = new Client({
    lookup: new RegistryCache(registry),
    transport: new MicroTransport(),
    selector: createSelector(),
    local: false,
    retry: { retries: 1 },
    caller: 'micro.cli',
  })
  // The login `micro login` kept for this platform (refreshed when due) goes with every call.
  const token = await cliIdentity(address).token()
  const signed = (options: CallOptions): CallOptions =>
    token === undefined || options.metadata?.authorization !== undefined
      ? { ...options, address }
      : { ...options, address, metadata: { ...options.metadata, authorization: `Bearer ${token}` } }
  return {
    address,
    async call<T>(endpoint: string, request: unknown, options: CallOptions = {}): Promise<T> {
      try {
        return await client.call<T>('platform', endpoint, request, withCommandContext(signed(options)))
      } catch (error) {
        throw explained(error, address)
      }
    },
    // A stream's connection failure surfaces when it is read; logs explains it there.
    stream: (endpoint, options = {}) =>
      client.stream('platform', endpoint, withCommandContext(signed(options))),
    explain: (error) => explained(error, address),
    async close() {
      await client.close()
      await registry.close()
    },
  }
}

/** A platform that is not there: say what to do about it. */
function explained(error: unknown, address: string): unknown {
  const e = MicroError.from(error, 'micro.cli')
  if (e.code !== 503 || !/cannot connect/.test(e.detail)) return error
  return new MicroError(
    e.id,
    `no platform at ${address} (${e.detail}): start one with micro server, or name another with --platform, MICRO_PLATFORM or micro env`,
    e.code,
    { cause: error },
  )
}

/** `--env K=V` pairs as a map; a usage error for a pair without a name. */
export function parseEnvPairs(pairs: readonly string[] | undefined): Record<string, string> | undefined {
  if (!pairs || pairs.length === 0) return undefined
  const env: Record<string, string> = {}
  for (const pair of pairs) {
    const eq = pair.indexOf('=')
    if (eq <= 0) throw new UsageError(`--env wants NAME=value, got ${pair}`)
    env[pair.slice(0, eq)] = pair.slice(eq + 1)
  }
  return env
}

/** `--instances N` as a number; a usage error otherwise. */
export function parseInstances(text: string | undefined): number | undefined {
  if (text === undefined) return undefined
  if (!/^\d+$/.test(text) || Number(text) < 1) {
    throw new UsageError(`--instances wants a whole number of at least 1, got ${text}`)
  }
  return Number(text)
}

/** An argument that names something on disk is a source (made absolute: the runtime runs it there). */
export function asSource(argument: string): string | undefined {
  const path = resolve(argument)
  return existsSync(path) ? path : undefined
}

/** `1h2m`, `3m12s`, `45s`, `800ms`. */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.max(0, Math.round(ms))}ms`
  let seconds = Math.floor(ms / 1000)
  const days = Math.floor(seconds / 86_400)
  seconds -= days * 86_400
  const hours = Math.floor(seconds / 3600)
  seconds -= hours * 3600
  const minutes = Math.floor(seconds / 60)
  seconds -= minutes * 60
  const parts = [days && `${days}d`, hours && `${hours}h`, minutes && `${minutes}m`, seconds && `${seconds}s`]
  return parts.filter(Boolean).slice(0, 2).join('') || '0s'
}
