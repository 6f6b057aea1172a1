import type { Socket } from 'node:net'
import { createServer, type Server, type TLSSocket } from 'node:tls'
import { type ClientAuth, contextOptions, type TlsCredentials } from './credentials.js'
import { type PeerIdentity, peerIdentityOf } from './peer.js'

/** The first byte of every TLS connection: a handshake record (the ClientHello). */
export const TLS_HANDSHAKE = 0x16

/** What a listener needs to serve TLS: its credentials and whom it asks for a certificate. */
export interface ServerTls {
  credentials: TlsCredentials
  /**
   * `require`: a connection without a certificate from the CA fails its handshake.
   * `request`: one is asked for and, when shown, must be good; without one the
   * connection carries anonymous calls (auth then wants a token).
   */
  clientAuth: ClientAuth
}

/** Called once a TLS handshake is done: the decrypted socket and, when verified, the client's identity. */
export type SecureHandler = (socket: TLSSocket, peer: PeerIdentity | undefined) => void

/**
 * The TLS side of a service port. The listener reads a connection's first byte; a TLS
 * ClientHello is handed here, the handshake runs on an unlistening `tls.Server` (whose
 * client certificate checks and renegotiation limits are node's own), and the decrypted
 * socket goes back to the listener, which tells the micro protocol from HTTP inside it as
 * it does outside. A renewed certificate (`credentials.update`) is used from the next
 * handshake on; open connections keep theirs.
 */
export class TlsAcceptor {
  readonly #server: Server
  /** Connections in their handshake, by remote `address:port` (unique on one listening socket). */
  readonly #handshaking = new Map<string, SecureHandler>()
  readonly #stopUpdates: () => void

  constructor(options: ServerTls) {
    const { credentials, clientAuth } = options
    // A server with no certificate cannot answer a handshake: fail at listen, not per connection.
    void credentials.serverContext
    this.#server = createServer({
      ...contextOptions(credentials.material),
      requestCert: true,
      rejectUnauthorized: clientAuth === 'require',
      // The listener's sweeper bounds the handshake with the first byte (its head timeout).
      handshakeTimeout: 0,
    })
    this.#server.on('secureConnection', (socket: TLSSocket) => this.#secured(socket))
    // A failed handshake (garbage, a bad or missing certificate): node closes the socket.
    this.#server.on('tlsClientError', () => {})
    this.#stopUpdates = credentials.onUpdate((current) =>
      this.#server.setSecureContext(contextOptions(current.material)),
    )
  }

  /** Run the handshake on `socket`, whose first bytes (`first`, already read) are a ClientHello. */
  accept(socket: Socket, first: Buffer, onSecure: SecureHandler): void {
    const key = `${socket.remoteAddress}:${socket.remotePort}`
    this.#handshaking.set(key, onSecure)
    socket.once('close', () => {
      if (this.#handshaking.get(key) === onSecure) this.#handshaking.delete(key)
    })
    socket.pause()
    socket.unshift(first)
    this.#server.emit('connection', socket)
  }

  /** Stop following credential updates. */
  close(): void {
    this.#stopUpdates()
  }

  #secured(socket: TLSSocket): void {
    const key = `${socket.remoteAddress}:${socket.remotePort}`
    const onSecure = this.#handshaking.get(key)
    this.#handshaking.delete(key)
    if (onSecure === undefined) {
      socket.destroy()
      return
    }
    const certificate = socket.getPeerCertificate()
    const presented =
      certificate !== null && typeof certificate === 'object' && Object.keys(certificate).length > 0
    // A certificate that does not verify is refused, never taken as "no certificate".
    if (presented && !socket.authorized) {
      socket.destroy()
      return
    }
    onSecure(socket, presented ? peerIdentityOf(certificate) : undefined)
  }
}
