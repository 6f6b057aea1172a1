import { chmod, mkdir, writeFile } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import type { Logger } from '../../logger/logger.js'
import type { Store } from '../../store/store.js'
import type { Authenticator } from '../auth.js'
import { DEFAULT_AUTH_DIRECTORY } from '../authority.js'
import { KeyEncryption } from '../key-encryption.js'
import type { AuthTables } from '../tables.js'
import { certificateAuthenticator } from '../tls/authenticator.js'
import { DEFAULT_CA_FILE } from '../tls/service-tls.js'
import type { ServiceTlsOptions } from '../tls/settings.js'
import { authorityCertificates } from '../tls/sources.js'
import { CertificateAuthority } from './authority.js'
import { Certificates } from './handler.js'

export interface CertificateAuthorityStartOptions {
  /** The platform's auth store (where the Authority keeps its keys). */
  store: Store
  tables?: AuthTables
  /** The key file sealing private keys when MICRO_AUTH_ENCRYPTION_KEY is unset (the Authority's). */
  keyFile?: string
  env?: NodeJS.ProcessEnv
  /**
   * Where to write the root certificate for the services of this machine (public; they
   * trust it when MICRO_TLS_CA is unset). Default `~/.micro/auth/ca.pem`; `false`: nowhere.
   */
  rootFile?: string | false
  leafTtlMs?: number
  logger?: Logger
}

/** What `micro server` wires: the CA, its handler, the platform's own TLS, the certificate authenticator. */
export interface RunningCertificateAuthority {
  ca: CertificateAuthority
  /** `Certificates.Issue` and `Certificates.CA`: `platform.handle(handler)`. */
  handler: Certificates
  /** Callers by client certificate: give to `platformAuthWrapper({ authenticators })`. */
  authenticator: Authenticator
  /** The platform service's TLS (`createService({ tls })`): its certificate from this CA, renewed. */
  serviceTls(namespace: string, service: string, hosts?: readonly string[]): ServiceTlsOptions
}

/**
 * Start the platform's CA over its auth store: open (or make) the root, write its public
 * certificate for local services, and hand back the handler and TLS the server wires.
 */
export async function startCertificateAuthority(
  options: CertificateAuthorityStartOptions,
): Promise<RunningCertificateAuthority> {
  const env = options.env ?? process.env
  const encryption = await KeyEncryption.resolve(
    env,
    options.keyFile ?? join(DEFAULT_AUTH_DIRECTORY, 'encryption.key'),
  )
  const ca = await CertificateAuthority.open({
    store: options.store,
    encryption,
    env,
    ...(options.tables ? { tables: options.tables } : {}),
    ...(options.leafTtlMs ? { leafTtlMs: options.leafTtlMs } : {}),
    ...(options.logger ? { logger: options.logger } : {}),
  })
  const rootFile = options.rootFile ?? DEFAULT_CA_FILE
  if (rootFile !== false) {
    await mkdir(dirname(rootFile), { recursive: true, mode: 0o700 })
    await writeFile(rootFile, ca.root, { mode: 0o644 })
    await chmod(rootFile, 0o644)
  }
  return {
    ca,
    handler: new Certificates(ca),
    authenticator: certificateAuthenticator(),
    serviceTls: (namespace, service, hosts) => ({
      enabled: true,
      certificates: authorityCertificates(ca, namespace, service, {
        ...(hosts ? { hosts } : {}),
        ...(options.logger ? { logger: options.logger } : {}),
      }),
    }),
  }
}
