import { parseAddress } from '../../transport/address.js'

/**
 * Whether a listen address (`host:port`) is reachable only from this machine: loopback IPs
 * and `localhost`. Anything else, including an empty host or `0.0.0.0`, is exposed.
 */
export function isLoopback(address: string): boolean {
  let host: string
  try {
    host = parseAddress(address).host.toLowerCase()
  } catch {
    return false
  }
  return host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host)
}
