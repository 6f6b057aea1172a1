import assert from 'node:assert/strict'
import { test } from 'node:test'
import { MicroError } from '../../errors/errors.js'
import { buildPayload, queryFields } from './payload.js'

const json = (p: { body: Uint8Array }) => JSON.parse(Buffer.from(p.body).toString())
const FORM = 'application/x-www-form-urlencoded'
const code = (n: number) => (e: unknown) => e instanceof MicroError && e.code === n

test('a JSON body without a query passes through as the same bytes', () => {
  const body = Buffer.from('{"name":"Alice"}')
  const payload = buildPayload('application/json; charset=utf-8', body, undefined)
  assert.equal(payload.body, body)
  assert.equal(payload.contentType, 'application/json')
  assert.equal(buildPayload(undefined, body, undefined).body, body, 'no content type means JSON')
  assert.equal(
    buildPayload('text/plain;charset=UTF-8', body, undefined).body,
    body,
    'fetch sends strings as text/plain',
  )
})

test('curl -d: JSON under the form type is JSON; real fields become an object of strings', () => {
  const body = Buffer.from('  {"name":"Alice"}')
  assert.equal(buildPayload(FORM, body, undefined).body, body)
  const form = buildPayload(FORM, Buffer.from('name=Alice&age=42&tag=a&tag=b'), undefined)
  assert.equal(form.contentType, 'application/json')
  assert.deepEqual(json(form), { name: 'Alice', age: '42', tag: 'a,b' })
})

test('query fields merge under the body, typed and nested as Micro v3 does', () => {
  const p = buildPayload(
    'application/json',
    Buffer.from('{"name":"Body","deep":{"b":2}}'),
    'name=Query&n=3&ok=true&none=null&deep.a=1&deep[c]=x&list[]=1&list[]=2&s=007',
  )
  assert.deepEqual(json(p), {
    name: 'Body',
    n: 3,
    ok: true,
    none: null,
    deep: { a: 1, b: 2, c: 'x' },
    list: [1, 2],
    s: '007',
  })
  assert.deepEqual(json(buildPayload(undefined, Buffer.alloc(0), 'name=Alice')), { name: 'Alice' })
  assert.deepEqual(json(buildPayload(FORM, Buffer.from('name=Form'), 'name=Query&x=1')), {
    name: 'Form',
    x: 1,
  })
  assert.deepEqual(queryFields('a=1&a=2'), { a: [1, 2] }, 'a repeated name makes a list')
})

test('field names cannot reach prototypes', () => {
  const fields = queryFields('__proto__[polluted]=1&a.__proto__.x=1&constructor.prototype.y=1&toString=2')
  assert.deepEqual(fields, { toString: 2 })
  assert.equal(({} as Record<string, unknown>).polluted, undefined)
  const p = buildPayload('application/json', Buffer.from('{"__proto__":{"z":1},"ok":1}'), 'q=1')
  assert.deepEqual(json(p), { q: 1, ok: 1 })
  assert.equal(({} as Record<string, unknown>).z, undefined)
})

test('bad bodies and types are 400 or 415 with a reason', () => {
  assert.throws(() => buildPayload('application/json', Buffer.from('{nope'), 'a=1'), code(400))
  assert.throws(() => buildPayload('application/json', Buffer.from('[1,2]'), 'a=1'), /JSON object/)
  assert.throws(() => buildPayload('text/xml', Buffer.from('<a/>'), undefined), code(415))
  assert.throws(() => buildPayload('multipart/form-data; boundary=x', Buffer.from(''), undefined), code(415))
  assert.throws(() => buildPayload('application/msgpack', Buffer.from([0x80]), 'a=1'), code(400))
  assert.throws(() => queryFields(Array.from({ length: 300 }, (_, i) => `f${i}=1`).join('&')), code(400))
  assert.throws(() => queryFields(`${'a.'.repeat(20)}b=1`), /deeper/)
})

test('MessagePack and octet-stream pass through with their type', () => {
  const bytes = Buffer.from([0x81, 0xa1, 0x61, 0x01])
  assert.deepEqual(buildPayload('application/x-msgpack', bytes, undefined), {
    body: bytes,
    contentType: 'application/msgpack',
  })
  assert.equal(
    buildPayload('application/octet-stream', bytes, undefined).contentType,
    'application/octet-stream',
  )
})
