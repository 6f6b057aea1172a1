import { unauthorized } from '../../errors/errors.js'
import { type PeerIdentity, peerOf } from '../../transport/tls/peer.js'
import { AUTH_ERROR_ID, type Authenticator, type Caller, SCOPE_SERVICE } from '../auth.js'

export interface CertificateAuthenticatorOptions {
  /** Whether an account instance was deleted (the verifier's key source knows): its certificate no longer counts. */
  isRevoked?: (uid: string) => boolean
}

/**
 * Callers by client certificate: a call that came over TLS with a verified certificate
 * is made by the service account its URI SAN names (`micro://<namespace>/<service>`:
 * id `<service>`, namespace `<namespace>`, type `service`, scope `service`). Consulted
 * when a call carries no token. A certificate that expired while its connection stayed
 * open, or whose account was deleted, is a 401.
 */
export function certificateAuthenticator(options: CertificateAuthenticatorOptions = {}): Authenticator {
  // One Caller per connection's identity, not one per call.
  const callers = new WeakMap<PeerIdentity, Caller>()
  return {
    authenticate(metadata) {
      const peer = peerOf(metadata)
      if (peer === undefined) return undefined
      if (peer.notAfter <= Date.now()) throw unauthorized(AUTH_ERROR_ID, 'the client certificate has expired')
      if (peer.uid !== undefined && options.isRevoked?.(peer.uid))
        throw unauthorized(AUTH_ERROR_ID, 'the account of the client certificate was deleted')
      let caller = callers.get(peer)
      if (caller === undefined) {
        caller = {
          account: {
            id: peer.service,
            type: 'service',
            issuer: peer.namespace,
            scopes: [SCOPE_SERVICE],
            metadata: {},
            uid: peer.uid ?? '',
          },
          via: 'certificate',
          expiresAt: peer.notAfter,
        }
        callers.set(peer, caller)
      }
      return caller
    },
  }
}
