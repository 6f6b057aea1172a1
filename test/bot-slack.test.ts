import assert from 'node:assert/strict'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, test } from 'node:test'
import {
  createSlackApp,
  onDirectMessage,
  onMention,
  SlackAdapter,
  type SlackListenerArgs,
} from '../src/bot/adapters/slack.js'
import { slackText } from '../src/bot/adapters/slack-format.js'
import { MemoryAuditSink } from '../src/bot/audit.js'
import { BindingsFile, writeBotFile } from '../src/bot/bindings.js'
import { Bot } from '../src/bot/bot.js'
import { Identities } from '../src/bot/identity.js'
import { type BotPlatform, startBotPlatform } from './support/bot-platform.js'

// The Slack adapter without Slack's servers: its listeners (what Bolt calls for a direct
// message and for a mention) driven with Slack's event shapes, through the real bot, a
// real platform and real services, and their replies read from `say`. Not tested here:
// the Socket Mode connection, Bolt's routing of Slack's envelopes to these listeners, the
// token check (auth.test) and chat.postMessage itself; they need Slack.

let platform: BotPlatform
let dir: string
let audit: MemoryAuditSink
let handler: (message: Parameters<Bot['handle']>[0]) => ReturnType<Bot['handle']>

before(async () => {
  platform = await startBotPlatform()
  const secret = await platform.account('ops-alice', ['ops'])
  await platform.grant('ops', '*', '*')
  dir = await mkdtemp(join(tmpdir(), 'micro-bot-slack-'))
  const file = join(dir, 'bot.json')
  await writeBotFile(file, {
    bindings: { 'slack:U0ALICE': { namespace: 'micro', account: 'ops-alice' } },
    secrets: { 'micro/ops-alice': secret },
  })
  audit = new MemoryAuditSink()
  const bot = new Bot({
    identities: new Identities({
      bindings: new BindingsFile(file),
      platform: platform.address,
      unbound: 'deny',
      namespace: 'micro',
    }),
    audit,
    platform: platform.address,
  })
  handler = (message) => bot.handle(message)
})

after(async () => {
  await platform.close()
  await rm(dir, { recursive: true, force: true })
})

/** Listener arguments as Bolt builds them; `said` collects what the listener posts. */
function argsFor(event: Record<string, unknown>, kind: 'message' | 'event' = 'message') {
  const said: Array<{ text: string; thread_ts?: string; mrkdwn?: boolean }> = []
  const args: SlackListenerArgs = {
    [kind]: event,
    say: async (message) => {
      said.push(message)
      return { ok: true }
    },
    context: { botUserId: 'UBOT' },
  }
  return { args, said }
}

test('a direct message runs the command and answers in mrkdwn, code fenced', async () => {
  const { args, said } = argsFor({
    type: 'message',
    channel_type: 'im',
    user: 'U0ALICE',
    text: 'services',
    ts: '1.1',
  })
  await onDirectMessage(handler, args)
  assert.equal(said.length, 1)
  const reply = said[0] as { text: string; mrkdwn?: boolean }
  assert.equal(reply.mrkdwn, true)
  assert.match(reply.text, /^```\nNAME\s+VERSION\s+NODES\s+ENDPOINTS\n[\s\S]*^greeter\s[\s\S]*\n```$/m)
  assert.equal(audit.records.at(-1)?.user, 'slack:U0ALICE')
})

test('what Slack does to typed text is undone: typographic quotes, entities, links, a code span', async () => {
  const text =
    'call greeter Greeter.Hello \u2018{\u201cname\u201d:\u201c&lt;Ann&gt; &amp; <http://x.io|x.io>\u201d}\u2019'
  const { args, said } = argsFor({ channel_type: 'im', user: 'U0ALICE', text, ts: '1.2' })
  await onDirectMessage(handler, args)
  // The service saw the plain text; Slack gets it escaped again.
  assert.match(said[0]?.text ?? '', /"message": "Hello &lt;Ann&gt; &amp; x\.io"/)
  const code = argsFor({ channel_type: 'im', user: 'U0ALICE', text: '`greeter hello --name=Bo`', ts: '1.3' })
  await onDirectMessage(handler, code.args)
  assert.match(code.said[0]?.text ?? '', /Hello Bo/)
})

test('a mention in a channel is answered in its thread, the mention itself left out', async () => {
  const { args, said } = argsFor(
    {
      type: 'app_mention',
      user: 'U0ALICE',
      text: '<@UBOT> greeter hello --name=Cy',
      ts: '5.5',
      channel: 'C1',
    },
    'event',
  )
  await onMention(handler, args)
  assert.equal(said[0]?.thread_ts, '5.5')
  assert.match(said[0]?.text ?? '', /Hello Cy/)
  const threaded = argsFor({ user: 'U0ALICE', text: '<@UBOT> help', ts: '6.6', thread_ts: '6.0' }, 'event')
  await onMention(handler, threaded.args)
  assert.equal(threaded.said[0]?.thread_ts, '6.0')
})

test('refusals and bad input come back as answers, escaped', async () => {
  const denied = argsFor({ channel_type: 'im', user: 'U0ALICE', text: 'store write k v', ts: '2.1' })
  await onDirectMessage(handler, denied.args)
  assert.match(denied.said[0]?.text ?? '', /^not allowed: store is not offered in chat/)
  const injected = argsFor({
    channel_type: 'im',
    user: 'U0ALICE',
    text: 'services &amp;&amp; reboot',
    ts: '2.2',
  })
  await onDirectMessage(handler, injected.args)
  assert.match(injected.said[0]?.text ?? '', /^could not read that: &amp; is shell syntax/)
  const stranger = argsFor({ channel_type: 'im', user: 'U0EVE', text: 'services', ts: '2.3' })
  await onDirectMessage(handler, stranger.args)
  assert.match(stranger.said[0]?.text ?? '', /slack:U0EVE is not bound to a platform account/)
})

test('messages that are not a person talking to the bot are left alone (nothing run, nothing audited)', async () => {
  const before = audit.records.length
  const ignored: Array<[Record<string, unknown>, 'message' | 'event']> = [
    [{ channel_type: 'channel', user: 'U0ALICE', text: 'services', ts: '3.1' }, 'message'],
    [{ channel_type: 'im', bot_id: 'B1', user: 'U0ALICE', text: 'services', ts: '3.2' }, 'message'],
    [
      { channel_type: 'im', subtype: 'message_changed', user: 'U0ALICE', text: 'services', ts: '3.3' },
      'message',
    ],
    [{ channel_type: 'im', text: 'services', ts: '3.4' }, 'message'],
    [{ user: 'U0ALICE', bot_id: 'B1', text: '<@UBOT> services', ts: '3.5' }, 'event'],
  ]
  for (const [event, kind] of ignored) {
    const { args, said } = argsFor(event, kind)
    await (kind === 'message' ? onDirectMessage(handler, args) : onMention(handler, args))
    assert.equal(said.length, 0, JSON.stringify(event))
  }
  assert.equal(audit.records.length, before)
})

test('slackText unwraps Slack markup to what was typed', () => {
  assert.equal(slackText('<@UBOT>  services', 'UBOT'), 'services')
  assert.equal(slackText('say <mailto:a@b.io|a@b.io> <#C1|ops> <!here> <@U2>'), 'say a@b.io ops !here @U2')
  assert.equal(slackText('```\ncall a B {}\n```'), 'call a B {}')
  assert.equal(slackText('a &amp;lt; b'), 'a &lt; b')
})

test('the Bolt app is built offline with the listeners; tokens of the wrong kind are refused without being shown', async () => {
  const app = await createSlackApp({ appToken: 'xapp-1-A1-0-test', botToken: 'xoxb-0-test' }, handler)
  assert.equal(typeof app.init, 'function')
  assert.equal(typeof app.start, 'function')
  assert.throws(
    () => new SlackAdapter({ appToken: 'xoxb-secret-value', botToken: 'xoxb-1' }),
    (error: Error) => /xapp-/.test(error.message) && !error.message.includes('secret-value'),
  )
  assert.throws(
    () => new SlackAdapter({ appToken: 'xapp-1', botToken: 'xoxp-user-token-value' }),
    (error: Error) => /xoxb-/.test(error.message) && !error.message.includes('user-token-value'),
  )
})
