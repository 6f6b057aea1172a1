import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import { type Fixture, startFixture } from '../../../test/support/dashboard/fixture.js'
import { api, readSse } from '../../../test/support/dashboard/http.js'
import { waitFor } from '../../events/conformance-kit.js'
import type { EventView, GroupView, LogLine, RecordView, RuntimeService, TopicView } from './types.js'

describe('dashboard API: runtime, logs, events, store, config, auth', () => {
  let f: Fixture
  before(async () => {
    f = await startFixture()
  })
  after(() => f.close())

  const worker = async () =>
    ((await api(f.url, 'GET', '/runtime')).body as { services: RuntimeService[] }).services.find(
      (s) => s.name === 'worker',
    )

  test('runtime: the worker runs with a pid; its logs tail live with levels and trace ids', async () => {
    await waitFor(async () => (await worker())?.pid !== undefined, 5000, 'the worker to run')
    const { status, events } = await readSse(
      `${f.url}/dashboard/api/logs?service=worker`,
      (e) => e.filter((x) => x.event === 'line').length >= 6,
    )
    assert.equal(status, 200)
    const lines = events.filter((e) => e.event === 'line').map((e) => e.data as LogLine)
    assert.ok(lines.every((l) => l.service === 'worker'))
    assert.ok(
      lines.some((l) => l.level === 'info' && l.traceId === 'ab'.repeat(16)),
      JSON.stringify(lines.slice(0, 3)),
    )
    const warned = await readSse(
      `${f.url}/dashboard/api/logs?level=warn`,
      (e) => e.filter((x) => x.event === 'line').length >= 2,
    )
    const levels = warned.events.filter((e) => e.event === 'line').map((e) => (e.data as LogLine).level)
    assert.ok(levels.length >= 2 && levels.every((l) => l === 'warn' || l === 'error'), String(levels))
    const searched = await readSse(`${f.url}/dashboard/api/logs?q=SOMETHING%20FAILED`, (e) =>
      e.some((x) => x.event === 'line'),
    )
    assert.match(
      (searched.events.find((e) => e.event === 'line')?.data as LogLine | undefined)?.text ?? '',
      /something failed/,
    )
    const once = await readSse(`${f.url}/dashboard/api/logs?follow=0&lines=3`, (e) =>
      e.some((x) => x.event === 'end'),
    )
    assert.equal(once.events.filter((e) => e.event === 'line').length, 3)
    assert.equal((await api(f.url, 'GET', '/logs?level=loud')).status, 400)
    assert.equal((await api(f.url, 'GET', '/logs?lines=99999')).status, 400)
  })

  test('runtime: restart gives a new process; stop stops it; unknown names are 404', async () => {
    await waitFor(async () => (await worker())?.pid !== undefined, 5000, 'the worker to run')
    const before = await worker()
    assert.equal((await api(f.url, 'POST', '/runtime/worker/restart', {})).status, 200)
    const after = await worker()
    assert.equal(after?.restarts, (before?.restarts ?? 0) + 1)
    assert.notEqual(after?.pid, before?.pid)
    assert.equal((await api(f.url, 'POST', '/runtime/worker/stop', {})).status, 200)
    assert.equal((await worker())?.status, 'stopped')
    assert.equal((await api(f.url, 'POST', '/runtime/nobody/stop', {})).status, 404)
    await api(f.url, 'POST', '/runtime/worker/restart', {})
  })

  test('events: publish, topics, groups, a dead letter, replay, tail', async () => {
    const published = await api(f.url, 'POST', '/events/topics/emails/publish', {
      payload: { to: 'ada@example.com' },
      metadata: { source: 'test' },
    })
    assert.equal(published.status, 200)
    const consumer = f.events.consume('emails', { group: 'mailer', ack: 'manual', retryLimit: 0, offset: 1 })
    const iterator = consumer[Symbol.asyncIterator]()
    const first = (await iterator.next()).value
    await first?.nack('smtp down')
    await waitFor(
      async () =>
        ((await api(f.url, 'GET', '/events/topics')).body as { topics: TopicView[] }).topics.some(
          (t) => t.topic === 'emails.dead',
        ),
      5000,
      'the dead letter topic',
    )
    const topics = ((await api(f.url, 'GET', '/events/topics')).body as { topics: TopicView[] }).topics
    assert.deepEqual(topics.find((t) => t.topic === 'emails.dead')?.dead, true)
    assert.equal(topics.find((t) => t.topic === 'emails')?.events, 1)
    const groups = ((await api(f.url, 'GET', '/events/topics/emails/groups')).body as { groups: GroupView[] })
      .groups
    assert.deepEqual(
      groups.find((g) => g.group === 'mailer'),
      { group: 'mailer', position: 1, pending: 0, lag: 0, retrying: 0, private: false },
    )
    const dead = (
      (await api(f.url, 'GET', '/events/topics/emails.dead/events')).body as { events: EventView[] }
    ).events
    assert.equal(dead.length, 1)
    assert.match(dead[0]?.metadata['dead-letter-reason'] ?? '', /smtp down/)
    assert.deepEqual(dead[0]?.payload, { to: 'ada@example.com' })

    const tail = readSse(
      `${f.url}/dashboard/api/events/topics/emails/tail`,
      (e) => e.some((x) => x.event === 'event'),
      {
        onOpen: async () => {
          const replayed = await api(
            f.url,
            'POST',
            `/events/dead/emails.dead/${dead[0]?.sequence}/replay`,
            {},
          )
          assert.equal(replayed.status, 200, JSON.stringify(replayed.body))
        },
      },
    )
    const seen = (await tail).events.find((e) => e.event === 'event')?.data as EventView
    assert.deepEqual(seen.payload, { to: 'ada@example.com' })
    assert.equal(seen.metadata['replayed-from'], `emails.dead#${dead[0]?.sequence}`)
    const again = (await iterator.next()).value
    assert.deepEqual(again?.payload, { to: 'ada@example.com' })
    await again?.ack()
    consumer.stop()

    assert.equal((await api(f.url, 'POST', '/events/dead/emails/1/replay', {})).status, 400)
    assert.equal((await api(f.url, 'POST', '/events/dead/emails.dead/999/replay', {})).status, 404)
    assert.equal((await api(f.url, 'POST', '/events/dead/emails.dead/0/replay', {})).status, 400)
    assert.equal((await api(f.url, 'POST', '/events/topics/bad%20topic/publish', { payload: 1 })).status, 400)
    assert.equal((await api(f.url, 'POST', '/events/topics/emails/publish', {})).status, 400)
    assert.equal((await api(f.url, 'GET', '/events/topics/bad%20topic/tail')).status, 400)
  })

  test('store: write with TTL, browse by prefix, read, delete; bad input is refused', async () => {
    const scope = { database: 'shop', table: 'users' }
    for (const key of ['user:1', 'user:2', 'order:1'])
      assert.equal(
        (await api(f.url, 'PUT', '/store/record', { ...scope, key, value: { key }, ttl: 60_000 })).status,
        200,
      )
    assert.deepEqual((await api(f.url, 'GET', '/store/databases')).body, { databases: ['shop'] })
    assert.deepEqual((await api(f.url, 'GET', '/store/tables?database=shop')).body, { tables: ['users'] })
    const page = (await api(f.url, 'GET', '/store/records?database=shop&table=users&prefix=user:&limit=1'))
      .body as { records: RecordView[]; more: boolean }
    assert.deepEqual([page.records.map((r) => r.key), page.more], [['user:1'], true])
    const one = (await api(f.url, 'GET', '/store/record?database=shop&table=users&key=user%3A2'))
      .body as RecordView
    assert.deepEqual(one.value, { key: 'user:2' })
    assert.ok(one.expiry !== undefined && one.expiry > 0 && one.expiry <= 60_000)
    assert.equal(
      (await api(f.url, 'DELETE', '/store/record?database=shop&table=users&key=user%3A2')).status,
      200,
    )
    assert.equal(
      (await api(f.url, 'GET', '/store/record?database=shop&table=users&key=user%3A2')).status,
      404,
    )
    assert.equal((await api(f.url, 'PUT', '/store/record', { ...scope, value: 1 })).status, 400)
    assert.equal((await api(f.url, 'PUT', '/store/record', { ...scope, key: 'k' })).status, 400)
    assert.equal(
      (await api(f.url, 'PUT', '/store/record', { ...scope, key: 'k', value: 1, ttl: -1 })).status,
      400,
    )
    assert.equal((await api(f.url, 'GET', '/store/record')).status, 400)
  })

  test('config: secrets are masked; reveal, set (plain and secret) and delete', async () => {
    const masked = (await api(f.url, 'GET', '/config')).body as {
      tree: { db: { password: string; url: string } }
      secrets: string[]
    }
    assert.equal(masked.tree.db.password, '[secret]')
    assert.equal(masked.tree.db.url, 'postgres://db/shop')
    assert.deepEqual(masked.secrets, ['db.password'])
    assert.ok(!JSON.stringify(masked).includes('hunter2'))
    assert.deepEqual((await api(f.url, 'POST', '/config/reveal', { path: 'db.password' })).body, {
      path: 'db.password',
      value: 'hunter2',
    })
    assert.equal((await api(f.url, 'POST', '/config/reveal', { path: 'db.url' })).status, 400)
    assert.equal(
      (await api(f.url, 'PUT', '/config', { path: 'api.key', value: 's3cret', secret: true })).status,
      200,
    )
    assert.equal(
      (await api(f.url, 'PUT', '/config', { path: 'api.key2', value: 5, secret: true })).status,
      400,
    )
    assert.equal((await api(f.url, 'PUT', '/config', { path: 'limits.rps', value: 50 })).status, 200)
    const after = (await api(f.url, 'GET', '/config')).body as {
      tree: Record<string, Record<string, unknown>>
      secrets: string[]
    }
    assert.equal(after.tree.limits?.rps, 50)
    assert.deepEqual(after.secrets.sort(), ['api.key', 'db.password'])
    assert.equal((await api(f.url, 'DELETE', '/config?path=limits.rps')).status, 200)
    assert.equal((await api(f.url, 'DELETE', '/config?path=limits.rps')).status, 404)
    assert.equal((await api(f.url, 'PUT', '/config', { value: 1 })).status, 400)
  })

  test('auth pages: accounts without secrets, a token shown once, revoke, rules and the policy check', async () => {
    const accounts = JSON.stringify((await api(f.url, 'GET', '/auth/accounts')).body)
    assert.ok(accounts.includes('"reader"') && !accounts.includes('reader secret'))
    const issued = (
      await api(f.url, 'POST', '/auth/tokens', {
        account: 'reader',
        scopes: 'greeter:read, extra',
        description: 'ci',
      })
    ).body as { token: string; info: { id: string; scopes: string[] } }
    assert.ok(issued.token.length > 20)
    assert.deepEqual(issued.info.scopes, ['greeter:read', 'extra'])
    const tokens = JSON.stringify((await api(f.url, 'GET', '/auth/tokens')).body)
    assert.ok(
      tokens.includes(issued.info.id) && !tokens.includes(issued.token),
      'the token text is never listed',
    )
    assert.equal((await api(f.url, 'DELETE', `/auth/tokens/${issued.info.id}`)).status, 200)
    assert.equal((await api(f.url, 'DELETE', `/auth/tokens/${issued.info.id}`)).status, 404)
    assert.equal((await api(f.url, 'POST', '/auth/tokens', { account: 'reader', scopes: [1] })).status, 400)
    const rules = (await api(f.url, 'GET', '/auth/rules')).body as { rules: unknown[] }
    assert.equal(rules.rules.length, 2)
    const allowed = (
      await api(f.url, 'POST', '/auth/check', {
        account: 'reader',
        service: 'greeter',
        endpoint: 'Greeter.Hello',
      })
    ).body as { allowed: boolean; rule?: { id: string } }
    assert.deepEqual([allowed.allowed, allowed.rule?.id], [true, 'readers'])
    const denied = (
      await api(f.url, 'POST', '/auth/check', {
        account: 'reader',
        service: 'orders',
        endpoint: 'Orders.Place',
      })
    ).body as { allowed: boolean }
    assert.equal(denied.allowed, false)
    assert.equal((await api(f.url, 'POST', '/auth/check', { account: 'reader' })).status, 400)
  })

  test('bad input on every data route gets a clear 4xx, and the process serves the next request', async () => {
    const cases: [string, string, unknown, number][] = [
      ['GET', '/events/topics/emails/events?offset=0', undefined, 400],
      ['GET', '/events/topics/emails/events?limit=5000', undefined, 400],
      ['GET', '/events/topics/bad%20topic/groups', undefined, 400],
      ['GET', '/events/topics?namespace=..%2F', undefined, 400],
      ['POST', '/events/topics/emails/publish', { payload: 1, metadata: { n: 1 } }, 400],
      ['POST', '/events/dead/emails.dead/abc/replay', {}, 400],
      ['GET', '/store/records?limit=0', undefined, 400],
      ['GET', '/store/records?offset=-1', undefined, 400],
      ['GET', `/store/record?key=${'k'.repeat(5000)}`, undefined, 400],
      ['PUT', '/store/record', { key: 'k', value: 1, metadata: [1] }, 400],
      ['PUT', '/store/record', { key: 'k', value: 1, ttl: 1.5 }, 400],
      ['PUT', '/config', { path: 'a..b', value: 1 }, 400],
      ['DELETE', '/config', undefined, 400],
      ['POST', '/config/reveal', {}, 400],
      ['POST', '/auth/tokens', { scopes: ['a'] }, 400],
      ['POST', '/auth/tokens', { account: 'nobody' }, 404],
      ['POST', '/auth/tokens', { account: 'reader', ttl: 'soon' }, 400],
      ['POST', '/runtime/worker/restart', 'not json', 415],
      ['GET', '/metrics?window=10', undefined, 400],
      ['GET', '/topology?window=abc', undefined, 400],
      ['GET', '/errors?limit=100000', undefined, 400],
    ]
    for (const [method, path, body, status] of cases) {
      const headers: Record<string, string> = typeof body === 'string' ? { 'content-type': 'text/plain' } : {}
      const res = await api(f.url, method, path, body, headers)
      assert.equal(res.status, status, `${method} ${path}: ${JSON.stringify(res.body)}`)
      const error = res.body as { code: number; detail: string; id: string }
      assert.equal(error.code, status, `${method} ${path}`)
      assert.ok(
        error.detail.length > 0 && !/at .*\.ts:\d+/.test(error.detail),
        `${method} ${path}: ${error.detail}`,
      )
    }
    assert.equal((await api(f.url, 'GET', '/events/topics')).status, 200)
  })
})
