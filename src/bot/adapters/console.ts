import { userInfo } from 'node:os'
import type { ChatAdapter, MessageHandler } from './adapter.js'
import { renderPlain } from './plain.js'

export interface ConsoleAdapterOptions {
  input?: NodeJS.ReadableStream
  output?: NodeJS.WritableStream
  /** Who types: `console:<user>` (default this machine's user name). */
  user?: string
  /** A line longer than this is dropped unread (its reply says so). Default 64 KiB. */
  maxLineBytes?: number
}

/**
 * The bot on standard input and output, for development and tests: each line is a message
 * from `console:<user>`, answered in order with the reply as plain text. It ends when the
 * input does (`done`).
 */
export class ConsoleAdapter implements ChatAdapter {
  readonly name = 'console'
  readonly #input: NodeJS.ReadableStream
  readonly #output: NodeJS.WritableStream
  readonly #user: string
  readonly #maxLine: number
  #stopped = false
  #done: Promise<void> = Promise.resolve()

  constructor(options: ConsoleAdapterOptions = {}) {
    this.#input = options.input ?? process.stdin
    this.#output = options.output ?? process.stdout
    this.#user = `console:${options.user ?? safeUserName()}`
    this.#maxLine = options.maxLineBytes ?? 64 * 1024
  }

  /** Resolves when the input has ended and every line is answered. */
  get done(): Promise<void> {
    return this.#done
  }

  async start(handler: MessageHandler): Promise<void> {
    this.#done = this.#serve(handler)
  }

  async stop(): Promise<void> {
    this.#stopped = true
    ;(this.#input as NodeJS.ReadableStream & { destroy?: () => void }).destroy?.()
    await this.#done.catch(() => {})
  }

  async #serve(handler: MessageHandler): Promise<void> {
    for await (const line of boundedLines(this.#input, this.#maxLine)) {
      if (this.#stopped) break
      const text =
        line === undefined
          ? `(that line was longer than ${this.#maxLine} bytes and was dropped)`
          : line.trim() === ''
            ? undefined
            : renderPlain(await handler({ adapter: 'console', user: this.#user, text: line }))
      if (text !== undefined) this.#output.write(`${text}\n`)
    }
  }
}

function safeUserName(): string {
  try {
    return userInfo().username || 'user'
  } catch {
    return 'user'
  }
}

/**
 * The lines of `input` (UTF-8, `\n` or `\r\n`); a line longer than `maxBytes` is yielded
 * as undefined and skipped to its end without being kept, so one endless line costs
 * bounded memory.
 */
export async function* boundedLines(
  input: NodeJS.ReadableStream,
  maxBytes: number,
): AsyncGenerator<string | undefined> {
  const decoder = new TextDecoder()
  let pending = ''
  let skipping = false
  for await (const chunk of input) {
    let text = typeof chunk === 'string' ? chunk : decoder.decode(chunk as Uint8Array, { stream: true })
    for (;;) {
      const newline = text.indexOf('\n')
      if (newline < 0) break
      const piece = text.slice(0, newline)
      text = text.slice(newline + 1)
      if (skipping) {
        skipping = false
        pending = ''
        continue
      }
      const line = (pending + piece).replace(/\r$/, '')
      pending = ''
      yield Buffer.byteLength(line) > maxBytes ? undefined : line
    }
    if (skipping) continue
    pending += text
    if (Buffer.byteLength(pending) > maxBytes) {
      skipping = true
      pending = ''
      yield undefined
    }
  }
  if (!skipping && pending !== '') yield pending.replace(/\r$/, '')
}
