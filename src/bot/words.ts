/**
 * A chat message as the words of one command, the way a POSIX shell splits them, without
 * a shell: quotes group, backslashes escape, and nothing is ever expanded or run. `$(...)`,
 * backticks, `;`, `|`, `&`, `<` and `>` outside quotes are refused with a clear error
 * rather than passed on, so nobody believes they did something; quoted, they are text.
 */

/** Input the bot cannot take as a command: the message says what and where. */
export class CommandInputError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'CommandInputError'
  }
}

export interface SplitLimits {
  /** At most this many words. Default 64. */
  maxWords?: number
}

/** Characters a shell would treat as syntax; refused unquoted. */
const OPERATORS = new Set([';', '|', '&', '<', '>', '`'])

/**
 * C0 controls other than tab, line feed and carriage return, DEL, and the bidirectional
 * overrides (they make a command or an audit line read differently from what it is).
 */
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is its job
const FORBIDDEN = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f\u202a-\u202e\u2066-\u2069]/

function describeChar(char: string): string {
  return `U+${(char.codePointAt(0) as number).toString(16).toUpperCase().padStart(4, '0')}`
}

/**
 * Split `text` into words: whitespace separates; `'...'` is literal; in `"..."` a
 * backslash escapes only `"`, `\`, `$` and a backquote; elsewhere a backslash makes the
 * next character literal. A line break outside quotes ends nothing: the bot takes one
 * command per message, so it is an error (inside quotes it is kept, e.g. pasted JSON).
 * Throws {@link CommandInputError} for an unterminated quote, a trailing backslash, a
 * control character, shell syntax outside quotes, or too many words.
 */
export function splitWords(text: string, limits: SplitLimits = {}): string[] {
  const maxWords = limits.maxWords ?? 64
  const forbidden = FORBIDDEN.exec(text)
  if (forbidden)
    throw new CommandInputError(`the message holds a control character (${describeChar(forbidden[0])})`)
  const words: string[] = []
  let word = ''
  let inWord = false
  const push = () => {
    if (!inWord) return
    if (words.length >= maxWords) throw new CommandInputError(`too many words: at most ${maxWords}`)
    words.push(word)
    word = ''
    inWord = false
  }
  for (let i = 0; i < text.length; i++) {
    const char = text[i] as string
    if (char === ' ' || char === '\t') {
      push()
      continue
    }
    if (char === '\n' || char === '\r') {
      if (text.slice(i).trim() === '') break
      throw new CommandInputError('one command per message: a line break outside quotes starts another')
    }
    inWord = true
    if (char === "'") {
      const end = text.indexOf("'", i + 1)
      if (end < 0) throw new CommandInputError(`unterminated ' quote (opened at character ${i + 1})`)
      word += text.slice(i + 1, end)
      i = end
    } else if (char === '"') {
      i = readDoubleQuoted(text, i, (part) => {
        word += part
      })
    } else if (char === '\\') {
      if (i + 1 >= text.length) throw new CommandInputError('a backslash at the end escapes nothing')
      word += text[++i]
    } else if (OPERATORS.has(char) || (char === '$' && (text[i + 1] === '(' || text[i + 1] === '{'))) {
      const shown = char === '$' ? `$${text[i + 1]}` : char
      throw new CommandInputError(
        `${shown} is shell syntax, and the bot runs no shell: one command per message; quote it to send it as text`,
      )
    } else {
      word += char
    }
  }
  push()
  return words
}

/** Read `"..."` starting at `start`; hands each literal part to `add`; returns the closing quote's index. */
function readDoubleQuoted(text: string, start: number, add: (part: string) => void): number {
  for (let i = start + 1; i < text.length; i++) {
    const char = text[i] as string
    if (char === '"') return i
    if (char === '\\' && i + 1 < text.length && '"\\$`'.includes(text[i + 1] as string)) {
      add(text[++i] as string)
      continue
    }
    add(char)
  }
  throw new CommandInputError(`unterminated " quote (opened at character ${start + 1})`)
}

/** Words back into a line a person can read and paste (quoted where needed). */
export function joinWords(words: readonly string[]): string {
  return words
    .map((w) => (/^[A-Za-z0-9_@%+=:,./[\]-]+$/.test(w) ? w : `'${w.replaceAll("'", `'\\''`)}'`))
    .join(' ')
}
