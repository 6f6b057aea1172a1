/**
 * Auth: who is calling, and may they. The types here are the contract between the parts:
 * the platform's `Authority` (accounts, keys, tokens, rules), the wrappers that enforce on
 * every service, the gateway's authorizer and the CLI.
 *
 * @module
 */
import type { Context, Metadata } from '../server/context.js'

/** The error id of everything auth raises. */
export const AUTH_ERROR_ID = 'micro.auth'

/** A user (a person, a CI job) or a service (a process calling on with its own identity). */
export type AccountType = 'user' | 'service'

/**
 * An account, as tokens carry it and rules see it. Secrets are never part of it. An
 * account lives in one namespace, its issuer.
 */
export interface Account {
  /** Unique in its namespace. By convention a service account's id is the service name. */
  id: string
  type: AccountType
  /** The namespace that issued it (Micro v3: the issuer is the namespace). */
  issuer: string
  /** What rules and endpoint scopes test: `admin`, `service`, `orders:write`... */
  scopes: string[]
  metadata: Record<string, string>
  /**
   * Random per account instance: tokens carry it, so deleting an account and creating one
   * with the same id never revives the old one's tokens.
   */
  uid: string
}

/**
 * How a caller was established. A bearer token today; the certificate-backed identity
 * (URI SAN `micro://<namespace>/<service>`) plugs in as a second {@link Authenticator}.
 */
export type CallerSource = 'token' | 'certificate'

/** The verified caller of one call. */
export interface Caller {
  account: Account
  via: CallerSource
  /** Epoch ms after which this identity is no longer valid (the token's `exp`). */
  expiresAt: number
  /**
   * The raw token this caller presented, to forward as `micro-caller-token` when calling on
   * behalf of it. Never logged, never put in an error.
   */
  token?: string
}

/**
 * A way to establish the caller of a call from what arrived with it. Returns undefined when
 * this way has nothing to say (no token was sent), a Caller when the evidence is good, and
 * throws a 401 MicroError when it is bad (a tampered or expired token).
 */
export interface Authenticator {
  /** The verified caller of a call from its metadata, or undefined when it carries no credentials; throws a 401 MicroError on bad ones. */
  authenticate(metadata: Metadata, ctx: Context): Caller | undefined | Promise<Caller | undefined>
}

/** What a rule protects, Micro v3's `type:name:endpoint` (e.g. `service:greeter:Greeter.Hello`). */
export interface Resource {
  type: string
  name: string
  endpoint: string
}

/** What a rule does to the calls it matches. */
export type Access = 'granted' | 'denied'

/**
 * Micro v3's rule. `scope`: `''` anyone (even without an account), `*` any account of the
 * namespace, `+` any account of any namespace, or a scope the account must hold.
 */
export interface Rule {
  id: string
  scope: string
  resource: Resource
  access: Access
  /** Higher first; equal priorities keep their order. */
  priority: number
}

/** Scope values with a meaning of their own. */
export const SCOPE_PUBLIC = ''
/** The scope `*`: any account of the namespace. */
export const SCOPE_ACCOUNT = '*'
/** The scope `+`: any account of any namespace. */
export const SCOPE_ANY_NAMESPACE = '+'
/** Users holding it administer their namespace (the `micro` namespace's admins, every namespace). */
export const SCOPE_ADMIN = 'admin'
/** Service accounts hold it. */
export const SCOPE_SERVICE = 'service'

/** The outcome of a policy check: allowed or not, and the rule that decided (none: no rule matched). */
export interface Decision {
  allowed: boolean
  rule?: Rule
  /** Why, in words (no secret in it): shown by `micro auth check`. */
  reason: string
}

/** A pair of tokens as login and refresh return them. */
export interface TokenPair {
  /** A JWT, verified locally by every service. */
  accessToken: string
  /** Opaque; exchanged once for a new pair (rotated), revocable. */
  refreshToken: string
  /** Epoch ms at which the access token expires. */
  expiry: number
  /** Epoch ms at which the refresh token expires. */
  refreshExpiry: number
}

/** Whether auth is enforced: `open` lets local callers in without a token. */
export type AuthMode = 'open' | 'enforce'

/** The metadata key carrying the original caller's token on calls made on its behalf. */
export const CALLER_TOKEN_HEADER = 'micro-caller-token'

/**
 * Caller-describing metadata a client could forge: never trusted by a server with auth on.
 * `micro-caller` survives only when it names the verified service account itself.
 */
export const FORGEABLE_HEADERS: readonly string[] = ['micro-caller', 'micro-account', 'micro-caller-account']
