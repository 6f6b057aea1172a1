import type { IncomingMessage } from 'node:http'
import { isLoopbackAddress } from '../auth/mode.js'

/** The host name of a Host header (`127.0.0.1:8080` is `127.0.0.1`, `[::1]:8080` is `::1`), lower case. */
export function hostName(host: string): string {
  const text = host.trim().toLowerCase()
  if (text.startsWith('[')) {
    const end = text.indexOf(']')
    return end > 0 ? text.slice(1, end) : text
  }
  const colon = text.lastIndexOf(':')
  return colon > 0 && text.indexOf(':') === colon ? text.slice(0, colon) : text
}

/**
 * Why a request must be refused as cross-site, or undefined when it may pass. DNS
 * rebinding protection, as the MCP spec requires of local servers: a request that came in
 * on a loopback address must name a loopback host (`localhost`, `127.x`, `::1`) or one of
 * `allowedHosts` (a page of `evil.example` resolved to 127.0.0.1 names its own host);
 * elsewhere, when `allowedHosts` is set, only those. An `Origin` (browsers send one) must be
 * the request's own origin or one of `allowedOrigins` (`*`: any).
 */
export function refuseForeign(
  req: IncomingMessage,
  allowedHosts: readonly string[] | undefined,
  allowedOrigins: readonly string[],
): string | undefined {
  const host = req.headers.host
  if (host === undefined || host === '') return 'no Host header'
  const name = hostName(host)
  const listed = allowedHosts?.some((h) => h.toLowerCase() === name) ?? false
  const local = isLoopbackAddress(req.socket.localAddress ?? '')
  if (local ? !isLoopbackAddress(name) && !listed : allowedHosts !== undefined && !listed)
    return `Host ${name} is not allowed`
  const origin = req.headers.origin
  if (origin === undefined) return undefined
  if (allowedOrigins.includes('*') || allowedOrigins.includes(origin)) return undefined
  let url: URL
  try {
    url = new URL(origin)
  } catch {
    return `Origin ${origin.slice(0, 100)} is not allowed`
  }
  if (
    (url.protocol === 'http:' || url.protocol === 'https:') &&
    url.host.toLowerCase() === host.trim().toLowerCase()
  )
    return undefined
  return `Origin ${origin.slice(0, 100)} is not allowed`
}
