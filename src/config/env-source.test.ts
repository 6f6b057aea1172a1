import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { sourceConformance } from './conformance.js'
import { envSource } from './env-source.js'

sourceConformance('env', () => ({
  source: envSource({ prefix: 'SHOP', env: { SHOP_DB_URL: 'postgres://x', SHOP_PORT: '8080', OTHER: 'no' } }),
  expected: { db: { url: 'postgres://x' }, port: '8080' },
}))

describe('env source', () => {
  test('A_B_C becomes a.b.c, lower-cased, values kept as strings', () => {
    const source = envSource({ env: { DATABASE_SERVER_HOST: 'h', Mixed_Case: '1' } })
    assert.deepEqual(source.read(), { database: { server: { host: 'h' } }, mixed: { case: '1' } })
  })

  test('the prefix filters (case-insensitively) and is stripped unless stripPrefix is false', () => {
    const vars = { SHOP_DB_URL: 'u', shop_debug: 'true', SHOPPING_CART: 'no', DB_URL: 'no' }
    assert.deepEqual(envSource({ prefix: 'SHOP', env: vars }).read(), { db: { url: 'u' }, debug: 'true' })
    assert.deepEqual(envSource({ prefix: 'shop_', env: vars }).read(), { db: { url: 'u' }, debug: 'true' })
    assert.deepEqual(envSource({ prefix: 'SHOP', stripPrefix: false, env: vars }).read(), {
      shop: { db: { url: 'u' }, debug: 'true' },
    })
  })

  test('several prefixes', () => {
    const source = envSource({ prefix: ['A', 'B'], env: { A_X: '1', B_Y: '2', C_Z: '3' } })
    assert.deepEqual(source.read(), { x: '1', y: '2' })
    assert.equal(source.name, 'env:A,B')
  })

  test('a nested variable wins over a scalar at its parent, whatever the order', () => {
    assert.deepEqual(envSource({ env: { A_B_C: 'deep', A_B: 'flat' } }).read(), { a: { b: { c: 'deep' } } })
    assert.deepEqual(envSource({ env: { A_B: 'flat', A_B_C: 'deep' } }).read(), { a: { b: { c: 'deep' } } })
  })

  test('empty segments collapse (so __PROTO__ is plain "proto"); constructor and the bare prefix are ignored', () => {
    const source = envSource({
      prefix: 'P',
      env: { P__A__B: '1', P___PROTO___X: 'bad', P_CONSTRUCTOR: 'bad', P_: 'bare' },
    })
    assert.deepEqual(source.read(), { a: { b: '1' }, proto: { x: 'bad' } })
    assert.equal(({} as Record<string, unknown>).x, undefined)
  })

  test('reads the live process environment by default', () => {
    const name = `MICROCFGTEST${process.pid}`
    process.env[`${name}_VALUE`] = 'live'
    try {
      assert.deepEqual(envSource({ prefix: name }).read(), { value: 'live' })
    } finally {
      delete process.env[`${name}_VALUE`]
    }
  })
})
