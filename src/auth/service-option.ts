import type { Authenticator, Rule } from './auth.js'

/**
 * `createService({ auth })`: check every call against the platform's rules, and call on
 * with the service's own identity. Each field falls back to a variable.
 */
export interface ServiceAuthOptions {
  /** Check every call (default true when this object is given; else MICRO_AUTH=on). */
  enforce?: boolean
  /** The platform (`host:port` of its platform port) that issues tokens, keys and rules. MICRO_PLATFORM. */
  platform?: string
  /** Public keys to verify tokens with (PEM, base64 PEM, JWK or JWKS). MICRO_AUTH_PUBLIC_KEY. */
  publicKeys?: string
  /** A JWKS URL to fetch public keys from. MICRO_AUTH_JWKS_URL. */
  jwksUrl?: string
  /** This service's account, to get its own token from the platform. MICRO_AUTH_ID and MICRO_AUTH_SECRET. */
  credentials?: { id: string; secret: string }
  /**
   * Rules to apply instead of the platform's. Default: the platform's rules when the
   * service has credentials to read them, else "any account of the namespace".
   */
  rules?: Rule[]
  /** More ways to establish a caller without a token (client certificates). */
  authenticators?: Authenticator[]
}

/** The auth settings of a service, options and variables combined. */
export interface ResolvedServiceAuth {
  enforce: boolean
  platform: string | undefined
  publicKeys: string | undefined
  jwksUrl: string | undefined
  credentials: { id: string; secret: string } | undefined
  rules: Rule[] | undefined
  authenticators: Authenticator[]
}

/**
 * What auth a service runs, or undefined for none (the default: no wrapper, no cost).
 * `auth: false` turns it off whatever the variables say; `auth: true` or an object turns
 * enforcement on (unless `enforce: false`), and so does MICRO_AUTH=on. Credentials alone
 * (MICRO_AUTH_ID/MICRO_AUTH_SECRET) make the service call on with its identity without
 * checking its own callers.
 */
export function resolveServiceAuth(
  option: boolean | ServiceAuthOptions | undefined,
  env: NodeJS.ProcessEnv,
): ResolvedServiceAuth | undefined {
  if (option === false) return undefined
  const given = typeof option === 'object' ? option : {}
  const enforce =
    option === true ||
    (typeof option === 'object' ? option.enforce !== false : env.MICRO_AUTH?.toLowerCase() === 'on')
  const credentials =
    given.credentials ??
    (env.MICRO_AUTH_ID && env.MICRO_AUTH_SECRET
      ? { id: env.MICRO_AUTH_ID, secret: env.MICRO_AUTH_SECRET }
      : undefined)
  if (!enforce && credentials === undefined) return undefined
  return {
    enforce,
    platform: given.platform ?? (env.MICRO_PLATFORM || undefined),
    publicKeys: given.publicKeys ?? (env.MICRO_AUTH_PUBLIC_KEY || undefined),
    jwksUrl: given.jwksUrl ?? (env.MICRO_AUTH_JWKS_URL || undefined),
    credentials,
    rules: given.rules,
    authenticators: given.authenticators ?? [],
  }
}
