import { StringDecoder } from 'node:string_decoder'

/** Longest line kept whole; a longer one is cut into pieces of this many characters. */
export const MAX_LINE = 16 * 1024

/**
 * Splits a byte stream into lines (`\n`, a trailing `\r` dropped), decoding UTF-8 across
 * chunk boundaries. A line longer than {@link MAX_LINE} is handed out in pieces, so a
 * process that never writes a newline cannot make the runtime hold unbounded text.
 */
export class LineSplitter {
  readonly #decoder = new StringDecoder('utf8')
  readonly #onLine: (line: string) => void
  #partial = ''

  constructor(onLine: (line: string) => void) {
    this.#onLine = onLine
  }

  push(chunk: Buffer | string): void {
    let text = this.#partial + (typeof chunk === 'string' ? chunk : this.#decoder.write(chunk))
    let newline = text.indexOf('\n')
    while (newline !== -1) {
      this.#emit(text.slice(0, newline))
      text = text.slice(newline + 1)
      newline = text.indexOf('\n')
    }
    while (text.length > MAX_LINE) {
      this.#onLine(text.slice(0, MAX_LINE))
      text = text.slice(MAX_LINE)
    }
    this.#partial = text
  }

  /** The stream ended: hand out what is left as a last line. */
  end(): void {
    const rest = this.#partial + this.#decoder.end()
    this.#partial = ''
    if (rest.length > 0) this.#emit(rest)
  }

  #emit(line: string): void {
    const text = line.endsWith('\r') ? line.slice(0, -1) : line
    for (let i = 0; i < text.length || i === 0; i += MAX_LINE) this.#onLine(text.slice(i, i + MAX_LINE))
  }
}
