import { serviceUnavailable } from '../errors/errors.js'
import type { Logger } from '../logger/logger.js'
import { AUTH_ERROR_ID, type Rule } from './auth.js'
import type { RuleSource } from './policy.js'
import { checkRule, RuleSet } from './rules.js'

/**
 * Rules fetched per namespace (from the platform's `Rules.List`), kept in memory and
 * fetched again in the background when older than `maxAgeMs`: a rule change reaches
 * every service within that time, with no call per request. When a refetch fails the last
 * rules stay; a namespace never loaded is refused with a 503.
 */
export class FetchedRules implements RuleSource {
  readonly #fetch: (namespace: string) => Promise<Rule[]>
  readonly #maxAgeMs: number
  readonly #logger: Logger | undefined
  readonly #sets = new Map<string, { set: RuleSet; loadedAt: number; text: string }>()
  readonly #loading = new Map<string, Promise<RuleSet>>()
  #revision = 0

  constructor(
    fetch: (namespace: string) => Promise<Rule[]>,
    options: { maxAgeMs?: number; logger?: Logger } = {},
  ) {
    this.#fetch = fetch
    this.#maxAgeMs = options.maxAgeMs ?? 30_000
    this.#logger = options.logger
  }

  get revision(): number {
    return this.#revision
  }

  peek(namespace: string): RuleSet | undefined {
    const cached = this.#sets.get(namespace)
    if (cached === undefined) return undefined
    if (Date.now() - cached.loadedAt > this.#maxAgeMs) this.#load(namespace).catch(() => undefined)
    return cached.set
  }

  /** The rules of a namespace, fetched when not cached. */
  ruleSet(namespace: string): Promise<RuleSet> {
    const cached = this.peek(namespace)
    return cached ? Promise.resolve(cached) : this.#load(namespace)
  }

  #load(namespace: string): Promise<RuleSet> {
    let loading = this.#loading.get(namespace)
    if (loading === undefined) {
      loading = this.#fetchSet(namespace).finally(() => this.#loading.delete(namespace))
      this.#loading.set(namespace, loading)
    }
    return loading
  }

  async #fetchSet(namespace: string): Promise<RuleSet> {
    const previous = this.#sets.get(namespace)
    let rules: Rule[]
    try {
      rules = (await this.#fetch(namespace)).map((rule) => checkRule(rule))
    } catch (error) {
      this.#logger?.warn('auth: cannot fetch the rules', { namespace, error: (error as Error)?.message })
      if (previous) {
        previous.loadedAt = Date.now()
        return previous.set
      }
      throw serviceUnavailable(
        AUTH_ERROR_ID,
        `the auth rules of namespace ${namespace} cannot be fetched: ${(error as Error)?.message}`,
      )
    }
    const text = JSON.stringify(rules)
    if (previous && previous.text === text) {
      previous.loadedAt = Date.now()
      return previous.set
    }
    const set = new RuleSet(rules)
    this.#sets.set(namespace, { set, loadedAt: Date.now(), text })
    this.#revision++
    return set
  }
}
