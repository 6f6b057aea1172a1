import { notFound } from '../errors/errors.js'
import type { Store } from '../store/store.js'
import { checkNamespace } from './accounts.js'
import { AUTH_ERROR_ID, type Rule, SCOPE_ACCOUNT, SCOPE_ADMIN, SCOPE_PUBLIC, SCOPE_SERVICE } from './auth.js'
import { checkRule, RuleSet } from './rules.js'
import { type AuthTables, readValue, tableOptions } from './tables.js'

/** The platform service's name: the endpoints everyone must reach to log in are on it. */
export const PLATFORM_SERVICE = 'platform'

const platform = (endpoint: string) => ({ type: 'service', name: PLATFORM_SERVICE, endpoint })

/**
 * The rules a namespace starts with: deny by default, except logging in (and refreshing,
 * logging out, the public keys), what a signed-in account needs to see itself, and
 * everything for the namespace's admins and services. Health and JWKS are HTTP routes
 * outside the rules. Written once per namespace; deleting them sticks.
 */
export function defaultRules(): Rule[] {
  const publicEndpoints = ['Auth.Login', 'Auth.Token', 'Auth.Logout', 'Auth.PublicKeys', 'Certificates.CA']
  const signedIn = ['Auth.Inspect', 'Accounts.ChangeSecret']
  return [
    ...publicEndpoints.map(
      (endpoint): Rule => ({
        id: `public-${endpoint.toLowerCase().replace('.', '-')}`,
        scope: SCOPE_PUBLIC,
        resource: platform(endpoint),
        access: 'granted',
        priority: 0,
      }),
    ),
    ...signedIn.map(
      (endpoint): Rule => ({
        id: `account-${endpoint.toLowerCase().replace('.', '-')}`,
        scope: SCOPE_ACCOUNT,
        resource: platform(endpoint),
        access: 'granted',
        priority: 0,
      }),
    ),
    {
      id: 'admin',
      scope: SCOPE_ADMIN,
      resource: { type: '*', name: '*', endpoint: '*' },
      access: 'granted',
      priority: 0,
    },
    {
      id: 'services',
      scope: SCOPE_SERVICE,
      resource: { type: '*', name: '*', endpoint: '*' },
      access: 'granted',
      priority: 0,
    },
  ]
}

/** How long a namespace's rules are used before they are read again (other replicas may change them), ms. */
const RELOAD_MS = 10_000

/** Namespaces whose rules are kept in memory at once (unknown names cost nothing to ask about). */
const MAX_CACHED = 1000

/**
 * Rules per namespace in the auth tables. A namespace nobody changed the rules of has the
 * defaults, from memory: they are written (with a marker) on its first change, so a
 * caller naming random namespaces makes no writes. Reads are answered from memory; a
 * change made here applies at once, one made by another replica within 10 s (`RELOAD_MS`).
 */
export class RuleStore {
  readonly #store: Store
  readonly #tables: AuthTables
  readonly #sets = new Map<string, { set: RuleSet; loadedAt: number }>()
  readonly #loading = new Map<string, Promise<RuleSet>>()
  #revision = 0

  constructor(store: Store, tables: AuthTables) {
    this.#store = store
    this.#tables = tables
  }

  /** Bumped on every change seen: cached decisions made before are dropped. */
  get revision(): number {
    return this.#revision
  }

  /** The rule set of a namespace from memory, or undefined when it must be loaded first. */
  peek(namespace: string): RuleSet | undefined {
    const cached = this.#sets.get(namespace)
    if (cached === undefined) return undefined
    if (Date.now() - cached.loadedAt > RELOAD_MS) this.ruleSet(namespace, true).catch(() => undefined)
    return cached.set
  }

  /** The rule set of a namespace (loaded, with its defaults written on first use). */
  ruleSet(namespace: string, reload = false): Promise<RuleSet> {
    try {
      checkNamespace(namespace)
    } catch (error) {
      return Promise.reject(error)
    }
    const cached = this.#sets.get(namespace)
    if (cached && !reload) return Promise.resolve(cached.set)
    let loading = this.#loading.get(namespace)
    if (loading === undefined) {
      loading = this.#load(namespace).finally(() => this.#loading.delete(namespace))
      this.#loading.set(namespace, loading)
    }
    return loading
  }

  /** The rules of a namespace. */
  async list(namespace: string): Promise<Rule[]> {
    return [...(await this.ruleSet(checkNamespace(namespace))).rules]
  }

  /** Add or replace a rule (by id). */
  async create(namespace: string, input: unknown): Promise<Rule> {
    const rule = checkRule(input)
    await this.#materialise(checkNamespace(namespace))
    await this.#store.write(`r/${namespace}/${rule.id}`, rule, this.#rules)
    await this.ruleSet(namespace, true)
    return rule
  }

  /** Remove a rule; 404 when the namespace has none with this id. */
  async delete(namespace: string, id: string): Promise<void> {
    const set = await this.ruleSet(checkNamespace(namespace))
    if (!set.rules.some((r) => r.id === id))
      throw notFound(AUTH_ERROR_ID, `rule ${id} not found in namespace ${namespace}`)
    await this.#materialise(namespace)
    await this.#store.delete(`r/${namespace}/${id}`, this.#rules)
    await this.ruleSet(namespace, true)
  }

  /** Write the defaults of a namespace that has none stored, before its first change. */
  async #materialise(namespace: string): Promise<void> {
    if ((await readValue(this.#store, `i/${namespace}`, this.#rules)) !== undefined) return
    for (const rule of defaultRules()) await this.#store.write(`r/${namespace}/${rule.id}`, rule, this.#rules)
    await this.#store.write(`i/${namespace}`, Date.now(), this.#rules)
  }

  async #load(namespace: string): Promise<RuleSet> {
    const stored = (await readValue(this.#store, `i/${namespace}`, this.#rules)) !== undefined
    const rules = stored
      ? (await this.#store.read<Rule>({ ...this.#rules, prefix: `r/${namespace}/` })).map((r) => r.value)
      : defaultRules()
    const loaded = new RuleSet(rules)
    const previous = this.#sets.get(namespace)?.set
    // Keep the old set when nothing changed, so decisions cached against it stay valid.
    const same = previous !== undefined && JSON.stringify(previous.rules) === JSON.stringify(loaded.rules)
    const set = same ? previous : loaded
    if (!same) this.#revision++
    if (this.#sets.size >= MAX_CACHED && !this.#sets.has(namespace)) this.#sets.clear()
    this.#sets.set(namespace, { set, loadedAt: Date.now() })
    return set
  }

  get #rules() {
    return tableOptions(this.#tables, 'rules')
  }
}
