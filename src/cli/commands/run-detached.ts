import type { ServiceStatus } from '../../platform/runtime/types.js'
import type { GlobalOptions } from '../args.js'
import { UsageError } from '../args.js'
import { asSource, openPlatform, parseEnvPairs, parseInstances } from './runtime-client.js'

/** The options `micro run -d` adds to `micro run`. */
export const DETACHED_OPTIONS = {
  detach: { type: 'boolean', short: 'd' },
  instances: { type: 'string' },
  env: { type: 'string', multiple: true },
  name: { type: 'string' },
  platform: { type: 'string' },
} as const

export const DETACHED_HELP = `  -d, --detach              hand the service to the platform's runtime instead of running it here
  --instances <n>           with -d: processes to keep running (default 1)
  --env <NAME=value>        with -d: an environment variable of every instance (repeatable)
  --name <name>             with -d: the service name (default: the service.toml's, else the folder's)
  --platform <host:port>    with -d: the platform (MICRO_PLATFORM, else the current environment, else 127.0.0.1:8081)`

/** Whether run-only-with-d options were given without -d. */
export function detachedOnly(values: Record<string, unknown>): string | undefined {
  return ['instances', 'env', 'name', 'platform'].find((o) => values[o] !== undefined)
}

/**
 * `micro run -d <folder>`: `Runtime.Create` on the platform with the folder as an absolute
 * path (the runtime runs it from there, on its machine), then say how to follow it.
 */
export async function runDetached(
  positionals: string[],
  values: Record<string, unknown>,
  global: GlobalOptions,
  out: (text: string) => void,
): Promise<number> {
  if (positionals.length !== 1) {
    throw new UsageError(`run -d needs one service folder or module (got ${positionals.length} arguments)`)
  }
  const argument = positionals[0] as string
  const source = asSource(argument)
  if (!source) throw new UsageError(`${argument} does not exist`)
  const request = {
    namespace: global.namespace,
    source,
    ...(values.name !== undefined ? { name: values.name as string } : {}),
    ...(values.instances !== undefined ? { instances: parseInstances(values.instances as string) } : {}),
    ...(values.env !== undefined ? { env: parseEnvPairs(values.env as string[]) } : {}),
  }
  const platform = await openPlatform(values.platform as string | undefined)
  try {
    const { service } = await platform.call<{ service: ServiceStatus }>('Runtime.Create', request)
    if (global.json) {
      out(JSON.stringify(service, null, 2))
    } else {
      const n = service.instances.desired
      out(
        `${service.name} ${service.version} created on ${platform.address} (namespace ${service.namespace}): ` +
          `${n} instance${n === 1 ? '' : 's'} starting\n` +
          `  micro status          see how it runs\n  micro logs ${service.name} -f  follow its output`,
      )
    }
    return 0
  } finally {
    await platform.close()
  }
}
