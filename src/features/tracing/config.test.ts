import assert from 'node:assert/strict'
import { test } from 'node:test'
import { Problems } from '../../definition/problems.js'
import { type Table, TableReader } from '../../definition/table.js'
import { tracingFeature } from './index.js'

function configure(table: Table) {
  const problems = new Problems()
  const reader = new TableReader(table, 'features.tracing', problems)
  const config = tracingFeature.configure(reader)
  reader.done()
  return { config, problems: () => problems.throwIfAny('service.toml') }
}

test('[features.tracing]: endpoint, headers and export are read and checked', () => {
  const ok = configure({
    endpoint: 'http://127.0.0.1:4318/v1/traces',
    headers: { Authorization: 'Bearer t' },
    export: true,
  })
  ok.problems()
  assert.deepEqual(ok.config, {
    endpoint: 'http://127.0.0.1:4318/v1/traces',
    headers: { authorization: 'Bearer t' },
    export: true,
  })
  assert.deepEqual(configure({}).config, {})
  const bad = configure({ endpoint: 'ftp://x', headers: { a: 1 }, export: 'yes', sampler: 'all' })
  assert.throws(bad.problems, (e: Error) => {
    const text = (e as { detail?: string }).detail ?? e.message
    return (
      /features\.tracing\.endpoint/.test(text) &&
      /headers\.a/.test(text) &&
      /export/.test(text) &&
      /sampler/.test(text)
    )
  })
})
