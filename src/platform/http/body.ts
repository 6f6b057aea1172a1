import type { IncomingMessage } from 'node:http'
import { badRequest, payloadTooLarge } from '../../errors/errors.js'

const EMPTY = Buffer.alloc(0)

/**
 * Read a request body of at most `max` bytes. A declared Content-Length over the limit is
 * refused before anything is read; a chunked body is refused as soon as it passes the
 * limit. Either way the rejection is a 413 and the caller should close the connection
 * (the rest of the body is never read).
 */
export function readBody(req: IncomingMessage, max: number, id: string): Promise<Buffer> {
  const declared = req.headers['content-length']
  if (declared !== undefined) {
    const size = Number(declared)
    if (size > max) return Promise.reject(tooLarge(id, max, size))
    if (size === 0) return Promise.resolve(EMPTY)
  } else if (req.headers['transfer-encoding'] === undefined) {
    return Promise.resolve(EMPTY)
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    let size = 0
    const onData = (chunk: Buffer) => {
      size += chunk.length
      if (size > max) {
        cleanup()
        chunks.length = 0
        reject(tooLarge(id, max))
        return
      }
      chunks.push(chunk)
    }
    const onEnd = () => {
      cleanup()
      resolve(chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks, size))
    }
    // A client that goes away mid-body destroys the request with an error ('aborted').
    const onAborted = () => {
      cleanup()
      reject(badRequest(id, 'the request body was cut off'))
    }
    const cleanup = () => {
      req.off('data', onData)
      req.off('end', onEnd)
      req.off('error', onAborted)
    }
    req.on('data', onData)
    req.on('end', onEnd)
    req.on('error', onAborted)
  })
}

function tooLarge(id: string, max: number, size?: number) {
  return payloadTooLarge(
    id,
    `body${size === undefined ? '' : ` of ${size} bytes`} is over the ${max}-byte limit`,
  )
}
