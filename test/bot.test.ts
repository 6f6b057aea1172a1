import assert from 'node:assert/strict'
import { existsSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import { renderPlain } from '../src/bot/adapters/plain.js'
import { MemoryAuditSink } from '../src/bot/audit.js'
import { BindingsFile, writeBotFile } from '../src/bot/bindings.js'
import { Bot, type BotLimits } from '../src/bot/bot.js'
import { Identities } from '../src/bot/identity.js'
import type { Reply } from '../src/bot/reply.js'
import { type BotPlatform, startBotPlatform } from './support/bot-platform.js'
import { TICKER, waitUntil } from './support/runtime.js'
import { until } from './support/until.js'

// The bot end to end: real services, a real platform with the real auth (enforce mode),
// the real runtime; chat users bound to accounts whose rules differ. Messages go through
// Bot.handle as an adapter hands them (the console adapter itself: bot-console.test.ts).

const ALICE = 'console:alice' // ops: may do anything
const BOB = 'xmpp:bob@example.com' // viewer: may list and call greeter, nothing else
const MALLORY = 'slack:U0MALLORY' // bound to nothing

let platform: BotPlatform
let dir: string
let file: string
let audit: MemoryAuditSink
let bot: Bot
let secrets: string[]

function makeBot(limits: Partial<BotLimits> = {}, sink = audit): Bot {
  const identities = new Identities({
    bindings: new BindingsFile(file),
    platform: platform.address,
    unbound: 'deny',
    namespace: 'micro',
  })
  return new Bot({
    identities,
    audit: sink,
    platform: platform.address,
    limits: { rate: { capacity: 10_000, refillMs: 1 }, ...limits },
  })
}

async function ask(user: string, text: string, on = bot): Promise<{ reply: Reply; text: string }> {
  const reply = await on.handle({ adapter: user.split(':')[0] as string, user, text })
  return { reply, text: renderPlain(reply) }
}

function lastAudit() {
  const record = audit.records.at(-1)
  assert.ok(record, 'an audit record was written')
  return record
}

before(async () => {
  platform = await startBotPlatform()
  const alice = await platform.account('ops-alice', ['ops'])
  const bob = await platform.account('viewer-bob', ['viewer'])
  secrets = [alice, bob]
  await platform.grant('ops', '*', '*')
  await platform.grant('viewer', 'platform', 'Registry.ListServices')
  await platform.grant('viewer', 'platform', 'Registry.GetService')
  await platform.grant('viewer', 'greeter', '*')
  dir = await mkdtemp(join(tmpdir(), 'micro-bot-'))
  file = join(dir, 'bot.json')
  await writeBotFile(file, {
    bindings: {
      [ALICE]: { namespace: 'micro', account: 'ops-alice' },
      [BOB]: { namespace: 'micro', account: 'viewer-bob' },
    },
    secrets: { 'micro/ops-alice': alice, 'micro/viewer-bob': bob },
  })
  audit = new MemoryAuditSink()
  bot = makeBot()
  await platform.runtime.create({ source: TICKER, name: 'ticker' })
  await waitUntil(
    async () => (await platform.runtime.read({ name: 'ticker' }))[0]?.status === 'running',
    'ticker running',
  )
})

after(async () => {
  await platform.close()
  await rm(dir, { recursive: true, force: true })
})

describe('the CLI commands in chat', () => {
  test('services answers a table of the services, as the bound account', async () => {
    const { reply, text } = await ask(ALICE, 'services')
    assert.equal(reply.status, 'ok', text)
    assert.equal(reply.blocks[0]?.kind, 'code')
    assert.match(text, /^NAME\s+VERSION\s+NODES\s+ENDPOINTS$/m)
    assert.match(text, /^greeter\s+\S+\s+1\s+Greeter\.Big, Greeter\.Hello, Greeter\.Slow$/m)
    // The platform's long list of endpoints is cut at the width.
    assert.match(text, /^platform\s.*…$/m)
    assert.match(text, /^ops\s/m)
    for (const line of text.split('\n')) assert.ok([...line].length <= 100, `line within the width: ${line}`)
    const record = lastAudit()
    assert.deepEqual(
      {
        user: record.user,
        account: record.account,
        command: record.command,
        allowed: record.allowed,
        outcome: record.outcome,
      },
      { user: ALICE, account: 'micro/ops-alice', command: 'services', allowed: true, outcome: 'ok' },
    )
    assert.ok(record.durationMs >= 0)
  })

  test('call answers the reply as JSON, unicode intact; `micro` in front is the same', async () => {
    const { reply, text } = await ask(ALICE, `micro call greeter Greeter.Hello '{"name":"Zoë 🚀 日本"}'`)
    assert.equal(reply.status, 'ok', text)
    assert.deepEqual(JSON.parse(reply.blocks[0]?.text as string), { message: 'Hello Zoë 🚀 日本' })
  })

  test('a dynamic command calls the service with its flags as the request', async () => {
    const { reply, text } = await ask(BOB, 'greeter hello --name=Alice')
    assert.equal(reply.status, 'ok', text)
    assert.match(text, /"message": "Hello Alice"/)
  })

  test('describe shows the schemas', async () => {
    const { reply, text } = await ask(ALICE, 'describe ops')
    assert.equal(reply.status, 'ok', text)
    assert.match(text, /"Ops.Deploy"/)
  })

  test('status and logs -n come from the runtime; logs -f is refused', async () => {
    const status = await ask(ALICE, 'status')
    assert.equal(status.reply.status, 'ok', status.text)
    assert.match(status.text, /^ticker\s+\S+\s+\S+\s+running\s+1\/1/m)
    const logs = await ask(ALICE, 'logs ticker -n 5')
    assert.equal(logs.reply.status, 'ok', logs.text)
    assert.match(logs.text, /ticker .*starting/)
    const follow = await ask(ALICE, 'logs ticker -f')
    assert.equal(follow.reply.status, 'denied')
    assert.match(follow.text, /not allowed: logs -f/)
  })

  test('help lists the commands, and those the services register', async () => {
    const { reply, text } = await ask(ALICE, 'help')
    assert.equal(reply.status, 'ok')
    assert.match(text, /services\s+the services/)
    assert.match(text, /deploy\s+ops Ops\.Deploy: roll a service out to a version/)
    // A CLI command's name and a name that is no plain word are not taken from services.
    assert.doesNotMatch(text, /ops Ops\.Shadow|Rm -rf/)
  })
})

describe('commands services register', () => {
  test('deploy runs Ops.Deploy with typed flags', async () => {
    const { reply, text } = await ask(ALICE, 'deploy --service=orders --version 1.2.3 --instances=3')
    assert.equal(reply.status, 'ok', text)
    assert.deepEqual(JSON.parse(reply.blocks[0]?.text as string), {
      deployed: 'orders',
      version: '1.2.3',
      instances: 3,
    })
    assert.deepEqual(platform.deploys.at(-1), { service: 'orders', version: '1.2.3', instances: 3 })
  })

  test('a name two services register asks which one', async () => {
    const { reply, text } = await ask(ALICE, 'rollback')
    assert.equal(reply.status, 'bad-input')
    assert.match(
      text,
      /rollback is registered by more than one service: .*ops \(Ops\.Rollback\).*audit \(Trail\.Rollback\)/,
    )
  })

  test('a bad flag is a usage error with the help hint', async () => {
    const { reply, text } = await ask(ALICE, 'deploy --service=orders --instances=many')
    assert.equal(reply.status, 'bad-input', text)
    assert.match(text, /usage: .*instances/)
  })
})

describe('the auth rules decide', () => {
  test('a command the rules deny answers "not allowed" and is audited as denied', async () => {
    const before = platform.deploys.length
    const { reply, text } = await ask(BOB, 'deploy --service=orders --version=9')
    assert.equal(reply.status, 'denied', text)
    assert.match(text, /^not allowed: /m)
    assert.equal(platform.deploys.length, before, 'the deploy never ran')
    const record = lastAudit()
    assert.equal(record.allowed, false)
    assert.equal(record.deniedBy, 'rules')
    assert.equal(record.code, 403)
    assert.equal(record.account, 'micro/viewer-bob')
    assert.equal(record.command, 'deploy --service=orders --version=9')
  })

  test('the same command by an account the rules allow runs', async () => {
    const { reply } = await ask(ALICE, 'deploy --service=orders --version=9')
    assert.equal(reply.status, 'ok')
    assert.equal(lastAudit().allowed, true)
  })

  test('the runtime is out of reach of an account without a rule for it', async () => {
    const { reply, text } = await ask(BOB, 'status')
    assert.equal(reply.status, 'denied', text)
    assert.equal(lastAudit().deniedBy, 'rules')
  })

  test('an unbound user is refused and audited; the reply says how to get bound', async () => {
    const { reply, text } = await ask(MALLORY, 'services')
    assert.equal(reply.status, 'denied')
    assert.match(text, /not bound to a platform account.*micro bot bind slack:U0MALLORY/)
    const record = lastAudit()
    assert.deepEqual([record.allowed, record.deniedBy, record.account], [false, 'binding', undefined])
  })

  test("with MICRO_BOT_UNBOUND=bot an unbound user runs as the bot's own account, held to its rules", async () => {
    const secret = await platform.account('chatbot', ['chatbot'])
    secrets.push(secret)
    await platform.grant('chatbot', 'platform', 'Registry.ListServices')
    const open = new Bot({
      identities: new Identities({
        bindings: new BindingsFile(file),
        platform: platform.address,
        bot: { namespace: 'micro', id: 'chatbot', secret },
        unbound: 'bot',
        namespace: 'micro',
      }),
      audit,
      platform: platform.address,
    })
    const listed = await ask(MALLORY, 'services', open)
    assert.equal(listed.reply.status, 'ok', listed.text)
    assert.equal(lastAudit().account, "micro/chatbot (the bot's account)")
    const called = await ask(MALLORY, 'greeter hello --name=x', open)
    assert.equal(called.reply.status, 'denied', called.text)
    assert.equal(lastAudit().deniedBy, 'rules')
    // A bound user is still their own account.
    assert.equal((await ask(BOB, 'greeter hello --name=x', open)).reply.status, 'ok')
    assert.equal(lastAudit().account, 'micro/viewer-bob')
  })

  test('a binding whose secret no longer works is refused, not crashed on', async () => {
    const other = join(dir, 'stale.json')
    await writeBotFile(other, {
      bindings: { 'console:stale': { namespace: 'micro', account: 'ops-alice' } },
      secrets: { 'micro/ops-alice': 'not-the-secret-at-all' },
    })
    const stale = new Bot({
      identities: new Identities({
        bindings: new BindingsFile(other),
        platform: platform.address,
        unbound: 'deny',
        namespace: 'micro',
      }),
      audit,
    })
    const { reply, text } = await ask('console:stale', 'services', stale)
    assert.equal(reply.status, 'denied')
    assert.match(text, /could not log in/)
    assert.doesNotMatch(text, /not-the-secret-at-all/)
  })
})

describe("the bot's policy", () => {
  const refused: Array<[string, RegExp]> = [
    ['store write k v', /store is not offered in chat/],
    ['run ./orders', /run is not available in chat: it runs folders/],
    ['login --token abc', /login is not available in chat/],
    ['env set prod', /env is not available in chat/],
    ['bot', /bot is not available in chat/],
    ['subscribe orders', /subscribe is not available in chat/],
    ['services --platform 10.0.0.1:8081', /--platform is not available in chat/],
    ['services --registry=mdns', /--registry is not available in chat/],
    ['call greeter Greeter.Hello --address 127.0.0.1:1', /--address is not available in chat/],
    ['call greeter Greeter.Hello -', /standard input/],
    ['greeter hello --json=-', /standard input/],
    ['greeter hello --metadata authorization=Bearer x', /metadata naming the caller/],
    ['greeter hello --metadata=micro-caller=admin', /metadata naming the caller/],
  ]
  for (const [command, why] of refused) {
    test(`refused: ${command}`, async () => {
      const { reply, text } = await ask(ALICE, command)
      assert.equal(reply.status, 'denied', text)
      assert.match(text, why)
      const record = lastAudit()
      assert.deepEqual([record.allowed, record.deniedBy], [false, 'policy'])
    })
  }

  test('a command offered by configuration runs', async () => {
    const { chatPolicy } = await import('../src/bot/policy.js')
    const wider = new Bot({
      identities: new Identities({
        bindings: new BindingsFile(file),
        platform: platform.address,
        unbound: 'deny',
        namespace: 'micro',
      }),
      audit,
      platform: platform.address,
      policy: chatPolicy(['config get']),
    })
    const get = await ask(ALICE, 'config get x', wider)
    // It ran: the answer is config's own (nothing set), not a refusal.
    assert.match(get.text, /config x is not set in namespace micro/)
    assert.equal(lastAudit().allowed, true)
    const set = await ask(ALICE, 'config set x 1', wider)
    assert.equal(set.reply.status, 'denied')
    assert.match(set.text, /only config get is offered/)
    assert.throws(() => chatPolicy(['run']), /run cannot be offered in chat/)
  })
})

describe('bad input', () => {
  const attacks: Array<[string, string, RegExp]> = [
    ['a command separator', 'services; rm -rf /', /; is shell syntax/],
    ['a pipe', 'services | sh', /\| is shell syntax/],
    ['backquotes', 'call greeter Greeter.Hello `id`', /` is shell syntax/],
    ['command substitution', 'greeter hello --name=$(id)', /\$\( is shell syntax/],
    // biome-ignore lint/suspicious/noTemplateCurlyInString: the attack is this literal text
    ['parameter expansion', 'greeter hello --name=${HOME}', /\$\{ is shell syntax/],
    ['a redirection', 'services > /etc/passwd', /> is shell syntax/],
    ['a background job', 'services & reboot', /& is shell syntax/],
    ['a second line', 'services\nrm -rf /', /one command per message/],
    ['an unterminated quote', `call greeter Greeter.Hello '{"name":"x"}`, /unterminated ' quote/],
    ['a NUL byte', 'services\u0000--help', /control character \(U\+0000\)/],
    ['a bidirectional override', 'services \u202e--json', /control character \(U\+202E\)/],
    ['a trailing backslash', 'services \\', /backslash at the end/],
    ['an option first', '--platform evil services', /start with a command/],
  ]
  for (const [what, text, why] of attacks) {
    test(`${what} is refused with a clear error and audited`, async () => {
      const { reply, text: answer } = await ask(ALICE, text)
      assert.equal(reply.status, 'bad-input', answer)
      assert.match(answer, why)
      const record = lastAudit()
      assert.equal(record.outcome, 'bad-input')
      assert.equal(record.allowed, false)
    })
  }

  test('shell syntax inside quotes is only text: it reaches the service literally and nothing runs', async () => {
    const marker = join(dir, 'pwned')
    const name = `; rm -rf / $(touch ${marker}) \`touch ${marker}\` | & > <`
    const { reply, text } = await ask(ALICE, `greeter hello --name='${name}'`)
    assert.equal(reply.status, 'ok', text)
    assert.equal(JSON.parse(reply.blocks[0]?.text as string).message, `Hello ${name}`)
    assert.equal(existsSync(marker), false)
  })

  test('a quoted line break is kept (pasted JSON)', async () => {
    const { reply, text } = await ask(ALICE, `call greeter Greeter.Hello '{\n  "name": "multi"\n}'`)
    assert.equal(reply.status, 'ok', text)
    assert.match(text, /Hello multi/)
  })

  test('a message past the length limit is refused unread', async () => {
    const long = `call greeter Greeter.Hello '${JSON.stringify({ name: 'y'.repeat(100_000) })}'`
    const { reply, text } = await ask(ALICE, long)
    assert.equal(reply.status, 'bad-input')
    assert.match(text, /a command takes at most 2000/)
    assert.equal(lastAudit().command, `[${long.length} characters]`)
  })

  test('too many words are refused', async () => {
    const { reply, text } = await ask(ALICE, `services ${'a '.repeat(200)}`)
    assert.equal(reply.status, 'bad-input')
    assert.match(text, /too many words/)
  })

  test('a JSON request that is not JSON, an unknown service, an unknown endpoint: clear errors', async () => {
    const json = await ask(ALICE, `call greeter Greeter.Hello '{"name":'`)
    assert.equal(json.reply.status, 'bad-input')
    assert.match(json.text, /usage: the request is not valid JSON/)
    const service = await ask(ALICE, 'nosuchservice do-it')
    assert.equal(service.reply.status, 'error')
    assert.match(service.text, /error 404: no service named nosuchservice/)
    const endpoint = await ask(ALICE, 'call greeter Greeter.Nope')
    assert.match(endpoint.text, /error 404: service greeter has no endpoint Greeter.Nope/)
  })

  test("a service's terminal escapes and control characters never reach the chat", async () => {
    const raw = ['\u001b', '\u0007', '\u202e']
    // Raw in a runtime service's output (its log lines), not JSON-escaped.
    await platform.runtime.create({
      source: TICKER,
      name: 'colours',
      env: { TICKER_GREETING: '\u001b[31mred\u001b[0m \u0007bell \u202eevil' },
    })
    await waitUntil(
      async () => (await platform.runtime.read({ name: 'colours' }))[0]?.status === 'running',
      'colours running',
    )
    const { reply, text } = await ask(ALICE, 'logs colours -n 5')
    assert.equal(reply.status, 'ok', text)
    assert.match(text, /starting red \uFFFDbell \uFFFDevil/)
    for (const char of raw) assert.equal(text.includes(char), false, `no ${JSON.stringify(char)}`)
  })

  test('after every attack the bot still answers a good command', async () => {
    const { reply } = await ask(ALICE, 'greeter hello --name=still-here')
    assert.equal(reply.status, 'ok')
  })
})

describe('limits', () => {
  test('a long reply is cut with a note saying how much is left out', async () => {
    const { reply, text } = await ask(ALICE, 'call greeter Greeter.Big')
    assert.equal(reply.status, 'ok')
    const shown = reply.blocks.reduce((n, b) => n + b.text.length, 0)
    assert.ok(shown < 3500 + 400, `the reply is bounded (${shown})`)
    assert.match(text, /truncated: \d+ more lines? \(\d+ characters\) not shown/)
    assert.match(text, /line 0 x+/)
  })

  test('per-user rate limit: past it, an answer to slow down, audited once; others unaffected', async () => {
    const sink = new MemoryAuditSink()
    const limited = makeBot({ rate: { capacity: 3, refillMs: 3_600_000 } }, sink)
    for (let i = 0; i < 3; i++)
      assert.equal((await ask(BOB, 'greeter hello --name=x', limited)).reply.status, 'ok')
    for (let i = 0; i < 3; i++) {
      const { reply, text } = await ask(BOB, 'greeter hello --name=x', limited)
      assert.equal(reply.status, 'limited')
      assert.match(text, /slow down: too many commands; try again in \d+s/)
    }
    assert.equal(sink.records.filter((r) => r.outcome === 'limited').length, 1)
    assert.equal((await ask(ALICE, 'greeter hello --name=x', limited)).reply.status, 'ok')
  })

  test('a command past its deadline is answered as timed out and its calls are cancelled', async () => {
    const quick = makeBot({ timeoutMs: 500 })
    const { reply, text } = await ask(ALICE, `call greeter Greeter.Slow '{"tag":"deadline"}'`, quick)
    assert.equal(reply.status, 'timeout', text)
    assert.match(text, /timed out/)
    await until(() => platform.slowCancelled.has('deadline'), 'the slow handler to see the cancel')
    assert.equal(lastAudit().outcome, 'timeout')
  })

  test('one command at a time per user: a second one while the first runs is turned away', async () => {
    // Shorter than call's own 10 s timeout, so the bot's deadline ends it.
    const quick = makeBot({ timeoutMs: 3000 })
    const first = ask(ALICE, `call greeter Greeter.Slow '{"tag":"one-at-a-time"}'`, quick)
    await until(() => platform.slowStarted.has('one-at-a-time'), 'the slow call to start')
    const second = await ask(ALICE, 'services', quick)
    assert.equal(second.reply.status, 'limited')
    assert.match(second.text, /previous command is still running/)
    assert.deepEqual([lastAudit().outcome, lastAudit().deniedBy], ['limited', 'rate-limit'])
    // Someone else is not held up.
    assert.equal((await ask(BOB, 'greeter hello --name=x', quick)).reply.status, 'ok')
    assert.equal((await first).reply.status, 'timeout')
  })
})

describe('the bot as a whole', () => {
  test('past the commands it runs at once, others are told it is busy', async () => {
    const narrow = makeBot({ timeoutMs: 3000, maxInFlight: 1 })
    const first = ask(ALICE, `call greeter Greeter.Slow '{"tag":"in-flight"}'`, narrow)
    await until(() => platform.slowStarted.has('in-flight'), 'the slow call to start')
    const other = await ask(BOB, 'greeter hello --name=x', narrow)
    assert.equal(other.reply.status, 'limited')
    assert.match(other.text, /the bot is busy with other commands/)
    assert.equal((await first).reply.status, 'timeout')
    assert.equal((await ask(BOB, 'greeter hello --name=x', narrow)).reply.status, 'ok')
  })
})

describe('secrets', () => {
  test('no secret and no token in any reply, audit record or platform log line', async () => {
    const everything = [...audit.records.map((r) => JSON.stringify(r)), ...platform.logs].join('\n')
    for (const secret of secrets) assert.equal(everything.includes(secret), false)
    assert.doesNotMatch(everything, /eyJ[A-Za-z0-9_-]{10,}\./)
  })

  test('the audit redacts secret-looking flags and JSON fields', async () => {
    await ask(
      ALICE,
      `call greeter Greeter.Hello '{"name":"n","password":"hunter2"}' --metadata x-api-key=zzz`,
    )
    await ask(ALICE, 'greeter hello --secret hunter3 --token=hunter4')
    const lines = audit.records.slice(-2).map((r) => r.command)
    assert.doesNotMatch(lines.join('\n'), /hunter2|hunter3|hunter4|zzz/)
    assert.match(lines[0] as string, /"password":"\[redacted\]"/)
    assert.match(lines[1] as string, /--secret \[redacted\] --token=\[redacted\]/)
  })
})
