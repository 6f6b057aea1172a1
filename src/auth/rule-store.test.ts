import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import type { MicroError } from '../errors/errors.js'
import { MemoryStore } from '../store/memory.js'
import { defaultRules, RuleStore } from './rule-store.js'
import { DEFAULT_AUTH_TABLES } from './tables.js'

const rulesTable = { namespace: 'micro', database: 'auth', table: 'rules' }

describe('rule store', () => {
  test('a namespace starts with the default rules, from memory: asking about it writes nothing', async () => {
    const store = new MemoryStore()
    const rules = new RuleStore(store, DEFAULT_AUTH_TABLES)
    for (let i = 0; i < 20; i++) await rules.ruleSet(`random-${i}`)
    assert.deepEqual(
      (await rules.list('tenant')).map((r) => r.id).sort(),
      defaultRules()
        .map((r) => r.id)
        .sort(),
    )
    assert.deepEqual(await store.list(rulesTable), [])
    await assert.rejects(rules.ruleSet('../etc'), (e: MicroError) => e.code === 400)
  })

  test('the first change writes the defaults; deleting a default rule sticks', async () => {
    const store = new MemoryStore()
    const rules = new RuleStore(store, DEFAULT_AUTH_TABLES)
    const before = rules.revision
    await rules.delete('tenant', 'services')
    assert.ok(rules.revision > before)
    const again = new RuleStore(store, DEFAULT_AUTH_TABLES)
    const ids = (await again.list('tenant')).map((r) => r.id)
    assert.ok(!ids.includes('services'))
    assert.ok(ids.includes('admin'))
    await again.create('tenant', { id: 'extra', scope: '*', resource: 'service:a:*' })
    assert.ok((await new RuleStore(store, DEFAULT_AUTH_TABLES).list('tenant')).some((r) => r.id === 'extra'))
    await assert.rejects(again.delete('tenant', 'services'), (e: MicroError) => e.code === 404)
  })
})
