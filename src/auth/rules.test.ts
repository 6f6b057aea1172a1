import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import type { MicroError } from '../errors/errors.js'
import type { Account, Resource, Rule } from './auth.js'
import { checkEndpointScopes, decide } from './policy.js'
import { checkRule, formatResource, parseResource, RuleSet } from './rules.js'

const account = (issuer: string, scopes: string[] = [], type: Account['type'] = 'user'): Account => ({
  id: `${type}-${issuer}`,
  type,
  issuer,
  scopes,
  metadata: {},
  uid: 'u',
})

const rule = (
  id: string,
  scope: string,
  resource: string,
  access: Rule['access'] = 'granted',
  priority = 0,
): Rule => ({
  id,
  scope,
  resource: parseResource(resource),
  access,
  priority,
})

const svc = (name: string, endpoint: string): Resource => ({ type: 'service', name, endpoint })

interface Case {
  name: string
  rules: Rule[]
  account: Account | undefined
  resource: Resource
  namespace?: string
  allowed: boolean
  /** The deciding rule's id; null: no rule matched. */
  by: string | null
}

// Micro v3's semantics (util/auth/rules/rules.go), case by case.
const cases: Case[] = [
  {
    name: 'no rules: deny',
    rules: [],
    account: account('micro', ['admin']),
    resource: svc('a', 'A.B'),
    allowed: false,
    by: null,
  },
  {
    name: 'public grant lets anyone in, even without an account',
    rules: [rule('pub', '', '*:*:*')],
    account: undefined,
    resource: svc('a', 'A.B'),
    allowed: true,
    by: 'pub',
  },
  {
    name: 'public deny refuses even an admin',
    rules: [rule('no', '', 'service:a:*', 'denied'), rule('adm', 'admin', '*:*:*', 'granted', -1)],
    account: account('micro', ['admin']),
    resource: svc('a', 'A.B'),
    allowed: false,
    by: 'no',
  },
  {
    name: 'rules needing an account are skipped without one',
    rules: [rule('any', '*', '*:*:*')],
    account: undefined,
    resource: svc('a', 'A.B'),
    allowed: false,
    by: null,
  },
  {
    name: '* grants any account of the namespace',
    rules: [rule('any', '*', '*:*:*')],
    account: account('micro'),
    resource: svc('a', 'A.B'),
    allowed: true,
    by: 'any',
  },
  {
    name: '* refuses an account of another namespace',
    rules: [rule('any', '*', '*:*:*')],
    account: account('other'),
    resource: svc('a', 'A.B'),
    namespace: 'micro',
    allowed: false,
    by: 'any',
  },
  {
    name: '+ grants an account of any namespace',
    rules: [rule('plus', '+', '*:*:*')],
    account: account('other'),
    resource: svc('a', 'A.B'),
    namespace: 'micro',
    allowed: true,
    by: 'plus',
  },
  {
    name: 'a foreign account is refused at the first rule needing an account, even before a + rule',
    rules: [rule('any', '*', '*:*:*', 'granted', 5), rule('plus', '+', '*:*:*')],
    account: account('other'),
    resource: svc('a', 'A.B'),
    namespace: 'micro',
    allowed: false,
    by: 'any',
  },
  {
    name: 'scopes match case-insensitively',
    rules: [rule('w', 'Orders:Write', 'service:orders:*')],
    account: account('micro', ['orders:write']),
    resource: svc('orders', 'Orders.Create'),
    allowed: true,
    by: 'w',
  },
  {
    name: "the micro namespace's admin acts in every namespace",
    rules: [rule('adm', 'admin', '*:*:*')],
    account: account('micro', ['admin']),
    resource: svc('a', 'A.B'),
    namespace: 'tenant',
    allowed: true,
    by: 'adm',
  },
  {
    name: "another namespace's admin does not",
    rules: [rule('adm', 'admin', '*:*:*')],
    account: account('tenant', ['admin']),
    resource: svc('a', 'A.B'),
    namespace: 'micro',
    allowed: false,
    by: 'adm',
  },
  {
    name: 'a named scope the account holds grants',
    rules: [rule('w', 'orders:write', 'service:orders:*')],
    account: account('micro', ['orders:write']),
    resource: svc('orders', 'Orders.Create'),
    allowed: true,
    by: 'w',
  },
  {
    name: 'a named scope the account lacks does not match: next rule, then deny',
    rules: [rule('w', 'orders:write', 'service:orders:*')],
    account: account('micro', ['orders:read']),
    resource: svc('orders', 'Orders.Create'),
    allowed: false,
    by: null,
  },
  {
    name: 'higher priority deny wins over a grant',
    rules: [rule('grant', '*', '*:*:*', 'granted', 1), rule('deny', '*', 'service:a:A.B', 'denied', 10)],
    account: account('micro'),
    resource: svc('a', 'A.B'),
    allowed: false,
    by: 'deny',
  },
  {
    name: 'higher priority grant wins over a deny',
    rules: [rule('deny', '*', '*:*:*', 'denied', 1), rule('grant', '*', 'service:a:A.B', 'granted', 5)],
    account: account('micro'),
    resource: svc('a', 'A.B'),
    allowed: true,
    by: 'grant',
  },
  {
    name: 'equal priority: the first rule as listed wins (stable sort)',
    rules: [rule('first', '*', '*:*:*', 'denied'), rule('second', '*', '*:*:*', 'granted')],
    account: account('micro'),
    resource: svc('a', 'A.B'),
    allowed: false,
    by: 'first',
  },
  {
    name: 'type, name and endpoint match case-insensitively',
    rules: [rule('ci', '*', 'SERVICE:Greeter:greeter.hello')],
    account: account('micro'),
    resource: svc('greeter', 'Greeter.Hello'),
    allowed: true,
    by: 'ci',
  },
  {
    name: 'another endpoint of the service does not match',
    rules: [rule('one', '*', 'service:greeter:Greeter.Hello')],
    account: account('micro'),
    resource: svc('greeter', 'Greeter.Bye'),
    allowed: false,
    by: null,
  },
  {
    name: 'a path prefix wildcard covers deeper paths',
    rules: [rule('api', '*', 'web:site:/api/*')],
    account: account('micro'),
    resource: { type: 'web', name: 'site', endpoint: '/api/v1/users' },
    allowed: true,
    by: 'api',
  },
  {
    name: 'a path prefix wildcard covers its own path',
    rules: [rule('api', '*', 'web:site:/api/*')],
    account: account('micro'),
    resource: { type: 'web', name: 'site', endpoint: '/api' },
    allowed: true,
    by: 'api',
  },
  {
    name: 'a path prefix wildcard does not cover a sibling with the same prefix',
    rules: [rule('api', '*', 'web:site:/api/*')],
    account: account('micro'),
    resource: { type: 'web', name: 'site', endpoint: '/apiary/x' },
    allowed: false,
    by: null,
  },
  {
    name: '/* covers every path',
    rules: [rule('all', '', 'web:*:/*')],
    account: undefined,
    resource: { type: 'web', name: 'x', endpoint: '/a/b' },
    allowed: true,
    by: 'all',
  },
  {
    name: 'a path wildcard is no wildcard for an RPC endpoint',
    rules: [rule('p', '*', 'service:a:/*')],
    account: account('micro'),
    resource: svc('a', 'A.B'),
    allowed: false,
    by: null,
  },
  {
    name: 'the type must match',
    rules: [rule('web', '*', 'web:*:*')],
    account: account('micro'),
    resource: svc('a', 'A.B'),
    allowed: false,
    by: null,
  },
]

describe('rules (Micro v3 semantics)', () => {
  for (const c of cases) {
    test(c.name, () => {
      const decision = new RuleSet(c.rules).decide(c.account, c.resource, c.namespace ?? 'micro')
      assert.equal(decision.allowed, c.allowed, decision.reason)
      assert.equal(decision.rule?.id ?? null, c.by)
      assert.ok(decision.reason.length > 0)
    })
  }

  test('a rule set does not change the list it was given', () => {
    const rules = [rule('a', '*', '*:*:*', 'granted', 1), rule('b', '*', '*:*:*', 'granted', 9)]
    new RuleSet(rules).decide(account('micro'), svc('a', 'A.B'), 'micro')
    assert.deepEqual(
      rules.map((r) => r.id),
      ['a', 'b'],
    )
  })

  test('resources parse and format as type:name:endpoint; the endpoint may hold colons', () => {
    assert.deepEqual(parseResource('service:greeter:Greeter.Hello'), svc('greeter', 'Greeter.Hello'))
    assert.deepEqual(parseResource('web:site:/a:b'), { type: 'web', name: 'site', endpoint: '/a:b' })
    assert.deepEqual(parseResource('*'), { type: '*', name: '*', endpoint: '*' })
    assert.equal(formatResource(svc('a', 'A.B')), 'service:a:A.B')
    for (const bad of ['service', 'service:a', ':a:b', 'a::b', 'a:b:']) {
      assert.throws(
        () => parseResource(bad),
        (e: MicroError) => e.code === 400,
        bad,
      )
    }
  })

  test('checkRule refuses malformed rules with a 400 and fills defaults', () => {
    const ok = checkRule({ id: 'r1', scope: '', resource: 'service:a:*' })
    assert.equal(ok.access, 'granted')
    assert.equal(ok.priority, 0)
    for (const bad of [
      {},
      { id: 'has space', scope: '', resource: '*' },
      { id: 'r', scope: 'a b', resource: '*' },
      { id: 'r', scope: '', resource: '*', access: 'maybe' },
      { id: 'r', scope: '', resource: '*', priority: 1.5 },
      { id: 'r', scope: '', resource: { type: '', name: 'a', endpoint: 'b' } },
      null,
    ]) {
      assert.throws(
        () => checkRule(bad),
        (e: MicroError) => e.code === 400,
        JSON.stringify(bad),
      )
    }
  })
})

describe('endpoint scopes on top of the rules', () => {
  const rules = new RuleSet([rule('any', '*', '*:*:*'), rule('pub', '', 'service:open:*')])

  test('an endpoint without scopes is left to the rules', () => {
    assert.equal(decide('enforce', rules, account('micro'), svc('a', 'A.B'), 'micro', []).allowed, true)
    assert.equal(checkEndpointScopes(account('micro'), undefined, 'A.B'), undefined)
  })

  test('a declared scope must be held, even when a rule grants', () => {
    const d = decide('enforce', rules, account('micro', ['orders:read']), svc('a', 'A.B'), 'micro', [
      'orders:write',
    ])
    assert.equal(d.allowed, false)
    assert.match(d.reason, /orders:write/)
    const ok = decide('enforce', rules, account('micro', ['orders:write']), svc('a', 'A.B'), 'micro', [
      'orders:admin',
      'orders:write',
    ])
    assert.equal(ok.allowed, true)
    assert.equal(ok.rule?.id, 'any')
  })

  test('a public rule does not waive declared scopes: no account, no call', () => {
    assert.equal(decide('enforce', rules, undefined, svc('open', 'O.P'), 'micro', ['x']).allowed, false)
    assert.equal(decide('enforce', rules, undefined, svc('open', 'O.P'), 'micro', []).allowed, true)
  })

  test('the * scope holds every declared scope', () => {
    assert.equal(
      decide('enforce', rules, account('micro', ['*']), svc('a', 'A.B'), 'micro', ['x']).allowed,
      true,
    )
  })

  test('open mode lets anonymous callers in, except to endpoints that declare scopes', () => {
    const none = new RuleSet([])
    assert.equal(decide('open', none, undefined, svc('a', 'A.B'), 'micro', []).allowed, true)
    assert.equal(decide('open', none, undefined, svc('a', 'A.B'), 'micro', ['x']).allowed, false)
    assert.equal(decide('open', none, account('micro', ['x']), svc('a', 'A.B'), 'micro', ['x']).allowed, true)
  })

  test('a denying rule decides before scopes are looked at', () => {
    const deny = new RuleSet([rule('no', '*', '*:*:*', 'denied')])
    const d = decide('enforce', deny, account('micro', ['x']), svc('a', 'A.B'), 'micro', ['x'])
    assert.equal(d.allowed, false)
    assert.equal(d.rule?.id, 'no')
  })
})
