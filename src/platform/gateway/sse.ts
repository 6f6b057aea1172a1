import type { IncomingMessage, ServerResponse } from 'node:http'
import type { ClientStream } from '../../client/client-stream.js'
import { MicroError } from '../../errors/errors.js'

/** A stream to a service whose messages are bytes in and bytes out. */
export type ByteStream = ClientStream<Uint8Array, Uint8Array>

/** Whether a request asks for Server-Sent Events. */
export function wantsEventStream(req: IncomingMessage): boolean {
  const accept = req.headers.accept
  return accept?.includes('text/event-stream') === true
}

/**
 * Serve a server stream as Server-Sent Events: `request` is sent as the only message and
 * the stream half-closed; each reply is one `data:` event. The stream ends with an `end`
 * event (so an EventSource knows not to reconnect), or an `error` event whose data is the
 * error JSON. Failing to open the stream (no node, unknown endpoint) is an ordinary HTTP
 * error before any event. A comment line every `pingInterval` keeps proxies from closing
 * an idle stream; a client that goes away cancels the stream; a slow client slows the
 * stream down (nothing more is read from the service until the socket drains).
 * Resolves with the HTTP status sent.
 */
export async function serveEventStream(
  stream: ByteStream,
  request: Uint8Array,
  res: ServerResponse,
  pingInterval: number,
): Promise<number> {
  // Errors here (the stream could not be opened) reach the caller before any header is sent.
  await stream.send(request)
  await stream.closeSend()
  let gone = false
  const onClose = () => {
    if (res.writableFinished) return
    gone = true
    stream.cancel('the SSE client went away')
  }
  res.once('close', onClose)
  res.writeHead(200, {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-cache',
    'x-accel-buffering': 'no',
  })
  res.flushHeaders()
  const ping = setInterval(() => {
    if (!gone && !res.destroyed) res.write(': ping\n\n')
  }, pingInterval)
  ping.unref()
  try {
    for await (const message of stream) {
      if (gone) break
      if (!res.write(event('message', message))) await drained(res)
    }
    if (!gone) res.end('event: end\ndata: {}\n\n')
  } catch (error) {
    if (!gone) res.end(event('error', Buffer.from(JSON.stringify(MicroError.from(error, 'micro.gateway')))))
  } finally {
    clearInterval(ping)
    res.off('close', onClose)
  }
  return 200
}

/** One SSE event; a message spanning lines becomes one `data:` line per line. */
function event(name: string, data: Uint8Array): string {
  const text = Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString('utf8')
  const head = name === 'message' ? '' : `event: ${name}\n`
  if (!text.includes('\n') && !text.includes('\r')) return `${head}data: ${text}\n\n`
  return `${head}${text
    .split(/\r\n|\r|\n/)
    .map((line) => `data: ${line}`)
    .join('\n')}\n\n`
}

function drained(res: ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      res.off('drain', done)
      res.off('close', done)
      resolve()
    }
    res.once('drain', done)
    res.once('close', done)
  })
}
