import { chmod, mkdir, readFile, rename, writeFile } from 'node:fs/promises'
import { homedir } from 'node:os'
import { dirname, join } from 'node:path'

/** Where a platform listens when nothing else is said: `micro server`'s default platform port. */
export const DEFAULT_PLATFORM_ADDRESS = '127.0.0.1:8081'

/** A named platform the CLI can talk to (Micro's `micro env`). */
export interface Environment {
  /** `host:port` of the server's platform port. */
  address: string
  description?: string
  /** The namespace commands use in this environment (`micro user set <ns>`). */
  namespace?: string
}

/** What the CLI keeps between runs: its environments and which one is current. */
export interface CliConfig {
  /** Name of the current environment; none means the local machine's defaults. */
  current?: string
  environments: Record<string, Environment>
}

/**
 * The CLI's config directory: MICRO_CONFIG_DIR, else `$XDG_CONFIG_HOME/micro`, else
 * `~/.config/micro`.
 */
export function configDirectory(env: NodeJS.ProcessEnv = process.env): string {
  if (env.MICRO_CONFIG_DIR) return env.MICRO_CONFIG_DIR
  const base = env.XDG_CONFIG_HOME || join(env.HOME || homedir(), '.config')
  return join(base, 'micro')
}

/** The file that holds {@link CliConfig}. */
export function configFile(env: NodeJS.ProcessEnv = process.env): string {
  return join(configDirectory(env), 'config.json')
}

/** Read the CLI config; a missing file is an empty config, a broken one an error naming it. */
export async function readCliConfig(env: NodeJS.ProcessEnv = process.env): Promise<CliConfig> {
  const file = configFile(env)
  let text: string
  try {
    text = await readFile(file, 'utf8')
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { environments: {} }
    throw error
  }
  let parsed: unknown
  try {
    parsed = JSON.parse(text)
  } catch {
    throw new Error(`${file} is not valid JSON: fix or delete it`)
  }
  const config = parsed as Partial<CliConfig> | null
  if (!config || typeof config !== 'object' || Array.isArray(config)) {
    throw new Error(`${file} does not hold a JSON object: fix or delete it`)
  }
  const environments =
    config.environments && typeof config.environments === 'object' ? config.environments : {}
  return { ...config, environments } as CliConfig
}

/**
 * Write the CLI config, readable by its owner only (it will hold tokens): written to a
 * temporary file with mode 0600 and renamed over the old one, so a crash never leaves half
 * a file.
 */
export async function writeCliConfig(config: CliConfig, env: NodeJS.ProcessEnv = process.env): Promise<void> {
  const file = configFile(env)
  await mkdir(dirname(file), { recursive: true, mode: 0o700 })
  const temporary = `${file}.${process.pid}.tmp`
  await writeFile(temporary, `${JSON.stringify(config, null, 2)}\n`, { mode: 0o600 })
  await chmod(temporary, 0o600)
  await rename(temporary, file)
}

/** The current environment with its name, or undefined when none is set. */
export function currentEnvironment(config: CliConfig): (Environment & { name: string }) | undefined {
  const name = config.current
  if (!name) return undefined
  const environment = config.environments[name]
  return environment ? { ...environment, name } : undefined
}

/**
 * The platform address a command talks to: the `--platform` flag, then MICRO_PLATFORM,
 * then the current environment, then {@link DEFAULT_PLATFORM_ADDRESS}.
 */
export async function platformAddress(
  flag: string | undefined,
  env: NodeJS.ProcessEnv = process.env,
): Promise<string> {
  if (flag) return flag
  if (env.MICRO_PLATFORM) return env.MICRO_PLATFORM
  return currentEnvironment(await readCliConfig(env))?.address ?? DEFAULT_PLATFORM_ADDRESS
}
