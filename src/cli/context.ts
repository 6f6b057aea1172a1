import { ANY_NAMESPACE, DEFAULT_NAMESPACE } from '../registry/registry.js'
import {
  type CliConfig,
  checkNamespace,
  currentEnvironment,
  normalizePlatformAddress,
  readCliConfigSync,
} from './environments.js'

/** Where a setting came from, for `micro user` and error messages. */
export type SettingSource = 'flag' | 'variable' | 'environment' | 'config' | 'default'

/** Which platform (if any) and namespace a command works with. */
export interface CliContext {
  /** The current environment's name, when one is set. */
  environment: string | undefined
  /** The platform's `host:port` when commands go through a platform; undefined: this machine directly. */
  platform: string | undefined
  platformFrom: SettingSource | undefined
  namespace: string
  namespaceFrom: SettingSource
}

/**
 * Resolve the platform and namespace a command uses:
 *
 * - platform: `--platform` > MICRO_PLATFORM > the current environment's address; none of
 *   them means no platform (commands work on this machine directly, as without any config).
 * - namespace: `--namespace` > MICRO_NAMESPACE > the current environment's namespace (or
 *   the config's top-level `namespace` when no environment is current) > `micro`.
 *
 * The config file is read only when flags or variables do not already decide both (so
 * `environment` is then unknown). A bad address or namespace throws a TypeError naming it.
 */
export function resolveCliContext(
  flags: { platform?: string; namespace?: string },
  env: NodeJS.ProcessEnv = process.env,
): CliContext {
  let config: CliConfig | undefined
  const load = () => {
    config ??= readCliConfigSync(env)
    return config
  }
  const platformGiven = flags.platform ?? (env.MICRO_PLATFORM || undefined)
  const namespaceGiven = flags.namespace ?? (env.MICRO_NAMESPACE || undefined)
  const current = platformGiven !== undefined && namespaceGiven !== undefined ? undefined : load()
  const environment = current === undefined ? undefined : currentEnvironment(current)

  let platform: string | undefined
  let platformFrom: SettingSource | undefined
  if (flags.platform !== undefined) [platform, platformFrom] = [flags.platform, 'flag']
  else if (env.MICRO_PLATFORM) [platform, platformFrom] = [env.MICRO_PLATFORM, 'variable']
  else if (environment) [platform, platformFrom] = [environment.address, 'environment']
  if (platform !== undefined) platform = normalizePlatformAddress(platform)

  let namespace: string
  let namespaceFrom: SettingSource
  if (flags.namespace !== undefined) [namespace, namespaceFrom] = [flags.namespace, 'flag']
  else if (env.MICRO_NAMESPACE) [namespace, namespaceFrom] = [env.MICRO_NAMESPACE, 'variable']
  else if (environment?.namespace) [namespace, namespaceFrom] = [environment.namespace, 'environment']
  else if (!environment && current?.namespace) [namespace, namespaceFrom] = [current.namespace, 'config']
  else [namespace, namespaceFrom] = [DEFAULT_NAMESPACE, 'default']
  // `*` reaches every namespace where a command supports it (micro services --namespace '*').
  if (namespace !== ANY_NAMESPACE) checkNamespace(namespace)

  return {
    environment: environment?.name,
    platform,
    platformFrom,
    namespace,
    namespaceFrom,
  }
}
