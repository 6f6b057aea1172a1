import type { LoginResult } from '../auth/authority.js'
import { GLOBAL_HELP, parseCommand, UsageError } from '../cli/args.js'
import { platformClient } from '../cli/auth-tokens.js'
import { platformAddress } from '../cli/environments.js'
import { readStdin } from '../cli/input.js'
import { createLogger, type Logger } from '../logger/logger.js'
import { FileAuditSink } from './audit.js'
import { accountKey, BindingsFile, botFilePath, chatUser, readBotFile, writeBotFile } from './bindings.js'
import { Bot } from './bot.js'
import { Identities } from './identity.js'
import { botSettings, createAdapter } from './settings.js'

export const BOT_HELP = `Usage: micro bot [--adapter console|xmpp|slack] [options]
       micro bot bind <chat-user> <account> --secret-stdin [--namespace ns]
       micro bot unbind <chat-user>
       micro bot bindings

The ops bot: the CLI's commands in chat (services, describe, call, status, logs -n,
any service as a dynamic command, and the commands services register), each run as the
platform account the chat user is bound to, so the auth rules decide. Refused commands
answer "not allowed"; every command is audited (MICRO_BOT_AUDIT_FILE, JSON lines).

Chat users are <adapter>:<id>: console:alice, xmpp:alice@example.com, slack:U024BE7LH.
bind checks the account's secret with the platform and keeps it in the bot's file (0600,
MICRO_BOT_FILE, default bot.json beside the CLI's config).

Adapters and their settings:
  console   standard input and output (MICRO_BOT_CONSOLE_USER; unbound: anonymous)
  xmpp      MICRO_BOT_XMPP_JID, MICRO_BOT_XMPP_PASSWORD, MICRO_BOT_XMPP_SERVICE
            (xmpp://host:5222; default the JID's domain)
  slack     Socket Mode: MICRO_BOT_SLACK_APP_TOKEN (xapp-), MICRO_BOT_SLACK_BOT_TOKEN (xoxb-)

Options:
  --adapter <name>          console, xmpp or slack (MICRO_BOT_ADAPTER, default console)
  --allow <prefix>          offer more commands, e.g. --allow 'store read' (repeatable;
                            MICRO_BOT_ALLOW, comma-separated)
  --secret-stdin            bind: read the account's secret from standard input
More: MICRO_BOT_ID / MICRO_BOT_SECRET (the bot's own account, for unbound users),
MICRO_BOT_UNBOUND (deny|bot|anonymous), MICRO_BOT_RATE_LIMIT (per user per minute),
MICRO_BOT_TIMEOUT, MICRO_BOT_MAX_REPLY, MICRO_BOT_DYNAMIC, MICRO_BOT_SERVICE_COMMANDS.
${GLOBAL_HELP}`

/** What `micro bot` reads besides its arguments; tests pass their own. */
export interface BotCommandIO {
  stdin?: NodeJS.ReadableStream
  stdout?: NodeJS.WritableStream
  env?: NodeJS.ProcessEnv
  /** Resolves to stop a running bot (default: SIGINT or SIGTERM). */
  stopped?: Promise<void>
  /** Where the bot logs (default: stderr, MICRO_LOG_LEVEL). */
  logger?: Logger
}

/** `micro bot ...`: run the bot, or manage its bindings. */
export async function botMain(
  argv: string[],
  out: (text: string) => void,
  io: BotCommandIO = {},
): Promise<number> {
  const { global, values, positionals } = parseCommand(argv, {
    adapter: { type: 'string' },
    allow: { type: 'string', multiple: true },
    'secret-stdin': { type: 'boolean' },
  })
  if (global.help) {
    out(BOT_HELP)
    return 0
  }
  const env = io.env ?? process.env
  const [action, ...rest] = positionals
  const file = botFilePath(env)
  if (action === 'bind') return bind(rest, values['secret-stdin'] === true, global, file, io, out)
  if (action === 'unbind') {
    if (rest.length !== 1) throw new UsageError('unbind needs a chat user')
    const content = await readBotFile(file)
    const user = checkedUser(rest[0] as string)
    if (!Object.hasOwn(content.bindings, user)) throw new UsageError(`${user} is not bound`)
    delete content.bindings[user]
    // A secret no binding uses any more goes too.
    const used = new Set(Object.values(content.bindings).map(accountKey))
    for (const key of Object.keys(content.secrets)) if (!used.has(key)) delete content.secrets[key]
    await writeBotFile(file, content)
    out(`${user} is no longer bound`)
    return 0
  }
  if (action === 'bindings') {
    const { bindings } = await readBotFile(file)
    const lines = Object.entries(bindings).map(([user, b]) => `${user}  ${accountKey(b)}`)
    out(lines.length > 0 ? lines.sort().join('\n') : `no bindings in ${file}`)
    return 0
  }
  if (action !== undefined)
    throw new UsageError(`unknown action ${action}: bind, unbind, bindings, or none to run the bot`)
  return serve(values, global, file, io, out)
}

function checkedUser(text: string): string {
  try {
    return chatUser(text)
  } catch (error) {
    throw new UsageError((error as Error).message)
  }
}

async function bind(
  args: string[],
  secretFromStdin: boolean,
  global: { namespace: string; platform: string | undefined },
  file: string,
  io: BotCommandIO,
  out: (text: string) => void,
): Promise<number> {
  if (args.length !== 2)
    throw new UsageError('bind needs a chat user and an account: micro bot bind xmpp:alice@example.com alice')
  const user = checkedUser(args[0] as string)
  const account = args[1] as string
  if (!secretFromStdin)
    throw new UsageError("give the account's secret on standard input with --secret-stdin")
  const secret = (await readStdin(io.stdin ?? process.stdin)).replace(/\r?\n$/, '')
  if (secret === '') throw new UsageError('the secret is empty')
  const address = await platformAddress(global.platform, io.env ?? process.env)
  // The secret must work: log in once, then log that session out again.
  const client = platformClient()
  try {
    const login = await client.call<LoginResult>(
      'platform',
      'Auth.Login',
      { namespace: global.namespace, id: account, secret },
      { address, timeout: 15_000 },
    )
    await client
      .call(
        'platform',
        'Auth.Logout',
        { refreshToken: login.token.refreshToken },
        { address, timeout: 15_000 },
      )
      .catch(() => {})
  } finally {
    await client.close()
  }
  const content = await readBotFile(file)
  const binding = { namespace: global.namespace, account }
  content.bindings[user] = binding
  content.secrets[accountKey(binding)] = secret
  await writeBotFile(file, content)
  out(`${user} is bound to ${accountKey(binding)} (checked with the platform at ${address})`)
  return 0
}

async function serve(
  values: Record<string, unknown>,
  global: { namespace: string; platform: string | undefined },
  file: string,
  io: BotCommandIO,
  out: (text: string) => void,
): Promise<number> {
  const env = io.env ?? process.env
  let settings: ReturnType<typeof botSettings>
  try {
    settings = botSettings(
      { adapter: values.adapter as string | undefined, allow: values.allow as string[] | undefined },
      env,
    )
  } catch (error) {
    throw new UsageError((error as Error).message)
  }
  // Logs go to stderr: on the console adapter stdout is the chat.
  const logger = io.logger ?? createLogger({ fields: { component: 'bot' } })
  const identities = new Identities({
    bindings: new BindingsFile(file),
    platform: global.platform,
    ...(settings.bot ? { bot: settings.bot } : {}),
    unbound: settings.unbound,
    namespace: global.namespace,
    logger,
  })
  const bot = new Bot({
    identities,
    audit: new FileAuditSink(settings.auditFile, logger),
    platform: global.platform,
    policy: settings.policy,
    limits: settings.limits,
    logger,
  })
  const adapter = await createAdapter(settings.adapter, env, logger, { input: io.stdin, output: io.stdout })
  await adapter.start((message) => bot.handle(message))
  logger.info('bot: serving', {
    adapter: adapter.name,
    platform: global.platform ?? 'this machine',
    unbound: settings.unbound,
  })
  const ended = 'done' in adapter ? (adapter.done as Promise<void>) : new Promise<void>(() => {})
  await Promise.race([ended, io.stopped ?? signalled()])
  await adapter.stop()
  await identities.close()
  if (settings.adapter !== 'console') out('micro bot stopped')
  return 0
}

function signalled(): Promise<void> {
  return new Promise((resolve) => {
    const stop = () => {
      process.off('SIGINT', stop)
      process.off('SIGTERM', stop)
      resolve()
    }
    process.once('SIGINT', stop)
    process.once('SIGTERM', stop)
  })
}
