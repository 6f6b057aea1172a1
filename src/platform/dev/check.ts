import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { findEntry } from '../../definition/locate.js'
import { lazyRequire } from '../../util/lazy-require.js'
import { isTypeScript, type ResolvedSource } from '../runtime/source.js'
import { buildEntry, loadEsbuild } from './check-esbuild.js'
import { findCompiler, findTsconfig, type TypeScriptCompiler, typeCheck } from './check-tsc.js'

const toml = lazyRequire<typeof import('smol-toml')>('smol-toml')

/** Diagnostics past this many lines are summarised (a broken import can cause hundreds). */
const MAX_LINES = 40

/** What building a service's code found (esbuild: syntax, local imports). */
export interface BuildOutcome {
  ok: boolean
  /** Whether esbuild ran (it is not installed everywhere). */
  built: boolean
  error?: string
  /** Local files the entry imports (absolute), when esbuild could tell. */
  files: string[]
  /** The bundle to run instead of the TypeScript source, when one was written. */
  bundle?: string
}

/** What type-checking found: `ran` false when there is nothing to check with (no tsconfig, no TypeScript). */
export interface TypeOutcome {
  ok: boolean
  ran: boolean
  error?: string
}

/** Both, for a check that changes nothing (the one after the start). */
export interface CheckOutcome {
  ok: boolean
  /** What ran: `tsc`, `esbuild`. */
  tools: string[]
  /** What failed: `syntax` (esbuild: parse, local imports) or `types` (tsc). */
  failed?: 'syntax' | 'types'
  error?: string
  files: string[]
}

/**
 * Checks and builds a service's code before a new version starts. esbuild (when installed)
 * parses the entry module and every local file it imports in milliseconds, and for an ES
 * module TypeScript entry writes the bundle the dev loop runs instead of going through tsx
 * (in `.micro/dev/` beside the entry).
 * With a tsconfig.json (the service's folder up to its package root) and a TypeScript
 * entry, `tsc --noEmit` type-checks the entry's graph with the project's options.
 */
export class SourceChecker {
  readonly #name: string
  readonly #cwd: string
  readonly #note: (line: string) => void
  #compiler: Promise<TypeScriptCompiler | undefined> | undefined
  #warnedNoCompiler = false
  #generation = 0
  readonly #bundles = new Set<string>()

  constructor(name: string, options: { cwd: string; note: (line: string) => void }) {
    this.#name = name
    this.#cwd = options.cwd
    this.#note = options.note
  }

  /** Parse (and, with `bundle`, build) the code of `source`. */
  async build(source: ResolvedSource, options: { bundle?: boolean } = {}): Promise<BuildOutcome> {
    const entry = await entryOf(source)
    // No entry to check: starting the service reports what is missing.
    if (!entry) return { ok: true, built: false, files: [] }
    const esbuild = await esbuildFor(dirname(entry))
    if (!esbuild) return { ok: true, built: false, files: [] }
    const out = options.bundle ? await this.#bundleFile(entry) : undefined
    const result = await buildEntry(esbuild, entry, source.cwd, out ? { outfile: out } : {})
    if (!result.ok) return { ok: false, built: true, error: bounded(result.output), files: [] }
    if (!out || !result.code) return { ok: true, built: true, files: result.files }
    await mkdir(dirname(out), { recursive: true })
    await writeFile(out, result.code)
    this.#bundles.add(out)
    return { ok: true, built: true, files: result.files, bundle: out }
  }

  /** Type-check the code of `source` when it is TypeScript with a tsconfig.json. */
  async typeCheck(source: ResolvedSource): Promise<TypeOutcome> {
    const entry = await entryOf(source)
    const tsconfig = entry && isTypeScript(entry) ? await findTsconfig(dirname(entry)) : undefined
    if (!entry || !tsconfig) return { ok: true, ran: false }
    this.#compiler ??= findCompiler(dirname(tsconfig))
    const compiler = await this.#compiler
    if (!compiler) {
      if (!this.#warnedNoCompiler) {
        this.#warnedNoCompiler = true
        this.#note(
          `${tsconfig} is here but TypeScript is not installed: reloads are not type-checked (npm install -D typescript)`,
        )
      }
      return { ok: true, ran: false }
    }
    const result = await typeCheck(compiler, tsconfig, entry, this.#cwd)
    return result.ok ? { ok: true, ran: true } : { ok: false, ran: true, error: bounded(result.output) }
  }

  /** Both, at once; nothing is written. */
  async check(source: ResolvedSource): Promise<CheckOutcome> {
    const [built, typed] = await Promise.all([this.build(source), this.typeCheck(source)])
    const tools = [...(typed.ran ? ['tsc'] : []), ...(built.built ? ['esbuild'] : [])]
    if (!built.ok)
      return { ok: false, tools, failed: 'syntax', files: [], ...(built.error ? { error: built.error } : {}) }
    if (!typed.ok)
      return {
        ok: false,
        tools,
        failed: 'types',
        files: built.files,
        ...(typed.error ? { error: typed.error } : {}),
      }
    return { ok: true, tools, files: built.files }
  }

  /** Delete the bundles written, but those in `keep` (what processes run, or may restart with). */
  async prune(keep: readonly (string | undefined)[] = []): Promise<void> {
    for (const file of [...this.#bundles]) {
      if (keep.includes(file)) continue
      this.#bundles.delete(file)
      await rm(file, { force: true })
    }
  }

  /**
   * Where a bundle goes: `.micro/dev/` next to the entry, so the packages it imports
   * resolve exactly as from the entry (a node_modules/.cache would break a package's
   * imports of itself); the folder ignores itself for git. None (run through tsx) for a
   * CommonJS entry.
   */
  async #bundleFile(entry: string): Promise<string | undefined> {
    if (!(await isEsModuleTypeScript(entry))) return undefined
    const dir = join(dirname(entry), '.micro', 'dev')
    if (this.#generation === 0) {
      await mkdir(dir, { recursive: true })
      await writeFile(join(dir, '..', '.gitignore'), '# micro run writes here while it runs\n*\n')
      await removeStale(dir, this.#name)
    }
    return join(dir, `${this.#name}.${process.pid}.${++this.#generation}.mjs`)
  }
}

const esbuildByDir = new Map<string, ReturnType<typeof loadEsbuild>>()

function esbuildFor(dir: string): ReturnType<typeof loadEsbuild> {
  let found = esbuildByDir.get(dir)
  if (!found) {
    found = loadEsbuild(dir)
    esbuildByDir.set(dir, found)
  }
  return found
}

/** The module a service runs: the source's module, or its service.toml's entry. */
async function entryOf(source: ResolvedSource): Promise<string | undefined> {
  if (source.kind === 'entry') return source.file
  try {
    const table = toml().parse(await readFile(source.file, 'utf8')) as { entry?: unknown }
    return await findEntry(dirname(source.file), source.file, table.entry)
  } catch {
    return undefined
  }
}

/** `.mts`, or `.ts`/`.tsx` in a package of `"type": "module"` (as Node and tsx would load it). */
async function isEsModuleTypeScript(entry: string): Promise<boolean> {
  if (entry.endsWith('.mts')) return true
  if (!/\.tsx?$/.test(entry)) return false
  let dir = dirname(entry)
  while (true) {
    try {
      const pkg = JSON.parse(await readFile(join(dir, 'package.json'), 'utf8')) as { type?: string }
      return pkg.type === 'module'
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') return false
    }
    const parent = dirname(dir)
    if (parent === dir) return false
    dir = parent
  }
}

/** Bundles of this service that a dev loop no longer running left behind. */
async function removeStale(dir: string, name: string): Promise<void> {
  const entries = await readdir(dir).catch(() => [] as string[])
  for (const file of entries) {
    const match = /^(.+)\.(\d+)\.\d+\.mjs$/.exec(file)
    if (!match || match[1] !== name || isAlive(Number(match[2]))) continue
    await rm(join(dir, file), { force: true })
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM'
  }
}

function bounded(output: string): string {
  const lines = output.split('\n')
  if (lines.length <= MAX_LINES) return output
  return [...lines.slice(0, MAX_LINES), `... and ${lines.length - MAX_LINES} more lines`].join('\n')
}
