import { readdir, readFile, stat } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import { DefinitionError } from '../../definition/problems.js'
import { MicroError } from '../../errors/errors.js'
import { lazyRequire } from '../../util/lazy-require.js'
import { type ResolvedSource, resolveSource } from '../runtime/source.js'
import { startOrder } from './order.js'
import { findProjectFile, loadProject, type Project } from './project.js'
import type { DevServiceSpec } from './types.js'

const toml = lazyRequire<typeof import('smol-toml')>('smol-toml')

/** What `micro run` was asked to run. */
export interface PlanInput {
  /** Folders (or modules) as given; none: the project file or service folders of `cwd`. */
  targets: string[]
  cwd: string
  /** A project file given explicitly (`--project`). */
  project?: string
  environment: string
  /** `--config`: the service.toml of the one target. */
  config?: string
}

/** One service ready to be run: its spec and what its source turned out to be. */
export interface PlannedService {
  spec: DevServiceSpec
  source: ResolvedSource
  /** The kinds of its service.toml (`rpc`, `http` ...), with their ports when types gives one. */
  kinds: { kind: string; port?: number }[]
}

/** The services to run, in start order. */
export interface Plan {
  project?: Project
  services: PlannedService[]
}

/**
 * Work out what to run: an explicit project file; else, with no target, the project file
 * of the working folder, its service.toml, or the service folders right under it; a single
 * folder holding a project file and no service.toml is that project; otherwise each target
 * is one service. Names must be unique; a project's service key must match its
 * service.toml name. The result is in dependency order (a cycle is an error naming it).
 */
export async function planServices(input: PlanInput): Promise<Plan> {
  const projectFile = input.project ? resolve(input.cwd, input.project) : await implicitProject(input)
  let project: Project | undefined
  let specs: DevServiceSpec[]
  if (projectFile) {
    if (input.config)
      throw new DefinitionError(projectFile, [
        { key: '--config', message: 'goes with one service folder, not a project' },
      ])
    project = await loadProject(projectFile, input.environment)
    specs = project.services
  } else {
    const targets =
      input.targets.length > 0
        ? input.targets.map((t) => resolve(input.cwd, t))
        : await serviceFolders(input.cwd)
    if (input.config && targets.length !== 1) {
      throw new DefinitionError('micro run', [
        { key: '--config', message: 'goes with exactly one service folder' },
      ])
    }
    specs = targets.map((source) => ({
      name: '',
      source,
      depends: [],
      env: {},
      ...(input.config ? { config: resolve(input.cwd, input.config) } : {}),
    }))
  }
  const where = project?.file ?? 'micro run'
  const services: PlannedService[] = []
  for (const spec of specs) {
    let source: ResolvedSource
    try {
      source = await resolveSource(spec.config ?? spec.source)
    } catch (error) {
      throw new DefinitionError(where, [
        { key: spec.name || spec.source, message: MicroError.from(error).detail },
      ])
    }
    if (spec.name && source.kind === 'definition' && source.name !== spec.name) {
      throw new DefinitionError(where, [
        {
          key: `services.${spec.name}`,
          message: `${spec.source} is the service "${source.name}" (its service.toml's name)`,
          fix: `name it ${source.name} in the project file`,
        },
      ])
    }
    const name = spec.name || source.name
    services.push({
      spec: { ...spec, name },
      source,
      kinds: source.kind === 'definition' ? await kindsOf(source.file) : [],
    })
  }
  const seen = new Map<string, string>()
  for (const { spec } of services) {
    const other = seen.get(spec.name)
    if (other) {
      throw new DefinitionError(where, [
        { key: spec.name, message: `two services have this name: ${other} and ${spec.source}` },
      ])
    }
    seen.set(spec.name, spec.source)
  }
  const ordered = startOrder(
    services.map((s) => ({ ...s, name: s.spec.name, depends: s.spec.depends })),
    where,
  )
  return {
    ...(project ? { project } : {}),
    services: ordered.map(({ spec, source, kinds }) => ({ spec, source, kinds })),
  }
}

async function implicitProject(input: PlanInput): Promise<string | undefined> {
  if (input.targets.length === 0) return findProjectFile(input.cwd)
  if (input.targets.length !== 1) return undefined
  const dir = resolve(input.cwd, input.targets[0] as string)
  if (!(await isDir(dir)) || (await isFile(join(dir, 'service.toml')))) return undefined
  return findProjectFile(dir)
}

/** With no target and no project file: the folder itself when it is a service, else the service folders in it. */
async function serviceFolders(cwd: string): Promise<string[]> {
  if (await isFile(join(cwd, 'service.toml'))) return [cwd]
  const entries = await readdir(cwd, { withFileTypes: true }).catch(() => [])
  const found: string[] = []
  for (const entry of entries.sort((a, b) => a.name.localeCompare(b.name))) {
    if (!entry.isDirectory() || entry.name.startsWith('.') || entry.name === 'node_modules') continue
    if (await isFile(join(cwd, entry.name, 'service.toml'))) found.push(join(cwd, entry.name))
  }
  if (found.length === 0) {
    throw new DefinitionError(cwd, [
      {
        key: 'micro run',
        message:
          'nothing to run here: no micro.toml, micro.json or service.toml, and no folder with a service.toml',
        fix: 'micro run <folder>..., or write a micro.toml listing the services',
      },
    ])
  }
  return found
}

/** `types = ["rpc", "http:8080"]` as kinds and ports. */
async function kindsOf(tomlPath: string): Promise<{ kind: string; port?: number }[]> {
  try {
    const table = toml().parse(await readFile(tomlPath, 'utf8')) as { types?: unknown }
    if (!Array.isArray(table.types)) return []
    return table.types.map((t) => {
      const [kind, port] = String(t).split(':')
      const n = Number(port)
      return {
        kind: kind as string,
        ...(port !== undefined && Number.isInteger(n) && n > 0 ? { port: n } : {}),
      }
    })
  } catch {
    return []
  }
}

async function isFile(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isFile()
  } catch {
    return false
  }
}

async function isDir(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isDirectory()
  } catch {
    return false
  }
}
