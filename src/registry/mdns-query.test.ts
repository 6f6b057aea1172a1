import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { serviceTypeName } from './mdns-names.js'
import { MdnsQueries } from './mdns-query.js'
import type { Announcement } from './mdns-records.js'

const announcement: Announcement = {
  namespace: 'micro',
  service: {
    name: 'greeter',
    version: '1',
    metadata: {},
    endpoints: [],
    nodes: [{ id: 'n1', address: '127.0.0.1:1', metadata: {} }],
  },
}

/** Queries whose peer answers `delayMs` after each query it is sent; counts the queries. */
function latePeer(delayMs: number, timeout: number, patience?: number) {
  const sent: string[] = []
  const queries: MdnsQueries = new MdnsQueries(
    async (typeName) => {
      sent.push(typeName)
      setTimeout(() => queries.offer(announcement, 120), delayMs)
    },
    timeout,
    patience,
  )
  return { queries, sent }
}

describe('mdns queries', () => {
  test('a peer answering within the window is found with one query', async () => {
    const { queries, sent } = latePeer(0, 50, 1000)
    const found = await queries.ask(serviceTypeName('micro', 'greeter'))
    assert.equal(found.size, 1)
    assert.equal(sent.length, 1)
  })

  test('a peer answering after the window: asked again and found within the patience', async () => {
    const { queries, sent } = latePeer(150, 30, 5000)
    const found = await queries.ask(serviceTypeName('micro', 'greeter'))
    assert.equal(found.size, 1, 'the late answer was waited for')
    assert.equal(sent.length, 2, 'the query was sent again')
  })

  test('without patience beyond the window, a late peer is not found', async () => {
    const { queries, sent } = latePeer(300, 30)
    const found = await queries.ask(serviceTypeName('micro', 'greeter'))
    assert.equal(found.size, 0)
    assert.equal(sent.length, 1)
  })

  test('nobody answering: empty once the patience has run out', async () => {
    const queries = new MdnsQueries(async () => {}, 20, 100)
    assert.equal((await queries.ask(serviceTypeName('micro', 'nobody'))).size, 0)
  })
})
