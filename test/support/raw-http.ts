import { connect, type Socket } from 'node:net'

/** A hand-driven TCP connection for tests that speak (or half-speak) HTTP on purpose. */
export class RawHttp {
  readonly socket: Socket
  closed = false
  /** Bytes written so far. */
  sent = 0
  readonly #received: Buffer[] = []
  readonly #waiters = new Set<() => void>()

  private constructor(socket: Socket) {
    this.socket = socket
    socket.on('data', (chunk: Buffer) => {
      this.#received.push(chunk)
      this.#notify()
    })
    socket.on('close', () => {
      this.closed = true
      this.#notify()
    })
    socket.on('error', () => {})
  }

  static async connect(address: string): Promise<RawHttp> {
    const [host, port] = address.split(':') as [string, string]
    const socket = connect({ host, port: Number(port), noDelay: true })
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve)
      socket.once('error', reject)
    })
    return new RawHttp(socket)
  }

  /** Everything the server sent, as text. */
  text(): string {
    return Buffer.concat(this.#received).toString('latin1')
  }

  write(data: string | Buffer): void {
    if (this.closed) return
    this.sent += Buffer.byteLength(data)
    this.socket.write(data)
  }

  /** Send `data` one byte every `everyMs` until all of it is sent or the connection closes. */
  async trickle(data: string, everyMs: number): Promise<void> {
    for (let i = 0; i < data.length && !this.closed; i++) {
      this.write(data[i] as string)
      await this.#until(() => this.closed, everyMs)
    }
  }

  /** Resolves once the server has closed the connection; rejects if it is still open after `ms`. */
  async whenClosed(ms = 10_000): Promise<void> {
    if (!(await this.#until(() => this.closed, ms))) throw new Error(`connection still open after ${ms} ms`)
  }

  /** Resolves once what the server sent matches `pattern`. */
  async whenText(pattern: RegExp, ms = 10_000): Promise<string> {
    if (!(await this.#until(() => pattern.test(this.text()), ms)))
      throw new Error(`no ${pattern} within ${ms} ms; got ${JSON.stringify(this.text())}`)
    return this.text()
  }

  close(): void {
    this.socket.destroy()
  }

  /** Wait until `done()` holds (true) or `ms` passes (false), re-checking on every event. */
  #until(done: () => boolean, ms: number): Promise<boolean> {
    if (done()) return Promise.resolve(true)
    return new Promise((resolve) => {
      const check = () => {
        if (!done()) return
        finish(true)
      }
      const finish = (result: boolean) => {
        clearTimeout(timer)
        this.#waiters.delete(check)
        resolve(result)
      }
      const timer = setTimeout(() => finish(done()), ms)
      this.#waiters.add(check)
    })
  }

  #notify(): void {
    for (const waiter of [...this.#waiters]) waiter()
  }
}
