import assert from 'node:assert/strict'
import { test } from 'node:test'
import type { Codec } from './codec.js'
import { Codecs, defaultCodecs } from './codecs.js'
import { codecConformance } from './conformance.js'
import { jsonCodec } from './json.js'
import { msgpackCodec } from './msgpack.js'
import { rawCodec } from './raw.js'

codecConformance(jsonCodec, Buffer.from('{"name":'))
codecConformance(msgpackCodec, Buffer.from([0x81, 0xa1]))

test('raw bytes pass through; strings become bytes; other values are refused', () => {
  const bytes = Buffer.from([0, 1, 2, 255])
  assert.deepEqual([...(rawCodec.decode(rawCodec.encode(bytes)) as Buffer)], [0, 1, 2, 255])
  assert.equal((rawCodec.decode(rawCodec.encode('hi')) as Buffer).toString(), 'hi')
  assert.throws(() => rawCodec.encode({ a: 1 }), /needs a Uint8Array or string/)
})

test('msgpack is plain MessagePack maps (no msgpackr record extension)', () => {
  // {"a":1} as a map16 (msgpackr reserves room for the count): 0xde 0x00 0x01 'a' 1
  assert.deepEqual([...msgpackCodec.encode({ a: 1 })], [0xde, 0x00, 0x01, 0xa1, 0x61, 0x01])
  // and a standard fixmap from another encoder decodes
  assert.deepEqual(msgpackCodec.decode(Buffer.from([0x81, 0xa1, 0x61, 0x01])), { a: 1 })
})

test('lookup by content type ignores case and parameters; empty means JSON', () => {
  assert.equal(defaultCodecs.get('Application/JSON; charset=utf-8'), jsonCodec)
  assert.equal(defaultCodecs.get(undefined), jsonCodec)
  assert.equal(defaultCodecs.get('application/x-msgpack'), msgpackCodec)
  assert.equal(defaultCodecs.get('text/weird'), undefined)
  assert.deepEqual(defaultCodecs.contentTypes(), [
    'application/json',
    'application/msgpack',
    'application/octet-stream',
  ])
})

test('new codecs (e.g. protobuf) plug in by content type', () => {
  const fake: Codec = {
    contentType: 'application/protobuf',
    aliases: ['application/x-protobuf'],
    encode: (v) => Buffer.from(String(v)),
    decode: (b) => Buffer.from(b).toString(),
  }
  const codecs = new Codecs().register(fake)
  assert.equal(codecs.get('application/x-protobuf'), fake)
  assert.equal(codecs.get('application/json'), jsonCodec)
})
