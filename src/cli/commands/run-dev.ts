import { DefinitionError } from '../../definition/problems.js'
import { MicroError } from '../../errors/errors.js'
import { DEFAULT_DEV_ADDRESS, type MountHttp, parseAddress } from '../../platform/dev/http.js'
import { DevLoop } from '../../platform/dev/loop.js'
import { planServices } from '../../platform/dev/plan.js'
import { DEFAULT_ENVIRONMENT } from '../../platform/dev/project.js'
import type { GlobalOptions } from '../args.js'
import { UsageError } from '../args.js'

/**
 * What the dev loop serves on its address: the gateway, dashboard, OTLP receiver and
 * OpenAPI document of `micro server` (loaded when the dev loop mounts them, so `micro run
 * --inline` never reads them).
 */
export const DEV_HTTP: MountHttp = async (context) =>
  (await import('../../platform/server/dev-mount.js')).devMount(context)

/** The options of `micro run`'s dev loop. */
export const DEV_OPTIONS = {
  project: { type: 'string' },
  'no-watch': { type: 'boolean' },
  'no-gateway': { type: 'boolean' },
  address: { type: 'string' },
} as const

export const DEV_HELP = `  --project <file>          the project file (default micro.toml or micro.json here)
  --env <name>              the project file's environment (MICRO_ENV, default ${DEFAULT_ENVIRONMENT})
  --no-watch                do not reload on changes
  --no-gateway              do not serve the gateway and dashboard
  --address <host:port>     where the gateway listens (default ${DEFAULT_DEV_ADDRESS})`

/** A dev loop option given where it means nothing (with --inline). */
export function devOnly(values: Record<string, unknown>): string | undefined {
  return ['project', 'no-watch', 'no-gateway', 'address', 'env'].find((o) => values[o] !== undefined)
}

const SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const
/** A second signal sooner than this after the first is the same one (no one presses Ctrl-C twice that fast). */
const SAME_SIGNAL_MS = 200

/**
 * `micro run [folders...]`: plan the services, run the dev loop until a signal, drain.
 * Exit code 0 after a signal (130 after a second one), 1 when the project cannot run.
 */
export async function runDevLoop(
  positionals: string[],
  values: Record<string, unknown>,
  global: GlobalOptions,
  out: (text: string) => void,
  err: (text: string) => void,
  mountHttp: MountHttp = DEV_HTTP,
): Promise<number> {
  const environment = environmentOf(values.env as string[] | undefined)
  const noGateway = values['no-gateway'] === true
  if (noGateway && values.address !== undefined)
    throw new UsageError('--address and --no-gateway do not go together')
  const address = (values.address as string | undefined) ?? DEFAULT_DEV_ADDRESS
  try {
    parseAddress(address)
  } catch (error) {
    throw new UsageError((error as Error).message)
  }
  let plan: Awaited<ReturnType<typeof planServices>>
  try {
    plan = await planServices({
      targets: positionals,
      cwd: process.cwd(),
      environment,
      ...(values.project !== undefined ? { project: values.project as string } : {}),
      ...(values.config !== undefined ? { config: values.config as string } : {}),
    })
  } catch (error) {
    err(error instanceof DefinitionError ? error.detail : `micro run: ${MicroError.from(error).detail}`)
    return 1
  }
  const loop = new DevLoop({
    plan,
    cwd: process.cwd(),
    namespace: global.namespace,
    environment: plan.project?.environment ?? environment,
    ...(global.registry ? { registry: global.registry } : {}),
    ...(global.registryAddress ? { registryAddress: global.registryAddress } : {}),
    watch: values['no-watch'] !== true,
    address: noGateway ? false : address,
    mountHttp,
    write: (text) => out(text.endsWith('\n') ? text.slice(0, -1) : text),
    color: process.stdout.isTTY === true && !process.env.NO_COLOR,
  })
  let signalled: () => void = () => {}
  const stopSignal = new Promise<void>((resolve) => {
    signalled = resolve
  })
  let received = 0
  let firstAt = 0
  const onSignal = (signal: NodeJS.Signals) => {
    // One signal sent both to the process and to its group (as `timeout` does) arrives twice at once.
    if (received > 0 && Date.now() - firstAt < SAME_SIGNAL_MS) return
    if (received++ === 0) firstAt = Date.now()
    if (received > 1) {
      err(`micro run: ${signal} again, killing every service now`)
      loop.kill()
      process.exit(130)
    }
    signalled()
  }
  for (const s of SIGNALS) process.on(s, onSignal)
  try {
    try {
      await loop.start()
    } catch (error) {
      err(`micro run: ${MicroError.from(error).detail}`)
      await loop.stop()
      return 1
    }
    await stopSignal
    await loop.stop()
    return 0
  } finally {
    for (const s of SIGNALS) process.off(s, onSignal)
  }
}

/** `--env <name>` (one, a name: `--env K=V` is `-d`'s) > MICRO_ENV > development. */
function environmentOf(flag: string[] | undefined): string {
  if (flag && flag.length > 1) throw new UsageError('--env names one environment of the project file')
  const name = flag?.[0]
  if (name !== undefined && (name.includes('=') || name.trim() === '')) {
    throw new UsageError(
      `--env names an environment of the project file (e.g. --env prod); variables go in the project file, or use -d to pass NAME=value`,
    )
  }
  return name ?? (process.env.MICRO_ENV || DEFAULT_ENVIRONMENT)
}
