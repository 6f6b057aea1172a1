import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { testServer } from '../testing/servers.js'
import { acquireNats, DEFAULT_NATS_ADDRESS, natsServers, openNatsConnections } from './nats.js'

const nats = testServer('nats')

test('natsServers: a trimmed list without empty entries; the default address when nothing is left', () => {
  assert.deepEqual(natsServers(' nats://a:4222 ,, nats://b:4222 '), ['nats://a:4222', 'nats://b:4222'])
  assert.deepEqual(natsServers(''), [DEFAULT_NATS_ADDRESS])
  assert.deepEqual(natsServers(' , '), [DEFAULT_NATS_ADDRESS])
  assert.deepEqual(natsServers(undefined), [DEFAULT_NATS_ADDRESS])
})

test('an unreachable server: a 503 naming it without its credentials; nothing is kept open', async () => {
  const before = openNatsConnections()
  const link = acquireNats({ address: 'nats://me:secret@127.0.0.1:1', usedBy: 'test' })
  await assert.rejects(link.ready, (error: Error & { code?: number }) => {
    assert.equal(error.code, 503)
    assert.match(error.message, /^cannot connect to NATS at nats:\/\/127\.0\.0\.1:1: /)
    assert.doesNotMatch(error.message, /secret|me:/)
    return true
  })
  await link.release()
  assert.equal(openNatsConnections(), before)
})

describe('the NATS engine module', { skip: nats.skip }, () => {
  const address = nats.address as string

  test('two users of one server list share one connection; the last release closes it', async () => {
    const before = openNatsConnections()
    const a = acquireNats({ address, usedBy: 'test' })
    // The same servers spelt with blanks and an empty entry are the same list.
    const b = acquireNats({ address: ` ${address} ,`, usedBy: 'test' })
    const [ncA, ncB] = await Promise.all([a.ready, b.ready])
    assert.equal(ncA, ncB)
    assert.equal(openNatsConnections(), before + 1)
    await a.release()
    await a.release() // releasing one handle twice counts once
    assert.equal(ncB.isClosed(), false, 'still open for the other user')
    await ncB.flush()
    await b.release()
    assert.equal(ncB.isClosed(), true)
    assert.equal(openNatsConnections(), before)
    // The next user opens a new one.
    const c = acquireNats({ address, usedBy: 'test' })
    const ncC = await c.ready
    assert.notEqual(ncC, ncA)
    await c.release()
  })

  test('a connection the caller gives is used as it is and never closed', async () => {
    const { connect } = await import('@nats-io/transport-node')
    const given = await connect({ servers: address })
    try {
      const before = openNatsConnections()
      const link = acquireNats({ connection: given, address: 'nats://127.0.0.1:1', usedBy: 'test' })
      assert.equal(await link.ready, given)
      assert.equal(openNatsConnections(), before, 'not counted as ours')
      await link.release()
      assert.equal(given.isClosed(), false)
      await given.flush()
    } finally {
      await given.close()
    }
  })

  test('options of its own give a user a connection nobody else shares', async () => {
    const before = openNatsConnections()
    const shared = acquireNats({ address, usedBy: 'test' })
    const own = acquireNats({ address, options: { name: 'own-options' }, usedBy: 'test' })
    const [a, b] = await Promise.all([shared.ready, own.ready])
    assert.notEqual(a, b)
    assert.equal(openNatsConnections(), before + 2)
    await own.release()
    assert.equal(b.isClosed(), true)
    assert.equal(a.isClosed(), false)
    await shared.release()
    assert.equal(openNatsConnections(), before)
  })
})
