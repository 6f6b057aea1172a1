import assert from 'node:assert/strict'
import { test } from 'node:test'
import { MAX_ENDPOINTS, parseEndpointFlag, parseEndpoints, parseSubscriptions } from './discovery.js'

test('endpoints from the flag: names, paths after =, commas and repeats', () => {
  assert.deepEqual(parseEndpointFlag(['Orders.Create,Orders.Get=/orders/get', ' Admin.Reset ']), [
    {
      name: 'Orders.Create',
      path: '/Orders.Create',
      request: undefined,
      response: undefined,
      idempotent: false,
    },
    { name: 'Orders.Get', path: '/orders/get', request: undefined, response: undefined, idempotent: false },
    { name: 'Admin.Reset', path: '/Admin.Reset', request: undefined, response: undefined, idempotent: false },
  ])
  assert.throws(() => parseEndpointFlag(['create']), /--endpoints\[0\]: name must be Handler.Method/)
  assert.throws(() => parseEndpointFlag(['A.B=orders']), /path must start with \//)
  assert.throws(() => parseEndpointFlag(['A.B,A.B']), /A.B is declared twice/)
})

test('endpoints from the app: a list or {endpoints}, strings or objects with schemas', () => {
  const schema = { type: 'object' }
  assert.deepEqual(
    parseEndpoints({ endpoints: ['A.B', { name: 'A.C', request: schema, idempotent: true }] }),
    [
      { name: 'A.B', path: '/A.B', request: undefined, response: undefined, idempotent: false },
      { name: 'A.C', path: '/A.C', request: schema, response: undefined, idempotent: true },
    ],
  )
  assert.throws(() => parseEndpoints('A.B'), /JSON list of endpoints/)
  assert.throws(() => parseEndpoints([null]), /\[0\]: not an object/)
  assert.throws(
    () => parseEndpoints([{ name: 'A.B', request: 'string' }]),
    /A.B.request must be a JSON Schema object/,
  )
  assert.throws(() => parseEndpoints([{ name: 'A.B', path: '/with space' }]), /no spaces/)
  assert.throws(
    () => parseEndpoints(Array.from({ length: MAX_ENDPOINTS + 1 }, (_, i) => `A.M${i}`)),
    /more than 1000 endpoints/,
  )
})

test("subscriptions: micro's shape, Dapr's shape, and every field checked", () => {
  assert.deepEqual(
    parseSubscriptions([
      {
        topic: 'orders.created',
        route: '/orders',
        queue: 'workers',
        retryLimit: 5,
        deadLetter: 'orders.bad',
      },
      {
        pubsubname: 'x',
        topic: 'a/b',
        routes: { default: '/ab' },
        deadLetterTopic: 'ab.dead',
        envelope: 'cloudevent',
      },
      { topic: 't', route: '/t', deadLetter: false, concurrency: 2, timeout: 500 },
    ]),
    [
      {
        topic: 'orders.created',
        route: '/orders',
        queue: 'workers',
        retryLimit: 5,
        deadLetter: 'orders.bad',
        concurrency: undefined,
        timeout: undefined,
        envelope: 'raw',
      },
      {
        topic: 'a/b',
        route: '/ab',
        queue: undefined,
        retryLimit: undefined,
        deadLetter: 'ab.dead',
        concurrency: undefined,
        timeout: undefined,
        envelope: 'cloudevent',
      },
      {
        topic: 't',
        route: '/t',
        queue: undefined,
        retryLimit: undefined,
        deadLetter: false,
        concurrency: 2,
        timeout: 500,
        envelope: 'raw',
      },
    ],
  )
  const bad: [unknown, RegExp][] = [
    [{ route: '/x' }, /topic must be/],
    [{ topic: 'orders.*', route: '/x' }, /topic must be/],
    [{ topic: 't' }, /route must be a path/],
    [{ topic: 't', route: '/x', queue: 'has space' }, /queue is invalid/],
    [{ topic: 't', route: '/x', retryLimit: -1 }, /retryLimit is invalid/],
    [{ topic: 't', route: '/x', concurrency: 0 }, /concurrency is invalid/],
    [{ topic: 't', route: '/x', timeout: 'soon' }, /timeout \(ms\) is invalid/],
    [{ topic: 't', route: '/x', envelope: 'xml' }, /envelope must be/],
    [{ topic: 't', route: '/x', deadLetter: 'bad topic' }, /deadLetter is invalid/],
  ]
  for (const [entry, message] of bad) assert.throws(() => parseSubscriptions([entry]), message)
  assert.throws(
    () =>
      parseSubscriptions([
        { topic: 't', route: '/a' },
        { topic: 't', route: '/b' },
      ]),
    /t is declared twice/,
  )
  // The same topic in two queue groups is two subscriptions.
  assert.equal(
    parseSubscriptions([
      { topic: 't', route: '/a', queue: 'q1' },
      { topic: 't', route: '/b', queue: 'q2' },
    ]).length,
    2,
  )
})
