import type { Authority } from '../../auth/authority.js'
import { randomToken } from '../../auth/secrets.js'
import { conflict } from '../../errors/errors.js'
import type { Logger } from '../../logger/logger.js'
import type { ServiceIdentities } from '../runtime/local.js'

/**
 * A service account per runtime service, for a server that enforces auth: the account is
 * the service's name in its namespace, type `service`, scope `service`, and its secret is
 * made here and handed to the processes only (MICRO_AUTH_ID / MICRO_AUTH_SECRET, with
 * MICRO_AUTH=on so the service enforces too). The secret is never stored: the account
 * keeps its scrypt hash, this object keeps it in memory while the service runs (restarts
 * and rolling updates reuse it), and a new server start sets a new one (its services all
 * start again anyway). So no store, log or status holds it.
 */
export class RuntimeIdentities implements ServiceIdentities {
  readonly #authority: Authority
  readonly #logger: Logger | undefined
  readonly #secrets = new Map<string, Record<string, string>>()

  constructor(authority: Authority, logger?: Logger) {
    this.#authority = authority
    this.#logger = logger
  }

  async envFor(namespace: string, name: string): Promise<Record<string, string>> {
    if (this.#authority.mode !== 'enforce') return {}
    const key = `${namespace}/${name}`
    const known = this.#secrets.get(key)
    if (known) return known
    const secret = randomToken(24)
    const existing = await this.#authority.accounts.get(namespace, name)
    if (existing === undefined) {
      await this.#authority.accounts.create({
        namespace,
        id: name,
        type: 'service',
        scopes: ['service'],
        secret,
      })
      this.#logger?.info('runtime: service account created', { namespace, account: name })
    } else if (existing.type === 'service') {
      // A new secret revokes the logins of the processes the previous server start ran.
      await this.#authority.changeSecret(namespace, name, secret)
    } else {
      throw conflict(
        'micro.runtime',
        `namespace ${namespace} has a user account named ${name}; a service the runtime runs needs that name for its own account`,
      )
    }
    const env = { MICRO_AUTH: 'on', MICRO_AUTH_ID: name, MICRO_AUTH_SECRET: secret }
    this.#secrets.set(key, env)
    return env
  }

  async remove(namespace: string, name: string): Promise<void> {
    this.#secrets.delete(`${namespace}/${name}`)
    const existing = await this.#authority.accounts.get(namespace, name)
    if (existing?.type === 'service') await this.#authority.deleteAccount(namespace, name)
  }
}
