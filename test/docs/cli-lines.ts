// The `micro ...` command lines of a shell block, and the check that their command and
// flags exist: the command is one `micro --help` lists, and every flag appears in
// `micro <command> --help` (or `micro <command> <sub> --help`). A renamed flag fails.
import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import type { SnippetProblem } from './typecheck.js'

const run = promisify(execFile)

/** Shell words of one command line: quotes removed, `#` comments dropped. */
export function shellWords(line: string): string[] {
  const words: string[] = []
  let word = ''
  let inWord = false
  let quote: string | undefined
  for (let i = 0; i < line.length; i++) {
    const c = line[i] as string
    if (quote) {
      if (c === quote) quote = undefined
      else word += c
    } else if (c === "'" || c === '"') {
      quote = c
      inWord = true
    } else if (c === '#' && !inWord) {
      break
    } else if (/\s/.test(c)) {
      if (inWord) words.push(word)
      word = ''
      inWord = false
    } else {
      word += c
      inWord = true
    }
  }
  if (inWord) words.push(word)
  return words
}

/** The `micro` invocations of a block: each is the words after `micro` (or `npx micro`), with its line offset. */
export function microCommands(code: string): { offset: number; args: string[] }[] {
  const found: { offset: number; args: string[] }[] = []
  const lines = code.split('\n')
  for (let i = 0; i < lines.length; i++) {
    let text = lines[i] as string
    const start = i
    while (text.endsWith('\\') && i + 1 < lines.length) text = `${text.slice(0, -1)} ${lines[++i]}`
    const words = shellWords(text)
    // Split on the shell's separators; each part may be a micro command.
    let part: string[] = []
    const parts: string[][] = []
    for (const w of words) {
      if (['&&', '||', ';', '|'].includes(w)) {
        parts.push(part)
        part = []
      } else part.push(w)
    }
    parts.push(part)
    for (let p of parts) {
      while (p.length > 0 && /^[A-Z_]+=/.test(p[0] as string)) p = p.slice(1) // VAR=value micro ...
      if (p[0] === 'npx') p = p.slice(1)
      if (p[0] === 'micro') found.push({ offset: start + 1, args: p.slice(1) })
    }
  }
  return found
}

/** Runs the CLI; its help texts are cached. */
export class CliHelp {
  readonly #cache = new Map<string, Promise<string>>()
  constructor(
    readonly cli: string,
    readonly env: NodeJS.ProcessEnv,
  ) {}

  /** `micro <args> --help`'s output ('' when it fails). */
  help(args: string[]): Promise<string> {
    const key = args.join(' ')
    let text = this.#cache.get(key)
    if (!text) {
      text = run(process.execPath, [this.cli, ...args, '--help'], { env: this.env, timeout: 20_000 }).then(
        (r) => r.stdout,
        () => '',
      )
      this.#cache.set(key, text)
    }
    return text
  }

  /** The commands `micro --help` lists. */
  async commands(): Promise<Set<string>> {
    const text = await this.help([])
    const section = text.slice(text.indexOf('Commands:'))
    return new Set([...section.matchAll(/^ {2}([a-z][a-z-]*)\b/gm)].map((m) => m[1] as string))
  }
}

/**
 * Problems with one `micro` invocation: an unknown command is not one (any other name is a
 * service: a dynamic command, checked when run), a flag its help does not list is.
 */
export async function checkInvocation(help: CliHelp, args: string[], at: string): Promise<SnippetProblem[]> {
  const [command, sub] = args
  if (command === undefined || command.startsWith('-')) return []
  if (!(await help.commands()).has(command)) return []
  const texts = [await help.help([command])]
  if (sub && !sub.startsWith('-') && /^[a-z-]+$/.test(sub)) texts.push(await help.help([command, sub]))
  const problems: SnippetProblem[] = []
  for (const arg of args.slice(1)) {
    if (arg === '--') break
    if (!/^--?[A-Za-z]/.test(arg)) continue
    const flag = arg.split('=')[0] as string
    if (['-h', '--help'].includes(flag)) continue
    const listed = texts.some((t) =>
      new RegExp(`(^|[\\s,\\[|])${flag.replace(/[-]/g, '\\-')}(?![\\w-])`, 'm').test(t),
    )
    if (!listed)
      problems.push({ at, message: `micro ${command}: ${flag} is not an option (micro ${command} --help)` })
  }
  return problems
}
