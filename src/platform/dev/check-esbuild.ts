import { createRequire } from 'node:module'
import { isAbsolute, join, resolve } from 'node:path'
import { pathToFileURL } from 'node:url'

/** The part of esbuild's API the check uses. */
interface Esbuild {
  build(options: Record<string, unknown>): Promise<{ metafile?: { inputs: Record<string, unknown> } }>
}

interface Message {
  text: string
  location?: { file: string; line: number; column: number; lineText: string } | null
}

/** What one syntax check found. */
export interface SyntaxCheckResult {
  ok: boolean
  /** `file:line:column: message` with the line and a caret, when not ok. */
  output: string
  /** Every local file the entry imports (absolute), for the watcher; empty when not ok. */
  files: string[]
}

/**
 * esbuild, when it can be found: micro-ts's, the project's, or tsx's (which depends on it);
 * undefined when none is installed (the dev loop then relies on the new process failing).
 */
export async function loadEsbuild(fromDir: string): Promise<Esbuild | undefined> {
  const places = [import.meta.url, join(fromDir, 'noop.js')]
  try {
    places.push(createRequire(join(fromDir, 'noop.js')).resolve('tsx'))
  } catch {
    try {
      places.push(createRequire(import.meta.url).resolve('tsx'))
    } catch {
      // No tsx either.
    }
  }
  for (const from of places) {
    try {
      const path = createRequire(from).resolve('esbuild')
      const module = (await import(pathToFileURL(path).href)) as Esbuild & { default?: Esbuild }
      return typeof module.build === 'function' ? module : module.default
    } catch {
      // Try the next place.
    }
  }
  return undefined
}

/**
 * Parse `entry` and everything it imports from local files (packages stay external), the
 * way tsx will load it: a syntax error or an import of a missing local file fails here in
 * milliseconds, with its location, before any process starts.
 */
export async function syntaxCheck(esbuild: Esbuild, entry: string, cwd: string): Promise<SyntaxCheckResult> {
  try {
    const result = await esbuild.build({
      entryPoints: [entry],
      absWorkingDir: cwd,
      bundle: true,
      write: false,
      metafile: true,
      platform: 'node',
      format: 'esm',
      packages: 'external',
      logLevel: 'silent',
    })
    const inputs = Object.keys(result.metafile?.inputs ?? {})
    const files = inputs
      .filter((f) => !f.includes(':')) // namespaces such as `data:` are not files
      .map((f) => (isAbsolute(f) ? f : resolve(cwd, f)))
    return { ok: true, output: '', files }
  } catch (error) {
    const messages = (error as { errors?: Message[] }).errors
    if (!Array.isArray(messages)) return { ok: false, output: (error as Error).message, files: [] }
    return { ok: false, output: messages.map((m) => formatMessage(m, cwd)).join('\n'), files: [] }
  }
}

function formatMessage(message: Message, cwd: string): string {
  const at = message.location
  if (!at) return `error: ${message.text}`
  const file = isAbsolute(at.file) ? at.file : resolve(cwd, at.file)
  return [
    `${file}:${at.line}:${at.column + 1}: error: ${message.text}`,
    `    ${at.lineText}`,
    `    ${' '.repeat(at.column)}^`,
  ].join('\n')
}
