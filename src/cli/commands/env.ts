import { conflict, notFound } from '../../errors/errors.js'
import { parseCommand, UsageError } from '../args.js'
import {
  type CliConfig,
  checkEnvironmentName,
  configFile,
  currentEnvironment,
  DEFAULT_PLATFORM_PORT,
  normalizePlatformAddress,
  readCliConfig,
  writeCliConfig,
} from '../environments.js'

export const ENV_HELP = `Usage: micro env [list]
       micro env add <name> <host[:port]> [--description <text>]
       micro env set <name>
       micro env unset
       micro env get
       micro env del <name>

Environments are named platforms (a micro server's platform port). With one set,
every command that talks to services works through that platform: lookups, calls,
streams, store, config, publish, events. With none set, commands work on this machine
directly. There are no built-in environments: what you add is all there is.

  micro env add prod platform.example.com          port ${DEFAULT_PLATFORM_PORT} when none is given
  micro env set prod
  micro env list                                   * marks the current one
  micro env unset                                  back to this machine
  micro env del prod                               deleting the current one unsets it

An address without a port gets :${DEFAULT_PLATFORM_PORT}, the platform port of micro server (Micro v3
used :443). --platform <host:port> or MICRO_PLATFORM override the environment for one
command. Names are letters, digits, '-', '_' and '.'. The environments live in
\${MICRO_CONFIG_DIR:-\${XDG_CONFIG_HOME:-~/.config}/micro}/config.json, readable by
its owner only (mode 0600).

Options:
  --description <text>      add: what the environment is
  --json                    get, list: machine-readable output
  -h, --help                show help`

/** `micro env ...`: add, choose, show and delete environments. */
export async function envCommand(argv: string[], out: (text: string) => void): Promise<number> {
  const { global, values, positionals } = parseCommand(argv, { description: { type: 'string' } })
  if (global.help) {
    out(ENV_HELP)
    return 0
  }
  const [action = 'list', ...args] = positionals
  const arity: Record<string, number> = { list: 0, add: 2, set: 1, unset: 0, get: 0, del: 1, delete: 1 }
  const expected = arity[action]
  if (expected === undefined)
    throw new UsageError(`unknown env command ${action}; choose one of add, set, unset, get, list, del`)
  if (args.length !== expected)
    throw new UsageError(
      `env ${action} takes ${expected === 0 ? 'no' : expected} argument${expected === 1 ? '' : 's'}`,
    )
  if (values.description !== undefined && action !== 'add')
    throw new UsageError('--description goes with env add')
  const config = await readCliConfig()
  switch (action) {
    case 'add':
      await add(config, args[0] as string, args[1] as string, values.description as string | undefined, out)
      break
    case 'set':
      config.current = existing(config, args[0] as string)
      await writeCliConfig(config)
      out(`environment ${config.current} (${config.environments[config.current]?.address}) is current`)
      break
    case 'unset':
      delete config.current
      await writeCliConfig(config)
      out('no environment is current: commands work on this machine directly')
      break
    case 'get':
      get(config, global.json, out)
      break
    case 'del':
    case 'delete':
      await del(config, existing(config, args[0] as string), out)
      break
    default:
      list(config, global.json, out)
  }
  return 0
}

async function add(
  config: CliConfig,
  name: string,
  address: string,
  description: string | undefined,
  out: (text: string) => void,
): Promise<void> {
  let normalized: string
  try {
    checkEnvironmentName(name)
    normalized = normalizePlatformAddress(address)
  } catch (error) {
    throw new UsageError((error as Error).message)
  }
  if (Object.hasOwn(config.environments, name))
    throw conflict(
      'micro.cli',
      `environment ${name} exists (${config.environments[name]?.address}); env del it first`,
    )
  config.environments[name] =
    description === undefined ? { address: normalized } : { address: normalized, description }
  await writeCliConfig(config)
  out(`environment ${name} added: ${normalized} (micro env set ${name} to use it)`)
}

async function del(config: CliConfig, name: string, out: (text: string) => void): Promise<void> {
  delete config.environments[name]
  const wasCurrent = config.current === name
  if (wasCurrent) delete config.current
  await writeCliConfig(config)
  out(
    wasCurrent
      ? `environment ${name} deleted; none is current now: commands work on this machine directly`
      : `environment ${name} deleted`,
  )
}

function get(config: CliConfig, json: boolean, out: (text: string) => void): void {
  const current = currentEnvironment(config)
  if (json) out(JSON.stringify(current ?? null, null, 2))
  else if (!current) out('none: commands work on this machine directly')
  else out(`${current.name}  ${current.address}${current.description ? `  ${current.description}` : ''}`)
}

function list(config: CliConfig, json: boolean, out: (text: string) => void): void {
  const names = Object.keys(config.environments).sort()
  if (json) {
    out(JSON.stringify({ current: config.current ?? null, environments: config.environments }, null, 2))
    return
  }
  if (names.length === 0) {
    out(`no environments (micro env add <name> <host:port>; stored in ${configFile()})`)
    return
  }
  const width = Math.max(...names.map((n) => n.length))
  for (const name of names) {
    const environment = config.environments[name]
    const mark = name === config.current ? '*' : ' '
    const description = environment?.description ? `  ${environment.description}` : ''
    out(`${mark} ${name.padEnd(width)}  ${environment?.address}${description}`)
  }
}

/** `name` when it is an environment; a 404 naming the ones there are otherwise. */
function existing(config: CliConfig, name: string): string {
  if (Object.hasOwn(config.environments, name)) return name
  const names = Object.keys(config.environments).sort()
  throw notFound(
    'micro.cli',
    `no environment named ${name}; ${names.length > 0 ? `there are: ${names.join(', ')}` : 'micro env add adds one'}`,
  )
}
