import { stat } from 'node:fs/promises'
import { dirname, extname, join, resolve } from 'node:path'
import { pathToFileURL } from 'node:url'
import { importPeer } from '../util/optional-import.js'
import { isServiceDefinition, type ServiceDefinition } from './define.js'
import { DefinitionError } from './problems.js'

const EXTENSIONS = ['ts', 'mts', 'cts', 'js', 'mjs', 'cjs']

/** The files of the entry module looked for, in order, when the toml names no `entry`. */
export const ENTRY_FILES = ['service', 'main', 'index'].flatMap((name) =>
  EXTENSIONS.map((ext) => `${name}.${ext}`),
)

const MODULE = /\.[cm]?[jt]s$/

/**
 * Where a service's toml is: `--config` when given; `<folder>/service.toml` for a folder;
 * the file itself for a .toml; next to a module file otherwise, then in the working directory.
 */
export async function findToml(target: string, config?: string): Promise<string> {
  if (config) return resolve(config)
  const path = resolve(target)
  if (path.endsWith('.toml')) return path
  // A folder, or a path that names nothing: its service.toml (reported missing if so).
  if ((await kindOf(path)) === 'dir' || !MODULE.test(path)) return join(path, 'service.toml')
  const beside = join(dirname(path), 'service.toml')
  if ((await kindOf(beside)) === 'file') return beside
  const here = resolve('service.toml')
  return (await kindOf(here)) === 'file' ? here : beside
}

/** The module holding the definition: the target when it is a module, the toml's `entry`, else by convention. */
export async function findEntry(target: string, tomlPath: string, entry: unknown): Promise<string> {
  const path = resolve(target)
  if (MODULE.test(path) && (await kindOf(path)) === 'file') return path
  const dir = dirname(tomlPath)
  if (typeof entry === 'string') return resolve(dir, entry)
  for (const name of ENTRY_FILES) {
    const candidate = join(dir, name)
    if ((await kindOf(candidate)) === 'file') return candidate
  }
  throw new DefinitionError(tomlPath, [
    {
      key: 'entry',
      message: `no service module found in ${dir} (looked for service, main and index .${EXTENSIONS.join('/.')})`,
      fix: 'add entry = "path/to/service.ts" to service.toml, or name the module service.ts',
    },
  ])
}

/**
 * Import a service module and return its definition: the default export, or else the
 * first exported definition. ES modules (`.js`, `.mjs`, `.ts`, `.mts`) and CommonJS
 * (`.cjs`, `.cts`, whose `module.exports` is the default) both work; a CommonJS module,
 * which cannot `require` this ES package, may export a promise of the definition
 * (`module.exports = import('micro-ts').then(({ defineService }) => defineService({...}))`).
 * TypeScript is loaded through tsx when node cannot load it by itself.
 */
export async function importDefinition(path: string): Promise<ServiceDefinition> {
  const module = extname(path) === '.cts' ? await requireTypeScript(path) : await importModule(path)
  const found = await definitionIn(module)
  if (!found) {
    throw new DefinitionError(path, [
      {
        key: 'definition',
        message: 'the module exports no service definition',
        fix: 'export default defineService({ ... })',
      },
    ])
  }
  return found
}

async function importModule(path: string): Promise<Record<string, unknown>> {
  const url = pathToFileURL(path).href
  try {
    return await import(url)
  } catch (error) {
    if (
      (error as { code?: string }).code !== 'ERR_UNKNOWN_FILE_EXTENSION' ||
      !/\.[cm]?ts$/.test(extname(path))
    )
      throw error
    const tsx = await importPeer<{
      tsImport: (id: string, from: string) => Promise<Record<string, unknown>>
    }>('tsx/esm/api', `running the TypeScript file ${path}`)
    // tsImport, not a global register(): in a CommonJS package a global tsx hook loads
    // the module's ESM syntax through require(esm) while its import() is still pending,
    // and node fails it as "not yet fully loaded". The scoped import has no such race.
    return await tsx.tsImport(url, import.meta.url)
  }
}

/**
 * A CommonJS TypeScript module, through tsx's require: its ES loader would run it from a
 * data: URL, where the module's own `import()` of a path cannot resolve.
 */
async function requireTypeScript(path: string): Promise<Record<string, unknown>> {
  const tsx = await importPeer<{ require: (id: string, from: string) => unknown }>(
    'tsx/cjs/api',
    `running the TypeScript file ${path}`,
  )
  return { default: tsx.require(path, import.meta.url) }
}

/** The definition a module exports, looking through CommonJS' `default` and an exported promise. */
async function definitionIn(module: Record<string, unknown>): Promise<ServiceDefinition | undefined> {
  let exported: unknown = module.default
  if (isThenable(exported)) exported = await exported
  // CommonJS compiled from `export default` puts the definition under exports.default.
  const nested = (exported as { default?: unknown } | null | undefined)?.default
  if (isServiceDefinition(exported)) return exported
  if (isServiceDefinition(nested)) return nested
  if (isThenable(nested)) {
    const awaited = await nested
    if (isServiceDefinition(awaited)) return awaited
  }
  return Object.values(module).find(isServiceDefinition)
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return typeof (value as { then?: unknown } | null | undefined)?.then === 'function'
}

async function kindOf(path: string): Promise<'file' | 'dir' | undefined> {
  try {
    const s = await stat(path)
    return s.isDirectory() ? 'dir' : s.isFile() ? 'file' : undefined
  } catch {
    return undefined
  }
}
