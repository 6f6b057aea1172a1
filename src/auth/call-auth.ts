import { forbidden, unauthorized } from '../errors/errors.js'
import type { Context, Metadata } from '../server/context.js'
import {
  type Account,
  AUTH_ERROR_ID,
  type AuthMode,
  CALLER_TOKEN_HEADER,
  type Caller,
  FORGEABLE_HEADERS,
} from './auth.js'
import { belongsTo, isPrivileged } from './rules.js'

/** What the auth wrapper established about one call, for the handler. */
export interface CallAuth {
  mode: AuthMode
  /** The verified direct caller; undefined for an anonymous call (open mode, or a public rule). */
  caller: Caller | undefined
  /**
   * The original caller a service called on behalf of: from a signed `micro-caller-token`
   * sent by a verified service account, never from plain metadata.
   */
  onBehalfOf: Caller | undefined
}

/**
 * The context a handler behind the auth wrapper gets: the call's context, with the
 * metadata it may trust and what auth established. One small object per call (a WeakMap
 * from context to auth cost several times more per call: the contexts are all new).
 */
export class AuthorizedContext implements Context, CallAuth {
  readonly service: string
  readonly endpoint: string
  readonly metadata: Metadata
  readonly remote: string | undefined
  readonly protocol: string
  readonly mode: AuthMode
  readonly caller: Caller | undefined
  readonly onBehalfOf: Caller | undefined
  readonly #inner: Context

  constructor(
    inner: Context,
    metadata: Metadata,
    mode: AuthMode,
    caller: Caller | undefined,
    onBehalfOf: Caller | undefined,
  ) {
    this.service = inner.service
    this.endpoint = inner.endpoint
    this.metadata = metadata
    this.remote = inner.remote
    this.protocol = inner.protocol
    this.mode = mode
    this.caller = caller
    this.onBehalfOf = onBehalfOf
    this.#inner = inner
  }

  /** The inner call's, read when asked: fixing it costs a clock reading most calls never need. */
  get deadline(): number | undefined {
    return this.#inner.deadline
  }

  /** The call's signal (made lazily by the call itself). */
  get signal(): AbortSignal {
    return this.#inner.signal
  }
}

/**
 * What the auth wrapper established about this call; undefined when no auth wrapper ran
 * (or a wrapper inside it replaced the context without passing this one on).
 */
export function callAuthOf(ctx: Context): CallAuth | undefined {
  return ctx instanceof AuthorizedContext ? ctx : undefined
}

/** The verified account calling this handler, if any. */
export function callerOf(ctx: Context): Account | undefined {
  return ctx instanceof AuthorizedContext ? ctx.caller?.account : undefined
}

/**
 * Micro v3's namespace rule: `namespace` is open to accounts it issued, and to the `micro`
 * namespace's admins and services. With `admin` (store, config, auth management) the
 * account must also be a user holding `admin` or a service holding `service`.
 * No account: 401; an account that may not: 403.
 */
export function authorizeNamespace(
  account: Account | undefined,
  namespace: string,
  options: { admin?: boolean } = {},
): void {
  if (account === undefined)
    throw unauthorized(AUTH_ERROR_ID, `namespace ${namespace}: log in or send a token`)
  if (!belongsTo(account, namespace)) {
    throw forbidden(
      AUTH_ERROR_ID,
      `account ${account.id} of namespace ${account.issuer} has no access to namespace ${namespace}`,
    )
  }
  if (options.admin && !isPrivileged(account)) {
    throw forbidden(
      AUTH_ERROR_ID,
      `namespace ${namespace}: this needs an admin (or a service) account; ${account.id} is not one`,
    )
  }
}

/**
 * {@link authorizeNamespace} for the caller of a handler's call. In open mode an anonymous
 * (local) caller may do anything; a caller that sent a token is held to its account even
 * then. A call no auth wrapper saw is refused: fail closed.
 */
export function authorizeCall(
  ctx: Context,
  namespace: string,
  options: { admin?: boolean } = {},
): Account | undefined {
  const auth = callAuthOf(ctx)
  if (auth === undefined)
    throw unauthorized(AUTH_ERROR_ID, `namespace ${namespace}: this call was not authenticated`)
  if (auth.mode === 'open' && auth.caller === undefined) return undefined
  authorizeNamespace(auth.caller?.account, namespace, options)
  return auth.caller?.account
}

/**
 * The metadata a handler sees: caller-describing keys a client could forge are dropped
 * (`micro-caller` stays only when it names the verified service account), and so is a
 * caller token that was not verified. Returns the same object when nothing is dropped.
 */
export function trustedMetadata(
  metadata: Metadata,
  caller: Caller | undefined,
  callerTokenTrusted: boolean,
): Metadata {
  const serviceName = caller?.account.type === 'service' ? caller.account.id : undefined
  let drop = false
  for (const key of FORGEABLE_HEADERS) {
    const value = metadata[key]
    if (value !== undefined && !(key === 'micro-caller' && value === serviceName)) drop = true
  }
  if (metadata[CALLER_TOKEN_HEADER] !== undefined && !callerTokenTrusted) drop = true
  if (!drop) return metadata
  const kept: Record<string, string> = {}
  for (const key in metadata) {
    if (key === CALLER_TOKEN_HEADER ? !callerTokenTrusted : FORGEABLE_HEADERS.includes(key)) continue
    kept[key] = metadata[key] as string
  }
  if (serviceName !== undefined && metadata['micro-caller'] === serviceName)
    kept['micro-caller'] = serviceName
  return kept
}
