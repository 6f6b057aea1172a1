import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { z } from 'zod'
import type { EndpointRecord } from '../../registry/registry.js'
import { jsonSchemaOf } from '../../server/schema.js'
import { UsageError } from '../args.js'
import { fieldsOf, typeLabel } from './fields.js'
import { requestFromFlags } from './flags.js'
import { camel, closest, commandWords, endpointFor, kebab } from './words.js'

const Order = z.object({
  item: z.string().describe('what to buy'),
  count: z.number().int(),
  price: z.number().optional(),
  gift: z.boolean().optional(),
  tags: z.array(z.string()).optional(),
  sizes: z.array(z.number().int()).optional(),
  address: z.object({ city: z.string(), zip: z.string().optional() }).optional(),
  labels: z.record(z.string(), z.number()).optional(),
  speed: z.enum(['slow', 'fast']).optional(),
  note: z.string().nullable().optional(),
})
const schema = jsonSchemaOf(Order, 'input')
const fields = fieldsOf(schema)

function usage(fn: () => unknown, pattern: RegExp): void {
  assert.throws(fn, (e: unknown) => e instanceof UsageError && pattern.test(e.message))
}

describe('dynamic command fields from a JSON Schema', () => {
  test('each property is a typed flag; nested objects add dotted flags; maps and arrays keep their item type', () => {
    const shown = Object.fromEntries(fields.map((f) => [f.flag, `${typeLabel(f)}${f.required ? '!' : ''}`]))
    assert.deepEqual(shown, {
      item: 'string!',
      count: 'integer!',
      price: 'number',
      gift: 'boolean',
      tags: 'string[]',
      sizes: 'integer[]',
      address: 'object',
      'address.city': 'string',
      'address.zip': 'string',
      labels: 'map<number>',
      speed: 'string',
      note: 'string',
    })
    assert.equal(fields.find((f) => f.flag === 'item')?.description, 'what to buy')
    assert.equal(fields.find((f) => f.flag === 'address.city')?.requiredInParent, true)
    assert.equal(fields.find((f) => f.flag === 'address.zip')?.requiredInParent, undefined)
    assert.deepEqual(fields.find((f) => f.flag === 'speed')?.choices, ['slow', 'fast'])
  })

  test('a recursive $ref stops as a JSON flag instead of expanding forever', () => {
    const tree = {
      type: 'object',
      properties: { root: { $ref: '#/$defs/Node' } },
      $defs: {
        Node: {
          type: 'object',
          properties: { name: { type: 'string' }, child: { $ref: '#/$defs/Node' } },
        },
      },
    }
    assert.deepEqual(
      fieldsOf(tree).map((f) => `${f.flag}:${typeLabel(f)}`),
      ['root:object', 'root.name:string', 'root.child:json'],
    )
    assert.deepEqual(
      fieldsOf({ type: 'object', properties: { x: { $ref: '#/nowhere' } } }).map((f) => f.kind),
      ['any'],
    )
    assert.deepEqual(fieldsOf(undefined), [])
  })
})

describe('dynamic command flags to a request', () => {
  test('values are typed: numbers, integers, booleans, arrays (repeated or comma lists), nested, maps', () => {
    const request = requestFromFlags(
      [
        '--item=tea',
        '--count',
        '3',
        '--price=-1.5',
        '--gift',
        '--tags',
        'a,b',
        '--tags=c',
        '--sizes=[1,2]',
        '--address.city',
        'Paris',
        '--labels.weight=2.5',
        '--speed=fast',
        '--note',
        'hi there',
      ],
      fields,
    )
    assert.deepEqual(request, {
      item: 'tea',
      count: 3,
      price: -1.5,
      gift: true,
      tags: ['a', 'b', 'c'],
      sizes: [1, 2],
      address: { city: 'Paris' },
      labels: { weight: 2.5 },
      speed: 'fast',
      note: 'hi there',
    })
    assert.deepEqual(requestFromFlags(['--gift=false', '--count=0'], fields), { gift: false, count: 0 })
  })

  test('an object flag takes JSON and merges with its dotted flags; flags go on top of a --json base', () => {
    const request = requestFromFlags(['--address={"city":"Rome","zip":"001"}', '--address.zip=002'], fields, {
      item: 'x',
      count: 1,
    })
    assert.deepEqual(request, { item: 'x', count: 1, address: { city: 'Rome', zip: '002' } })
    const base = { tags: ['old'] }
    assert.deepEqual(
      requestFromFlags(['--tags=new'], fields, base),
      { tags: ['new'] },
      'a flag replaces the base array',
    )
    assert.deepEqual(base, { tags: ['old'] }, 'the base is not changed')
  })

  test('bad values are usage errors that name the flag and what it wants', () => {
    usage(() => requestFromFlags(['--count=x'], fields), /--count wants a number, not "x"/)
    usage(() => requestFromFlags(['--count=1.5'], fields), /--count wants a whole number/)
    usage(() => requestFromFlags(['--count='], fields), /--count wants a number/)
    usage(() => requestFromFlags(['--gift=maybe'], fields), /--gift is true or false/)
    usage(() => requestFromFlags(['--speed=warp'], fields), /--speed is one of "slow", "fast"/)
    usage(() => requestFromFlags(['--sizes=1,x'], fields), /--sizes wants a number/)
    usage(() => requestFromFlags(['--address=[1]'], fields), /--address wants a JSON object/)
    usage(() => requestFromFlags(['--address={bad'], fields), /--address is not valid JSON/)
    usage(() => requestFromFlags(['--item'], fields), /--item needs a value/)
    usage(() => requestFromFlags(['--item', '--count=1'], fields), /--item needs a value/)
    usage(() => requestFromFlags(['stray'], fields), /unexpected argument stray/)
    usage(() => requestFromFlags(['-x'], fields), /unexpected argument -x/)
    usage(() => requestFromFlags(['--address..city=x'], fields), /bad flag/)
    usage(() => requestFromFlags(['--item=a', '--item.sub=b'], fields), /unknown flag --item.sub/)
  })

  test('an unknown flag lists the known ones and suggests the close one', () => {
    usage(
      () => requestFromFlags(['--itme=tea'], fields),
      /unknown flag --itme \(did you mean --item\?\); the endpoint's flags: --item, --count, .*--address.city/,
    )
    usage(() => requestFromFlags(['--x=1'], []), /unknown flag --x; the endpoint's flags: none/)
  })

  test('without a schema any flag goes, as JSON when it parses', () => {
    assert.deepEqual(requestFromFlags(['--n=5', '--ok', '--s=text', '--o.p=[1]'], undefined), {
      n: 5,
      ok: true,
      s: 'text',
      o: { p: [1] },
    })
  })

  test('__proto__ in a flag path is an own key of the request, never its prototype', () => {
    const request = requestFromFlags(['--__proto__.polluted=1', '--constructor.prototype.x=2'], undefined)
    assert.equal(({} as Record<string, unknown>).polluted, undefined)
    assert.equal(({} as Record<string, unknown>).x, undefined)
    assert.equal(Object.getPrototypeOf(request), Object.prototype)
    assert.equal(JSON.stringify(request), '{"__proto__":{"polluted":1},"constructor":{"prototype":{"x":2}}}')
  })
})

describe('dynamic command words to an endpoint', () => {
  const endpoints: EndpointRecord[] = [
    'Greeter.Hello',
    'Greeter.SayHello',
    'Greeter.Chat',
    'Admin.Reset',
    'Admin.Hello',
    'Stats.Count',
  ].map((name) => ({ name, metadata: {} }))
  const find = (...words: string[]) => endpointFor('greeter', words, endpoints)?.name

  test("Micro v3's mapping, case-insensitive, with - words CamelCased", () => {
    assert.equal(find('hello'), 'Greeter.Hello')
    assert.equal(find('HELLO'), 'Greeter.Hello')
    assert.equal(find('say-hello'), 'Greeter.SayHello')
    assert.equal(find('sayhello'), 'Greeter.SayHello')
    assert.equal(find('say', 'hello'), 'Greeter.SayHello', 'two words: Service.AB when A.B is none')
    assert.equal(find('admin', 'reset'), 'Admin.Reset')
    assert.equal(find('admin', 'hello'), 'Admin.Hello')
    assert.equal(find('count'), 'Stats.Count', 'one word: the only endpoint with that method')
    assert.equal(find('reset'), 'Admin.Reset')
    assert.equal(find('nope'), undefined)
    assert.equal(find('admin', 'reset', 'now'), undefined)
    assert.equal(endpointFor('my-shop', ['buy'], [{ name: 'MyShop.Buy', metadata: {} }])?.name, 'MyShop.Buy')
  })

  test('command words, camel and kebab round-trip; close words are suggested', () => {
    assert.deepEqual(commandWords('greeter', 'Greeter.SayHello'), ['say-hello'])
    assert.deepEqual(commandWords('greeter', 'Admin.Reset'), ['admin', 'reset'])
    assert.equal(kebab('GetHTTPStatus'), 'get-http-status')
    assert.equal(camel('get-http-status'), 'GetHttpStatus')
    assert.deepEqual(closest('hullo', ['hello', 'chat', 'say-hello', 'admin hello']), ['hello'])
    assert.deepEqual(closest('zzzzzz', ['hello']), [])
  })
})
