// Type-checks TypeScript blocks against the package as users import it: each block becomes
// a module under build/ (inside this repository, so `micro-ts` and `micro-ts/<entry>` resolve
// to dist/ through package.json's exports, as they do for a user), and one strict tsc run
// checks them all. Errors come back at the page's line.
import { execFile } from 'node:child_process'
import { mkdirSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { type Snippet, where } from './snippets.js'

const run = promisify(execFile)

/** A problem found in a block, at its page's line. */
export interface SnippetProblem {
  at: string
  message: string
}

/** The file name a block is written to: its page and line, readable in tsc's output. */
export function moduleName(s: Snippet): string {
  return `${s.file.replace(/\.md$/, '').replace(/[^A-Za-z0-9]+/g, '-')}-L${s.line}.ts`
}

/**
 * Write `snippets` as modules into `dir` (under the repository root `root`) and run tsc on
 * them; the problems, each at `page:line`. `dir` is emptied first and left for inspection.
 */
export async function typecheck(root: string, dir: string, snippets: Snippet[]): Promise<SnippetProblem[]> {
  rmSync(dir, { recursive: true, force: true })
  mkdirSync(dir, { recursive: true })
  const byModule = new Map<string, Snippet>()
  for (const s of snippets) {
    const name = moduleName(s)
    byModule.set(name, s)
    // `export {}` makes a block without imports a module, so blocks never share globals.
    writeFileSync(join(dir, name), `${s.code}\nexport {}\n`)
  }
  writeFileSync(
    join(dir, 'tsconfig.json'),
    JSON.stringify({
      extends: join(root, 'tsconfig.base.json'),
      compilerOptions: { noEmit: true, sourceMap: false },
      include: ['*.ts'],
    }),
  )
  const tsc = join(root, 'node_modules/typescript/bin/tsc')
  const result = await run(process.execPath, [tsc, '-p', join(dir, 'tsconfig.json'), '--pretty', 'false'], {
    cwd: root,
    maxBuffer: 16 * 1024 * 1024,
  }).then(
    (r) => ({ out: r.stdout, code: 0 }),
    (e: { stdout?: string; stderr?: string; code?: number }) => ({
      out: `${e.stdout ?? ''}${e.stderr ?? ''}`,
      code: e.code ?? 1,
    }),
  )
  const problems: SnippetProblem[] = []
  for (const line of result.out.split('\n')) {
    const m = /([^/\s(]+\.ts)\((\d+),(\d+)\): (error .*)$/.exec(line)
    if (!m) continue
    const s = byModule.get(m[1] as string)
    problems.push(
      s
        ? { at: where(s, Number(m[2])), message: m[4] as string }
        : { at: m[1] as string, message: m[4] as string },
    )
  }
  if (result.code !== 0 && problems.length === 0) problems.push({ at: dir, message: result.out.trim() })
  return problems
}
