import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { describe, test } from 'node:test'
import { UsageError } from '../cli/args.js'
import { PUBLISH_HELP, publishCommand } from '../cli/commands/publish.js'
import { SUBSCRIBE_HELP, subscribeCommand } from '../cli/commands/subscribe.js'
import { testServer } from '../testing/servers.js'
import { waitUntil } from './conformance-kit.js'
import { createBroker } from './from-env.js'

const nats = testServer('nats')

interface Line {
  topic: string
  id: string
  headers: Record<string, string>
  payload: unknown
  encoding?: string
}

/** Start `micro subscribe` in the background; resolves once it is subscribed. */
async function startSubscriber(args: string[]) {
  const lines: Line[] = []
  const stop = new AbortController()
  let ready!: () => void
  const subscribed = new Promise<void>((resolve) => {
    ready = resolve
  })
  const done = subscribeCommand(args, (text) => lines.push(JSON.parse(text)), stop.signal, ready)
  await Promise.race([subscribed, done])
  return { lines, stop: () => stop.abort(), done }
}

async function publishCli(args: string[]): Promise<{ topic: string; id: string }> {
  const out: string[] = []
  assert.equal(await publishCommand(args, (t) => out.push(t)), 0)
  return JSON.parse(out[0] as string)
}

function roundTrip(label: string, brokerArgs: () => string[]) {
  test(`${label}: what micro publish sends, micro subscribe prints as one JSON line`, async () => {
    const topic = `cli.${randomUUID().slice(0, 8)}`
    const sub = await startSubscriber([topic, '--count', '2', ...brokerArgs()])
    const sent = await publishCli([topic, '{"order":42}', '--metadata', 'X-Tenant=acme', ...brokerArgs()])
    await publishCli([topic, '"second"', ...brokerArgs()])
    assert.equal(await sub.done, 0, 'exits after --count messages')
    assert.equal(sent.topic, topic)
    const [first, second] = sub.lines as [Line, Line]
    assert.equal(first.topic, topic)
    assert.equal(first.id, sent.id)
    assert.deepEqual(first.payload, { order: 42 })
    assert.equal(first.headers['x-tenant'], 'acme')
    assert.equal(first.headers['micro-caller'], 'micro.cli')
    assert.equal(first.headers['content-type'], 'application/json')
    assert.equal(second.payload, 'second')
  })

  test(`${label}: two subscribers in one --queue share the messages`, async () => {
    const topic = `cli.${randomUUID().slice(0, 8)}`
    const a = await startSubscriber([topic, '--queue', 'g', ...brokerArgs()])
    const b = await startSubscriber([topic, '--queue', 'g', ...brokerArgs()])
    for (let i = 0; i < 10; i++) await publishCli([topic, String(i), ...brokerArgs()])
    await waitUntil(() => a.lines.length + b.lines.length === 10)
    a.stop()
    b.stop()
    assert.equal(await a.done, 0)
    assert.equal(await b.done, 0)
    const all = [...a.lines, ...b.lines].map((l) => l.payload).sort((x, y) => Number(x) - Number(y))
    assert.deepEqual(all, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9])
  })
}

describe('micro publish / micro subscribe', () => {
  roundTrip('memory broker', () => ['--broker', 'memory'])
  const namespace = `cli-${randomUUID().slice(0, 8)}`
  roundTrip('default broker (memory registry)', () => ['--registry', 'memory', '--namespace', namespace])

  test('MICRO_BROKER picks the broker when --broker is not given', async () => {
    const before = process.env.MICRO_BROKER
    process.env.MICRO_BROKER = 'memory'
    try {
      const topic = `cli.${randomUUID().slice(0, 8)}`
      const sub = await startSubscriber([topic, '--count', '1'])
      await publishCli([topic, '{}'])
      assert.equal(await sub.done, 0)
      assert.equal(sub.lines.length, 1)
    } finally {
      if (before === undefined) delete process.env.MICRO_BROKER
      else process.env.MICRO_BROKER = before
    }
  })

  test('bytes that are not text are printed as base64', async () => {
    const topic = `cli.${randomUUID().slice(0, 8)}`
    const sub = await startSubscriber([topic, '--count', '2', '--broker', 'memory'])
    const broker = createBroker('memory')
    await broker.publish(topic, {
      headers: { 'content-type': 'application/octet-stream' },
      body: Uint8Array.from([0xff, 0, 1]),
    })
    await broker.publish(topic, {
      headers: { 'content-type': 'application/json' },
      body: Buffer.from('{broken'),
    })
    await broker.close()
    await sub.done
    assert.deepEqual(sub.lines[0], {
      topic,
      id: sub.lines[0]?.id,
      headers: sub.lines[0]?.headers,
      encoding: 'base64',
      payload: Buffer.from([0xff, 0, 1]).toString('base64'),
    })
    assert.equal(sub.lines[1]?.payload, '{broken')
    assert.match(
      String((sub.lines[1] as unknown as { error: string }).error),
      /cannot decode as application\/json/,
    )
  })

  test('help, and usage errors that say what is wrong', async () => {
    const out: string[] = []
    assert.equal(await publishCommand(['--help'], (t) => out.push(t)), 0)
    assert.equal(await subscribeCommand(['--help'], (t) => out.push(t)), 0)
    assert.deepEqual(out, [PUBLISH_HELP, SUBSCRIBE_HELP])
    const usage = (pattern: RegExp) => (e: unknown) => e instanceof UsageError && pattern.test(e.message)
    await assert.rejects(
      publishCommand([], () => {}),
      usage(/needs a topic/),
    )
    await assert.rejects(
      publishCommand(['t', '{bad'], () => {}),
      usage(/not valid JSON/),
    )
    await assert.rejects(
      publishCommand(['t', '{}', 'extra'], () => {}),
      usage(/at most 2 arguments/),
    )
    await assert.rejects(
      publishCommand(['t', '--metadata', 'novalue'], () => {}),
      usage(/key=value/),
    )
    await assert.rejects(
      publishCommand(['t', '--broker', 'kafka'], () => {}),
      usage(/known: default, memory/),
    )
    await assert.rejects(
      subscribeCommand([], () => {}),
      usage(/needs a topic/),
    )
    await assert.rejects(
      subscribeCommand(['t', '--count', 'x'], () => {}),
      usage(/--count/),
    )
    await assert.rejects(
      subscribeCommand(['t', '--frob'], () => {}),
      (e: unknown) => e instanceof UsageError,
    )
  })

  test('a bad topic is a 400 from the broker', async () => {
    await assert.rejects(
      publishCommand(['bad topic', '{}', '--broker', 'memory'], () => {}),
      (e: unknown) => (e as { code?: number }).code === 400,
    )
  })
})

describe('micro publish / micro subscribe on nats', { skip: nats.skip }, () => {
  roundTrip('nats', () => ['--broker', 'nats', '--broker_address', nats.address as string])
})
