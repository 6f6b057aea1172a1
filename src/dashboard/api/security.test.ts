import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import { type Fixture, startFixture } from '../../../test/support/dashboard/fixture.js'
import { api, readSse } from '../../../test/support/dashboard/http.js'
import type { DashboardInfo } from './types.js'

/** Every route that changes something, with a body that would otherwise be valid. */
const MUTATIONS: [string, string, unknown][] = [
  ['POST', '/call', { service: 'greeter', endpoint: 'Greeter.Hello', request: { name: 'x' } }],
  ['POST', '/streams', { service: 'greeter', endpoint: 'Greeter.Ticks' }],
  ['POST', '/streams/some-id/send', { message: {} }],
  ['POST', '/streams/some-id/close', {}],
  ['DELETE', '/streams/some-id', undefined],
  ['POST', '/runtime/worker/restart', {}],
  ['POST', '/runtime/worker/stop', {}],
  ['POST', '/events/topics/emails/publish', { payload: {} }],
  ['POST', '/events/dead/emails.dead/1/replay', {}],
  ['PUT', '/store/record', { key: 'k', value: 1 }],
  ['DELETE', '/store/record?key=k', undefined],
  ['PUT', '/config', { path: 'a', value: 1 }],
  ['DELETE', '/config?path=db.url', undefined],
  ['POST', '/config/reveal', { path: 'db.password' }],
  ['POST', '/auth/tokens', { account: 'reader' }],
  ['DELETE', '/auth/tokens/some-id', undefined],
]

describe('dashboard API: read-only mode', () => {
  let f: Fixture
  before(async () => {
    f = await startFixture({ runtime: false, dashboard: { readOnly: true } })
  })
  after(() => f.close())

  test('every mutating route is refused with a 403, and nothing changed', async () => {
    for (const [method, path, body] of MUTATIONS) {
      const res = await api(f.url, method, path, body)
      assert.equal(res.status, 403, `${method} ${path}`)
      assert.match((res.body as { detail: string }).detail, /read-only/, `${method} ${path}`)
    }
    assert.equal((await f.events.read('emails')).length, 0)
    assert.deepEqual(await f.store.list(), [])
  })

  test('reading still works, and info tells the UI to hide changes', async () => {
    assert.equal(((await api(f.url, 'GET', '/info')).body as DashboardInfo).readOnly, true)
    assert.equal((await api(f.url, 'GET', '/services')).status, 200)
    assert.equal((await api(f.url, 'GET', '/config')).status, 200)
    assert.equal(
      (await api(f.url, 'POST', '/auth/check', { account: 'reader', service: 'a', endpoint: 'b' })).status,
      200,
    )
  })
})

describe('dashboard API: auth on', () => {
  let f: Fixture
  before(async () => {
    f = await startFixture({ runtime: false, auth: true })
  })
  after(() => f.close())

  test('without a login only info and login answer (401 elsewhere, SSE included)', async () => {
    const info = (await api(f.url, 'GET', '/info')).body as DashboardInfo
    assert.deepEqual(info.auth, { enabled: true })
    for (const path of [
      '/services',
      '/endpoints',
      '/traces',
      '/config',
      '/auth/accounts',
      '/traces/live',
      '/logs',
    ])
      assert.equal((await api(f.url, 'GET', path)).status, 401, path)
    assert.equal((await api(f.url, 'POST', '/call', MUTATIONS[0]?.[2])).status, 401)
    assert.equal(
      (await api(f.url, 'GET', '/services', undefined, { authorization: 'Bearer forged' })).status,
      401,
    )
    assert.equal(
      (await api(f.url, 'GET', '/services', undefined, { cookie: 'micro_token=forged' })).status,
      401,
    )
  })

  test('login sets an HttpOnly SameSite=Strict cookie that then opens the API; logout clears it', async () => {
    const login = await api(f.url, 'POST', '/login', { id: 'admin', secret: 'correct horse battery staple' })
    assert.equal(login.status, 200)
    const cookie = login.headers.get('set-cookie') ?? ''
    assert.match(cookie, /^micro_token=[^;]+; Path=\/; HttpOnly; SameSite=Strict; Max-Age=\d+/)
    const token = /^micro_token=([^;]+)/.exec(cookie)?.[1] as string
    assert.ok(!JSON.stringify(login.body).includes(decodeURIComponent(token)), 'the token is not in the body')
    const headers = { cookie: `micro_token=${token}` }
    assert.equal((await api(f.url, 'GET', '/services', undefined, headers)).status, 200)
    const info = (await api(f.url, 'GET', '/info', undefined, headers)).body as DashboardInfo
    assert.deepEqual(info.auth.identity?.id, 'admin')
    const logout = await api(f.url, 'POST', '/logout', {}, headers)
    assert.match(logout.headers.get('set-cookie') ?? '', /^micro_token=; .*Max-Age=0/)
  })

  test('a token logs in too; a bearer header works without the cookie', async () => {
    const token = await f.adminToken()
    const login = await api(f.url, 'POST', '/login', { token })
    assert.equal(login.status, 200)
    assert.equal(
      (await api(f.url, 'GET', '/services', undefined, { authorization: `Bearer ${token}` })).status,
      200,
    )
    const stream = await readSse(`${f.url}/dashboard/api/traces/live`, () => true, {
      headers: { authorization: `Bearer ${token}` },
      ms: 2000,
    })
    assert.equal(stream.status, 200)
  })

  test('only an admin reveals secrets or manages tokens', async () => {
    const reader = (await f.auth.login('reader', 'reader secret'))?.token as string
    const headers = { authorization: `Bearer ${reader}` }
    assert.equal((await api(f.url, 'POST', '/config/reveal', { path: 'db.password' }, headers)).status, 403)
    assert.equal((await api(f.url, 'POST', '/auth/tokens', { account: 'reader' }, headers)).status, 403)
    assert.equal((await api(f.url, 'GET', '/config', undefined, headers)).status, 200)
    const admin = { authorization: `Bearer ${await f.adminToken()}` }
    assert.deepEqual((await api(f.url, 'POST', '/config/reveal', { path: 'db.password' }, admin)).body, {
      path: 'db.password',
      value: 'hunter2',
    })
  })

  test("explorer calls carry the caller's own token to the service", async () => {
    const token = await f.adminToken()
    const seen: string[] = []
    const original = f.sources.client!
    f.sources.client = {
      call: (s, e, r, o) => {
        seen.push(o.metadata?.authorization ?? '')
        return original.call(s, e, r, o)
      },
      stream: original.stream,
    }
    try {
      const res = await api(f.url, 'POST', '/call', MUTATIONS[0]?.[2], { authorization: `Bearer ${token}` })
      assert.equal(res.status, 200)
      assert.deepEqual(seen, [`Bearer ${token}`])
    } finally {
      f.sources.client = original
    }
  })

  test('wrong credentials get one answer, and guessing is throttled (429) per address', async () => {
    const bad = [{ id: 'admin', secret: 'wrong' }, { id: 'nobody', secret: 'x' }, { token: 'forged' }, {}]
    const answers = new Set<string>()
    for (const body of bad) {
      const res = await api(f.url, 'POST', '/login', body)
      assert.equal(res.status, 401)
      answers.add((res.body as { detail: string }).detail)
    }
    assert.equal(answers.size, 1, 'the failure does not say which part was wrong')
    let status = 0
    for (let i = 0; i < 12 && status !== 429; i++)
      status = (await api(f.url, 'POST', '/login', { id: 'admin', secret: `guess-${i}` })).status
    assert.equal(status, 429)
    const right = await api(f.url, 'POST', '/login', { id: 'admin', secret: 'correct horse battery staple' })
    assert.equal(right.status, 429, 'even the right secret waits out the window')
  })
})

describe('dashboard API: cross-site requests', () => {
  let f: Fixture
  before(async () => {
    f = await startFixture({ runtime: false })
  })
  after(() => f.close())

  test('a change from another origin, or marked cross-site by the browser, is refused', async () => {
    const body = { key: 'k', value: 1 }
    const evil = await api(f.url, 'PUT', '/store/record', body, { origin: 'http://evil.example' })
    assert.equal(evil.status, 403)
    const crossSite = await api(f.url, 'PUT', '/store/record', body, { 'sec-fetch-site': 'cross-site' })
    assert.equal(crossSite.status, 403)
    const nullOrigin = await api(f.url, 'PUT', '/store/record', body, { origin: 'null' })
    assert.equal(nullOrigin.status, 403)
    assert.deepEqual(await f.store.list(), [])
    const host = new URL(f.url).host
    const same = await api(f.url, 'PUT', '/store/record', body, {
      origin: `http://${host}`,
      'sec-fetch-site': 'same-origin',
    })
    assert.equal(same.status, 200)
  })
})
