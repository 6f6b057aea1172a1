import { forbidden, type MicroError, unauthorized } from '../errors/errors.js'
import {
  type Account,
  AUTH_ERROR_ID,
  type AuthMode,
  type Caller,
  type Decision,
  type Resource,
  type Rule,
} from './auth.js'
import { RuleSet } from './rules.js'
import type { VerifiedToken } from './token-cache.js'

/** Where the rules of a namespace come from: the platform's store, a fetch from it, or a fixed list. */
export interface RuleSource {
  /** The rule set from memory, or undefined when it must be loaded. */
  peek(namespace: string): RuleSet | undefined
  /** The rule set of a namespace, loaded when not in memory. */
  ruleSet(namespace: string): Promise<RuleSet>
  /** Bumped whenever any rule set changes. */
  readonly revision: number
}

/** The same rules for every namespace. */
export function staticRules(rules: readonly Rule[]): RuleSource {
  const set = new RuleSet(rules)
  return { peek: () => set, ruleSet: async () => set, revision: 0 }
}

/** The scope an account holds to satisfy every endpoint scope (as Go Micro 6's `*`). */
export const SCOPE_ALL = '*'

/**
 * Endpoint scopes (declared with `endpoint({ scopes })`) on top of the rules: a call to an
 * endpoint that declares scopes needs an account holding one of them (or `*`), whatever
 * the rules say, in open mode too. Endpoints that declare none are left to the rules.
 */
export function checkEndpointScopes(
  account: Account | undefined,
  scopes: readonly string[] | undefined,
  endpoint: string,
): Decision | undefined {
  if (scopes === undefined || scopes.length === 0) return undefined
  const list = scopes.join(', ')
  if (account === undefined)
    return { allowed: false, reason: `${endpoint} needs a token with one of the scopes ${list}` }
  if (account.scopes.includes(SCOPE_ALL) || scopes.some((s) => account.scopes.includes(s))) return undefined
  return {
    allowed: false,
    reason: `${endpoint} needs one of the scopes ${list}; account ${account.id} has none of them`,
  }
}

const OPEN: Decision = Object.freeze({ allowed: true, reason: 'auth is open: local callers need no token' })

/**
 * The whole decision for one call: the rules of `namespace` on `resource` (or open mode),
 * then the endpoint's declared scopes.
 */
export function decide(
  mode: AuthMode,
  rules: RuleSet,
  account: Account | undefined,
  resource: Resource,
  namespace: string,
  scopes: readonly string[] | undefined,
): Decision {
  const byRules = mode === 'open' ? OPEN : rules.decide(account, resource, namespace)
  if (!byRules.allowed) return byRules
  return checkEndpointScopes(account, scopes, resource.endpoint) ?? byRules
}

/**
 * A decision for a verified token, cached in its entry (per namespace, resource and
 * scopes) while the rules do not change: the per-call cost with a known token.
 */
export function decideCached(
  entry: VerifiedToken,
  revision: number,
  key: string,
  compute: (account: Account) => Decision,
): Decision {
  if (entry.rules !== revision || entry.decisions === undefined) {
    entry.decisions = new Map()
    entry.rules = revision
  }
  let found = entry.decisions.get(key)
  if (found === undefined) {
    found = compute(entry.caller.account)
    if (entry.decisions.size < 1024) entry.decisions.set(key, found)
  }
  return found
}

/** The error for a refusal: 401 without a caller (log in), 403 with one. */
export function refusal(decision: Decision, caller: Caller | undefined, what: string): MicroError {
  return caller === undefined
    ? unauthorized(AUTH_ERROR_ID, `${what}: log in or send a token (${decision.reason})`)
    : forbidden(AUTH_ERROR_ID, `${what} is not allowed for ${caller.account.id}: ${decision.reason}`)
}
