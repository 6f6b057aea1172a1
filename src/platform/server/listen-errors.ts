/**
 * A listen failure in words a person can act on: a taken port names the address, who is
 * likely holding it, and the option that moves it; other failures pass unchanged.
 */
export function addressInUse(error: unknown, address: string, what: string, flag: string): unknown {
  const code = (error as NodeJS.ErrnoException | undefined)?.code ?? codeIn(error)
  if (code === 'EADDRINUSE') {
    return new Error(
      `micro server: the ${what} ${address} is in use: another micro server or micro run may be running there (stop it, or choose another address with ${flag})`,
      { cause: error },
    )
  }
  if (code === 'EACCES' || code === 'EADDRNOTAVAIL') {
    return new Error(
      `micro server: cannot listen on the ${what} ${address} (${code}); choose another with ${flag}`,
      {
        cause: error,
      },
    )
  }
  return error
}

/** A listen error wrapped by another layer (a MicroError's cause, or its text). */
function codeIn(error: unknown): string | undefined {
  let current: unknown = error
  for (let depth = 0; current !== undefined && depth < 5; depth++) {
    const code = (current as NodeJS.ErrnoException).code
    if (typeof code === 'string') return code
    const message = (current as Error).message
    const found = typeof message === 'string' ? /\b(EADDRINUSE|EACCES|EADDRNOTAVAIL)\b/.exec(message) : null
    if (found) return found[1]
    current = (current as Error).cause
  }
  return undefined
}
