import { homedir } from 'node:os'
import { join } from 'node:path'
import type { AuthMode } from '../../auth/auth.js'
import { authMode } from '../../auth/mode.js'
import type { Logger } from '../../logger/logger.js'
import { parseAddress } from '../../transport/address.js'

/** Where `micro server` serves HTTP (dashboard, gateway, OTLP ...) unless told otherwise. */
export const DEFAULT_HTTP_ADDRESS = '127.0.0.1:8080'
/** Where `micro server` serves the platform port unless told otherwise. */
export const DEFAULT_PLATFORM_PORT_ADDRESS = '127.0.0.1:8081'

/**
 * The server's own variables. Not MICRO_SERVER_ADDRESS: that is every service's own listen
 * address, and the runtime's children inherit the server's environment.
 */
export const HTTP_ADDRESS_ENV = 'MICRO_SERVER_HTTP_ADDRESS'
export const PLATFORM_ADDRESS_ENV = 'MICRO_SERVER_PLATFORM_ADDRESS'

/** Options of `startServer` (the flags of `micro server`); each unset one comes from a variable, then the default. */
export interface ServerOptions {
  /** HTTP `host:port` (MICRO_SERVER_HTTP_ADDRESS, default 127.0.0.1:8080; port 0 for any). */
  address?: string
  /** Platform port `host:port` (MICRO_SERVER_PLATFORM_ADDRESS, default 127.0.0.1:8081; port 0 for any). */
  platformAddress?: string
  /** `--auth` (true) or `--no-auth` (false); unset: MICRO_AUTH, else auth follows the bind addresses. */
  auth?: boolean
  /** The namespace the gateway and dashboard serve (MICRO_NAMESPACE, default `micro`). */
  namespace?: string
  /** Where the runtime keeps its services' logs (default `~/.micro/runtime`). */
  runtimeDir?: string
  /** Where auth records and the key file live on the file engine (default `~/.micro/auth`). */
  authDir?: string
  /** The dashboard refuses every change. */
  readOnly?: boolean
  /** The server's variables: MICRO_* engines, auth keys. Default `process.env`. */
  env?: NodeJS.ProcessEnv
  logger?: Logger
}

/** The options with variables and defaults applied. */
export interface ServerSettings {
  address: string
  platformAddress: string
  mode: AuthMode
  namespace: string
  runtimeDir: string
  authDir: string
  readOnly: boolean
  /** The server's variables for its own engines (MICRO_PLATFORM dropped: the server is the platform). */
  env: NodeJS.ProcessEnv
}

const BLOCKS = ['MICRO_REGISTRY', 'MICRO_BROKER', 'MICRO_EVENTS', 'MICRO_STORE'] as const

/**
 * Apply variables and defaults; a TypeError names a bad address or a block set to
 * `service` (the server cannot use itself as its engine).
 */
export function serverSettings(options: ServerOptions = {}): ServerSettings {
  const given = options.env ?? process.env
  const address = checked(
    options.address ?? (given[HTTP_ADDRESS_ENV] || DEFAULT_HTTP_ADDRESS),
    options.address ? '--address' : HTTP_ADDRESS_ENV,
  )
  const platformAddress = checked(
    options.platformAddress ?? (given[PLATFORM_ADDRESS_ENV] || DEFAULT_PLATFORM_PORT_ADDRESS),
    options.platformAddress ? '--platform-address' : PLATFORM_ADDRESS_ENV,
  )
  for (const block of BLOCKS) {
    if (given[block]?.trim().toLowerCase() === 'service') {
      throw new TypeError(
        `${block}=service: micro server is the platform and serves the ${block.slice(6).toLowerCase()} itself; name an engine (or unset it)`,
      )
    }
  }
  const env: NodeJS.ProcessEnv = { ...given }
  delete env.MICRO_PLATFORM
  return {
    address,
    platformAddress,
    mode: authMode([address, platformAddress], { auth: options.auth, env: given }),
    namespace: options.namespace ?? (given.MICRO_NAMESPACE || 'micro'),
    runtimeDir: options.runtimeDir ?? join(homedir(), '.micro', 'runtime'),
    authDir: options.authDir ?? join(homedir(), '.micro', 'auth'),
    readOnly: options.readOnly ?? false,
    env,
  }
}

function checked(address: string, what: string): string {
  const text = address.trim()
  try {
    parseAddress(text)
  } catch {
    throw new TypeError(`${what} must be host:port, e.g. 127.0.0.1:8080 (got "${address}")`)
  }
  return text
}
