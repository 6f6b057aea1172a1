import assert from 'node:assert/strict'
import type { Socket } from 'node:net'
import { describe, test } from 'node:test'
import { type Frame, FrameFlag, FrameType, newHeaders } from './frame.js'
import { decodeHeaders, FrameParser, ProtocolError, RememberedHeader } from './frame-parser.js'
import { FrameWriter } from './frame-writer.js'
import { headersBound, writeHeaders } from './header-block.js'

/** A stand-in socket that records what the writer writes. */
function recordingSocket() {
  const written: Buffer[] = []
  const socket = {
    writableLength: 0,
    writableNeedDrain: false,
    write(chunk: Buffer) {
      written.push(Buffer.from(chunk))
      return true
    },
    cork() {},
    uncork() {},
    on() {},
  }
  return {
    socket: socket as unknown as Socket,
    bytes: () => Buffer.concat(written),
    writes: () => written.length,
  }
}

function parseAll(bytes: Buffer, max = 1024 * 1024, chunkSize = bytes.length) {
  const frames: Frame[] = []
  const oversize: { id: number; size: number }[] = []
  const parser = new FrameParser(max, {
    frame: (type, flags, id, headers, body) =>
      frames.push({ type, flags, id, headers, body: Buffer.from(body) }),
    oversize: (_type, id, size) => oversize.push({ id, size }),
  })
  for (let i = 0; i < bytes.length; i += chunkSize) parser.push(bytes.subarray(i, i + chunkSize))
  return { frames, oversize }
}

describe('frames', () => {
  test('round-trip through writer and parser, whole and byte by byte', () => {
    const { socket, bytes, writes } = recordingSocket()
    const writer = new FrameWriter(socket)
    const headers = newHeaders()
    headers['micro-endpoint'] = 'Greeter.Hello'
    headers.timeout = '1500'
    headers['x-trace'] = 'héllo ✓'
    writer.frame(
      FrameType.Request,
      FrameFlag.Message | FrameFlag.End,
      7,
      headers,
      Buffer.from('{"name":"Alice"}'),
    )
    writer.frame(FrameType.Data, FrameFlag.End, 8, undefined, Buffer.alloc(20_000, 1))
    writer.frame(FrameType.End, FrameFlag.End, 9, undefined, undefined)
    writer.flush()
    assert.equal(writes(), 3, 'a chunk, then the large body uncopied, then the rest')
    for (const chunkSize of [bytes().length, 1, 7, 4096]) {
      const { frames } = parseAll(bytes(), 1024 * 1024, chunkSize)
      assert.equal(frames.length, 3)
      const [request, data, end] = frames as [Frame, Frame, Frame]
      assert.equal(request.type, FrameType.Request)
      assert.equal(request.id, 7)
      assert.equal(request.flags, FrameFlag.Message | FrameFlag.End)
      assert.deepEqual(
        { ...request.headers },
        { 'micro-endpoint': 'Greeter.Hello', timeout: '1500', 'x-trace': 'héllo ✓' },
      )
      assert.equal(request.body.toString(), '{"name":"Alice"}')
      assert.equal(data.body.length, 20_000)
      assert.ok(data.body.every((b) => b === 1))
      assert.equal(end.type, FrameType.End)
      assert.equal(end.body.length, 0)
      assert.equal(end.headers, undefined)
    }
  })

  test('frames queued in one turn are written together, in parts of 32 frames', async () => {
    const { socket, writes, bytes } = recordingSocket()
    const writer = new FrameWriter(socket)
    for (let i = 1; i <= 20; i++)
      writer.frame(FrameType.Data, FrameFlag.End, i, undefined, Buffer.from(`{"n":${i}}`))
    assert.equal(writes(), 0, 'nothing is written before the end of the turn')
    await new Promise((resolve) => setImmediate(resolve))
    assert.equal(writes(), 1)
    for (let i = 21; i <= 84; i++)
      writer.frame(FrameType.Data, FrameFlag.End, i, undefined, Buffer.from(`{"n":${i}}`))
    assert.equal(writes(), 3, 'two early writes of 32 frames each')
    await new Promise((resolve) => setImmediate(resolve))
    assert.equal(writes(), 3, 'nothing was left over')
    const ids = parseAll(bytes()).frames.map((f) => f.id)
    assert.deepEqual(
      ids,
      Array.from({ length: 84 }, (_, i) => i + 1),
    )
  })

  test('an oversize frame is reported and skipped, and the next frame still parses', () => {
    const { socket, bytes } = recordingSocket()
    const writer = new FrameWriter(socket)
    writer.frame(FrameType.Request, FrameFlag.Message, 1, undefined, Buffer.alloc(5000))
    writer.frame(FrameType.Request, FrameFlag.Message, 2, undefined, Buffer.from('ok'))
    writer.flush()
    for (const chunkSize of [bytes().length, 100]) {
      const { frames, oversize } = parseAll(bytes(), 1000, chunkSize)
      assert.deepEqual(oversize, [{ id: 1, size: 5000 }])
      assert.equal(frames.length, 1)
      assert.equal(frames[0]?.id, 2)
      assert.equal(frames[0]?.body.toString(), 'ok')
    }
  })

  test('malformed input is a ProtocolError', () => {
    const valid = () => {
      const { socket, bytes } = recordingSocket()
      const writer = new FrameWriter(socket)
      const headers = newHeaders()
      headers['x-key'] = 'value'
      writer.frame(FrameType.Request, 0, 1, headers, Buffer.from('x'))
      writer.flush()
      return bytes()
    }
    const badVersion = valid()
    badVersion[0] = 9
    assert.throws(() => parseAll(badVersion), ProtocolError)
    const badType = valid()
    badType[1] = 42
    assert.throws(() => parseAll(badType), /unknown frame type/)
    const badReserved = valid()
    badReserved[3] = 1
    assert.throws(() => parseAll(badReserved), /reserved/)
    const badHeader = valid()
    badHeader[16] = 100 // key length past the header block
    assert.throws(() => parseAll(badHeader), /malformed header/)
    const unknownIndex = valid()
    unknownIndex[16] = 0x80 | 120
    assert.throws(() => parseAll(unknownIndex), /unknown header index/)
  })

  test('header names that are too long are refused before anything is written', () => {
    const { socket, writes } = recordingSocket()
    const writer = new FrameWriter(socket)
    const headers = newHeaders()
    headers['k'.repeat(200)] = 'v'
    assert.throws(() => writer.frame(FrameType.Request, 0, 1, headers, undefined), RangeError)
    writer.flush()
    assert.equal(writes(), 0)
  })

  test('a header named __proto__ from the wire is dropped, not applied', () => {
    const { socket, bytes } = recordingSocket()
    const writer = new FrameWriter(socket)
    const hostile = Object.create(null) as Record<string, string>
    Object.defineProperty(hostile, '__proto__', { value: 'x', enumerable: true })
    hostile['x-ok'] = 'fine'
    writer.frame(FrameType.Request, 0, 1, hostile, undefined)
    writer.flush()
    assert.ok(bytes().includes(Buffer.from('__proto__')), 'the hostile header is on the wire')
    const headers = parseAll(bytes()).frames[0]?.headers as Record<string, string>
    assert.deepEqual(Object.keys(headers), ['x-ok'])
    assert.equal(Object.getPrototypeOf(headers), Object.prototype)
  })
})

describe('header values remembered per connection', () => {
  test('a long known value that repeats, then changes (same length, other bytes), decodes right each time', () => {
    const block = (value: string) => {
      const chunk = Buffer.alloc(headersBound({ authorization: value, 'x-other': value }))
      const end = writeHeaders(chunk, 0, { authorization: value, 'x-other': value })
      return chunk.subarray(0, end)
    }
    const remembered = new RememberedHeader()
    const first = `Bearer ${'a'.repeat(300)}`
    const second = `Bearer ${'a'.repeat(299)}b`
    for (const value of [first, first, second, first, `Bearer short`]) {
      const bytes = block(value)
      assert.deepEqual(decodeHeaders(bytes, 0, bytes.length, remembered), {
        authorization: value,
        'x-other': value,
      })
    }
    // A value changed in place in the received buffer (a reused read buffer) is read again.
    const bytes = block(first)
    decodeHeaders(bytes, 0, bytes.length, remembered)
    bytes[bytes.indexOf('aaaa') + 10] = 'z'.charCodeAt(0)
    assert.match(decodeHeaders(bytes, 0, bytes.length, remembered).authorization as string, /z/)
  })
})
