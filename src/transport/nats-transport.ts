import type { NatsConnection } from '@nats-io/transport-node'
import { acquireNats, loadNats, type NatsLink, type NatsModule } from '../engines/nats.js'
import { DEFAULT_MAX_FRAME_SIZE } from './frame.js'
import { DEFAULT_LIMITS } from './limits.js'
import type { NatsClient } from './nats/client.js'
import type { NatsListener } from './nats/listener.js'
import { isListenSubject } from './nats/subject.js'
import type {
  Dispatcher,
  Listener,
  ListenOptions,
  OutboundCall,
  OutboundStream,
  Reply,
  StreamChannel,
  Transport,
} from './transport.js'
import { unsentError } from './transport-errors.js'

const USED_BY = 'the nats transport'

/** Options of {@link NatsTransport}. */
export interface NatsTransportOptions {
  /** NATS servers, comma-separated URLs (MICRO_TRANSPORT_ADDRESS). Default `nats://127.0.0.1:4222`. */
  address?: string
  /** Use this connection instead of the process's shared one; close() leaves it open. */
  connection?: NatsConnection
  /** Prefix of the subject picked when `listen` is given `host:port` instead of a subject. Default `micro.node`. */
  prefix?: string
  /** Queue group of listeners, so instances on one subject share its calls. Default `micro`. */
  queue?: string
  /** Stream messages either side may send ahead of the reader. Default 64. */
  streamWindow?: number
  /** Probe a call or stream the peer has been silent about for this long, ms. Default 5000. */
  keepAlive?: number
  /** Fail it when the probe goes unanswered this long, ms. Default 5000. */
  keepAliveTimeout?: number
  /** How long a server has to accept a stream, ms. Default 5000. */
  openTimeout?: number
  /** Largest stream message accepted from a server, bytes. Default 4 MiB (NATS caps it lower). */
  maxFrameSize?: number
}

/**
 * Calls and streams over core NATS: a node listens on a subject (its address in the
 * registry) in a queue group. Between micro-ts processes, the micro frames of one event-loop
 * turn travel together, several per NATS message, on a session per node (requests to
 * `<subject>._mux`, answers to the client's session subject), streams with windowed flow
 * control; any NATS client can also call with a plain request. The transport and the
 * registry share one connection per server list. See `src/transport/nats/README.md`.
 */
export class NatsTransport implements Transport {
  readonly name = 'nats'
  readonly #options: NatsTransportOptions
  #link: NatsLink | undefined
  #client: NatsClient | undefined
  #clientReady: Promise<NatsClient> | undefined
  readonly #listeners = new Set<NatsListener>()

  constructor(options: NatsTransportOptions = {}) {
    this.#options = options
  }

  /**
   * Serve `dispatcher` on `address` when it is a NATS subject; given `host:port` (or '') a
   * subject `<prefix>.<unique id>` is chosen. The listener's `address` is the subject.
   */
  async listen(address: string, dispatcher: Dispatcher, options: ListenOptions = {}): Promise<Listener> {
    const link = this.#acquire()
    const [nc, nats] = await this.#connected(link)
    const subject = isListenSubject(address)
      ? address
      : `${this.#options.prefix ?? 'micro.node'}.${nats.nuid.next()}`
    // The listener and client modules are most of this transport's code: loaded on first use,
    // so a process that only names this transport (or links it in) does not pay for them.
    const { NatsListener } = await import('./nats/listener.js')
    const listener = await NatsListener.listen(subject, nc, nats, link, dispatcher, {
      queue: this.#options.queue ?? 'micro',
      maxFrameSize: options.maxFrameSize ?? this.#options.maxFrameSize ?? DEFAULT_MAX_FRAME_SIZE,
      keepAlive: this.#options.keepAlive ?? 5000,
      keepAliveTimeout: this.#options.keepAliveTimeout ?? 5000,
      streamWindow: this.#options.streamWindow ?? 64,
      maxSessionCalls: (options.limits ?? DEFAULT_LIMITS).maxConnectionCalls,
    })
    this.#listeners.add(listener)
    return listener
  }

  call(address: string, call: OutboundCall): Promise<Reply> {
    const client = this.#client
    if (client !== undefined) return client.call(address, call)
    return this.#startClient().then((c) => c.call(address, call))
  }

  async stream(address: string, call: OutboundStream): Promise<StreamChannel> {
    const client = this.#client ?? (await this.#startClient())
    return client.stream(address, call)
  }

  /** Fail calls in flight, close listeners still open and release the connection. */
  async close(): Promise<void> {
    this.#client?.close()
    this.#client = undefined
    this.#clientReady = undefined
    for (const listener of this.#listeners) await listener.close()
    this.#listeners.clear()
    const link = this.#link
    this.#link = undefined
    await link?.release()
  }

  #acquire(): NatsLink {
    this.#link ??= acquireNats({
      address: this.#options.address,
      connection: this.#options.connection,
      usedBy: USED_BY,
    })
    return this.#link
  }

  /** The connection and the client module; a failed connect drops the link so the next use retries. */
  async #connected(link: NatsLink): Promise<[NatsConnection, NatsModule]> {
    try {
      return await Promise.all([link.ready, loadNats(USED_BY)])
    } catch (error) {
      if (this.#link === link) this.#link = undefined
      await link.release()
      throw error
    }
  }

  #startClient(): Promise<NatsClient> {
    this.#clientReady ??= (async () => {
      const link = this.#acquire()
      const [[nc, nats], { NatsClient }] = await Promise.all([
        this.#connected(link),
        import('./nats/client.js'),
      ])
      const client = new NatsClient(nc, nats, link, {
        keepAlive: this.#options.keepAlive ?? 5000,
        keepAliveTimeout: this.#options.keepAliveTimeout ?? 5000,
        openTimeout: this.#options.openTimeout ?? 5000,
        streamWindow: this.#options.streamWindow ?? 64,
        maxMessageSize: this.#options.maxFrameSize ?? DEFAULT_MAX_FRAME_SIZE,
      })
      // No flush needed: NATS applies our SUB before any PUB sent after it on this connection.
      if (this.#link !== link) {
        // close() ran while we were connecting.
        client.close()
        throw unsentError('the NATS transport was closed')
      }
      this.#client = client
      return client
    })()
    this.#clientReady.catch(() => {
      // A failed connect is retried by the next call.
      this.#clientReady = undefined
    })
    return this.#clientReady
  }
}
