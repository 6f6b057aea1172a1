import { createSecureContext, type SecureContext } from 'node:tls'

/** What a process proves itself with and whom it trusts, PEM. */
export interface TlsMaterial {
  /** The certificate chain, leaf first. Absent: a client that checks servers and presents nothing. */
  cert?: string
  /** The certificate's private key. Never logged, never put in an error. */
  key?: string
  /** The roots a peer's certificate must chain to. */
  ca: string[]
}

/** Whom a TLS port asks for a client certificate: everyone must show one, or those who have one. */
export type ClientAuth = 'require' | 'request'

/** The TLS versions accepted: 1.2 and later. */
const MIN_VERSION = 'TLSv1.2'

/**
 * A process's TLS credentials, current and replaceable: a listener hands new connections
 * the certificate current at their handshake, a client dials with it, and `update` (a
 * renewal) changes what the next connection uses without touching open ones.
 */
export class TlsCredentials {
  #material: TlsMaterial
  #client: SecureContext
  #server: SecureContext | undefined
  readonly #listeners = new Set<(credentials: TlsCredentials) => void>()

  constructor(material: TlsMaterial) {
    this.#material = material
    ;[this.#client, this.#server] = contexts(material)
  }

  /** Whether there is a certificate to present (a server needs one). */
  get hasCertificate(): boolean {
    return this.#server !== undefined
  }

  /** The current material (PEM): for a listener's options. */
  get material(): Readonly<TlsMaterial> {
    return this.#material
  }

  /** The context a client dials with. */
  get clientContext(): SecureContext {
    return this.#client
  }

  /** The context a server answers with; a TypeError when there is no certificate. */
  get serverContext(): SecureContext {
    if (this.#server === undefined) throw new TypeError('a TLS server needs a certificate and its key')
    return this.#server
  }

  /**
   * Use `material` for connections from now on (a renewed certificate). A key that does
   * not match its certificate is refused here, before anything uses it.
   */
  update(material: TlsMaterial): void {
    const made = contexts(material)
    this.#material = material
    ;[this.#client, this.#server] = made
    for (const listener of this.#listeners) listener(this)
  }

  /** Call `listener` after every update; returns the function that stops it. */
  onUpdate(listener: (credentials: TlsCredentials) => void): () => void {
    this.#listeners.add(listener)
    return () => this.#listeners.delete(listener)
  }
}

/** The options a secure context is made with (also what `tls.Server.setSecureContext` takes). */
export function contextOptions(material: TlsMaterial) {
  return {
    minVersion: MIN_VERSION,
    ca: material.ca,
    ...(material.cert !== undefined && material.key !== undefined
      ? { cert: material.cert, key: material.key }
      : {}),
  } as const
}

function contexts(material: TlsMaterial): [SecureContext, SecureContext | undefined] {
  if (!Array.isArray(material.ca) || material.ca.length === 0)
    throw new TypeError('TLS needs the CA certificate(s) peers are checked against')
  if ((material.cert === undefined) !== (material.key === undefined))
    throw new TypeError('a TLS certificate needs its private key, and a key its certificate')
  let context: SecureContext
  try {
    context = createSecureContext(contextOptions(material))
  } catch (error) {
    // OpenSSL's messages name what is wrong, never the key's bytes.
    throw new TypeError(`unusable TLS credentials: ${(error as Error).message}`)
  }
  return [context, material.cert === undefined ? undefined : context]
}
