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
      throw new Error(`${usedBy} needs the package ${name}: npm install ${name}`, { cause: error })
    }
    throw error
  }
}
