import type { ClientAuth } from '../../transport/tls/credentials.js'
import { isLoopbackAddress } from '../mode.js'
import type { CertificateSource } from './sources.js'

/**
 * `createService({ tls })`: TLS on the service port, mutual between services. Each field
 * falls back to a variable.
 */
export interface ServiceTlsOptions {
  /** TLS on the service port. MICRO_TLS=on|off; default on when the service binds a non-loopback address. */
  enabled?: boolean
  /** Where the certificate comes from (the platform's CA in-process, a custom source). Default: files, else the platform. */
  certificates?: CertificateSource
  /** The CA to trust, PEM text or a file. MICRO_TLS_CA. */
  ca?: string
  /** This service's certificate (chain) and key, PEM files: bring your own. MICRO_TLS_CERT and MICRO_TLS_KEY. */
  cert?: string
  key?: string
  /**
   * `require`: only callers with a certificate from the CA connect. `request`: callers
   * without one connect too and need a token. MICRO_TLS_CLIENT_AUTH; default `request`
   * when auth is enforced on the service, else `require`.
   */
  clientAuth?: ClientAuth
}

/** A service's TLS settings, options and variables combined. */
export interface ResolvedServiceTls {
  /** The service port speaks TLS only, with a certificate. False: a client that trusts `ca` only. */
  serve: boolean
  ca: string | undefined
  cert: string | undefined
  key: string | undefined
  certificates: CertificateSource | undefined
  clientAuth: ClientAuth
}

/**
 * What TLS a service runs, or undefined for none (the default on loopback: no cost).
 * `tls: false` or MICRO_TLS=off turn it off; `tls: true`, an object or MICRO_TLS=on turn it
 * on, and so does a bind address other than loopback. With TLS off, a CA (MICRO_TLS_CA)
 * still lets the service call TLS services as a client.
 */
export function resolveServiceTls(
  option: boolean | ServiceTlsOptions | undefined,
  env: NodeJS.ProcessEnv,
  address: string,
  authEnforced: boolean,
): ResolvedServiceTls | undefined {
  if (option === false) return undefined
  const given = typeof option === 'object' ? option : {}
  const variable = env.MICRO_TLS?.toLowerCase()
  if (variable !== undefined && variable !== '' && variable !== 'on' && variable !== 'off')
    throw new TypeError(`MICRO_TLS=${env.MICRO_TLS}: use on or off`)
  const serve =
    given.enabled ??
    (option === true || typeof option === 'object'
      ? true
      : variable === 'on'
        ? true
        : variable === 'off'
          ? false
          : !isLoopbackAddress(address))
  const ca = given.ca ?? (env.MICRO_TLS_CA || undefined)
  if (!serve && ca === undefined) return undefined
  const clientAuth =
    given.clientAuth ?? clientAuthOf(env.MICRO_TLS_CLIENT_AUTH) ?? (authEnforced ? 'request' : 'require')
  return {
    serve,
    ca,
    cert: given.cert ?? (env.MICRO_TLS_CERT || undefined),
    key: given.key ?? (env.MICRO_TLS_KEY || undefined),
    certificates: given.certificates,
    clientAuth,
  }
}

function clientAuthOf(value: string | undefined): ClientAuth | undefined {
  if (value === undefined || value === '') return undefined
  if (value === 'require' || value === 'request') return value
  throw new TypeError(`MICRO_TLS_CLIENT_AUTH=${value}: use require or request`)
}
