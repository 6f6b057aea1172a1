import { Agent, type ClientRequest, type IncomingHttpHeaders, request } from 'node:http'
import { MicroError } from '../errors/errors.js'

/** The app's answer: status, headers and the whole body. */
export interface AppResponse {
  status: number
  headers: IncomingHttpHeaders
  body: Buffer
}

/** One request to the app. */
export interface AppRequest {
  method: 'GET' | 'POST'
  path: string
  headers?: Record<string, string>
  body?: Uint8Array
  /** Milliseconds until the request is abandoned (408) and its socket closed. */
  timeout: number
  /** The caller gave up: the request is abandoned (499) and its socket closed. */
  signal?: AbortSignal
}

/** Error codes meaning the app never saw the request (it is not listening, or not there). */
const NOT_REACHED = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN'])

/**
 * HTTP/1.1 to the app over a keep-alive agent. Failures are MicroErrors a caller can act
 * on: the app not listening is a 503 at once (it never ran the call, so a micro client
 * retries elsewhere); a connection lost after sending is a 502 (it may have run); no
 * answer by the deadline is a 408 and the socket is destroyed, so a slow app sees the
 * call abandoned; a reply over `maxBody` is a 502.
 */
export class AppClient {
  readonly #host: string
  readonly #port: number
  readonly #id: string
  readonly #maxBody: number
  // No cap on sockets: a subscriber route that hangs must not starve calls to the app.
  // Idle kept-alive sockets close after 30 s (a threaded app server holds a thread for each).
  readonly #agent = new Agent({ keepAlive: true, maxFreeSockets: 64, timeout: 30_000 })

  constructor(host: string, port: number, id: string, maxBody: number) {
    this.#host = host
    this.#port = port
    this.#id = id
    this.#maxBody = maxBody
  }

  /** `host:port` of the app. */
  get address(): string {
    return this.#host.includes(':') ? `[${this.#host}]:${this.#port}` : `${this.#host}:${this.#port}`
  }

  /** Send a request; resolves with any HTTP answer, rejects with a MicroError when there is none. */
  send(req: AppRequest): Promise<AppResponse> {
    return this.#attempt(req, true)
  }

  /** Close idle keep-alive sockets (the app may be going away) and refuse nothing. */
  close(): void {
    this.#agent.destroy()
  }

  #attempt(req: AppRequest, mayRetry: boolean): Promise<AppResponse> {
    if (req.signal?.aborted) return Promise.reject(this.#canceled(req))
    return new Promise((resolve, reject) => {
      const headers: Record<string, string | number> = { ...req.headers }
      if (req.body !== undefined) headers['content-length'] = req.body.byteLength
      let settled = false
      let outgoing: ClientRequest | undefined
      const done = (error: MicroError | undefined, response?: AppResponse) => {
        if (settled) return
        settled = true
        clearTimeout(timer)
        req.signal?.removeEventListener('abort', onAbort)
        if (error) {
          outgoing?.destroy()
          reject(error)
        } else resolve(response as AppResponse)
      }
      const onAbort = () => done(this.#canceled(req))
      const timer = setTimeout(
        () =>
          done(
            new MicroError(
              this.#id,
              `the app did not answer ${req.method} ${req.path} within ${req.timeout} ms`,
              408,
            ),
          ),
        req.timeout,
      )
      req.signal?.addEventListener('abort', onAbort, { once: true })
      outgoing = request(
        {
          host: this.#host,
          port: this.#port,
          method: req.method,
          path: req.path,
          headers,
          agent: this.#agent,
        },
        (res) => {
          const declared = Number(res.headers['content-length'])
          if (declared > this.#maxBody) {
            res.destroy()
            done(this.#tooLarge(req))
            return
          }
          const chunks: Buffer[] = []
          let size = 0
          res.on('data', (chunk: Buffer) => {
            size += chunk.length
            if (size > this.#maxBody) {
              res.destroy()
              done(this.#tooLarge(req))
            } else chunks.push(chunk)
          })
          res.on('end', () =>
            done(undefined, {
              status: res.statusCode ?? 500,
              headers: res.headers,
              body: Buffer.concat(chunks, size),
            }),
          )
          res.on('error', () => done(this.#lost(req)))
        },
      )
      const sent = outgoing
      sent.on('error', (error: NodeJS.ErrnoException) => {
        if (settled) return
        // A kept-alive socket the app had just closed: the request never reached it (Node's advice).
        if (mayRetry && sent.reusedSocket && error.code === 'ECONNRESET') {
          settled = true
          clearTimeout(timer)
          req.signal?.removeEventListener('abort', onAbort)
          this.#attempt(req, false).then(resolve, reject)
          return
        }
        done(NOT_REACHED.has(error.code ?? '') ? this.#unreachable(error.code as string) : this.#lost(req))
      })
      sent.end(req.body)
    })
  }

  #unreachable(code: string): MicroError {
    return new MicroError(this.#id, `the app is not answering at ${this.address} (${code})`, 503)
  }

  #lost(req: AppRequest): MicroError {
    return new MicroError(
      this.#id,
      `the app closed the connection before answering ${req.method} ${req.path}`,
      502,
    )
  }

  #tooLarge(req: AppRequest): MicroError {
    return new MicroError(
      this.#id,
      `the app's answer to ${req.method} ${req.path} is over ${this.#maxBody} bytes`,
      502,
    )
  }

  #canceled(req: AppRequest): MicroError {
    return new MicroError(this.#id, `${req.method} ${req.path} to the app was canceled`, 499)
  }
}
