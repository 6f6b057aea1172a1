import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { delimiter, join, relative } from 'node:path'
import { after, before, describe, test } from 'node:test'
import type { Service } from '../src/service/service.js'
import { runCli } from './support/cli.js'
import { startShop } from './support/cli-shop.js'

// Dynamic commands on this machine (no platform): the built CLI in a child process finds
// a real service over mDNS and calls it over TCP.

const namespace = `dyn-${randomUUID().slice(0, 8)}`
const configDir = await mkdtemp(join(tmpdir(), 'micro-cli-dyn-'))
const micro = (args: string[], input?: string) =>
  runCli(args, { MICRO_CONFIG_DIR: configDir, MICRO_NAMESPACE: namespace }, input)

describe('dynamic commands', () => {
  let shop: { service: Service; calls: () => number }
  before(async () => {
    shop = await startShop({ namespace, from: 'local' })
  })
  after(async () => {
    await shop.service.stop()
    await rm(configDir, { recursive: true, force: true })
  })

  test('flags are typed from the schema: numbers, booleans, arrays, nested objects, enums', async () => {
    const run = await micro([
      'shop',
      'place-order',
      '--item=tea',
      '--count',
      '3',
      '--price=2.5',
      '--gift',
      '--tags',
      'green,loose',
      '--tags=organic',
      '--address.city',
      'Paris',
      '--address.zip=75001',
      '--speed=fast',
    ])
    assert.equal(run.code, 0, run.stderr)
    assert.deepEqual(JSON.parse(run.stdout), {
      from: 'local',
      order: {
        item: 'tea',
        count: 3,
        price: 2.5,
        gift: true,
        tags: ['green', 'loose', 'organic'],
        address: { city: 'Paris', zip: '75001' },
        speed: 'fast',
      },
    })
    assert.equal(run.stdout, `${JSON.stringify(JSON.parse(run.stdout), null, 2)}\n`, 'indented JSON')
  })

  test("words map to endpoints as Micro v3's did, case-insensitively", async () => {
    const cases: [string[], unknown][] = [
      [['shop', 'hello', '--name=Ann'], { from: 'local', message: 'Hello Ann' }],
      [['shop', 'HELLO', '--name', 'Bo'], { from: 'local', message: 'Hello Bo' }],
      [
        ['shop', 'place', 'order', '--item=x', '--count=1'],
        { from: 'local', order: { item: 'x', count: 1 } },
      ],
      [['shop', 'admin', 'reset', '--hard'], { from: 'local', reset: true }],
      [['shop', 'reset'], { from: 'local', reset: false }],
    ]
    for (const [args, expected] of cases) {
      const run = await micro(args)
      assert.equal(run.code, 0, `micro ${args.join(' ')}: ${run.stderr}`)
      assert.deepEqual(JSON.parse(run.stdout), expected, `micro ${args.join(' ')}`)
    }
  })

  test('--json gives the whole request (or standard input with -); flags go on top', async () => {
    const whole = await micro(['shop', 'place-order', '--json', '{"item":"tea","count":2}', '--count=5'])
    assert.equal(whole.code, 0, whole.stderr)
    assert.deepEqual(JSON.parse(whole.stdout).order, { item: 'tea', count: 5 })
    const piped = await micro(['shop', 'place-order', '--json', '-'], '{"item":"cup","count":1}')
    assert.equal(piped.code, 0, piped.stderr)
    assert.deepEqual(JSON.parse(piped.stdout).order, { item: 'cup', count: 1 })
    const loose = await micro(['shop', 'loose', '--n=5', '--ok', '--deep.x=[1]', '--s', 'text'])
    assert.deepEqual(JSON.parse(loose.stdout).got, { n: 5, ok: true, deep: { x: [1] }, s: 'text' })
  })

  test('streaming endpoints stream: standard input lines, flags as one message, a JSON array', async () => {
    const lines = await micro(['shop', 'chat'], '{"name":"A"}\n{"name":"B"}\n')
    assert.equal(lines.code, 0, lines.stderr)
    assert.deepEqual(lines.stdout.trimEnd().split('\n'), [
      '{"from":"local","message":"Hello A"}',
      '{"from":"local","message":"Hello B"}',
    ])
    const counted = await micro(['shop', 'count', '--to', '3'])
    assert.equal(counted.code, 0, counted.stderr)
    assert.deepEqual(counted.stdout.trimEnd().split('\n'), ['{"n":1}', '{"n":2}', '{"n":3}'])
    const array = await micro(['shop', 'chat', '--json', '[{"name":"X"},{"name":"Y"}]'])
    assert.equal(array.stdout.trimEnd().split('\n').length, 2)
    const badLine = await micro(['shop', 'chat'], '{"name":"A"}\n{oops\n')
    assert.equal(badLine.code, 2)
    assert.match(badLine.stderr, /request on line 2 is not valid JSON/)
  })

  test('--help and the service name alone list the endpoints with their fields', async () => {
    for (const args of [['shop'], ['shop', '--help']]) {
      const run = await micro(args)
      assert.equal(run.code, 0, run.stderr)
      const text = run.stdout
      assert.match(text, new RegExp(`Endpoints of shop \\(namespace ${namespace}\\)`))
      assert.match(text, /micro shop place-order +Shop\.PlaceOrder/)
      assert.match(text, /micro shop admin reset +Admin\.Reset/)
      assert.match(text, /micro shop chat +Shop\.Chat {2}\(stream\)/)
      assert.match(text, /--item string +required; what to buy/)
      assert.match(text, /--count integer +required; how many/)
      assert.match(text, /--tags string\[\]/)
      assert.match(text, /--address\.city string +required with --address/)
      assert.match(text, /--speed string +one of "slow", "fast"/)
      assert.match(text, /micro shop loose +Shop\.Loose\n +\(no request schema published/)
    }
    const one = await micro(['shop', 'place-order', '--help'])
    assert.equal(one.code, 0)
    assert.match(one.stdout, /^Usage: micro shop place-order/)
    assert.doesNotMatch(one.stdout, /Shop\.Hello/)
  })

  test('bad input is a usage error (exit 2) that reaches no service', async () => {
    const before = shop.calls()
    const cases: [string[], RegExp][] = [
      [['shop', 'place-order', '--item=x', '--count=many'], /--count wants a number, not "many"/],
      [['shop', 'place-order', '--count=1.5'], /--count wants a whole number/],
      [['shop', 'place-order', '--gift=perhaps'], /--gift is true or false/],
      [['shop', 'place-order', '--speed=warp'], /--speed is one of "slow", "fast"/],
      [
        ['shop', 'place-order', '--itme=tea'],
        /unknown flag --itme \(did you mean --item\?\); the endpoint's flags: --item, --count, --price/,
      ],
      [['shop', 'place-order', '--json', '{item:'], /the request is not valid JSON/],
      [['shop', 'place-order', '--json', '[1]', '--count=1'], /flags set fields of a request object/],
      [
        ['shop', 'plase-order'],
        /shop has no endpoint for "plase-order"; did you mean: micro shop place-order/,
      ],
      [
        ['shop', 'frobnicate'],
        /no endpoint for "frobnicate"; it has: micro shop admin reset, micro shop chat/,
      ],
      [['shop', '--item=x'], /name an endpoint before the flags/],
      [['shop', 'hello', 'extra', 'words', '--name=x'], /no endpoint for "hello extra words"/],
      [['shop', 'hello', '--name', 'x', 'stray'], /unexpected argument stray/],
      [['shop', 'hello', '--timeout', 'soon'], /--timeout must be a duration/],
    ]
    for (const [args, pattern] of cases) {
      const run = await micro(args)
      assert.equal(run.code, 2, `micro ${args.join(' ')}: ${run.stderr}`)
      assert.match(run.stderr, pattern, `micro ${args.join(' ')}`)
      assert.match(run.stderr, /Run 'micro shop --help' for usage/)
    }
    assert.equal(shop.calls(), before)
  })

  test("the service's own errors and unknown services exit 1 with a clear message", async () => {
    const invalid = await micro(['shop', 'place-order', '--item=x'])
    assert.equal(invalid.code, 1)
    assert.match(invalid.stderr, /invalid request: count/)
    const unknown = await micro(['nosuch', 'hello'])
    assert.equal(unknown.code, 1)
    assert.match(
      unknown.stderr,
      new RegExp(`no service named nosuch in namespace ${namespace} or micro; micro services lists them`),
    )
    const option = await micro(['--nosuch'])
    assert.equal(option.code, 2)
    assert.match(option.stderr, /unknown option --nosuch/)
  })
})

describe('micro-<name> executables on PATH', () => {
  test('run before any service lookup, with the arguments and the exit code passed through', async () => {
    const dir = join(configDir, 'bin')
    const relativeDir = join(configDir, 'rel')
    await mkdir(dir, { recursive: true })
    await mkdir(relativeDir, { recursive: true })
    const script = '#!/bin/sh\necho "plugin $*"\nexit 3\n'
    await writeFile(join(dir, 'micro-hello'), script)
    await chmod(join(dir, 'micro-hello'), 0o755)
    await writeFile(join(relativeDir, 'micro-rel'), script)
    await chmod(join(relativeDir, 'micro-rel'), 0o755)
    await writeFile(join(dir, 'micro-plain'), script) // not executable
    const PATH = [relative(process.cwd(), relativeDir), dir, process.env.PATH].join(delimiter)
    const env = { MICRO_CONFIG_DIR: configDir, MICRO_NAMESPACE: namespace, PATH }
    const run = await runCli(['hello', 'a', '--b=c'], env)
    assert.equal(run.code, 3)
    assert.equal(run.stdout, 'plugin a --b=c\n')
    const relativeEntry = await runCli(['rel'], env)
    assert.equal(relativeEntry.code, 1, 'a relative PATH entry is never searched')
    assert.match(relativeEntry.stderr, /no service named rel/)
    const plain = await runCli(['plain'], env)
    assert.equal(plain.code, 1, 'a file that is not executable is not run')
    assert.match(plain.stderr, /no service named plain/)
  })
})
