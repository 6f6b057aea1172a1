import type { RunOptions } from './run.js'

/**
 * `runService` as the package's main entry exports it: the module behind it (service.toml
 * reading, validation, the runtime) is imported when it is called, so `import 'micro-ts'`
 * for `createService` does not load it. Same function otherwise.
 */
export async function runService(options: RunOptions): Promise<number> {
  return (await import('./run.js')).runService(options)
}
