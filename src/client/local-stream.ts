import { canceled, type MicroError } from '../errors/errors.js'
import type { Server } from '../server/server.js'
import { type Headers, newHeaders } from '../transport/frame.js'
import type { OutboundStream, StreamChannel } from '../transport/transport.js'
import { AsyncQueue } from '../util/async-queue.js'

const HIGH_WATER = 256
const RESOLVED = Promise.resolve()

/** One end of an in-process stream; messages go straight into the peer's queue. */
class LocalChannel implements StreamChannel {
  readonly headers: Headers
  readonly messages: AsyncQueue<Uint8Array>
  peer!: LocalChannel
  readonly #isServer: boolean
  readonly #controller = new AbortController()
  #over = false
  #waiting: (() => void) | undefined

  constructor(headers: Headers, isServer: boolean) {
    this.headers = headers
    this.#isServer = isServer
    this.messages = new AsyncQueue<Uint8Array>({
      highWaterMark: HIGH_WATER,
      onPressure: (full) => {
        if (!full) this.peer.#release()
      },
      onReturn: () => {
        if (!this.#isServer) this.fail(canceled('micro.client', 'stream closed by the caller'))
      },
    })
  }

  get signal(): AbortSignal {
    return this.#controller.signal
  }

  send(body: Uint8Array): Promise<void> {
    if (this.#over) return Promise.reject(this.signal.reason ?? canceled('micro.stream', 'stream is closed'))
    this.peer.messages.push(body)
    if (this.peer.messages.size < HIGH_WATER) return RESOLVED
    return new Promise((resolve) => {
      this.#waiting = resolve
    })
  }

  end(): void {
    if (this.#over) return
    this.peer.messages.end()
    if (this.#isServer) {
      this.#over = true
      this.peer.#over = true
    }
  }

  fail(error: MicroError): void {
    if (this.#over) return
    const reason = this.#isServer ? error : canceled('micro.server', 'canceled by the caller')
    this.#over = true
    this.peer.#over = true
    this.peer.messages.fail(reason)
    this.peer.#controller.abort(reason)
    this.messages.fail(error)
    this.#controller.abort(error)
    this.#release()
  }

  #release(): void {
    const waiting = this.#waiting
    this.#waiting = undefined
    waiting?.()
  }
}

/** Open a stream to a server in this process: the same dispatch as remote, no socket. */
export function openLocalStream(server: Server, request: OutboundStream): Promise<StreamChannel> {
  const headers = newHeaders()
  for (const key in request.headers) headers[key] = request.headers[key] as string
  const client = new LocalChannel(newHeaders(), false)
  const serverSide = new LocalChannel(headers, true)
  client.peer = serverSide
  serverSide.peer = client
  server.stream(
    {
      endpoint: request.endpoint,
      headers,
      body: new Uint8Array(0),
      timeout: request.timeout,
      remote: 'local',
      protocol: 'local',
    },
    serverSide,
  )
  const signal = request.signal
  if (signal) {
    const onAbort = () => client.fail(canceled('micro.client', `stream ${request.endpoint} was canceled`))
    if (signal.aborted) onAbort()
    else signal.addEventListener('abort', onAbort, { once: true })
  }
  return Promise.resolve(client)
}
