import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { BatchParts, decodeBatch, encodeBatch } from './batch.js'

const body = (text: string) => Buffer.from(text)
const decode = (bytes: Uint8Array) =>
  decodeBatch(bytes, (headers, payload) => ({ headers, body: payload.toString('utf8') }))

describe('broker batch', () => {
  test('messages round-trip in order; headers equal but for the id travel once', () => {
    const parts = new BatchParts()
    const common = { 'content-type': 'application/json', 'micro-topic': 't' }
    parts.add({ ...common, 'micro-id': 'a' }, body('1'))
    parts.add({ ...common, 'micro-id': 'b' }, body('2'))
    parts.add({ ...common, 'micro-id': 'c', 'x-extra': 'yes' }, body('3'))
    parts.add({ ...common, 'micro-id': 'd' }, body(''))
    assert.deepEqual(parts.repeats, [false, true, false, false])
    const decoded = decode(encodeBatch(parts))
    assert.deepEqual(decoded, [
      { headers: { ...common, 'micro-id': 'a' }, body: '1' },
      { headers: { ...common, 'micro-id': 'b' }, body: '2' },
      { headers: { ...common, 'micro-id': 'c', 'x-extra': 'yes' }, body: '3' },
      { headers: { ...common, 'micro-id': 'd' }, body: '' },
    ])
    // Each message has its own headers object.
    assert.notEqual(decoded[0]?.headers, decoded[1]?.headers)
  })

  test('headers changed by the caller after add do not change what was queued', () => {
    const parts = new BatchParts()
    const headers: Record<string, string> = { 'micro-topic': 't', 'micro-id': '1', 'x-n': 'first' }
    parts.add(headers, body('a'))
    headers['x-n'] = 'second'
    headers['micro-id'] = '2'
    parts.add(headers, body('b'))
    assert.deepEqual(
      decode(encodeBatch(parts)).map((m) => m.headers['x-n']),
      ['first', 'second'],
    )
  })

  test('non-ASCII headers and large batches survive', () => {
    const parts = new BatchParts()
    for (let n = 0; n < 3000; n++)
      parts.add({ 'micro-topic': 't', 'micro-id': `${n}`, 'x-name': 'Zoë ✓' }, body(`${n}`))
    const decoded = decode(encodeBatch(parts))
    assert.equal(decoded.length, 3000)
    assert.equal(decoded[2999]?.headers['x-name'], 'Zoë ✓')
    assert.equal(decoded[2999]?.headers['micro-id'], '2999')
    assert.equal(decoded[2999]?.body, '2999')
  })

  test('bytes that are not a batch are refused whole with a 400 naming the problem', () => {
    const cases: [Buffer, RegExp][] = [
      [Buffer.from([7]), /unknown message kind 7/],
      [Buffer.from([1, 0, 1, 0x61, 0, 0, 0, 0]), /repeat with no message before it/],
      [Buffer.from([0, 0, 0]), /truncated header length/],
      [Buffer.from([0, 0, 0, 0, 9, 0x7b]), /truncated headers/],
      [
        Buffer.concat([Buffer.from([0, 0, 0, 0, 2]), Buffer.from('[]'), Buffer.from([0, 0, 0, 0])]),
        /not an object/,
      ],
      [
        Buffer.concat([Buffer.from([0, 0, 0, 0, 2]), Buffer.from('{x'), Buffer.from([0, 0, 0, 0])]),
        /malformed headers/,
      ],
      [
        Buffer.concat([Buffer.from([0, 0, 0, 0, 2]), Buffer.from('{}'), Buffer.from([0, 0, 0, 5, 0x61])]),
        /truncated body/,
      ],
    ]
    for (const [bytes, pattern] of cases) {
      assert.throws(
        () => decode(bytes),
        (e: unknown) => (e as { code?: number }).code === 400 && pattern.test((e as Error).message),
        String(pattern),
      )
    }
  })
})
