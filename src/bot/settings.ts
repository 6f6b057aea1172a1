import { join } from 'node:path'
import { configDirectory } from '../cli/environments.js'
import type { Logger } from '../logger/logger.js'
import { envDuration } from '../util/duration.js'
import type { ChatAdapter } from './adapters/adapter.js'
import type { BotLimits } from './bot.js'
import type { AccountCredentials, UnboundPolicy } from './identity.js'
import { type ChatPolicy, chatPolicy } from './policy.js'

export const ADAPTERS = ['console', 'xmpp', 'slack'] as const
export type AdapterName = (typeof ADAPTERS)[number]

/** Everything `micro bot` is configured with, from flags and MICRO_BOT_* variables. */
export interface BotSettings {
  adapter: AdapterName
  policy: ChatPolicy
  bot?: AccountCredentials
  unbound: UnboundPolicy
  auditFile: string
  limits: Partial<BotLimits>
}

function onOff(env: NodeJS.ProcessEnv, name: string, fallback: boolean): boolean {
  const value = env[name]?.trim().toLowerCase()
  if (value === undefined || value === '') return fallback
  if (['on', 'true', '1', 'yes'].includes(value)) return true
  if (['off', 'false', '0', 'no'].includes(value)) return false
  throw new TypeError(`${name} must be on or off, not ${JSON.stringify(env[name])}`)
}

function positive(env: NodeJS.ProcessEnv, name: string): number | undefined {
  const value = env[name]
  if (value === undefined || value === '') return undefined
  if (!/^\d+$/.test(value.trim()) || Number(value) < 1)
    throw new TypeError(`${name} must be a whole number of at least 1`)
  return Number(value)
}

/**
 * The bot's settings: `--adapter` > MICRO_BOT_ADAPTER > console; offered commands: the
 * defaults plus `--allow` and MICRO_BOT_ALLOW (comma-separated prefixes such as `store
 * read`); MICRO_BOT_DYNAMIC / MICRO_BOT_SERVICE_COMMANDS (on|off); the bot's own account
 * MICRO_BOT_ID + MICRO_BOT_SECRET (+ MICRO_BOT_NAMESPACE, default micro); MICRO_BOT_UNBOUND
 * (deny|bot|anonymous; default: bot with an account, else anonymous on the console and
 * deny elsewhere); MICRO_BOT_AUDIT_FILE; MICRO_BOT_RATE_LIMIT (commands per user per
 * minute), MICRO_BOT_TIMEOUT, MICRO_BOT_MAX_REPLY. A bad value throws a TypeError naming it.
 */
export function botSettings(
  flags: { adapter?: string; allow?: readonly string[] },
  env: NodeJS.ProcessEnv = process.env,
): BotSettings {
  const adapter = (flags.adapter ?? (env.MICRO_BOT_ADAPTER || 'console')) as AdapterName
  if (!ADAPTERS.includes(adapter))
    throw new TypeError(`the adapter is one of ${ADAPTERS.join(', ')}, not ${adapter}`)
  const extra = [...(env.MICRO_BOT_ALLOW ?? '').split(','), ...(flags.allow ?? [])]
  const policy = chatPolicy(extra, {
    dynamic: onOff(env, 'MICRO_BOT_DYNAMIC', true),
    serviceCommands: onOff(env, 'MICRO_BOT_SERVICE_COMMANDS', true),
  })
  const id = env.MICRO_BOT_ID || undefined
  const secret = env.MICRO_BOT_SECRET || undefined
  if ((id === undefined) !== (secret === undefined))
    throw new TypeError("set both MICRO_BOT_ID and MICRO_BOT_SECRET (the bot's own account), or neither")
  const bot = id && secret ? { namespace: env.MICRO_BOT_NAMESPACE || 'micro', id, secret } : undefined
  const unbound = (env.MICRO_BOT_UNBOUND ||
    (bot ? 'bot' : adapter === 'console' ? 'anonymous' : 'deny')) as UnboundPolicy
  if (!['deny', 'bot', 'anonymous'].includes(unbound))
    throw new TypeError(`MICRO_BOT_UNBOUND is deny, bot or anonymous, not ${unbound}`)
  const limits: Partial<BotLimits> = {}
  const perMinute = positive(env, 'MICRO_BOT_RATE_LIMIT')
  if (perMinute !== undefined) limits.rate = { capacity: perMinute, refillMs: 60_000 / perMinute }
  const maxReply = positive(env, 'MICRO_BOT_MAX_REPLY')
  if (maxReply !== undefined) limits.maxReplyChars = maxReply
  if (env.MICRO_BOT_TIMEOUT) limits.timeoutMs = envDuration(env, 'MICRO_BOT_TIMEOUT', 30_000)
  const auditFile = env.MICRO_BOT_AUDIT_FILE || join(configDirectory(env), 'bot-audit.jsonl')
  return { adapter, policy, ...(bot ? { bot } : {}), unbound, auditFile, limits }
}

/** The adapter `name` with its settings from MICRO_BOT_XMPP_* / MICRO_BOT_SLACK_*; a TypeError names what is missing. */
export async function createAdapter(
  name: AdapterName,
  env: NodeJS.ProcessEnv,
  logger: Logger,
  io: { input?: NodeJS.ReadableStream; output?: NodeJS.WritableStream } = {},
): Promise<ChatAdapter> {
  const need = (variable: string) => {
    const value = env[variable]
    if (!value) throw new TypeError(`the ${name} adapter needs ${variable}`)
    return value
  }
  if (name === 'xmpp') {
    const { XmppAdapter } = await import('./adapters/xmpp.js')
    return new XmppAdapter({
      jid: need('MICRO_BOT_XMPP_JID'),
      password: need('MICRO_BOT_XMPP_PASSWORD'),
      service: env.MICRO_BOT_XMPP_SERVICE || undefined,
      allowInsecure: onOff(env, 'MICRO_BOT_XMPP_INSECURE', false),
      logger,
    })
  }
  if (name === 'slack') {
    const { SlackAdapter } = await import('./adapters/slack.js')
    return new SlackAdapter({
      appToken: need('MICRO_BOT_SLACK_APP_TOKEN'),
      botToken: need('MICRO_BOT_SLACK_BOT_TOKEN'),
      logger,
    })
  }
  const { ConsoleAdapter } = await import('./adapters/console.js')
  return new ConsoleAdapter({ ...io, user: env.MICRO_BOT_CONSOLE_USER || undefined })
}
