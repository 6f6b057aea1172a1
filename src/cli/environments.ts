import { readFileSync } from 'node:fs'
import { chmod, mkdir, readFile, rename, writeFile } from 'node:fs/promises'
import { homedir } from 'node:os'
import { dirname, join } from 'node:path'

/** Where a platform listens when nothing else is said: `micro server`'s default platform port. */
export const DEFAULT_PLATFORM_ADDRESS = '127.0.0.1:8081'

/** The port a platform address without one gets (our platform port; Micro v3 used 443). */
export const DEFAULT_PLATFORM_PORT = 8081

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
  /** The namespace commands use when no environment is current (`micro user set <ns>`). */
  namespace?: string
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
  return parseCliConfig(text, file)
}

/**
 * {@link readCliConfig} without waiting: commands resolve their namespace and platform
 * while parsing their arguments, which is synchronous.
 */
export function readCliConfigSync(env: NodeJS.ProcessEnv = process.env): CliConfig {
  const file = configFile(env)
  let text: string
  try {
    text = readFileSync(file, 'utf8')
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { environments: {} }
    throw error
  }
  return parseCliConfig(text, file)
}

function parseCliConfig(text: string, file: string): CliConfig {
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
    config.environments && typeof config.environments === 'object' && !Array.isArray(config.environments)
      ? config.environments
      : {}
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

/**
 * A platform address as `host:port`: a missing port is {@link DEFAULT_PLATFORM_PORT}; a URL,
 * an empty host or a bad port is a TypeError saying what is expected.
 */
export function normalizePlatformAddress(text: string): string {
  const address = text.trim()
  const expected = `expected host[:port], e.g. platform.example.com:${DEFAULT_PLATFORM_PORT}`
  if (address === '' || /\s/.test(address)) throw new TypeError(`bad platform address "${text}": ${expected}`)
  if (address.includes('://') || address.includes('/'))
    throw new TypeError(`bad platform address "${text}": ${expected}, not a URL`)
  // [v6]:port, [v6], a bare IPv6 address (several colons), host:port, host
  const bracketed = /^\[([0-9A-Fa-f:.]+)\](?::(\d+))?$/.exec(address)
  let host: string
  let port: string | undefined
  if (bracketed) {
    host = `[${bracketed[1]}]`
    port = bracketed[2]
  } else if ((address.match(/:/g) ?? []).length > 1) {
    host = `[${address}]`
  } else {
    const colon = address.lastIndexOf(':')
    host = colon < 0 ? address : address.slice(0, colon)
    port = colon < 0 ? undefined : address.slice(colon + 1)
  }
  if (!/^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?)$/.test(host))
    throw new TypeError(`bad platform address "${text}": ${expected}`)
  if (port === undefined) return `${host}:${DEFAULT_PLATFORM_PORT}`
  const number = Number(port)
  if (!/^\d+$/.test(port) || number < 1 || number > 65535)
    throw new TypeError(`bad platform address "${text}": the port must be 1-65535`)
  return `${host}:${number}`
}

/** Environment names: a letter or digit, then letters, digits, `-`, `_` or `.`; at most 64. */
export const ENVIRONMENT_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/

/** Namespaces the CLI accepts: the same shape as environment names. */
export const NAMESPACE_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/

/** Throw a TypeError unless `name` is a valid environment name. */
export function checkEnvironmentName(name: string): void {
  if (!ENVIRONMENT_NAME.test(name))
    throw new TypeError(
      `bad environment name "${name}": use letters, digits, '-', '_' or '.', starting with a letter or digit (at most 64)`,
    )
}

/** Throw a TypeError unless `namespace` is a valid namespace. */
export function checkNamespace(namespace: string): void {
  if (!NAMESPACE_NAME.test(namespace))
    throw new TypeError(
      `bad namespace "${namespace}": use letters, digits, '-', '_' or '.', starting with a letter or digit (at most 64)`,
    )
}
