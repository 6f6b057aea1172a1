import type { IncomingMessage } from 'node:http'
import { createRequire } from 'node:module'
import type { Duplex } from 'node:stream'
import type { WebSocket, WebSocketServer } from 'ws'
import type { CallOptions } from '../../client/options.js'
import { MicroError, newError, serviceUnavailable } from '../../errors/errors.js'
import { refuseUpgrade } from '../http/router.js'
import type { GatewayMetrics } from './metrics.js'
import type { GatewaySettings } from './options.js'
import type { StreamSlots } from './request-info.js'
import type { Route } from './routes.js'
import type { ByteStream } from './sse.js'
import { bridgeWebSocket } from './websocket.js'

const ID = 'micro.gateway'

/** What the upgrade handling needs from the gateway. */
export interface UpgradeHost {
  readonly settings: GatewaySettings
  readonly metrics: GatewayMetrics
  readonly slots: StreamSlots
  isClosing(): boolean
  /** The Origin and rate-limit checks of every request; the refusal, if any. */
  screen(req: IncomingMessage): MicroError | undefined
  /** Route, auth and registry checks of a streaming endpoint; throws the refusal. */
  resolveStream(
    req: IncomingMessage,
    path: string,
    query: string | undefined,
  ): Promise<{ route: Route; options: CallOptions }>
  open(route: Route, options: CallOptions): ByteStream
}

/**
 * WebSocket upgrades on `/api/` paths of streaming endpoints: every refusal is an HTTP
 * status with the error JSON before the handshake (403 Origin, 429, 404, 400 for a unary
 * endpoint, 503 when closing or out of stream slots); an accepted socket is bridged to one
 * service stream. `ws` is loaded on the first upgrade.
 */
export class WebSocketUpgrades {
  readonly #host: UpgradeHost
  readonly #sockets = new Set<WebSocket>()
  #server: WebSocketServer | undefined

  constructor(host: UpgradeHost) {
    this.#host = host
  }

  /** Take the socket: answer it or bridge it. */
  handle(req: IncomingMessage, socket: Duplex, head: Buffer, path: string, query: string | undefined): void {
    socket.on('error', () => socket.destroy())
    const host = this.#host
    const refusal = host.isClosing()
      ? serviceUnavailable(ID, 'the gateway is shutting down')
      : (host.screen(req) ??
        (host.slots.full ? serviceUnavailable(ID, 'too many streams are open') : undefined))
    if (refusal !== undefined) {
      refuse(socket, refusal)
      return
    }
    void this.#open(req, socket, head, path, query)
  }

  /** Close every bridged socket (1001, going away). */
  close(): void {
    for (const ws of this.#sockets) ws.close(1001, 'the gateway is shutting down')
    this.#server?.close()
  }

  async #open(req: IncomingMessage, socket: Duplex, head: Buffer, path: string, query: string | undefined) {
    const host = this.#host
    try {
      const { route, options } = await host.resolveStream(req, path, query)
      if (socket.destroyed) return
      if (!host.slots.take()) throw serviceUnavailable(ID, 'too many streams are open')
      let handed = false
      // A handshake ws refuses (bad key or version) is answered by ws and never calls back.
      socket.once('close', () => {
        if (!handed) host.slots.release()
      })
      this.#webSocketServer().handleUpgrade(req, socket, head, (ws) => {
        handed = true
        host.metrics.streams('websocket', 1)
        this.#sockets.add(ws)
        bridgeWebSocket(
          ws,
          () => host.open(route, options),
          host.settings.pingInterval,
          () => {
            this.#sockets.delete(ws)
            host.slots.release()
            host.metrics.streams('websocket', -1)
          },
        )
      })
    } catch (error) {
      refuse(socket, MicroError.from(error, ID))
    }
  }

  #webSocketServer(): WebSocketServer {
    if (this.#server === undefined) {
      const { WebSocketServer } = createRequire(import.meta.url)('ws') as typeof import('ws')
      this.#server = new WebSocketServer({
        noServer: true,
        maxPayload: this.#host.settings.wsMaxPayload,
        perMessageDeflate: false,
        // No subprotocol is chosen until auth defines one (the default would echo the first offered).
        handleProtocols: () => false,
      })
    }
    return this.#server
  }
}

function refuse(socket: Duplex, error: MicroError): void {
  const status = error.code >= 400 && error.code <= 599 ? error.code : 500
  refuseUpgrade(socket, status, error.status || 'Error', JSON.stringify(error))
}

/** A 403 for a browser page on an origin the CORS allow-list does not have. */
export function originRefusal(origin: string): MicroError {
  return newError(ID, `requests from origin ${origin} are not allowed`, 403)
}
