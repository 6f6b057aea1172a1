import type { Headers } from '../frame.js'
import { parseServiceIdentity, sanIdentities } from './identity.js'

/** The verified client certificate of a connection: who is calling, by certificate. */
export interface PeerIdentity {
  /** `micro://<namespace>/<service>` */
  readonly identity: string
  readonly namespace: string
  readonly service: string
  /** The account instance the certificate was issued to (its subject's serialNumber), when it says. */
  readonly uid: string | undefined
  /** Epoch ms after which the certificate is no longer valid. */
  readonly notAfter: number
}

/** The subset of node's peer certificate this reads. */
export interface PeerCertificateFields {
  subjectaltname?: string
  subject?: Record<string, string | string[] | undefined>
  valid_to?: string
}

/**
 * The identity of a verified peer certificate: its single `micro://` URI SAN. None, or
 * more than one, is no identity (a certificate that names two services names neither).
 */
export function peerIdentityOf(certificate: PeerCertificateFields | undefined): PeerIdentity | undefined {
  const identities = sanIdentities(certificate?.subjectaltname)
  if (identities.length !== 1) return undefined
  const identity = identities[0] as string
  const name = parseServiceIdentity(identity)
  if (name === undefined) return undefined
  const serial = certificate?.subject?.serialNumber
  const notAfter = certificate?.valid_to ? Date.parse(certificate.valid_to) : Number.NaN
  return {
    identity,
    namespace: name.namespace,
    service: name.service,
    uid: typeof serial === 'string' ? serial : undefined,
    notAfter: Number.isFinite(notAfter) ? notAfter : 0,
  }
}

/**
 * Where a call's peer identity rides: a symbol key on its metadata object, not enumerable.
 * No decoder makes symbol keys, so no caller can send one; `for...in`, `Object.keys` and
 * spreading skip it, so it never crosses a wire nor passes into the next call's metadata.
 */
const PEER = Symbol('micro.peer')

/** Mark a call's metadata (fresh per call) with the verified peer of its connection. */
export function attachPeer(headers: Headers, peer: PeerIdentity): void {
  Object.defineProperty(headers, PEER, { value: peer, enumerable: false })
}

/** The verified client certificate a call came with over TLS, if any. */
export function peerOf(metadata: object): PeerIdentity | undefined {
  return (metadata as { [PEER]?: PeerIdentity })[PEER]
}

/** The verified peers of TLS sockets handed to the HTTP side of a port. */
const socketPeers = new WeakMap<object, PeerIdentity>()

/** Remember the verified peer of a decrypted socket (its HTTP requests carry it). */
export function rememberPeer(socket: object, peer: PeerIdentity): void {
  socketPeers.set(socket, peer)
}

/** The verified peer of a socket, if it is a TLS socket that showed a good certificate. */
export function peerOfSocket(socket: object): PeerIdentity | undefined {
  return socketPeers.get(socket)
}
