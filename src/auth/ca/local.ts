import { generateKeyPairSync } from 'node:crypto'
import type { TlsMaterial } from '../../transport/tls/credentials.js'
import type { CertificateAuthority, IssuedCertificate } from './authority.js'

/** A fresh key pair and a certificate for it: what a service holds. */
export interface KeyAndCertificate {
  /** PKCS#8 PEM: stays in this process. */
  privateKey: string
  /** SPKI PEM: what is sent to the CA. */
  publicKey: string
}

/** A new P-256 key pair, PEM (fast handshakes, small certificates). */
export function newKeyPair(): KeyAndCertificate {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' })
  return {
    privateKey: privateKey.export({ type: 'pkcs8', format: 'pem' }) as string,
    publicKey: publicKey.export({ type: 'spki', format: 'pem' }) as string,
  }
}

/** TLS material from an issued certificate and its private key: the chain after the leaf, the CA to trust. */
export function materialOf(issued: IssuedCertificate, privateKey: string): TlsMaterial {
  return {
    cert: [issued.certificate, ...issued.chain.filter((pem) => pem !== issued.ca)].join(''),
    key: privateKey,
    ca: [issued.ca],
  }
}

/**
 * A certificate from a CA in this process (the platform's own, tests): a key pair made
 * here, issued for `micro://<namespace>/<service>`.
 */
export function issueLocal(
  ca: CertificateAuthority,
  namespace: string,
  service: string,
  options: { hosts?: readonly string[]; ttlMs?: number; uid?: string } = {},
): { material: TlsMaterial; issued: IssuedCertificate } {
  const keys = newKeyPair()
  const issued = ca.issue({ namespace, service, publicKey: keys.publicKey, ...options })
  return { material: materialOf(issued, keys.privateKey), issued }
}
