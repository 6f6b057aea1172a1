import { parseCommand, UsageError } from '../args.js'
import { resolveCliContext, type SettingSource } from '../context.js'
import { checkNamespace, currentEnvironment, readCliConfig, writeCliConfig } from '../environments.js'

export const USER_HELP = `Usage: micro user
       micro user set <namespace>

micro user shows who and where commands act: the current environment, its platform
and the namespace. micro user set <namespace> makes commands use that namespace: in the
current environment (each environment keeps its own), or on this machine when none is
set (micro env). --namespace on any command wins over it, then MICRO_NAMESPACE.

  micro env set prod && micro user set shop && micro greeter hello --name=Alice

Options:
  --json                    machine-readable output
  -h, --help                show help`

const SOURCES: Record<SettingSource, string> = {
  flag: '--namespace',
  variable: 'MICRO_NAMESPACE',
  environment: 'micro user set, in this environment',
  config: 'micro user set',
  default: 'the default',
}

/** `micro user [set <namespace>]`: show or choose the namespace commands work in. */
export async function userCommand(argv: string[], out: (text: string) => void): Promise<number> {
  const { global, values, positionals } = parseCommand(argv, {})
  if (global.help) {
    out(USER_HELP)
    return 0
  }
  const [action, namespace, ...extra] = positionals
  if (action === undefined) return show(values, global.json, out)
  if (action !== 'set')
    throw new UsageError(`unknown user command ${action}; micro user, or micro user set <namespace>`)
  if (namespace === undefined || extra.length > 0) throw new UsageError('user set takes one namespace')
  try {
    checkNamespace(namespace)
  } catch (error) {
    throw new UsageError((error as Error).message)
  }
  const config = await readCliConfig()
  const environment = currentEnvironment(config)
  if (environment) {
    const stored = config.environments[environment.name]
    if (stored) stored.namespace = namespace
  } else {
    config.namespace = namespace
  }
  await writeCliConfig(config)
  const scope = environment ? `environment ${environment.name}` : 'this machine (no environment is current)'
  const overridden = process.env.MICRO_NAMESPACE
    ? ` (MICRO_NAMESPACE=${process.env.MICRO_NAMESPACE} overrides it here)`
    : ''
  out(`namespace ${namespace} is set for ${scope}${overridden}`)
  return 0
}

async function show(
  values: Record<string, unknown>,
  json: boolean,
  out: (text: string) => void,
): Promise<number> {
  const context = resolveCliContext({
    namespace: values.namespace as string | undefined,
    platform: values.platform as string | undefined,
  })
  const environment = currentEnvironment(await readCliConfig())
  const shown = {
    environment: environment?.name ?? null,
    platform: context.platform ?? null,
    namespace: context.namespace,
    namespaceFrom: SOURCES[context.namespaceFrom],
    // Accounts come with auth (micro login); until then every call is anonymous.
    account: null,
  }
  if (json) {
    out(JSON.stringify(shown, null, 2))
    return 0
  }
  const platform = context.platform
    ? `${context.platform}${context.platformFrom === 'environment' ? '' : ` (from ${context.platformFrom === 'flag' ? '--platform' : 'MICRO_PLATFORM'})`}`
    : 'none: this machine directly'
  out(
    [
      `environment  ${environment ? environment.name : 'none'}`,
      `platform     ${platform}`,
      `namespace    ${context.namespace} (${shown.namespaceFrom})`,
      'account      not logged in',
    ].join('\n'),
  )
  return 0
}
