import { readFile, stat } from 'node:fs/promises'
import { basename, dirname, join, resolve } from 'node:path'
import { closest, DefinitionError, type Problem, Problems } from '../../definition/problems.js'
import { lazyRequire } from '../../util/lazy-require.js'
import type { DevServiceSpec } from './types.js'

const toml = lazyRequire<typeof import('smol-toml')>('smol-toml')

/** The project files `micro run` looks for in a folder, in this order. */
export const PROJECT_FILES = ['micro.toml', 'micro.json']

/** The environment when neither `--env` nor MICRO_ENV names one (Go Micro's default). */
export const DEFAULT_ENVIRONMENT = 'development'

const TOP_KEYS = ['services', 'env', 'deploy']
const SERVICE_KEYS = ['path', 'depends', 'port', 'env']
const NAME = /^[a-z0-9][a-z0-9._-]*$/
const VARIABLE = /^[A-Za-z_][A-Za-z0-9_]*$/
/** Set by the dev loop itself: a project file cannot choose them. */
const RESERVED = ['MICRO_NAMESPACE', 'MICRO_READY_FD']

/** A project file read for one environment. */
export interface Project {
  file: string
  environment: string
  /** Every environment the file defines. */
  environments: string[]
  services: DevServiceSpec[]
}

/** The project file in `dir` (`micro.toml`, else `micro.json`); undefined when there is none; two is an error. */
export async function findProjectFile(dir: string): Promise<string | undefined> {
  const found: string[] = []
  for (const name of PROJECT_FILES) {
    if (await isFile(join(dir, name))) found.push(join(dir, name))
  }
  if (found.length > 1) {
    throw new DefinitionError(dir, [
      {
        key: 'project file',
        message: `both ${found.map((f) => basename(f)).join(' and ')} exist`,
        fix: 'keep one',
      },
    ])
  }
  return found[0]
}

/**
 * Read a project file (`micro.toml` or `micro.json`, the same shape as Go Micro's
 * `micro.json`): `services.<name>` with `path`, `depends`, `port` and `env.<environment>`,
 * plus `env.<environment>` shared by every service. Every problem is reported at once,
 * each with its key; paths are relative to the file.
 */
export async function loadProject(file: string, environment = DEFAULT_ENVIRONMENT): Promise<Project> {
  const path = resolve(file)
  const data = await parseFile(path)
  const problems = new Problems()
  const dir = dirname(path)
  for (const key of Object.keys(data)) {
    if (!TOP_KEYS.includes(key)) problems.add(key, 'is not a known field', hint(key, TOP_KEYS))
  }
  const shared = environments(data.env, 'env', problems)
  const defined = new Set(shared.keys())
  const services: DevServiceSpec[] = []
  const table = data.services
  if (!isTable(table) || Object.keys(table).length === 0) {
    problems.add('services', 'lists no service', 'add [services.<name>] with path = "./<folder>"')
  } else {
    for (const [name, value] of Object.entries(table)) {
      const spec = await service(name, value, dir, problems, defined)
      if (spec) services.push(spec)
    }
    const names = new Set(services.map((s) => s.name))
    for (const spec of services) {
      for (const dep of spec.depends) {
        if (!names.has(dep) && isTable(table) && !(dep in table)) {
          problems.add(
            `services.${spec.name}.depends`,
            `names ${dep}, which is not a service here`,
            hint(dep, names),
          )
        }
      }
    }
    duplicatePorts(services, problems)
  }
  if (defined.size > 0 && !defined.has(environment)) {
    problems.add(
      'env',
      `has no environment "${environment}" (it has ${[...defined].sort().join(', ')})`,
      'choose one with --env or MICRO_ENV',
    )
  }
  problems.throwIfAny(path)
  const sharedEnv = shared.get(environment) ?? {}
  const chosen = services.map((spec) => {
    const own = (spec as SpecWithEnvironments).environments.get(environment) ?? {}
    const { environments: _, ...rest } = spec as SpecWithEnvironments
    return { ...rest, env: { ...sharedEnv, ...own } }
  })
  return { file: path, environment, environments: [...defined].sort(), services: chosen }
}

interface SpecWithEnvironments extends DevServiceSpec {
  environments: Map<string, Record<string, string>>
}

async function service(
  name: string,
  value: unknown,
  dir: string,
  problems: Problems,
  defined: Set<string>,
): Promise<SpecWithEnvironments | undefined> {
  const key = `services.${name}`
  if (!NAME.test(name)) {
    problems.add(key, 'is not a valid service name', 'use lower-case letters, digits, ".", "_" and "-"')
  }
  if (!isTable(value)) {
    problems.add(key, 'must be a table with a path')
    return undefined
  }
  for (const field of Object.keys(value)) {
    if (!SERVICE_KEYS.includes(field))
      problems.add(`${key}.${field}`, 'is not a known field', hint(field, SERVICE_KEYS))
  }
  let source: string | undefined
  if (typeof value.path !== 'string' || value.path.trim() === '') {
    problems.add(`${key}.path`, 'is required', `path = "./${name}"`)
  } else {
    source = resolve(dir, value.path)
    if (!(await exists(source)))
      problems.add(`${key}.path`, `${value.path} does not exist (looked at ${source})`)
  }
  const depends: string[] = []
  if (value.depends !== undefined) {
    const list = typeof value.depends === 'string' ? [value.depends] : value.depends
    if (!Array.isArray(list) || !list.every((d) => typeof d === 'string')) {
      problems.add(`${key}.depends`, 'must be a list of service names')
    } else {
      depends.push(...new Set(list as string[]))
    }
  }
  let port: number | undefined
  if (value.port !== undefined) {
    if (!Number.isInteger(value.port) || (value.port as number) < 1 || (value.port as number) > 65_535) {
      problems.add(`${key}.port`, 'must be a whole number from 1 to 65535')
    } else {
      port = value.port as number
    }
  }
  const own = environments(value.env, `${key}.env`, problems)
  for (const name of own.keys()) defined.add(name)
  if (source === undefined) return undefined
  return { name, source, depends, env: {}, environments: own, ...(port ? { port } : {}) }
}

/** `env.<environment>.<VARIABLE> = value` tables: validated, values as strings. */
function environments(value: unknown, key: string, problems: Problems): Map<string, Record<string, string>> {
  const out = new Map<string, Record<string, string>>()
  if (value === undefined) return out
  if (!isTable(value)) {
    problems.add(key, 'must be a table of environments', `[${key}.development] with NAME = "value" lines`)
    return out
  }
  for (const [environment, variables] of Object.entries(value)) {
    const where = `${key}.${environment}`
    if (!isTable(variables)) {
      problems.add(where, 'must be a table of variables', 'NAME = "value"')
      continue
    }
    const env: Record<string, string> = {}
    for (const [name, v] of Object.entries(variables)) {
      if (!VARIABLE.test(name)) {
        problems.add(`${where}.${name}`, 'is not a valid variable name')
      } else if (RESERVED.includes(name)) {
        problems.add(`${where}.${name}`, 'is set by micro run', 'use --namespace or MICRO_NAMESPACE')
      } else if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') {
        env[name] = String(v)
      } else {
        problems.add(`${where}.${name}`, 'must be a string, number or boolean')
      }
    }
    out.set(environment, env)
  }
  return out
}

function duplicatePorts(services: DevServiceSpec[], problems: Problems): void {
  const byPort = new Map<number, string>()
  for (const spec of services) {
    if (spec.port === undefined) continue
    const other = byPort.get(spec.port)
    if (other) problems.add(`services.${spec.name}.port`, `${spec.port} is also ${other}'s port`)
    else byPort.set(spec.port, spec.name)
  }
}

async function parseFile(path: string): Promise<Record<string, unknown>> {
  let text: string
  try {
    text = await readFile(path, 'utf8')
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code
    throw new DefinitionError(path, [
      { key: 'file', message: code === 'ENOENT' ? 'not found' : `unreadable (${code})` },
    ])
  }
  let data: unknown
  try {
    data = path.endsWith('.json') ? JSON.parse(text) : toml().parse(text)
  } catch (error) {
    const problem: Problem = { key: 'syntax', message: (error as Error).message.split('\n')[0] ?? 'invalid' }
    throw new DefinitionError(path, [problem])
  }
  if (!isTable(data)) throw new DefinitionError(path, [{ key: 'file', message: 'must hold an object' }])
  return data
}

function hint(word: string, known: Iterable<string>): string | undefined {
  const near = closest(word, known)
  return near ? `did you mean ${near}?` : undefined
}

function isTable(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path)
    return true
  } catch {
    return false
  }
}

async function isFile(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isFile()
  } catch {
    return false
  }
}
