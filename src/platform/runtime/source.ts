import { readFile, stat } from 'node:fs/promises'
import { basename, dirname, extname, isAbsolute, join, resolve, sep } from 'node:path'
import { badRequest } from '../../errors/errors.js'
import { lazyRequire } from '../../util/lazy-require.js'

const toml = lazyRequire<typeof import('smol-toml')>('smol-toml')

const ID = 'micro.runtime'

/** Modules looked for in a folder without a service.toml, in order (after package.json's `main`). */
export const ENTRY_NAMES = [
  'service.js',
  'main.js',
  'index.js',
  'service.mjs',
  'main.mjs',
  'index.mjs',
  'service.ts',
  'main.ts',
  'index.ts',
]

const MODULE = /\.(?:[cm]?js|[cm]?ts)$/
const TYPESCRIPT = /\.[cm]?ts$/

/** What a source path turned out to be. */
export interface ResolvedSource {
  /** The absolute path as given. */
  path: string
  /**
   * `definition`: a service.toml (folder or file), run with `micro run`; `entry`: a
   * module run with node (TypeScript through tsx).
   */
  kind: 'definition' | 'entry'
  /** The service.toml, or the module. */
  file: string
  /** The folder processes run in. */
  cwd: string
  /** From the service.toml, else package.json, else the folder or file name. */
  name: string
  version: string
  /** Only a service.toml whose kinds are all `script` runs to completion and prints no running line. */
  scriptOnly: boolean
}

/**
 * Find out how to run `path`: a folder with a service.toml (or the toml itself), a module
 * file, or a folder with package.json `main` or one of {@link ENTRY_NAMES}. Paths are on
 * this machine and must be absolute (the CLI resolves them). A 400 names what is missing.
 */
export async function resolveSource(path: string): Promise<ResolvedSource> {
  if (typeof path !== 'string' || path.trim() === '') throw badRequest(ID, 'source is required')
  if (!isAbsolute(path)) {
    throw badRequest(ID, `source must be an absolute path on the runtime's machine, not "${path}"`)
  }
  const kind = await kindOf(path)
  if (kind === undefined) throw badRequest(ID, `source ${path} does not exist`)
  if (kind === 'file') {
    if (path.endsWith('.toml')) return definition(path, path)
    if (!MODULE.test(path)) {
      throw badRequest(ID, `source ${path} is neither a service.toml nor a .js/.mjs/.cjs/.ts module`)
    }
    return entry(path, path, dirname(path))
  }
  const tomlPath = join(path, 'service.toml')
  if ((await kindOf(tomlPath)) === 'file') return definition(path, tomlPath)
  const found = await findEntry(path)
  if (found) return entry(path, found, path)
  throw badRequest(
    ID,
    `source ${path} has no service.toml and no entry module: looked for service.toml, package.json "main", ${ENTRY_NAMES.join(', ')}`,
  )
}

/** Whether a module needs tsx to run. */
export function isTypeScript(file: string): boolean {
  return TYPESCRIPT.test(file)
}

async function definition(path: string, tomlPath: string): Promise<ResolvedSource> {
  let table: Record<string, unknown>
  try {
    table = toml().parse(await readFile(tomlPath, 'utf8')) as Record<string, unknown>
  } catch (error) {
    const reason = (error as Error).message.split('\n')[0] ?? 'unreadable'
    throw badRequest(ID, `${tomlPath} is not valid TOML: ${reason}`)
  }
  const name = typeof table.name === 'string' ? table.name : undefined
  if (!name) throw badRequest(ID, `${tomlPath} has no name: add name = "<service>"`)
  const version = typeof table.version === 'string' ? table.version.replace(/^v/, '') : 'latest'
  const types = Array.isArray(table.types) ? table.types.map((t) => String(t).split(':')[0]) : []
  return {
    path,
    kind: 'definition',
    file: tomlPath,
    cwd: dirname(tomlPath),
    name,
    version,
    scriptOnly: types.length > 0 && types.every((t) => t === 'script'),
  }
}

async function entry(path: string, file: string, cwd: string): Promise<ResolvedSource> {
  // A folder may describe itself in package.json; a module file is named after itself.
  const pkg = file === path ? undefined : await packageJson(cwd)
  const fallback = file === path ? basename(file, extname(file)) : basename(path)
  return {
    path,
    kind: 'entry',
    file,
    cwd,
    name: typeof pkg?.name === 'string' ? (pkg.name.split('/').pop() as string) : fallback,
    version: typeof pkg?.version === 'string' ? pkg.version : 'latest',
    scriptOnly: false,
  }
}

async function findEntry(dir: string): Promise<string | undefined> {
  const main = (await packageJson(dir))?.main
  if (typeof main === 'string') {
    const file = resolve(dir, main)
    if (file.startsWith(dir + sep) && (await kindOf(file)) === 'file' && MODULE.test(extname(file)))
      return file
  }
  for (const name of ENTRY_NAMES) {
    const file = join(dir, name)
    if ((await kindOf(file)) === 'file') return file
  }
  return undefined
}

async function packageJson(dir: string): Promise<Record<string, unknown> | undefined> {
  try {
    const value = JSON.parse(await readFile(join(dir, 'package.json'), 'utf8')) as unknown
    return value && typeof value === 'object' ? (value as Record<string, unknown>) : undefined
  } catch {
    return undefined
  }
}

async function kindOf(path: string): Promise<'file' | 'dir' | undefined> {
  try {
    const s = await stat(path)
    return s.isDirectory() ? 'dir' : s.isFile() ? 'file' : undefined
  } catch {
    return undefined
  }
}
