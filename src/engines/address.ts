/**
 * `a, b ,,c` as `['a', 'b', 'c']`: the comma-separated server lists of MICRO_*_ADDRESS,
 * trimmed, empty entries dropped. Empty when nothing is left.
 */
export function serverList(address: string | undefined): string[] {
  return (address ?? '')
    .split(',')
    .map((server) => server.trim())
    .filter((server) => server !== '')
}

/**
 * An address fit for a log line or an error: the user name and password of a URL are
 * dropped (`redis://:secret@host:6379/0` becomes `redis://host:6379/0`). Text that is not a
 * URL (`user:pass@host:port`) is cut at its last `@` for the same reason.
 */
export function withoutCredentials(address: string): string {
  const at = address.lastIndexOf('@')
  if (at === -1) return address
  if (address.includes('://')) {
    try {
      const url = new URL(address)
      url.username = ''
      url.password = ''
      return url.toString()
    } catch {
      // not a URL after all: cut it below
    }
  }
  return address.slice(at + 1)
}

/**
 * The key under which a connection is shared: the address, or nothing when the caller
 * gave options of its own. Options may hold functions, certificates or secrets that cannot
 * be compared, so such a caller gets a connection that nobody else uses.
 */
export function shareKey(address: string, options: object | undefined): string | undefined {
  return options === undefined || Object.keys(options).length === 0 ? address : undefined
}
