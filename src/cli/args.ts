import { parseArgs } from 'node:util'
import { REGISTRY_NAMES } from '../registry/from-env.js'

/** A usage mistake: printed with the command's help hint, exit code 2. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'UsageError'
  }
}

/** Options every command takes. */
export interface GlobalOptions {
  namespace: string
  registry: string | undefined
  registryAddress: string | undefined
  help: boolean
  json: boolean
}

export const GLOBAL_HELP = `Global options:
  --namespace <ns>          registry namespace (MICRO_NAMESPACE, default micro)
  --registry <name>         ${REGISTRY_NAMES.join(', ')} (MICRO_REGISTRY, default mdns)
  --registry_address <addr> registry address (MICRO_REGISTRY_ADDRESS)
  --json                    machine-readable output
  -h, --help                show help`

const globalSpec = {
  namespace: { type: 'string' },
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

/** Parse a command's arguments: its own options plus the global ones. Unknown options are usage errors. */
export function parseCommand<const S extends NonNullable<Spec>>(argv: string[], spec: S) {
  try {
    const { values, positionals } = parseArgs({
      args: argv,
      options: { ...globalSpec, ...spec },
      allowPositionals: true,
      strict: true,
    })
    const v = values as Record<string, unknown>
    const global: GlobalOptions = {
      namespace: (v.namespace as string | undefined) ?? process.env.MICRO_NAMESPACE ?? 'micro',
      registry: (v.registry as string | undefined) ?? (process.env.MICRO_REGISTRY || undefined),
      registryAddress:
        (v.registry_address as string | undefined) ?? (process.env.MICRO_REGISTRY_ADDRESS || undefined),
      help: v.help === true,
      json: v.json === true,
    }
    return { global, values: v, positionals }
  } catch (error) {
    throw new UsageError((error as Error).message)
  }
}
