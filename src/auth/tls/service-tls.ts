import { X509Certificate } from 'node:crypto'
import { join } from 'node:path'
import type { Client } from '../../client/client.js'
import type { ClientTls } from '../../client/transports.js'
import { lmdbDirectory } from '../../engines/lmdb.js'
import type { Logger } from '../../logger/logger.js'
import { TlsCredentials, type TlsMaterial } from '../../transport/tls/credentials.js'
import { sanIdentities, serviceIdentity } from '../../transport/tls/identity.js'
import type { ServerTls } from '../../transport/tls/server.js'
import type { IssuedCertificate } from '../ca/authority.js'
import { PLATFORM_SERVICE } from '../rule-store.js'
import type { ResolvedServiceTls } from './settings.js'
import {
  type CertificateSource,
  fileCertificates,
  pemCertificates,
  pemOf,
  renewingCertificates,
} from './sources.js'

/** Where a local `micro server` writes its CA certificate for the services of this machine. */
export const DEFAULT_CA_FILE = join(lmdbDirectory(undefined, 'auth'), 'ca.pem')

export interface ServiceTlsContext {
  name: string
  namespace: string
  client: Client
  /** The platform's address (MICRO_PLATFORM), where certificates are issued. */
  platform: string | undefined
  /** Hosts to name in the certificate besides the identity. */
  hosts: string[]
  logger: Logger
}

/**
 * A service's TLS: credentials made at once with the CA to trust (so the service can call
 * the platform over TLS before it has a certificate), then its certificate once auth has
 * logged in, renewed in the background.
 */
export class ServiceTls {
  readonly credentials: TlsCredentials
  readonly client: ClientTls
  readonly #settings: ResolvedServiceTls
  /** Whether this process serves TLS (TLS on, a listener, the micro transport). */
  readonly #serving: boolean
  #source: CertificateSource | undefined

  private constructor(settings: ResolvedServiceTls, ca: string[], serving: boolean) {
    this.#settings = settings
    this.#serving = serving
    this.credentials = new TlsCredentials({ ca })
    // TLS on: every call goes over TLS, a process that serves none included.
    this.client = { credentials: this.credentials, required: settings.serve }
  }

  /**
   * The CA to trust: MICRO_TLS_CA, the custom source's, or the one a local server wrote.
   * `serving`: this process also serves TLS (it then needs a certificate: `start`).
   */
  static async trust(settings: ResolvedServiceTls, serving = settings.serve): Promise<ServiceTls> {
    const trust = settings.certificates?.trust
    const ca =
      settings.ca !== undefined
        ? pemCertificates(await pemOf(settings.ca, 'MICRO_TLS_CA'))
        : trust !== undefined
          ? await trust()
          : pemCertificates(await pemOf(DEFAULT_CA_FILE, 'MICRO_TLS_CA (unset, so the local server CA file)'))
    if (ca.length === 0)
      throw new TypeError(
        "MICRO_TLS_CA holds no certificate: give the CA that issued the services' certificates",
      )
    return new ServiceTls(settings, ca, serving && settings.serve)
  }

  /** What the listener serves with, once the certificate is there. */
  server(): ServerTls | undefined {
    return this.#serving
      ? { credentials: this.credentials, clientAuth: this.#settings.clientAuth }
      : undefined
  }

  /** Get the certificate (files, a custom source or the platform) and keep it renewed. */
  async start(context: ServiceTlsContext): Promise<void> {
    if (!this.#serving) return
    const settings = this.#settings
    const expected = serviceIdentity(context.namespace, context.name)
    this.#source = settings.certificates ?? sourceFor(settings, context)
    const ready = (material: TlsMaterial) => {
      const ca = material.ca.length > 0 ? material.ca : this.credentials.material.ca
      checkIdentity(material, expected)
      this.credentials.update({ ...material, ca })
    }
    ready(
      await this.#source.start((material) => {
        try {
          ready(material)
        } catch (error) {
          context.logger.error('tls: the renewed certificate cannot be used', {
            error: (error as Error).message,
          })
        }
      }),
    )
  }

  stop(): void {
    this.#source?.stop()
  }
}

function sourceFor(settings: ResolvedServiceTls, context: ServiceTlsContext): CertificateSource {
  if (settings.cert !== undefined || settings.key !== undefined) {
    if (settings.cert === undefined || settings.key === undefined || settings.ca === undefined)
      throw new TypeError('bring-your-own TLS needs MICRO_TLS_CERT, MICRO_TLS_KEY and MICRO_TLS_CA together')
    return fileCertificates({ cert: settings.cert, key: settings.key, ca: settings.ca })
  }
  const { platform, client, hosts, logger } = context
  if (platform === undefined) {
    throw new TypeError(
      `TLS is on for service ${context.name} but it has no certificate: set MICRO_TLS_CERT/MICRO_TLS_KEY/MICRO_TLS_CA, or MICRO_PLATFORM with the service's credentials (MICRO_AUTH_ID/MICRO_AUTH_SECRET), or MICRO_TLS=off`,
    )
  }
  return renewingCertificates({
    issue: (publicKey) =>
      client.call<IssuedCertificate>(
        PLATFORM_SERVICE,
        'Certificates.Issue',
        { publicKey, hosts },
        { address: platform, timeout: 10_000 },
      ),
    logger,
  })
}

/** The certificate must name this service: a service never serves under another's identity. */
function checkIdentity(material: TlsMaterial, expected: string): void {
  const leaf = pemCertificates(material.cert ?? '')[0]
  const names = leaf ? sanIdentities(new X509Certificate(leaf).subjectAltName) : []
  if (!names.includes(expected)) {
    throw new TypeError(
      `the TLS certificate is for ${names.join(', ') || 'no service identity'}, not ${expected}: a service's certificate names it as URI SAN micro://<namespace>/<service>`,
    )
  }
}
