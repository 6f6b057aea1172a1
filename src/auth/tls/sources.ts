import { X509Certificate } from 'node:crypto'
import { readFile } from 'node:fs/promises'
import { MicroError } from '../../errors/errors.js'
import type { Logger } from '../../logger/logger.js'
import type { TlsMaterial } from '../../transport/tls/credentials.js'
import type { IssuedCertificate } from '../ca/authority.js'
import { materialOf, newKeyPair } from '../ca/local.js'

/** Where a service's certificate comes from, and how it is renewed. */
export interface CertificateSource {
  /** The CA to trust before the first certificate is there (a source that knows it). */
  trust?(): Promise<string[]>
  /** The first certificate; `renewed` gets each later one (before the current one expires). */
  start(renewed: (material: TlsMaterial) => void): Promise<TlsMaterial>
  /** Stop renewing. */
  stop(): void
}

/** PEM text as given, or the contents of the file it names. */
export async function pemOf(value: string, what: string): Promise<string> {
  if (value.includes('-----BEGIN')) return value
  try {
    return await readFile(value, 'utf8')
  } catch (error) {
    throw new TypeError(`${what}: cannot read ${value} (${(error as NodeJS.ErrnoException).code ?? 'error'})`)
  }
}

/** Every certificate in a PEM bundle. */
export function pemCertificates(pem: string): string[] {
  return pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----\n?/g) ?? []
}

/**
 * Bring your own: a certificate (chain, leaf first), its key and the CA, from PEM files
 * (MICRO_TLS_CERT, MICRO_TLS_KEY, MICRO_TLS_CA). Read once at start: renew them by
 * restarting the service (or give a custom source).
 */
export function fileCertificates(files: { cert: string; key: string; ca: string }): CertificateSource {
  return {
    async start() {
      const [cert, key, ca] = await Promise.all([
        pemOf(files.cert, 'MICRO_TLS_CERT'),
        pemOf(files.key, 'MICRO_TLS_KEY'),
        pemOf(files.ca, 'MICRO_TLS_CA'),
      ])
      if (!key.includes('PRIVATE KEY')) throw new TypeError('MICRO_TLS_KEY is not a PEM private key')
      return { cert, key, ca: pemCertificates(ca) }
    },
    stop() {},
  }
}

export interface RenewingOptions {
  /** Asks the CA for a certificate for this public key (SPKI PEM). */
  issue: (publicKey: string) => Promise<IssuedCertificate>
  /** The CA to trust, when known before the first certificate. */
  trust?: () => Promise<string[]>
  /** Renew at this fraction of the certificate's life. Default 2/3. */
  renewAt?: number
  /** After a failed renewal, try again this much later, ms. Default 30 s. */
  retryMs?: number
  logger?: Logger
}

/**
 * Certificates from a CA, renewed before they expire: a new key pair each time (the
 * private key never leaves the process), renewal at two thirds of the life, retried while
 * the CA cannot be reached. Renewal changes what new connections use; open ones go on.
 */
export function renewingCertificates(options: RenewingOptions): CertificateSource {
  const renewAt = options.renewAt ?? 2 / 3
  const retryMs = options.retryMs ?? 30_000
  let timer: NodeJS.Timeout | undefined
  let stopped = false

  async function obtain(): Promise<{ material: TlsMaterial; notAfter: number; notBefore: number }> {
    const keys = newKeyPair()
    const issued = await options.issue(keys.publicKey)
    const leaf = new X509Certificate(issued.certificate)
    return {
      material: materialOf(issued, keys.privateKey),
      notAfter: issued.notAfter,
      notBefore: Date.parse(leaf.validFrom),
    }
  }

  function schedule(at: number, renewed: (material: TlsMaterial) => void, notAfter: number): void {
    if (stopped) return
    timer = setTimeout(
      () => {
        obtain().then(
          (next) => {
            renewed(next.material)
            options.logger?.info('tls: certificate renewed', {
              validTo: new Date(next.notAfter).toISOString(),
            })
            schedule(next.notBefore + (next.notAfter - next.notBefore) * renewAt, renewed, next.notAfter)
          },
          (error: unknown) => {
            options.logger?.warn('tls: renewing the certificate failed; trying again', {
              error: MicroError.from(error).detail,
              expires: new Date(notAfter).toISOString(),
            })
            schedule(Date.now() + retryMs, renewed, notAfter)
          },
        )
      },
      Math.max(0, at - Date.now()),
    )
    timer.unref()
  }

  return {
    ...(options.trust ? { trust: options.trust } : {}),
    async start(renewed) {
      const first = await obtain()
      schedule(first.notBefore + (first.notAfter - first.notBefore) * renewAt, renewed, first.notAfter)
      return first.material
    },
    stop() {
      stopped = true
      if (timer) clearTimeout(timer)
    },
  }
}

/**
 * Certificates from a CA in this process (the platform's own TLS): `micro://<namespace>/<service>`,
 * renewed like a platform-issued one.
 */
export function authorityCertificates(
  ca: {
    root: string
    issue(request: {
      namespace: string
      service: string
      publicKey: string
      hosts?: readonly string[]
    }): IssuedCertificate
  },
  namespace: string,
  service: string,
  options: { hosts?: readonly string[]; logger?: Logger } = {},
): CertificateSource {
  return renewingCertificates({
    issue: async (publicKey) =>
      ca.issue({ namespace, service, publicKey, ...(options.hosts ? { hosts: options.hosts } : {}) }),
    trust: async () => [ca.root],
    ...(options.logger ? { logger: options.logger } : {}),
  })
}
