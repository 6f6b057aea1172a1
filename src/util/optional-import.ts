/**
 * Import an optional peer dependency (an engine client such as `ioredis` or
 * `@nats-io/transport-node`) only when the implementation that needs it is used. When it
 * is not installed the error names the package to install, in one line.
 */
export async function importPeer<T>(name: string, usedBy: string): Promise<T> {
  try {
    return (await import(name)) as T
  } catch (error) {
    const code = (error as { code?: string }).code
    if (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') {
      const pkg = packageOf(name)
      throw new Error(`${usedBy} needs the package ${pkg}: npm install ${pkg}`, { cause: error })
    }
    throw error
  }
}

/** The package a module specifier is in: `tsx` for `tsx/esm/api`, `@nats-io/kv` for itself. */
export function packageOf(specifier: string): string {
  const parts = specifier.split('/')
  return (specifier.startsWith('@') ? parts.slice(0, 2) : parts.slice(0, 1)).join('/')
}
