// An in-memory AuthSource and DashboardAuth for the dashboard's tests (src/auth is another
// part's work): accounts with secrets, random tokens, and Micro v3's rule model.
import { randomBytes, randomUUID } from 'node:crypto'
import type { DashboardAuth } from '../../../src/dashboard/api/auth.js'
import type { Account, Identity, Rule, TokenInfo } from '../../../src/dashboard/api/types.js'
import type { AuthSource } from '../../../src/dashboard/sources.js'
import { notFound } from '../../../src/errors/errors.js'

export class MemoryAuth implements AuthSource, DashboardAuth {
  readonly #accounts = new Map<string, Account & { secret: string }>()
  readonly #tokens = new Map<string, TokenInfo & { token: string }>()
  readonly #rules: Rule[] = []

  addAccount(id: string, secret: string, scopes: string[]): void {
    this.#accounts.set(id, { id, type: 'user', scopes, secret, created: Date.now() })
  }

  addRule(rule: Rule): void {
    this.#rules.push(rule)
  }

  async accounts(): Promise<Account[]> {
    return [...this.#accounts.values()].map(({ secret: _, ...account }) => account)
  }

  async tokens(): Promise<TokenInfo[]> {
    return [...this.#tokens.values()].map(({ token: _, ...info }) => info)
  }

  async issueToken(
    _namespace: string,
    request: { account: string; scopes: string[]; ttl?: number; description?: string },
  ) {
    if (!this.#accounts.has(request.account)) throw notFound('test.auth', `no account ${request.account}`)
    const token = randomBytes(24).toString('base64url')
    const info: TokenInfo = {
      id: randomUUID(),
      account: request.account,
      scopes: request.scopes,
      created: Date.now(),
    }
    if (request.ttl) info.expires = Date.now() + request.ttl
    if (request.description) info.description = request.description
    this.#tokens.set(info.id, { ...info, token })
    return { token, info }
  }

  async revokeToken(_namespace: string, id: string): Promise<void> {
    if (!this.#tokens.delete(id)) throw notFound('test.auth', `no token ${id}`)
  }

  async rules(): Promise<Rule[]> {
    return [...this.#rules]
  }

  async check(_namespace: string, request: { account: string; service: string; endpoint: string }) {
    const account = this.#accounts.get(request.account)
    const scopes = account?.scopes ?? []
    const matching = this.#rules
      .filter(
        (r) =>
          (r.resource.name === '*' || r.resource.name === request.service) &&
          (r.resource.endpoint === '*' || r.resource.endpoint === request.endpoint) &&
          (r.scope === '*' || (r.scope === '' && account !== undefined) || scopes.includes(r.scope)),
      )
      .sort((a, b) => b.priority - a.priority)
    const rule = matching[0]
    if (!rule) return { allowed: false, reason: 'no rule matches: denied by default' }
    return { allowed: rule.access === 'granted', rule, reason: `rule ${rule.id} ${rule.access} it` }
  }

  verify(token: string): Identity | undefined {
    for (const info of this.#tokens.values()) {
      if (info.token !== token || (info.expires !== undefined && info.expires < Date.now())) continue
      const account = this.#accounts.get(info.account)
      if (account) return { id: account.id, admin: account.scopes.includes('admin'), scopes: info.scopes }
    }
    return undefined
  }

  async login(id: string, secret: string) {
    const account = this.#accounts.get(id)
    if (!account || account.secret !== secret) return undefined
    const { token, info } = await this.issueToken('micro', {
      account: id,
      scopes: account.scopes,
      ttl: 3_600_000,
    })
    return { token, expires: info.expires }
  }
}
