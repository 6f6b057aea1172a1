import { MicroError } from '../errors/errors.js'
import { exportTargetFromEnv } from '../features/tracing/target.js'
import { createLogger } from '../logger/logger.js'
import { registryFromEnv } from '../registry/from-env.js'
import type { ServiceDefinition } from './define.js'
import { findEntry, findToml, importDefinition } from './locate.js'
import { prepare } from './prepare.js'
import { DefinitionError } from './problems.js'
import { ServiceRuntime } from './runtime.js'
import { readToml } from './toml.js'

/** Options of `runService` (`micro run`). */
export interface RunOptions {
  /** A service folder, its service.toml, or its module. */
  target: string
  /** The toml to use instead of the one found from `target`. */
  config?: string
  /** The definition, when it is already loaded (runIfMain). */
  definition?: ServiceDefinition
  /** Human-readable lines (the "is running" line); default stdout. */
  out?: (line: string) => void
  /** Problems and failures; default stderr. */
  err?: (line: string) => void
  env?: NodeJS.ProcessEnv
  /** Stop gracefully on SIGINT/SIGTERM (a second one exits at once). Default true. */
  handleSignals?: boolean
  /**
   * Called once the definition is loaded and checked, before anything starts: resolves
   * true to start, false to exit 0 without starting (the dev loop boots a service while
   * its dependencies start, or while its new code is checked).
   */
  startGate?: () => Promise<boolean>
}

const SIGNALS = ['SIGINT', 'SIGTERM'] as const

/**
 * Run a service folder: read and validate the toml, load the definition, check the
 * environment (every problem reported at once), start every kind, and stop them in
 * reverse order on SIGINT/SIGTERM. Resolves with the exit code: 0 after a signal, a
 * script's own code, 1 when the definition is wrong or the service fails.
 */
export async function runService(options: RunOptions): Promise<number> {
  const out = options.out ?? ((line: string) => process.stdout.write(`${line}\n`))
  const err = options.err ?? ((line: string) => process.stderr.write(`${line}\n`))
  const env = options.env ?? process.env
  let runtime: ServiceRuntime
  try {
    const tomlPath = await findToml(options.target, options.config)
    const raw = await readToml(tomlPath)
    const definition =
      options.definition ?? (await importDefinition(await findEntry(options.target, tomlPath, raw.entry)))
    const prepared = await prepare({
      raw,
      source: tomlPath,
      definition,
      envSource: env,
      // Under a platform (MICRO_PLATFORM) or with an OTLP endpoint, tracing is on unless the toml turns it off.
      defaultFeatures: exportTargetFromEnv(env) ? ['logging', 'tracing'] : ['logging'],
    })
    const { config } = prepared
    const fields: Record<string, string> = { service: config.name, version: config.version }
    if (config.product) fields.product = config.product
    const logger = createLogger({ fields })
    const registry = registryFromEnv(env)
    // The broker, events, store, sync and config are the service stack's, from MICRO_* in `env`.
    runtime = new ServiceRuntime({
      prepared,
      registry,
      ownsRegistry: true,
      namespace: env.MICRO_NAMESPACE || 'micro',
      logger,
      envSource: env,
    })
  } catch (error) {
    err(error instanceof DefinitionError ? error.detail : `micro run: ${MicroError.from(error).detail}`)
    return 1
  }
  let signalled: (signal: string) => void = () => {}
  const stopSignal = new Promise<string>((resolve) => {
    signalled = resolve
  })
  let received = 0
  const onSignal = (signal: NodeJS.Signals) => {
    if (++received > 1) {
      runtime.logger.warn(`received ${signal} again, exiting now`)
      process.exit(signal === 'SIGINT' ? 130 : 143)
    }
    runtime.logger.info(`received ${signal}, shutting down`)
    signalled(signal)
  }
  if (options.handleSignals !== false) for (const s of SIGNALS) process.on(s, onSignal)
  // A service whose kinds hold no socket (a worker) must not end when the event loop empties.
  const keepAlive = setInterval(() => {}, 1 << 30)
  try {
    if (options.startGate) {
      const open = await Promise.race([options.startGate(), stopSignal.then(() => false)])
      if (!open) {
        await runtime.stop().catch(() => {})
        return 0
      }
    }
    const starting = runtime.start()
    starting.catch(() => {})
    try {
      await Promise.race([starting, stopSignal])
    } catch (error) {
      err(`${runtime.info.name} failed to start: ${MicroError.from(error).detail}`)
      return 1
    }
    // A script's output is its own; the others say where they serve.
    if (received === 0 && !runtime.info.kinds.includes('script')) out(runningLine(runtime))
    const outcome = await Promise.race([runtime.exited, stopSignal.then(() => undefined)])
    if (outcome) {
      if (outcome.reason !== undefined)
        err(`${runtime.info.name} failed: ${MicroError.from(outcome.reason).detail}`)
      return outcome.code
    }
    try {
      await runtime.stop()
      return 0
    } catch (error) {
      err(`${runtime.info.name} did not stop cleanly: ${MicroError.from(error).detail}`)
      return 1
    }
  } finally {
    clearInterval(keepAlive)
    for (const s of SIGNALS) process.off(s, onSignal)
  }
}

/** `orders 1.2.0 is running: rpc on 127.0.0.1:41203, http on http://127.0.0.1:8080/orders` */
function runningLine(runtime: ServiceRuntime): string {
  const parts = runtime.info.kinds.map((kind) => {
    const info = runtime.kind(kind)?.info() ?? {}
    const base = typeof info.basePath === 'string' && info.basePath !== '/' ? info.basePath : ''
    return typeof info.address === 'string' ? `${kind} on ${info.address}${base}` : kind
  })
  return `${runtime.info.name} ${runtime.info.version} is running: ${parts.join(', ')}`
}

/** `runIfMain`: run the definition from its own file, then exit with the code. */
export async function runAsMain(definition: ServiceDefinition, file: string): Promise<void> {
  const code = await runService({
    target: file,
    definition,
    config: process.env.MICRO_SERVICE_CONFIG || undefined,
  })
  process.exit(code)
}
