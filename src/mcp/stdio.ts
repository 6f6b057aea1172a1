import type { Readable, Writable } from 'node:stream'
import {
  type JSONRPCMessage,
  parseJSONRPCMessage,
  type Server,
  type Transport,
} from '@modelcontextprotocol/server'
import { serveStdio } from '@modelcontextprotocol/server/stdio'
import type { McpIdentity } from './access.js'
import type { McpEngine } from './engine.js'

/** Options of {@link serveMcpStdio}. */
export interface StdioOptions {
  input?: Readable
  output?: Writable
  /** Largest message (one line), bytes. Default 4 MiB. */
  maxMessageBytes?: number
  /** Called when the client closes standard input (the server should then exit). */
  onClose?: () => void
  /** Called with errors of the transport (a bad line, a closed output). */
  onError?: (error: Error) => void
}

/**
 * MCP over stdio for IDE agents (`micro mcp serve`): newline-delimited JSON-RPC on standard
 * input and output, both protocol eras (the SDK's `serveStdio` picks one per connection).
 * Every tool call runs as `identity` (the CLI's login).
 */
export function serveMcpStdio(engine: McpEngine, identity: McpIdentity, options: StdioOptions = {}) {
  const transport = new LineTransport(
    options.input ?? process.stdin,
    options.output ?? process.stdout,
    options.maxMessageBytes ?? 4 * 1024 * 1024,
  )
  // The entry makes a probe instance first and may discard it: the last one made is pinned.
  let pinned: Server | undefined
  const factory = () => {
    pinned = engine.server(identity)
    return pinned
  }
  const handle = serveStdio(factory, { transport, onerror: options.onError })
  // On a 2026-07-28 connection the entry routes this to the client's subscriptions/listen.
  const unsubscribe = engine.onToolsChanged(() => void pinned?.sendToolListChanged().catch(() => {}))
  transport.closed.then(() => {
    unsubscribe()
    options.onClose?.()
  })
  return {
    /** Stop serving and close the transport. */
    close: async () => {
      unsubscribe()
      await handle.close()
    },
  }
}

/**
 * Newline-delimited JSON-RPC over two streams, answering what the SDK's stdio transport
 * drops: a line that is not JSON gets a -32700 parse error, JSON that is no JSON-RPC message a
 * -32600 (with its id when it has one), and a line over the limit is skipped to its end and
 * answered with a -32600, so the client hears why and the connection stays up.
 */
export class LineTransport implements Transport {
  onclose?: () => void
  onerror?: (error: Error) => void
  onmessage?: (message: JSONRPCMessage) => void
  readonly closed: Promise<void>
  readonly #input: Readable
  readonly #output: Writable
  readonly #max: number
  #chunks: Buffer[] = []
  #size = 0
  /** Skipping the rest of an oversized line. */
  #skipping = false
  #done = false
  #resolveClosed!: () => void

  constructor(input: Readable, output: Writable, max: number) {
    this.#input = input
    this.#output = output
    this.#max = max
    this.closed = new Promise((resolve) => {
      this.#resolveClosed = resolve
    })
  }

  async start(): Promise<void> {
    this.#input.on('data', this.#onData)
    this.#input.on('end', this.#onEnd)
    this.#input.on('close', this.#onEnd)
    this.#input.on('error', this.#onError)
    this.#output.on('error', this.#onError)
  }

  send(message: JSONRPCMessage): Promise<void> {
    if (this.#done) return Promise.reject(new Error('the stdio transport is closed'))
    return new Promise((resolve, reject) => {
      const ok = this.#output.write(`${JSON.stringify(message)}\n`, (error) =>
        error ? reject(error) : undefined,
      )
      if (ok) resolve()
      else this.#output.once('drain', resolve)
    })
  }

  async close(): Promise<void> {
    if (this.#done) return
    this.#done = true
    this.#input.off('data', this.#onData)
    this.#input.off('end', this.#onEnd)
    this.#input.off('close', this.#onEnd)
    this.#input.off('error', this.#onError)
    this.#output.off('error', this.#onError)
    this.#input.pause()
    this.#chunks = []
    this.onclose?.()
    this.#resolveClosed()
  }

  #onEnd = () => void this.close()

  #onError = (error: Error) => this.onerror?.(error)

  #onData = (chunk: Buffer) => {
    let start = 0
    for (;;) {
      const newline = chunk.indexOf(10, start)
      const part = newline < 0 ? chunk.subarray(start) : chunk.subarray(start, newline)
      if (!this.#skipping) {
        if (this.#size + part.length > this.#max) {
          this.#skipping = true
          this.#chunks = []
          this.#size = 0
        } else if (part.length > 0) {
          this.#chunks.push(part)
          this.#size += part.length
        }
      }
      if (newline < 0) return
      start = newline + 1
      if (this.#skipping) {
        this.#skipping = false
        this.#reply(-32600, `message over the ${this.#max}-byte limit`, null)
      } else {
        const line = Buffer.concat(this.#chunks, this.#size).toString('utf8')
        this.#chunks = []
        this.#size = 0
        this.#line(line)
      }
    }
  }

  #line(line: string): void {
    const text = line.trim()
    if (text === '') return
    let value: unknown
    try {
      value = JSON.parse(text)
    } catch (error) {
      this.#reply(-32700, `Parse error: ${(error as Error).message}`, null)
      return
    }
    let message: JSONRPCMessage
    try {
      message = parseJSONRPCMessage(value)
    } catch {
      const id = (value as { id?: unknown } | null)?.id
      this.#reply(
        -32600,
        'Invalid Request: not a JSON-RPC 2.0 message',
        typeof id === 'string' || typeof id === 'number' ? id : null,
      )
      return
    }
    this.onmessage?.(message)
  }

  #reply(code: number, message: string, id: string | number | null): void {
    this.send({ jsonrpc: '2.0', id, error: { code, message } } as unknown as JSONRPCMessage).catch(() => {})
  }
}
