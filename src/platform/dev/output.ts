/** Fields of a service's JSON log line that the dev loop's column already says, or that are noise here. */
const KNOWN_FIELDS = new Set([
  'level',
  'time',
  'service',
  'version',
  'id',
  'namespace',
  'msg',
  'pid',
  'hostname',
  'kind',
  'product',
  'err',
])
const COLORS = [36, 35, 33, 34, 32, 96, 95, 93, 94, 92]

/** Where the dev loop writes and whether it may color. */
export interface PrinterOptions {
  write(text: string): void
  color?: boolean
}

/**
 * The dev loop's terminal output, one line per line, in columns: the service name, then
 * `|` and a line of its output (JSON log lines shortened to `level message key=value`),
 * `-` and something the dev loop did, or `!` and a problem (indented lines follow).
 */
export class Printer {
  readonly #write: (text: string) => void
  readonly #color: boolean
  #width = 5
  readonly #colorOf = new Map<string, number>()

  constructor(options: PrinterOptions) {
    this.#write = options.write
    this.#color = options.color ?? false
  }

  /** The names printed in the first column (for its width and colors). */
  setNames(names: readonly string[]): void {
    this.#width = Math.max(5, ...names.map((n) => n.length))
    for (const [i, name] of names.entries()) this.#colorOf.set(name, COLORS[i % COLORS.length] as number)
  }

  /** A line a service printed; `tag` marks whose it is (`[old]`: the process a reload replaces). */
  output(service: string, _stream: 'stdout' | 'stderr', line: string, tag?: string): void {
    const text = formatLogLine(line)
    const marked = tag ? `${this.#paint(tag, 2)} ${text}` : text
    this.#write(`${this.#name(service)} ${this.#paint('|', 2)} ${marked}\n`)
  }

  /** Something the dev loop did (`micro` when it concerns no one service). */
  note(service: string, text: string): void {
    this.#write(`${this.#name(service)} ${this.#paint('-', 2)} ${text}\n`)
  }

  /** A problem, its first line after the name and the rest indented under it. */
  problem(service: string, headline: string, detail?: string): void {
    const indent = ' '.repeat(this.#width + 3)
    const body = detail ? detail.split('\n').map((l) => `${indent}${l}`) : []
    this.#write(
      [`${this.#name(service)} ${this.#paint('!', 31)} ${this.#paint(headline, 31)}`, ...body].join('\n') +
        '\n',
    )
  }

  /** Plain lines (the banner). */
  plain(text: string): void {
    this.#write(`${text}\n`)
  }

  #name(service: string): string {
    return this.#paint(service.padEnd(this.#width), this.#colorOf.get(service) ?? 90)
  }

  #paint(text: string, code: number): string {
    return this.#color ? `\u001b[${code}m${text}\u001b[0m` : text
  }
}

/**
 * A pino JSON line as `info  message key=value ...` (an `err` adds its stack, indented);
 * any other line as it is.
 */
export function formatLogLine(line: string): string {
  if (!line.startsWith('{') || !line.endsWith('}')) return line
  let record: Record<string, unknown>
  try {
    record = JSON.parse(line) as Record<string, unknown>
  } catch {
    return line
  }
  if (typeof record.msg !== 'string' || record.level === undefined) return line
  const level = typeof record.level === 'number' ? levelName(record.level) : String(record.level)
  const extras = Object.entries(record)
    .filter(([key]) => !KNOWN_FIELDS.has(key))
    .map(([key, value]) => `${key}=${typeof value === 'string' ? value : JSON.stringify(value)}`)
  const err = record.err as { message?: string; stack?: string } | undefined
  const stack =
    typeof err?.stack === 'string'
      ? `\n${err.stack}`
      : typeof err?.message === 'string'
        ? ` ${err.message}`
        : ''
  return `${level.padEnd(5)} ${record.msg}${extras.length > 0 ? ` ${extras.join(' ')}` : ''}${stack}`
}

function levelName(level: number): string {
  if (level >= 60) return 'fatal'
  if (level >= 50) return 'error'
  if (level >= 40) return 'warn'
  if (level >= 30) return 'info'
  if (level >= 20) return 'debug'
  return 'trace'
}
