import { MicroError } from '../errors/errors.js'

/** One mistake in a service definition: where it is, what is wrong, and how to fix it. */
export interface Problem {
  /** The key, e.g. `version`, `types[1]`, `runtime.http.base_path`, `env.MAX_ITEMS`. */
  key: string
  message: string
  fix?: string
}

/** Collects every problem of a definition so they can be reported at once. */
export class Problems {
  readonly list: Problem[] = []

  /** Record a problem with `key`. */
  add(key: string, message: string, fix?: string): void {
    this.list.push(fix === undefined ? { key, message } : { key, message, fix })
  }

  get size(): number {
    return this.list.length
  }

  /** Throw a DefinitionError listing every problem, if there is any. */
  throwIfAny(source: string): void {
    if (this.list.length > 0) throw new DefinitionError(source, this.list)
  }
}

/**
 * A service definition that cannot run: the toml, the environment or the code has
 * mistakes. The detail lists every problem on its own line, each with its key and a fix.
 */
export class DefinitionError extends MicroError {
  readonly problems: readonly Problem[]

  constructor(source: string, problems: readonly Problem[]) {
    super('micro.definition', formatProblems(source, problems), 400)
    this.name = 'DefinitionError'
    this.problems = problems
  }
}

/** `<source> has N problems:` followed by one `  - key: message (fix: ...)` line each. */
export function formatProblems(source: string, problems: readonly Problem[]): string {
  const head =
    problems.length === 1 ? `${source} has a problem:` : `${source} has ${problems.length} problems:`
  const lines = problems.map((p) => `  - ${p.key}: ${p.message}${p.fix ? `. Fix: ${p.fix}` : ''}`)
  return [head, ...lines].join('\n')
}

/** The known word closest to `word` (edit distance at most 2), for "did you mean" hints. */
export function closest(word: string, known: Iterable<string>): string | undefined {
  let best: string | undefined
  let bestDistance = 3
  for (const candidate of known) {
    const d = distance(word.toLowerCase(), candidate.toLowerCase())
    if (d < bestDistance) {
      best = candidate
      bestDistance = d
    }
  }
  return best
}

function distance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, i) => i)
  for (let i = 1; i <= a.length; i++) {
    const current = [i]
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1
      current[j] = Math.min(
        (previous[j] as number) + 1,
        (current[j - 1] as number) + 1,
        (previous[j - 1] as number) + cost,
      )
    }
    previous = current
  }
  return previous[b.length] as number
}

/** The fix for an unknown key: the closest known key, or the list of known ones. */
export function unknownKeyFix(key: string, known: readonly string[]): string {
  const guess = closest(key, known)
  if (guess) return `did you mean ${guess}? (known keys: ${known.join(', ')})`
  return known.length > 0 ? `remove it; known keys: ${known.join(', ')}` : 'remove it'
}
