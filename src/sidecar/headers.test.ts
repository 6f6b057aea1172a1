import assert from 'node:assert/strict'
import { test } from 'node:test'
import {
  addMetadataHeaders,
  allowed,
  metadataAllowList,
  metadataFromHeaders,
  timeoutHeader,
} from './headers.js'

test('the allow-list refuses credentials and headers that belong to the call, even as prefixes', () => {
  assert.deepEqual(metadataAllowList([' X-Tenant ', 'x-*', 'traceparent', '']), [
    'x-tenant',
    'x-*',
    'traceparent',
  ])
  for (const name of ['Authorization', 'cookie', 'micro-caller-token', 'authorization*', 'micro-api-token']) {
    assert.throws(() => metadataAllowList([name]), /never crosses the sidecar raw/, name)
  }
  for (const name of ['content-type', 'host', 'micro-endpoint', 'if-match', 'origin']) {
    assert.throws(() => metadataAllowList([name]), /belongs to the call/, name)
  }
  assert.throws(() => metadataAllowList(['bad name']), /is not a header name/)
})

test('a prefix or * allows what it names, never credentials or micro-* headers', () => {
  const list = metadataAllowList(['x-*', 'traceparent'])
  assert.equal(allowed('x-tenant', list), true)
  assert.equal(allowed('traceparent', list), true)
  assert.equal(allowed('tracestate', list), false)
  const all = metadataAllowList(['*'])
  assert.equal(allowed('anything', all), true)
  for (const name of ['authorization', 'cookie', 'micro-caller', 'micro-timeout', 'content-type', 'host']) {
    assert.equal(allowed(name, all), false, name)
  }
})

test('request headers to metadata: allowed ones only, repeated values joined', () => {
  const list = metadataAllowList(['x-*', 'traceparent'])
  assert.deepEqual(
    metadataFromHeaders(
      {
        'x-tenant': 'acme',
        'x-tag': ['a', 'b'],
        authorization: 'Bearer t',
        cookie: 'c=1',
        traceparent: 'tp',
        other: 'no',
      },
      list,
    ),
    { 'x-tenant': 'acme', 'x-tag': 'a, b', traceparent: 'tp' },
  )
  assert.equal(metadataFromHeaders({ other: 'no' }, list), undefined)
})

test('metadata to headers: values HTTP cannot carry are left out instead of failing the request', () => {
  const headers: Record<string, string> = {}
  addMetadataHeaders(
    headers,
    { 'x-ok': 'fine', 'x-crlf': 'a\r\nset-cookie: x', 'x-nul': 'a\u0000b', 'bad key': 'v' },
    ['x-*', '*'],
  )
  assert.deepEqual(headers, { 'x-ok': 'fine' })
})

test('Micro-Timeout: a positive whole number of ms, anything else ignored', () => {
  assert.equal(timeoutHeader({ 'micro-timeout': '250' }), 250)
  for (const bad of ['0', '-5', 'soon', '1.5', '99999999999'])
    assert.equal(timeoutHeader({ 'micro-timeout': bad }), undefined, bad)
})
