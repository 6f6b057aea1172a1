import type { TokenPair } from '../auth/auth.js'
import { ServiceCredentials } from '../auth/credentials.js'
import type { Client } from '../client/client.js'

/**
 * Who a process is when it calls its platform: the bearer token its `service` engines send
 * with every call (registry, broker, events, store, config), so a platform that enforces
 * auth lets a service with credentials register, read and publish.
 */
export interface PlatformIdentity {
  /** The token now, when one is at hand (streams open synchronously); may start a refresh. */
  current(): string | undefined
  /** A token, fetched or refreshed when needed; undefined: call without one. */
  token(): Promise<string | undefined>
}

/** Platform endpoints that hand out tokens: called without one (they are public). */
export const TOKEN_ENDPOINTS: ReadonlySet<string> = new Set(['Auth.Login', 'Auth.Token', 'Auth.PublicKeys'])

/**
 * The identity a process's variables give: MICRO_AUTH_ID and MICRO_AUTH_SECRET (what the
 * platform's runtime hands the services it runs), logged in to the platform at `address`
 * in MICRO_NAMESPACE (default `micro`) on first use and refreshed before expiry. Undefined
 * when either is unset. The secret stays in memory.
 */
export function identityFromEnv(
  client: Client,
  address: string,
  env: NodeJS.ProcessEnv = process.env,
): PlatformIdentity | undefined {
  const id = env.MICRO_AUTH_ID
  const secret = env.MICRO_AUTH_SECRET
  if (!id || !secret) return undefined
  const call = <T>(endpoint: string, body: unknown) =>
    client.call<T>('platform', endpoint, body, { address, timeout: 5000 })
  const credentials = new ServiceCredentials({
    namespace: env.MICRO_NAMESPACE || 'micro',
    id,
    secret,
    endpoint: {
      login: (request) => call<{ token: TokenPair }>('Auth.Login', request),
      refresh: (request) => call<{ token: TokenPair }>('Auth.Token', request),
    },
  })
  return {
    current: () => credentials.current(),
    token: () => credentials.token(),
  }
}
