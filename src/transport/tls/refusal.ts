import type { Socket } from 'node:net'
import { badRequest } from '../../errors/errors.js'
import { FrameFlag, FrameType, type Headers, PROTOCOL_VERSION } from '../frame.js'
import { FrameParser } from '../frame-parser.js'
import { FrameWriter } from '../frame-writer.js'

const REFUSAL =
  'this port speaks TLS (MICRO_TLS=on): call it over TLS, with the CA that issued its certificate'

const PLAIN_HTTP_REFUSAL = (() => {
  const body = `use https:// - ${REFUSAL}`
  return (
    'HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Type: text/plain\r\n' +
    `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`
  )
})()

/** How long a refused peer may keep the socket before it is cut, ms. */
const GRACE_MS = 500

/**
 * A connection to a TLS port that did not start with a TLS handshake. Micro-protocol calls
 * each get an error frame saying the port wants TLS (so the caller's call fails with that,
 * not with a lost connection); HTTP gets a 400 saying so. Then the connection is closed.
 */
export function refusePlain(socket: Socket, first: Buffer, maxFrameSize: number): void {
  const cut = setTimeout(() => socket.destroy(), GRACE_MS)
  cut.unref()
  socket.once('close', () => clearTimeout(cut))
  if (first[0] !== PROTOCOL_VERSION) {
    socket.end(PLAIN_HTTP_REFUSAL)
    return
  }
  const writer = new FrameWriter(socket)
  const error = Buffer.from(JSON.stringify(badRequest('micro.server', REFUSAL)))
  let answered = false
  const answer = (type: FrameType, id: number) => {
    if (type !== FrameType.Request) return
    writer.frame(FrameType.Error, FrameFlag.End, id, undefined, error)
    answered = true
  }
  const parser = new FrameParser(maxFrameSize, {
    frame: (type: FrameType, _flags: number, id: number, _headers: Headers | undefined) => answer(type, id),
    oversize: (type: FrameType, id: number) => answer(type, id),
  })
  // Read until a call was answered (the grace timer bounds the wait), then hang up.
  const read = (chunk: Buffer) => {
    let broken = false
    try {
      parser.push(chunk)
    } catch {
      broken = true
    }
    if (!answered && !broken) return
    writer.flush()
    socket.removeListener('data', read)
    socket.end()
  }
  socket.on('error', () => {})
  socket.on('data', read)
  read(first)
}
