import { runService } from '../../definition/run.js'
import { GLOBAL_HELP, parseCommand, UsageError } from '../args.js'
import { DETACHED_HELP, DETACHED_OPTIONS, detachedOnly, runDetached } from './run-detached.js'

/** `micro run --help` */
export const RUN_HELP = `Usage: micro run [options] <folder>

Run a service folder: a service.toml and the module that exports defineService(...)
(service.ts, service.js, main.ts ... or the toml's entry). The toml and the environment
are checked first and every problem is listed at once; then every kind in types starts
in one process. SIGINT/SIGTERM stops them in reverse order (a second signal exits at once).
Exit code: 0 after a signal, a script's own code, 1 on a problem or a failure.

  micro run ./orders
  micro run -d ./orders --instances 2 --env REGION=eu   (on the platform's runtime)

Options:
  --config <path>           the service.toml to use (default <folder>/service.toml)
${DETACHED_HELP}
${GLOBAL_HELP}`

/** `micro run <folder>`: resolves with the exit code once the service has stopped. */
export async function runCommand(
  argv: string[],
  out: (text: string) => void = (t) => console.log(t),
  err: (text: string) => void = (t) => console.error(t),
): Promise<number> {
  const { global, values, positionals } = parseCommand(argv, {
    config: { type: 'string' },
    ...DETACHED_OPTIONS,
  })
  if (global.help) {
    out(RUN_HELP)
    return 0
  }
  if (values.detach === true) return runDetached(positionals, values, global, out)
  const needsDetach = detachedOnly(values)
  if (needsDetach) throw new UsageError(`--${needsDetach} goes with -d (run on the platform's runtime)`)
  if (positionals.length !== 1) {
    throw new UsageError(
      `run needs one service folder, e.g. micro run ./orders (got ${positionals.length} arguments)`,
    )
  }
  // Global options reach the service the way its own MICRO_* variables would.
  const env: NodeJS.ProcessEnv = { ...process.env, MICRO_NAMESPACE: global.namespace }
  if (global.registry) env.MICRO_REGISTRY = global.registry
  if (global.registryAddress) env.MICRO_REGISTRY_ADDRESS = global.registryAddress
  return runService({
    target: positionals[0] as string,
    config: values.config as string | undefined,
    env,
    out,
    err,
  })
}
