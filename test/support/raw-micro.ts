import { connect, type Socket } from 'node:net'
import { type Frame, FrameFlag, FrameType, newHeaders } from '../../src/transport/frame.js'
import { FrameParser } from '../../src/transport/frame-parser.js'
import { FrameWriter } from '../../src/transport/frame-writer.js'

/** A hand-driven micro-protocol connection for tests that misbehave on purpose. */
export class RawMicro {
  readonly socket: Socket
  readonly frames: Frame[] = []
  readonly writer: FrameWriter
  closed = false
  #waiters = new Set<() => void>()

  private constructor(socket: Socket) {
    this.socket = socket
    this.writer = new FrameWriter(socket)
    const parser = new FrameParser(64 * 1024 * 1024, {
      frame: (type, flags, id, headers, body) => {
        this.frames.push({ type, flags, id, headers, body: Buffer.from(body) })
        this.#notify()
      },
      oversize: () => {},
    })
    socket.on('data', (chunk: Buffer) => parser.push(chunk))
    socket.on('close', () => {
      this.closed = true
      this.#notify()
    })
    socket.on('error', () => {})
  }

  static async connect(address: string): Promise<RawMicro> {
    const [host, port] = address.split(':') as [string, string]
    const socket = connect({ host, port: Number(port) })
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve)
      socket.once('error', reject)
    })
    return new RawMicro(socket)
  }

  /** Encode a unary request frame (not sent). */
  static requestBytes(
    id: number,
    endpoint: string,
    body: string | Buffer,
    extra: Record<string, string> = {},
  ): Buffer {
    const chunks: Buffer[] = []
    const fake = {
      writableLength: 0,
      writableNeedDrain: false,
      write: (b: Buffer) => chunks.push(Buffer.from(b)) > 0,
      cork() {},
      uncork() {},
      on() {},
    } as unknown as Socket
    const writer = new FrameWriter(fake)
    const headers = Object.assign(newHeaders(), { 'micro-endpoint': endpoint, ...extra })
    writer.frame(FrameType.Request, FrameFlag.Message | FrameFlag.End, id, headers, Buffer.from(body))
    writer.flush()
    return Buffer.concat(chunks)
  }

  /** Encode any frame (not sent): the 16-byte header, the header block, the body. */
  static frameBytes(
    type: FrameType,
    flags: number,
    id: number,
    headers: Record<string, string> | undefined,
    body: Buffer = Buffer.alloc(0),
  ): Buffer {
    const chunks: Buffer[] = []
    const fake = {
      writableLength: 0,
      writableNeedDrain: false,
      write: (b: Buffer) => chunks.push(Buffer.from(b)) > 0,
      cork() {},
      uncork() {},
      on() {},
    } as unknown as Socket
    const writer = new FrameWriter(fake)
    writer.frame(type, flags, id, headers ? Object.assign(newHeaders(), headers) : undefined, body)
    writer.flush()
    return Buffer.concat(chunks)
  }

  /** Write `bytes`; resolves true once the socket took them, false if it did not within `ms` (pushed back). */
  async write(bytes: Buffer, ms = 2000): Promise<boolean> {
    if (this.socket.write(bytes)) return true
    return new Promise((resolve) => {
      const done = (drained: boolean) => {
        clearTimeout(timer)
        this.socket.off('drain', onDrain)
        this.socket.off('close', onClose)
        resolve(drained)
      }
      const onDrain = () => done(true)
      const onClose = () => done(false)
      const timer = setTimeout(() => done(false), ms)
      this.socket.once('drain', onDrain)
      this.socket.once('close', onClose)
    })
  }

  request(id: number, endpoint: string, body: string | Buffer, extra: Record<string, string> = {}): void {
    this.socket.write(RawMicro.requestBytes(id, endpoint, body, extra))
  }

  /** The first frame for `id` (or any frame of `type` when id is undefined), waiting up to `ms`. */
  async frameFor(id: number | undefined, type?: FrameType, ms = 5000): Promise<Frame> {
    const end = Date.now() + ms
    for (;;) {
      const found = this.frames.find(
        (f) => (id === undefined || f.id === id) && (type === undefined || f.type === type),
      )
      if (found) return found
      if (this.closed) throw new Error(`connection closed before a frame for ${id}`)
      if (Date.now() > end) throw new Error(`no frame for ${id} within ${ms} ms`)
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, end - Date.now())
        this.#waiters.add(() => {
          clearTimeout(t)
          resolve()
        })
      })
    }
  }

  /** Resolves once the server has closed the connection. */
  async whenClosed(ms = 5000): Promise<void> {
    const end = Date.now() + ms
    while (!this.closed) {
      if (Date.now() > end) throw new Error('connection still open')
      await new Promise((r) => setTimeout(r, 10))
    }
  }

  close(): void {
    this.socket.destroy()
  }

  #notify(): void {
    const waiters = [...this.#waiters]
    this.#waiters.clear()
    for (const w of waiters) w()
  }
}
