import assert from 'node:assert/strict'
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { PassThrough, Readable } from 'node:stream'
import { after, before, test } from 'node:test'
import { botMain } from '../src/bot/command.js'
import { MicroError } from '../src/errors/errors.js'
import { type BotPlatform, quietLogger, startBotPlatform } from './support/bot-platform.js'
import { until } from './support/until.js'

// `micro bot` as a user runs it: bind a chat user with the CLI, then the console adapter
// on a real platform (enforced auth): lines in, replies out, an audit file written.

let platform: BotPlatform
let dir: string
let secret: string
let env: NodeJS.ProcessEnv

before(async () => {
  platform = await startBotPlatform()
  secret = await platform.account('ops-alice', ['ops'])
  await platform.grant('ops', '*', '*')
  dir = await mkdtemp(join(tmpdir(), 'micro-bot-console-'))
  env = {
    ...process.env,
    MICRO_BOT_FILE: join(dir, 'bot.json'),
    MICRO_BOT_AUDIT_FILE: join(dir, 'audit', 'bot-audit.jsonl'),
  }
})

after(async () => {
  await platform.close()
  await rm(dir, { recursive: true, force: true })
})

async function cli(
  args: string[],
  stdin = '',
  extra: NodeJS.ProcessEnv = {},
): Promise<{ code: number; out: string }> {
  const lines: string[] = []
  const code = await botMain(args, (line) => lines.push(line), {
    stdin: Readable.from([stdin]),
    env: { ...env, ...extra },
  })
  return { code, out: lines.join('\n') }
}

/** Run the console bot as `user`; `say` writes a line and waits for `expect` in the output. */
function consoleBot(user: string) {
  const input = new PassThrough()
  const output = new PassThrough()
  let seen = ''
  output.on('data', (chunk: Buffer) => {
    seen += chunk.toString()
  })
  const running = botMain(['--platform', platform.address], () => {}, {
    stdin: input,
    stdout: output,
    env: { ...env, MICRO_BOT_CONSOLE_USER: user },
    logger: quietLogger,
  })
  return {
    async say(line: string, expect: RegExp): Promise<string> {
      const from = seen.length
      input.write(`${line}\n`)
      await until(() => expect.test(seen.slice(from)), `a reply matching ${expect}`)
      return seen.slice(from)
    },
    async end(): Promise<number> {
      input.end()
      return running
    },
  }
}

test('bind checks the secret with the platform and keeps it in a 0600 file; a wrong one binds nothing', async () => {
  await assert.rejects(
    cli(
      ['bind', 'console:alice', 'ops-alice', '--secret-stdin', '--platform', platform.address],
      'wrong-secret\n',
    ),
    (error: unknown) => MicroError.from(error).code === 401,
  )
  await assert.rejects(stat(env.MICRO_BOT_FILE as string), { code: 'ENOENT' })
  const bound = await cli(
    ['bind', 'console:alice', 'ops-alice', '--secret-stdin', '--platform', platform.address],
    `${secret}\n`,
  )
  assert.equal(bound.code, 0)
  assert.match(bound.out, /console:alice is bound to micro\/ops-alice/)
  assert.doesNotMatch(bound.out, new RegExp(secret))
  const info = await stat(env.MICRO_BOT_FILE as string)
  assert.equal(info.mode & 0o777, 0o600)
  const listed = await cli(['bindings'])
  assert.equal(listed.out, 'console:alice  micro/ops-alice')
  await assert.rejects(
    cli(['bind', 'irc:alice', 'ops-alice', '--secret-stdin']),
    /a chat user is <adapter>:<id>/,
  )
})

test('the console adapter answers each line as the bound account and audits it', async () => {
  const bot = consoleBot('alice')
  const services = await bot.say('services', /greeter/)
  assert.match(services, /^NAME\s+VERSION\s+NODES\s+ENDPOINTS$/m)
  assert.match(
    await bot.say(`call greeter Greeter.Hello '{"name":"Ann"}'`, /Hello Ann/),
    /"message": "Hello Ann"/,
  )
  assert.match(await bot.say('deploy --service=web --version=2', /deployed/), /"deployed": "web"/)
  assert.match(await bot.say('store write a b', /not allowed/), /not allowed: store is not offered in chat/)
  assert.match(await bot.say('services; reboot', /shell syntax/), /; is shell syntax/)
  assert.match(await bot.say('greeter hello --name=after', /Hello after/), /Hello after/)
  assert.equal(await bot.end(), 0)

  const file = env.MICRO_BOT_AUDIT_FILE as string
  assert.equal((await stat(file)).mode & 0o777, 0o600)
  const records = (await readFile(file, 'utf8'))
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line))
  const summary = records.map((r) => [r.user, r.account, r.command, r.allowed, r.outcome])
  assert.deepEqual(summary, [
    ['console:alice', 'micro/ops-alice', 'services', true, 'ok'],
    ['console:alice', 'micro/ops-alice', `call greeter Greeter.Hello '{"name":"Ann"}'`, true, 'ok'],
    ['console:alice', 'micro/ops-alice', 'deploy --service=web --version=2', true, 'ok'],
    ['console:alice', 'micro/ops-alice', 'store write a b', false, 'denied'],
    ['console:alice', undefined, '[unparsed, 16 characters]', false, 'bad-input'],
    ['console:alice', 'micro/ops-alice', 'greeter hello --name=after', true, 'ok'],
  ])
  const text = await readFile(file, 'utf8')
  assert.equal(text.includes(secret), false)
  assert.doesNotMatch(text, /eyJ[A-Za-z0-9_-]{10,}\./)
})

test('an unbound console user runs without an account: an enforcing platform says no', async () => {
  const bot = consoleBot('nobody')
  const reply = await bot.say('services', /not allowed/)
  assert.match(reply, /^not allowed: /m)
  assert.equal(await bot.end(), 0)
})

test('unbind removes the binding and the secret nobody uses any more', async () => {
  const removed = await cli(['unbind', 'console:alice'])
  assert.equal(removed.code, 0)
  const content = JSON.parse(await readFile(env.MICRO_BOT_FILE as string, 'utf8'))
  assert.deepEqual(content, { bindings: {}, secrets: {} })
  await assert.rejects(cli(['unbind', 'console:alice']), /console:alice is not bound/)
})

test('bad settings are usage errors that name the variable, never show a secret', async () => {
  await assert.rejects(cli(['--adapter', 'irc']), /the adapter is one of console, xmpp, slack/)
  await assert.rejects(cli([], '', { MICRO_BOT_ID: 'bot' }), /set both MICRO_BOT_ID and MICRO_BOT_SECRET/)
  await assert.rejects(
    cli([], '', { MICRO_BOT_UNBOUND: 'everyone' }),
    /MICRO_BOT_UNBOUND is deny, bot or anonymous/,
  )
  await assert.rejects(cli(['--adapter', 'xmpp'], '', { MICRO_BOT_XMPP_JID: '' }), /needs MICRO_BOT_XMPP_JID/)
  await assert.rejects(
    cli(['--adapter', 'slack'], '', {
      MICRO_BOT_SLACK_APP_TOKEN: 'xoxb-wrong-kind-123',
      MICRO_BOT_SLACK_BOT_TOKEN: 'xoxb-1',
    }),
    (error: Error) =>
      /app-level token \(xapp-/.test(error.message) && !error.message.includes('wrong-kind-123'),
  )
})
