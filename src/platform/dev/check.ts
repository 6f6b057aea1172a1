import { readFile } from 'node:fs/promises'
import { dirname } from 'node:path'
import { findEntry } from '../../definition/locate.js'
import { lazyRequire } from '../../util/lazy-require.js'
import { isTypeScript, type ResolvedSource } from '../runtime/source.js'
import { loadEsbuild, syntaxCheck } from './check-esbuild.js'
import { findCompiler, findTsconfig, type TypeScriptCompiler, typeCheck } from './check-tsc.js'

const toml = lazyRequire<typeof import('smol-toml')>('smol-toml')

/** Diagnostics past this many lines are summarised (a broken import can cause hundreds). */
const MAX_LINES = 40

/** What checking a service's source found. */
export interface CheckOutcome {
  ok: boolean
  /** What ran: `tsc` (type check), `esbuild` (syntax and local imports), both, or nothing. */
  tools: string[]
  /** What failed: `syntax` (esbuild: parse, local imports) or `types` (tsc). */
  failed?: 'syntax' | 'types'
  /** The diagnostics, when not ok. */
  error?: string
  /** Local files the entry imports (absolute), when esbuild could tell. */
  files: string[]
}

/**
 * Checks a service's code before a new version starts: its entry module and every local
 * file it imports must parse (esbuild, when installed: milliseconds), and with a
 * tsconfig.json (the service's folder up to its package root) and a TypeScript entry, they
 * must type-check (`tsc --noEmit` on the entry's graph with the project's options).
 */
export class SourceChecker {
  readonly #source: ResolvedSource
  readonly #cwd: string
  readonly #note: (line: string) => void
  #compiler: Promise<TypeScriptCompiler | undefined> | undefined
  #warnedNoCompiler = false

  constructor(source: ResolvedSource, options: { cwd: string; note: (line: string) => void }) {
    this.#source = source
    this.#cwd = options.cwd
    this.#note = options.note
  }

  async check(): Promise<CheckOutcome> {
    const entry = await entryOf(this.#source)
    // No entry to check: starting the service reports what is missing.
    if (!entry) return { ok: true, tools: [], files: [] }
    const tsconfig = isTypeScript(entry) ? await findTsconfig(dirname(entry)) : undefined
    const compiler = tsconfig ? await this.#findCompiler(dirname(tsconfig)) : undefined
    if (tsconfig && !compiler && !this.#warnedNoCompiler) {
      this.#warnedNoCompiler = true
      this.#note(
        `${tsconfig} is here but TypeScript is not installed: reloads are not type-checked (npm install -D typescript)`,
      )
    }
    const esbuild = await esbuildFor(dirname(entry))
    const [syntax, types] = await Promise.all([
      esbuild ? syntaxCheck(esbuild, entry, this.#source.cwd) : undefined,
      tsconfig && compiler ? typeCheck(compiler, tsconfig, entry, this.#cwd) : undefined,
    ])
    const tools = [...(types ? ['tsc'] : []), ...(syntax ? ['esbuild'] : [])]
    const files = syntax?.files ?? []
    if (syntax && !syntax.ok)
      return { ok: false, tools, failed: 'syntax', error: bounded(syntax.output), files }
    if (types && !types.ok) return { ok: false, tools, failed: 'types', error: bounded(types.output), files }
    return { ok: true, tools, files }
  }

  #findCompiler(dir: string): Promise<TypeScriptCompiler | undefined> {
    this.#compiler ??= findCompiler(dir)
    return this.#compiler
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

function bounded(output: string): string {
  const lines = output.split('\n')
  if (lines.length <= MAX_LINES) return output
  return [...lines.slice(0, MAX_LINES), `... and ${lines.length - MAX_LINES} more lines`].join('\n')
}
