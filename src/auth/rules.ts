import { badRequest } from '../errors/errors.js'
import {
  type Account,
  AUTH_ERROR_ID,
  type Decision,
  type Resource,
  type Rule,
  SCOPE_ACCOUNT,
  SCOPE_ADMIN,
  SCOPE_ANY_NAMESPACE,
  SCOPE_PUBLIC,
  SCOPE_SERVICE,
} from './auth.js'

/** The namespace whose admins and services may act in every namespace (Micro v3's rule). */
export const PLATFORM_NAMESPACE = 'micro'

/**
 * Whether an account issued elsewhere counts as one of `namespace`'s: its own accounts, and
 * the `micro` namespace's admins (users holding `admin`) and services (holding `service`).
 */
export function belongsTo(account: Account, namespace: string): boolean {
  if (account.issuer === namespace) return true
  return account.issuer === PLATFORM_NAMESPACE && isPrivileged(account)
}

/** A user holding `admin` or a service holding `service`: what admin operations need. */
export function isPrivileged(account: Account): boolean {
  return account.type === 'user'
    ? account.scopes.includes(SCOPE_ADMIN)
    : account.scopes.includes(SCOPE_SERVICE)
}

/**
 * Rules of one namespace, sorted once (stable, highest priority first), with the rules
 * that apply to a resource cached per resource. Build a new set when the rules change.
 */
export class RuleSet {
  readonly rules: readonly Rule[]
  readonly #byResource = new Map<string, Rule[]>()

  constructor(rules: readonly Rule[]) {
    // Sorting all then filtering keeps the same order as Micro v3's filter-then-stable-sort.
    this.rules = [...rules].sort((a, b) => b.priority - a.priority)
  }

  /** The rules that apply to `resource`, highest priority first. */
  applicable(resource: Resource): Rule[] {
    const key = `${resource.type}\0${resource.name}\0${resource.endpoint}`.toLowerCase()
    let found = this.#byResource.get(key)
    if (found === undefined) {
      found = this.rules.filter((rule) => applies(rule.resource, resource))
      if (this.#byResource.size >= 10_000) this.#byResource.clear()
      this.#byResource.set(key, found)
    }
    return found
  }

  /**
   * May `account` (undefined: no account) use `resource` in `namespace`? Micro v3's
   * algorithm: the first applicable rule that concerns the account decides; none is a deny.
   */
  decide(account: Account | undefined, resource: Resource, namespace: string): Decision {
    for (const rule of this.applicable(resource)) {
      const granted = rule.access === 'granted'
      if (rule.scope === SCOPE_PUBLIC) return decision(granted, rule)
      // Every other rule needs an account.
      if (account === undefined) continue
      if (rule.scope === SCOPE_ANY_NAMESPACE) return decision(granted, rule)
      if (!belongsTo(account, namespace)) {
        return {
          allowed: false,
          rule,
          reason: `account ${account.id} of namespace ${account.issuer} may not act in namespace ${namespace}`,
        }
      }
      if (rule.scope === SCOPE_ACCOUNT || holds(account, rule.scope)) return decision(granted, rule)
    }
    return { allowed: false, reason: 'no rule grants access' }
  }
}

/** Whether the account holds a scope; case-insensitive, as Micro v3 compares. */
function holds(account: Account, scope: string): boolean {
  const wanted = scope.toLowerCase()
  return account.scopes.some((s) => s.toLowerCase() === wanted)
}

function decision(allowed: boolean, rule: Rule): Decision {
  return {
    allowed,
    rule,
    reason: `rule ${rule.id} ${rule.access === 'granted' ? 'grants' : 'denies'} access`,
  }
}

/** Whether a rule's resource covers `resource`: `*` or equal, case-insensitive; `/a/*` path prefixes. */
function applies(pattern: Resource, resource: Resource): boolean {
  return (
    matches(pattern.type, resource.type) &&
    matches(pattern.name, resource.name) &&
    endpointMatches(pattern.endpoint, resource.endpoint)
  )
}

function matches(pattern: string, value: string): boolean {
  return pattern === '*' || pattern.toLowerCase() === value.toLowerCase()
}

function endpointMatches(pattern: string, endpoint: string): boolean {
  if (matches(pattern, endpoint)) return true
  if (!pattern.endsWith('/*')) return false
  // `/a/*` covers `/a/b` and `/a/b/c` (and `/a` itself, as Micro v3 generates `/a/*` from it).
  const prefix = pattern.slice(0, -1).toLowerCase()
  const path = `${endpoint.toLowerCase()}/`
  return endpoint.includes('/') && path.startsWith(prefix)
}

/** Parse `type:name:endpoint` (endpoint may itself hold `:`); `*` alone means `*:*:*`. */
export function parseResource(text: string): Resource {
  if (text === '*') return { type: '*', name: '*', endpoint: '*' }
  const first = text.indexOf(':')
  const second = first < 0 ? -1 : text.indexOf(':', first + 1)
  if (first <= 0 || second <= first + 1 || second === text.length - 1) {
    throw badRequest(
      AUTH_ERROR_ID,
      `a resource is type:name:endpoint (e.g. service:greeter:Greeter.Hello), got "${text}"`,
    )
  }
  return { type: text.slice(0, first), name: text.slice(first + 1, second), endpoint: text.slice(second + 1) }
}

/** `type:name:endpoint` */
export function formatResource(resource: Resource): string {
  return `${resource.type}:${resource.name}:${resource.endpoint}`
}

const RULE_ID = /^[A-Za-z0-9._-]{1,128}$/
const SCOPE = /^[^\s,]{0,128}$/

/** A rule from untrusted input, checked field by field; a 400 says what is wrong. */
export function checkRule(input: unknown): Rule {
  const r = (input ?? {}) as Record<string, unknown>
  const fail = (why: string) => badRequest(AUTH_ERROR_ID, `bad rule: ${why}`)
  if (typeof r.id !== 'string' || !RULE_ID.test(r.id)) throw fail('id must be 1-128 letters, digits, . _ -')
  if (typeof r.scope !== 'string' || !SCOPE.test(r.scope))
    throw fail('scope must be a string without spaces or commas')
  const access = r.access ?? 'granted'
  if (access !== 'granted' && access !== 'denied') throw fail('access is granted or denied')
  const priority = r.priority ?? 0
  if (typeof priority !== 'number' || !Number.isInteger(priority) || Math.abs(priority) > 2 ** 31) {
    throw fail('priority must be an integer')
  }
  const resource = typeof r.resource === 'string' ? parseResource(r.resource) : r.resource
  const res = resource as Record<string, unknown> | undefined
  for (const field of ['type', 'name', 'endpoint'] as const) {
    const value = res?.[field]
    if (typeof value !== 'string' || value === '' || value.length > 512) {
      throw fail(`resource.${field} must be a non-empty string`)
    }
  }
  return {
    id: r.id,
    scope: r.scope,
    access,
    priority,
    resource: { type: res?.type as string, name: res?.name as string, endpoint: res?.endpoint as string },
  }
}
