import type { IncomingMessage } from 'node:http'
import { badRequest, payloadTooLarge } from '../../errors/errors.js'

const EMPTY = Buffer.alloc(0)

/**
 * Read a request body of at most `max` bytes. A declared Content-Length over the limit is
 * refused before anything is read; a chunked body is refused as soon as it passes the
 * limit. Either way the rejection is a 413 and the caller should close the connection
 * (the rest of the body is never read). A client that goes away mid-body is a 400.
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
    // Listeners stay until the request is gone rather than being removed one by one (which
    // costs more than the read itself); `settled` makes late events harmless.
    let first: Buffer | undefined
    let more: Buffer[] | undefined
    let size = 0
    let settled = false
    req.on('data', (chunk: Buffer) => {
      if (settled) return
      size += chunk.length
      if (size > max) {
        settled = true
        first = undefined
        more = undefined
        reject(tooLarge(id, max))
      } else if (first === undefined) {
        first = chunk
      } else {
        more ??= [first]
        more.push(chunk)
      }
    })
    req.on('end', () => {
      if (settled) return
      settled = true
      resolve(more !== undefined ? Buffer.concat(more, size) : (first ?? EMPTY))
    })
    // A client that goes away mid-body destroys the request with an error ('aborted').
    req.on('error', () => {
      if (settled) return
      settled = true
      reject(badRequest(id, 'the request body was cut off'))
    })
  })
}

function tooLarge(id: string, max: number, size?: number) {
  return payloadTooLarge(
    id,
    `body${size === undefined ? '' : ` of ${size} bytes`} is over the ${max}-byte limit`,
  )
}
