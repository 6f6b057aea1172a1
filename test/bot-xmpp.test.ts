import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, test } from 'node:test'
import { writeBotFile } from '../src/bot/bindings.js'
import { botMain } from '../src/bot/command.js'
import { capturingLogger } from './support/auth-platform.js'
import { type BotPlatform, startBotPlatform } from './support/bot-platform.js'
import { type Prosody, prosodyMissing, startProsody } from './support/prosody.js'
import { until } from './support/until.js'

// The bot on XMPP end to end: a Prosody of the test's own on loopback, the bot logged in
// through `micro bot --adapter xmpp` (MICRO_BOT_XMPP_*), a user account sending commands
// to the bot's address with @xmpp/client and reading the replies.

const missing = prosodyMissing()
if (missing && process.env.CI) throw new Error(`${missing}: CI needs it`)

interface Stanza {
  name: string
  attrs: Record<string, string>
  is(name: string): boolean
  getChildText(name: string): string | null
}
interface XmppClient {
  on(event: string, listener: (arg: any) => void): void
  start(): Promise<unknown>
  stop(): Promise<unknown>
  send(element: unknown): Promise<void>
}
type Xml = (name: string, attrs?: Record<string, string>, ...children: unknown[]) => unknown

const passwords = {
  bot: randomBytes(12).toString('hex'),
  alice: randomBytes(12).toString('hex'),
  eve: 'eve-pass',
}

let prosody: Prosody
let platform: BotPlatform
let dir: string
let env: NodeJS.ProcessEnv
const botLogs: string[] = []
let xml: Xml
let clientOf: (options: Record<string, unknown>) => XmppClient

/** A running `micro bot --adapter xmpp`; `stop()` ends it. */
function runBot() {
  let stop: () => void = () => {}
  const stopped = new Promise<void>((resolve) => {
    stop = resolve
  })
  const logged = botLogs.length
  const running = botMain(['--adapter', 'xmpp', '--platform', platform.address], () => {}, {
    env,
    stopped,
    logger: capturingLogger(botLogs),
  })
  return {
    online: () =>
      until(() => botLogs.slice(logged).some((l) => l.includes('bot: serving')), 'the bot online', 30_000),
    async stop() {
      stop()
      assert.equal(await running, 0)
    },
  }
}

/** A user's XMPP session: `ask` sends to the bot and resolves with its answer. */
async function user(name: 'alice' | 'eve', password: string) {
  const xmpp = clientOf({
    service: prosody.service,
    domain: 'localhost',
    username: name,
    password,
    resource: 'test',
  })
  const inbox: Array<{ type: string; body: string | null }> = []
  xmpp.on('error', () => {})
  xmpp.on('stanza', (stanza: Stanza) => {
    if (stanza.is('message') && stanza.attrs.from?.startsWith('bot@localhost'))
      inbox.push({ type: stanza.attrs.type ?? 'normal', body: stanza.getChildText('body') })
  })
  await xmpp.start()
  return {
    inbox,
    /** Send `text`; resolves with the bot's reply (sending again while the bot is not there yet). */
    async ask(text: string): Promise<string> {
      for (let attempt = 0; attempt < 100; attempt++) {
        const from = inbox.length
        await xmpp.send(xml('message', { to: 'bot@localhost', type: 'chat' }, xml('body', {}, text)))
        await until(() => inbox.length > from, `a reply to ${JSON.stringify(text)}`, 30_000)
        const reply = inbox[from] as { type: string; body: string | null }
        // The bot was not online yet: the server bounced it, or kept it for later (then the bot says so).
        if (reply.type === 'error' || /^not run: this message waited/.test(reply.body ?? '')) {
          await new Promise((r) => setTimeout(r, 50))
          continue
        }
        return reply.body ?? ''
      }
      throw new Error('the bot never answered')
    },
    send: (text: string) =>
      xmpp.send(xml('message', { to: 'bot@localhost', type: 'chat' }, xml('body', {}, text))),
    stop: () => xmpp.stop(),
  }
}

before(async () => {
  if (missing) return
  const module = (await import('@xmpp/client' as string)) as { client: typeof clientOf; xml: Xml }
  clientOf = module.client
  xml = module.xml
  prosody = await startProsody()
  for (const [name, password] of Object.entries(passwords)) await prosody.register(name, password)
  platform = await startBotPlatform()
  const secret = await platform.account('ops-alice', ['ops'])
  await platform.grant('ops', '*', '*')
  dir = await mkdtemp(join(tmpdir(), 'micro-bot-xmpp-'))
  await writeBotFile(join(dir, 'bot.json'), {
    bindings: { 'xmpp:alice@localhost': { namespace: 'micro', account: 'ops-alice' } },
    secrets: { 'micro/ops-alice': secret },
  })
  env = {
    ...process.env,
    MICRO_BOT_FILE: join(dir, 'bot.json'),
    MICRO_BOT_AUDIT_FILE: join(dir, 'audit.jsonl'),
    MICRO_BOT_XMPP_JID: 'bot@localhost',
    MICRO_BOT_XMPP_PASSWORD: passwords.bot,
    MICRO_BOT_XMPP_SERVICE: prosody.service,
  }
})

after(async () => {
  if (missing) return
  await platform?.close()
  await prosody?.stop()
  if (dir) await rm(dir, { recursive: true, force: true })
})

test('a user sends commands to the bot over XMPP and gets the replies', { skip: missing }, async () => {
  const bot = runBot()
  await bot.online()
  const alice = await user('alice', passwords.alice)
  try {
    const services = await alice.ask('services')
    assert.match(services, /^NAME\s+VERSION\s+NODES\s+ENDPOINTS$/m)
    assert.match(services, /^greeter\s/m)
    // XML's special characters travel both ways as text.
    const hello = await alice.ask(`call greeter Greeter.Hello '{"name":"<b>&amp; \\"q\\"</b> 🚀"}'`)
    assert.equal(JSON.parse(hello).message, 'Hello <b>&amp; "q"</b> 🚀')
    assert.match(await alice.ask('services; rm -rf /'), /; is shell syntax/)
    assert.match(await alice.ask('store write k v'), /^not allowed: store is not offered in chat/)
    assert.match(await alice.ask('greeter hello --name=still'), /Hello still/)
  } finally {
    await alice.stop()
    await bot.stop()
  }
})

test('an XMPP user bound to nothing is told so', { skip: missing }, async () => {
  const bot = runBot()
  await bot.online()
  const eve = await user('eve', passwords.eve)
  try {
    assert.match(
      await eve.ask('services'),
      /not allowed: xmpp:eve@localhost is not bound to a platform account; an admin can run: micro bot bind xmpp:eve@localhost <account>/,
    )
  } finally {
    await eve.stop()
    await bot.stop()
  }
})

test('a command the server kept while the bot was away is not run when it comes back', {
  skip: missing,
}, async () => {
  const alice = await user('alice', passwords.alice)
  try {
    const before = platform.deploys.length
    // The bot is offline: the server stores the message (mod_offline).
    await alice.send('deploy --service=late --version=1')
    const bot = runBot()
    await bot.online()
    await until(
      () => alice.inbox.some((m) => /^not run: this message waited/.test(m.body ?? '')),
      'the bot to refuse the stale command',
    )
    assert.equal(platform.deploys.length, before, 'the stale deploy never ran')
    // A fresh one does.
    assert.match(await alice.ask('deploy --service=fresh --version=1'), /"deployed": "fresh"/)
    await bot.stop()
  } finally {
    await alice.stop()
  }
})

test("the bot's password never reaches a log line", { skip: missing }, async () => {
  assert.ok(botLogs.length > 0)
  assert.equal(botLogs.join('\n').includes(passwords.bot), false)
})

test('a wrong XMPP password fails the start with a clear error that does not hold it', {
  skip: missing,
}, async () => {
  const wrong = 'definitely-wrong-password'
  await assert.rejects(
    botMain(['--adapter', 'xmpp', '--platform', platform.address], () => {}, {
      env: { ...env, MICRO_BOT_XMPP_PASSWORD: wrong },
      logger: capturingLogger(botLogs),
    }),
    (error: Error) =>
      /could not log in to XMPP as bot@localhost/.test(error.message) && !error.message.includes(wrong),
  )
})
