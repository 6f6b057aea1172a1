import type { IncomingMessage } from 'node:http'
import { gunzip } from 'node:zlib'

/** A request the receiver refuses, with the HTTP status to answer. */
export class RefusedRequest extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message)
  }
}

/**
 * The request body, at most `maxBytes` on the wire: a declared Content-Length over it is
 * refused before reading; a chunked body as soon as it passes. A gzip body is inflated to
 * at most `maxDecoded` bytes (zlib stops there), so a small bomb costs no more than a
 * body of that size.
 */
export async function readRequestBody(
  req: IncomingMessage,
  maxBytes: number,
  maxDecoded: number,
): Promise<Buffer> {
  const encoding = (req.headers['content-encoding'] ?? 'identity').trim().toLowerCase()
  if (encoding !== 'gzip' && encoding !== 'identity') {
    throw new RefusedRequest(415, `Content-Encoding ${encoding} is not supported: send gzip or none`)
  }
  const declared = req.headers['content-length']
  if (declared !== undefined && Number(declared) > maxBytes) {
    throw new RefusedRequest(413, `the body of ${declared} bytes is over the ${maxBytes}-byte limit`)
  }
  const raw = await collect(req, maxBytes)
  if (encoding === 'identity') return raw
  return new Promise((resolve, reject) => {
    gunzip(raw, { maxOutputLength: maxDecoded }, (error, inflated) => {
      if (!error) resolve(inflated)
      else if (
        error instanceof RangeError ||
        (error as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE'
      )
        reject(new RefusedRequest(413, `the body inflates past the ${maxDecoded}-byte limit`))
      else reject(new RefusedRequest(400, 'the body is not valid gzip'))
    })
  })
}

function collect(req: IncomingMessage, max: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    let size = 0
    const onData = (chunk: Buffer) => {
      size += chunk.length
      if (size > max) {
        cleanup()
        chunks.length = 0
        reject(new RefusedRequest(413, `the body is over the ${max}-byte limit`))
        return
      }
      chunks.push(chunk)
    }
    const onEnd = () => {
      cleanup()
      resolve(Buffer.concat(chunks, size))
    }
    const onError = () => {
      cleanup()
      reject(new RefusedRequest(400, 'the request body was cut off'))
    }
    const cleanup = () => {
      req.off('data', onData)
      req.off('end', onEnd)
      req.off('error', onError)
      req.off('aborted', onError)
    }
    req.on('data', onData)
    req.on('end', onEnd)
    req.on('error', onError)
    req.on('aborted', onError)
  })
}
