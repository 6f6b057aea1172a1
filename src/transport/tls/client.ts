import { connect, type PeerCertificate, type TLSSocket } from 'node:tls'
import type { TlsCredentials } from './credentials.js'
import { sanIdentities } from './identity.js'

/** A TLS dial: the credentials to present and trust, and the identity the server must prove. */
export interface SecureDial {
  credentials: TlsCredentials
  /** `micro://<namespace>/<service>`: the service the caller means to reach. */
  expected: string
}

/**
 * The check of the server's certificate once its chain verified against the CA: it must
 * name the service the caller meant (`expected`) as its URI SAN. Host names and addresses
 * do not count: a node found in a registry anyone can write to (mDNS) proves who it is by
 * its certificate, not by where it is.
 */
export function checkServerIdentity(expected: string, certificate: PeerCertificate): Error | undefined {
  const names = sanIdentities(certificate.subjectaltname)
  if (names.includes(expected)) return undefined
  const shown = names.length === 0 ? 'no service identity' : names.join(', ')
  return new Error(`the server is not ${expected}: its certificate names ${shown}`)
}

/**
 * Dial `host:port` over TLS, presenting the current certificate (if any) and checking the
 * server's identity; `alpn` names the protocols offered (`h2` for gRPC).
 */
export function dialTls(host: string, port: number, dial: SecureDial, alpn?: string[]): TLSSocket {
  const socket = connect({
    host,
    port,
    ...(alpn ? { ALPNProtocols: alpn } : {}),
    secureContext: dial.credentials.clientContext,
    rejectUnauthorized: true,
    checkServerIdentity: (_host, certificate) => checkServerIdentity(dial.expected, certificate),
  })
  socket.setNoDelay(true)
  socket.setKeepAlive(true)
  return socket
}
