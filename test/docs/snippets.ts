// The code blocks of the documentation, and the checks that keep them true to the code
// (see docs/README.md, "Tested snippets"). A fenced block's info string says what it is:
//
//   ```ts            type-checked against the package (imports of `micro-ts/...` resolve to dist/)
//   ```ts run        type-checked, then executed with node against the loopback servers
//   ```ts no-check   illustrative only: not checked (kept few)
//   ```sh            executed with bash against a real `micro server` (test/docs/shell.test.ts)
//   ```sh no-run     not executed; each `micro <command>` line's command and flags are checked
//                    against `micro <command> --help`
//
// `needs=nats,redis,postgres` on a run or sh block names the loopback servers it uses.
import { readdirSync, readFileSync } from 'node:fs'
import { join, relative } from 'node:path'

/** One fenced code block of a Markdown page. */
export interface Snippet {
  /** The page, relative to the repository. */
  file: string
  /** Line of the opening fence (1-based); the code starts on the next line. */
  line: number
  lang: string
  flags: Set<string>
  /** Servers a run block uses: `needs=nats,redis`. */
  needs: string[]
  code: string
}

const TS = new Set(['ts', 'typescript'])
const SH = new Set(['sh', 'bash', 'shell', 'console'])

/** The fenced code blocks of one Markdown text (``` or ~~~ fences, indented up to 3 spaces, or in lists). */
export function extractSnippets(text: string, file: string): Snippet[] {
  const snippets: Snippet[] = []
  const lines = text.split('\n')
  for (let i = 0; i < lines.length; i++) {
    const open = /^(\s*)(`{3,}|~{3,})\s*([^`]*)$/.exec(lines[i] as string)
    if (!open) continue
    const [, indent = '', fence = '```', info = ''] = open
    const words = info.trim().split(/\s+/).filter(Boolean)
    const lang = (words.shift() ?? '').toLowerCase()
    const body: string[] = []
    let j = i + 1
    for (; j < lines.length; j++) {
      const line = lines[j] as string
      if (line.trim().startsWith(fence) && line.trim().replace(/[`~]/g, '') === '') break
      body.push(line.startsWith(indent) ? line.slice(indent.length) : line.trimStart())
    }
    const needs =
      words
        .find((w) => w.startsWith('needs='))
        ?.slice('needs='.length)
        .split(',') ?? []
    snippets.push({ file, line: i + 1, lang, flags: new Set(words), needs, code: body.join('\n') })
    i = j
  }
  return snippets
}

/** The pages whose blocks are checked: docs/**\/*.md (not the generated API reference, not design.md) and README.md. */
export function documentationPages(root: string): string[] {
  const pages = ['README.md', 'docs/README.md']
  const walk = (dir: string) => {
    for (const entry of readdirSync(join(root, dir), { withFileTypes: true })) {
      const path = join(dir, entry.name)
      if (entry.isDirectory()) {
        if (!['node_modules', 'api', '.vitepress'].includes(entry.name)) walk(path)
      } else if (entry.name.endsWith('.md') && !['README.md', 'design.md'].includes(entry.name)) {
        pages.push(path)
      }
    }
  }
  walk('docs')
  return pages.map((page) => relative(root, join(root, page)))
}

/** Every block of every documentation page. */
export function allSnippets(root: string): Snippet[] {
  return documentationPages(root).flatMap((page) =>
    extractSnippets(readFileSync(join(root, page), 'utf8'), page),
  )
}

export const isTypeScript = (s: Snippet) => TS.has(s.lang) && !s.flags.has('no-check')
export const isRunnable = (s: Snippet) => isTypeScript(s) && s.flags.has('run')
export const isShell = (s: Snippet) => SH.has(s.lang)

/** `file:line` of a block. */
export const where = (s: Snippet, offset = 0) => `${s.file}:${s.line + offset}`
