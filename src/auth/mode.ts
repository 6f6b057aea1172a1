import { isIP } from 'node:net'
import type { AuthMode } from './auth.js'

/** The host part of `host:port`, `[v6]:port`, or a bare host. */
function hostOf(address: string): string {
  const text = address.trim()
  if (text.startsWith('[')) return text.slice(1, text.indexOf(']') > 0 ? text.indexOf(']') : undefined)
  const colons = text.split(':').length - 1
  // One colon: host:port. More: a bare IPv6 address.
  if (colons === 1) return text.slice(0, text.lastIndexOf(':'))
  return text
}

/**
 * Whether an address binds loopback only: `localhost`, 127.0.0.0/8, `::1`. Everything else
 * is exposed: `0.0.0.0`, `::`, an empty host (all interfaces), another IP, and any name we
 * cannot classify (fail safe), as Go Micro 6's gateway decides.
 */
export function isLoopbackAddress(address: string): boolean {
  const host = hostOf(address).toLowerCase()
  if (host === 'localhost') return true
  const version = isIP(host)
  if (version === 4) return host.startsWith('127.')
  if (version === 6) return host === '::1' || host === '0:0:0:0:0:0:0:1' || host.startsWith('::ffff:127.')
  return false
}

/** The flags and variable that override {@link authMode}'s choice from the bind addresses. */
export interface AuthModeFlags {
  /** `--auth` (true) or `--no-auth` (false). */
  auth?: boolean
  /** The variables: MICRO_AUTH=on|off. */
  env?: NodeJS.ProcessEnv
}

/**
 * Auth follows the bind address: a server bound to loopback only is `open` to local
 * callers; bound to anything else, or started with `--auth` / MICRO_AUTH=on, it
 * `enforce`s (deny by default). `--no-auth` / MICRO_AUTH=off open it anywhere (the flag
 * wins over the variable). `addresses` are every address the server binds.
 */
export function authMode(addresses: string | readonly string[], flags: AuthModeFlags = {}): AuthMode {
  if (flags.auth !== undefined) return flags.auth ? 'enforce' : 'open'
  const variable = (flags.env ?? process.env).MICRO_AUTH?.toLowerCase()
  if (variable === 'on') return 'enforce'
  if (variable === 'off') return 'open'
  const list = typeof addresses === 'string' ? [addresses] : addresses
  return list.length > 0 && list.every(isLoopbackAddress) ? 'open' : 'enforce'
}

/** The line the server prints once with the one-time admin token (stdout, never a log). */
export function bootstrapLine(token: string): string {
  return `micro login --token ${token}`
}
