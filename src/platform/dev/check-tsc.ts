import { execFile } from 'node:child_process'
import { createHash } from 'node:crypto'
import { mkdir, readFile, stat, writeFile } from 'node:fs/promises'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { pathToFileURL } from 'node:url'

/** How to run a TypeScript compiler: the program and the arguments before ours. */
export interface TypeScriptCompiler {
  command: string[]
  version: string
}

/** What one type check found. */
export interface TypeCheckResult {
  ok: boolean
  /** The compiler's diagnostics (`file(line,col): error TS2322: ...`), when not ok. */
  output: string
}

/**
 * The nearest tsconfig.json from `dir` up to the package root (the first folder with a
 * package.json), undefined when there is none: a service type-checks with its project's
 * options.
 */
export async function findTsconfig(dir: string): Promise<string | undefined> {
  let current = dir
  while (true) {
    const candidate = join(current, 'tsconfig.json')
    if (await isFile(candidate)) return candidate
    if (await isFile(join(current, 'package.json'))) return undefined
    const parent = dirname(current)
    if (parent === current) return undefined
    current = parent
  }
}

/**
 * The TypeScript compiler the project has (else micro-ts's own): TypeScript 7's native
 * executable when it is 7 or newer (no node start-up in front of it), else `node tsc`.
 */
export async function findCompiler(fromDir: string): Promise<TypeScriptCompiler | undefined> {
  for (const from of [join(fromDir, 'noop.js'), import.meta.url]) {
    let manifest: string
    try {
      manifest = createRequire(from).resolve('typescript/package.json')
    } catch {
      continue
    }
    const root = dirname(manifest)
    const { version } = JSON.parse(await readFile(manifest, 'utf8')) as { version: string }
    if (Number(version.split('.')[0]) >= 7) {
      try {
        const getExePath = (await import(pathToFileURL(join(root, 'lib', 'getExePath.js')).href)) as {
          default: () => string
        }
        return { command: [getExePath.default()], version }
      } catch {
        // Fall back to the launcher script.
      }
    }
    return { command: [process.execPath, join(root, 'bin', 'tsc')], version }
  }
  return undefined
}

/**
 * Type-check what `entry` imports, with the options of `tsconfig`: a small generated
 * config extends it and lists only the entry, so a project of many services checks one
 * service's graph (TypeScript 7: ~0.15 s) rather than everything (this repository: ~8 s).
 * The generated config lives in the nearest node_modules/.cache (so `types` resolve as
 * from the project), else in the temporary folder.
 */
export async function typeCheck(
  compiler: TypeScriptCompiler,
  tsconfig: string,
  entry: string,
  cwd: string,
): Promise<TypeCheckResult> {
  const config = await checkConfig(tsconfig, entry)
  const [file, ...args] = compiler.command as [string, ...string[]]
  return new Promise((resolve) => {
    execFile(
      file,
      [...args, '--noEmit', '--pretty', 'false', '-p', config],
      { cwd, maxBuffer: 16 * 1024 * 1024, timeout: 120_000 },
      (error, stdout, stderr) => {
        const output = `${stdout}${stderr}`.trim()
        resolve(error ? { ok: false, output: output || error.message } : { ok: true, output })
      },
    )
  })
}

async function checkConfig(tsconfig: string, entry: string): Promise<string> {
  const hash = createHash('sha256').update(`${tsconfig}\0${entry}`).digest('hex').slice(0, 16)
  const dir = join(
    (await nearestNodeModules(dirname(tsconfig))) ?? join(tmpdir(), 'micro-ts'),
    '.cache',
    'micro-ts',
  )
  const file = join(dir, `tsconfig.check-${hash}.json`)
  const content = JSON.stringify({
    extends: tsconfig,
    files: [entry],
    include: [],
    compilerOptions: { noEmit: true, composite: false, incremental: false },
  })
  if ((await readFile(file, 'utf8').catch(() => undefined)) !== content) {
    await mkdir(dir, { recursive: true })
    await writeFile(file, content)
  }
  return file
}

async function nearestNodeModules(dir: string): Promise<string | undefined> {
  let current = dir
  while (true) {
    const candidate = join(current, 'node_modules')
    try {
      if ((await stat(candidate)).isDirectory()) return candidate
    } catch {
      // Look further up.
    }
    const parent = dirname(current)
    if (parent === current) return undefined
    current = parent
  }
}

async function isFile(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isFile()
  } catch {
    return false
  }
}
