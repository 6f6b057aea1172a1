import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { z } from 'zod'
import { MicroError } from '../errors/errors.js'
import { Value } from './value.js'

const v = (raw: unknown) => new Value('p.q', raw)
const isBadConfig = (pattern: RegExp) => (e: unknown) =>
  e instanceof MicroError && e.code === 400 && e.detail.includes('config p.q') && pattern.test(e.detail)

describe('Value getters', () => {
  test('string converts scalars; objects and lists are errors', () => {
    assert.equal(v('x').string(), 'x')
    assert.equal(v(42).string(), '42')
    assert.equal(v(false).string('d'), 'false')
    assert.equal(v(undefined).string('d'), 'd')
    assert.throws(() => v({ a: 1 }).string(), isBadConfig(/must be a string; it is an object/))
  })

  test('number and int accept numeric strings (env values) and refuse the rest', () => {
    assert.equal(v('8080').number(), 8080)
    assert.equal(v(' 1.5 ').number(), 1.5)
    assert.equal(v(2).int(), 2)
    assert.equal(v('2').int(9), 2)
    assert.equal(v(undefined).int(9), 9)
    assert.throws(() => v('').number(), isBadConfig(/must be a number; it is ""/))
    assert.throws(() => v('12abc').number(), isBadConfig(/must be a number/))
    assert.throws(() => v('1.5').int(), isBadConfig(/must be an integer/))
    assert.throws(() => v(true).number(), isBadConfig(/must be a number/))
  })

  test('bool accepts true/false, yes/no, on/off, 1/0 in any case', () => {
    for (const yes of [true, 'true', 'TRUE', 'yes', 'On', '1', 1])
      assert.equal(v(yes).bool(), true, String(yes))
    for (const no of [false, 'false', 'No', 'off', '0', 0]) assert.equal(v(no).bool(true), false, String(no))
    assert.equal(v(undefined).bool(true), true)
    assert.throws(() => v('maybe').bool(), isBadConfig(/must be a boolean/))
  })

  test('duration is milliseconds from 500ms / 30s / 5m / 1h or a number of seconds', () => {
    assert.equal(v('500ms').duration(), 500)
    assert.equal(v('30s').duration(), 30_000)
    assert.equal(v('1.5m').duration(), 90_000)
    assert.equal(v(30).duration(), 30_000)
    assert.equal(v('30').duration(), 30_000)
    assert.equal(v(undefined).duration(250), 250)
    assert.equal(v(undefined).duration('2s'), 2000)
    assert.throws(() => v('soon').duration(), isBadConfig(/must be a duration/))
  })

  test('stringArray from a list or a comma-separated string', () => {
    assert.deepEqual(v(['a', 1, true]).stringArray(), ['a', '1', 'true'])
    assert.deepEqual(v('a, b,,c ').stringArray(), ['a', 'b', 'c'])
    assert.deepEqual(v('').stringArray(), [])
    assert.deepEqual(v(undefined).stringArray(['d']), ['d'])
    assert.throws(
      () => v([{ a: 1 }]).stringArray(),
      (e: unknown) => e instanceof MicroError && /p\.q\.0/.test(e.detail),
    )
  })

  test('map returns the object; anything else is an error', () => {
    assert.deepEqual(v({ a: 1 }).map(), { a: 1 })
    assert.deepEqual(v(undefined).map({ d: 1 }), { d: 1 })
    assert.throws(() => v('x').map(), isBadConfig(/must be an object/))
  })

  test('error messages shorten long values', () => {
    assert.throws(
      () => v('x'.repeat(200)).number(),
      (e: unknown) => (e as MicroError).detail.length < 120,
    )
  })
})

describe('Value.scan', () => {
  test('without a schema: a mutable deep copy', () => {
    const raw = Object.freeze({ a: Object.freeze([1, 2]) })
    const copy = v(raw).scan<{ a: number[] }>()
    copy.a.push(3)
    assert.deepEqual(raw, { a: [1, 2] })
  })

  test('with a Standard Schema: the parsed output, or a 400 listing each issue by path', () => {
    const Db = z.object({ url: z.string(), pool: z.coerce.number().int().default(5) })
    assert.deepEqual(v({ url: 'postgres://x', pool: '7' }).scan(Db), { url: 'postgres://x', pool: 7 })
    assert.deepEqual(v({ url: 'u' }).scan(Db), { url: 'u', pool: 5 })
    assert.throws(
      () => v({ pool: 'many' }).scan(Db),
      (e: unknown) =>
        e instanceof MicroError && e.code === 400 && /config p\.q is invalid: url: .*; pool: /.test(e.detail),
    )
  })

  test('an asynchronous schema needs scanAsync', async () => {
    const Async = z.string().refine(async (s) => s.length > 1)
    assert.throws(() => v('ok').scan(Async), /scanAsync/)
    assert.equal(await v('ok').scanAsync(Async), 'ok')
    await assert.rejects(v('x').scanAsync(Async), (e: unknown) => e instanceof MicroError && e.code === 400)
  })
})
