import type { Client } from '../client/client.js'
import type { ClientWrapper } from '../client/wrappers.js'
import type { Logger } from '../logger/logger.js'
import type { HandlerWrapper } from '../server/wrappers.js'
import type { Rule, TokenPair } from './auth.js'
import { authClientWrapper } from './client-wrapper.js'
import { ServiceCredentials } from './credentials.js'
import { FetchedRules } from './fetched-rules.js'
import { parsePublicKeys } from './key-material.js'
import {
  FetchedKeySource,
  jwksUrlFetcher,
  type KeySet,
  type KeySource,
  staticKeySource,
} from './key-source.js'
import { type RuleSource, staticRules } from './policy.js'
import { PLATFORM_SERVICE } from './rule-store.js'
import { authWrapper } from './server-wrapper.js'
import type { ResolvedServiceAuth } from './service-option.js'
import { TokenVerifier } from './verifier.js'

/** What a service runs for auth: the wrappers, and its identity. */
export interface ServiceAuth {
  /** Enforces on every endpoint (absent when the service only calls on with its identity). */
  server: HandlerWrapper | undefined
  client: ClientWrapper
  credentials: ServiceCredentials | undefined
  verifier: TokenVerifier | undefined
}

export interface ServiceAuthContext {
  name: string
  namespace: string
  client: Client
  logger: Logger
}

/** Without platform rules: any account of the service's namespace may call it. */
const ANY_ACCOUNT: Rule[] = [
  {
    id: 'accounts',
    scope: '*',
    resource: { type: '*', name: '*', endpoint: '*' },
    access: 'granted',
    priority: 0,
  },
]

/**
 * Build a service's auth from its settings: public keys from MICRO_AUTH_PUBLIC_KEY, a JWKS
 * URL or the platform (`Auth.PublicKeys`, cached and refreshed); rules from the options,
 * the platform (`Rules.List` with the service's own token) or "any account of the
 * namespace"; and the service's credentials. Errors say which variable to set.
 */
export async function createServiceAuth(
  settings: ResolvedServiceAuth,
  service: ServiceAuthContext,
): Promise<ServiceAuth> {
  const { client, logger } = service
  const platform = settings.platform
  const call = <T>(endpoint: string, body: unknown) => {
    if (platform === undefined) throw new Error('no platform address')
    return client.call<T>(PLATFORM_SERVICE, endpoint, body, { address: platform, timeout: 5000 })
  }
  let credentials: ServiceCredentials | undefined
  if (settings.credentials) {
    if (platform === undefined) {
      throw new Error(
        `service ${service.name} has auth credentials (MICRO_AUTH_ID) but no platform to use them with: set MICRO_PLATFORM`,
      )
    }
    credentials = new ServiceCredentials({
      namespace: service.namespace,
      ...settings.credentials,
      endpoint: {
        login: (request) => call<{ token: TokenPair }>('Auth.Login', request),
        refresh: (request) => call<{ token: TokenPair }>('Auth.Token', request),
      },
      logger,
    })
  }
  let verifier: TokenVerifier | undefined
  let server: HandlerWrapper | undefined
  if (settings.enforce) {
    verifier = new TokenVerifier({ keys: await keySource(settings, call, logger, service.name) })
    server = authWrapper({
      verifier,
      rules: ruleSource(settings, credentials, call, logger),
      namespace: service.namespace,
      mode: 'enforce',
      authenticators: settings.authenticators,
    })
  }
  return { server, client: authClientWrapper(credentials), credentials, verifier }
}

async function keySource(
  settings: ResolvedServiceAuth,
  call: <T>(endpoint: string, body: unknown) => Promise<T>,
  logger: Logger,
  name: string,
): Promise<KeySource> {
  if (settings.publicKeys) return staticKeySource(await parsePublicKeys(settings.publicKeys))
  if (settings.jwksUrl) return new FetchedKeySource(jwksUrlFetcher(settings.jwksUrl), { logger })
  if (settings.platform) return new FetchedKeySource(() => call<KeySet>('Auth.PublicKeys', {}), { logger })
  throw new Error(
    `auth is on for service ${name} but there are no public keys to verify tokens with: set MICRO_PLATFORM (the platform's address), MICRO_AUTH_PUBLIC_KEY or MICRO_AUTH_JWKS_URL`,
  )
}

function ruleSource(
  settings: ResolvedServiceAuth,
  credentials: ServiceCredentials | undefined,
  call: <T>(endpoint: string, body: unknown) => Promise<T>,
  logger: Logger,
): RuleSource {
  if (settings.rules) return staticRules(settings.rules)
  if (credentials === undefined) return staticRules(ANY_ACCOUNT)
  return new FetchedRules(
    async (namespace) => (await call<{ rules: Rule[] }>('Rules.List', { namespace })).rules,
    { logger },
  )
}
