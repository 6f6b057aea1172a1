import type { TokenPair } from '../auth/auth.js'
import { ServiceCredentials, type TokenEndpoint } from '../auth/credentials.js'
import { platformClient } from '../cli/auth-tokens.js'
import type { Client } from '../client/client.js'
import type { Logger } from '../logger/logger.js'
import { accountKey, type BindingsFile } from './bindings.js'

/** Who a chat user's commands run as. */
export interface ChatIdentity {
  /** For the audit and replies: `micro/ops-alice`, `micro/bot (the bot's account)`, `anonymous`. */
  account: string
  /** The account's namespace: where its commands work unless they say otherwise. */
  namespace: string
  /** The access token to send (refreshed when due); undefined: calls go without one. */
  token(): Promise<string | undefined>
}

/** Finds the identity of a chat user; undefined when the user may not use the bot. */
export interface IdentityResolver {
  forUser(user: string): Promise<ChatIdentity | undefined>
}

/**
 * What an unbound chat user runs as: nothing (`deny`), the bot's own account (`bot`: give
 * it a minimal scope), or no account at all (`anonymous`: only a platform in open mode,
 * on loopback, lets such calls through; for the console adapter in development).
 */
export type UnboundPolicy = 'deny' | 'bot' | 'anonymous'

export interface AccountCredentials {
  namespace: string
  id: string
  secret: string
}

export interface IdentityOptions {
  bindings: BindingsFile
  /** The platform that issues tokens; without one, only `anonymous` works. */
  platform: string | undefined
  /** The bot's own account (MICRO_BOT_ID / MICRO_BOT_SECRET). */
  bot?: AccountCredentials
  unbound: UnboundPolicy
  /** The namespace of anonymous users. */
  namespace: string
  logger?: Logger
}

/**
 * Chat users' identities from the bot's file: a bound user runs as the bound account,
 * logged in with its secret (tokens kept in memory and refreshed before they expire);
 * others as {@link UnboundPolicy} says.
 */
export class Identities implements IdentityResolver {
  readonly #options: IdentityOptions
  readonly #credentials = new Map<string, { secret: string; credentials: ServiceCredentials }>()
  #client: Client | undefined

  constructor(options: IdentityOptions) {
    if (options.unbound === 'bot' && options.bot === undefined)
      throw new TypeError(
        'unbound users can run as the bot only when the bot has an account (MICRO_BOT_ID, MICRO_BOT_SECRET)',
      )
    this.#options = options
  }

  async forUser(user: string): Promise<ChatIdentity | undefined> {
    const file = await this.#options.bindings.current()
    const binding = Object.hasOwn(file.bindings, user) ? file.bindings[user] : undefined
    if (binding !== undefined) {
      const key = accountKey(binding)
      const secret = Object.hasOwn(file.secrets, key) ? file.secrets[key] : undefined
      if (secret === undefined)
        throw new Error(`the account ${key} bound to ${user} has no secret in the bot's file: bind again`)
      const credentials = this.#credentialsFor({ namespace: binding.namespace, id: binding.account, secret })
      return { account: key, namespace: binding.namespace, token: () => credentials.token() }
    }
    const { unbound, bot, namespace } = this.#options
    if (unbound === 'anonymous') return { account: 'anonymous', namespace, token: async () => undefined }
    if (unbound === 'bot' && bot !== undefined) {
      const credentials = this.#credentialsFor(bot)
      return {
        account: `${bot.namespace}/${bot.id} (the bot's account)`,
        namespace: bot.namespace,
        token: () => credentials.token(),
      }
    }
    return undefined
  }

  /** Forget tokens and close the connection to the platform. */
  async close(): Promise<void> {
    this.#credentials.clear()
    await this.#client?.close()
  }

  #credentialsFor(account: AccountCredentials): ServiceCredentials {
    const key = `${account.namespace}/${account.id}`
    const known = this.#credentials.get(key)
    // A changed secret (bound again) starts over with a new login.
    if (known && known.secret === account.secret) return known.credentials
    const credentials = new ServiceCredentials({
      ...account,
      endpoint: this.#endpoint(),
      logger: this.#options.logger,
    })
    this.#credentials.set(key, { secret: account.secret, credentials })
    return credentials
  }

  #endpoint(): TokenEndpoint {
    const address = this.#options.platform
    const call = (endpoint: string, body: unknown) => {
      if (address === undefined)
        throw new Error(
          'accounts need a platform to log in to: start the bot with --platform or MICRO_PLATFORM',
        )
      this.#client ??= platformClient()
      return this.#client.call<{ token: TokenPair }>('platform', endpoint, body, { address, timeout: 10_000 })
    }
    return {
      login: (request) => call('Auth.Login', request),
      refresh: (request) => call('Auth.Token', request),
    }
  }
}
