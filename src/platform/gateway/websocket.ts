import type { WebSocket } from 'ws'
import { badRequest, MicroError } from '../../errors/errors.js'
import type { ByteStream } from './sse.js'

/** Sends queued to the service before the socket stops being read. */
const MAX_PENDING_SENDS = 8
/** Bytes queued towards the browser before the service stream stops being read. */
const MAX_BUFFERED = 1024 * 1024

/**
 * Bridge one WebSocket to one service stream, Micro v3's way: the first message is the
 * request (it opens the stream), every later message is sent on it, and each message the
 * service sends is one WebSocket message, text or binary as the client's first message
 * was. Messages must be JSON. The service ending the stream closes the socket with 1000;
 * an error closes it with 4000 + the error's code (4404, 4500 ...) and its detail as the
 * reason. Closing the socket cancels the stream.
 *
 * Flow control both ways: while sends to the service are backed up the socket is not read
 * (the client's TCP window fills), and while the browser is slow to read, the service
 * stream is not read. A ping goes out every `pingInterval`; a socket that answered none
 * since the previous ping is cut.
 */
export function bridgeWebSocket(
  ws: WebSocket,
  open: () => ByteStream,
  pingInterval: number,
  onEnd: () => void,
): void {
  let stream: ByteStream | undefined
  let binary = false
  let pending = 0
  let sending: Promise<void> = Promise.resolve()
  let alive = true
  let finished = false

  const finish = () => {
    if (finished) return
    finished = true
    clearInterval(ping)
    onEnd()
  }
  const fail = (error: unknown) => {
    const e = MicroError.from(error, 'micro.gateway')
    if (ws.readyState === ws.OPEN || ws.readyState === ws.CONNECTING)
      ws.close(closeCode(e.code), reason(e.detail))
    stream?.cancel(e.detail)
  }

  const ping = setInterval(() => {
    if (!alive) {
      ws.terminate()
      return
    }
    alive = false
    ws.ping()
  }, pingInterval)
  ping.unref()

  ws.on('pong', () => {
    alive = true
  })
  ws.on('error', () => {
    // The socket closes after an error (bad frame, payload too large); 'close' cleans up.
  })
  ws.on('close', () => {
    stream?.cancel('the WebSocket client went away')
    finish()
  })
  ws.on('message', (data: Buffer | ArrayBuffer | Buffer[], isBinary: boolean) => {
    alive = true
    const bytes = toBuffer(data)
    if (!isJson(bytes)) {
      fail(badRequest('micro.gateway', 'WebSocket messages must be JSON'))
      return
    }
    if (stream === undefined) {
      binary = isBinary
      stream = open()
      void pump(stream)
    }
    const target = stream
    pending++
    if (pending >= MAX_PENDING_SENDS) ws.pause()
    sending = sending
      .then(() => target.send(bytes))
      .then(
        () => {
          pending--
          if (ws.isPaused && pending < MAX_PENDING_SENDS / 2) ws.resume()
        },
        (error: unknown) => fail(error),
      )
  })

  async function pump(target: ByteStream): Promise<void> {
    try {
      for await (const message of target) {
        if (ws.readyState !== ws.OPEN) return
        if (ws.bufferedAmount + message.byteLength <= MAX_BUFFERED) ws.send(message, { binary })
        // Backed up: wait until this message is written out before reading the next.
        else await new Promise<unknown>((resolve) => ws.send(message, { binary }, resolve))
      }
      if (ws.readyState === ws.OPEN) ws.close(1000, 'end of stream')
    } catch (error) {
      fail(error)
    }
  }
}

function toBuffer(data: Buffer | ArrayBuffer | Buffer[]): Buffer {
  if (Buffer.isBuffer(data)) return data
  if (Array.isArray(data)) return Buffer.concat(data)
  return Buffer.from(data)
}

function isJson(bytes: Buffer): boolean {
  try {
    JSON.parse(bytes.toString('utf8'))
    return true
  } catch {
    return false
  }
}

/** A close code for an error: 4000 + its HTTP-style code (private range 4000-4999). */
export function closeCode(code: number): number {
  return code >= 400 && code <= 599 ? 4000 + code : 4500
}

/** A close reason fits 123 bytes; cut on a character boundary. */
function reason(detail: string): string {
  let out = detail
  while (Buffer.byteLength(out) > 123) out = out.slice(0, -1)
  return out
}
