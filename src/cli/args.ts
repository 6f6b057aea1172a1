import { parseArgs } from 'node:util'
import { REGISTRY_NAMES } from '../registry/from-env.js'
import { resolveCliContext } from './context.js'

/** A usage mistake: printed with the command's help hint, exit code 2. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'UsageError'
  }
}

/** Options every command takes. */
export interface GlobalOptions {
  /** `--namespace` > MICRO_NAMESPACE > the environment's namespace (`micro user set`) > micro. */
  namespace: string
  /**
   * The platform's `host:port` when commands go through one (`--platform`, MICRO_PLATFORM or
   * the current environment); undefined: this machine directly.
   */
  platform: string | undefined
  /** The current environment's name, when one is set. */
  environment: string | undefined
  registry: string | undefined
  registryAddress: string | undefined
  help: boolean
  json: boolean
}

export const GLOBAL_HELP = `Global options:
  --namespace <ns>          namespace (MICRO_NAMESPACE, else micro user set's, else micro)
  --platform <host:port>    work through this platform (MICRO_PLATFORM, else the
                            current environment: micro env; none: this machine)
  --registry <name>         ${REGISTRY_NAMES.join(', ')} (MICRO_REGISTRY, default mdns; no platform)
  --registry_address <addr> registry address (MICRO_REGISTRY_ADDRESS)
  --json                    machine-readable output
  -h, --help                show help`

const globalSpec = {
  namespace: { type: 'string' },
  platform: { type: 'string' },
  registry: { type: 'string' },
  registry_address: { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const

type Spec = Parameters<typeof parseArgs>[0] extends infer P
  ? P extends { options?: infer O }
    ? O
    : never
  : never

/**
 * Parse a command's arguments: its own options plus the global ones. Unknown options are
 * usage errors; so are a bad `--namespace` or `--platform`. The namespace and platform
 * follow {@link resolveCliContext} (flags, variables, the current environment).
 */
export function parseCommand<const S extends NonNullable<Spec>>(argv: string[], spec: S) {
  let parsed: ReturnType<typeof parseArgs>
  try {
    const options = { ...globalSpec, ...spec }
    parsed = parseArgs({
      args: attachDashValues(argv, options),
      options,
      allowPositionals: true,
      strict: true,
    })
  } catch (error) {
    throw new UsageError((error as Error).message)
  }
  const v = parsed.values as Record<string, unknown>
  const flags = { namespace: v.namespace as string | undefined, platform: v.platform as string | undefined }
  let context: ReturnType<typeof resolveCliContext>
  try {
    context = resolveCliContext(flags)
  } catch (error) {
    // A broken config file is not a usage mistake: it surfaces as itself.
    if (error instanceof TypeError) throw new UsageError(error.message)
    throw error
  }
  const global: GlobalOptions = {
    namespace: context.namespace,
    platform: context.platform,
    environment: context.environment,
    registry: (v.registry as string | undefined) ?? (process.env.MICRO_REGISTRY || undefined),
    registryAddress:
      (v.registry_address as string | undefined) ?? (process.env.MICRO_REGISTRY_ADDRESS || undefined),
    help: v.help === true,
    json: v.json === true,
  }
  return { global, values: v, positionals: parsed.positionals }
}

/**
 * `--flag <value>` where the value starts with `-` (a token, a negative number) becomes
 * `--flag=<value>`, which node's parseArgs otherwise refuses as ambiguous. Only for options
 * that take a value, and only when the next argument is not itself one of the command's
 * options: `--namespace --json` (a forgotten value) still fails as a usage error.
 */
export function attachDashValues(argv: string[], options: NonNullable<Spec>): string[] {
  const shorts = new Map(
    Object.entries(options).flatMap(([name, o]) => (o.short === undefined ? [] : [[o.short, name] as const])),
  )
  // The option an argument names, if it names one of the command's: `--name`, `--name=v`, `-s`.
  const named = (arg: string): string | undefined => {
    if (arg.startsWith('--')) {
      const name = arg.slice(2).split('=')[0] as string
      return Object.hasOwn(options, name) ? name : undefined
    }
    return arg.length === 2 && arg[0] === '-' ? shorts.get(arg[1] as string) : undefined
  }
  const out: string[] = []
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string
    if (arg === '--') {
      out.push(...argv.slice(i))
      break
    }
    const name = arg.includes('=') ? undefined : named(arg)
    const next = argv[i + 1]
    if (
      name !== undefined &&
      options[name]?.type === 'string' &&
      next?.startsWith('-') &&
      next !== '--' &&
      named(next) === undefined
    ) {
      out.push(`--${name}=${next}`)
      i++
      continue
    }
    out.push(arg)
  }
  return out
}
