/** Split `host:port` (or `[v6]:port`) into its parts; throws a TypeError naming the bad address. */
export function parseAddress(address: string): { host: string; port: number } {
  const colon = address.lastIndexOf(':')
  if (colon === -1) throw new TypeError(`address ${address} has no port (want host:port)`)
  let host = address.slice(0, colon)
  if (host.startsWith('[') && host.endsWith(']')) host = host.slice(1, -1)
  const portText = address.slice(colon + 1)
  const port = Number(portText)
  if (!Number.isInteger(port) || port < 0 || port > 65535 || portText === '') {
    throw new TypeError(`address ${address} has an invalid port`)
  }
  return { host: host || '0.0.0.0', port }
}

/** Join host and port, bracketing IPv6 hosts. */
export function formatAddress(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`
}
