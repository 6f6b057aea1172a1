import { forbidden, unauthorized } from '../../errors/errors.js'
import type { Context } from '../../server/context.js'
import { AUTH_ERROR_ID, SCOPE_SERVICE } from '../auth.js'
import { callAuthOf } from '../call-auth.js'
import type { CertificateAuthority, IssuedCertificate } from './authority.js'

/**
 * The platform's `Certificates` handler. `Certificates.Issue {publicKey, hosts?}` gives the
 * calling service account a certificate for its own identity, `micro://<its namespace>/<its
 * id>`, and nothing else: the identity comes from the verified caller (its token, or the
 * certificate it renews), never from the request. `Certificates.CA` answers the root.
 */
export class Certificates {
  readonly #ca: CertificateAuthority

  constructor(ca: CertificateAuthority) {
    this.#ca = ca
  }

  /** `{publicKey: SPKI PEM, hosts?: string[]}` → `{certificate, chain, ca, identity, notAfter}`. */
  async Issue(request: unknown, ctx: Context): Promise<IssuedCertificate> {
    const account = callAuthOf(ctx)?.caller?.account
    if (account === undefined)
      throw unauthorized(AUTH_ERROR_ID, 'a certificate is issued to a service account: call with its token')
    if (account.type !== 'service' || !account.scopes.includes(SCOPE_SERVICE))
      throw forbidden(AUTH_ERROR_ID, `account ${account.id} is not a service account holding scope service`)
    const body = (typeof request === 'object' && request !== null ? request : {}) as Record<string, unknown>
    return this.#ca.issue({
      namespace: account.issuer,
      service: account.id,
      publicKey: body.publicKey as string,
      hosts: body.hosts as string[] | undefined,
      ...(account.uid ? { uid: account.uid } : {}),
    })
  }

  /** `{}` → `{certificate}`: the root every peer trusts (public). */
  async CA(): Promise<{ certificate: string; fingerprint: string }> {
    return { certificate: this.#ca.root, fingerprint: this.#ca.fingerprint }
  }
}
