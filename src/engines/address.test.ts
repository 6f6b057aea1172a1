import assert from 'node:assert/strict'
import { test } from 'node:test'
import { serverList, shareKey, withoutCredentials } from './address.js'
import { EngineChoice } from './choice.js'

test('serverList trims every entry and drops empty ones', () => {
  assert.deepEqual(serverList(' nats://a:4222 , ,nats://b:4222,'), ['nats://a:4222', 'nats://b:4222'])
  assert.deepEqual(serverList('  '), [])
  assert.deepEqual(serverList(undefined), [])
})

test('withoutCredentials drops the user and password of a URL, and anything before @ otherwise', () => {
  assert.equal(withoutCredentials('redis://:secret@127.0.0.1:6379/2'), 'redis://127.0.0.1:6379/2')
  assert.equal(withoutCredentials('postgres://me:pw@db:5432/app'), 'postgres://db:5432/app')
  assert.equal(withoutCredentials('nats://127.0.0.1:4222'), 'nats://127.0.0.1:4222')
  assert.equal(withoutCredentials('me:pw@db:5432'), 'db:5432')
  assert.equal(withoutCredentials('host:1'), 'host:1')
})

test('shareKey: an address alone is shared; options of its own make a connection of its own', () => {
  assert.equal(shareKey('redis://a:1', undefined), 'redis://a:1')
  assert.equal(shareKey('redis://a:1', {}), 'redis://a:1')
  assert.equal(shareKey('redis://a:1', { tls: {} }), undefined)
})

test('EngineChoice: trimmed, case-blind, aliases, a fallback for nothing, and a clear refusal', () => {
  const choice = new EngineChoice('sync', ['file', 'memory', 'postgres'] as const, 'memory', {
    postgresql: 'postgres',
  })
  assert.equal(choice.pick(undefined), 'memory')
  assert.equal(choice.pick('  '), 'memory')
  assert.equal(choice.pick(' FILE '), 'file')
  assert.equal(choice.pick('PostgreSQL'), 'postgres')
  assert.throws(() => choice.pick('etcd'), {
    name: 'TypeError',
    message: 'unknown sync engine "etcd"; known: file, memory, postgres',
  })
  // Inherited object keys are not engines.
  assert.throws(() => choice.pick('constructor'), /unknown sync engine "constructor"/)
  assert.equal(choice.fromEnv({}, 'MICRO_SYNC'), 'memory')
  assert.equal(choice.fromEnv({ MICRO_SYNC: '' }, 'MICRO_SYNC'), 'memory')
  assert.throws(() => choice.fromEnv({ MICRO_SYNC: 'etcd' }, 'MICRO_SYNC'), {
    name: 'TypeError',
    message: 'MICRO_SYNC=etcd: unknown sync engine; known: file, memory, postgres',
  })
})
